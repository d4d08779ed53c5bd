// Benchmark: the e1000 (82540EM) model driven by the mock e1000 driver through the bus and the PCI host bridge, on
// the host CPU (no guest). For each emulation optimization off and on, with a virtual clock advancing 12 us per
// packet (1500-byte frames at ~1 Gb/s):
//   TX: xmit 1514-byte frames (a TDT doorbell per packet, as without xmit_more), NAPI clean on each interrupt;
//   RX: 1514-byte frames into the receive ring, NAPI clean on each interrupt (RDT written per clean).
// Reports packets per second of host time, register accesses (exits) per packet by exit class as the wiring would
// declare them, interrupts per packet, and the modelled hypervisor cost per packet under the kvm-x86 profile
// (a coalesced write is charged as an in-kernel exit: KVM still exits to append it to the ring).
// Run: vmio bench e1000 [--runs N] [--packets N]   (or node dist/bench/e1000.js)

import { pathToFileURL } from 'node:url';
import { benchOptions } from '../src/cli/bench-options.js';
import { KVM_X86 } from '../src/metrics/cost-profiles.js';
import type { E1000Options } from '../src/devices/e1000/device.js';
import { e1000Machine, upMachine, type E1000Machine } from '../src/devices/e1000/testing/machine.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const TICKS_PER_PACKET = 120; // 12 us at 10 MHz
const FRAME = 1514;

type Mode = { name: string; opts: E1000Options };
const MODES: Mode[] = [
  { name: 'baseline (all off)', opts: {} },
  { name: 'coalesced MMIO', opts: { coalesceMmio: true } },
  { name: 'TX batching', opts: { txBatching: true } },
  { name: 'ITR moderation', opts: { itrModeration: true } },
  { name: 'TDT notify doorbell', opts: { notifyTdt: true } },
  { name: 'in-kernel model', opts: { inKernel: true } },
  { name: 'all on', opts: { coalesceMmio: true, txBatching: true, itrModeration: true, notifyTdt: true, inKernel: true } },
];

interface Result { perSec: number; exits: Record<string, number>; interrupts: number; cost: number }

function frameTo(dst: Uint8Array): Uint8Array {
  const f = new Uint8Array(FRAME);
  f.set(dst, 0);
  f.set([2, 0, 0, 0, 0, 1], 6);
  f[12] = 0x08; f[13] = 0x00;
  for (let i = 14; i < FRAME; i++) f[i] = i & 0xff;
  return f;
}

function tally(m: E1000Machine, packets: number, irqs: number): Omit<Result, 'perSec'> {
  const exits: Record<string, number> = { user: 0, kernel: 0, notify: 0, coalesced: 0 };
  for (const [write, map] of [[false, m.drv.log.reads], [true, m.drv.log.writes]] as const) {
    for (const [off, n] of map) exits[m.dev.classify(off, write)]! += n;
  }
  const c = KVM_X86.costs;
  const cost = exits['user']! * c.exitUser + (exits['kernel']! + exits['coalesced']!) * c.exitKernel + exits['notify']! * c.notify +
    irqs * c.interruptInject + packets * (c.perRequest + FRAME * c.copyPerByte);
  for (const k of Object.keys(exits)) exits[k] = exits[k]! / packets;
  return { exits, interrupts: irqs / packets, cost: cost / packets };
}

function txRun(opts: E1000Options, packets: number): Result {
  const clock = { t: 0 };
  const m = upMachine({ ...opts, now: () => clock.t });
  m.link.keep = false;
  const f = frameTo(Uint8Array.of(2, 0, 0, 0, 0, 2));
  const irq0 = m.dev.counters.interrupts;
  m.drv.log.clear();
  const t0 = process.hrtime.bigint();
  for (let sent = 0; sent < packets;) {
    if (m.drv.xmit(f)) sent++;
    else m.drv.cleanTx(); // ring full: reclaim as the stack's next xmit would after a clean
    clock.t += TICKS_PER_PACKET;
    if (clock.t >= m.dev.nextDeadline()) m.dev.update(clock.t);
    if (m.irq.level) m.drv.interrupt();
  }
  clock.t += 1_000_000; m.dev.update(clock.t); if (m.irq.level) m.drv.interrupt();
  const ns = Number(process.hrtime.bigint() - t0);
  if (m.link.count !== packets) throw new Error(`bench e1000: sent ${m.link.count} of ${packets} frames`);
  return { perSec: packets / (ns / 1e9), ...tally(m, packets, m.dev.counters.interrupts - irq0) };
}

