// Tests for RegisterTable: exact, wide (split/refuse) and narrow (extract/refuse) accesses, holes, register arrays
// and their names, writeIsPlain, overlap checks, and a seeded property test against an independent byte model.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegisterTable, type RegisterDef, type SideEffects } from '../../src/memory/register-table.js';
import type { Width } from '../../src/memory/bus.js';

/** A log of handler calls: [name, index, 'r' | 'w', value written]. */
type Call = [string, number, 'r' | 'w', (number | bigint)?];

/** A 32-bit register backed by storage that logs its calls. */
function reg32(calls: Call[], name: string, offset: number, width: 1 | 2 | 4, init: number, extra: Partial<RegisterDef> = {}): RegisterDef {
  const store: number[] = [];
  return {
    name, offset, width, sideEffects: 'none',
    read: (i) => { calls.push([name, i, 'r']); return store[i] ?? init; },
    write: (v, i) => { calls.push([name, i, 'w', v]); store[i] = v; },
    ...extra,
  } as RegisterDef;
}

function reg64(calls: Call[], name: string, offset: number, init: bigint, extra: Partial<RegisterDef> = {}): RegisterDef {
  const store: bigint[] = [];
  return {
    name, offset, width: 8, sideEffects: 'none',
    read: (i) => { calls.push([name, i, 'r']); return store[i] ?? init; },
    write: (v, i) => { calls.push([name, i, 'w', v]); store[i] = v; },
    ...extra,
  } as RegisterDef;
}

test('exact accesses reach their register with unsigned values of its width', () => {
  const calls: Call[] = [];
  const t = new RegisterTable('dev', [
    reg32(calls, 'B', 0, 1, 0xab), reg32(calls, 'H', 2, 2, 0xbeef), reg32(calls, 'W', 4, 4, 0xdead_beef),
    reg64(calls, 'Q', 8, 0xffff_0000_1234_5678n),
  ]);
  assert.equal(t.read(0, 1), 0xab);
  assert.equal(t.read(2, 2), 0xbeef);
  assert.equal(t.read(4, 4), 0xdead_beef);
  assert.equal(t.read(8, 8), 0xffff_0000_1234_5678n);
  calls.length = 0;
  t.write(4, 4, 0xffff_ffff);             // top bit set: still unsigned, not -1
  t.write(4, 4, -2);                      // a negative number is its 32-bit pattern
  t.write(4, 4, 0x1_2345_6789n);          // a bigint is cut to the register's width
  t.write(0, 1, 0x1ff);
  t.write(8, 8, 0x1_0000_0002);           // a number past 2^32 reaches a 64-bit register whole
  t.write(8, 8, -1n);
  assert.deepEqual(calls, [
    ['W', 0, 'w', 0xffff_ffff], ['W', 0, 'w', 0xffff_fffe], ['W', 0, 'w', 0x2345_6789], ['B', 0, 'w', 0xff],
    ['Q', 0, 'w', 0x1_0000_0002n], ['Q', 0, 'w', 0xffff_ffff_ffff_ffffn],
  ]);
  assert.equal(t.read(4, 4), 0x2345_6789);
  assert.equal(t.refused, 0);
});

test('a register read returning more than its width is cut to it (and cannot spill into a split neighbour)', () => {
  const t = new RegisterTable('dev', [
    { name: 'A', offset: 0, width: 1, sideEffects: 'none', read: () => 0x1234 },
    { name: 'B', offset: 1, width: 1, sideEffects: 'none', read: () => 0x56 },
    { name: 'C', offset: 4, width: 4, sideEffects: 'none', read: () => -1 },
  ], { wide: 'split' });
  assert.equal(t.read(0, 1), 0x34);
  assert.equal(t.read(0, 2), 0x5634);
  assert.equal(t.read(4, 4), 0xffff_ffff);
});

