// A mock virtio-net driver (the guest side, as Linux 6.12's virtio_net.c drives the device): a guest, the virtio-mmio
// transport, one mock ring per queue in the §5.1.2 layout the negotiated features give, a ScriptedBackend on a
// NicPort; it transmits header + packet chains, posts receive buffers (mergeable or big), reassembles received
// packets from the used rings (num_buffers), and sends control commands. Tests, the fuzzer and the bench use it.

import { NicPort } from '../../../../backends/net/port.js';
import { ScriptedBackend } from '../../../../backends/net/testing/frames.js';
import { RecordingLine } from '../../../../board/testing/recorders.js';
import { IdentityDmaSpace } from '../../../../memory/dma.js';
import { VIRTIO_CONFIG_S_ACKNOWLEDGE, VIRTIO_CONFIG_S_DRIVER, VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_FEATURES_OK, hasFeature } from '../../constants.js';
import { VirtioMmioTransport } from '../../mmio.js';
import { MockDriver, type MockChain, type Segment } from '../../testing/mock-driver.js';
import { MockMmioDriver } from '../../testing/mmio-driver.js';
import { makeGuest, type Guest } from '../../testing/watched-dma.js';
import { VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_MQ, VIRTIO_NET_HDR_SIZE } from '../constants.js';
import { VirtioNet, type VirtioNetOptions } from '../device.js';

export const RAM = 0x8000_0000;

/** struct virtio_net_hdr_v1, decoded. */
export interface NetHdr { flags: number; gsoType: number; hdrLen: number; gsoSize: number; csumStart: number; csumOffset: number; numBuffers: number }

export function encodeHdr(h: Partial<NetHdr> = {}): Uint8Array {
  const b = new Uint8Array(VIRTIO_NET_HDR_SIZE);
  const v = new DataView(b.buffer);
  v.setUint8(0, h.flags ?? 0);
  v.setUint8(1, h.gsoType ?? 0);
  v.setUint16(2, h.hdrLen ?? 0, true);
  v.setUint16(4, h.gsoSize ?? 0, true);
  v.setUint16(6, h.csumStart ?? 0, true);
  v.setUint16(8, h.csumOffset ?? 0, true);
  v.setUint16(10, h.numBuffers ?? 0, true);
  return b;
}

export function decodeHdr(b: Uint8Array): NetHdr {
  const v = new DataView(b.buffer, b.byteOffset, VIRTIO_NET_HDR_SIZE);
  return { flags: v.getUint8(0), gsoType: v.getUint8(1), hdrLen: v.getUint16(2, true), gsoSize: v.getUint16(4, true), csumStart: v.getUint16(6, true), csumOffset: v.getUint16(8, true), numBuffers: v.getUint16(10, true) };
}

/** A received packet as the driver reassembles it. */
export interface RxPacket { hdr: NetHdr; frame: Uint8Array; buffers: number }

export interface NetHarnessOptions {
  net?: VirtioNetOptions;
  /** The features the driver takes from those offered (default: all). */
  accept?: (offered: bigint) => bigint;
  ringSize?: number;
  eventIdx?: boolean;
  /** Bytes of data area per ring (default 1 MiB). */
  dataPerRing?: number;
  /** Give the device the production IdentityDmaSpace instead of the recording one (benchmarks). */
  plainDma?: boolean;
}

export class NetHarness {
  readonly guest: Guest;
  readonly net: VirtioNet;
  readonly port: NicPort;
  readonly backend = new ScriptedBackend('net-test');
  readonly transport: VirtioMmioTransport;
  readonly mmio: MockMmioDriver;
  readonly irq = new RecordingLine();
  readonly rings: MockDriver[] = [];
  /** The features the driver accepted (the device may have refused them: see status). */
  features = 0n;
  private readonly rxChains = new Map<string, MockChain>();

