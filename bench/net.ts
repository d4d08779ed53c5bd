// Benchmark: one TCP transfer of the reference guest's iperf 2 (default 2 s of guest time) through each network
// architecture vmio models, and through Debian's qemu-system-riscv64 (TCG) for scale:
//   - e1000 (emulated, every register access an exit) with every optimization off, each one alone (coalesce,
//     txbatch, itr, notify, inkernel) and all on; virtio-net on virtio-pci with EVENT_IDX on and off, its backend
//     priced as a user-space device model (backend=user) or as vhost (backend=kernel);
//   - Xen's split drivers: Linux's xen-netfront on the Xen kernel variant (guest/xen) with vmio's netback;
//   - each VM->VM over the in-process switch (two VMs of one host, deterministic: the primary figure), and, as
//     root, guest->host and host->guest over a TAP device in a network namespace made for the run (iperf -R);
//   - QEMU 7.2 TCG with e1000 and virtio-net-pci on a second TAP in the same namespace, same image, same commands.
// Each configuration boots fresh VMs and runs --runs transfers in that boot; a transfer's figures come from the
// counters between two mark lines the guest prints around it (src/testing/windowed-run.ts).
// Run: vmio bench net [--runs N] [--seconds S]   (or node dist/bench/net.js); VMIO_BENCH_ONLY=REGEX keeps only the
// configurations whose name matches (QEMU's are "QEMU e1000" and "QEMU virtio-net-pci").

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { benchOptions } from '../src/cli/bench-options.js';
import { ensureImage } from '../src/image/paths.js';
import { runWindowedChild, type MetricsJson, type WindowedResult } from '../src/testing/windowed-run.js';
import { haveQemu, runQemuScript, type QemuResult } from '../src/testing/qemu-session.js';
import { CALIBRATIONS, calibration, calibrationScript, fmt, marks, median, minus, spread, table, thousands, windowDelta, type WindowDelta } from '../src/testing/window-delta.js';

/** TCP payload of one full-sized frame (the MSS iperf reports): packets = bytes moved / MSS. */
const MSS = 1448;
export const MEMORY_MIB = 256;
const PORT = 5001;

interface NetConfig { name: string; nic: string }
const CONFIGS: NetConfig[] = [
  { name: 'e1000, all off', nic: 'model=e1000' },
  { name: 'e1000 + coalesce', nic: 'model=e1000,coalesce' },
  { name: 'e1000 + txbatch', nic: 'model=e1000,txbatch' },
  { name: 'e1000 + itr', nic: 'model=e1000,itr' },
  { name: 'e1000 + notify', nic: 'model=e1000,notify' },
  { name: 'e1000 + inkernel', nic: 'model=e1000,inkernel' },
  { name: 'e1000, all on', nic: 'model=e1000,coalesce,txbatch,itr,notify,inkernel' },
  { name: 'virtio-net user, EVENT_IDX on', nic: 'model=virtio-net,transport=pci,backend=user,eventidx=on' },
  { name: 'virtio-net user, EVENT_IDX off', nic: 'model=virtio-net,transport=pci,backend=user,eventidx=off' },
  { name: 'virtio-net kernel, EVENT_IDX on', nic: 'model=virtio-net,transport=pci,backend=kernel,eventidx=on' },
  { name: 'virtio-net kernel, EVENT_IDX off', nic: 'model=virtio-net,transport=pci,backend=kernel,eventidx=off' },
  // Xen's split drivers: Linux's xen-netfront on the Xen kernel variant (guest/xen), vmio's netback; no MMIO at all:
  // hypercalls (SBI ecalls) and event-channel upcalls instead of exits and interrupts.
  { name: 'xen-net (netfront/netback)', nic: 'model=xen-net' },
];
const XEN = 'xen-net (netfront/netback)';
/** The configuration the last line quotes: vmio's default NIC (virtio-net on PCI, EVENT_IDX on), VM->VM. */
const HEADLINE = 'virtio-net user, EVENT_IDX on';

// ---- guest scripts ---------------------------------------------------------------------------------------------

const STATS = '/sys/class/net/eth0/statistics';
/** `echo @@""x` prints "@@x" while the shell's echo of the typed command shows `@@""x`, which never matches. */
const mark = (what: string) => `echo @@""${what}`;
/** The driver's frame counters and TCP's retransmitted segments (/proc/net/snmp, field 13 of the second Tcp: line). */
const stat = (label: string) => `${mark('stat')} ${label} $(cat ${STATS}/tx_packets) $(cat ${STATS}/rx_packets) ` +
  `$(grep Tcp: /proc/net/snmp | tail -n 1 | cut -d' ' -f13)`;

