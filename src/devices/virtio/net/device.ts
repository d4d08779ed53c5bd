// virtio-net (virtio 1.2 §5.1; Linux 6.12 drivers/net/virtio_net.c is the reference driver): receiveq/transmitq pairs
// (N of them with VIRTIO_NET_F_MQ) and a control queue, laid out as §5.1.2 says; frames go to and come from a
// NicPort (src/backends/net/port.ts), which this device is the NicReceiver of. Transmit completes checksums and
// segments TSO packets (offload.ts); receive filters (filter.ts), verifies checksums for DATA_VALID, steers flows
// among the enabled pairs (steering.ts) and writes into one buffer or, with VIRTIO_NET_F_MRG_RXBUF, several (rx.ts).
//
// With GUEST_TSO4/6 the driver takes large TCP packets whole (NEEDS_CSUM + gso_type), and with a port that carries
// them (the software switch: src/backends/net/gso.ts) a HOST_TSO packet crosses to another virtio-net unsegmented,
// as between vhost-net guests on a host bridge; anything else gets segments.
// Not offered, and why: GUEST_UFO, HOST_UFO and HOST_USO (not implemented), CTRL_VLAN, CTRL_RX_EXTRA, GUEST_ANNOUNCE,
// CTRL_GUEST_OFFLOADS, RSS, hash reporting, notification coalescing, MTU (optional, not needed by Linux).

import { ETH_ALEN, ETH_HLEN, formatMac, parseMac } from '../../../backends/net/ethernet.js';
import { NicPort, type NetBackend, type NicReceiver } from '../../../backends/net/port.js';
import { writeGsoHeader, type GsoInfo } from '../../../backends/net/gso.js';
import type { DescriptorChain } from '../chain.js';
import { ConfigBytes } from '../config-space.js';
import { VIRTIO_ID_NET, hasFeature } from '../constants.js';
import type { VirtioDevice, VirtioDeviceContext } from '../device.js';
import { drainQueue } from '../drain.js';
import type { CostCharger, SplitQueue } from '../queue.js';
import {
  ETH_FRAME_LEN, NET_CFG_DUPLEX, NET_CFG_MAC, NET_CFG_MAX_VIRTQUEUE_PAIRS, NET_CFG_SPEED, NET_CFG_STATUS,
  NET_CONFIG_SIZE, NET_DUPLEX_FULL, NET_HDR_FLAGS, NET_SPEED_UNKNOWN, VIRTIO_NET_F_CSUM, VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_MQ, VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6,
  VIRTIO_NET_F_STATUS, VIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_SIZE, VIRTIO_NET_S_LINK_UP,
} from './constants.js';
import { NetControl } from './control.js';
import { NetCounters, type NetDrop } from './counters.js';
import { brokenRequirement, offeredFeatures } from './features.js';
import { RxFilter } from './filter.js';
import { RX_CSUM_BAD, RX_CSUM_VALID, TX_FRAME_MAX, TxOffload, verifyRxChecksum } from './offload.js';
import { PacketInfo } from './packet.js';
import { RxBuffers, TAKE_BROKEN, TAKE_DISCARDED, TAKE_HELD } from './rx.js';
import { FlowSteering } from './steering.js';

/** Where the device's frames go, and whether the link is up: a NicPort. */
export interface NetTransmitPort {
  send(frame: Uint8Array, gso?: GsoInfo | null): void;
  readonly linkUp: boolean;
  /** Large TCP packets may go out whole (send with gso). Absent: false. */
  readonly acceptsGso?: boolean;
}

export interface VirtioNetOptions {
  /** The station address (config `mac`); default 52:54:00:12:34:56. */
  mac?: Uint8Array | string;
  /** max_virtqueue_pairs; VIRTIO_NET_F_MQ is offered when it is above 1 (default 1, at most MAX_QUEUE_PAIRS). */
  queuePairs?: number;
  /** Size of every queue (default 256). */
  queueSize?: number;
  /** Link speed in Mb/s: offers VIRTIO_NET_F_SPEED_DUPLEX (full duplex). Not offered by default. */
  speed?: number;
  /** Feature bits not to offer (those needing them go too, §5.1.3.1): e.g. [VIRTIO_NET_F_MRG_RXBUF]. */
  withoutFeatures?: readonly number[];
  /** With GUEST_CSUM, verify received TCP/UDP checksums and mark good ones DATA_VALID (default true). */
  rxChecksum?: boolean;
  /** Where the per-packet cost is charged (the queues charge the copies). */
  cost?: CostCharger | null;
}