  constructor(readonly opts: NetHarnessOptions = {}) {
    const net = opts.net ?? {};
    const pairs = net.queuePairs ?? 1;
    const per = opts.dataPerRing ?? 0x10_0000;
    const queues = 2 * pairs + 1;
    this.guest = makeGuest(0x10_0000 + queues * per, RAM, 'virtio-net');
    const { net: dev, port } = VirtioNet.connect(this.backend, { ...net, deterministic: true });
    this.net = dev;
    this.port = port;
    const dma = opts.plainDma === true ? new IdentityDmaSpace(this.guest.bus, this.guest.metrics.dma('virtio-net-plain')) : this.guest.dma;
    this.transport = new VirtioMmioTransport(dev, { irq: this.irq, dma });
    this.mmio = new MockMmioDriver(this.transport);
    if (!this.mmio.negotiate((o) => { this.features = (opts.accept ?? ((x) => x))(o); return this.features; })) return;
    const layoutPairs = hasFeature(this.features, VIRTIO_NET_F_MQ) ? pairs : 1;
    const n = 2 * layoutPairs + (hasFeature(this.features, VIRTIO_NET_F_CTRL_VQ) ? 1 : 0);
    const size = opts.ringSize ?? 64;
    for (let i = 0; i < n; i++) {
      const ring = new MockDriver(this.guest.ram, { base: RAM + i * 0x4000, size, dataBase: RAM + 0x10_0000 + i * per, dataSize: per, eventIdx: opts.eventIdx ?? true });
      if (!this.mmio.setupQueue(i, ring)) throw new Error(`net harness: queue ${i} did not become ready`);
      this.rings.push(ring);
    }
    this.mmio.status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;
  }

  rxRing(pair = 0): MockDriver { return this.rings[2 * pair]!; }
  txRing(pair = 0): MockDriver { return this.rings[2 * pair + 1]!; }
  get ctrlRing(): MockDriver { return this.rings[this.rings.length - 1]!; }
  get ctrlIndex(): number { return this.rings.length - 1; }
  get status(): number { return this.mmio.status; }

  /**
   * Transmits `frame` behind header `hdr` on pair `pair`: the header and packet in one buffer, or cut at `split`
   * offsets (of header + packet) into several; notifies when the ring asks for it. Returns the used entries.
   */
  send(frame: Uint8Array, hdr: Partial<NetHdr> = {}, opts: { pair?: number; split?: readonly number[]; indirect?: boolean } = {}): { id: number; len: number }[] {
    const ring = this.txRing(opts.pair ?? 0);
    const all = new Uint8Array(VIRTIO_NET_HDR_SIZE + frame.length);
    all.set(encodeHdr(hdr));
    all.set(frame, VIRTIO_NET_HDR_SIZE);
    const cuts = [0, ...(opts.split ?? []), all.length];
    const segs: Segment[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) segs.push({ data: all.slice(cuts[i], cuts[i + 1]) });
    this.post(ring, segs, 2 * (opts.pair ?? 0) + 1, opts.indirect ?? false);
    return ring.takeUsed();
  }

  /** Adds a chain to `ring` and notifies queue `index` when the ring's suppression rules ask for it. */
  post(ring: MockDriver, segs: Segment[], index: number, indirect = false): MockChain {
    const c = ring.add(segs, { indirect, defer: true });
    if (c === null) throw new Error(`net harness: ring ${index} is full`);
    if (ring.publish()) this.mmio.notify(index);
    return c;
  }

  /** Posts `count` receive chains of `size` device-writable bytes each (as `pieces` descriptors) on pair `pair`. */
  postRx(count: number, size: number, opts: { pair?: number; pieces?: number; notify?: boolean } = {}): MockChain[] {
    const pair = opts.pair ?? 0;
    const ring = this.rxRing(pair);
    const pieces = opts.pieces ?? 1;
    const out: MockChain[] = [];
    for (let i = 0; i < count; i++) {
      const segs: Segment[] = [];
      for (let k = 0; k < pieces; k++) segs.push({ len: Math.floor(size / pieces) + (k === pieces - 1 ? size % pieces : 0) });
      const c = ring.add(segs, { defer: true });
      if (c === null) throw new Error(`net harness: receive ring ${pair} is full`);
      this.rxChains.set(`${pair}:${c.head}`, c);
      out.push(c);
    }
    if (ring.publish() && (opts.notify ?? true)) this.mmio.notify(2 * pair);
    return out;
  }

