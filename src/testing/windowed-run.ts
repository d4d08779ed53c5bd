// A benchmark tool: runs the VMs of a host file in this process and, whenever a guest prints a mark line
// ("@@mark LABEL"), snapshots every VM's counters, virtual time, this process's CPU time and the wall clock, so a
// benchmark can subtract two snapshots and get the counters of exactly what the guest did between its marks.
//
// The mark is seen while the guest's UART write is being handled (HostConsole.onLine), so a snapshot falls on the
// guest instruction that finished the line: in deterministic mode the counters between two marks are the same on
// every run. A guest prints "@@done" to stop every VM of the host (the others may be sleeping forever).
//
// Used in-process, or as a child process (so it can run inside a network namespace: `ip netns exec NS node
// dist/src/testing/windowed-run.js HOST.json RESULT.json [LOG]`), which writes its result as JSON.

import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseHostConfig, type HostConfig } from '../cli/host-config.js';
import { buildHost } from '../host/build-host.js';
import { NODE_FLAGS } from '../cli/node-flags.js';

/** A line a guest prints to mark a point; typed as `echo @@""mark LABEL` so the shell's echo of the command does not match. */
export const MARK = /^@@mark (\S+)$/;
export const DONE = '@@done';
/** Typed before each VM's script (see runWindowed). */
export const INPUT_GUARD = '\n\n';

/** The parts of a VM's metrics JSON (src/metrics/counters.ts) the benchmarks read. */
export interface MetricsJson {
  exits: number;
  instructionsRetired: number;
  interrupts: Record<string, number>;
  regions: Record<string, { byClass: Record<string, number>; registers: Record<string, number>; cost: number }>;
  dma: Record<string, { reads: number; writes: number; bytesRead: number; bytesWritten: number; msis: number }>;
  cost: { total: number; events: Record<string, number>; charged: Record<string, number> };
  /** Device reports (Metrics.device), e.g. 'xen': the XenHost's counters. */
  devices?: Record<string, unknown>;
}

export interface Snapshot {
  /** The VM that printed the mark, and its label. */
  vm: string;
  label: string;
  /** Where the mark line is in that VM's console lines (WindowedResult.lines). */
  lineIndex: number;
  /** Wall clock (ns since the run started) and this process's CPU time (user + system, µs). */
  wallNs: number;
  cpuUs: number;
  /** Virtual time in ticks (10 MHz). */
  ticks: number;
  /** Every VM's counters at that moment, by VM name. */
  metrics: Record<string, MetricsJson>;
}

export interface WindowedResult {
  snapshots: Snapshot[];
  /** Each VM's console lines (without the carriage return). */
  lines: Record<string, string[]>;
  /** How each VM stopped (VmExit kind, with the reason when it failed). */
  exits: Record<string, string>;
  /** Wall seconds of the whole run, boot included. */
  wallSeconds: number;
}

