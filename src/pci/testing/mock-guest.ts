// A mock guest PCI driver for tests: config accesses through the ECAM window on the bus (as a hart's loads and stores
// reach it), Linux's enumeration (drivers/pci/probe.c pci_scan_slot/next_fn), BAR sizing exactly as __pci_read_base
// does it (decode disabled, write all-ones, read back, restore; pci_size), the capability walks of drivers/pci/pci.c,
// and a simple resource assignment. Device tests (virtio-pci, e1000, igb) reuse it to bring a function up.

import type { Bus, Width } from '../../memory/bus.js';
import { ecamOffset } from '../ecam.js';
import type { PciWindows } from '../windows.js';
import {
  PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_IO_MASK, PCI_BASE_ADDRESS_MEM_MASK, PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_TYPE_64, PCI_BASE_ADDRESS_SPACE_IO, PCI_CAPABILITY_LIST, PCI_COMMAND, PCI_COMMAND_IO,
  PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY, PCI_EXT_CAP_START, PCI_HEADER_TYPE, PCI_HEADER_TYPE_MFD, PCI_STATUS,
  PCI_STATUS_CAP_LIST, PCI_STD_NUM_BARS, PCI_VENDOR_ID,
} from '../regs.js';

export interface Bdf { readonly bus: number; readonly device: number; readonly fn: number }

/** A BAR as Linux's resource describes it after __pci_read_base. */
export interface BarResource {
  readonly index: number;
  readonly io: boolean;
  readonly is64: boolean;
  readonly prefetchable: boolean;
  readonly size: bigint;
  /** The bus address the BAR held when read. */
  readonly address: bigint;
}

/** Linux's IO_SPACE_LIMIT on riscv (PCI_IO_SIZE - 1, 16 MiB). */
const IO_SPACE_LIMIT = 0xff_ffffn;
const M32 = 0xffff_ffffn;

/** drivers/pci/probe.c pci_size(). */
export function pciSize(base: bigint, maxbase: bigint, mask: bigint): bigint {
  let size = mask & maxbase;
  if (size === 0n) return 0n;
  size = size & ~(size - 1n);
  if (base === maxbase && ((base | (size - 1n)) & mask) !== mask) return 0n;
  return size;
}

export class MockPciGuest {
  /** Config accesses that hit nothing on the bus (would be an access fault on the hart). */
  faults = 0;

  constructor(readonly bus: Bus, readonly windows: PciWindows) {}

  private addr(f: Bdf, reg: number): number { return this.windows.ecam.base + ecamOffset(f.bus, f.device, f.fn, reg); }

  cfgRead(f: Bdf, reg: number, width: 1 | 2 | 4 | 8): number | bigint {
    const v = this.bus.mmioRead(this.addr(f, reg), width);
    if (v === null) { this.faults++; return width === 8 ? 0xffff_ffff_ffff_ffffn : 2 ** (8 * width) - 1; }
    return v;
  }
  read8(f: Bdf, reg: number): number { return Number(this.cfgRead(f, reg, 1)); }
  read16(f: Bdf, reg: number): number { return Number(this.cfgRead(f, reg, 2)); }
  read32(f: Bdf, reg: number): number { return Number(this.cfgRead(f, reg, 4)); }
  cfgWrite(f: Bdf, reg: number, width: Width, v: number | bigint): void {
    if (!this.bus.mmioWrite(this.addr(f, reg), width, v)) this.faults++;
  }
  write16(f: Bdf, reg: number, v: number): void { this.cfgWrite(f, reg, 2, v); }
  write32(f: Bdf, reg: number, v: number): void { this.cfgWrite(f, reg, 4, v >>> 0); }