export const MAX_QUEUE_PAIRS = 64;
export const DEFAULT_MAC = '52:54:00:12:34:56';

export class VirtioNet implements VirtioDevice, NicReceiver {
  readonly name = 'virtio-net';
  readonly deviceId = VIRTIO_ID_NET;
  readonly deviceFeatures: bigint;
  readonly config = new ConfigBytes(NET_CONFIG_SIZE);
  readonly queueMaxSizes: readonly number[];
  /** max_virtqueue_pairs. */
  readonly maxPairs: number;
  /** The configured station address (a reset returns to it). */
  readonly mac: Uint8Array;
  readonly counters = new NetCounters();
  readonly filter = new RxFilter();
  private port: NetTransmitPort | null = null;
  private ctx: VirtioDeviceContext | null = null;
  private readonly cost: CostCharger | null;
  private readonly rxChecksum: boolean;
  // Negotiated at DRIVER_OK.
  private mergeable = false;
  private guestCsum = false;
  private guestTso4 = false;
  private guestTso6 = false;
  private guestEcn = false;
  private statusOn = false;
  /** Pairs in the queue layout (max_virtqueue_pairs with MQ, else 1) and the control queue's index (-1: none). */
  private layoutPairs = 1;
  private ctrlIndex = -1;
  /** Pairs enabled by VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET (1 after reset, §5.1.6.5.6). */
  private pairs = 1;
  private linkStatus = 0;
  private txPair = 0;
  private readonly tx = new TxOffload();
  private readonly txHdr = new Uint8Array(VIRTIO_NET_HDR_SIZE);
  private readonly rxHdr = new Uint8Array(VIRTIO_NET_HDR_SIZE);
  private readonly rx: RxBuffers[];
  private readonly ctrl: NetControl;
  private readonly steering = new FlowSteering();
  private readonly rxInfo = new PacketInfo();
  private rxDrop: NetDrop = 'rxNoBuffers';

  constructor(opts: VirtioNetOptions = {}) {
    const maxPairs = opts.queuePairs ?? 1;
    if (!Number.isInteger(maxPairs) || maxPairs < 1 || maxPairs > MAX_QUEUE_PAIRS) throw new RangeError(`virtio-net queue pairs ${maxPairs}: use a whole number in 1..${MAX_QUEUE_PAIRS}`);
    const mac = typeof opts.mac === 'string' ? parseMac(opts.mac) : (opts.mac ?? parseMac(DEFAULT_MAC));
    if (mac === null || mac.length !== ETH_ALEN) throw new RangeError(`virtio-net MAC ${String(opts.mac)}: give six hex octets, like ${DEFAULT_MAC}`);
    if ((mac[0]! & 1) !== 0 || mac.every((b) => b === 0)) throw new RangeError(`virtio-net MAC ${formatMac(mac)} is a group or all-zero address; a NIC needs a unicast one (e.g. ${DEFAULT_MAC})`);
    const speed = opts.speed;
    if (speed !== undefined && (!Number.isInteger(speed) || speed < 0 || speed > 0x7fff_ffff)) throw new RangeError(`virtio-net speed ${speed}: a whole number of Mb/s in 0..2147483647`);
    this.maxPairs = maxPairs;
    this.mac = Uint8Array.from(mac);
    const qs = opts.queueSize ?? 256;
    this.queueMaxSizes = Array.from({ length: 2 * maxPairs + 1 }, () => qs);
    this.rx = Array.from({ length: maxPairs }, () => new RxBuffers(qs));
    this.cost = opts.cost ?? null;
    this.rxChecksum = opts.rxChecksum ?? true;

    this.deviceFeatures = offeredFeatures({ multiqueue: maxPairs > 1, speedDuplex: speed !== undefined, without: opts.withoutFeatures ?? [] });

    this.config.set16(NET_CFG_MAX_VIRTQUEUE_PAIRS, maxPairs);
    this.config.set32(NET_CFG_SPEED, speed ?? NET_SPEED_UNKNOWN);
    this.config.set8(NET_CFG_DUPLEX, speed === undefined ? 0xff : NET_DUPLEX_FULL);
    this.setConfigMac(this.mac);
    this.filter.reset(this.mac);
    const self = this;
    this.ctrl = new NetControl({
      get features() { return self.ctx?.features ?? 0n; },
      maxPairs,
      filter: this.filter,
      setPairs: (n) => { this.pairs = n; },
      setMac: (m) => { this.filter.mac.set(m); this.setConfigMac(m); },
    }, this.counters);
  }

