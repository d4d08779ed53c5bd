// The physical address map: RAM plus MMIO regions that can be added, removed and moved (PCI BARs)
// (ARCHITECTURE.md "Bus / regions"). Each region declares its exit class — a trap into the user-space device
// model, an in-kernel trap, a notify doorbell, or direct (assigned hardware, not an exit) — optionally per
// sub-range, and owns the counter object it was given at registration. A device that throws is contained
// here: the failure is counted, the device's own handler (if it has one) decides what the guest sees
// (DEVICE_NEEDS_RESET, a master abort), and otherwise the region reads as all-ones until it is repaired.

import type { GuestMemory } from './guest-memory.js';
import type { ExitClass, Metrics, RegionCounters, RegisterNamer } from '../metrics/counters.js';
import type { DmaTargets } from './dma.js';

/** Access widths in bytes. 8-byte values travel as bigint, narrower ones as unsigned numbers. */
export type Width = 1 | 2 | 4 | 8;

export interface MmioHandler {
  /** Returns the value read at `offset` (relative to the region base). Width 8 may return bigint or number. */
  read(offset: number, width: Width): number | bigint;
  write(offset: number, width: Width, value: number | bigint): void;
}

/** A sub-range of a region with its own exit class (e.g. the notify doorbells inside a virtio-pci BAR). */
export interface ClassRange {
  readonly offset: number;
  readonly size: number;
  readonly exitClass: ExitClass;
  /**
   * Only writes take this class (reads keep the region's): coalesced MMIO, where side-effect-free writes are
   * appended to a ring in the hypervisor and replayed at the next real exit instead of reaching user space.
   */
  readonly writesOnly?: boolean;
}

export interface RegionSpec {
  /** Unique in the VM (e.g. "uart0", "0000:00:02.0/bar0"): the name of its counters. */
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly exitClass: ExitClass;
  readonly handler: MmioHandler;
  /** Sub-ranges whose accesses are of another class than `exitClass`. */
  readonly classes?: readonly ClassRange[];
  /** Register names for metrics reports (a register table's namer). */
  readonly registerName?: RegisterNamer;
  /** The region takes 32-bit DMA writes from devices (an MSI doorbell such as an IMSIC interrupt file). */
  readonly dmaTarget?: boolean;
  /**
   * Called when the handler throws. Return true when the device has handled it (marked itself broken in the
   * way its spec says, e.g. virtio DEVICE_NEEDS_RESET) and keeps serving accesses; false lets the bus fence the
   * region off (reads all-ones, writes dropped) until `repair()`.
   */
  readonly onFailure?: (error: Error) => boolean;
  /** Start unmapped (a BAR before the guest enables decoding). */
  readonly unmapped?: boolean;
}

/** A region on the bus; its base moves with `Bus.move`, its counters stay. */
export class Region {
  base: number;
  /** Whether the region currently decodes addresses (false: removed, disabled, or moved onto a conflict). */
  mapped = false;
  /** Why the region was fenced off after its device failed, or null. */
  broken: string | null = null;
  readonly name: string;
  readonly size: number;
  readonly exitClass: ExitClass;
  readonly handler: MmioHandler;
  readonly classes: readonly ClassRange[] | null;
  readonly dmaTarget: boolean;
  readonly onFailure: ((error: Error) => boolean) | null;

  constructor(spec: RegionSpec, readonly counters: RegionCounters) {
    if (!Number.isSafeInteger(spec.size) || spec.size <= 0) throw new RangeError(`region ${spec.name} has no size`);
    this.name = spec.name;
    this.base = spec.base;
    this.size = spec.size;
    this.exitClass = spec.exitClass;
    this.handler = spec.handler;
    this.classes = spec.classes !== undefined && spec.classes.length > 0 ? spec.classes : null;
    this.dmaTarget = spec.dmaTarget ?? false;
    this.onFailure = spec.onFailure ?? null;
  }

  /** The exit class of an access at `offset`. */
  classAt(offset: number, write = false): ExitClass {
    const cs = this.classes;
    if (cs !== null) {
      for (const c of cs) {
        if (offset >= c.offset && offset < c.offset + c.size && (write || c.writesOnly !== true)) return c.exitClass;
      }
    }
    return this.exitClass;
  }

  /** Clears a failure so the device serves accesses again (after its reset). */
  repair(): void { this.broken = null; }
}

/** Result of a bus access that did not hit RAM or any region: the hart raises an access fault. */
export const BUS_ERROR = -1;

const ONES: Record<Width, number> = { 1: 0xff, 2: 0xffff, 4: 0xffff_ffff, 8: 0 };
const TWO32 = 0x1_0000_0000;

export class Bus implements DmaTargets {
  /** Every region ever added (mapped or not), in registration order. */
  private readonly all: Region[] = [];
  /** Mapped regions sorted by base, for lookup. */
  private mappedSorted: Region[] = [];
  private last: Region | null = null;
  /** Told once per device failure (the wiring point prints a line; tests record it). */
  onDeviceFailure: ((region: Region, error: Error) => void) | null = null;
  /** Virtual time for failure records. */
  now: () => number = () => -1;

  constructor(readonly ram: GuestMemory, private readonly metrics: Metrics) {}