/** Brings eth0 up, turns off TCP's per-destination metrics cache (so every run starts alike), waits for the peer. */
export function setup(ip: string, peer: string | null): string {
  const wait = peer === null ? '' : `; for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do ping -c 1 -W 1 ${peer} > /dev/null && break; done; sleep 1`;
  return `ip addr add ${ip}/24 dev eth0; ip link set eth0 up; echo 1 > /proc/sys/net/ipv4/tcp_no_metrics_save${wait}\n`;
}

/**
 * A shell function for one marked transfer, `t LABEL [IPERF ARGS]`: the driver's frame counters, a mark, iperf
 * (its report kept off the console until the window is closed), a mark, the counters, then the report.
 */
function transferFunction(server: string, seconds: number): string {
  return `t() { ${stat('$1-s')}; ${mark('mark')} $1-s; iperf -c ${server} -t ${seconds} $2 -y C < /dev/null > /tmp/$1.out 2>&1; ` +
    `${mark('mark')} $1-e; ${stat('$1-e')}; sed "s/^/@@out $1 /" /tmp/$1.out; }\n`;
}

/** The client's script: --runs transfers per direction (hg: iperf -R, the server sends), then @@done (which stops every VM). */
export function clientScript(ip: string, server: string, dirs: readonly Direction[], runs: number, seconds: number): string {
  const each = dirs.map((d) => `t ${d}$i${d === 'hg' ? ' -R' : ''}`).join('; ');
  const list = Array.from({ length: runs }, (_, i) => i + 1).join(' ');
  return setup(ip, server) + calibrationScript() + transferFunction(server, seconds) + `for i in ${list}; do ${each}; done; ${mark('done')}\n`;
}

// ---- what one transfer measured -------------------------------------------------------------------------------

/** vv: VM->VM over the switch; gh: guest->host over TAP; hg: host->guest (iperf -R: the host's server sends). */
export type Direction = 'vv' | 'gh' | 'hg';

export interface Transfer {
  /** What the guest's iperf client reported: bytes and bits/s, in guest time. */
  bytes: number;
  bps: number;
  packets: number;
  wallSeconds: number;
  guestSeconds: number;
  cpuUs: number;
  /** Counters of the VM that sends the data and of the one that receives it (null: the host's side). */
  tx: WindowDelta | null;
  rx: WindowDelta | null;
  /** Frames the client guest's driver counted each way during the transfer, per packet. */
  driverTx: number;
  driverRx: number;
  /** TCP segments the client guest retransmitted during the transfer (a sign of frames dropped on the way). */
  retransmits: number;
  /** The host iperf's figure (bits/s over host wall time) when the host was the peer. */
  hostBps: number | null;
  /** Xen counters of the sending and the receiving VM (xen-net only). */
  xenTx: XenDelta | null;
  xenRx: XenDelta | null;
}

/** What a Xen guest's hypervisor did over a window (the 'xen' device report of src/devices/xen/host.ts). */
interface XenDelta { hypercalls: number; toVmio: number; toGuest: number; upcalls: number; suppressed: number; copies: number; bytes: number }

interface XenReport {
  evtchn: { toVmio: number; toGuest: number; upcalls: number };
  guests: Record<string, { hypercalls: { total: number }; grants: { copies: number; bytes: number } }>;
  vifs: Record<string, { txRing: { suppressed: number }; rxRing: { suppressed: number } }>;
}

function xenDelta(before: MetricsJson | undefined, after: MetricsJson | undefined): XenDelta | null {
  const b = before?.devices?.['xen'] as XenReport | undefined;
  const a = after?.devices?.['xen'] as XenReport | undefined;
  if (a === undefined || b === undefined) return null;
  const sum = (r: XenReport, f: (g: XenReport['guests'][string]) => number) => Object.values(r.guests).reduce((s, g) => s + f(g), 0);
  const supp = (r: XenReport) => Object.values(r.vifs).reduce((s, v) => s + v.txRing.suppressed + v.rxRing.suppressed, 0);
  return {
    hypercalls: sum(a, (g) => g.hypercalls.total) - sum(b, (g) => g.hypercalls.total),
    toVmio: a.evtchn.toVmio - b.evtchn.toVmio, toGuest: a.evtchn.toGuest - b.evtchn.toGuest, upcalls: a.evtchn.upcalls - b.evtchn.upcalls,
    suppressed: supp(a) - supp(b),
    copies: sum(a, (g) => g.grants.copies) - sum(b, (g) => g.grants.copies), bytes: sum(a, (g) => g.grants.bytes) - sum(b, (g) => g.grants.bytes),
  };
}

