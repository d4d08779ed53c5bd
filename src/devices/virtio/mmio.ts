// The virtio-mmio transport, version 2 (virtio 1.2 §4.2 "Virtio Over MMIO"; register names from Linux 6.12
// include/uapi/linux/virtio_mmio.h): a register table over the shared status/feature/queue state machine
// (device.ts), the device configuration space at 0x100, and a level-triggered interrupt line raised while
// InterruptStatus has a bit set and lowered by InterruptACK. QueueNotify is the paravirtual doorbell: the wiring
// point declares it exit class 'notify' with virtioMmioRegion().

import type { ExitClass } from '../../metrics/counters.js';
import type { MmioHandler, RegionSpec, Width } from '../../memory/bus.js';
import type { DmaSpace } from '../../memory/dma.js';
import { RegisterTable, type RegisterDef } from '../../memory/register-table.js';
import type { IrqLine } from '../../board/irq.js';
import type { IrqWindow } from '../../board/virt-map.js';
import { VirtioState, type VirtioDevice, type VirtioStateOptions } from './device.js';

export const VIRTIO_MMIO_MAGIC_VALUE = 0x000;
export const VIRTIO_MMIO_VERSION = 0x004;
export const VIRTIO_MMIO_DEVICE_ID = 0x008;
export const VIRTIO_MMIO_VENDOR_ID = 0x00c;
export const VIRTIO_MMIO_DEVICE_FEATURES = 0x010;
export const VIRTIO_MMIO_DEVICE_FEATURES_SEL = 0x014;
export const VIRTIO_MMIO_DRIVER_FEATURES = 0x020;
export const VIRTIO_MMIO_DRIVER_FEATURES_SEL = 0x024;
export const VIRTIO_MMIO_QUEUE_SEL = 0x030;
export const VIRTIO_MMIO_QUEUE_NUM_MAX = 0x034;
export const VIRTIO_MMIO_QUEUE_NUM = 0x038;
export const VIRTIO_MMIO_QUEUE_READY = 0x044;
export const VIRTIO_MMIO_QUEUE_NOTIFY = 0x050;
export const VIRTIO_MMIO_INTERRUPT_STATUS = 0x060;
export const VIRTIO_MMIO_INTERRUPT_ACK = 0x064;
export const VIRTIO_MMIO_STATUS = 0x070;
export const VIRTIO_MMIO_QUEUE_DESC_LOW = 0x080;
export const VIRTIO_MMIO_QUEUE_DESC_HIGH = 0x084;
export const VIRTIO_MMIO_QUEUE_AVAIL_LOW = 0x090;
export const VIRTIO_MMIO_QUEUE_AVAIL_HIGH = 0x094;
export const VIRTIO_MMIO_QUEUE_USED_LOW = 0x0a0;
export const VIRTIO_MMIO_QUEUE_USED_HIGH = 0x0a4;
export const VIRTIO_MMIO_SHM_SEL = 0x0ac;
export const VIRTIO_MMIO_SHM_LEN_LOW = 0x0b0;
export const VIRTIO_MMIO_SHM_LEN_HIGH = 0x0b4;
export const VIRTIO_MMIO_SHM_BASE_LOW = 0x0b8;
export const VIRTIO_MMIO_SHM_BASE_HIGH = 0x0bc;
export const VIRTIO_MMIO_CONFIG_GENERATION = 0x0fc;
export const VIRTIO_MMIO_CONFIG = 0x100;

export const VIRTIO_MMIO_INT_VRING = 1 << 0;
export const VIRTIO_MMIO_INT_CONFIG = 1 << 1;

/** "virt" in little-endian (§4.2.2). */
export const VIRTIO_MMIO_MAGIC = 0x74726976;
/** The VendorID vmio reports ("VMIO" little-endian); drivers do not match on it. */
export const VIRTIO_MMIO_VENDOR_VMIO = 0x4f494d56;
/** The doorbell: one 32-bit register the wiring point declares exit class 'notify'. */
export const VIRTIO_MMIO_NOTIFY_OFFSET = VIRTIO_MMIO_QUEUE_NOTIFY;
export const VIRTIO_MMIO_NOTIFY_SIZE = 4;
/** The window of one transport on the virt board (QEMU: 0x200 is enough; the slots are 0x1000 apart). */
export const VIRTIO_MMIO_WINDOW = 0x1000;

export interface VirtioMmioOptions extends VirtioStateOptions {
  /** The transport's interrupt line (a PLIC source, wrapped with counters at the wiring point). */
  irq: IrqLine;
  /** The device's view of guest memory. */
  dma: DmaSpace;
}

type QueueArea = 'desc' | 'driver' | 'device';
const LOW = 0xffff_ffffn;