test('wide split: an 8-byte access is two 32-bit ones, low address first; holes read 0 and count once', () => {
  const calls: Call[] = [];
  const t = new RegisterTable('dev', [
    reg32(calls, 'LO', 0, 4, 0x1111_1111), reg32(calls, 'HI', 4, 4, 0x2222_2222),
    reg32(calls, 'X', 0x10, 4, 0x3333_3333), // 0x14..0x17 is a hole
    reg32(calls, 'Y', 0x24, 4, 0x4444_4444), // 0x20..0x23 is a hole
  ], { wide: 'split' });
  assert.equal(t.read(0, 8), 0x2222_2222_1111_1111n);
  assert.deepEqual(calls, [['LO', 0, 'r'], ['HI', 0, 'r']]);
  calls.length = 0;
  t.write(0, 8, 0xaaaa_aaaa_bbbb_bbbbn);
  assert.deepEqual(calls, [['LO', 0, 'w', 0xbbbb_bbbb], ['HI', 0, 'w', 0xaaaa_aaaa]]);
  assert.equal(t.refused, 0);

  assert.equal(t.read(0x10, 8), 0x3333_3333n);           // the upper half is a hole
  assert.equal(t.refused, 1);                             // one access, counted once (not once per hole byte)
  assert.equal(t.read(0x20, 8), 0x4444_4444_0000_0000n); // starts at a hole: the upper half still reaches Y
  assert.equal(t.refused, 2);
  calls.length = 0;
  t.write(0x20, 8, 0x5555_5555_6666_6666n);
  assert.deepEqual(calls, [['Y', 0, 'w', 0x5555_5555]]);
  assert.equal(t.refused, 3);
  // A 4-byte access over two 2-byte registers splits too; a part that would cover half a register is refused.
  const c2: Call[] = [];
  const u = new RegisterTable('dev', [reg32(c2, 'A', 0, 2, 0x1111), reg32(c2, 'B', 2, 2, 0x2222), reg32(c2, 'C', 4, 4, 7)], { wide: 'split' });
  assert.equal(u.read(0, 4), 0x2222_1111);
  c2.length = 0;
  assert.equal(u.read(2, 4), 0x2222);                      // C (4..7) would be cut: not touched
  assert.deepEqual(c2, [['B', 0, 'r']]);
  assert.equal(u.refused, 1);
});

test('wide refuse: an access wider than the register reads 0, drops the write and touches nothing', () => {
  const calls: Call[] = [];
  const t = new RegisterTable('dev', [reg32(calls, 'LO', 0, 4, 1), reg32(calls, 'HI', 4, 4, 2)]);
  assert.equal(t.read(0, 8), 0n);
  t.write(0, 8, 0xffn);
  assert.equal(t.read(0x40, 8), 0n);
  assert.deepEqual(calls, []);
  assert.equal(t.refused, 3);
});

test('narrow extract reads the addressed bytes and merges writes; narrow refuse reads 0 and touches nothing', () => {
  const calls: Call[] = [];
  const t = new RegisterTable('dev', [
    reg64(calls, 'TIME', 0, 0x8877_6655_4433_2211n, { narrow: 'extract', sideEffects: 'write' }),
    reg32(calls, 'CTRL', 8, 4, 0x4433_2211),
  ]);
  assert.equal(t.read(0, 4), 0x4433_2211);
  assert.equal(t.read(4, 4), 0x8877_6655);
  assert.equal(t.read(3, 1), 0x44);
  assert.equal(t.read(6, 2), 0x8877);
  calls.length = 0;
  t.write(4, 4, 0xdead_beef);
  assert.deepEqual(calls, [['TIME', 0, 'r'], ['TIME', 0, 'w', 0xdead_beef_4433_2211n]]);
  t.write(1, 1, 0x1ff); // only the addressed byte
  assert.equal(t.read(0, 8), 0xdead_beef_4433_ff11n);
  assert.equal(t.refused, 0);
  calls.length = 0;
  assert.equal(t.read(8, 2), 0);      // CTRL refuses narrow accesses
  assert.equal(t.read(10, 1), 0);
  t.write(8, 1, 0x55);
  assert.equal(t.read(4, 8), 0n);     // from inside TIME to past its end
  t.write(4, 8, 1n);
  assert.deepEqual(calls, []);
  assert.equal(t.refused, 5);
});

