// The transport-agnostic virtio device (virtio 1.2 §2 "Basic Facilities of a Virtio Device", §3.1 "Device
// Initialization") and the device-status / feature-negotiation state machine both transports share (§2.1, §2.2).
// A device never knows its transport: it gets its queues, its DmaSpace and a tiny context to signal through.

import type { DmaSpace } from '../../memory/dma.js';
import type { Resettable } from '../device.js';
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE, VIRTIO_CONFIG_S_DRIVER, VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_FAILED,
  VIRTIO_CONFIG_S_FEATURES_OK, VIRTIO_CONFIG_S_NEEDS_RESET, VIRTIO_F_VERSION_1, VIRTIO_RING_F_EVENT_IDX,
  VIRTIO_RING_F_INDIRECT_DESC, feature, hasFeature,
} from './constants.js';
import { SplitQueue, type CostCharger } from './queue.js';
import type { QueueError } from './queue-error.js';

/** The device-specific configuration space; the transport maps the driver's accesses onto it. */
export interface VirtioConfigSpace {
  readonly size: number;
  /** A little-endian read of 1, 2 or 4 bytes at `offset` (0 outside the space). */
  read(offset: number, width: 1 | 2 | 4): number;
  /** A driver write; the device keeps what it accepts. */
  write(offset: number, width: 1 | 2 | 4, value: number): void;
}

/** What an activated device gets: its queues, its memory, and how to signal the driver. */
export interface VirtioDeviceContext {
  readonly queues: readonly SplitQueue[];
  readonly dma: DmaSpace;
  /** The features the driver accepted (FEATURES_OK). */
  readonly features: bigint;
  /** True once the device is marked DEVICE_NEEDS_RESET: it must not touch its queues until reset. */
  readonly broken: boolean;
  /** The device put buffers in the used ring of queue `index`: interrupts unless the driver suppressed it. */
  usedBuffers(index: number): void;
  /** The device changed its configuration space: new ConfigGeneration and a configuration-change interrupt. */
  configChanged(): void;
  /** The device met a broken ring or request it cannot recover from: sets DEVICE_NEEDS_RESET (§2.1.2). */
  needsReset(reason: QueueError | string): void;
}

export interface VirtioDevice extends Resettable {
  /** For messages and counter names ("virtio-blk"). */
  readonly name: string;
  /** Virtio device ID (§5: VIRTIO_ID_BLOCK, …). */
  readonly deviceId: number;
  /** Device-type feature bits it offers; the shared layer adds VERSION_1 and the ring features. */
  readonly deviceFeatures: bigint;
  readonly config: VirtioConfigSpace;
  /** Maximum size of each queue; its length is the number of queues. */
  readonly queueMaxSizes: readonly number[];
  /** Refuses a set of accepted features at FEATURES_OK (returns why), or null to accept. */
  validateFeatures?(features: bigint): string | null;
  /** DRIVER_OK: the driver is ready; the device keeps `ctx` until reset(). */
  activate(ctx: VirtioDeviceContext): void;
  /** An available-buffer notification for queue `index` (after DRIVER_OK, while not broken). */
  queueNotify(index: number): void;
  /** Device reset: drop the context and every request in flight. */
  reset(): void;
}

/** How the shared layer raises the transport's interrupts. */
export interface VirtioInterrupts {
  /** A used-buffer notification for queue `index` (MMIO: InterruptStatus bit 0; PCI: the queue's vector). */
  used(index: number): void;
  /** A configuration-change notification (MMIO: InterruptStatus bit 1; PCI: the config vector). */
  config(): void;
}

export interface VirtioStateOptions {
  /** Offer VIRTIO_RING_F_EVENT_IDX / VIRTIO_RING_F_INDIRECT_DESC (default true): switches for measurements. */
  eventIdx?: boolean;
  indirectDesc?: boolean;
  /** Where queue copies are charged (the VM's cost meter). */
  cost?: CostCharger | null;
}

