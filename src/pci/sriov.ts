// The Single Root I/O Virtualization extended capability (PCIe 4.0 §9.3.3; register names as in Linux's
// include/uapi/linux/pci_regs.h PCI_SRIOV_*): VF Enable, VF Memory Space Enable and ARI Capable Hierarchy in SR-IOV
// Control, InitialVFs/TotalVFs, NumVFs (writable only while VF Enable is clear), First VF Offset and VF Stride (the
// routing-ID distance of VF i from its PF is offset + stride × i), the VF Device ID, Supported/System Page Size, and
// the VF BARs, which size like ordinary BARs (§9.3.3.14: each VF's BAR n decodes VF BARn + i × size, the size rounded
// up to the System Page Size). The capability only keeps the registers; whoever creates and removes the VF functions
// listens for VF Enable, VF MSE and VF BAR changes.

import type { ConfigWindow, ExtCapabilitySpec } from './config-space.js';
import {
  PCI_BASE_ADDRESS_MEM_MASK, PCI_BASE_ADDRESS_MEM_PREFETCH, PCI_BASE_ADDRESS_MEM_TYPE_64, PCI_EXT_CAP_ID_SRIOV,
  PCI_EXT_CAP_SRIOV_SIZEOF,
} from './regs.js';

export const PCI_SRIOV_CAP = 0x04;
export const PCI_SRIOV_CTRL = 0x08;
export const PCI_SRIOV_CTRL_VFE = 0x0001;
export const PCI_SRIOV_CTRL_MSE = 0x0008;
export const PCI_SRIOV_CTRL_ARI = 0x0010;
export const PCI_SRIOV_STATUS = 0x0a;
export const PCI_SRIOV_INITIAL_VF = 0x0c;
export const PCI_SRIOV_TOTAL_VF = 0x0e;
export const PCI_SRIOV_NUM_VF = 0x10;
export const PCI_SRIOV_FUNC_LINK = 0x12;
export const PCI_SRIOV_VF_OFFSET = 0x14;
export const PCI_SRIOV_VF_STRIDE = 0x16;
export const PCI_SRIOV_VF_DID = 0x1a;
export const PCI_SRIOV_SUP_PGSIZE = 0x1c;
export const PCI_SRIOV_SYS_PGSIZE = 0x20;
export const PCI_SRIOV_BAR = 0x24;
export const PCI_SRIOV_NUM_BARS = 6;
/** Supported Page Sizes the spec recommends (§9.3.3.12): 4 KiB, 8 KiB, 64 KiB, 256 KiB, 1 MiB, 4 MiB. */
export const SRIOV_PGSIZE_DEFAULT = 0x553;

/** One VF BAR (a memory BAR; the SR-IOV capability has no I/O VF BARs, §9.3.3.14). */
export interface VfBarSpec {
  /** Bytes one VF decodes: a power of two, at least 4 KiB (Linux refuses VF BARs smaller than its page). */
  readonly size: number;
  readonly is64?: boolean;
  readonly prefetchable?: boolean;
}

export interface SriovSpec {
  /** Offset in configuration space (the 82576 has it at 0x160); default: the next free one. */
  readonly offset?: number;
  readonly totalVfs: number;
  /** Default totalVfs. */
  readonly initialVfs?: number;
  readonly firstVfOffset: number;
  readonly vfStride: number;
  readonly vfDeviceId: number;
  /** Default SRIOV_PGSIZE_DEFAULT; must include 4 KiB (bit 0). */
  readonly supportedPageSizes?: number;
  /** The PF's own function number (Function Dependency Link), default 0. */
  readonly functionDependencyLink?: number;
  /** VF BAR0..5; a 64-bit BAR at i also uses i+1, which must be empty. */
  readonly vfBars: readonly (VfBarSpec | null | undefined)[];
}

/** Told about changes software makes through the capability. */
export interface SriovListener {
  /** VF Enable went 0 → 1 with NumVFs VFs: VF i answers at routing ID PF + vfRoutingOffset(i). */
  vfEnable?(numVfs: number): void;
  /** VF Enable went 1 → 0 (or the PF was reset while it was set): the VFs are gone. */
  vfDisable?(numVfs: number): void;
  /** VF Memory Space Enable changed. */
  vfMemory?(enabled: boolean): void;
  /** A VF BAR register or the System Page Size changed. */
  vfBars?(): void;
}

interface VfBar { index: number; size: number; is64: boolean; prefetchable: boolean }

const isPow2 = (n: number) => Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
const TWO32 = 0x1_0000_0000;

export class SriovCapability {
  readonly capability: ExtCapabilitySpec;
  private readonly bars: VfBar[] = [];
  private readonly listeners: SriovListener[] = [];
  private readonly supported: number;
  private w: ConfigWindow | null = null;
  /** The state the listeners were last told about. */
  private vfe = false;
  private mse = false;
  private active = 0;

