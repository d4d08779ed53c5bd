// Benchmark: wall time from start to the reference guest's ready line under vmio (median of 5) with the
// JavaScript interpreter and under --cpu jit (its WebAssembly tier and the block translator; runs alternated,
// each boot in a new Node process, timed from building the VM and from exec), the guest instructions retired by then, and
// the same image under qemu-system-riscv64 -M virt (TCG, timed from its start) for comparison, a QEMU boot after
// vmio's in every round.
// Run: vmio bench boot [--runs N] [--smp N] [--cpu interp|jit|both]

import { spawn, spawnSync } from 'node:child_process';
import { benchCpu, benchOptions, type BenchCpu } from '../src/cli/bench-options.js';
import { DEFAULT_APPEND, buildVm } from '../src/host/build-vm.js';
import { Jit } from '../src/cpu/riscv/jit/engine.js';
import { HostConsole } from '../src/host/console.js';
import { ensureImage } from '../src/image/paths.js';
import { parseRunOptions, type RunConfig } from '../src/cli/run-options.js';
import { fileURLToPath } from 'node:url';
import { NODE_FLAGS } from '../src/cli/node-flags.js';

const READY = 'vmio-guest: ready';

/**
 * One boot: wall seconds and CPU seconds (user + system, all threads) to the ready line, instructions, exits; under
 * --cpu jit, the instructions run translated, blocks and the translation memory (source characters held).
 */
interface BootResult { seconds: number; cpuSeconds: number; instructions: number; exits: number; translated?: number; tier?: number; blocks?: number; liveChars?: number }

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The median over rounds of vmio's boot time `ts` over QEMU's in the same round (rounds where QEMU booted). */
function pairedRatio(ts: number[], q: (number | null)[]): number {
  return median(ts.flatMap((t, i) => { const u = q[i]; return u === null || u === undefined ? [] : [t / u]; }));
}

async function bootVmio(config: RunConfig): Promise<BootResult> {
  const sink = { write: () => true };
  const console = new HostConsole(null, sink);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const vm = await buildVm(config, console);
  let result: BootResult | null = null;
  console.onLine = (line) => {
    if (result === null && line.includes(READY)) {
      result = {
        seconds: Number(process.hrtime.bigint() - t0) / 1e9,
        cpuSeconds: ((c) => (c.user + c.system) / 1e6)(process.cpuUsage(c0)),
        instructions: vm.harts.reduce((n, h) => n + h.instret, 0),
        exits: vm.metrics.exits,
      };
      const jits = vm.harts.map((h) => h.jit).filter((j): j is Jit => j instanceof Jit);
      if (jits.length > 0) {
        result.translated = jits.reduce((n, j) => n + j.stats.retired, 0);
        result.tier = jits.reduce((n, j) => n + j.stats.tier, 0);
        result.blocks = jits.reduce((n, j) => n + j.stats.blocks, 0);
        result.liveChars = jits.reduce((n, j) => n + j.stats.liveCost, 0);
      }
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
      '-initrd', initrd, '-append', DEFAULT_APPEND], { stdio: ['pipe', 'pipe', 'ignore'] }); // vmio's command line
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

/**
 * One boot in a new Node process (`boot.js --child CPU SMP KERNEL INITRD`, with vmio's Node flags), as `vmio run` starts: V8 compiles the
 * hart's code with no type feedback from an earlier boot (a second boot in the same process needs ~25 % less CPU).
 * Like QEMU, it is given the image's files: looking the reference guest up in the image cache (its recipe's hash,
 * from guest/ and the host's package versions: ~16 ms) is not part of booting it. `seconds` is timed from building
 * the VM; `execSeconds` from starting the process (Node's own start and loading vmio's modules too), as QEMU is.
 */
function bootVmioFresh(cpu: BenchCpu, smp: number, img: { kernel: string; initrd: string }): Promise<BootResult & { execSeconds: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [...NODE_FLAGS, fileURLToPath(import.meta.url), '--child', cpu, String(smp), img.kernel, img.initrd],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    let execSeconds: number | null = null;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (execSeconds === null && out.includes('\n')) execSeconds = Number(process.hrtime.bigint() - t0) / 1e9; // the line comes at ready
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    child.on('error', reject);
    child.on('close', (status) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (status !== 0 || !last.startsWith('{') || execSeconds === null) {
        reject(new Error(`a boot under --cpu ${cpu} failed (exit ${status}): ${err.trim().split('\n').slice(-3).join(' / ')}`));
      } else {
        resolve({ ...(JSON.parse(last) as BootResult), execSeconds });
      }
    });
  });
}