const DRIVER_BITS = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK | VIRTIO_CONFIG_S_FAILED;
const hex = (v: bigint): string => `0x${v.toString(16)}`;

/**
 * Device status and feature negotiation (§2.1, §2.2, §3.1.1), queues and activation, shared by virtio-mmio and
 * virtio-pci: the transport maps registers onto these calls and owns only its register layout and interrupts.
 */
export class VirtioState {
  status = 0;
  /** Features the driver wrote (both words), accepted or not. */
  driverFeatures = 0n;
  /** Everything offered: the device's bits plus VERSION_1 and the ring features. */
  readonly offered: bigint;
  configGeneration = 0;
  readonly queues: SplitQueue[];
  activated = false;
  /** Why the device is marked DEVICE_NEEDS_RESET, or null. */
  failure: string | null = null;
  /** Why the last FEATURES_OK was refused, for the wiring point's logs. */
  refusedFeatures: string | null = null;
  private readonly ctx: VirtioDeviceContext;

  constructor(readonly device: VirtioDevice, readonly dma: DmaSpace, private readonly interrupts: VirtioInterrupts, opts: VirtioStateOptions = {}) {
    let offered = device.deviceFeatures | feature(VIRTIO_F_VERSION_1);
    if (opts.eventIdx ?? true) offered |= feature(VIRTIO_RING_F_EVENT_IDX);
    if (opts.indirectDesc ?? true) offered |= feature(VIRTIO_RING_F_INDIRECT_DESC);
    this.offered = offered;
    this.queues = device.queueMaxSizes.map((max, i) => new SplitQueue(i, max, `${device.name}.q${i}`, opts.cost ?? null));
    const self = this;
    this.ctx = {
      queues: this.queues,
      dma,
      get features() { return self.negotiated; },
      get broken() { return self.failure !== null; },
      usedBuffers: (i) => this.usedBuffers(i),
      configChanged: () => this.configChanged(),
      needsReset: (r) => this.fail(typeof r === 'string' ? r : r.message),
    };
  }

  /** The accepted features (0 until FEATURES_OK). */
  get negotiated(): bigint {
    return (this.status & VIRTIO_CONFIG_S_FEATURES_OK) !== 0 ? this.driverFeatures : 0n;
  }

  /** Word `sel` (0: bits 0-31, 1: bits 32-63) of the offered features; 0 for other words. */
  deviceFeatureWord(sel: number): number {
    return sel === 0 || sel === 1 ? Number((this.offered >> BigInt(32 * sel)) & 0xffff_ffffn) : 0;
  }

  // guest-controlled: sel and value.
  /** The driver writes word `sel` of its features; ignored after FEATURES_OK (negotiation is over). */
  writeDriverFeatureWord(sel: number, value: number): void {
    if ((this.status & VIRTIO_CONFIG_S_FEATURES_OK) !== 0 || (sel !== 0 && sel !== 1)) return;
    const shift = BigInt(32 * sel);
    this.driverFeatures = (this.driverFeatures & ~(0xffff_ffffn << shift)) | (BigInt(value >>> 0) << shift);
  }

  /** Why the driver's features cannot be accepted, or null (§2.2.1: refuse what was not offered). */
  private checkFeatures(f: bigint): string | null {
    const unknown = f & ~this.offered;
    if (unknown !== 0n) return `the driver accepted features ${hex(unknown)} that were not offered (offered ${hex(this.offered)})`;
    if (!hasFeature(f, VIRTIO_F_VERSION_1)) return 'the driver did not accept VIRTIO_F_VERSION_1 (legacy drivers are not supported)';
    return this.device.validateFeatures?.(f) ?? null;
  }

