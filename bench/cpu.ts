// CPU benchmark: CPU-bound guest code on vmio's hart (integer mix under Sv39 in S-mode, memcpy, sort, double
// floating point), guest/tests/bench/cpu.c built with the cross gcc (cached in os.tmpdir()), 5 runs each, under
// the interpreter and the block translator (--cpu jit) side by side, their runs alternated so that a noisy
// machine hits both alike. Each run builds a new machine (a cold translation cache: translation time counts).
// Prints MIPS per workload and mode, by wall time and per second of the process's CPU time (which counts V8's
// compiler threads too, and not time spent waiting for a core on a shared machine), and ends with exactly one
// line `cpu: <median integer MIPS> MIPS` (jit's when it ran, else the interpreter's).
// Run: node dist/bench/cpu.js [--runs N] [--scale S] [--cpu interp|jit|both]   (or `vmio bench cpu`).

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchCpu, benchOptions, type BenchCpu } from '../src/cli/bench-options.js';
import { Jit } from '../src/cpu/riscv/jit/engine.js';
import { bareMetalMachine, buildBareMetal, GUEST_TESTS_DIR, missingCrossGcc, FINISHER_PASS } from '../src/cpu/riscv/testing/baremetal.js';

const WORKLOADS = [
  { id: 1, name: 'integer (Sv39, S-mode)' },
  { id: 2, name: 'memcpy (64 KiB, 8-byte words)' },
  { id: 3, name: 'sort (quicksort, 4096 ints)' },
  { id: 4, name: 'floating point (double mul/add/div/sqrt)' },
];

const median = (a: number[]): number => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]!; };

function build(id: number, scale: number): string {
  const src = ['common/start.S', 'common/link.ld', 'common/test.h', 'bench/cpu.c']
    .map((f) => readFileSync(join(GUEST_TESTS_DIR, f))).join('\0');
  const flags = [`-DWORKLOAD=${id}`, `-DSCALE=${scale}`, '-fno-builtin', '-fno-tree-loop-distribute-patterns', '-fno-math-errno'];
  const hash = createHash('sha256').update(src).update(flags.join(' ')).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'vmio-bench-cpu', hash);
  const elf = join(dir, 'cpu.elf');
  return existsSync(elf) ? elf : buildBareMetal('bench/cpu.c', dir, flags);
}

/** What the translator kept: blocks, host ms translating, and its memory (the source it holds, in characters). */
interface JitUse { blocks: number; translateMs: number; liveChars: number }

function runOnce(elf: Uint8Array, cpu: BenchCpu): { instructions: number; seconds: number; cpuSeconds: number; jit: JitUse | null } {
  const m = bareMetalMachine(elf, 8 << 20, cpu);
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  while (m.finisher() === null) {
    const r = m.hart.run(10_000_000);
    n += r;
    if (r === 0) break;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  const cpuSeconds = (c.user + c.system) / 1e6;
  const v = m.finisher();
  if (v === null || (v & 0xffff) !== FINISHER_PASS) {
    throw new Error(`benchmark program failed (finisher ${v === null ? 'never written' : `0x${v.toString(16)}`}, pc 0x${m.hart.pc.toString(16)})`);
  }
  const st = m.hart.jit instanceof Jit ? m.hart.jit.stats : null;
  return { instructions: n, seconds, cpuSeconds, jit: st === null ? null : { blocks: st.blocks, translateMs: st.translateMs, liveChars: st.liveCost } };
}

export async function main(args: string[]): Promise<void> {
  const { cpus, rest } = benchCpu(args);
  const { runs, scale } = benchOptions(rest, { runs: { default: 5, min: 1, max: 1000 }, scale: { default: 1, min: 1, max: 1000 } }, ['--cpu interp|jit|both']);
  const missing = missingCrossGcc();
  if (missing !== null) throw new Error(`bench cpu needs the cross compiler: ${missing}`);
  console.log(`command: node dist/bench/cpu.js --runs ${runs} --scale ${scale} --cpu ${cpus.length > 1 ? 'both' : cpus[0]}  (node ${process.version}, ${process.platform}/${process.arch})`);
  const table: string[] = [];
  let intMips = 0;
  for (const w of WORKLOADS) {
    const elf = new Uint8Array(readFileSync(build(w.id, scale)));
    const mips = new Map<BenchCpu, number[]>(cpus.map((c) => [c, []]));
    const cpuMips = new Map<BenchCpu, number[]>(cpus.map((c) => [c, []]));
    let instructions = 0;
    let jitUse: JitUse | null = null;
    for (let r = 0; r < runs; r++) {
      const order = r % 2 === 0 ? cpus : [...cpus].reverse();
      for (const cpu of order) {
        const res = runOnce(elf, cpu);
        instructions = res.instructions;
        if (res.jit !== null) jitUse = res.jit;
        mips.get(cpu)!.push(res.instructions / res.seconds / 1e6);
        cpuMips.get(cpu)!.push(res.instructions / res.cpuSeconds / 1e6);
      }
    }
    const cells: string[] = [];
    for (const cpu of cpus) {
      const m = mips.get(cpu)!;
      const med = median(m);
      if (w.id === 1) intMips = med;
      const cm = median(cpuMips.get(cpu)!);
      cells.push(`${med.toFixed(1)} (${cm.toFixed(1)})`);
      const mem = cpu === 'jit' && jitUse !== null
        ? `; translation: ${jitUse.blocks} blocks, ${jitUse.translateMs.toFixed(1)} ms, ${(jitUse.liveChars / 1024).toFixed(0)} KiB of source held` : '';
      console.log(`${w.name} [${cpu}]: ${med.toFixed(1)} MIPS median of ${runs} (${m.map((x) => x.toFixed(1)).join(' ')}), per CPU second ${cm.toFixed(1)}, ${instructions} instructions per run${mem}`);
    }
    table.push(`| ${w.name} | ${cells.join(' | ')} |`);
  }
  console.log(`\n| workload | ${cpus.map((c) => `${c} MIPS, wall (per CPU second), median of ${runs}`).join(' | ')} |\n|---|${cpus.map(() => '---:').join('|')}|\n${table.join('\n')}\n`);
  console.log(`cpu: ${intMips.toFixed(1)} MIPS`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    console.error(`bench cpu: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  });
}
