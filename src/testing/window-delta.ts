// A benchmark tool: what one VM's counters (src/metrics/counters.ts, as JSON) did between two snapshots of
// windowed-run.ts — exits by class, device interrupts, modelled cost — and the small statistics benchmarks quote.

import type { MetricsJson, Snapshot, WindowedResult } from './windowed-run.js';

/** The serial console: a benchmark's own mark lines go through it, so its exits are left out of I/O figures. */
export const CONSOLE_REGION = 'uart0';

export interface WindowDelta {
  /** Exits by class, every MMIO region but the console's. */
  user: number;
  kernel: number;
  notify: number;
  /** Device interrupts: wired lines other than the timer and the console, plus MSIs written by DMA spaces. */
  interrupts: number;
  /** Modelled hypervisor cost (cost.total), guest-instruction equivalents; and the charges by kind. */
  cost: number;
  charged: Record<string, number>;
  /** Events charged by kind (exits, interrupts, IOTLB misses, copies…), counts rather than cost. */
  events: Record<string, number>;
  /** Guest instructions retired. */
  instructions: number;
}

const sub = (a: number | undefined, b: number | undefined) => (a ?? 0) - (b ?? 0);

function isDeviceInterrupt(name: string): boolean {
  return name !== 'stimecmp' && !name.startsWith(CONSOLE_REGION);
}

export function windowDelta(before: MetricsJson, after: MetricsJson): WindowDelta {
  const d: WindowDelta = { user: 0, kernel: 0, notify: 0, interrupts: 0, cost: 0, charged: {}, events: {}, instructions: 0 };
  for (const [name, r] of Object.entries(after.regions)) {
    if (name === CONSOLE_REGION) continue;
    const b = before.regions[name]?.byClass ?? {};
    d.user += sub(r.byClass['user'], b['user']);
    d.kernel += sub(r.byClass['kernel'], b['kernel']);
    d.notify += sub(r.byClass['notify'], b['notify']);
  }
  for (const [name, n] of Object.entries(after.interrupts)) if (isDeviceInterrupt(name)) d.interrupts += sub(n, before.interrupts[name]);
  for (const [name, s] of Object.entries(after.dma)) d.interrupts += sub(s.msis, before.dma[name]?.msis);
  d.cost = after.cost.total - before.cost.total;
  for (const [k, v] of Object.entries(after.cost.charged)) d.charged[k] = sub(v, before.cost.charged[k]);
  for (const [k, v] of Object.entries(after.cost.events)) d.events[k] = sub(v, before.cost.events[k]);
  d.instructions = after.instructionsRetired - before.instructionsRetired;
  return d;
}

/** Accesses (reads + writes) to registers whose name matches `re`, in every region, between two snapshots. */
export function registerDelta(before: MetricsJson, after: MetricsJson, re: RegExp): number {
  let n = 0;
  for (const [name, r] of Object.entries(after.regions)) {
    for (const [reg, count] of Object.entries(r.registers)) if (re.test(reg)) n += sub(count, before.regions[name]?.registers[reg]);
  }
  return n;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Smallest and largest, for quoting the spread beside a median. */
export function spread(xs: readonly number[]): [number, number] {
  return [Math.min(...xs), Math.max(...xs)];
}

/** A Markdown table from a header row and rows of cells (first column left-aligned, the figures right-aligned). */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n') + '\n';
}

/** A figure with `digits` decimals, or an em dash when there is none. */
export function fmt(x: number, digits = 2): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '—';
}

/** A whole number with thousands separators, or an em dash. */
export function thousands(x: number): string {
  return Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—';
}

// ---- the console's share --------------------------------------------------------------------------------------
// A window opens and closes with a mark line on the serial console, and the console's interrupts and their
// interrupt-controller exits land inside it (the UART region itself is left out above, but the APLIC's
// setipnum writes and the injected interrupts are not the console's alone). A calibration window — two marks
// around an idle `sleep 0.2`, the same shape as a measured window with no I/O in it — measures that share, and
// benchmarks subtract it from every window of the same boot.

/** Calibration windows per boot. */
export const CALIBRATIONS = 3;

/** Guest commands for the calibration windows (labels cal1..calN, marks calI-s and calI-e), one line each. */
export function calibrationScript(): string {
  let s = '';
  for (let i = 1; i <= CALIBRATIONS; i++) s += `echo @@""mark cal${i}-s; sleep 0.2 > /tmp/cal.out 2>&1; echo @@""mark cal${i}-e\n`;
  return s;
}

/** The field-by-field median of several windows. */
export function medianDelta(ds: readonly WindowDelta[]): WindowDelta {
  const m = (f: (d: WindowDelta) => number) => median(ds.map(f));
  const charged: Record<string, number> = {};
  for (const k of Object.keys(ds[0]?.charged ?? {})) charged[k] = m((d) => d.charged[k] ?? 0);
  const events: Record<string, number> = {};
  for (const k of Object.keys(ds[0]?.events ?? {})) events[k] = m((d) => d.events[k] ?? 0);
  return { user: m((d) => d.user), kernel: m((d) => d.kernel), notify: m((d) => d.notify), interrupts: m((d) => d.interrupts),
    cost: m((d) => d.cost), charged, events, instructions: m((d) => d.instructions) };
}

/** `a` less `b`, field by field. */
export function minus(a: WindowDelta, b: WindowDelta): WindowDelta {
  const charged: Record<string, number> = {};
  for (const k of Object.keys(a.charged)) charged[k] = (a.charged[k] ?? 0) - (b.charged[k] ?? 0);
  const events: Record<string, number> = {};
  for (const k of Object.keys(a.events)) events[k] = (a.events[k] ?? 0) - (b.events[k] ?? 0);
  return { user: a.user - b.user, kernel: a.kernel - b.kernel, notify: a.notify - b.notify, interrupts: a.interrupts - b.interrupts,
    cost: a.cost - b.cost, charged, events, instructions: a.instructions - b.instructions };
}

/** The two snapshots `vm` took at LABEL-s and LABEL-e. */
export function marks(r: WindowedResult, vm: string, label: string): [Snapshot, Snapshot] {
  const find = (l: string): Snapshot => {
    const s = r.snapshots.find((x) => x.vm === vm && x.label === l);
    if (s === undefined) throw new Error(`no mark ${l} from ${vm} (how the VMs stopped: ${JSON.stringify(r.exits)})`);
    return s;
  };
  return [find(`${label}-s`), find(`${label}-e`)];
}

/** What the calibration windows `vm` marked cost each VM of the run (the median of CALIBRATIONS windows). */
export function calibration(r: WindowedResult, vm: string): Record<string, WindowDelta> {
  const out: Record<string, WindowDelta> = {};
  const windows = Array.from({ length: CALIBRATIONS }, (_, i) => marks(r, vm, `cal${i + 1}`));
  for (const name of Object.keys(windows[0]![0].metrics)) out[name] = medianDelta(windows.map(([s, e]) => windowDelta(s.metrics[name]!, e.metrics[name]!)));
  return out;
}