/** Runs the host until every VM stops (or one prints @@done); `log` receives every console line, prefixed. */
export async function runWindowed(cfg: HostConfig, timeoutSeconds: number, log: { write(s: string): unknown }): Promise<WindowedResult> {
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  // Input reaches the UART as soon as the 8250 driver enables receive interrupts, and a byte that arrives before
  // its set_termios turns the FIFO on is cleared with the FIFO (seen: the first byte of one VM's script in a
  // two-VM e1000,inkernel host): blank lines go first, so what is lost there is a newline.
  const guarded: HostConfig = { vms: cfg.vms.map((v) => ({ ...v, input: v.input === null ? null : INPUT_GUARD + v.input })) };
  const built = await buildHost(guarded, null, false, log);
  const snapshots: Snapshot[] = [];
  const lines: Record<string, string[]> = {};
  const snap = (vm: string, label: string, lineIndex: number): void => {
    const cpu = process.cpuUsage(cpu0);
    const metrics: Record<string, MetricsJson> = {};
    for (const v of built.vms) metrics[v.name] = JSON.parse(JSON.stringify(v.metrics)) as MetricsJson;
    snapshots.push({ vm, label, lineIndex, wallNs: Number(process.hrtime.bigint() - t0), cpuUs: cpu.user + cpu.system, ticks: built.host.clock.now(), metrics });
  };
  for (const vm of built.vms) {
    const own: string[] = [];
    lines[vm.name] = own;
    vm.console.onLine = (raw) => {
      const line = raw.replace(/\r$/, '');
      own.push(line);
      const m = MARK.exec(line);
      if (m !== null) snap(vm.name, m[1]!, own.length - 1);
      else if (line === DONE) { snap(vm.name, 'done', own.length - 1); for (const v of built.vms) v.stop({ kind: 'quit' }); }
    };
  }
  await built.host.run(timeoutSeconds);
  for (const out of built.outputs) out.end();
  const exits: Record<string, string> = {};
  for (const v of built.vms) {
    const e = v.exit;
    exits[v.name] = e === null ? 'none' : e.kind === 'fail' ? `fail: ${e.why}` : e.kind === 'error' ? `error: ${e.error.message}` : e.kind;
  }
  return { snapshots, lines, exits, wallSeconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

export interface ChildOptions {
  /** Run inside this network namespace (`ip netns exec NS ...`; needs root). */
  netns?: string;
  /** Host seconds before the run is stopped (its VMs report 'timeout'). */
  timeoutSeconds: number;
  /** Keep the console log here (else it is discarded with the temporary directory). */
  logFile?: string;
}

/** Runs a host file (the JSON of `vmio run --config`) in a child process (with vmio's Node flags) and returns what it measured. */
export async function runWindowedChild(hostJson: object, o: ChildOptions): Promise<WindowedResult> {
  const dir = mkdtempSync(join(tmpdir(), 'vmio-window-'));
  try {
    const hostFile = join(dir, 'host.json');
    const resultFile = join(dir, 'result.json');
    writeFileSync(hostFile, JSON.stringify(hostJson));
    const self = fileURLToPath(import.meta.url);
    const args = [...NODE_FLAGS, self, hostFile, resultFile, o.logFile ?? join(dir, 'console.log'), String(o.timeoutSeconds)];
    const [cmd, argv] = o.netns !== undefined ? ['ip', ['netns', 'exec', o.netns, process.execPath, ...args]] : [process.execPath, args];
    const status = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(cmd, argv, { stdio: ['ignore', 'inherit', 'inherit'] });
      // A bound in case the child hangs before its own timeout can act (it never should).
      const guard = setTimeout(() => child.kill('SIGKILL'), (o.timeoutSeconds + 60) * 1000);
      child.on('error', reject);
      child.on('close', (code) => { clearTimeout(guard); resolve(code); });
    });
    if (status !== 0) throw new Error(`windowed-run exited with status ${status}` + (o.logFile !== undefined ? ` (console log: ${o.logFile})` : ''));
    return JSON.parse(readFileSync(resultFile, 'utf8')) as WindowedResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(args: string[]): Promise<void> {
  const [hostFile, resultFile, logFile, timeout] = args;
  if (hostFile === undefined || resultFile === undefined) {
    process.stderr.write('usage: node dist/src/testing/windowed-run.js HOST.json RESULT.json [LOG] [TIMEOUT_SECONDS]\n');
    process.exitCode = 2;
    return;
  }
  const cfg = parseHostConfig(readFileSync(hostFile, 'utf8'), hostFile);
  const log = logFile !== undefined ? createWriteStream(logFile) : process.stderr;
  const r = await runWindowed(cfg, timeout !== undefined ? Number(timeout) : 900, log);
  if (log !== process.stderr) await new Promise<void>((res) => { (log as NodeJS.WritableStream).end(() => res()); });
  writeFileSync(resultFile, JSON.stringify(r));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => { process.stderr.write(`windowed-run: ${e instanceof Error ? e.stack : String(e)}\n`); process.exitCode = 3; });
}
