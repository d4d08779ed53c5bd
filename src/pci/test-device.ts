// A minimal PCI Express test function for unit and guest tests: one 64-bit memory BAR with a few registers, DMA
// through the function's DmaSpace, two MSI-X vectors and INTA. IDs: Red Hat's "PCI test device" 1b36:0005 from the
// range QEMU reserves for its own devices (QEMU docs/specs/pci-ids.rst); no Linux driver binds it, so a guest only
// enumerates it (`lspci` shows "Red Hat, Inc. QEMU PCI Test Device"). Its registers are vmio's own, not QEMU's
// pci-testdev layout.
//
// BAR0 (16 KiB, 64-bit, non-prefetchable): registers at 0x0000, MSI-X table at 0x2000, PBA at 0x3000.

import { dmaAddr, DMA_OK } from '../memory/dma.js';
import { RegisterTable } from '../memory/register-table.js';
import type { BarSpec, PciDevice, PciFunctionContext } from './device.js';
import { PCI_VENDOR_ID_REDHAT } from './gpex-root.js';
import { MSI_DISABLED } from './msix.js';

export const PCI_DEVICE_ID_REDHAT_TEST = 0x0005;
/** "Unclassified device, other" (base class 0x00, subclass 0xff), as QEMU's pci-testdev reports. */
export const TEST_DEVICE_CLASS = 0x00_ff_00;

export const TD_BAR_SIZE = 0x4000;
export const TD_MSIX_VECTORS = 2;
export const TD_MSIX_TABLE = 0x2000;
export const TD_MSIX_PBA = 0x3000;

// Registers (32-bit).
export const TD_MAGIC = 0x00;
export const TD_SCRATCH = 0x04;
export const TD_DMA_ADDR_LO = 0x08;
export const TD_DMA_ADDR_HI = 0x0c;
export const TD_DMA_LEN = 0x10;
/** Write TD_DMA_CMD_FILL: fill DMA_LEN bytes at DMA_ADDR with SCRATCH (little-endian, repeated); TD_DMA_CMD_SUM: sum them into DMA_RESULT. */
export const TD_DMA_CMD = 0x14;
export const TD_DMA_STATUS = 0x18;
export const TD_DMA_RESULT = 0x1c;
/** Write a vector: MSI-X when enabled, otherwise INTA is asserted. */
export const TD_IRQ = 0x20;
/** The last MSI_* / DMA code TD_IRQ produced, as an unsigned 32-bit value. */
export const TD_IRQ_STATUS = 0x24;
/** Any write deasserts INTA. */
export const TD_INTX_ACK = 0x28;

export const TD_MAGIC_VALUE = 0x6f69_6d76; // "vmio"
export const TD_DMA_CMD_FILL = 1;
export const TD_DMA_CMD_SUM = 2;
export const TD_DMA_MAX = 4096;
/** DMA_STATUS when DMA_LEN is 0 or larger than TD_DMA_MAX. */
export const TD_DMA_BAD_LENGTH = 0xffff_ffff;

export class TestDevice implements PciDevice {
  readonly identity = { vendorId: PCI_VENDOR_ID_REDHAT, deviceId: PCI_DEVICE_ID_REDHAT_TEST, classCode: TEST_DEVICE_CLASS, revision: 1 };
  readonly interruptPin = 1 as const;
  readonly msix = { vectors: TD_MSIX_VECTORS, tableBar: 0, tableOffset: TD_MSIX_TABLE, pbaBar: 0, pbaOffset: TD_MSIX_PBA };
  readonly regs: RegisterTable;
  readonly bars: readonly BarSpec[];
  private ctx: PciFunctionContext | null = null;
  private scratch = 0;
  private addrLo = 0;
  private addrHi = 0;
  private len = 0;
  private status = 0;
  private result = 0;
  private irqStatus = 0;

  constructor() {
    this.regs = new RegisterTable('pci-test', [
      { name: 'MAGIC', offset: TD_MAGIC, width: 4, sideEffects: 'none', read: () => TD_MAGIC_VALUE },
      { name: 'SCRATCH', offset: TD_SCRATCH, width: 4, sideEffects: 'none', read: () => this.scratch, write: (v) => { this.scratch = v; } },
      { name: 'DMA_ADDR_LO', offset: TD_DMA_ADDR_LO, width: 4, sideEffects: 'none', read: () => this.addrLo, write: (v) => { this.addrLo = v; } },
      { name: 'DMA_ADDR_HI', offset: TD_DMA_ADDR_HI, width: 4, sideEffects: 'none', read: () => this.addrHi, write: (v) => { this.addrHi = v; } },
      { name: 'DMA_LEN', offset: TD_DMA_LEN, width: 4, sideEffects: 'none', read: () => this.len, write: (v) => { this.len = v; } },
      { name: 'DMA_CMD', offset: TD_DMA_CMD, width: 4, sideEffects: 'write', write: (v) => this.dma(v) },
      { name: 'DMA_STATUS', offset: TD_DMA_STATUS, width: 4, sideEffects: 'none', read: () => this.status },
      { name: 'DMA_RESULT', offset: TD_DMA_RESULT, width: 4, sideEffects: 'none', read: () => this.result },
      { name: 'IRQ', offset: TD_IRQ, width: 4, sideEffects: 'write', write: (v) => this.irq(v) },
      { name: 'IRQ_STATUS', offset: TD_IRQ_STATUS, width: 4, sideEffects: 'none', read: () => this.irqStatus },
      { name: 'INTX_ACK', offset: TD_INTX_ACK, width: 4, sideEffects: 'write', write: () => this.ctx?.intx.set(false) },
    ], { wide: 'split' });
    this.bars = [{ size: TD_BAR_SIZE, is64: true, handler: this.regs, registerName: this.regs.registerName }];
  }

  attach(ctx: PciFunctionContext): void { this.ctx = ctx; }

  // guest-controlled: address and length are checked here and by the DmaSpace.
  private dma(cmd: number): void {
    const ctx = this.ctx;
    if (ctx === null) return;
    if (this.len === 0 || this.len > TD_DMA_MAX) { this.status = TD_DMA_BAD_LENGTH; return; }
    const addr = dmaAddr((BigInt(this.addrHi >>> 0) << 32n) | BigInt(this.addrLo >>> 0));
    const buf = new Uint8Array(this.len);
    if (cmd === TD_DMA_CMD_FILL) {
      for (let i = 0; i < buf.length; i++) buf[i] = (this.scratch >>> (8 * (i & 3))) & 0xff;
      this.status = ctx.dma.write(addr, buf);
    } else if (cmd === TD_DMA_CMD_SUM) {
      this.status = ctx.dma.read(addr, buf);
      this.result = this.status === DMA_OK ? buf.reduce((s, b) => (s + b) >>> 0, 0) : 0;
    }
  }

  private irq(vector: number): void {
    const ctx = this.ctx;
    if (ctx === null) return;
    let r = ctx.msix !== null ? ctx.msix.notify(vector) : MSI_DISABLED;
    if (r === MSI_DISABLED) { ctx.intx.set(true); r = DMA_OK; }
    this.irqStatus = r >>> 0;
  }

  reset(): void {
    this.scratch = this.addrLo = this.addrHi = this.len = this.status = this.result = this.irqStatus = 0;
    this.ctx?.intx.set(false);
  }
}
