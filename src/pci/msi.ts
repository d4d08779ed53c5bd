// Plain MSI (PCI 3.0 §6.8.1): one vector (Multiple Message Capable = 0), a 64-bit message address, 16-bit data and,
// optionally, per-vector masking with a pending bit. Like MSI-X, the message is a DMA write through the function's
// DmaSpace; the state lives in the capability's config registers, so a config-space reset resets it.

import { DMA_OK, dmaAddr, type DmaSpace } from '../memory/dma.js';
import type { CapabilitySpec, ConfigWindow } from './config-space.js';
import { MSI_DISABLED, MSI_MASKED, MSI_NO_VECTOR, MsiCounters } from './msix.js';
import {
  PCI_CAP_ID_MSI, PCI_MSI_ADDRESS_HI, PCI_MSI_ADDRESS_LO, PCI_MSI_DATA_64, PCI_MSI_FLAGS, PCI_MSI_FLAGS_64BIT,
  PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_MASKBIT, PCI_MSI_MASK_64, PCI_MSI_PENDING_64,
} from './regs.js';

export interface MsiSpec {
  /** Per-vector masking (Mask and Pending registers). */
  readonly perVectorMask?: boolean;
}

/** Capability sizes for a 64-bit address, without and with the mask/pending registers. */
const MSI_64_SIZEOF = 0x0e;
const MSI_64_MASK_SIZEOF = 0x18;

export class Msi {
  readonly counters = new MsiCounters();
  readonly capability: CapabilitySpec;
  private cap: ConfigWindow | null = null;
  private readonly maskable: boolean;

  constructor(spec: MsiSpec, private readonly dma: () => DmaSpace) {
    this.maskable = spec.perVectorMask ?? false;
    this.capability = { id: PCI_CAP_ID_MSI, size: this.maskable ? MSI_64_MASK_SIZEOF : MSI_64_SIZEOF, install: (w) => this.install(w) };
  }

  private install(w: ConfigWindow): void {
    this.cap = w;
    w.set16(PCI_MSI_FLAGS, PCI_MSI_FLAGS_64BIT | (this.maskable ? PCI_MSI_FLAGS_MASKBIT : 0));
    // Multiple Message Enable stays 0 (one vector): only the enable bit is writable.
    w.writable(PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
    w.writable(PCI_MSI_ADDRESS_LO, 4, 0xffff_fffc);
    w.writable(PCI_MSI_ADDRESS_HI, 4, 0xffff_ffff);
    w.writable(PCI_MSI_DATA_64, 2, 0xffff);
    w.watch(PCI_MSI_FLAGS, 2, () => this.flush());
    if (this.maskable) {
      w.writable(PCI_MSI_MASK_64, 4, 1);
      w.watch(PCI_MSI_MASK_64, 4, () => this.flush());
    }
  }

  get enabled(): boolean { return this.cap !== null && (this.cap.get16(PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE) !== 0; }
  get masked(): boolean { return this.maskable && this.cap !== null && (this.cap.get32(PCI_MSI_MASK_64) & 1) !== 0; }
  get pending(): boolean { return this.maskable && this.cap !== null && (this.cap.get32(PCI_MSI_PENDING_64) & 1) !== 0; }

  /** The programmed message. */
  message(): { address: bigint; data: number } {
    const c = this.cap;
    if (c === null) return { address: 0n, data: 0 };
    return { address: (BigInt(c.get32(PCI_MSI_ADDRESS_HI)) << 32n) | BigInt(c.get32(PCI_MSI_ADDRESS_LO)), data: c.get16(PCI_MSI_DATA_64) };
  }

  /** Signals the (only) vector 0. Returns MSI_* or a DMA fault code, like Msix.notify. */
  notify(v = 0): number {
    if (v !== 0) return MSI_NO_VECTOR;
    if (!this.enabled) { this.counters.disabled++; return MSI_DISABLED; }
    if (this.masked) {
      this.cap!.set32(PCI_MSI_PENDING_64, 1);
      this.counters.masked++;
      return MSI_MASKED;
    }
    return this.send();
  }

  private send(): number {
    const m = this.message();
    const r = this.dma().msi(dmaAddr(m.address), m.data);
    if (r === DMA_OK) this.counters.sent++; else this.counters.faults++;
    return r;
  }

  private flush(): void {
    if (this.enabled && this.pending && !this.masked) {
      this.cap!.set32(PCI_MSI_PENDING_64, 0);
      this.send();
    }
  }
}