test('a read with side effects cannot extract narrow accesses; write-only registers merge into 0', () => {
  const reg = (sideEffects: SideEffects | undefined): RegisterDef =>
    ({ name: 'R', offset: 0, width: 4, narrow: 'extract', read: () => 1, ...(sideEffects !== undefined ? { sideEffects } : {}) });
  for (const s of ['read', 'both', undefined] as const) assert.throws(() => new RegisterTable('dev', [reg(s)]), /side effects/);
  for (const s of ['none', 'write'] as const) assert.doesNotThrow(() => new RegisterTable('dev', [reg(s)]));
  const got: number[] = [];
  const t = new RegisterTable('dev', [{ name: 'GO', offset: 0, width: 4, narrow: 'extract', write: (v) => got.push(v) }]);
  t.write(0, 2, 0x5555);
  t.write(2, 2, 0x1234);
  assert.deepEqual(got, [0x5555, 0x1234_0000]);
  assert.equal(t.read(0, 4), 0); // write-only reads 0 and is not refused
  assert.equal(t.refused, 0);
});

test('holes read 0, drop writes, count as refused and have no name', () => {
  const calls: Call[] = [];
  const t = new RegisterTable('dev', [reg32(calls, 'A', 0, 4, 9), reg32(calls, 'B', 8, 4, 9)], { wide: 'split' });
  assert.equal(t.read(4, 4), 0);
  t.write(4, 4, 1);
  assert.equal(t.read(0x100, 1), 0);
  assert.deepEqual(calls, []);
  assert.equal(t.refused, 3);
  assert.equal(t.nameAt(4), undefined);
  assert.equal(t.registerName(0x100), undefined);
});

test('register arrays: count and stride, the index passed to handlers, and their names', () => {
  const calls: Call[] = [];
  const t = new RegisterTable('dev', [
    { ...reg32(calls, 'msip', 0, 4, 0), count: 3 },
    { ...reg32(calls, 'threshold', 0x1000, 4, 0), count: 2, stride: 0x100 },
    { ...reg32(calls, 'enable', 0x2000, 4, 0), count: 2, stride: 0x80, nameOf: (c) => `enable${c}_0` },
    { ...reg32(calls, 'solo', 0x3000, 4, 0), count: 1 },
    reg64(calls, 'mtime', 0x4000, 0n, { narrow: 'extract', sideEffects: 'write' }),
  ]);
  t.write(8, 4, 1);
  t.write(0x1100, 4, 2);
  t.read(0x2080, 4);
  assert.deepEqual(calls, [['msip', 2, 'w', 1], ['threshold', 1, 'w', 2], ['enable', 1, 'r']]);
  assert.equal(t.read(0x1004, 4), 0); // between threshold elements: a hole
  assert.equal(t.refused, 1);
  assert.equal(t.nameAt(0), 'msip0');
  assert.equal(t.nameAt(8), 'msip2');
  assert.equal(t.nameAt(12), undefined);
  assert.equal(t.nameAt(0x1100), 'threshold1');
  assert.equal(t.nameAt(0x2080), 'enable1_0');
  assert.equal(t.nameAt(0x3000), 'solo0');    // an array of one is still an array
  assert.equal(t.nameAt(0x4000), 'mtime');
  assert.equal(t.nameAt(0x4004), 'mtime+4');
  assert.equal(t.nameAt(0x1102), 'threshold1+2');
});

