// The virtio-pci transport, modern only (virtio 1.2 §4.1; Linux 6.12 include/uapi/linux/virtio_pci.h,
// drivers/virtio/virtio_pci_modern_dev.c): a PCI device whose vendor capabilities point into one 64-bit BAR at the
// common configuration, the notify doorbells, the ISR byte and the device configuration; MSI-X with a vector per
// queue plus a configuration vector, and INTx (ISR) when MSI-X is off. The device is the same object the MMIO
// transport drives: it never knows its transport.

import type { Width } from '../../memory/bus.js';
import type { ExitClass } from '../../metrics/counters.js';
import { RegisterTable, type RegisterDef } from '../../memory/register-table.js';
import type { CapabilitySpec, ConfigWindow } from '../../pci/config-space.js';
import { INTA, type BarSpec, type PciDevice, type PciFunctionContext, type PciIdentity } from '../../pci/device.js';
import { VirtioState, type VirtioDevice, type VirtioStateOptions } from './device.js';

export const PCI_VENDOR_ID_REDHAT_QUMRANET = 0x1af4;
/** Modern device IDs are 0x1040 + the virtio device ID (§4.1.2.1). */
export const VIRTIO_PCI_DEVICE_ID_BASE = 0x1040;
export const PCI_CAP_ID_VNDR = 0x09;

// virtio_pci_cap.cfg_type (§4.1.4)
export const VIRTIO_PCI_CAP_COMMON_CFG = 1;
export const VIRTIO_PCI_CAP_NOTIFY_CFG = 2;
export const VIRTIO_PCI_CAP_ISR_CFG = 3;
export const VIRTIO_PCI_CAP_DEVICE_CFG = 4;
export const VIRTIO_PCI_CAP_PCI_CFG = 5;

// struct virtio_pci_common_cfg (§4.1.4.3)
export const VIRTIO_PCI_COMMON_DFSELECT = 0x00;
export const VIRTIO_PCI_COMMON_DF = 0x04;
export const VIRTIO_PCI_COMMON_GFSELECT = 0x08;
export const VIRTIO_PCI_COMMON_GF = 0x0c;
export const VIRTIO_PCI_COMMON_MSIX = 0x10;
export const VIRTIO_PCI_COMMON_NUMQ = 0x12;
export const VIRTIO_PCI_COMMON_STATUS = 0x14;
export const VIRTIO_PCI_COMMON_CFGGENERATION = 0x15;
export const VIRTIO_PCI_COMMON_Q_SELECT = 0x16;
export const VIRTIO_PCI_COMMON_Q_SIZE = 0x18;
export const VIRTIO_PCI_COMMON_Q_MSIX = 0x1a;
export const VIRTIO_PCI_COMMON_Q_ENABLE = 0x1c;
export const VIRTIO_PCI_COMMON_Q_NOFF = 0x1e;
export const VIRTIO_PCI_COMMON_Q_DESCLO = 0x20;
export const VIRTIO_PCI_COMMON_Q_DESCHI = 0x24;
export const VIRTIO_PCI_COMMON_Q_AVAILLO = 0x28;
export const VIRTIO_PCI_COMMON_Q_AVAILHI = 0x2c;
export const VIRTIO_PCI_COMMON_Q_USEDLO = 0x30;
export const VIRTIO_PCI_COMMON_Q_USEDHI = 0x34;
export const VIRTIO_PCI_COMMON_Q_NDATA = 0x38;
export const VIRTIO_PCI_COMMON_Q_RESET = 0x3a;

export const VIRTIO_MSI_NO_VECTOR = 0xffff;
export const VIRTIO_PCI_ISR_QUEUE = 0x1;
export const VIRTIO_PCI_ISR_CONFIG = 0x2;

