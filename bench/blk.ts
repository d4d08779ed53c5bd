// Benchmark: virtio-blk sequential write and read inside the reference guest — busybox dd on /dev/vda with
// O_DIRECT (oflag=direct / iflag=direct, so the guest's page cache is out of the way), 1 MiB and 4 KiB blocks —
// with VIRTIO_RING_F_EVENT_IDX on and off, beside Debian's qemu-system-riscv64 (TCG) virtio-blk-pci on the same
// kind of image file with event_idx on and off. Per request (the guest's /sys/block/vda/stat I/O counts): doorbell
// writes (notifications), interrupts (MSI-X), exits and modelled hypervisor cost from vmio's counters, and the
// VMM's host CPU time. Each configuration boots once and runs --runs rounds; a dd's figures come from the
// counters between two mark lines the guest prints around it (src/testing/windowed-run.ts).
// Both VMMs read and write the image through the host's page cache (vmio: plain file I/O; QEMU: cache=writeback).
// Run: vmio bench blk [--runs N] [--mib N]   (or node dist/bench/blk.js)

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchOptions } from '../src/cli/bench-options.js';
import { ensureImage } from '../src/image/paths.js';
import { runWindowedChild, type WindowedResult } from '../src/testing/windowed-run.js';
import { haveQemu, runQemuScript, type QemuResult } from '../src/testing/qemu-session.js';
import { CALIBRATIONS, calibration, calibrationScript, fmt, marks, median, minus, registerDelta, table, thousands, windowDelta, type WindowDelta } from '../src/testing/window-delta.js';

const MEMORY_MIB = 256;
const VMIO_ON = 'vmio, EVENT_IDX on';
const QEMU_ON = 'QEMU 7.2 TCG, event_idx on';
/** 4 KiB blocks: this many MiB per dd (each block is one request, so this is about request overhead). */
const SMALL_MIB = 2;

interface Test { name: string; op: 'write' | 'read'; bs: string; bytes: number; dd: string }
function tests(mib: number): Test[] {
  const small = (SMALL_MIB * 1024 * 1024) / 4096;
  return [
    { name: 'w1m', op: 'write', bs: '1 MiB', bytes: mib * 1048576, dd: `dd if=/dev/zero of=/dev/vda bs=1M count=${mib} oflag=direct` },
    { name: 'r1m', op: 'read', bs: '1 MiB', bytes: mib * 1048576, dd: `dd if=/dev/vda of=/dev/null bs=1M count=${mib} iflag=direct` },
    { name: 'w4k', op: 'write', bs: '4 KiB', bytes: SMALL_MIB * 1048576, dd: `dd if=/dev/zero of=/dev/vda bs=4k count=${small} oflag=direct` },
    { name: 'r4k', op: 'read', bs: '4 KiB', bytes: SMALL_MIB * 1048576, dd: `dd if=/dev/vda of=/dev/null bs=4k count=${small} iflag=direct` },
  ];
}

const mark = (what: string) => `echo @@""${what}`;

/**
 * The guest's script: calibration windows, then a shell function for one marked dd, `t LABEL DD ARGS...` (the
 * block layer's counters, a mark, dd with its report kept off the console until the window is closed, a mark, the
 * counters, the report), called for each test of each round.
 */
function script(mib: number, runs: number): string {
  let s = calibrationScript();
  s += `t() { l=$1; shift; ${mark('stat')} $l-s $(cat /sys/block/vda/stat); ${mark('mark')} $l-s; "$@" > /tmp/$l.out 2>&1; ` +
    `${mark('mark')} $l-e; ${mark('stat')} $l-e $(cat /sys/block/vda/stat); sed "s/^/@@out $l /" /tmp/$l.out; }\n`;
  const each = tests(mib).map((t) => `t ${t.name}-$i ${t.dd}`).join('; ');
  return s + `for i in ${Array.from({ length: runs }, (_, i) => i + 1).join(' ')}; do ${each}; done; ${mark('done')}\n`;
}

