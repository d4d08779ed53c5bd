// Benchmark: wall time from start to the reference guest's ready line under vmio (median of 5) with the
// interpreter and the block translator (--cpu jit; runs alternated), the guest instructions retired by then, and
// the same image under qemu-system-riscv64 -M virt (TCG) for comparison.
// Run: vmio bench boot [--runs N] [--smp N] [--cpu interp|jit|both]

import { spawn, spawnSync } from 'node:child_process';
import { benchCpu, benchOptions, type BenchCpu } from '../src/cli/bench-options.js';
import { buildVm } from '../src/host/build-vm.js';
import { HostConsole } from '../src/host/console.js';
import { ensureImage } from '../src/image/paths.js';
import { parseRunOptions, type RunConfig } from '../src/cli/run-options.js';

const READY = 'vmio-guest: ready';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function bootVmio(config: RunConfig): Promise<{ seconds: number; instructions: number; exits: number }> {
  const sink = { write: () => true };
  const console = new HostConsole(null, sink);
  const t0 = process.hrtime.bigint();
  const vm = await buildVm(config, console);
  let result: { seconds: number; instructions: number; exits: number } | null = null;
  console.onLine = (line) => {
    if (result === null && line.includes(READY)) {
      result = {
        seconds: Number(process.hrtime.bigint() - t0) / 1e9,
        instructions: vm.harts.reduce((n, h) => n + h.instret, 0),
        exits: vm.metrics.exits,
      };
      vm.stop({ kind: 'quit' });
    }
  };
  const exit = await vm.run(600);
  if (result === null) throw new Error(`the guest stopped (${exit.kind}) before printing its ready line`);
  return result;
}

function bootQemu(kernel: string, initrd: string, smp: number): Promise<number | null> {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const q = spawn('qemu-system-riscv64', ['-M', 'virt', '-m', '256', '-smp', String(smp), '-nographic', '-kernel', kernel,
      '-initrd', initrd, '-append', 'console=ttyS0'], { stdio: ['pipe', 'pipe', 'ignore'] });
    let out = '';
    let t: number | null = null;
    q.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (t === null && out.includes(READY)) {
        t = Number(process.hrtime.bigint() - t0) / 1e9;
        q.kill('SIGKILL');
      }
    });
    // A QEMU that never prints the ready line is killed after 2 minutes; the timer must not hold the process open.
    const timer = setTimeout(() => q.kill('SIGKILL'), 120_000);
    q.on('error', () => { clearTimeout(timer); resolve(null); });
    q.on('close', () => { clearTimeout(timer); resolve(t); });
  });
}

export async function main(args: string[]): Promise<void> {
  const { cpus, rest } = benchCpu(args);
  const { runs, smp } = benchOptions(rest, { runs: { default: 5, min: 1, max: 1000 }, smp: { default: 1, min: 1, max: 8 } }, ['--cpu interp|jit|both']);
  const img = await ensureImage({ quiet: true });
  const configs = new Map<BenchCpu, RunConfig>();
  for (const cpu of cpus) {
    const c = parseRunOptions(['--smp', String(smp), '--cpu', cpu]);
    if (c === 'help') throw new Error('unreachable');
    configs.set(cpu, c);
  }
  process.stdout.write(`command: vmio bench boot --runs ${runs} --smp ${smp} --cpu ${cpus.length > 1 ? 'both' : cpus[0]}   (node ${process.version})\n`);
  const vm = new Map<BenchCpu, Array<{ seconds: number; instructions: number; exits: number }>>(cpus.map((c) => [c, []]));
  for (let i = 0; i < runs; i++) {
    for (const cpu of i % 2 === 0 ? cpus : [...cpus].reverse()) {
      const r = await bootVmio(configs.get(cpu)!);
      vm.get(cpu)!.push(r);
      process.stdout.write(`vmio --cpu ${cpu} run ${i + 1}: ${r.seconds.toFixed(2)} s to ready, ${(r.instructions / 1e6).toFixed(1)} M instructions, ${r.exits} exits\n`);
    }
  }
  const q: number[] = [];
  const haveQemu = spawnSync('qemu-system-riscv64', ['--version']).status === 0;
  if (haveQemu) {
    for (let i = 0; i < runs; i++) {
      const t = await bootQemu(img.kernel, img.initrd, smp);
      if (t !== null) { q.push(t); process.stdout.write(`qemu run ${i + 1}: ${t.toFixed(2)} s to ready\n`); }
    }
  } else {
    process.stdout.write('qemu-system-riscv64 is not installed (Debian package qemu-system-misc): no comparison\n');
  }
  const qSec = q.length > 0 ? median(q) : null;
  process.stdout.write('\n| machine | wall time to ready (median) | guest instructions to ready | vs QEMU |\n|---|---|---|---|\n');
  let last = 0;
  for (const cpu of cpus) {
    const rs = vm.get(cpu)!;
    const sec = median(rs.map((r) => r.seconds)), insn = median(rs.map((r) => r.instructions));
    last = sec;
    const name = cpu === 'jit' ? 'vmio --cpu jit (block translator)' : 'vmio --cpu interp (interpreter)';
    process.stdout.write(`| ${name}, deterministic | ${sec.toFixed(2)} s | ${(insn / 1e6).toFixed(1)} M (${(insn / sec / 1e6).toFixed(1)} MIPS) | ${qSec === null ? '-' : `${(sec / qSec).toFixed(1)}x`} |\n`);
  }
  if (qSec !== null) process.stdout.write(`| qemu-system-riscv64 TCG | ${qSec.toFixed(2)} s | (not counted) | 1x |\n`);
  process.stdout.write(`boot: ${last.toFixed(2)} s\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