/** The layout of the BAR (QEMU uses BAR 4 with 4 KiB per structure; so does vmio). */
export const VIRTIO_PCI_BAR = 4;
export const VIRTIO_PCI_COMMON_OFFSET = 0x0000;
export const VIRTIO_PCI_ISR_OFFSET = 0x1000;
export const VIRTIO_PCI_DEVICE_OFFSET = 0x2000;
export const VIRTIO_PCI_NOTIFY_OFFSET = 0x3000;
/** Each queue's doorbell is 4 bytes apart (notify_off_multiplier), queue_notify_off = the queue index. */
export const VIRTIO_PCI_NOTIFY_MULTIPLIER = 4;
export const VIRTIO_PCI_MSIX_TABLE = 0x4000;
export const VIRTIO_PCI_MSIX_PBA = 0x6000;
export const VIRTIO_PCI_BAR_SIZE = 0x8000;
const STRUCT_SIZE = 0x1000;

/** PCI class codes by virtio device ID (what QEMU reports). */
const CLASS_BY_ID: Readonly<Record<number, number>> = {
  1: 0x02_00_00, // network: Ethernet controller
  2: 0x01_80_00, // block: mass storage, other
  3: 0x07_80_00, // console: communication controller, other
  4: 0x00_ff_00, // entropy: unclassified
};

const LOW = 0xffff_ffffn;
type QueueArea = 'desc' | 'driver' | 'device';

/** A vendor capability pointing at [offset, offset+length) of the BAR (struct virtio_pci_cap, §4.1.4). */
function virtioCap(cfgType: number, offset: number, length: number, extra: (w: ConfigWindow) => void = () => {}, size = 16): CapabilitySpec {
  return {
    id: PCI_CAP_ID_VNDR, size,
    install(w: ConfigWindow): void {
      w.set8(2, size); // cap_len
      w.set8(3, cfgType);
      w.set8(4, VIRTIO_PCI_BAR);
      w.set32(8, offset);
      w.set32(12, length);
      extra(w);
    },
  };
}

export interface VirtioPciOptions extends VirtioStateOptions {
  /** Exit class of the notify doorbells: 'notify' (ioeventfd; the default) or 'user' (the backend runs after an exit to user space). */
  doorbell?: ExitClass;
}

export class VirtioPciDevice implements PciDevice {
  readonly identity: PciIdentity;
  readonly interruptPin = INTA;
  readonly msix: { vectors: number; tableBar: number; tableOffset: number; pbaBar: number; pbaOffset: number };
  readonly bars: readonly (BarSpec | null)[];
  readonly capabilities: readonly CapabilitySpec[];
  readonly common: RegisterTable;
  private state: VirtioState | null = null;
  private ctx: PciFunctionContext | null = null;
  private dfSelect = 0;
  private gfSelect = 0;
  private queueSel = 0;
  private configVector = VIRTIO_MSI_NO_VECTOR;
  private queueVectors: number[];
  private isr = 0;
  private intxLevel = false;