interface Run {
  /** What dd reported (guest time). */
  mbps: number;
  requests: number;
  wallSeconds: number;
  cpuUs: number;
  /** vmio's counters (null under QEMU). */
  d: WindowDelta | null;
  notifications: number;
}

class RunError extends Error {}

/** dd's "N bytes (…) copied, S seconds, …": MB/s as 10^6 bytes per second of the guest's clock. */
function ddRate(lines: readonly string[], label: string): number {
  const prefix = `@@out ${label} `;
  for (const l of lines) {
    if (!l.startsWith(prefix)) continue;
    const m = /^(\d+) bytes .* copied, ([\d.]+) seconds/.exec(l.slice(prefix.length));
    if (m !== null) return Number(m[1]) / Number(m[2]) / 1e6;
  }
  const said = lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length)).join(' / ');
  throw new RunError(`dd printed no rate for ${label}: ${said || '(nothing)'}`);
}

/** Requests the guest's block layer completed between the two stat lines (reads + writes + flushes). */
function requests(lines: readonly string[], label: string): number {
  const stat = (which: string) => {
    const l = lines.find((x) => x.startsWith(`@@stat ${label}-${which} `));
    if (l === undefined) throw new RunError(`no /sys/block/vda/stat line for ${label}`);
    return l.trim().split(/\s+/).slice(2).map(Number);
  };
  const a = stat('s');
  const b = stat('e');
  // Fields: reads, read merges, sectors, ticks, writes, write merges, sectors, ticks, in flight, io ticks, queue
  // time, discards (4 fields), flushes, flush ticks.
  const at = (f: number[], i: number) => f[i] ?? 0;
  return at(b, 0) - at(a, 0) + at(b, 4) - at(a, 4) + at(b, 15) - at(a, 15);
}

interface Row { config: string; test: Test; runs: Run[]; error: string | null }

async function vmio(name: string, drive: string, mib: number, runs: number): Promise<Row[]> {
  const host = { vms: [{ name: 'g', memory: MEMORY_MIB, drives: [drive], input: script(mib, runs) }] };
  const rows: Row[] = tests(mib).map((test) => ({ config: name, test, runs: [], error: null }));
  let r: WindowedResult;
  try {
    r = await runWindowedChild(host, { timeoutSeconds: 600 });
  } catch (e) {
    for (const row of rows) row.error = (e as Error).message;
    return rows;
  }
  const lines = r.lines['g'] ?? [];
  for (const row of rows) {
    try {
      // The console's share of a window (its mark lines' interrupts), measured in idle windows of the same boot.
      const idle = calibration(r, 'g')['g']!;
      for (let i = 1; i <= runs; i++) {
        const l = `${row.test.name}-${i}`;
        const [s, e] = marks(r, 'g', l);
        row.runs.push({
          mbps: ddRate(lines, l), requests: requests(lines, l), wallSeconds: (e.wallNs - s.wallNs) / 1e9, cpuUs: e.cpuUs - s.cpuUs,
          d: minus(windowDelta(s.metrics['g']!, e.metrics['g']!), idle),
          notifications: registerDelta(s.metrics['g']!, e.metrics['g']!, /^(notify\d+|QueueNotify)$/),
        });
      }
    } catch (e) { row.error = (e as Error).message; }
  }
  return rows;
}

