// A benchmark tool: boots the reference guest under qemu-system-riscv64 (TCG), types a console script once the
// guest is ready, and records the wall clock and QEMU's CPU time at each mark line the guest prints
// ("@@mark LABEL", as windowed-run.ts), so a benchmark can compare the same guest commands on vmio and QEMU.
// QEMU has no cost model and no exit counters: what it gives is real time and real CPU time.

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { MARK, DONE } from './windowed-run.js';

const READY = 'vmio-guest: ready';

export interface QemuMark {
  label: string;
  /** Where the mark line is in QemuResult.lines. */
  lineIndex: number;
  /** Wall clock since QEMU started, ns. */
  wallNs: number;
  /** QEMU's CPU time (user + system, all threads), µs; -1 when /proc could not be read. */
  cpuUs: number;
}

export interface QemuResult {
  lines: string[];
  marks: QemuMark[];
  /** The guest printed @@done before the time limit. */
  done: boolean;
  wallSeconds: number;
}

export interface QemuOptions {
  /** Arguments after `qemu-system-riscv64`. */
  args: string[];
  /** Typed into the console once the guest prints its ready line; it should end with `echo @@""done`. */
  script: string;
  /** Run inside this network namespace (`ip netns exec NS qemu-system-riscv64 ...`; exec keeps the pid). */
  netns?: string;
  timeoutSeconds: number;
}

let clkTck = 0;
function clockTicksPerSecond(): number {
  if (clkTck === 0) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(r.stdout?.trim());
    clkTck = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return clkTck;
}

/** CPU time of a process (all its threads) from /proc/PID/stat: utime + stime, in µs; -1 if it cannot be read. */
export function processCpuUs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces, so split after its closing parenthesis).
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(f[11]);
    const stime = Number(f[12]);
    return ((utime + stime) / clockTicksPerSecond()) * 1e6;
  } catch {
    return -1;
  }
}

export function haveQemu(): boolean {
  return spawnSync('qemu-system-riscv64', ['--version']).status === 0;
}

export function runQemuScript(o: QemuOptions): Promise<QemuResult> {
  return new Promise((resolve, reject) => {
    const [cmd, argv] = o.netns !== undefined
      ? ['ip', ['netns', 'exec', o.netns, 'qemu-system-riscv64', ...o.args]]
      : ['qemu-system-riscv64', o.args];
    const t0 = process.hrtime.bigint();
    const q = spawn(cmd, argv, { stdio: ['pipe', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const marks: QemuMark[] = [];
    let partial = '';
    let typed = false;
    let done = false;
    let stderr = '';
    const now = () => Number(process.hrtime.bigint() - t0);
    q.stderr.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < 4000) stderr += d; });
    q.stdout.setEncoding('latin1').on('data', (d: string) => {
      const parts = (partial + d).split('\n');
      partial = parts.pop() ?? '';
      for (const raw of parts) {
        const line = raw.replace(/\r$/, '');
        lines.push(line);
        const m = MARK.exec(line);
        if (m !== null) marks.push({ label: m[1]!, lineIndex: lines.length - 1, wallNs: now(), cpuUs: q.pid !== undefined ? processCpuUs(q.pid) : -1 });
        else if (line === DONE) { done = true; q.kill('SIGTERM'); }
        else if (!typed && line.includes(READY)) { typed = true; q.stdin.write(o.script); }
      }
    });
    q.stdin.on('error', () => { /* QEMU went away; 'close' reports it */ });
    const guard = setTimeout(() => q.kill('SIGKILL'), o.timeoutSeconds * 1000);
    q.on('error', (e) => { clearTimeout(guard); reject(e); });
    q.on('close', (code) => {
      clearTimeout(guard);
      if (!typed) { reject(new Error(`qemu-system-riscv64 stopped (status ${code}) before the guest was ready: ${stderr.trim().slice(0, 500)}`)); return; }
      resolve({ lines, marks, done, wallSeconds: now() / 1e9 });
    });
  });
}