  // guest-controlled: the status byte.
  /** A write to device status (§2.1): 0 resets; bits are only ever added by the driver. */
  writeStatus(value: number): void {
    const v = value & 0xff;
    if (v === 0) { this.reset(); return; }
    const old = this.status;
    let next = (old | (v & DRIVER_BITS)) & ~VIRTIO_CONFIG_S_NEEDS_RESET;
    const added = next & ~old;
    if ((added & VIRTIO_CONFIG_S_FEATURES_OK) !== 0) {
      const why = (next & VIRTIO_CONFIG_S_DRIVER) === 0 ? 'FEATURES_OK before DRIVER' : this.checkFeatures(this.driverFeatures);
      if (why !== null) { this.refusedFeatures = why; next &= ~VIRTIO_CONFIG_S_FEATURES_OK; } else this.applyRingFeatures();
    }
    if ((added & VIRTIO_CONFIG_S_DRIVER_OK) !== 0 && (next & VIRTIO_CONFIG_S_FEATURES_OK) === 0) next &= ~VIRTIO_CONFIG_S_DRIVER_OK;
    this.status = next | (old & VIRTIO_CONFIG_S_NEEDS_RESET);
    if ((this.status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0 && !this.activated && this.failure === null && (this.status & VIRTIO_CONFIG_S_FAILED) === 0) {
      this.activated = true;
      this.device.activate(this.ctx);
    }
  }

  private applyRingFeatures(): void {
    const f = this.driverFeatures;
    for (const q of this.queues) {
      q.eventIdx = hasFeature(f, VIRTIO_RING_F_EVENT_IDX);
      q.indirectDesc = hasFeature(f, VIRTIO_RING_F_INDIRECT_DESC);
    }
  }

  /** Queue `index`, or null past the device's queues (QueueSel pointing nowhere). */
  queue(index: number): SplitQueue | null { return this.queues[index] ?? null; }

  // guest-controlled: the queue index and its configuration.
  /** QueueReady: 1 checks and starts the queue (a bad configuration sets DEVICE_NEEDS_RESET), 0 stops it. */
  setQueueReady(index: number, ready: boolean): void {
    const q = this.queue(index);
    if (q === null || ready === q.ready) return;
    if (!ready) { q.ready = false; return; }
    if ((this.status & VIRTIO_CONFIG_S_FEATURES_OK) !== 0) this.applyRingFeatures();
    const err = q.enable();
    if (err !== null) this.fail(err.message);
  }

  // guest-controlled: the queue index.
  /** An available-buffer notification (the doorbell): counted, and passed to the device once it runs. */
  notify(index: number): void {
    const q = this.queue(index);
    if (q === null) return;
    q.counters.notifications++;
    if (!this.activated || this.failure !== null) return;
    this.device.queueNotify(index);
    if (q.error !== null) this.fail(q.error.message);
  }

  private usedBuffers(index: number): void {
    const q = this.queue(index);
    if (q === null || this.failure !== null) return;
    if (q.needsInterrupt(this.dma)) this.interrupts.used(index);
    if (q.error !== null) this.fail(q.error.message);
  }

  private configChanged(): void {
    this.configGeneration = (this.configGeneration + 1) >>> 0;
    if ((this.status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0) this.interrupts.config();
  }

  /**
   * Marks the device DEVICE_NEEDS_RESET (§2.1.2): it stops using its queues, and the driver is told through a
   * configuration-change notification when DRIVER_OK is set. Only a reset clears it.
   */
  fail(reason: string): void {
    if (this.failure !== null) return;
    this.failure = reason;
    this.status |= VIRTIO_CONFIG_S_NEEDS_RESET;
    if ((this.status & VIRTIO_CONFIG_S_DRIVER_OK) !== 0) this.interrupts.config();
  }

  /** Device reset (status 0): the device, every queue, the features and the status go back to power-on. */
  reset(): void {
    this.device.reset();
    for (const q of this.queues) q.reset();
    this.status = 0;
    this.driverFeatures = 0n;
    this.activated = false;
    this.failure = null;
    this.refusedFeatures = null;
  }
}