  /**
   * A device and the NicPort joining it to `backend`, attached both ways (the port needs its receiver, the device
   * its port). The wiring point registers the port as an EventSource.
   */
  static connect(backend: NetBackend, opts: VirtioNetOptions & { deterministic: boolean; portName?: string }): { net: VirtioNet; port: NicPort } {
    const net = new VirtioNet(opts);
    const port = new NicPort(backend, net, opts.portName === undefined ? { deterministic: opts.deterministic } : { deterministic: opts.deterministic, name: opts.portName });
    net.attach(port);
    return { net, port };
  }

  /** Gives the device its port (transmit and link state). */
  attach(port: NetTransmitPort): void {
    this.port = port;
    this.linkStatus = port.linkUp ? VIRTIO_NET_S_LINK_UP : 0;
    this.config.set16(NET_CFG_STATUS, this.linkStatus);
  }

  /** Queue pairs the driver enabled. */
  get queuePairs(): number { return this.pairs; }
  /** Why the last control command was answered VIRTIO_NET_ERR. */
  get lastControlError(): string { return this.ctrl.lastError; }
  /** Receive buffers held (taken from the ring, not yet used) on pair `pair`'s receive queue. */
  heldRxBuffers(pair: number): number { return this.rx[pair]?.count ?? 0; }

  private setConfigMac(m: Uint8Array): void { for (let i = 0; i < ETH_ALEN; i++) this.config.set8(NET_CFG_MAC + i, m[i]!); }

  validateFeatures(f: bigint): string | null {
    const why = brokenRequirement(f);
    return why === null ? null : `the driver accepted ${why} (virtio 1.2 §5.1.3.1 feature bit requirements)`;
  }

  activate(ctx: VirtioDeviceContext): void {
    const f = ctx.features;
    this.ctx = ctx;
    this.mergeable = hasFeature(f, VIRTIO_NET_F_MRG_RXBUF);
    this.guestCsum = hasFeature(f, VIRTIO_NET_F_GUEST_CSUM);
    this.guestTso4 = hasFeature(f, VIRTIO_NET_F_GUEST_TSO4);
    this.guestTso6 = hasFeature(f, VIRTIO_NET_F_GUEST_TSO6);
    this.guestEcn = hasFeature(f, VIRTIO_NET_F_GUEST_ECN);
    this.statusOn = hasFeature(f, VIRTIO_NET_F_STATUS);
    this.layoutPairs = hasFeature(f, VIRTIO_NET_F_MQ) ? this.maxPairs : 1;
    this.ctrlIndex = hasFeature(f, VIRTIO_NET_F_CTRL_VQ) ? 2 * this.layoutPairs : -1;
    this.pairs = 1;
    this.tx.features = {
      csum: hasFeature(f, VIRTIO_NET_F_CSUM), tso4: hasFeature(f, VIRTIO_NET_F_HOST_TSO4),
      tso6: hasFeature(f, VIRTIO_NET_F_HOST_TSO6), ecn: hasFeature(f, VIRTIO_NET_F_HOST_ECN),
    };
    this.updateLink();
  }

  reset(): void {
    this.ctx = null;
    for (const r of this.rx) r.reset();
    this.filter.reset(this.mac);
    this.setConfigMac(this.mac);
    this.steering.reset();
    this.pairs = 1;
  }

  /**
   * Reads the port's carrier into config `status` (VIRTIO_NET_S_LINK_UP) and, when it changed and the driver took
   * VIRTIO_NET_F_STATUS, sends a configuration change notification. Called on every notification and delivery; the
   * wiring point calls it when a backend's carrier may change. Returns whether it changed.
   */
  updateLink(): boolean {
    const status = this.port !== null && this.port.linkUp ? VIRTIO_NET_S_LINK_UP : 0;
    if (status === this.linkStatus) return false;
    this.linkStatus = status;
    this.config.set16(NET_CFG_STATUS, status);
    this.counters.linkChanges++;
    if (this.ctx !== null && this.statusOn) this.ctx.configChanged();
    return true;
  }

