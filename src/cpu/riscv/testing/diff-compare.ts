// Compares the regions two runs of a differential batch (diff-build.ts) wrote: every integer and FP register,
// fcsr and the scratch memory after each sequence, and formats the first mismatch of a sequence with its code.

import { SCRATCH_BYTES } from './diff-gen.js';
import { INIT_BYTES, OUT_F, OUT_FCSR, OUT_X, REGION_BYTES, disassemble, type Batch } from './diff-build.js';

export const ABI = ['zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6'];

export interface Mismatch {
  index: number;
  /** e.g. "x10 (a0)", "f3", "fcsr", "scratch+0x18", or "trap" when vmio trapped inside the sequence. */
  what: string;
  expected: string;
  actual: string;
}

const hex = (v: bigint): string => `0x${v.toString(16).padStart(16, '0')}`;

/**
 * Compares qemu's output (`expected`) with vmio's (`actual`) for every sequence; `trapped` lists sequences in which
 * vmio took an unexpected trap (with a description). Returns the first mismatch of each failing sequence.
 */
export function compareBatch(batch: Batch, expected: Uint8Array, actual: Uint8Array, trapped: Map<number, string>): Mismatch[] {
  const n = batch.sequences.length;
  if (expected.length !== n * REGION_BYTES) throw new Error(`qemu wrote ${expected.length} bytes, expected ${n * REGION_BYTES}`);
  const e = new DataView(expected.buffer, expected.byteOffset, expected.byteLength);
  const a = new DataView(actual.buffer, actual.byteOffset, actual.byteLength);
  const out: Mismatch[] = [];
  for (let i = 0; i < n; i++) {
    const t = trapped.get(i);
    if (t !== undefined) { out.push({ index: i, what: 'trap', expected: 'no trap', actual: t }); continue; }
    if (actual.length < (i + 1) * REGION_BYTES) { out.push({ index: i, what: 'output', expected: 'region', actual: 'missing' }); continue; }
    const s = i * REGION_BYTES + INIT_BYTES;
    const m = firstMismatch(e, a, s);
    if (m !== null) out.push({ index: i, ...m });
  }
  return out;
}

function firstMismatch(e: DataView, a: DataView, s: number): Omit<Mismatch, 'index'> | null {
  for (let r = 1; r < 32; r++) {
    const x = e.getBigUint64(s + OUT_X + r * 8, true), y = a.getBigUint64(s + OUT_X + r * 8, true);
    if (x !== y) return { what: `x${r} (${ABI[r]})`, expected: hex(x), actual: hex(y) };
  }
  for (let r = 0; r < 32; r++) {
    const x = e.getBigUint64(s + OUT_F + r * 8, true), y = a.getBigUint64(s + OUT_F + r * 8, true);
    if (x !== y) return { what: `f${r}`, expected: hex(x), actual: hex(y) };
  }
  const fe = e.getBigUint64(s + OUT_FCSR, true), fa = a.getBigUint64(s + OUT_FCSR, true);
  if (fe !== fa) return { what: 'fcsr', expected: `0x${fe.toString(16)}`, actual: `0x${fa.toString(16)}` };
  for (let off = 0; off < SCRATCH_BYTES; off += 8) {
    const x = e.getBigUint64(s + off, true), y = a.getBigUint64(s + off, true);
    if (x !== y) return { what: `scratch+0x${off.toString(16)}`, expected: hex(x), actual: hex(y) };
  }
  return null;
}

/** A readable report of one mismatch: the sequence's initial state of the named register, source and disassembly. */
export function formatMismatch(batch: Batch, m: Mismatch): string {
  const seq = batch.sequences[m.index]!;
  const lines = [
    `sequence ${m.index}: ${m.what} expected ${m.expected}, vmio has ${m.actual}`,
    `initial fcsr 0x${seq.fcsr.toString(16)}`,
    'source:', ...seq.lines.map((l) => `  ${l}`),
    'disassembly (riscv64-linux-gnu-objdump):', disassemble(batch, m.index),
  ];
  // The initial values of every register the source names (x27 is the scratch base, set by the harness).
  const used = new Set<string>();
  for (const l of seq.lines) for (const r of l.matchAll(/\b([xf])(\d+)\b/g)) used.add(`${r[1]}${r[2]}`);
  const init = [...used].filter((r) => r !== 'x27' && r !== 'x0').sort().map((r) => {
    const v = r[0] === 'x' ? seq.x[Number(r.slice(1))]! : seq.f[Number(r.slice(1))]!;
    return `${r}=${hex(BigInt.asUintN(64, v))}`;
  });
  lines.splice(2, 0, `initial registers: ${init.join(' ')}`);
  return lines.join('\n');
}