  constructor(readonly device: VirtioDevice, private readonly opts: VirtioPciOptions = {}) {
    const id = device.deviceId;
    this.identity = {
      vendorId: PCI_VENDOR_ID_REDHAT_QUMRANET, deviceId: VIRTIO_PCI_DEVICE_ID_BASE + id, classCode: CLASS_BY_ID[id] ?? 0x00_ff_00,
      revision: 1, subsystemVendorId: PCI_VENDOR_ID_REDHAT_QUMRANET, subsystemId: VIRTIO_PCI_DEVICE_ID_BASE + id,
    };
    const queues = device.queueMaxSizes.length;
    this.queueVectors = new Array<number>(queues).fill(VIRTIO_MSI_NO_VECTOR);
    this.msix = { vectors: queues + 1, tableBar: VIRTIO_PCI_BAR, tableOffset: VIRTIO_PCI_MSIX_TABLE, pbaBar: VIRTIO_PCI_BAR, pbaOffset: VIRTIO_PCI_MSIX_PBA };
    this.common = new RegisterTable(`virtio-pci(${device.name})`, this.commonRegisters());
    const bars: (BarSpec | null)[] = [null, null, null, null, null, null];
    bars[VIRTIO_PCI_BAR] = {
      size: VIRTIO_PCI_BAR_SIZE, is64: true, prefetchable: true, exitClass: 'user',
      handler: { read: (o, w) => this.barRead(o, w), write: (o, w, v) => this.barWrite(o, w, v) },
      classes: [{ offset: VIRTIO_PCI_NOTIFY_OFFSET, size: STRUCT_SIZE, exitClass: opts.doorbell ?? 'notify' }],
      registerName: (o) => this.barName(o),
      onFailure: (e) => { this.state?.fail(`${device.name} failed: ${e.message}`); return true; },
    };
    this.bars = bars;
    const cfgSize = Math.max(4, device.config.size);
    this.capabilities = [
      virtioCap(VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_COMMON_OFFSET, 0x40),
      virtioCap(VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_ISR_OFFSET, 1),
      virtioCap(VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_DEVICE_OFFSET, cfgSize),
      virtioCap(VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_OFFSET, STRUCT_SIZE, (w) => w.set32(16, VIRTIO_PCI_NOTIFY_MULTIPLIER), 20),
    ];
  }

  attach(ctx: PciFunctionContext): void {
    this.ctx = ctx;
    this.state = new VirtioState(this.device, ctx.dma, { used: (q) => this.used(q), config: () => this.configInterrupt() }, this.opts);
  }

  /** The shared status/feature/queue state (after attach). */
  get virtio(): VirtioState {
    if (this.state === null) throw new Error('virtio-pci: the device is not attached to a PCI function yet');
    return this.state;
  }

  private get q() { return this.virtio.queue(this.queueSel); }

  // guest-controlled: queue_select and the queue registers behind it; ignored while the queue is enabled.
  private setQueueArea(area: QueueArea, high: boolean, v: number): void {
    const q = this.q;
    if (q === null || q.ready) return;
    const old = q[area];
    q[area] = high ? (old & LOW) | (BigInt(v >>> 0) << 32n) : (old & ~LOW) | BigInt(v >>> 0);
  }

