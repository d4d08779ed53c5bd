// DmaSpace: the only way a device function reads or writes guest memory (ARCHITECTURE.md "Core abstractions";
// rust-vmm vm-memory's GuestMemory-as-argument habit). Every call takes a bus address and a length, checks
// them, and returns a fault code instead of throwing: a guest can put any value in a descriptor, and a bad one
// must fault the device, never the VMM. Queue and ring code take the space as an argument on every call.
//
// An address is first translated (identity for vmio's own backends; an IOMMU walk for assigned functions:
// subclasses override `translate`), then resolved on the VM's physical map: RAM, or an MMIO region that
// accepts DMA (an IMSIC interrupt file: an MSI is a DMA write). Anything else is a master abort.

import type { GuestMemory } from './guest-memory.js';
import type { DmaCounters } from '../metrics/counters.js';

/** Status codes: 0 is success, every other value a fault (scalar reads return the negated code). */
export const DMA_OK = 0;
/** The address or length is not a valid bus address range (negative, past 2^53, wraps). */
export const DMA_FAULT_RANGE = 1;
/** Nothing at that physical address accepts DMA (a master abort on PCI). */
export const DMA_FAULT_UNMAPPED = 2;
/** The IOMMU has no translation for the address. */
export const DMA_FAULT_TRANSLATION = 3;
/** The IOMMU's translation forbids this access (e.g. a write to a read-only mapping). */
export const DMA_FAULT_PERMISSION = 4;
/** The function may not master the bus (PCI command register: bus-master enable is clear). */
export const DMA_FAULT_DISABLED = 5;

export const DMA_FAULT_NAMES: Readonly<Record<number, string>> = {
  [DMA_FAULT_RANGE]: 'invalid address range', [DMA_FAULT_UNMAPPED]: 'no memory at address',
  [DMA_FAULT_TRANSLATION]: 'no IOMMU translation', [DMA_FAULT_PERMISSION]: 'IOMMU permission denied',
  [DMA_FAULT_DISABLED]: 'bus mastering disabled',
};

/** Largest bus address a DmaSpace accepts: addresses are exact JS numbers. */
export const DMA_MAX_ADDR = Number.MAX_SAFE_INTEGER;

// guest-controlled: converts a 64-bit value a guest wrote (descriptor address, BAR) into a DmaSpace address.
/** A guest's 64-bit address as a number, or -1 (which every DmaSpace refuses) when it is not exact. */
export function dmaAddr(v: bigint): number {
  const u = BigInt.asUintN(64, v);
  return u <= BigInt(DMA_MAX_ADDR) ? Number(u) : -1;
}

/** Where translated DMA lands: RAM, or an MMIO region that accepts 32-bit DMA writes (MSI doorbells). */
export interface DmaTargets {
  readonly ram: GuestMemory;
  /** A 32-bit write to a DMA-capable MMIO region at `paddr`; false when none is there. */
  dmaWrite32(paddr: number, value: number): boolean;
}

/** The last refused access, for fault logs. */
export interface DmaFaultRecord {
  addr: number;
  len: number;
  write: boolean;
  code: number;
}

export interface DmaSpace {
  readonly counters: DmaCounters;
  /** False while the function may not master the bus: every access faults with DMA_FAULT_DISABLED. */
  enabled: boolean;
  readonly lastFault: DmaFaultRecord | null;
  /** Copies guest memory at `addr` into all of `dst`; returns DMA_OK or a fault code. */
  read(addr: number, dst: Uint8Array): number;
  /** Copies all of `src` to guest memory at `addr`; returns DMA_OK or a fault code. */
  write(addr: number, src: Uint8Array): number;
  /** Little-endian scalar reads: the value, or a negative fault code. */
  read8(addr: number): number;
  read16(addr: number): number;
  read32(addr: number): number;
  /** The value, or a negative fault code as a bigint. */
  read64(addr: number): bigint;
  write8(addr: number, v: number): number;
  write16(addr: number, v: number): number;
  write32(addr: number, v: number): number;
  write64(addr: number, v: bigint): number;
  /** A message-signalled interrupt: a 32-bit DMA write of `data` at `addr`, counted as an MSI. */
  msi(addr: number, data: number): number;
}

const PAGE = 4096;

/**
 * The identity space of a device with no IOMMU in front of it: bus addresses are guest physical addresses.
 * Subclasses translate (the IOMMU's spaces); the resolution to RAM and the checks are shared.
 */
export class IdentityDmaSpace implements DmaSpace {
  enabled = true;
  lastFault: DmaFaultRecord | null = null;
  /** Bytes the current translation covers from the translated address (set by translate()). */
  protected span = 0;
  private readonly scratch = new Uint8Array(8);
  private readonly scratchView = new DataView(this.scratch.buffer);
  private readonly s1 = this.scratch.subarray(0, 1);
  private readonly s2 = this.scratch.subarray(0, 2);
  private readonly s4 = this.scratch.subarray(0, 4);

  constructor(protected readonly targets: DmaTargets, readonly counters: DmaCounters) {}

  /**
   * Translates bus address `addr` for an access of the given direction: returns the physical address (and sets
   * `span` to how many bytes from it are contiguous) or a negative fault code. Identity here.
   */
  protected translate(addr: number, _write: boolean): number {
    this.span = DMA_MAX_ADDR - addr + 1;
    return addr;
  }

  private fault(addr: number, len: number, write: boolean, code: number): number {
    this.counters.faults++;
    this.lastFault = { addr, len, write, code };
    return code;
  }