test('writeIsPlain: only writes with no side effect, for every register the write reaches', () => {
  const t = new RegisterTable('dev', [
    { name: 'SCR', offset: 0, width: 4, sideEffects: 'none' },
    { name: 'LSR', offset: 4, width: 4, sideEffects: 'read' },
    { name: 'THR', offset: 8, width: 4, sideEffects: 'write' },
    { name: 'BOTH', offset: 12, width: 4, sideEffects: 'both' },
    { name: 'DFLT', offset: 16, width: 4 },
    { name: 'T64', offset: 24, width: 8, sideEffects: 'none', narrow: 'extract' },
  ], { wide: 'split' });
  assert.deepEqual([0, 4, 8, 12, 16, 24, 28, 40].map((o) => t.writeIsPlain(o)), [true, true, false, false, false, true, true, false]);
  assert.equal(t.writeIsPlain(0, 4), true);
  assert.equal(t.writeIsPlain(0, 8), true);   // SCR and LSR
  assert.equal(t.writeIsPlain(4, 8), false);  // LSR and THR: THR transmits
  assert.equal(t.writeIsPlain(0, 2), false);  // SCR refuses narrow writes
  assert.equal(t.writeIsPlain(28, 4), true);  // upper half of T64, merged
  assert.equal(t.writeIsPlain(20, 4), false); // a hole: refused, counted
  const r = new RegisterTable('dev', [{ name: 'A', offset: 0, width: 4, sideEffects: 'none' }, { name: 'B', offset: 4, width: 4, sideEffects: 'none' }]);
  assert.equal(r.writeIsPlain(0, 8), false);  // refused by a 'refuse' table
});

test('overlapping registers, bad strides and bad offsets are refused at construction', () => {
  const r = (name: string, offset: number, width: 1 | 2 | 4, more: object = {}): RegisterDef => ({ name, offset, width, ...more });
  const q = (name: string, offset: number, more: object = {}): RegisterDef => ({ name, offset, width: 8, ...more });
  assert.throws(() => new RegisterTable('dev', [r('A', 0, 4), r('B', 0, 4)]), /B overlaps another at 0x0/);
  assert.throws(() => new RegisterTable('dev', [r('A', 0, 4), r('B', 3, 1)]), /overlaps/);
  assert.throws(() => new RegisterTable('dev', [r('B', 3, 1), r('A', 0, 4)]), /overlaps/);
  assert.throws(() => new RegisterTable('dev', [q('T', 0), r('B', 7, 1)]), /overlaps/);
  assert.throws(() => new RegisterTable('dev', [r('B', 6, 2), q('T', 0)]), /overlaps/);
  assert.throws(() => new RegisterTable('dev', [r('E', 0, 4, { count: 4, stride: 0x10 }), r('X', 0x22, 4)]), /overlaps/);
  assert.throws(() => new RegisterTable('dev', [r('E', 0, 4, { count: 2, stride: 2 })]), /stride/);
  assert.throws(() => new RegisterTable('dev', [r('E', 0, 4, { count: 0 })]), /count/);
  assert.throws(() => new RegisterTable('dev', [r('E', -4, 4)]), /offset/);
  assert.doesNotThrow(() => new RegisterTable('dev', [q('T', 0), r('A', 8, 4), r('E', 12, 1, { count: 4 }), r('X', 0x24, 4)]));
  assert.doesNotThrow(() => new RegisterTable('dev', [r('E', 0, 4, { count: 4, stride: 0x10 }), r('X', 0x14, 4)]));
});

// ---- Property test -------------------------------------------------------------------------------------------

