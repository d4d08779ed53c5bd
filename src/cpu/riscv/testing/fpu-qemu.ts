// Differential harness for the FPU against qemu-riscv64: random OP-FP/FMA cases are assembled into one static
// riscv64 Linux program (riscv64-linux-gnu-gcc -nostdlib) that loads operands, sets frm, clears fflags, runs
// the instruction word and records f4, x11 and fflags; the same cases run on Fpu and the results are compared.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Fpu } from '../fpu.js';
import * as A from './fpu-asm.js';
import { Rng, randomBits } from './fpu-bits.js';

export interface FpCase {
  insn: number;
  text: string;
  /** f1, f2, f3 as 64-bit register contents (binary32 already NaN-boxed), x10. */
  f: [bigint, bigint, bigint];
  x10: bigint;
  frm: number;
  /** Result register: float result in f4, integer result in x11. */
  intResult: boolean;
}

export interface FpResult { f4: bigint; x11: bigint; fflags: number }

/** Null when the tools are present; otherwise why the differential test cannot run. */
export function missingQemuTools(): string | null {
  for (const tool of ['riscv64-linux-gnu-gcc', 'qemu-riscv64']) {
    const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
    if (r.error !== undefined || r.status !== 0) return `${tool} is not installed (Debian: gcc-riscv64-linux-gnu, qemu-user)`;
  }
  return null;
}

const RMS = [A.RNE, A.RTZ, A.RDN, A.RUP, A.RMM, A.DYN];
const KINDS: A.IntKind[] = ['W', 'WU', 'L', 'LU'];

function randomInt(rng: Rng): bigint {
  switch (rng.int(5)) {
    case 0: return BigInt(rng.int(2001) - 1000);
    case 1: return BigInt.asIntN(64, 1n << BigInt(rng.int(64))) - BigInt(rng.int(3));
    case 2: return BigInt.asIntN(64, rng.next64() >> BigInt(rng.int(64)));
    default: return BigInt.asIntN(64, rng.next64());
  }
}

/** One random case covering every OP-FP and FMA operation of S and D. */
export function randomCase(rng: Rng): FpCase {
  const fmt: A.Fmt = rng.int(2) === 0 ? 'S' : 'D';
  const rm = RMS[rng.int(RMS.length)]!;
  const frm = rng.int(5);
  const operand = (): bigint => {
    const b = randomBits(rng, fmt);
    if (fmt === 'D') return b;
    // Mostly NaN-boxed; sometimes an improperly boxed value.
    return rng.int(20) === 0 ? b : 0xffffffff00000000n | b;
  };
  const f: [bigint, bigint, bigint] = [operand(), operand(), operand()];
  // Often make f2 (and f3) about p bits below f1 with few significant bits, so sums land on rounding ties.
  if (rng.int(3) === 0) f[1] = near(rng, fmt, f[0]);
  if (rng.int(3) === 0) f[2] = near(rng, fmt, f[0]);
  const k = KINDS[rng.int(4)]!;
  const ops: Array<() => [number, string, boolean]> = [
    () => [A.fadd(fmt, 4, 1, 2, rm), `fadd.${fmt} rm=${rm}`, false],
    () => [A.fsub(fmt, 4, 1, 2, rm), `fsub.${fmt} rm=${rm}`, false],
    () => [A.fmul(fmt, 4, 1, 2, rm), `fmul.${fmt} rm=${rm}`, false],
    () => [A.fdiv(fmt, 4, 1, 2, rm), `fdiv.${fmt} rm=${rm}`, false],
    () => [A.fsqrt(fmt, 4, 1, rm), `fsqrt.${fmt} rm=${rm}`, false],
    () => [A.fmadd(fmt, 4, 1, 2, 3, rm), `fmadd.${fmt} rm=${rm}`, false],
    () => [A.fmsub(fmt, 4, 1, 2, 3, rm), `fmsub.${fmt} rm=${rm}`, false],
    () => [A.fnmsub(fmt, 4, 1, 2, 3, rm), `fnmsub.${fmt} rm=${rm}`, false],
    () => [A.fnmadd(fmt, 4, 1, 2, 3, rm), `fnmadd.${fmt} rm=${rm}`, false],
    () => [A.fsgnj(fmt, 4, 1, 2), `fsgnj.${fmt}`, false],
    () => [A.fsgnjn(fmt, 4, 1, 2), `fsgnjn.${fmt}`, false],
    () => [A.fsgnjx(fmt, 4, 1, 2), `fsgnjx.${fmt}`, false],
    () => [A.fmin(fmt, 4, 1, 2), `fmin.${fmt}`, false],
    () => [A.fmax(fmt, 4, 1, 2), `fmax.${fmt}`, false],
    () => [A.feq(fmt, 11, 1, 2), `feq.${fmt}`, true],
    () => [A.flt(fmt, 11, 1, 2), `flt.${fmt}`, true],
    () => [A.fle(fmt, 11, 1, 2), `fle.${fmt}`, true],
    () => [A.fclass(fmt, 11, 1), `fclass.${fmt}`, true],
    () => [A.fmvXF(fmt, 11, 1), `fmv.x.${fmt}`, true],
    () => [A.fmvFX(fmt, 4, 10), `fmv.${fmt}.x`, false],
    () => [A.fcvtToInt(k, fmt, 11, 1, rm), `fcvt.${k}.${fmt} rm=${rm}`, true],
    () => [A.fcvtFromInt(fmt, k, 4, 10, rm), `fcvt.${fmt}.${k} rm=${rm}`, false],
    () => [A.fcvtFF(fmt, 4, 1, rm), `fcvt.${fmt}.${fmt === 'S' ? 'D' : 'S'} rm=${rm}`, false],
  ];
  const [insn, text, intResult] = ops[rng.int(ops.length)]!();
  // FCVT.S.D reads a double, FCVT.D.S a boxed single: give the source its own format.
  if (text.startsWith('fcvt.S.D')) f[0] = randomBits(rng, 'D');
  if (text.startsWith('fcvt.D.S')) f[0] = 0xffffffff00000000n | randomBits(rng, 'S');
  return { insn, text, f, x10: randomInt(rng), frm, intResult };
}

