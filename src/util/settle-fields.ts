// Settling an object's fields into the shape they will have for the rest of the run, before any code is optimized
// for it.
//
// V8 records in an object's map, per field, what it has held (small integers, doubles, objects) and whether it
// has ever changed since it was first written; optimized code relies on both. The first double stored in a field
// that held small integers gives the object a new map, and the first change to a field still marked constant
// drops that mark: either way every function optimized against the old facts is thrown away and compiled again.
// A hart's addresses and counts start as small integers (0) and become doubles at the first trap, the first satp
// write, the first superpage walk ...: a cold boot threw away ~30 optimized functions at once that way, the
// interpreter loop included, whose TurboFan compile takes 40-70 ms each time, running unoptimized meanwhile.
// Writing such fields twice in the constructor, the first time with a double, settles them while nothing is
// optimized yet. Their values are left as they were.

/**
 * Gives the number fields `doubles` of `o` a double representation and marks them and the number or boolean
 * fields `changing` as changing, keeping their values. (Names as strings: TypeScript's private fields are not keys
 * of the type; a name that is not such a field of `o` throws.)
 */
export function settleFields(o: object, doubles: readonly string[], changing: readonly string[] = []): void {
  const r = o as Record<string, unknown>;
  for (const k of doubles) {
    const v = r[k];
    if (!Object.hasOwn(o, k) || typeof v !== 'number') throw new Error(`settleFields: ${k} is not a number field`);
    r[k] = 0.5;
    r[k] = v;
  }
  for (const k of changing) {
    const v = r[k];
    if (!Object.hasOwn(o, k) || (typeof v !== 'number' && typeof v !== 'boolean')) throw new Error(`settleFields: ${k} is not a number or boolean field`);
    r[k] = typeof v === 'boolean' ? !v : v === 0 ? 1 : 0;
    r[k] = v;
  }
}