/** Deterministic PRNG (mulberry32), so a failure repeats with its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b_79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

interface Elem { row: number; index: number; start: number; width: Width; narrow: boolean; value: bigint }

interface RandomTable { table: RegisterTable; elems: Elem[]; split: boolean; calls: Array<{ elem: Elem; write: boolean; value?: number | bigint }> }

/** A random table of storage registers, or null when the random rows overlap (the constructor refused them). */
function randomTable(rnd: () => number): RandomTable | null {
  const widths = [1, 2, 4, 8] as const;
  const effects: SideEffects[] = ['none', 'write', 'read', 'both'];
  const elems: Elem[] = [];
  const calls: RandomTable['calls'] = [];
  const defs: RegisterDef[] = [];
  const rows = 1 + Math.floor(rnd() * 6);
  for (let row = 0; row < rows; row++) {
    const width = widths[Math.floor(rnd() * 4)]!;
    const count = 1 + Math.floor(rnd() * 3);
    const stride = width + Math.floor(rnd() * 3) * (rnd() < 0.5 ? 1 : width);
    const offset = Math.floor(rnd() * 48);
    const narrow = rnd() < 0.5;
    const sideEffects = narrow ? effects[Math.floor(rnd() * 2)]! : effects[Math.floor(rnd() * 4)]!;
    const mine: Elem[] = [];
    for (let i = 0; i < count; i++) {
      mine.push({ row, index: i, start: offset + i * stride, width, narrow, value: BigInt(Math.floor(rnd() * 2 ** 32)) * BigInt(Math.floor(rnd() * 2 ** 32)) & ((1n << BigInt(width * 8)) - 1n) });
    }
    const find = (i: number): Elem => {
      const e = mine[i];
      if (e === undefined) throw new Error(`row ${row} got index ${i} of ${count}`);
      return e;
    };
    const base = { name: `r${row}`, offset, count, stride, sideEffects, narrow: narrow ? 'extract' as const : 'refuse' as const };
    if (width === 8) {
      defs.push({
        ...base, width,
        read: (i) => { const e = find(i); calls.push({ elem: e, write: false }); return e.value; },
        write: (v, i) => { const e = find(i); calls.push({ elem: e, write: true, value: v }); e.value = v; },
      });
    } else {
      defs.push({
        ...base, width,
        read: (i) => { const e = find(i); calls.push({ elem: e, write: false }); return Number(e.value); },
        write: (v, i) => { const e = find(i); calls.push({ elem: e, write: true, value: v }); e.value = BigInt(v); },
      });
    }
    elems.push(...mine);
  }
  const split = rnd() < 0.5;
  try {
    return { table: new RegisterTable('prop', defs, { wide: split ? 'split' : 'refuse' }), elems, split, calls };
  } catch (e) {
    if (e instanceof RangeError && /overlaps/.test(e.message)) return null;
    throw e;
  }
}

/**
 * The byte model the table must agree with, written independently of its code: which registers an access
 * reaches, the value a read returns, and whether the access counts as refused.
 */
function model(t: RandomTable, off: number, width: Width): { reach: Elem[]; whole: boolean; refused: boolean } {
  const end = off + width;
  const holder = t.elems.find((e) => e.start <= off && off < e.start + e.width);
  if (holder !== undefined && end <= holder.start + holder.width) {
    const exact = holder.start === off && holder.width === width;
    if (exact || holder.narrow) return { reach: [holder], whole: exact, refused: false };
    return { reach: [], whole: false, refused: true };
  }
  if ((holder !== undefined && holder.start !== off) || !t.split) return { reach: [], whole: false, refused: true };
  const inside = t.elems.filter((e) => e.start >= off && e.start + e.width <= end);
  const covered = inside.reduce((n, e) => n + e.width, 0);
  return { reach: inside, whole: true, refused: covered !== width };
}