async function qemu(name: string, image: string, eventIdx: boolean, img: { kernel: string; initrd: string }, mib: number, runs: number): Promise<Row[]> {
  const args = ['-M', 'virt', '-m', String(MEMORY_MIB), '-nographic', '-kernel', img.kernel, '-initrd', img.initrd, '-append', 'console=ttyS0',
    '-drive', `file=${image},format=raw,if=none,id=d0,cache=writeback`, '-device', `virtio-blk-pci,drive=d0,event_idx=${eventIdx ? 'on' : 'off'}`];
  const rows: Row[] = tests(mib).map((test) => ({ config: name, test, runs: [], error: null }));
  let q: QemuResult;
  try {
    q = await runQemuScript({ args, script: script(mib, runs), timeoutSeconds: 600 });
  } catch (e) {
    for (const row of rows) row.error = (e as Error).message;
    return rows;
  }
  for (const row of rows) {
    try {
      for (let i = 1; i <= runs; i++) {
        const l = `${row.test.name}-${i}`;
        const s = q.marks.find((x) => x.label === `${l}-s`);
        const e = q.marks.find((x) => x.label === `${l}-e`);
        if (s === undefined || e === undefined) throw new RunError(`no marks for ${l} from QEMU's guest`);
        row.runs.push({ mbps: ddRate(q.lines, l), requests: requests(q.lines, l), wallSeconds: (e.wallNs - s.wallNs) / 1e9,
          cpuUs: s.cpuUs >= 0 && e.cpuUs >= 0 ? e.cpuUs - s.cpuUs : NaN, d: null, notifications: NaN });
      }
    } catch (e) { row.error = (e as Error).message; }
  }
  return rows;
}

/** Host CPU per request; QEMU's comes from /proc in 10 ms ticks, so under 50 ms in all its runs it is not quoted. */
function cpuCell(r: Row, vmio: boolean): string {
  const total = r.runs.reduce((n, x) => n + x.cpuUs, 0);
  if (!vmio && !(total >= 50_000)) return `— (${fmt(total / 1000, 0)} ms in all)`;
  return fmt(total / r.runs.reduce((n, x) => n + x.requests, 0), 1);
}

function say(s: string): void { process.stdout.write(s + '\n'); }

