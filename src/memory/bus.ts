// The physical address map: RAM plus MMIO regions (ARCHITECTURE.md "Bus / regions").
// Every region says how an access to it is accounted: a *trap* (emulated device, a VM exit),
// *direct* (assigned hardware, not an exit) or *notify* (a paravirtual doorbell). The bus counts
// every access per region and per register offset in the VM's metrics.

import { GuestMemory } from './guest-memory.js';
import type { Metrics } from '../metrics/counters.js';

export type AccessKind = 'trap' | 'direct' | 'notify';

/** Access widths in bytes. 8-byte values travel as bigint, narrower ones as unsigned numbers. */
export type Width = 1 | 2 | 4 | 8;

export interface MmioHandler {
  /** Returns the value read at `offset` (relative to the region base). Width 8 may return bigint or number. */
  read(offset: number, width: Width): number | bigint;
  write(offset: number, width: Width, value: number | bigint): void;
}

export interface Region {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  readonly kind: AccessKind;
  readonly handler: MmioHandler;
  /** Optional names for register offsets, used by metrics reports (e.g. {0: 'RBR_THR'}). */
  readonly registerNames?: Readonly<Record<number, string>>;
}

/** Result of a bus access that did not hit RAM or any region: the hart raises an access fault. */
export const BUS_ERROR = -1;

export class Bus {
  private regions: Region[] = [];
  private last: Region | null = null;

  constructor(readonly ram: GuestMemory, private readonly metrics: Metrics) {}

  addRegion(region: Region): void {
    if (region.size <= 0) throw new RangeError(`region ${region.name} has no size`);
    for (const r of this.regions) {
      if (region.base < r.base + r.size && r.base < region.base + region.size) {
        throw new RangeError(`region ${region.name} overlaps ${r.name}`);
      }
    }
    if (region.base < this.ram.base + this.ram.size && this.ram.base < region.base + region.size) {
      throw new RangeError(`region ${region.name} overlaps RAM`);
    }
    this.regions.push(region);
    this.regions.sort((a, b) => a.base - b.base);
  }

  get allRegions(): readonly Region[] { return this.regions; }

  find(paddr: number): Region | null {
    const l = this.last;
    if (l !== null && paddr >= l.base && paddr < l.base + l.size) return l;
    for (const r of this.regions) {
      if (paddr >= r.base && paddr < r.base + r.size) { this.last = r; return r; }
    }
    return null;
  }

  /**
   * MMIO read of `width` bytes at `paddr` (not RAM). Returns null when nothing is mapped there,
   * so the caller raises an access fault. 8-byte reads return bigint.
   */
  mmioRead(paddr: number, width: Width): number | bigint | null {
    const r = this.find(paddr);
    if (r === null || paddr + width > r.base + r.size) return null;
    const off = paddr - r.base;
    this.metrics.countAccess(r, off, false);
    const v = r.handler.read(off, width);
    if (width === 8) return typeof v === 'bigint' ? BigInt.asUintN(64, v) : BigInt(v >>> 0);
    return typeof v === 'bigint' ? Number(BigInt.asUintN(width * 8, v)) : (width === 4 ? v >>> 0 : v & ((1 << (width * 8)) - 1));
  }

  /** MMIO write; returns false when nothing is mapped at `paddr`. */
  mmioWrite(paddr: number, width: Width, value: number | bigint): boolean {
    const r = this.find(paddr);
    if (r === null || paddr + width > r.base + r.size) return false;
    const off = paddr - r.base;
    this.metrics.countAccess(r, off, true);
    r.handler.write(off, width, value);
    return true;
  }
}