  /** Adds a region and maps it at its base (unless spec.unmapped). Throws if its placement conflicts (wiring bug). */
  addRegion(spec: RegionSpec): Region {
    const r = new Region(spec, this.metrics.region(spec.name, spec.exitClass, spec.registerName ?? null));
    this.all.push(r);
    if (spec.unmapped !== true) {
      const why = this.conflict(r, r.base);
      if (why !== null) throw new RangeError(`region ${r.name} ${why}`);
      this.map(r);
    }
    return r;
  }

  get allRegions(): readonly Region[] { return this.all; }

  /** Why `r` cannot decode at `base`, or null when it can. */
  conflict(r: Region, base: number): string | null {
    if (!Number.isSafeInteger(base) || base < 0) return `has an invalid base ${base}`;
    const end = base + r.size;
    if (base < this.ram.base + this.ram.size && this.ram.base < end) return 'overlaps RAM';
    for (const o of this.mappedSorted) {
      if (o !== r && base < o.base + o.size && o.base < end) return `overlaps ${o.name}`;
    }
    return null;
  }

  /**
   * Moves a region to `base` (a guest programming a BAR). Returns false, leaving the region unmapped, when the new
   * placement conflicts with RAM or another region: as on hardware the conflicting range does not reach the
   * device, and the VMM carries on.
   */
  move(r: Region, base: number): boolean {
    this.unmap(r);
    r.base = base;
    if (this.conflict(r, base) !== null) return false;
    this.map(r);
    return true;
  }

  /** Stops decoding the region (BAR disabled, function removed); its counters remain in the metrics. */
  unmap(r: Region): void {
    if (!r.mapped) return;
    r.mapped = false;
    this.mappedSorted = this.mappedSorted.filter((o) => o !== r);
    this.last = null;
  }

  /** Decodes the region at its current base again (memory decoding re-enabled); false on a conflict. */
  remap(r: Region): boolean {
    if (r.mapped) return true;
    if (this.conflict(r, r.base) !== null) return false;
    this.map(r);
    return true;
  }

  private map(r: Region): void {
    r.mapped = true;
    this.mappedSorted = [...this.mappedSorted, r].sort((a, b) => a.base - b.base);
    this.last = null;
  }

  find(paddr: number): Region | null {
    const l = this.last;
    if (l !== null && paddr >= l.base && paddr < l.base + l.size) return l;
    const rs = this.mappedSorted;
    let lo = 0, hi = rs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = rs[mid]!;
      if (paddr < r.base) hi = mid - 1;
      else if (paddr >= r.base + r.size) lo = mid + 1;
      else { this.last = r; return r; }
    }
    return null;
  }

  private fail(r: Region, e: unknown): void {
    const error = e instanceof Error ? e : new Error(String(e));
    r.counters.failures++;
    this.metrics.recordFailure({ device: r.name, reason: error.message, at: this.now() });
    const handled = r.onFailure !== null && safely(() => r.onFailure!(error));
    if (!handled) r.broken = error.message;
    this.onDeviceFailure?.(r, error);
  }

  /**
   * MMIO read of `width` bytes at `paddr` (not RAM). Returns null when nothing is mapped there, so the caller
   * raises an access fault. 8-byte reads return bigint, narrower ones an unsigned number.
   */
  mmioRead(paddr: number, width: Width): number | bigint | null {
    const r = this.find(paddr);
    if (r === null || paddr + width > r.base + r.size) return null;
    const off = paddr - r.base;
    r.counters.count(off, false, r.classAt(off));
    if (r.broken !== null) { r.counters.refused++; return width === 8 ? 0xffff_ffff_ffff_ffffn : ONES[width]; }
    let v: number | bigint;
    try {
      v = r.handler.read(off, width);
    } catch (e) {
      this.fail(r, e);
      return width === 8 ? 0xffff_ffff_ffff_ffffn : ONES[width];
    }
    if (width === 8) return typeof v === 'bigint' ? BigInt.asUintN(64, v) : numberTo64(v);
    if (typeof v === 'bigint') return Number(BigInt.asUintN(width * 8, v));
    return width === 4 ? v >>> 0 : v & ONES[width];
  }

  /** MMIO write; returns false when nothing is mapped at `paddr`. */
  mmioWrite(paddr: number, width: Width, value: number | bigint): boolean {
    const r = this.find(paddr);
    if (r === null || paddr + width > r.base + r.size) return false;
    const off = paddr - r.base;
    r.counters.count(off, true, r.classAt(off, true));
    if (r.broken !== null) { r.counters.refused++; return true; }
    try {
      r.handler.write(off, width, value);
    } catch (e) {
      this.fail(r, e);
    }
    return true;
  }

  /** A device's 32-bit DMA write to an MMIO region that accepts DMA (an MSI). Not an exit: counted as DMA. */
  dmaWrite32(paddr: number, value: number): boolean {
    const r = this.find(paddr);
    if (r === null || !r.dmaTarget || paddr + 4 > r.base + r.size) return false;
    r.counters.dmaWrites++;
    if (r.broken !== null) return true;
    try {
      r.handler.write(paddr - r.base, 4, value);
    } catch (e) {
      this.fail(r, e);
    }
    return true;
  }
}

/** An 8-byte value a handler returned as a number, exactly (numbers past 2^53 are already inexact). */
function numberTo64(v: number): bigint {
  if (!Number.isFinite(v)) return 0n;
  const t = Math.trunc(v);
  if (t >= 0 && t < TWO32) return BigInt(t);
  return BigInt.asUintN(64, BigInt(t));
}

function safely(f: () => boolean): boolean {
  try { return f(); } catch { return false; }
}