export async function main(args: string[]): Promise<void> {
  const { runs, mib } = benchOptions(args, { runs: { default: 3, min: 1, max: 20 }, mib: { default: 16, min: 1, max: 512 } });
  const img = await ensureImage({ quiet: true });
  const t0 = Date.now();
  say(`command: vmio bench blk --runs ${runs} --mib ${mib}   (node ${process.version}, ${process.platform}/${process.arch}, load ${spawnSync('cat', ['/proc/loadavg']).stdout?.toString().split(' ').slice(0, 3).join(' ')})`);
  say(`in the guest (busybox 1.35 dd, O_DIRECT): dd if=/dev/zero of=/dev/vda bs=1M count=${mib} oflag=direct, dd if=/dev/vda of=/dev/null bs=1M count=${mib} iflag=direct, ` +
    `and the same with bs=4k over ${SMALL_MIB} MiB; ${runs} rounds in one boot per configuration; guests of ${MEMORY_MIB} MiB; vmio: cost profile kvm-x86, deterministic time`);
  say('MB/s = 10^6 bytes per second as dd measures it on the guest clock; requests = reads + writes + flushes the guest completed (/sys/block/vda/stat); ' +
    `notifications = doorbell writes; irq = device interrupts (MSI-X messages); exits = MMIO exits of every region but the console UART; ` +
    `exits, irq and cost are less the median of ${CALIBRATIONS} idle windows of the same boot (the mark lines' own console interrupts); ` +
    'host CPU = the VMM process\'s user + system time (QEMU\'s from /proc at 10 ms resolution)');
  const dir = mkdtempSync(join(tmpdir(), 'vmio-bench-blk-'));
  const rows: Row[] = [];
  const progress = (rs: Row[]) => {
    for (const r of rs) {
      say(r.error !== null ? `${r.config} ${r.test.name}: FAILED: ${r.error}`
        : `${r.config} ${r.test.op} ${r.test.bs}: ${fmt(median(r.runs.map((x) => x.mbps)))} MB/s (runs ${r.runs.map((x) => fmt(x.mbps)).join(' ')}), ` +
          `${fmt(median(r.runs.map((x) => r.test.bytes / 1024 / x.requests)), 0)} KiB/request, ${fmt(median(r.runs.map((x) => x.wallSeconds)))} s wall`);
    }
  };
  try {
    const image = join(dir, 'disk.img');
    const size = Math.max(mib, SMALL_MIB) * 1048576 + 1048576;
    writeFileSync(image, new Uint8Array(0));
    spawnSync('truncate', ['-s', String(size), image]);
    for (const [name, drive] of [[VMIO_ON, image], ['vmio, EVENT_IDX off', `${image},eventidx=off`]] as const) {
      const rs = await vmio(name, drive, mib, runs);
      rows.push(...rs); progress(rs);
    }
    if (haveQemu()) {
      for (const [name, on] of [[QEMU_ON, true], ['QEMU 7.2 TCG, event_idx off', false]] as const) {
        const rs = await qemu(name, image, on, img, mib, runs);
        rows.push(...rs); progress(rs);
      }
    } else {
      say('qemu-system-riscv64 is not installed (Debian package qemu-system-misc): no comparison');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  say('');
  // Each VMM's rows are compared with its own EVENT_IDX-on row of the same test.
  const ref = (row: Row) => rows.find((r) => r.config === (row.runs[0]?.d === null ? QEMU_ON : VMIO_ON) && r.test.name === row.test.name && r.error === null);
  const range = (r: Row) => r.runs.length > 1 ? ` (${fmt(Math.min(...r.runs.map((x) => x.mbps)))}–${fmt(Math.max(...r.runs.map((x) => x.mbps)))})` : '';
  const per = (r: Row, f: (x: Run) => number) => median(r.runs.map((x) => f(x) / x.requests));
  process.stdout.write(table(
    ['configuration', 'test', 'MB/s on the guest clock, median (range)', '× EVENT_IDX on (same VMM)', 'wall s', 'KiB/request', 'notifications/request', 'irq/request',
      'exits/request (user / kernel / notify)', 'modelled cost/request', 'host CPU µs/request'],
    rows.map((r) => {
      if (r.error !== null) return [r.config, `${r.test.op} ${r.test.bs}`, 'failed', '', '', r.error.slice(0, 80), '', '', '', '', ''];
      const mbps = median(r.runs.map((x) => x.mbps));
      const base = ref(r);
      const vm = r.runs[0]!.d !== null;
      return [r.config, `${r.test.op} ${r.test.bs}`, `${fmt(mbps)}${range(r)}`, base !== undefined ? fmt(mbps / median(base.runs.map((x) => x.mbps))) : '—',
        fmt(median(r.runs.map((x) => x.wallSeconds))), fmt(per(r, () => r.test.bytes / 1024), 0),
        vm ? fmt(per(r, (x) => x.notifications)) : '—', vm ? fmt(per(r, (x) => x.d!.interrupts)) : '—',
        vm ? `${fmt(per(r, (x) => x.d!.user))} / ${fmt(per(r, (x) => x.d!.kernel))} / ${fmt(per(r, (x) => x.d!.notify))}` : '—',
        vm ? thousands(per(r, (x) => x.d!.cost)) : '—', cpuCell(r, vm)];
    })));
  const headline = rows.find((r) => r.config === VMIO_ON && r.test.name === 'r1m');
  const q = rows.find((r) => r.config === QEMU_ON && r.test.name === 'r1m');
  const hm = headline !== undefined && headline.error === null ? median(headline.runs.map((x) => x.mbps)) : NaN;
  say('');
  say('vmio MB/s are on its deterministic guest clock (10 MIPS + modelled hypervisor cost): they repeat exactly from one invocation to the next; ' +
    'QEMU\'s are real time. Wall and CPU figures are noisy (2 shared cores, other work running).');
  if (q !== undefined) {
    const mb = (config: string, t: Test) => {
      const r = rows.find((x) => x.config === config && x.test.name === t.name && x.error === null);
      return r === undefined ? NaN : median(r.runs.map((x) => x.mbps));
    };
    say('QEMU/vmio, EVENT_IDX on (QEMU real time vs vmio guest time): ' +
      tests(mib).map((t) => `${t.op} ${t.bs} ${fmt(mb(QEMU_ON, t) / mb(VMIO_ON, t), 1)}x`).join(', '));
  }
  say(`total ${fmt((Date.now() - t0) / 1000, 0)} s`);
  say(`blk: ${fmt(hm)} MB/s`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => { console.error(`bench blk: ${e instanceof Error ? e.message : String(e)}`); process.exitCode = 1; });
}