  /** pci_scan_slot over every slot of `bus`: function 0 first, further functions only while multi-function. */
  scan(bus = 0): Bdf[] {
    const found: Bdf[] = [];
    for (let device = 0; device < 32; device++) {
      for (let fn = 0; fn >= 0;) {
        const f = { bus, device, fn };
        const id = this.read32(f, PCI_VENDOR_ID);
        const present = !(id === 0xffff_ffff || id === 0 || id === 0xffff || id === 0xffff_0000);
        if (present) found.push(f);
        else if (fn === 0) break;
        const multi = present && (this.read8(f, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MFD) !== 0;
        fn = fn >= 7 || (present && !multi) ? -1 : fn + 1;
      }
    }
    return found;
  }

  /** __pci_read_base for BAR `index` (pci_bar_unknown): null when unimplemented or unsizable. */
  readBase(f: Bdf, index: number): BarResource | null {
    const pos = PCI_BASE_ADDRESS_0 + 4 * index;
    const cmd = this.read16(f, PCI_COMMAND);
    const decode = PCI_COMMAND_IO | PCI_COMMAND_MEMORY;
    if ((cmd & decode) !== 0) this.write16(f, PCI_COMMAND, cmd & ~decode);
    let l = this.read32(f, pos);
    this.write32(f, pos, 0xffff_ffff);
    let sz = this.read32(f, pos);
    this.write32(f, pos, l);
    if (sz === 0xffff_ffff) sz = 0;
    if (l === 0xffff_ffff) l = 0;
    const io = (l & PCI_BASE_ADDRESS_SPACE_IO) !== 0;
    const is64 = !io && (l & 0x6) === PCI_BASE_ADDRESS_MEM_TYPE_64;
    const prefetchable = !io && (l & PCI_BASE_ADDRESS_MEM_PREFETCH) !== 0;
    const m = BigInt(io ? PCI_BASE_ADDRESS_IO_MASK : PCI_BASE_ADDRESS_MEM_MASK);
    let l64 = BigInt(l) & m, sz64 = BigInt(sz) & m;
    let mask64 = io ? m & IO_SPACE_LIMIT : m;
    if (is64) {
      const lh = this.read32(f, pos + 4);
      this.write32(f, pos + 4, 0xffff_ffff);
      const szh = this.read32(f, pos + 4);
      this.write32(f, pos + 4, lh);
      l64 |= BigInt(lh) << 32n;
      sz64 |= BigInt(szh) << 32n;
      mask64 |= M32 << 32n;
    }
    if ((cmd & decode) !== 0) this.write16(f, PCI_COMMAND, cmd);
    if (sz64 === 0n) return null;
    const size = pciSize(l64, sz64, mask64);
    if (size === 0n) return null;
    return { index, io, is64, prefetchable, size, address: l64 };
  }

  /** pci_read_bases: every BAR, a 64-bit one consuming the next index. */
  readBases(f: Bdf): BarResource[] {
    const out: BarResource[] = [];
    for (let i = 0; i < PCI_STD_NUM_BARS; i++) {
      const r = this.readBase(f, i);
      if (r === null) continue;
      out.push(r);
      if (r.is64) i++;
    }
    return out;
  }

  /** pci_find_capability: walks the list with Linux's TTL of 48; 0 when absent. */
  findCapability(f: Bdf, id: number): number {
    if ((this.read16(f, PCI_STATUS) & PCI_STATUS_CAP_LIST) === 0) return 0;
    let pos = this.read8(f, PCI_CAPABILITY_LIST);
    for (let ttl = 48; ttl > 0; ttl--) {
      if (pos < 0x40) break;
      pos &= ~3;
      const ent = this.read16(f, pos);
      if ((ent & 0xff) === 0xff) break;
      if ((ent & 0xff) === id) return pos;
      pos = ent >> 8;
    }
    return 0;
  }

  /** pci_find_ext_capability: 0 when absent. */
  findExtCapability(f: Bdf, id: number): number {
    let pos = PCI_EXT_CAP_START;
    for (let ttl = (4096 - 256) / 8; ttl > 0; ttl--) {
      const h = this.read32(f, pos);
      if (h === 0 || h === 0xffff_ffff) return 0;
      if ((h & 0xffff) === id && h !== 0) return pos;
      pos = (h >>> 20) & 0xffc;
      if (pos < PCI_EXT_CAP_START) return 0;
    }
    return 0;
  }

  private next = new Map<string, bigint>();

  /**
   * Sizes and places every BAR (naturally aligned, 64-bit BARs in the high window first, as pci_bus_alloc_resource
   * prefers) and enables memory, I/O and bus mastering (pci_enable_device + pci_set_master). Returns the resources.
   */
  enable(f: Bdf): BarResource[] {
    const placed: BarResource[] = [];
    const w = this.windows;
    for (const r of this.readBases(f).sort((a, b) => Number(b.size - a.size))) {
      const win = r.io ? { key: 'io', base: 0x1000n, end: BigInt(w.io.size) }
        : r.is64 ? { key: 'm64', base: BigInt(w.mmio64.base), end: BigInt(w.mmio64.base + w.mmio64.size) }
          : { key: 'm32', base: BigInt(w.mmio32.base), end: BigInt(w.mmio32.base + w.mmio32.size) };
      const cur = this.next.get(win.key) ?? win.base;
      const at = (cur + r.size - 1n) / r.size * r.size;
      if (at + r.size > win.end) throw new RangeError(`no room for BAR${r.index} (${r.size} bytes) in the ${win.key} window`);
      this.next.set(win.key, at + r.size);
      const pos = PCI_BASE_ADDRESS_0 + 4 * r.index;
      this.write32(f, pos, Number(at & M32) | (r.io ? PCI_BASE_ADDRESS_SPACE_IO : 0));
      if (r.is64) this.write32(f, pos + 4, Number(at >> 32n));
      placed.push({ ...r, address: at });
    }
    const cmd = this.read16(f, PCI_COMMAND);
    this.write16(f, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_IO | PCI_COMMAND_MASTER);
    return placed.sort((a, b) => a.index - b.index);
  }

  /** MMIO accesses at CPU addresses (null/false: nothing decodes there — an access fault on a hart). */
  mmioRead32(addr: number | bigint): number | null {
    const v = this.bus.mmioRead(Number(addr), 4);
    return v === null ? null : Number(v);
  }
  mmioWrite32(addr: number | bigint, v: number): boolean { return this.bus.mmioWrite(Number(addr), 4, v >>> 0); }
}