  private commonRegisters(): RegisterDef[] {
    const rw32 = (name: string, offset: number, read: () => number, write: (v: number) => void, plain = true): RegisterDef =>
      ({ name, offset, width: 4, read, write, sideEffects: plain ? 'none' : 'write' });
    const area = (name: string, offset: number, a: QueueArea): RegisterDef[] => [
      rw32(`${name}_lo`, offset, () => Number((this.q?.[a] ?? 0n) & LOW), (v) => this.setQueueArea(a, false, v)),
      rw32(`${name}_hi`, offset + 4, () => Number(((this.q?.[a] ?? 0n) >> 32n) & LOW), (v) => this.setQueueArea(a, true, v)),
    ];
    return [
      rw32('device_feature_select', VIRTIO_PCI_COMMON_DFSELECT, () => this.dfSelect, (v) => { this.dfSelect = v; }),
      { name: 'device_feature', offset: VIRTIO_PCI_COMMON_DF, width: 4, sideEffects: 'none', read: () => this.virtio.deviceFeatureWord(this.dfSelect) },
      rw32('driver_feature_select', VIRTIO_PCI_COMMON_GFSELECT, () => this.gfSelect, (v) => { this.gfSelect = v; }),
      rw32('driver_feature', VIRTIO_PCI_COMMON_GF, () => Number((this.virtio.driverFeatures >> BigInt(32 * (this.gfSelect & 1))) & LOW),
        (v) => this.virtio.writeDriverFeatureWord(this.gfSelect, v)),
      { name: 'config_msix_vector', offset: VIRTIO_PCI_COMMON_MSIX, width: 2, sideEffects: 'none', read: () => this.configVector, write: (v) => { this.configVector = this.vector(v); } },
      { name: 'num_queues', offset: VIRTIO_PCI_COMMON_NUMQ, width: 2, sideEffects: 'none', read: () => this.virtio.queues.length },
      { name: 'device_status', offset: VIRTIO_PCI_COMMON_STATUS, width: 1, sideEffects: 'write', read: () => this.virtio.status, write: (v) => this.writeStatus(v) },
      { name: 'config_generation', offset: VIRTIO_PCI_COMMON_CFGGENERATION, width: 1, sideEffects: 'none', read: () => this.virtio.configGeneration & 0xff },
      { name: 'queue_select', offset: VIRTIO_PCI_COMMON_Q_SELECT, width: 2, sideEffects: 'none', read: () => this.queueSel, write: (v) => { this.queueSel = v; } },
      {
        name: 'queue_size', offset: VIRTIO_PCI_COMMON_Q_SIZE, width: 2, sideEffects: 'none',
        read: () => this.q?.size ?? 0, write: (v) => { const q = this.q; if (q !== null && !q.ready) q.size = v; },
      },
      {
        name: 'queue_msix_vector', offset: VIRTIO_PCI_COMMON_Q_MSIX, width: 2, sideEffects: 'none',
        read: () => this.queueVectors[this.queueSel] ?? VIRTIO_MSI_NO_VECTOR,
        write: (v) => { if (this.queueSel < this.queueVectors.length) this.queueVectors[this.queueSel] = this.vector(v); },
      },
      {
        name: 'queue_enable', offset: VIRTIO_PCI_COMMON_Q_ENABLE, width: 2, sideEffects: 'write',
        read: () => (this.q?.ready === true ? 1 : 0), write: (v) => { if ((v & 1) !== 0) this.virtio.setQueueReady(this.queueSel, true); },
      },
      { name: 'queue_notify_off', offset: VIRTIO_PCI_COMMON_Q_NOFF, width: 2, sideEffects: 'none', read: () => (this.q === null ? 0 : this.queueSel) },
      ...area('queue_desc', VIRTIO_PCI_COMMON_Q_DESCLO, 'desc'),
      ...area('queue_driver', VIRTIO_PCI_COMMON_Q_AVAILLO, 'driver'),
      ...area('queue_device', VIRTIO_PCI_COMMON_Q_USEDLO, 'device'),
      { name: 'queue_notify_data', offset: VIRTIO_PCI_COMMON_Q_NDATA, width: 2, sideEffects: 'none', read: () => (this.q === null ? 0 : this.queueSel) },
      { name: 'queue_reset', offset: VIRTIO_PCI_COMMON_Q_RESET, width: 2, sideEffects: 'none', read: () => 0, write: () => {} },
    ];
  }

  /** A vector the driver asked for: kept when the table has it, else NO_VECTOR (the driver reads it back, §4.1.5.1.2). */
  private vector(v: number): number {
    return v !== VIRTIO_MSI_NO_VECTOR && v < this.msix.vectors ? v : VIRTIO_MSI_NO_VECTOR;
  }

  private writeStatus(v: number): void {
    this.virtio.writeStatus(v);
    if ((v & 0xff) === 0) this.resetTransport();
  }

  private resetTransport(): void {
    this.dfSelect = this.gfSelect = this.queueSel = 0;
    this.configVector = VIRTIO_MSI_NO_VECTOR;
    this.queueVectors.fill(VIRTIO_MSI_NO_VECTOR);
    this.isr = 0;
    this.setIntx(false);
  }

  private msixOn(): boolean { return this.ctx?.msix?.enabled === true; }

  private used(q: number): void {
    if (this.msixOn()) {
      const v = this.queueVectors[q] ?? VIRTIO_MSI_NO_VECTOR;
      if (v !== VIRTIO_MSI_NO_VECTOR) this.ctx!.msix!.notify(v);
      return;
    }
    this.isr |= VIRTIO_PCI_ISR_QUEUE;
    this.setIntx(true);
  }