interface CsvReport { bytes: number; bps: number; ports: number[] }

function parseCsv(line: string): CsvReport | null {
  const f = line.split(',');
  if (f.length < 9 || !/^\d{14}$/.test(f[0]!)) return null;
  const bytes = Number(f[7]);
  const bps = Number(f[8]);
  if (!Number.isFinite(bytes) || !Number.isFinite(bps)) return null;
  return { bytes, bps, ports: [Number(f[2]), Number(f[4])] };
}

/** The guest's iperf output for `label` (lines printed as "@@out LABEL ..."), its CSV report if any. */
function outputOf(lines: readonly string[], label: string): { csv: CsvReport | null; text: string } {
  const prefix = `@@out ${label} `;
  const mine = lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
  let csv: CsvReport | null = null;
  for (const l of mine) csv = parseCsv(l) ?? csv;
  return { csv, text: mine.join(' / ') };
}

/** The client guest's counters at a mark: driver frames sent and received, TCP segments retransmitted. */
function driverCounters(lines: readonly string[], label: string): [number, number, number] | null {
  const re = new RegExp(`^@@stat ${label} (\\d+) (\\d+) (\\d+)$`);
  for (const l of lines) { const m = re.exec(l); if (m !== null) return [Number(m[1]), Number(m[2]), Number(m[3])]; }
  return null;
}

/**
 * The host iperf server's report of the connection the guest's report names, matched on the guest's port among the
 * lines the server printed during this boot (a deterministic guest picks the same ports in every boot).
 */
function hostReport(hostLines: readonly string[], guest: CsvReport): number | null {
  const port = guest.ports.find((p) => p !== PORT);
  for (const l of hostLines) {
    const r = parseCsv(l);
    if (r !== null && port !== undefined && r.ports.includes(port)) return r.bps;
  }
  return null;
}

class TransferError extends Error {}

function vmioTransfer(r: WindowedResult, client: string, label: string, dir: Direction, hostLines: readonly string[]): Transfer {
  const [s, e] = marks(r, client, label);
  const lines = r.lines[client] ?? [];
  const out = outputOf(lines, label);
  if (out.csv === null) throw new TransferError(`iperf printed no report for ${label}: ${out.text || '(nothing)'}`);
  const packets = out.csv.bytes / MSS;
  // Each VM's counters over the transfer, less what an idle window of the same boot costs (the console's share).
  const idle = calibration(r, client);
  const delta = (vm: string) => minus(windowDelta(s.metrics[vm]!, e.metrics[vm]!), idle[vm]!);
  const other = Object.keys(e.metrics).find((n) => n !== client);
  const mine = delta(client);
  const peer = other !== undefined ? delta(other) : null;
  const xenMine = xenDelta(s.metrics[client], e.metrics[client]);
  const xenPeer = other !== undefined ? xenDelta(s.metrics[other], e.metrics[other]) : null;
  const c0 = driverCounters(lines, `${label}-s`);
  const c1 = driverCounters(lines, `${label}-e`);
  return {
    bytes: out.csv.bytes, bps: out.csv.bps, packets,
    wallSeconds: (e.wallNs - s.wallNs) / 1e9, guestSeconds: (e.ticks - s.ticks) / 1e7, cpuUs: e.cpuUs - s.cpuUs,
    tx: dir === 'hg' ? null : mine, rx: dir === 'hg' ? mine : peer,
    driverTx: c0 && c1 ? (c1[0] - c0[0]) / packets : NaN, driverRx: c0 && c1 ? (c1[1] - c0[1]) / packets : NaN,
    retransmits: c0 && c1 ? c1[2] - c0[2] : NaN, hostBps: dir === 'vv' ? null : hostReport(hostLines, out.csv),
    xenTx: dir === 'hg' ? null : xenMine, xenRx: dir === 'hg' ? xenMine : xenPeer,
  };
}

