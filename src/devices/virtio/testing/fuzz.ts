// The virtio fuzzer: N random rings, most of them hostile, each through a fresh guest, the bus, the virtio-mmio
// transport and a device (virtio-blk on a memory image, virtio-rng, or the echo device). A finding is any
// exception (a device that threw, caught by the bus, or one that escaped), an access outside guest RAM, a ring that
// took more than a second, or a device that broke a ring invariant. Ring i is reproduced by its seed alone.
//
// Run: node dist/src/devices/virtio/testing/fuzz.js --count N --seed S [--hostile P] [--verbose]

import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { MemoryBlockBackend } from '../../../backends/block/backend.js';
import { RecordingLine } from '../../../board/testing/recorders.js';
import { VirtioBlk } from '../blk.js';
import { SECTOR_SIZE, VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_WRITE_ZEROES } from '../blk-request.js';
import { VIRTIO_CONFIG_S_NEEDS_RESET } from '../constants.js';
import type { VirtioDevice } from '../device.js';
import { VIRTIO_MMIO_QUEUE_NUM, VirtioMmioTransport, virtioMmioRegion } from '../mmio.js';
import { VirtioRng } from '../rng.js';
import { EchoDevice } from './echo-device.js';
import { MUTATIONS, mutate, randomChain } from './hostile.js';
import { MockDriver, type MockChain, type Segment } from './mock-driver.js';
import { MockMmioDriver } from './mmio-driver.js';
import { Prng } from './prng.js';
import { makeGuest } from './watched-dma.js';

const RAM = 0x8000_0000;
const RAM_SIZE = 1 << 20;
const BASE = 0x1000_1000;
const DEVICES = ['blk', 'rng', 'echo'] as const;

export interface FuzzFinding { seed: number; device: string; what: string }

export interface FuzzReport {
  rings: number;
  hostileRings: number;
  chainsOffered: number;
  chainsUsed: number;
  descriptors: number;
  /** Devices left DEVICE_NEEDS_RESET, by the first word of their failure (the QueueError code, or the cause). */
  broken: Record<string, number>;
  seconds: number;
  slowestRingMs: number;
  /** Rings that took over a second and were timed again (a second slow run is a finding). */
  slowRetried: number;
  findings: FuzzFinding[];
}

function blankReport(): FuzzReport {
  return { rings: 0, hostileRings: 0, chainsOffered: 0, chainsUsed: 0, descriptors: 0, broken: {}, seconds: 0, slowestRingMs: 0, slowRetried: 0, findings: [] };
}

export type DeviceMaker = (rng: Prng) => VirtioDevice;

function makeDevice(kind: string, rng: Prng): VirtioDevice {
  if (kind === 'blk') return new VirtioBlk(new MemoryBlockBackend(64 * SECTOR_SIZE), { readOnly: rng.chance(0.2), queueSize: 256 });
  if (kind === 'rng') return new VirtioRng({ fill: (b) => rng.fill(b), queueSize: 256 });
  return new EchoDevice([256]);
}

/** A virtio-blk request, mostly plausible: header, data buffers, status byte. */
function blkRequest(rng: Prng, drv: MockDriver): MockChain | null {
  const hdr = new Uint8Array(16);
  const v = new DataView(hdr.buffer);
  const type = rng.pick([VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES, rng.u32()]);
  v.setUint32(0, type, true);
  v.setBigUint64(8, rng.chance(0.8) ? BigInt(rng.range(0, 70)) : (BigInt(rng.u32()) << 32n) | BigInt(rng.u32()), true);
  const segs: Segment[] = [{ data: hdr }];
  const n = rng.range(0, Math.min(3, drv.size - 2));
  for (let i = 0; i < n; i++) {
    const len = rng.chance(0.8) ? SECTOR_SIZE * rng.range(0, 3) : rng.range(0, 2000);
    if (type === VIRTIO_BLK_T_IN || type === VIRTIO_BLK_T_GET_ID) segs.push({ len });
    else { const data = new Uint8Array(len); rng.fill(data); segs.push({ data }); }
  }
  if (rng.chance(0.95)) segs.push({ len: 1 });
  return drv.add(segs, { indirect: rng.chance(0.3) });
}