test('property: random tables and accesses never throw, reach only registers they cover, and match a byte model', () => {
  const rnd = prng(0x5eed_0001);
  const widths = [1, 2, 4, 8] as const;
  let tables = 0;
  let accesses = 0;
  let reachedSplit = 0;
  let reachedNarrow = 0;
  while (tables < 1000) {
    const t: RandomTable | null = randomTable(rnd);
    if (t === null) continue;
    tables++;
    for (let k = 0; k < 60; k++) {
      const off = Math.floor(rnd() * 60);
      const width = widths[Math.floor(rnd() * 4)]!;
      const write = rnd() < 0.5;
      const r = rnd();
      const value: number | bigint = r < 0.3 ? BigInt.asIntN(64, BigInt(Math.floor(rnd() * 2 ** 32)) << 32n | BigInt(Math.floor(rnd() * 2 ** 32)))
        : r < 0.9 ? Math.floor(rnd() * 2 ** 32) : [NaN, -1, 2 ** 40 + 3, Infinity, 0.5][Math.floor(rnd() * 5)]!;
      const m = model(t, off, width);
      const before = t.elems.map((e) => e.value);
      const refusedBefore: number = t.table.refused;
      t.calls.length = 0;
      const where = `table ${tables} access ${k}: ${write ? 'write' : 'read'} ${width} at ${off}`;
      let got: number | bigint = 0;
      if (write) t.table.write(off, width, value); else got = t.table.read(off, width);
      accesses++;

      assert.equal(t.table.refused - refusedBefore, m.refused ? 1 : 0, `${where}: refused count`);
      for (const c of t.calls) {
        const e: Elem = c.elem;
        const covers = (e.start >= off && e.start + e.width <= off + width) || (e.start <= off && off + width <= e.start + e.width);
        assert.ok(covers, `${where}: reached r${e.row}[${e.index}] at ${e.start}+${e.width}, which the access does not cover`);
        assert.ok(m.reach.includes(e), `${where}: reached r${e.row}[${e.index}] at ${e.start}+${e.width} that the model does not (${t.elems.map((x) => `r${x.row}[${x.index}]@${x.start}+${x.width}${x.narrow ? 'n' : ''}`).join(' ')}, ${t.split ? 'split' : 'refuse'})`);
        if (c.write) {
          assert.equal(typeof c.value, e.width === 8 ? 'bigint' : 'number', `${where}: written value type`);
          const v = BigInt(c.value!);
          assert.ok(v >= 0n && v < 1n << BigInt(e.width * 8), `${where}: written value ${v} does not fit ${e.width} bytes`);
        }
      }
      const u64 = typeof value === 'bigint' ? BigInt.asUintN(64, value) : Number.isFinite(value) ? BigInt.asUintN(64, BigInt(Math.trunc(value))) : 0n;
      const accMask = (1n << BigInt(width * 8)) - 1n;
      if (write) {
        for (const e of m.reach) {
          const i = t.elems.indexOf(e);
          const old = before[i]!;
          const emask = (1n << BigInt(e.width * 8)) - 1n;
          let want: bigint;
          if (e.start <= off && off + width <= e.start + e.width && !(e.start === off && e.width === width)) {
            const sh = BigInt((off - e.start) * 8); // narrow merge
            want = (old & ~(accMask << sh)) | ((u64 & accMask) << sh);
          } else {
            want = (u64 >> BigInt((e.start - off) * 8)) & emask;
          }
          assert.equal(e.value, want & emask, `${where}: r${e.row}[${e.index}] holds the wrong value`);
        }
        t.elems.forEach((e, i) => { if (!m.reach.includes(e)) assert.equal(e.value, before[i], `${where}: r${e.row}[${e.index}] changed`); });
      } else {
        assert.equal(typeof got, width === 8 ? 'bigint' : 'number', `${where}: read type`);
        let want = 0n;
        for (const e of m.reach) {
          want |= m.whole ? e.value << BigInt((e.start - off) * 8) : e.value >> BigInt((off - e.start) * 8);
        }
        assert.equal(BigInt(got), want & accMask, `${where}: read value`);
        assert.equal(t.calls.length, m.reach.length, `${where}: each reached register is read once`);
      }
      if (m.reach.length > 1) reachedSplit++;
      if (m.reach.length === 1 && !(m.reach[0]!.start === off && m.reach[0]!.width === width)) reachedNarrow++;
    }
  }
  // The generator must exercise the interesting paths, or the property says little.
  assert.ok(accesses >= 50000 && reachedSplit > 500 && reachedNarrow > 500, `accesses ${accesses}, split ${reachedSplit}, narrow ${reachedNarrow}`);
});