export async function main(args: string[]): Promise<void> {
  if (args[0] === '--child') { // one boot for bootVmioFresh: a JSON line
    const files = args.length >= 5 ? ['--kernel', args[3]!, '--initrd', args[4]!] : [];
    const c = parseRunOptions(['--smp', args[2] ?? '1', '--cpu', args[1] ?? 'interp', ...files]);
    if (c === 'help') throw new Error('unreachable');
    process.stdout.write(`${JSON.stringify(await bootVmio(c))}\n`);
    return;
  }
  const { cpus, rest } = benchCpu(args);
  const { runs, smp } = benchOptions(rest, { runs: { default: 5, min: 1, max: 1000 }, smp: { default: 1, min: 1, max: 8 } }, ['--cpu interp|jit|both']);
  const img = await ensureImage({ quiet: true });
  process.stdout.write(`command: vmio bench boot --runs ${runs} --smp ${smp} --cpu ${cpus.length > 1 ? 'both' : cpus[0]}   (node ${process.version})\n`);
  const vm = new Map<BenchCpu, Array<BootResult & { execSeconds: number }>>(cpus.map((c) => [c, []]));
  // QEMU boots in the same rounds, after vmio's: a host whose speed drifts over a run (a VM beside other tenants)
  // then slows both alike, and each round gives a paired ratio.
  const haveQemu = spawnSync('qemu-system-riscv64', ['--version']).status === 0;
  if (!haveQemu) process.stdout.write('qemu-system-riscv64 is not installed (Debian package qemu-system-misc): no comparison\n');
  const q: (number | null)[] = [];
  for (let i = 0; i < runs; i++) {
    for (const cpu of i % 2 === 0 ? cpus : [...cpus].reverse()) {
      const r = await bootVmioFresh(cpu, smp, img);
      vm.get(cpu)!.push(r);
      const jit = r.translated === undefined ? ''
        : `; ${(100 * (r.tier ?? 0) / r.instructions).toFixed(1)} % in the WebAssembly tier, ${(100 * r.translated / r.instructions).toFixed(1)} % translated in ${r.blocks} blocks, ${((r.liveChars ?? 0) / 1024).toFixed(0)} KiB of source held`;
      process.stdout.write(`vmio --cpu ${cpu} run ${i + 1}: ${r.seconds.toFixed(2)} s to ready (${r.execSeconds.toFixed(2)} s from exec; CPU ${r.cpuSeconds.toFixed(2)} s), ${(r.instructions / 1e6).toFixed(1)} M instructions, ${r.exits} exits${jit}\n`);
    }
    if (haveQemu) {
      const t = await bootQemu(img.kernel, img.initrd, smp);
      q.push(t);
      process.stdout.write(t === null ? `qemu run ${i + 1}: no ready line\n` : `qemu run ${i + 1}: ${t.toFixed(2)} s to ready\n`);
    }
  }
  const qDone = q.filter((t): t is number => t !== null);
  const qSec = qDone.length > 0 ? median(qDone) : null;
  process.stdout.write('\n| machine | wall time to ready from building the VM (median) | from exec (median) | CPU time (median) | guest instructions to ready | vs QEMU from building the VM (medians; median of the rounds\' ratios) | vs QEMU from exec (the same) |\n|---|---|---|---|---|---|---|\n');
  let last = 0;
  for (const cpu of cpus) {
    const rs = vm.get(cpu)!;
    const sec = median(rs.map((r) => r.seconds)), insn = median(rs.map((r) => r.instructions));
    const cpuSec = median(rs.map((r) => r.cpuSeconds));
    last = sec;
    const name = cpu === 'jit' ? 'vmio --cpu jit (WebAssembly tier, block translator)' : 'vmio --cpu interp (JavaScript interpreter)';
    const ex = median(rs.map((r) => r.execSeconds));
    const vsQemu = (t: number, ts: number[]): string => (qSec === null ? '-' : `${(t / qSec).toFixed(2)}x; ${pairedRatio(ts, q).toFixed(2)}x`);
    process.stdout.write(`| ${name}, deterministic | ${sec.toFixed(2)} s | ${ex.toFixed(2)} s | ${cpuSec.toFixed(2)} s | ${(insn / 1e6).toFixed(1)} M (${(insn / sec / 1e6).toFixed(1)} MIPS) | ${vsQemu(sec, rs.map((r) => r.seconds))} | ${vsQemu(ex, rs.map((r) => r.execSeconds))} |\n`);
  }
  if (qSec !== null) process.stdout.write(`| qemu-system-riscv64 TCG | ${qSec.toFixed(2)} s (from exec) | ${qSec.toFixed(2)} s | - | (not counted) | 1x | 1x |\n`);
  process.stdout.write(`boot: ${last.toFixed(2)} s\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv.slice(2));