  queueNotify(index: number): void {
    const ctx = this.ctx;
    if (ctx === null) return;
    this.updateLink();
    if (index === this.ctrlIndex) { drainQueue(ctx, index, this.control); return; }
    if (index >= 2 * this.layoutPairs || (index & 1) === 0) return; // receive buffers are used at the next delivery
    this.txPair = index >> 1;
    drainQueue(ctx, index, this.transmit);
  }

  private readonly control = (q: SplitQueue, c: DescriptorChain): number => this.ctrl.handle(q, this.ctx!.dma, c);

  /** One transmit chain: header + packet, completed and sent; used length 0 (nothing is written back). */
  private readonly transmit = (q: SplitQueue, c: DescriptorChain): number => {
    const dma = this.ctx!.dma;
    const s = this.counters;
    s.txPackets++;
    const total = c.readableBytes;
    if (total < VIRTIO_NET_HDR_SIZE) { s.drop('txShortHeader'); return 0; }
    const len = total - VIRTIO_NET_HDR_SIZE;
    if (len > TX_FRAME_MAX) { s.drop('txTooLong'); return 0; }
    if (q.read(dma, c, 0, this.txHdr) < 0) return -1;
    const frame = this.tx.frame(len);
    if (len > 0 && q.read(dma, c, VIRTIO_NET_HDR_SIZE, frame) < 0) return -1;
    this.cost?.charge('perRequest');
    if (this.linkStatus === 0) { s.drop('txLinkDown'); return 0; }
    if (this.pairs > 1) this.steering.record(this.steering.flowHash(frame, len), this.txPair);
    const why = this.tx.transmit(this.txHdr, len, this.out, this.port!.acceptsGso === true ? this.outWhole : null);
    if (why !== null) { s.drop(why); return 0; }
    if (this.tx.passedWhole) s.tsoWhole++;
    if (this.tx.csumComputed) s.txCsumComputed++;
    if (this.tx.segments > 0) { s.tsoPackets++; s.tsoSegments += this.tx.segments; }
    return 0;
  };

  private readonly out = (frame: Uint8Array): void => {
    this.counters.txFrames++;
    this.counters.txBytes += frame.length;
    this.port!.send(frame);
  };

  private readonly outWhole = (frame: Uint8Array, gso: GsoInfo): void => {
    this.counters.txFrames++;
    this.counters.txBytes += frame.length;
    this.port!.send(frame, gso);
  };

  // NicReceiver

  /** The driver runs, the link is up, and an enabled receive queue has room for a full-size frame (or a buffer). */
  canReceive(): boolean {
    const ctx = this.ctx;
    if (ctx === null || ctx.broken) return false;
    this.updateLink();
    if (this.linkStatus === 0) return false;
    const need = this.mergeable ? VIRTIO_NET_HDR_SIZE + ETH_FRAME_LEN : 0;
    for (let p = 0; p < this.pairs; p++) if (this.fill(p, need)) return true;
    return false;
  }

  // wire-controlled: the frame (its length checked by the port: ETH_HLEN..MAX_FRAME_LEN).
  /** Writes one frame into the driver's receive buffers; false when it was filtered or dropped (counted). */
  receive(frame: Uint8Array): boolean {
    const ctx = this.ctx;
    const s = this.counters;
    if (ctx === null || ctx.broken || this.linkStatus === 0) { s.drop('rxNotReady'); return false; }
    if (frame.length < ETH_HLEN || !this.filter.accepts(frame)) { s.drop('rxFiltered'); return false; }
    const hdr = this.rxHdr;
    hdr.fill(0);
    if (this.guestCsum && this.rxChecksum) {
      const r = verifyRxChecksum(frame, this.rxInfo);
      if (r === RX_CSUM_VALID) { hdr[NET_HDR_FLAGS] = VIRTIO_NET_HDR_F_DATA_VALID; s.rxCsumValid++; } else if (r === RX_CSUM_BAD) s.rxCsumBad++;
    }
    const n = this.pairs;
    const first = n > 1 ? this.steering.pairFor(this.steering.flowHash(frame, frame.length), n) : 0;
    this.rxDrop = 'rxNoBuffers';
    for (let t = 0; t < n; t++) {
      const r = this.deliverTo((first + t) % n, frame);
      if (r > 0) return true;
      if (r < 0) return false;
    }
    s.drop(this.rxDrop);
    return false;
  }

