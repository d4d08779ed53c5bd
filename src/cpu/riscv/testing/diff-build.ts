// Wraps generated sequences (diff-gen.ts) in one static riscv64 Linux ELF, built with riscv64-linux-gnu-gcc
// -static -nostdlib. Each sequence loads its initial state from its own region, runs, and stores every register
// and fcsr back into the region; at the end the program writes all regions to stdout (write, exit syscalls of
// the Linux riscv64 ABI), so qemu-riscv64 and vmio's hart produce byte streams that are compared region by region.
//
// Region layout, relative to the scratch base held in x27 (REGION_BYTES per sequence, 16-byte aligned):
//   -528  initial x0..x31 (x0 and x27 slots unused)    0   scratch buffer (SCRATCH_BYTES)
//   -272  initial f0..f31                             256  final x0..x31
//    -16  initial fcsr                                512  final f0..f31
//                                                     768  final fcsr

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SCRATCH_BYTES, SCRATCH_REG, type Sequence } from './diff-gen.js';

export const CROSS_PREFIX = 'riscv64-linux-gnu-';
export const INIT_BYTES = 528;
export const REGION_BYTES = INIT_BYTES + SCRATCH_BYTES + 256 + 256 + 16;
export const OUT_X = SCRATCH_BYTES;
export const OUT_F = SCRATCH_BYTES + 256;
export const OUT_FCSR = SCRATCH_BYTES + 512;
/** Where the program is linked (also a sensible RAM base for the hart). */
export const LINK_BASE = 0x8000_0000;

/** Null when the tools are present; otherwise why the differential tests cannot run. */
export function missingTools(): string | null {
  for (const tool of [`${CROSS_PREFIX}gcc`, `${CROSS_PREFIX}objdump`, 'qemu-riscv64']) {
    const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
    if (r.error !== undefined || r.status !== 0) return `${tool} is not installed (Debian: gcc-riscv64-linux-gnu, qemu-user)`;
  }
  return null;
}

export interface Batch {
  elfPath: string;
  elf: Uint8Array;
  sequences: Sequence[];
  /** Address of each sequence's first instruction, of its generated body, and of the end of the body. */
  start: number[];
  body: number[];
  bodyEnd: number[];
  /** Address of the code after the last sequence (writes the results and exits). */
  done: number;
  /** Guest address of the regions blob (region i starts at regions + i*REGION_BYTES). */
  regions: number;
}

/** The initial regions blob: init state and scratch, zeroed result slots. */
function regionsBlob(seqs: Sequence[]): Uint8Array {
  const blob = new Uint8Array(seqs.length * REGION_BYTES);
  const v = new DataView(blob.buffer);
  seqs.forEach((s, i) => {
    const base = i * REGION_BYTES;
    for (let r = 0; r < 32; r++) v.setBigUint64(base + r * 8, BigInt.asUintN(64, s.x[r]!), true);
    for (let r = 0; r < 32; r++) v.setBigUint64(base + 256 + r * 8, BigInt.asUintN(64, s.f[r]!), true);
    v.setBigUint64(base + 512, BigInt(s.fcsr), true);
    blob.set(s.scratch, base + INIT_BYTES);
  });
  return blob;
}

function harness(seqs: Sequence[]): string {
  const o: string[] = ['  .option norelax', '  .text', '  .globl _start', '_start:'];
  const b = `x${SCRATCH_REG}`;
  seqs.forEach((s, i) => {
    o.push(`seq_${i}:`, `  lla ${b}, regions + ${i * REGION_BYTES + INIT_BYTES}`, `  ld x5, -16(${b})`, '  fscsr x5');
    for (let r = 0; r < 32; r++) o.push(`  fld f${r}, ${-272 + r * 8}(${b})`);
    for (let r = 1; r < 32; r++) if (r !== SCRATCH_REG) o.push(`  ld x${r}, ${-528 + r * 8}(${b})`);
    o.push(`body_${i}:`);
    for (const l of s.lines) o.push(l.endsWith(':') ? l : `  ${l}`);
    o.push(`body_end_${i}:`);
    for (let r = 1; r < 32; r++) o.push(`  sd x${r}, ${OUT_X + r * 8}(${b})`);
    for (let r = 0; r < 32; r++) o.push(`  fsd f${r}, ${OUT_F + r * 8}(${b})`);
    o.push('  frcsr x5', `  sd x5, ${OUT_FCSR}(${b})`);
  });
  o.push('seq_done:', '  li a7, 64', '  li a0, 1', '  lla a1, regions', `  li a2, ${seqs.length * REGION_BYTES}`, '  ecall',
    '  li a7, 93', '  li a0, 0', '  ecall', '  .data', '  .balign 16', 'regions:', '  .incbin "regions.bin"');
  return o.join('\n') + '\n';
}

/** Builds one ELF holding `seqs` in `dir` (created if needed). Throws with the assembler's message on failure. */
export function buildBatch(seqs: Sequence[], dir: string): Batch {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'regions.bin'), regionsBlob(seqs));
  const src = join(dir, 'seq.S');
  const elfPath = join(dir, 'seq.elf');
  writeFileSync(src, harness(seqs));
  const cc = spawnSync(`${CROSS_PREFIX}gcc`, ['-march=rv64gc', '-mabi=lp64d', '-static', '-nostdlib', '-no-pie',
    `-Wl,-Ttext-segment=0x${LINK_BASE.toString(16)}`, '-Wl,--no-relax', '-o', elfPath, src], { cwd: dir, encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`assembling ${src} failed:\n${cc.stderr}`);
  const nm = spawnSync(`${CROSS_PREFIX}nm`, [elfPath], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (nm.status !== 0) throw new Error(`nm ${elfPath} failed: ${nm.stderr}`);
  const sym = new Map<string, number>();
  for (const line of nm.stdout.split('\n')) {
    const m = /^([0-9a-f]+) \S (\S+)$/.exec(line);
    if (m !== null) sym.set(m[2]!, parseInt(m[1]!, 16));
  }
  const get = (name: string): number => {
    const a = sym.get(name);
    if (a === undefined) throw new Error(`symbol ${name} missing from ${elfPath}`);
    return a;
  };
  return {
    elfPath, elf: new Uint8Array(readFileSync(elfPath)), sequences: seqs,
    start: seqs.map((_, i) => get(`seq_${i}`)), body: seqs.map((_, i) => get(`body_${i}`)), bodyEnd: seqs.map((_, i) => get(`body_end_${i}`)),
    done: get('seq_done'), regions: get('regions'),
  };
}

/** Runs the batch on qemu-riscv64; returns its stdout (the regions after every sequence ran). */
export function runQemu(batch: Batch): Uint8Array {
  const r = spawnSync('qemu-riscv64', [batch.elfPath], { maxBuffer: 256 << 20 });
  if (r.status !== 0) throw new Error(`qemu-riscv64 ${batch.elfPath} exited with ${r.status ?? r.signal}: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
}

/** objdump of sequence i's body, for failure reports. */
export function disassemble(batch: Batch, i: number): string {
  const start = batch.body[i]!;
  const end = batch.bodyEnd[i]!;
  const r = spawnSync(`${CROSS_PREFIX}objdump`, ['-d', `--start-address=0x${start.toString(16)}`,
    `--stop-address=0x${end.toString(16)}`, batch.elfPath], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) return `(objdump failed: ${r.stderr})`;
  return r.stdout.split('\n').filter((l) => /^\s+[0-9a-f]+:/.test(l)).join('\n');
}