function rxRun(opts: E1000Options, packets: number): Result {
  const clock = { t: 0 };
  const m = upMachine({ ...opts, now: () => clock.t });
  const f = frameTo(m.drv.mac);
  const irq0 = m.dev.counters.interrupts;
  m.drv.log.clear();
  let got = 0;
  const t0 = process.hrtime.bigint();
  for (let n = 0; n < packets; n++) {
    if (!m.dev.canReceive()) { got += m.drv.cleanRx().frames.length; }
    if (!m.dev.receive(f)) throw new Error('bench e1000: the device refused a frame');
    clock.t += TICKS_PER_PACKET;
    if (clock.t >= m.dev.nextDeadline()) m.dev.update(clock.t);
    if (m.irq.level) got += m.drv.interrupt().rx.length;
  }
  clock.t += 1_000_000; m.dev.update(clock.t);
  got += m.irq.level ? m.drv.interrupt().rx.length : 0;
  got += m.drv.cleanRx().frames.length;
  const ns = Number(process.hrtime.bigint() - t0);
  if (got !== packets) throw new Error(`bench e1000: the driver cleaned ${got} of ${packets} frames`);
  return { perSec: packets / (ns / 1e9), ...tally(m, packets, m.dev.counters.interrupts - irq0) };
}

function line(dir: string, mode: string, rs: Result[]): string {
  const r = rs[0]!;
  const e = r.exits;
  const total = e['user']! + e['kernel']! + e['notify']! + e['coalesced']!;
  return `${dir} ${mode.padEnd(20)} ${(median(rs.map((x) => x.perSec)) / 1e3).toFixed(0).padStart(5)} k packets/s  ` +
    `MMIO/packet ${total.toFixed(2)} (user ${e['user']!.toFixed(2)}, kernel ${e['kernel']!.toFixed(2)}, notify ${e['notify']!.toFixed(2)}, coalesced ${e['coalesced']!.toFixed(2)})  ` +
    `interrupts/packet ${r.interrupts.toFixed(3)}  modelled cost ${r.cost.toFixed(0)} cycles/packet`;
}

export async function main(args: string[]): Promise<void> {
  const { runs, packets } = benchOptions(args, { runs: { default: 5, min: 1, max: 101 }, packets: { default: 20_000, min: 100, max: 10_000_000 } });
  console.log(`command: node dist/bench/e1000.js --runs ${runs} --packets ${packets}  (node ${process.version}, ${process.platform}/${process.arch})`);
  console.log(`${FRAME}-byte frames, virtual clock +${TICKS_PER_PACKET / 10} us per packet, ITR ${Math.floor(1e9 / (20000 * 256))} (20000 interrupts/s) as e1000_configure_rx programs it; cost profile ${KVM_X86.name}`);
  // Bring-up (probe + open + watchdog): where coalescing pays, since the per-packet registers all have side effects.
  for (const mode of [MODES[0]!, MODES[1]!]) {
    const m = e1000Machine(mode.opts);
    m.drv.probe(); m.drv.open(); m.drv.watchdog();
    const t = tally(m, 1, 0);
    console.log(`bring-up ${mode.name.padEnd(20)} ${(t.exits['user']! + t.exits['coalesced']!).toFixed(0)} register accesses: ${t.exits['user']!.toFixed(0)} exits to the device model, ${t.exits['coalesced']!.toFixed(0)} coalesced writes`);
  }
  txRun({}, packets); // warm-up: the first mode measured should not pay for the JIT
  rxRun({}, packets);
  let headline = 0;
  for (const mode of MODES) {
    const tx = Array.from({ length: runs }, () => txRun(mode.opts, packets));
    if (mode === MODES[0]) headline = median(tx.map((x) => x.perSec));
    console.log(line('TX', mode.name, tx));
  }
  for (const mode of MODES) {
    const rx = Array.from({ length: runs }, () => rxRun(mode.opts, packets));
    console.log(line('RX', mode.name, rx));
  }
  console.log(`e1000: ${(headline / 1e3).toFixed(0)} k packets/s`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => { console.error(`bench e1000: ${e instanceof Error ? e.message : String(e)}`); process.exitCode = 1; });
}