  /** The driver negotiated taking this kind of large packet whole (GUEST_TSO4/6, GUEST_ECN for ECN ones). */
  acceptsGso(gso: GsoInfo): boolean {
    return (gso.v6 ? this.guestTso6 : this.guestTso4) && (!gso.ecn || this.guestEcn);
  }

  /** Some enabled receive queue can hold a large packet of `len` bytes whole now. */
  canReceiveGso(len: number): boolean {
    const ctx = this.ctx;
    if (ctx === null || ctx.broken) return false;
    this.updateLink();
    if (this.linkStatus === 0) return false;
    const need = VIRTIO_NET_HDR_SIZE + len;
    for (let p = 0; p < this.pairs; p++) {
      if (this.mergeable ? this.fill(p, need) : this.fill(p, 0) && this.rx[p]!.chain(0).writableBytes >= need) return true;
    }
    return false;
  }

  // wire-controlled: a large TCP packet another virtio-net sent (its headers checked by that device's TxOffload).
  /** Writes one large TCP packet whole, its virtio header saying what is left to do (NEEDS_CSUM, gso_type/size). */
  receiveGso(frame: Uint8Array, gso: GsoInfo): boolean {
    const ctx = this.ctx;
    const s = this.counters;
    if (ctx === null || ctx.broken || this.linkStatus === 0) { s.drop('rxNotReady'); return false; }
    if (!this.acceptsGso(gso)) { s.drop('rxFiltered'); return false; }
    if (frame.length < ETH_HLEN || !this.filter.accepts(frame)) { s.drop('rxFiltered'); return false; }
    const hdr = this.rxHdr;
    hdr.fill(0);
    writeGsoHeader(hdr, gso);
    const n = this.pairs;
    const first = n > 1 ? this.steering.pairFor(this.steering.flowHash(frame, frame.length), n) : 0;
    this.rxDrop = 'rxNoBuffers';
    for (let t = 0; t < n; t++) {
      const r = this.deliverTo((first + t) % n, frame);
      if (r > 0) { s.rxGso++; return true; }
      if (r < 0) return false;
    }
    s.drop(this.rxDrop);
    return false;
  }

  /** Delivers to pair `p`'s receive queue: 1 done, 0 no room (this.rxDrop says why), -1 the queue broke. */
  private deliverTo(p: number, frame: Uint8Array): number {
    const ctx = this.ctx!;
    const rx = this.rx[p]!;
    const qi = 2 * p;
    const q = ctx.queues[qi]!;
    const need = VIRTIO_NET_HDR_SIZE + frame.length;
    let n = 1;
    if (!this.fill(p, this.mergeable ? need : 0)) return ctx.broken ? -1 : 0;
    if (this.mergeable) n = rx.buffersFor(need);
    else if (rx.chain(0).writableBytes < need) { this.rxDrop = 'rxTooBig'; return 0; }
    if (!rx.write(q, ctx.dma, this.rxHdr, frame, n)) { ctx.needsReset(q.error ?? 'virtio-net: a receive buffer could not be written'); return -1; }
    const s = this.counters;
    s.rxFrames++;
    s.rxBytes += frame.length;
    s.rxBuffers += n;
    this.cost?.charge('perRequest');
    ctx.usedBuffers(qi);
    return 1;
  }

  /**
   * Takes chains from pair `p`'s receive queue until it holds at least `need` bytes and one chain. When the ring runs
   * dry, publishes avail_event so the driver notifies once it adds buffers (§2.7.10). Returns whether it got there.
   */
  private fill(p: number, need: number): boolean {
    const ctx = this.ctx!;
    const rx = this.rx[p]!;
    const qi = 2 * p;
    const q = ctx.queues[qi];
    if (q === undefined || !q.ready) return false;
    let discarded = false;
    let ok = true;
    while (rx.count === 0 || rx.bytes < need) {
      // A driver that re-posts chains the device holds cannot make it hold more than its ring.
      if (rx.count >= rx.maxSize) { ok = false; break; }
      const r = rx.take(q, ctx.dma);
      if (r === TAKE_HELD) continue;
      if (r === TAKE_DISCARDED) { this.counters.drop('rxBadBuffer'); discarded = true; continue; }
      if (r === TAKE_BROKEN || !q.enableNotification(ctx.dma)) { ok = false; break; }
    }
    if (q.error !== null) { ctx.needsReset(q.error); return false; }
    if (discarded) ctx.usedBuffers(qi);
    return ok;
  }
}