export class VirtioMmioTransport implements MmioHandler {
  readonly state: VirtioState;
  readonly table: RegisterTable;
  interruptStatus = 0;
  private irqLevel = false;
  private readonly irq: IrqLine;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private queueSel = 0;

  constructor(readonly device: VirtioDevice, opts: VirtioMmioOptions) {
    this.irq = opts.irq;
    this.state = new VirtioState(device, opts.dma, {
      used: () => this.raise(VIRTIO_MMIO_INT_VRING),
      config: () => this.raise(VIRTIO_MMIO_INT_CONFIG),
    }, opts);
    this.table = new RegisterTable(`virtio-mmio(${device.name})`, this.registers());
  }

  private get q() { return this.state.queue(this.queueSel); }

  // guest-controlled: QueueSel, and every queue register through it.
  /** A queue register write: ignored while the queue is ready (§4.2.2.2) or QueueSel names no queue. */
  private setQueueArea(area: QueueArea, high: boolean, v: number): void {
    const q = this.q;
    if (q === null || q.ready) return;
    const old = q[area];
    q[area] = high ? (old & LOW) | (BigInt(v >>> 0) << 32n) : (old & ~LOW) | BigInt(v >>> 0);
  }

  private registers(): RegisterDef[] {
    const s = this.state;
    const ro = (name: string, offset: number, read: () => number): RegisterDef => ({ name, offset, width: 4, read, sideEffects: 'none' });
    const wo = (name: string, offset: number, write: (v: number) => void, plain = true): RegisterDef =>
      ({ name, offset, width: 4, write, sideEffects: plain ? 'none' : 'write' });
    const area = (name: string, offset: number, a: QueueArea): RegisterDef[] => [
      wo(`${name}Low`, offset, (v) => this.setQueueArea(a, false, v)),
      wo(`${name}High`, offset + 4, (v) => this.setQueueArea(a, true, v)),
    ];
    return [
      ro('MagicValue', VIRTIO_MMIO_MAGIC_VALUE, () => VIRTIO_MMIO_MAGIC),
      ro('Version', VIRTIO_MMIO_VERSION, () => 2),
      ro('DeviceID', VIRTIO_MMIO_DEVICE_ID, () => this.device.deviceId),
      ro('VendorID', VIRTIO_MMIO_VENDOR_ID, () => VIRTIO_MMIO_VENDOR_VMIO),
      ro('DeviceFeatures', VIRTIO_MMIO_DEVICE_FEATURES, () => s.deviceFeatureWord(this.deviceFeaturesSel)),
      wo('DeviceFeaturesSel', VIRTIO_MMIO_DEVICE_FEATURES_SEL, (v) => { this.deviceFeaturesSel = v; }),
      wo('DriverFeatures', VIRTIO_MMIO_DRIVER_FEATURES, (v) => s.writeDriverFeatureWord(this.driverFeaturesSel, v)),
      wo('DriverFeaturesSel', VIRTIO_MMIO_DRIVER_FEATURES_SEL, (v) => { this.driverFeaturesSel = v; }),
      wo('QueueSel', VIRTIO_MMIO_QUEUE_SEL, (v) => { this.queueSel = v; }),
      ro('QueueNumMax', VIRTIO_MMIO_QUEUE_NUM_MAX, () => this.q?.maxSize ?? 0),
      wo('QueueNum', VIRTIO_MMIO_QUEUE_NUM, (v) => { const q = this.q; if (q !== null && !q.ready) q.size = v; }),
      {
        name: 'QueueReady', offset: VIRTIO_MMIO_QUEUE_READY, width: 4, sideEffects: 'write',
        read: () => (this.q?.ready === true ? 1 : 0), write: (v) => s.setQueueReady(this.queueSel, (v & 1) !== 0),
      },
      wo('QueueNotify', VIRTIO_MMIO_QUEUE_NOTIFY, (v) => s.notify(v & 0xffff), false),
      { name: 'InterruptStatus', offset: VIRTIO_MMIO_INTERRUPT_STATUS, width: 4, sideEffects: 'none', read: () => this.interruptStatus },
      wo('InterruptACK', VIRTIO_MMIO_INTERRUPT_ACK, (v) => this.ack(v), false),
      {
        name: 'Status', offset: VIRTIO_MMIO_STATUS, width: 4, sideEffects: 'write',
        read: () => s.status, write: (v) => this.writeStatus(v),
      },
      ...area('QueueDesc', VIRTIO_MMIO_QUEUE_DESC_LOW, 'desc'),
      ...area('QueueDriver', VIRTIO_MMIO_QUEUE_AVAIL_LOW, 'driver'),
      ...area('QueueDevice', VIRTIO_MMIO_QUEUE_USED_LOW, 'device'),
      // No shared memory regions (§4.2.2): a length of -1 and a base of all ones.
      wo('SHMSel', VIRTIO_MMIO_SHM_SEL, () => {}),
      ro('SHMLenLow', VIRTIO_MMIO_SHM_LEN_LOW, () => 0xffff_ffff),
      ro('SHMLenHigh', VIRTIO_MMIO_SHM_LEN_HIGH, () => 0xffff_ffff),
      ro('SHMBaseLow', VIRTIO_MMIO_SHM_BASE_LOW, () => 0xffff_ffff),
      ro('SHMBaseHigh', VIRTIO_MMIO_SHM_BASE_HIGH, () => 0xffff_ffff),
      ro('ConfigGeneration', VIRTIO_MMIO_CONFIG_GENERATION, () => s.configGeneration),
    ];
  }