  constructor(readonly spec: SriovSpec) {
    const bad = (why: string) => { throw new RangeError(`SR-IOV capability: ${why}`); };
    const u16 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffff;
    if (!u16(spec.totalVfs) || spec.totalVfs === 0) bad(`TotalVFs ${spec.totalVfs} must be 1..65535`);
    const initial = spec.initialVfs ?? spec.totalVfs;
    if (!u16(initial) || initial > spec.totalVfs) bad(`InitialVFs ${initial} must be at most TotalVFs`);
    if (!u16(spec.firstVfOffset) || spec.firstVfOffset === 0 || !u16(spec.vfStride) || (spec.vfStride === 0 && spec.totalVfs > 1)) {
      bad('First VF Offset and VF Stride must be non-zero 16-bit values (Linux refuses zero)');
    }
    if (!u16(spec.vfDeviceId)) bad(`VF Device ID ${spec.vfDeviceId} is not 16-bit`);
    this.supported = spec.supportedPageSizes ?? SRIOV_PGSIZE_DEFAULT;
    if ((this.supported & 1) === 0) bad('Supported Page Sizes must include 4 KiB');
    if (spec.vfBars.length > PCI_SRIOV_NUM_BARS) bad(`at most ${PCI_SRIOV_NUM_BARS} VF BARs`);
    for (let i = 0; i < spec.vfBars.length; i++) {
      const b = spec.vfBars[i];
      if (b === null || b === undefined) continue;
      const is64 = b.is64 ?? false;
      if (!isPow2(b.size) || b.size < 4096) bad(`VF BAR${i} size ${b.size} must be a power of two of at least 4 KiB`);
      if (!is64 && b.size > 2 ** 31) bad(`VF BAR${i} of ${b.size} bytes must be 64-bit`);
      if (is64 && (i === PCI_SRIOV_NUM_BARS - 1 || (spec.vfBars[i + 1] ?? null) !== null)) bad(`64-bit VF BAR${i} needs VF BAR${i + 1} empty`);
      this.bars.push({ index: i, size: b.size, is64, prefetchable: b.prefetchable ?? false });
      if (is64) i++;
    }
    this.capability = {
      id: PCI_EXT_CAP_ID_SRIOV, version: 1, size: PCI_EXT_CAP_SRIOV_SIZEOF,
      ...(spec.offset !== undefined ? { offset: spec.offset } : {}),
      install: (w) => this.install(w, initial),
    };
  }

  private install(w: ConfigWindow, initial: number): void {
    this.w = w;
    const s = this.spec;
    w.set32(PCI_SRIOV_CAP, 0); // no VF Migration
    w.writable(PCI_SRIOV_CTRL, 2, PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE | PCI_SRIOV_CTRL_ARI);
    w.set16(PCI_SRIOV_INITIAL_VF, initial);
    w.set16(PCI_SRIOV_TOTAL_VF, s.totalVfs);
    w.writable(PCI_SRIOV_NUM_VF, 2, 0xffff);
    w.set8(PCI_SRIOV_FUNC_LINK, (s.functionDependencyLink ?? 0) & 0xff);
    w.set16(PCI_SRIOV_VF_OFFSET, s.firstVfOffset);
    w.set16(PCI_SRIOV_VF_STRIDE, s.vfStride);
    w.set16(PCI_SRIOV_VF_DID, s.vfDeviceId);
    w.set32(PCI_SRIOV_SUP_PGSIZE, this.supported);
    w.set32(PCI_SRIOV_SYS_PGSIZE, 1);
    w.writable(PCI_SRIOV_SYS_PGSIZE, 4, this.supported);
    for (const b of this.bars) w.set32(PCI_SRIOV_BAR + 4 * b.index, (b.is64 ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) | (b.prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0));
    this.applyBarMasks();
    w.watch(PCI_SRIOV_NUM_VF, 2, () => this.numVfsWritten());
    w.watch(PCI_SRIOV_SYS_PGSIZE, 4, () => this.pageSizeWritten());
    w.watch(PCI_SRIOV_BAR, 4 * PCI_SRIOV_NUM_BARS, () => this.emit((l) => l.vfBars?.()));
    w.watch(PCI_SRIOV_CTRL, 2, () => this.sync());
  }

  private win(): ConfigWindow {
    if (this.w === null) throw new Error('SR-IOV capability used before it was installed in a configuration space');
    return this.w;
  }

  /** Subscribes to VF Enable, VF MSE and VF BAR changes. */
  listen(l: SriovListener): void { this.listeners.push(l); }

  private emit(fn: (l: SriovListener) => void): void { for (const l of this.listeners) fn(l); }