function qemuTransfer(q: QemuResult, label: string, hostLines: readonly string[]): Transfer {
  const s = q.marks.find((m) => m.label === `${label}-s`);
  const e = q.marks.find((m) => m.label === `${label}-e`);
  if (s === undefined || e === undefined) throw new TransferError(`no marks for ${label} from QEMU's guest`);
  const out = outputOf(q.lines, label);
  if (out.csv === null) throw new TransferError(`iperf printed no report for ${label}: ${out.text || '(nothing)'}`);
  const packets = out.csv.bytes / MSS;
  const c0 = driverCounters(q.lines, `${label}-s`);
  const c1 = driverCounters(q.lines, `${label}-e`);
  const wall = (e.wallNs - s.wallNs) / 1e9;
  return {
    bytes: out.csv.bytes, bps: out.csv.bps, packets, wallSeconds: wall, guestSeconds: wall,
    cpuUs: s.cpuUs >= 0 && e.cpuUs >= 0 ? e.cpuUs - s.cpuUs : NaN, tx: null, rx: null,
    driverTx: c0 && c1 ? (c1[0] - c0[0]) / packets : NaN, driverRx: c0 && c1 ? (c1[1] - c0[1]) / packets : NaN,
    retransmits: c0 && c1 ? c1[2] - c0[2] : NaN, hostBps: hostReport(hostLines, out.csv), xenTx: null, xenRx: null,
  };
}

// ---- running the configurations ------------------------------------------------------------------------------

export interface Row { config: string; dir: Direction; transfers: Transfer[]; runSeconds: number; error: string | null }

const mbit = (bps: number) => bps / 1e6;

export function say(s: string): void { process.stdout.write(s + '\n'); }

/** Per-packet figures of one side (medians over the transfers). */
export interface PerPacket { user: number; kernel: number; notify: number; irq: number; cost: number }

/** A row's medians over its transfers: what the progress lines and the tables print. */
export interface Summary {
  mbit: number; hostMbit: number; wall: number; guest: number; cpuPerPacket: number;
  driverTx: number; driverRx: number; tx: PerPacket | null; rx: PerPacket | null;
}

function perPacket(t: Transfer[], side: (x: Transfer) => WindowDelta | null): PerPacket | null {
  if (t.some((x) => side(x) === null)) return null;
  const m = (f: (d: WindowDelta) => number) => median(t.map((x) => f(side(x)!) / x.packets));
  return { user: m((d) => d.user), kernel: m((d) => d.kernel), notify: m((d) => d.notify), irq: m((d) => d.interrupts), cost: m((d) => d.cost) };
}

export function summary(r: Row): Summary | null {
  const t = r.transfers;
  if (r.error !== null || t.length === 0) return null;
  const host = t.map((x) => x.hostBps).filter((x): x is number => x !== null);
  return {
    mbit: median(t.map((x) => mbit(x.bps))), hostMbit: host.length > 0 ? mbit(median(host)) : NaN,
    wall: median(t.map((x) => x.wallSeconds)), guest: median(t.map((x) => x.guestSeconds)), cpuPerPacket: median(t.map((x) => x.cpuUs / x.packets)),
    driverTx: median(t.map((x) => x.driverTx)), driverRx: median(t.map((x) => x.driverRx)),
    tx: perPacket(t, (x) => x.tx), rx: perPacket(t, (x) => x.rx),
  };
}

export const exitsCell = (p: PerPacket | null) => (p === null ? '—' : `${fmt(p.user)} / ${fmt(p.kernel)} / ${fmt(p.notify)}`);
const DIRECTION: Record<Direction, string> = { vv: 'VM->VM', gh: 'guest->host', hg: 'host->guest' };

export function progress(kind: string, r: Row): void {
  const m = summary(r);
  if (m === null) { say(`${kind} ${DIRECTION[r.dir]} ${r.config}: FAILED: ${r.error ?? 'no transfers'}`); return; }
  const side = (what: string, p: PerPacket | null) => p === null ? '' :
    ` ${what} exits/pkt ${exitsCell(p)}, irq/pkt ${fmt(p.irq, 3)}, cost/pkt ${thousands(p.cost)};`;
  say(`${kind} ${DIRECTION[r.dir]} ${r.config}: ${fmt(m.mbit)} Mbit/s (runs ${r.transfers.map((x) => fmt(mbit(x.bps))).join(' ')})` +
    (Number.isFinite(m.hostMbit) ? `, host iperf ${fmt(m.hostMbit)} Mbit/s` : '') +
    `; per transfer ${fmt(m.wall)} s wall, ${fmt(m.guest)} s guest; driver frames/pkt tx ${fmt(m.driverTx)} rx ${fmt(m.driverRx)}; ` +
    `client's TCP retransmits ${r.transfers.map((x) => x.retransmits).join(' ')};` +
    side('sender', m.tx) + side('receiver', m.rx) + ` host CPU ${fmt(m.cpuPerPacket, 1)} µs/pkt; boot + all transfers ${fmt(r.runSeconds, 1)} s`);
}