  private writeStatus(v: number): void {
    this.state.writeStatus(v);
    if ((v & 0xff) === 0) {
      // Reset (§4.2.2.1): InterruptStatus clears with every queue's ready bit; the selectors go back to 0.
      this.interruptStatus = 0;
      this.deviceFeaturesSel = this.driverFeaturesSel = this.queueSel = 0;
      this.updateIrq();
    }
  }

  private raise(bit: number): void {
    this.interruptStatus |= bit;
    this.updateIrq();
  }

  private ack(v: number): void {
    this.interruptStatus &= ~v;
    this.updateIrq();
  }

  /** Drives the line on edges only: high while InterruptStatus has a bit set. */
  private updateIrq(): void {
    const level = this.interruptStatus !== 0;
    if (level !== this.irqLevel) { this.irqLevel = level; this.irq.set(level); }
  }

  // guest-controlled: any offset and width inside the window.
  read(offset: number, width: Width): number | bigint {
    if (offset < VIRTIO_MMIO_CONFIG) return this.table.read(offset, width);
    const c = this.device.config;
    const o = offset - VIRTIO_MMIO_CONFIG;
    if (width === 8) return BigInt(c.read(o, 4)) | (BigInt(c.read(o + 4, 4)) << 32n);
    return c.read(o, width);
  }

  write(offset: number, width: Width, value: number | bigint): void {
    if (offset < VIRTIO_MMIO_CONFIG) { this.table.write(offset, width, value); return; }
    const c = this.device.config;
    const o = offset - VIRTIO_MMIO_CONFIG;
    if (width === 8) {
      const v = BigInt.asUintN(64, BigInt(value));
      c.write(o, 4, Number(v & LOW));
      c.write(o + 4, 4, Number(v >> 32n));
      return;
    }
    c.write(o, width, typeof value === 'bigint' ? Number(BigInt.asUintN(32, value)) : value);
  }

  /** Register names for the metrics (config space bytes as "Config+N"). */
  readonly registerName = (offset: number): string | undefined =>
    offset >= VIRTIO_MMIO_CONFIG ? `Config+${offset - VIRTIO_MMIO_CONFIG}` : this.table.nameAt(offset);

  /**
   * The bus's onFailure: the device threw while serving an access. It is marked DEVICE_NEEDS_RESET and keeps
   * serving its registers, so the driver sees the status and can reset it.
   */
  readonly deviceFailed = (error: Error): boolean => {
    this.state.fail(`${this.device.name} failed: ${error.message}`);
    return true;
  };
}

/**
 * The bus region of a transport at `base` (the wiring point passes it to Bus.addRegion): the window traps to the
 * device model (`exitClass`, default 'user'), QueueNotify is a 'notify' doorbell, a device that throws is marked
 * DEVICE_NEEDS_RESET instead of being fenced off.
 */
export function virtioMmioRegion(name: string, base: number, transport: VirtioMmioTransport, exitClass: ExitClass = 'user', size = VIRTIO_MMIO_WINDOW): RegionSpec {
  return {
    name, base, size, exitClass, handler: transport, registerName: transport.registerName,
    classes: [{ offset: VIRTIO_MMIO_NOTIFY_OFFSET, size: VIRTIO_MMIO_NOTIFY_SIZE, exitClass: 'notify' }],
    onFailure: transport.deviceFailed,
  };
}

/** The device-tree node of a transport (§4.2.1): what the board's virt-dt writes for an entry of `VirtDevices.virtio`. */
export interface VirtioMmioDtNode {
  readonly nodeName: string;
  readonly compatible: 'virtio,mmio';
  readonly reg: readonly [base: number, size: number];
  readonly interrupts: readonly [irq: number];
  /** The entry to put in VirtDevices.virtio. */
  readonly window: IrqWindow;
}

export function virtioMmioDtNode(base: number, size: number, irq: number): VirtioMmioDtNode {
  return { nodeName: `virtio_mmio@${base.toString(16)}`, compatible: 'virtio,mmio', reg: [base, size], interrupts: [irq], window: { base, size, irq } };
}