  /**
   * Copies between `buf` and `buf.length` bytes at bus address `addr` (into guest memory when `write`). Every
   * chunk is translated and checked before any byte moves, so a fault part-way leaves memory unchanged.
   */
  private copy(addr: number, buf: Uint8Array, write: boolean): number {
    const len = buf.length;
    if (!this.enabled) return this.fault(addr, len, write, DMA_FAULT_DISABLED);
    if (!Number.isSafeInteger(addr) || addr < 0 || addr + len - 1 > DMA_MAX_ADDR) {
      return this.fault(addr, len, write, DMA_FAULT_RANGE);
    }
    const ram = this.targets.ram;
    let done = 0;
    while (done < len) {
      const pa = this.translate(addr + done, write);
      if (pa < 0) return this.fault(addr + done, len - done, write, -pa);
      const n = Math.min(len - done, this.span);
      if (!ram.contains(pa, n)) return this.fault(addr + done, n, write, DMA_FAULT_UNMAPPED);
      done += n;
    }
    done = 0;
    while (done < len) {
      const pa = this.translate(addr + done, write);
      const n = Math.min(len - done, this.span);
      const part = n === len ? buf : buf.subarray(done, done + n);
      if (write) ram.writeBytes(pa - ram.base, part); else ram.readBytes(pa - ram.base, part);
      done += n;
    }
    this.counted(write, len);
    return DMA_OK;
  }

  read(addr: number, dst: Uint8Array): number { return this.copy(addr, dst, false); }
  write(addr: number, src: Uint8Array): number { return this.copy(addr, src, true); }

  /**
   * The RAM offset of a scalar access that is wholly inside one translation and in RAM (the fast path), or -1:
   * then the caller takes the general path, which also records the fault if there is one.
   */
  private scalar(addr: number, size: number, write: boolean): number {
    if (!this.enabled || !Number.isSafeInteger(addr) || addr < 0 || addr + size - 1 > DMA_MAX_ADDR) return -1;
    const pa = this.translate(addr, write);
    if (pa < 0 || this.span < size) return -1;
    const ram = this.targets.ram;
    return ram.contains(pa, size) ? pa - ram.base : -1;
  }

  read8(addr: number): number {
    const o = this.scalar(addr, 1, false);
    if (o >= 0) { this.counted(false, 1); return this.targets.ram.read8(o); }
    const r = this.copy(addr, this.s1, false); return r !== DMA_OK ? -r : this.scratch[0]!;
  }
  read16(addr: number): number {
    const o = this.scalar(addr, 2, false);
    if (o >= 0) { this.counted(false, 2); return this.targets.ram.read16(o); }
    const r = this.copy(addr, this.s2, false); return r !== DMA_OK ? -r : this.scratchView.getUint16(0, true);
  }
  read32(addr: number): number {
    const o = this.scalar(addr, 4, false);
    if (o >= 0) { this.counted(false, 4); return this.targets.ram.read32(o); }
    const r = this.copy(addr, this.s4, false); return r !== DMA_OK ? -r : this.scratchView.getUint32(0, true);
  }
  read64(addr: number): bigint {
    const o = this.scalar(addr, 8, false);
    if (o >= 0) { this.counted(false, 8); return this.targets.ram.read64(o); }
    const r = this.copy(addr, this.scratch, false); return r !== DMA_OK ? BigInt(-r) : this.scratchView.getBigUint64(0, true);
  }

  write8(addr: number, v: number): number {
    const o = this.scalar(addr, 1, true);
    if (o >= 0) { this.counted(true, 1); this.targets.ram.write8(o, v & 0xff); return DMA_OK; }
    this.scratch[0] = v; return this.copy(addr, this.s1, true);
  }
  write16(addr: number, v: number): number {
    const o = this.scalar(addr, 2, true);
    if (o >= 0) { this.counted(true, 2); this.targets.ram.write16(o, v & 0xffff); return DMA_OK; }
    this.scratchView.setUint16(0, v, true); return this.copy(addr, this.s2, true);
  }
  write64(addr: number, v: bigint): number {
    const o = this.scalar(addr, 8, true);
    if (o >= 0) { this.counted(true, 8); this.targets.ram.write64(o, v); return DMA_OK; }
    this.scratchView.setBigUint64(0, BigInt.asUintN(64, v), true); return this.copy(addr, this.scratch, true);
  }

  write32(addr: number, v: number): number {
    const o = this.scalar(addr, 4, true);
    if (o >= 0) { this.counted(true, 4); this.targets.ram.write32(o, v); return DMA_OK; }
    if (!this.enabled) return this.fault(addr, 4, true, DMA_FAULT_DISABLED);
    if (!Number.isSafeInteger(addr) || addr < 0 || addr + 3 > DMA_MAX_ADDR) return this.fault(addr, 4, true, DMA_FAULT_RANGE);
    const pa = this.translate(addr, true);
    if (pa < 0) return this.fault(addr, 4, true, -pa);
    if (this.span >= 4 && !this.targets.ram.contains(pa, 4) && (pa & 3) === 0) {
      // Not RAM: an MMIO region that takes DMA (an MSI doorbell), or a master abort.
      if (!this.targets.dmaWrite32(pa, v >>> 0)) return this.fault(addr, 4, true, DMA_FAULT_UNMAPPED);
      this.counted(true, 4);
      return DMA_OK;
    }
    this.scratchView.setUint32(0, v >>> 0, true);
    return this.copy(addr, this.s4, true);
  }

  private counted(write: boolean, n: number): void {
    if (write) { this.counters.writes++; this.counters.bytesWritten += n; } else { this.counters.reads++; this.counters.bytesRead += n; }
  }
  msi(addr: number, data: number): number {
    const r = this.write32(addr, data);
    if (r === DMA_OK) this.counters.msis++;
    return r;
  }
}

/** Bytes from `addr` to the end of its 4 KiB page (for page-granular translations). */
export function toPageEnd(addr: number): number {
  return PAGE - (addr % PAGE);
}