/** A value whose exponent is about `precision` below a's, with at most three significant bits. */
function near(rng: Rng, fmt: A.Fmt, a: bigint): bigint {
  const fracBits = fmt === 'S' ? 23 : 52;
  const expMask = fmt === 'S' ? 0xffn : 0x7ffn;
  const e = Number((a >> BigInt(fracBits)) & expMask) - fracBits - 2 + rng.int(4);
  if (e <= 0) return fmt === 'S' ? 0xffffffff00000000n | BigInt(rng.int(8)) : BigInt(rng.int(8));
  const frac = BigInt(rng.int(8)) << BigInt(fracBits - 3);
  const v = (BigInt(rng.int(2)) << BigInt(fracBits + (fmt === 'S' ? 8 : 11))) | (BigInt(e) << BigInt(fracBits)) | frac;
  return fmt === 'S' ? 0xffffffff00000000n | v : v;
}

const hex64 = (v: bigint): string => `0x${BigInt.asUintN(64, v).toString(16)}`;

function assembly(cases: FpCase[]): string {
  const out: string[] = [
    '  .text', '  .globl _start', '_start:',
    '  la s0, inputs', '  la s1, outputs',
  ];
  for (const c of cases) {
    out.push(
      '  fld f1, 0(s0)', '  fld f2, 8(s0)', '  fld f3, 16(s0)', '  ld a0, 24(s0)',
      `  li t0, ${c.frm}`, '  csrw frm, t0', '  csrw fflags, zero', '  fmv.d.x f4, zero', '  li a1, 0',
      `  .word 0x${c.insn.toString(16)}`,
      '  fsd f4, 0(s1)', '  sd a1, 8(s1)', '  csrr t1, fflags', '  sd t1, 16(s1)',
      '  addi s0, s0, 32', '  addi s1, s1, 24',
    );
  }
  out.push(
    '  li a0, 1', '  la a1, outputs', `  li a2, ${cases.length * 24}`, '  li a7, 64', '  ecall',
    '  li a0, 0', '  li a7, 93', '  ecall',
    '  .data', '  .balign 8', 'inputs:',
  );
  for (const c of cases) out.push(`  .dword ${hex64(c.f[0])}, ${hex64(c.f[1])}, ${hex64(c.f[2])}, ${hex64(c.x10)}`);
  out.push('  .bss', '  .balign 8', 'outputs:', `  .zero ${cases.length * 24}`, '');
  return out.join('\n');
}

/** Runs the cases on qemu-riscv64 (RV64GC). Throws with the tool's message when building or running fails. */
export function runOnQemu(cases: FpCase[]): FpResult[] {
  const dir = mkdtempSync(join(tmpdir(), 'vmio-fpu-'));
  try {
    const src = join(dir, 'fp.S');
    const elf = join(dir, 'fp.elf');
    writeFileSync(src, assembly(cases));
    const cc = spawnSync('riscv64-linux-gnu-gcc', ['-march=rv64gc', '-mabi=lp64d', '-static', '-nostdlib', '-o', elf, src],
      { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`riscv64-linux-gnu-gcc failed: ${cc.stderr}`);
    const run = spawnSync('qemu-riscv64', [elf], { maxBuffer: 64 << 20 });
    if (run.status !== 0) throw new Error(`qemu-riscv64 exited with ${run.status}: ${run.stderr.toString()}`);
    const buf = run.stdout;
    if (buf.length !== cases.length * 24) throw new Error(`qemu wrote ${buf.length} bytes, expected ${cases.length * 24}`);
    return cases.map((_, i) => ({
      f4: buf.readBigUInt64LE(i * 24), x11: buf.readBigInt64LE(i * 24 + 8), fflags: Number(buf.readBigUInt64LE(i * 24 + 16)),
    }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs one case on a fresh Fpu with the same initial state as the qemu program. */
export function runOnFpu(c: FpCase): FpResult {
  const fpu = new Fpu();
  fpu.frm = c.frm;
  fpu.f[1] = c.f[0]; fpu.f[2] = c.f[1]; fpu.f[3] = c.f[2];
  const x = new BigInt64Array(32);
  x[10] = c.x10;
  if (!fpu.exec(c.insn, x)) throw new Error(`${c.text} (0x${c.insn.toString(16)}) reported illegal`);
  return { f4: fpu.f[4]!, x11: x[11]!, fflags: fpu.fflags };
}