  private configInterrupt(): void {
    if (this.msixOn()) {
      if (this.configVector !== VIRTIO_MSI_NO_VECTOR) this.ctx!.msix!.notify(this.configVector);
      return;
    }
    this.isr |= VIRTIO_PCI_ISR_CONFIG;
    this.setIntx(true);
  }

  private setIntx(level: boolean): void {
    if (level === this.intxLevel) return;
    this.intxLevel = level;
    this.ctx?.intx.set(level);
  }

  // guest-controlled: any offset and width inside the BAR (the MSI-X table and PBA are served by the framework).
  private barRead(offset: number, width: Width): number | bigint {
    if (offset < VIRTIO_PCI_ISR_OFFSET) return this.common.read(offset - VIRTIO_PCI_COMMON_OFFSET, width);
    if (offset < VIRTIO_PCI_DEVICE_OFFSET) {
      if (offset !== VIRTIO_PCI_ISR_OFFSET) return width === 8 ? 0n : 0;
      const v = this.isr; // reading the ISR clears it and deasserts INTx (§4.1.4.5)
      this.isr = 0;
      this.setIntx(false);
      return width === 8 ? BigInt(v) : v;
    }
    if (offset < VIRTIO_PCI_NOTIFY_OFFSET) {
      const o = offset - VIRTIO_PCI_DEVICE_OFFSET, c = this.device.config;
      if (width === 8) return BigInt(c.read(o, 4)) | (BigInt(c.read(o + 4, 4)) << 32n);
      return c.read(o, width);
    }
    return width === 8 ? 0n : 0;
  }

  private barWrite(offset: number, width: Width, value: number | bigint): void {
    const v32 = typeof value === 'bigint' ? Number(BigInt.asUintN(32, value)) : value >>> 0;
    if (offset < VIRTIO_PCI_ISR_OFFSET) { this.common.write(offset - VIRTIO_PCI_COMMON_OFFSET, width, value); return; }
    if (offset < VIRTIO_PCI_DEVICE_OFFSET) return; // the ISR is read-only
    if (offset < VIRTIO_PCI_NOTIFY_OFFSET) {
      const o = offset - VIRTIO_PCI_DEVICE_OFFSET;
      if (width === 8) {
        const b = BigInt.asUintN(64, BigInt(value));
        this.device.config.write(o, 4, Number(b & LOW));
        this.device.config.write(o + 4, 4, Number(b >> 32n));
      } else {
        this.device.config.write(o, width, v32);
      }
      return;
    }
    if (offset < VIRTIO_PCI_NOTIFY_OFFSET + STRUCT_SIZE) {
      // The doorbell of queue (offset - notify base) / multiplier; the value written is the queue index (§4.1.5.2).
      const q = Math.floor((offset - VIRTIO_PCI_NOTIFY_OFFSET) / VIRTIO_PCI_NOTIFY_MULTIPLIER);
      this.virtio.notify(q);
    }
  }

  private barName(offset: number): string | undefined {
    if (offset < VIRTIO_PCI_ISR_OFFSET) return this.common.nameAt(offset);
    if (offset === VIRTIO_PCI_ISR_OFFSET) return 'isr';
    if (offset >= VIRTIO_PCI_DEVICE_OFFSET && offset < VIRTIO_PCI_NOTIFY_OFFSET) return `config+${offset - VIRTIO_PCI_DEVICE_OFFSET}`;
    if (offset >= VIRTIO_PCI_NOTIFY_OFFSET && offset < VIRTIO_PCI_NOTIFY_OFFSET + STRUCT_SIZE) return `notify${Math.floor((offset - VIRTIO_PCI_NOTIFY_OFFSET) / VIRTIO_PCI_NOTIFY_MULTIPLIER)}`;
    return undefined;
  }

  /** Function-level or VM reset. */
  reset(): void {
    this.state?.reset();
    this.resetTransport();
  }
}