/** One ring: returns its findings (empty when all is well) and adds to the report. */
export function fuzzRing(seed: number, hostileP: number, report: FuzzReport, devices: Record<string, DeviceMaker> | null = null, retry = false): FuzzFinding[] {
  const rng = new Prng(seed);
  const kind = rng.pick(devices === null ? DEVICES : Object.keys(devices));
  const findings: FuzzFinding[] = [];
  const find = (what: string) => findings.push({ seed, device: kind, what });
  const g = makeGuest(RAM_SIZE, RAM);
  const dev = devices?.[kind]?.(rng) ?? makeDevice(kind, rng);
  const t = new VirtioMmioTransport(dev, { irq: new RecordingLine(), dma: g.dma });
  g.bus.addRegion(virtioMmioRegion('virtio0', BASE, t));
  const mmio = new MockMmioDriver({ read: (o, w) => g.bus.mmioRead(BASE + o, w) ?? 0, write: (o, w, v) => { g.bus.mmioWrite(BASE + o, w, v); } });
  const hostile = rng.chance(hostileP);
  const size = 1 << rng.range(0, 8);
  const ring = new MockDriver(g.ram, { base: RAM + 16 * rng.range(0, 64), size, dataBase: RAM + 0x80000, dataSize: 0x70000, eventIdx: rng.chance(0.5) });
  const t0 = performance.now();
  try {
    mmio.negotiate((o) => (hostile && rng.chance(0.1) ? o | (1n << BigInt(rng.range(0, 63))) : o & ~(rng.chance(0.3) ? 1n << 29n : 0n) & ~(rng.chance(0.2) ? 1n << 28n : 0n)));
    mmio.setupQueue(0, ring);
    if (hostile && rng.chance(0.1)) { mmio.w(VIRTIO_MMIO_QUEUE_NUM, rng.u32()); mmio.w(0x44, 1); }
    mmio.status = 15;
    const chains: MockChain[] = [];
    const k = rng.range(1, Math.max(1, size));
    for (let i = 0; i < k; i++) {
      const c = kind === 'blk' ? blkRequest(rng, ring) : randomChain(rng, ring, { maxSegs: Math.min(4, size), maxLen: 600, indirect: 0.3 });
      if (c !== null) chains.push(c);
    }
    if (hostile && chains.length > 0) {
      for (let m = rng.range(1, 3); m > 0; m--) mutate(rng, ring, rng.pick(chains), rng.pick(MUTATIONS), RAM + RAM_SIZE);
      if (rng.chance(0.2)) for (let w = rng.range(1, 8); w > 0; w--) g.bus.mmioWrite(BASE + 4 * rng.range(0, 0x7f), rng.pick([1, 2, 4] as const), rng.u32());
    }
    report.chainsOffered += chains.length;
    mmio.notify(rng.chance(0.9) ? 0 : rng.range(0, 0xffff));
    mmio.notify(0);
    mmio.ack();
  } catch (e) {
    find(`an exception escaped: ${(e as Error).stack ?? String(e)}`);
  }
  let ms = performance.now() - t0;
  if (ms > 1000 && !retry) {
    // A stall of the host (GC, another process on a shared machine) is not the ring's: time it again, alone.
    report.slowRetried++;
    const t1 = performance.now();
    fuzzRing(seed, hostileP, blankReport(), devices, true);
    ms = performance.now() - t1;
  }
  report.slowestRingMs = Math.max(report.slowestRingMs, ms);
  if (ms > 1000) find(`the ring took ${ms.toFixed(0)} ms, twice`);
  for (const f of g.metrics.failures) find(`the device threw: ${f.reason}`);
  if (g.dma.outside.length > 0) find(`${g.dma.outside.length} accesses outside RAM, first at 0x${g.dma.outside[0]!.addr.toString(16)}`);
  const q = t.state.queues[0]!;
  if (q.inFlight !== 0 && t.state.failure === null) find(`${q.inFlight} chains taken and never returned`);
  report.rings++;
  if (hostile) report.hostileRings++;
  report.chainsUsed += q.counters.chains - q.inFlight;
  report.descriptors += q.counters.descriptors;
  if ((t.state.status & VIRTIO_CONFIG_S_NEEDS_RESET) !== 0) {
    const key = /: ([a-z-]+):/.exec(t.state.failure ?? '')?.[1] ?? 'other';
    report.broken[key] = (report.broken[key] ?? 0) + 1;
  }
  report.findings.push(...findings);
  return findings;
}

/** Runs `count` rings from `seed`; `devices` replaces the built-in device mix (the fuzzer's own tests use it). */
export function fuzz(count: number, seed: number, hostileP = 0.8, onFinding: (f: FuzzFinding) => void = () => {}, devices: Record<string, DeviceMaker> | null = null): FuzzReport {
  const report = blankReport();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) for (const f of fuzzRing((seed + Math.imul(i, 0x9e3779b1)) >>> 0, hostileP, report, devices)) onFinding(f);
  report.seconds = (performance.now() - t0) / 1000;
  return report;
}

export function main(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { count: { type: 'string', default: '1000' }, seed: { type: 'string', default: '1' }, hostile: { type: 'string', default: '0.8' }, verbose: { type: 'boolean', default: false } } });
  const count = Number(values.count), seed = Number(values.seed), hostile = Number(values.hostile);
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(seed) || !(hostile >= 0 && hostile <= 1)) {
    process.stderr.write('usage: fuzz.js --count N (≥1) --seed S (integer) [--hostile P (0..1, default 0.8)] [--verbose]\n');
    return 2;
  }
  const r = fuzz(count, seed, hostile, (f) => { if (values.verbose) process.stderr.write(`finding: seed ${f.seed} (${f.device}): ${f.what}\n`); });
  const broken = Object.entries(r.broken).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  console.log(`virtio fuzz: ${r.rings} rings (${r.hostileRings} hostile), seed ${seed}, ${r.seconds.toFixed(2)} s (${(r.rings / r.seconds).toFixed(0)} rings/s, slowest ${r.slowestRingMs.toFixed(1)} ms, ${r.slowRetried} timed again)`);
  console.log(`chains offered ${r.chainsOffered}, used ${r.chainsUsed}; descriptors walked ${r.descriptors}`);
  console.log(`devices left DEVICE_NEEDS_RESET: ${Object.values(r.broken).reduce((a, b) => a + b, 0)} (${broken || 'none'})`);
  console.log(`findings: ${r.findings.length}`);
  for (const f of r.findings.slice(0, 20)) console.log(`  seed ${f.seed} (${f.device}): ${f.what.split('\n')[0]}`);
  return r.findings.length > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