  /** A frame arrives from the backend and the port delivers what it has (as the scheduler's round would). */
  inject(...frames: Uint8Array[]): void {
    for (const f of frames) this.backend.inject(f);
    this.port.deliver();
  }

  /** The bytes of the device-writable buffers of a posted receive chain, first `len` of them. */
  private chainBytes(c: MockChain, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let at = 0;
    for (const b of c.buffers) {
      if (!b.write || at >= len) continue;
      const n = Math.min(b.len, len - at);
      out.set(this.guest.ram.slice(b.addr, n), at);
      at += n;
    }
    return out;
  }

  /** Reads the receive ring's used entries and puts packets back together (num_buffers), as receive_mergeable() does. */
  takeRx(pair = 0): RxPacket[] {
    const used = this.rxRing(pair).takeUsed();
    const out: RxPacket[] = [];
    for (let i = 0; i < used.length;) {
      const first = used[i]!;
      // A buffer returned unused (too small for a header): no packet in it.
      if (first.len < VIRTIO_NET_HDR_SIZE) { out.push({ hdr: decodeHdr(new Uint8Array(VIRTIO_NET_HDR_SIZE)), frame: new Uint8Array(0), buffers: 0 }); i++; continue; }
      const c = this.rxChains.get(`${pair}:${first.id}`);
      if (c === undefined) throw new Error(`net harness: used id ${first.id} was never posted`);
      const bytes = this.chainBytes(c, first.len);
      const hdr = decodeHdr(bytes);
      const parts = [bytes.subarray(VIRTIO_NET_HDR_SIZE)];
      const n = Math.max(1, hdr.numBuffers);
      for (let k = 1; k < n; k++) {
        const e = used[i + k];
        if (e === undefined) throw new Error(`net harness: num_buffers ${n} but only ${k} buffers used`);
        parts.push(this.chainBytes(this.rxChains.get(`${pair}:${e.id}`)!, e.len));
      }
      const frame = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
      let at = 0;
      for (const p of parts) { frame.set(p, at); at += p.length; }
      out.push({ hdr, frame, buffers: n });
      i += n;
    }
    return out;
  }

  /**
   * Sends a control command: class, command, data buffers (device-readable) and `ackLen` device-writable bytes.
   * Returns the ack byte, or null when the device wrote nothing.
   */
  command(cls: number, cmd: number, data: readonly Uint8Array[] = [], ackLen = 1): number | null {
    const segs: Segment[] = [{ data: Uint8Array.of(cls, cmd) }, ...data.map((d) => ({ data: d }))];
    if (ackLen > 0) segs.push({ len: ackLen });
    const ring = this.ctrlRing;
    const c = this.post(ring, segs, this.ctrlIndex);
    const used = ring.takeUsed();
    if (used.length !== 1 || used[0]!.len === 0 || ackLen === 0) return null;
    const ackBuf = c.buffers[c.buffers.length - 1]!;
    return this.guest.ram.slice(ackBuf.addr, 1)[0]!;
  }

  /** A raw control chain with the given readable bytes (class/command included) and writable length. */
  rawCommand(readable: Uint8Array, ackLen: number): { used: { id: number; len: number }[]; ack: number | null } {
    const segs: Segment[] = [];
    if (readable.length > 0) segs.push({ data: readable });
    if (ackLen > 0) segs.push({ len: ackLen });
    if (segs.length === 0) segs.push({ data: new Uint8Array(0) });
    const c = this.post(this.ctrlRing, segs, this.ctrlIndex);
    const used = this.ctrlRing.takeUsed();
    const w = c.buffers.find((b) => b.write);
    return { used, ack: w !== undefined && used[0] !== undefined && used[0].len > 0 ? this.guest.ram.slice(w.addr, 1)[0]! : null };
  }

  /** The per-queue counters of queue `index`. */
  queue(index: number) { return this.transport.state.queues[index]!; }
}