/**
 * One VM->VM configuration: `vms` lays out the host file given the client's and the server's console scripts (the
 * client VM is named 'a'); returns its transfers.
 */
export async function runVmToVm(config: string, vms: (client: string, server: string) => object[], runs: number, seconds: number): Promise<Row> {
  const row: Row = { config, dir: 'vv', transfers: [], runSeconds: 0, error: null };
  const server = `${setup('10.0.0.2', null).trim()}; iperf -s < /dev/null > /dev/null 2>&1 & sleep 1000000\n`;
  try {
    const r = await runWindowedChild({ vms: vms(clientScript('10.0.0.1', '10.0.0.2', ['vv'], runs, seconds), server) }, { timeoutSeconds: 900 });
    row.runSeconds = r.wallSeconds;
    for (let i = 1; i <= runs; i++) row.transfers.push(vmioTransfer(r, 'a', `vv${i}`, 'vv', []));
  } catch (e) {
    row.error = (e as Error).message;
  }
  return row;
}

async function vmToVm(c: NetConfig, runs: number, seconds: number): Promise<Row> {
  const nic = `switch=lan,${c.nic}`;
  return runVmToVm(c.name, (client, server) => [
    { name: 'a', memory: MEMORY_MIB, nics: [nic], input: client },
    { name: 'b', memory: MEMORY_MIB, nics: [nic], input: server },
  ], runs, seconds);
}

/** The host server's lines since index `from`, after a moment for the report of the last connection to arrive. */
async function serverLinesSince(hostLines: readonly string[], from: number): Promise<string[]> {
  await new Promise((r) => setTimeout(r, 300));
  return hostLines.slice(from);
}

async function overTap(c: NetConfig, ns: string, runs: number, seconds: number, hostLines: string[]): Promise<Row[]> {
  const host = { vms: [{ name: 'g', memory: MEMORY_MIB, nics: [`tap=tap0,${c.nic}`], input: clientScript('192.0.2.2', '192.0.2.1', ['gh', 'hg'], runs, seconds) }] };
  const rows: Row[] = (['gh', 'hg'] as const).map((dir) => ({ config: c.name, dir, transfers: [], runSeconds: 0, error: null }));
  const from = hostLines.length;
  try {
    const r = await runWindowedChild(host, { timeoutSeconds: 600, netns: ns });
    const mine = await serverLinesSince(hostLines, from);
    for (const row of rows) {
      row.runSeconds = r.wallSeconds;
      try {
        for (let i = 1; i <= runs; i++) row.transfers.push(vmioTransfer(r, 'g', `${row.dir}${i}`, row.dir, mine));
      } catch (e) { row.error = (e as Error).message; }
    }
  } catch (e) {
    for (const row of rows) row.error = (e as Error).message;
  }
  return rows;
}

async function qemu(model: string, ns: string, img: { kernel: string; initrd: string }, runs: number, seconds: number, hostLines: string[]): Promise<Row[]> {
  const args = ['-M', 'virt', '-m', String(MEMORY_MIB), '-nographic', '-kernel', img.kernel, '-initrd', img.initrd, '-append', 'console=ttyS0',
    '-netdev', 'tap,id=n0,ifname=tap1,script=no,downscript=no', '-device', `${model},netdev=n0,romfile=`]; // no option ROM: Debian's riscv64 QEMU does not ship efi-*.rom
  const name = `QEMU ${model}`;
  const rows: Row[] = (['gh', 'hg'] as const).map((dir) => ({ config: name, dir, transfers: [], runSeconds: 0, error: null }));
  const from = hostLines.length;
  try {
    const q = await runQemuScript({ args, netns: ns, timeoutSeconds: 600, script: clientScript('198.51.100.2', '198.51.100.1', ['gh', 'hg'], runs, seconds) });
    const mine = await serverLinesSince(hostLines, from);
    for (const row of rows) {
      row.runSeconds = q.wallSeconds;
      try {
        for (let i = 1; i <= runs; i++) row.transfers.push(qemuTransfer(q, `${row.dir}${i}`, mine));
      } catch (e) { row.error = (e as Error).message; }
    }
  } catch (e) {
    for (const row of rows) row.error = (e as Error).message;
  }
  return rows;
}

// ---- the namespace -------------------------------------------------------------------------------------------