  get control(): number { return this.w === null ? 0 : this.w.get16(PCI_SRIOV_CTRL); }
  /** VF Enable as the listeners last saw it. */
  get enabled(): boolean { return this.vfe; }
  get memoryEnabled(): boolean { return this.mse; }
  get ariCapableHierarchy(): boolean { return (this.control & PCI_SRIOV_CTRL_ARI) !== 0; }
  /** The NumVFs register. */
  get numVfs(): number { return this.w === null ? 0 : this.w.get16(PCI_SRIOV_NUM_VF); }
  /** VFs that exist: NumVFs as it was when VF Enable was set, 0 while disabled. */
  get activeVfs(): number { return this.active; }
  /** The System Page Size in bytes. */
  get pageSize(): number { return this.w === null ? 4096 : 4096 * this.win().get32(PCI_SRIOV_SYS_PGSIZE); }

  /** Routing-ID distance of VF `i` (0-based) from its PF. */
  vfRoutingOffset(i: number): number { return this.spec.firstVfOffset + this.spec.vfStride * i; }

  /** Bytes each VF decodes through VF BAR `bar` (0 when not implemented): the spec size rounded up to the page size. */
  vfBarSize(bar: number): number {
    const b = this.bars.find((x) => x.index === bar);
    return b === undefined ? 0 : Math.max(b.size, this.pageSize);
  }

  /** The address software programmed into VF BAR `bar`. */
  vfBarBase(bar: number): bigint {
    const b = this.bars.find((x) => x.index === bar);
    if (b === undefined) return 0n;
    const w = this.win();
    const lo = BigInt((w.get32(PCI_SRIOV_BAR + 4 * bar) & PCI_BASE_ADDRESS_MEM_MASK) >>> 0);
    return b.is64 ? lo | (BigInt(w.get32(PCI_SRIOV_BAR + 4 * bar + 4)) << 32n) : lo;
  }

  /** Where VF `i`'s BAR `bar` decodes: VF BARn base + i × size. */
  vfBarAddress(i: number, bar: number): bigint {
    return this.vfBarBase(bar) + BigInt(i) * BigInt(this.vfBarSize(bar));
  }

  // guest-controlled: NumVFs is read-only while VF Enable is set, and never above TotalVFs.
  private numVfsWritten(): void {
    const w = this.win();
    const v = w.get16(PCI_SRIOV_NUM_VF);
    if ((w.get16(PCI_SRIOV_CTRL) & PCI_SRIOV_CTRL_VFE) !== 0 || v > this.spec.totalVfs) w.set16(PCI_SRIOV_NUM_VF, w.previous16(PCI_SRIOV_NUM_VF));
  }

  // guest-controlled: one supported size, and only while VF Enable is clear (§9.3.3.13).
  private pageSizeWritten(): void {
    const w = this.win();
    const v = w.get32(PCI_SRIOV_SYS_PGSIZE);
    const single = v !== 0 && (v & (v - 1)) === 0;
    if (!single || (v & this.supported) === 0 || (w.get16(PCI_SRIOV_CTRL) & PCI_SRIOV_CTRL_VFE) !== 0) {
      w.set32(PCI_SRIOV_SYS_PGSIZE, (w.previous16(PCI_SRIOV_SYS_PGSIZE) | (w.previous16(PCI_SRIOV_SYS_PGSIZE + 2) << 16)) >>> 0);
      return;
    }
    this.applyBarMasks();
    this.emit((l) => l.vfBars?.());
  }

  /** The VF BAR write masks for the current page size (address bits below the size read 0). */
  private applyBarMasks(): void {
    const w = this.win();
    for (const b of this.bars) {
      const size = this.vfBarSize(b.index);
      const off = PCI_SRIOV_BAR + 4 * b.index;
      const low = size >= TWO32 ? 0 : (PCI_BASE_ADDRESS_MEM_MASK & ~(size - 1)) >>> 0;
      w.writable(off, 4, low);
      w.set32(off, (w.get32(off) & (low | 0xf)) >>> 0);
      if (b.is64) w.writable(off + 4, 4, size > TWO32 ? (~(size / TWO32 - 1)) >>> 0 : 0xffff_ffff);
    }
  }

  /** Brings the listeners up to date with SR-IOV Control (after a write, or after the PF's reset). */
  private sync(): void {
    const ctl = this.control;
    const vfe = (ctl & PCI_SRIOV_CTRL_VFE) !== 0;
    const mse = vfe && (ctl & PCI_SRIOV_CTRL_MSE) !== 0;
    if (this.mse && !mse) { this.mse = false; this.emit((l) => l.vfMemory?.(false)); }
    if (this.vfe && !vfe) {
      const n = this.active;
      this.vfe = false;
      this.active = 0;
      this.emit((l) => l.vfDisable?.(n));
    } else if (!this.vfe && vfe) {
      this.vfe = true;
      this.active = this.numVfs;
      this.emit((l) => l.vfEnable?.(this.active));
    }
    if (!this.mse && mse) { this.mse = true; this.emit((l) => l.vfMemory?.(true)); }
  }

  /**
   * Call after the PF's configuration space was reset (FLR, VM reset): the capability is at its power-on values, so
   * VFs that were enabled are disabled and the listeners are told.
   */
  reset(): void {
    if (this.w === null) return;
    this.applyBarMasks();
    this.sync();
  }
}
