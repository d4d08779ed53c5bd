// A mock guest driver for the virtio-mmio transport: Linux 6.12 drivers/virtio/virtio_mmio.c's register sequence
// (probe, feature negotiation, queue setup, notify, interrupt acknowledge; virtio 1.2 §3.1.1 and §4.2.3), over
// 32-bit register accesses — either straight to the transport or through the bus, so exits are counted.

import type { Width } from '../../../memory/bus.js';
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE, VIRTIO_CONFIG_S_DRIVER, VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_FEATURES_OK,
} from '../constants.js';
import {
  VIRTIO_MMIO_CONFIG, VIRTIO_MMIO_DEVICE_FEATURES, VIRTIO_MMIO_DEVICE_FEATURES_SEL, VIRTIO_MMIO_DEVICE_ID,
  VIRTIO_MMIO_DRIVER_FEATURES, VIRTIO_MMIO_DRIVER_FEATURES_SEL, VIRTIO_MMIO_INTERRUPT_ACK,
  VIRTIO_MMIO_INTERRUPT_STATUS, VIRTIO_MMIO_MAGIC, VIRTIO_MMIO_MAGIC_VALUE, VIRTIO_MMIO_QUEUE_AVAIL_HIGH,
  VIRTIO_MMIO_QUEUE_AVAIL_LOW, VIRTIO_MMIO_QUEUE_DESC_HIGH, VIRTIO_MMIO_QUEUE_DESC_LOW, VIRTIO_MMIO_QUEUE_NOTIFY,
  VIRTIO_MMIO_QUEUE_NUM, VIRTIO_MMIO_QUEUE_NUM_MAX, VIRTIO_MMIO_QUEUE_READY, VIRTIO_MMIO_QUEUE_SEL,
  VIRTIO_MMIO_QUEUE_USED_HIGH, VIRTIO_MMIO_QUEUE_USED_LOW, VIRTIO_MMIO_STATUS, VIRTIO_MMIO_VERSION,
} from '../mmio.js';
import type { MockDriver } from './mock-driver.js';

/** Register access to a transport window (the transport itself, or the bus at the window's base). */
export interface MmioPort {
  read(offset: number, width: Width): number | bigint;
  write(offset: number, width: Width, value: number | bigint): void;
}

export class MockMmioDriver {
  constructor(readonly port: MmioPort) {}

  r(offset: number): number { return Number(this.port.read(offset, 4)); }
  w(offset: number, v: number): void { this.port.write(offset, 4, v >>> 0); }

  /** MagicValue, Version and DeviceID as virtio_mmio_probe() checks them; returns the device ID. */
  probe(): number {
    if (this.r(VIRTIO_MMIO_MAGIC_VALUE) !== VIRTIO_MMIO_MAGIC) throw new Error('wrong magic value');
    if (this.r(VIRTIO_MMIO_VERSION) !== 2) throw new Error('not a version 2 virtio-mmio device');
    return this.r(VIRTIO_MMIO_DEVICE_ID);
  }

  get status(): number { return this.r(VIRTIO_MMIO_STATUS); }
  set status(v: number) { this.w(VIRTIO_MMIO_STATUS, v); }

  deviceFeatures(): bigint {
    this.w(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    const hi = BigInt(this.r(VIRTIO_MMIO_DEVICE_FEATURES));
    this.w(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    return (hi << 32n) | BigInt(this.r(VIRTIO_MMIO_DEVICE_FEATURES));
  }

  writeDriverFeatures(f: bigint): void {
    this.w(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    this.w(VIRTIO_MMIO_DRIVER_FEATURES, Number((f >> 32n) & 0xffff_ffffn));
    this.w(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    this.w(VIRTIO_MMIO_DRIVER_FEATURES, Number(f & 0xffff_ffffn));
  }

  /** ACKNOWLEDGE, DRIVER, features, FEATURES_OK and its re-read (§3.1.1 steps 1-6). True when accepted. */
  negotiate(accept: (offered: bigint) => bigint = (o) => o): boolean {
    this.status = 0;
    this.status = VIRTIO_CONFIG_S_ACKNOWLEDGE;
    this.status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
    this.writeDriverFeatures(accept(this.deviceFeatures()));
    this.status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK;
    return (this.status & VIRTIO_CONFIG_S_FEATURES_OK) !== 0;
  }

  /** vm_setup_vq(): select, check not in use, size, the three areas, ready. Returns QueueReady as read back. */
  setupQueue(index: number, ring: MockDriver): boolean {
    this.w(VIRTIO_MMIO_QUEUE_SEL, index);
    if (this.r(VIRTIO_MMIO_QUEUE_READY) !== 0) throw new Error(`queue ${index} is already in use`);
    const max = this.r(VIRTIO_MMIO_QUEUE_NUM_MAX);
    if (max === 0 || ring.size > max) throw new Error(`queue ${index}: size ${ring.size} but the device allows ${max}`);
    this.w(VIRTIO_MMIO_QUEUE_NUM, ring.size);
    const lohi = (lo: number, hi: number, a: number) => { this.w(lo, a % 0x1_0000_0000); this.w(hi, Math.floor(a / 0x1_0000_0000)); };
    lohi(VIRTIO_MMIO_QUEUE_DESC_LOW, VIRTIO_MMIO_QUEUE_DESC_HIGH, ring.desc);
    lohi(VIRTIO_MMIO_QUEUE_AVAIL_LOW, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, ring.avail);
    lohi(VIRTIO_MMIO_QUEUE_USED_LOW, VIRTIO_MMIO_QUEUE_USED_HIGH, ring.used);
    this.w(VIRTIO_MMIO_QUEUE_READY, 1);
    return this.r(VIRTIO_MMIO_QUEUE_READY) === 1;
  }

  /** The whole bring-up: negotiate, set up every ring, DRIVER_OK. Throws when the device refuses a step. */
  init(rings: readonly MockDriver[], accept?: (offered: bigint) => bigint): void {
    if (!this.negotiate(accept)) throw new Error('the device refused the features');
    rings.forEach((ring, i) => { if (!this.setupQueue(i, ring)) throw new Error(`queue ${i} did not become ready`); });
    this.status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;
  }

  notify(index: number): void { this.w(VIRTIO_MMIO_QUEUE_NOTIFY, index); }

  /** vm_interrupt(): reads InterruptStatus and acknowledges it; returns what was pending. */
  ack(): number {
    const s = this.r(VIRTIO_MMIO_INTERRUPT_STATUS);
    this.w(VIRTIO_MMIO_INTERRUPT_ACK, s);
    return s;
  }

  /** A config-space read of `width` bytes at `offset` (vm_get). */
  config(offset: number, width: 1 | 2 | 4): number { return Number(this.port.read(VIRTIO_MMIO_CONFIG + offset, width)); }
}