function ip(args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${(r.stderr ?? '').trim()}`);
}

/** A namespace with tap0 (vmio, 192.0.2.1/24) and tap1 (QEMU, 198.51.100.1/24), and iperf -s in it. */
class Namespace {
  readonly name = `vmio-bench-net-${process.pid}`;
  readonly serverLines: string[] = [];
  private server: ChildProcess | null = null;
  private readonly cleanup = () => this.close();

  open(): void {
    process.once('exit', this.cleanup);
    ip(['netns', 'add', this.name]);
    ip(['-n', this.name, 'link', 'set', 'lo', 'up']);
    for (const [tap, addr] of [['tap0', '192.0.2.1/24'], ['tap1', '198.51.100.1/24']] as const) {
      ip(['-n', this.name, 'tuntap', 'add', 'dev', tap, 'mode', 'tap']);
      ip(['-n', this.name, 'addr', 'add', addr, 'dev', tap]);
      ip(['-n', this.name, 'link', 'set', tap, 'up']);
    }
    const s = spawn('ip', ['netns', 'exec', this.name, 'iperf', '-s', '-y', 'C'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let partial = '';
    s.stdout.setEncoding('utf8').on('data', (d: string) => {
      const parts = (partial + d).split('\n');
      partial = parts.pop() ?? '';
      this.serverLines.push(...parts);
    });
    this.server = s;
  }

  close(): void {
    process.off('exit', this.cleanup);
    if (this.server !== null && this.server.exitCode === null) this.server.kill('SIGTERM');
    this.server = null;
    spawnSync('ip', ['netns', 'del', this.name]);
  }
}

// ---- tables --------------------------------------------------------------------------------------------------

/** The smallest and largest transfer of a row, Mbit/s. */
export const range = (r: Row) => spread(r.transfers.map((x) => mbit(x.bps))).map((x) => fmt(x)).join('–');
const cost = (p: PerPacket | null) => (p === null ? '—' : thousands(p.cost));
const irq = (p: PerPacket | null) => (p === null ? '—' : fmt(p.irq, 3));

function vmTable(rows: Row[], base: number): string {
  return table(
    ['configuration', 'Mbit/s guest time, median (range)', '× e1000 all off', 'wall s', 'exits/pkt sender (user / kernel / notify)', 'exits/pkt receiver (user / kernel / notify)',
      'irq/pkt sender / receiver', 'modelled cost/pkt sender / receiver', 'host CPU µs/pkt (both VMs)'],
    rows.map((r) => {
      const m = summary(r);
      if (m === null) return [r.config, 'failed', '', '', (r.error ?? '').slice(0, 100), '', '', '', ''];
      return [r.config, `${fmt(m.mbit)} (${range(r)})`, fmt(m.mbit / base), fmt(m.wall), exitsCell(m.tx), exitsCell(m.rx),
        `${irq(m.tx)} / ${irq(m.rx)}`, `${cost(m.tx)} / ${cost(m.rx)}`, fmt(m.cpuPerPacket, 1)];
    }));
}

function tapTable(rows: Row[], base: number): string {
  return table(
    ['configuration', 'Mbit/s guest-reported, median (range)', '× e1000 all off', 'Mbit/s host iperf (wall)', 'wall s', 'exits/pkt (user / kernel / notify)', 'irq/pkt', 'modelled cost/pkt', 'host CPU µs/pkt (VMM)'],
    rows.map((r) => {
      const m = summary(r);
      if (m === null) return [r.config, 'failed', '', '', '', (r.error ?? '').slice(0, 100), '', '', ''];
      const p = m.tx ?? m.rx;
      return [r.config, `${fmt(m.mbit)} (${range(r)})`, fmt(m.mbit / base), fmt(m.hostMbit), fmt(m.wall), exitsCell(p), irq(p), cost(p), fmt(m.cpuPerPacket, 1)];
    }));
}

/** Per packet, for the Xen rows: what the hypervisor did for each side (medians over the transfers). */
function xenTable(rows: Row[]): string {
  const per = (r: Row, side: (x: Transfer) => XenDelta | null, f: (d: XenDelta) => number) => {
    const t = r.transfers.filter((x) => side(x) !== null);
    return t.length === 0 ? '—' : fmt(median(t.map((x) => f(side(x)!) / x.packets)), 3);
  };
  const cell = (r: Row, f: (d: XenDelta) => number) => `${per(r, (x) => x.xenTx, f)} / ${per(r, (x) => x.xenRx, f)}`;
  return table(
    ['configuration', 'direction', 'hypercalls/pkt sender / receiver', 'notifications to vmio/pkt', 'notifications to guest/pkt',
      'upcalls/pkt', 'ring notifications suppressed/pkt', 'grant copies/pkt', 'bytes grant-copied/pkt', 'modelled cost/pkt sender / receiver'],
    rows.map((r) => {
      const m = summary(r);
      if (m === null) return [r.config, DIRECTION[r.dir], 'failed', (r.error ?? '').slice(0, 100), '', '', '', '', '', ''];
      return [r.config, DIRECTION[r.dir], cell(r, (d) => d.hypercalls), cell(r, (d) => d.toVmio), cell(r, (d) => d.toGuest), cell(r, (d) => d.upcalls),
        cell(r, (d) => d.suppressed), cell(r, (d) => d.copies), cell(r, (d) => d.bytes), `${cost(m.tx)} / ${cost(m.rx)}`];
    }));
}

const medianMbit = (r: Row | undefined) => (r === undefined ? NaN : summary(r)?.mbit ?? NaN);
const medianHostMbit = (r: Row | undefined) => (r === undefined ? NaN : summary(r)?.hostMbit ?? NaN);

// ---- main ----------------------------------------------------------------------------------------------------

export async function main(args: string[]): Promise<void> {
  const { runs, seconds } = benchOptions(args, { runs: { default: 3, min: 1, max: 20 }, seconds: { default: 2, min: 1, max: 60 } });
  const img = await ensureImage({ quiet: true });
  const t0 = Date.now();
  say(`command: vmio bench net --runs ${runs} --seconds ${seconds}   (node ${process.version}, ${process.platform}/${process.arch}, ${spawnSync('nproc').stdout?.toString().trim()} cores, load ${spawnSync('cat', ['/proc/loadavg']).stdout?.toString().split(' ').slice(0, 3).join(' ')})`);
  say(`each transfer: iperf -c SERVER -t ${seconds} -y C in the guest (TCP, iperf 2.1.8); ${runs} transfers per configuration in one boot, ` +
    `guests of ${MEMORY_MIB} MiB, cost profile kvm-x86, deterministic time`);
  say(`packets = bytes iperf moved / ${MSS} (one full-sized 1500-byte IP packet per ${MSS} payload bytes; the guest driver's own frame counts ` +
    `are printed per configuration); exits = MMIO exits of every region but the console UART; irq = device interrupts (wired lines and MSIs, ` +
    `not the timer or the console); cost = cost.total, guest-instruction equivalents; each of these less the median of ${CALIBRATIONS} idle ` +
    `windows of the same boot (the mark lines' own console interrupts); host CPU = the VMM process's user + system time`);

  const isRoot = process.getuid?.() === 0;
  const hasTools = spawnSync('ip', ['-V']).status === 0 && spawnSync('iperf', ['-v']).error === undefined;
  const tapSkip = !isRoot ? 'not root (a TAP device and a network namespace need root)' : !hasTools ? 'ip (iproute2) or iperf is missing: apt-get install -y iperf iproute2' : null;

  const only = process.env['VMIO_BENCH_ONLY'] !== undefined ? new RegExp(process.env['VMIO_BENCH_ONLY']) : null;
  const configs = CONFIGS.filter((c) => only === null || only.test(c.name));
  const qemuModels = ['e1000', 'virtio-net-pci'].filter((m) => only === null || only.test(`QEMU ${m}`));
  // xen-net boots the Xen kernel variant: build it here if missing, not inside a VM's (timed) start.
  if (configs.some((c) => c.nic.includes('model=xen-net'))) await ensureImage({ quiet: true, variant: 'xen' });
  if (only !== null) say(`VMIO_BENCH_ONLY=${only.source}: ${[...configs.map((c) => c.name), ...qemuModels.map((m) => `QEMU ${m}`)].join(', ') || 'nothing'}`);
  const vv: Row[] = [];
  for (const c of configs) { const r = await vmToVm(c, runs, seconds); vv.push(r); progress('vmio', r); }

  const gh: Row[] = [];
  const hg: Row[] = [];
  const q: Row[] = [];
  if (tapSkip !== null) {
    say(`TAP and QEMU runs skipped: ${tapSkip}`);
  } else {
    const ns = new Namespace();
    const stop = () => { ns.close(); process.exit(130); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      ns.open();
      say(`network namespace ${ns.name}: tap0 192.0.2.1/24 (vmio's guest 192.0.2.2), tap1 198.51.100.1/24 (QEMU's guest 198.51.100.2), iperf -s on the host side`);
      for (const c of configs) {
        const [a, b] = await overTap(c, ns.name, runs, seconds, ns.serverLines);
        gh.push(a!); hg.push(b!); progress('vmio', a!); progress('vmio', b!);
      }
      if (haveQemu()) {
        for (const model of qemuModels) {
          const [a, b] = await qemu(model, ns.name, img, runs, seconds, ns.serverLines);
          q.push(a!, b!); progress('qemu', a!); progress('qemu', b!);
        }
      } else {
        say('qemu-system-riscv64 is not installed (Debian package qemu-system-misc): no comparison');
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      ns.close();
    }
  }

  say('');
  say(`VM->VM over the in-process switch (guest a's iperf client sends to guest b's server). Deterministic: every invocation repeats the same ` +
    `transfers to the last counter; but transfers within one boot differ from each other (TCP and timer state), and any change to the guests' ` +
    `scripts moves every figure by as much, so differences within the range are not significant. Wall and CPU are noisy.`);
  const BASE = 'e1000, all off';
  const byName = (rows: Row[], name: string) => rows.find((r) => r.config === name);
  const base = medianMbit(byName(vv, BASE));
  process.stdout.write(vmTable(vv, base));
  if (gh.length > 0) {
    say('');
    say('guest->host over TAP (guest iperf client, host iperf -s in the namespace)');
    process.stdout.write(tapTable(gh, medianMbit(byName(gh, BASE))));
    say('');
    say('host->guest over TAP (guest iperf -c -R: the host side sends)');
    process.stdout.write(tapTable(hg, medianMbit(byName(hg, BASE))));
  }
  if (q.length > 0) {
    say('');
    say('QEMU 7.2 TCG, same image and commands on tap1 (no cost model: the guest clock is the host clock, so its figures are real time)');
    process.stdout.write(table(['NIC', 'direction', 'Mbit/s guest-reported', 'Mbit/s host iperf (wall)', 'wall s', 'driver frames/pkt tx / rx', 'host CPU µs/pkt (QEMU)'],
      q.map((r) => {
        const m = summary(r);
        if (m === null) return [r.config, DIRECTION[r.dir], 'failed', '', '', (r.error ?? '').slice(0, 100), ''];
        return [r.config, DIRECTION[r.dir], fmt(m.mbit), fmt(m.hostMbit), fmt(m.wall), `${fmt(m.driverTx)} / ${fmt(m.driverRx)}`, fmt(m.cpuPerPacket, 1)];
      })));
    say('');
    const qe = (model: string, dir: Direction) => q.find((r) => r.config === `QEMU ${model}` && r.dir === dir);
    for (const [vmio, qr, what] of [[byName(gh, BASE), qe('e1000', 'gh'), 'e1000 guest->host'], [byName(hg, BASE), qe('e1000', 'hg'), 'e1000 host->guest'],
      [byName(gh, HEADLINE), qe('virtio-net-pci', 'gh'), 'virtio-net guest->host'], [byName(hg, HEADLINE), qe('virtio-net-pci', 'hg'), 'virtio-net host->guest']] as const) {
      if (vmio === undefined || qr === undefined) continue;
      say(`real throughput (host iperf, wall clock) ${what}: vmio ${fmt(medianHostMbit(vmio))} Mbit/s, QEMU ${fmt(medianHostMbit(qr))} Mbit/s, QEMU/vmio ${fmt(medianHostMbit(qr) / medianHostMbit(vmio), 1)}x`);
    }
  }
  const xenRows = [...vv, ...gh, ...hg].filter((r) => r.config === XEN);
  if (xenRows.length > 0) {
    say('');
    say('xen-net per packet (sender / receiver; a TAP side is the host): hypercalls = SBI ecalls to the Xen EID (event sends, unmasks, ...), ' +
      'notifications = event-channel sends each way, upcalls = PV event interrupts injected, suppressed = ring pushes whose event index ' +
      'asked for no notification, grant copies and bytes = netback GNTTABOP_copy work (the data path; there is no DMA or MMIO exit)');
    process.stdout.write(xenTable(xenRows));
  }
  const spreadOf = (r: Row | undefined) => (r === undefined || r.error !== null ? '' : range(r));
  const head = vv.find((r) => r.config === HEADLINE);
  say('');
  say(`the machine is shared (2 cores, other work running): wall-clock and CPU figures are noisy; guest-time figures over the switch are not. Total ${fmt((Date.now() - t0) / 1000, 0)} s.`);
  say(`VM->VM ${HEADLINE}: runs ${spreadOf(head)} Mbit/s; virtio-net/e1000 (all off): ${fmt(medianMbit(head) / base, 1)}x`);
  say(`net: ${fmt(medianMbit(head))} Mbit/s`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => { console.error(`bench net: ${e instanceof Error ? e.message : String(e)}`); process.exitCode = 1; });
}
