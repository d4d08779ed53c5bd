// A seeded PRNG for the board's garbage-access tests (mulberry32): every bit is usable, so `next() % 4` and
// `next() & 1` are not locked together as the low bits of a power-of-two LCG are, and a failure repeats with its seed.

/** Returns a generator of uniformly distributed unsigned 32-bit integers. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b_79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}
