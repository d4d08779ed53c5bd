// An IOMMU domain: one VM's I/O address space — a GSCID, a G-stage page table in the IOMMU's table memory, the
// host placement of the VM's RAM and interrupt-file doorbells, the devices attached, the DMA policy in force and
// what it costs (RISC-V IOMMU spec: a GSCID names "an address space" shared by the devices of a VM).

import type { GStageTable } from './page-table.js';
import type { HostRange } from './host-map.js';
import type { CostKind } from '../metrics/cost.js';
import { PAGE_SIZE, SV39X4_GPA_LIMIT } from './spec.js';
import { IommuMapError } from './page-table.js';

/** A VM's RAM as it sees it: guest physical base and size. Pass the VM's GuestMemory itself (DMA spaces check identity). */
export interface RamRange {
  readonly base: number;
  readonly size: number;
}

/**
 * What the hypervisor maps for an assigned function:
 * - 'whole-ram': all of the owner's RAM at IOVA = guest physical address (VFIO type 1), done once at assignment;
 * - 'window': only [base, base+size) of it, the guest's restricted-dma-pool, through which stock Linux bounces
 *   all of that device's DMA (swiotlb); an access outside the window faults.
 */
export type DmaPolicy =
  | { readonly kind: 'whole-ram' }
  | { readonly kind: 'window'; readonly base: number; readonly size: number };

/** Charges modelled costs (a VM's CostMeter fits): one 'iotlbMiss' per IOTLB miss of the domain's devices. */
export interface CostCharger {
  charge(kind: CostKind, n?: number): number;
}

export interface DomainStats {
  mapCalls: number;
  unmapCalls: number;
  /** IOTLB misses (table walks) of the domain's devices. */
  iotlbMisses: number;
  /** Faults recorded for the domain's devices. */
  faults: number;
  /** IOTINVAL.GVMA commands issued for the domain (by address or whole GSCID). */
  invalidations: number;
}

export class IommuDomain {
  destroyed = false;
  policy: DmaPolicy | null = null;
  /** Device IDs attached. */
  readonly devices = new Set<number>();
  /** Doorbell pages mapped for MSIs. */
  readonly msiPages: HostRange[] = [];
  readonly stats: DomainStats = { mapCalls: 0, unmapCalls: 0, iotlbMisses: 0, faults: 0, invalidations: 0 };
  /** Set by localOf(): the local range [resolvedStart, resolvedEnd) holding the address it resolved. */
  resolvedStart = 0;
  resolvedEnd = 0;

  constructor(
    readonly vmName: string,
    readonly gscid: number,
    readonly ram: RamRange,
    readonly ramHost: HostRange,
    readonly table: GStageTable,
    readonly cost: CostCharger | null,
  ) {}

  /** The host physical address of guest physical address `gpa` of this VM's RAM (what map() takes). */
  hostPa(gpa: number): number {
    if (!(gpa >= this.ram.base && gpa < this.ram.base + this.ram.size)) {
      throw new IommuMapError(`0x${gpa.toString(16)} is not in VM '${this.vmName}''s RAM [0x${this.ram.base.toString(16)}, 0x${(this.ram.base + this.ram.size).toString(16)})`);
    }
    return this.ramHost.hpa + (gpa - this.ram.base);
  }

  /**
   * The address on the owner's bus of host physical address `hpa` when the domain's VM owns it (its RAM or one of
   * its mapped doorbells), else -1. Sets resolvedStart/End to the local range holding it.
   */
  localOf(hpa: number): number {
    const r = this.ramHost;
    if (hpa >= r.hpa && hpa < r.hpa + r.size) {
      this.resolvedStart = r.local;
      this.resolvedEnd = r.local + r.size;
      return r.local + (hpa - r.hpa);
    }
    for (const d of this.msiPages) {
      if (hpa >= d.hpa && hpa < d.hpa + d.size) {
        this.resolvedStart = d.local;
        this.resolvedEnd = d.local + d.size;
        return d.local + (hpa - d.hpa);
      }
    }
    return -1;
  }

  /** The IOVA range a policy maps (IOVA = guest physical address), validated against the RAM. */
  policyRange(p: DmaPolicy): { base: number; size: number } {
    if (p.kind === 'whole-ram') return { base: this.ram.base, size: this.ram.size };
    const { base, size } = p;
    checkAligned('restricted DMA window base', base);
    checkAligned('restricted DMA window size', size);
    if (size <= 0 || base < this.ram.base || base + size > this.ram.base + this.ram.size) {
      throw new IommuMapError(`restricted DMA window [0x${base.toString(16)}, 0x${(base + size).toString(16)}) is not inside VM '${this.vmName}''s RAM `
        + `[0x${this.ram.base.toString(16)}, 0x${(this.ram.base + this.ram.size).toString(16)}); place the restricted-dma-pool in the guest's RAM`);
    }
    return { base, size };
  }

  toJSON(): object {
    return {
      vm: this.vmName, gscid: this.gscid, policy: this.policy, devices: [...this.devices].sort((a, b) => a - b),
      mappedBytes: this.table.mappedBytes, leaves: { '4K': this.table.leavesByLevel[0], '2M': this.table.leavesByLevel[1], '1G': this.table.leavesByLevel[2] },
      tablePages: this.table.pages, msiPages: this.msiPages.length, ...this.stats,
    };
  }
}

/** Throws unless `v` is a non-negative 4 KiB-aligned exact integer. */
export function checkAligned(what: string, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0 || v % PAGE_SIZE !== 0) {
    throw new IommuMapError(`${what} ${v} (0x${Number.isFinite(v) ? v.toString(16) : '?'}) is not a 4 KiB-aligned address; IOMMU mappings are made of 4 KiB pages`);
  }
}

/** Throws unless [iova, iova+len) is a non-empty page range inside Sv39x4's 41-bit guest physical space. */
export function checkIovaRange(iova: number, len: number): void {
  checkAligned('IOVA', iova);
  checkAligned('length', len);
  if (len === 0) throw new IommuMapError('a mapping of length 0 maps nothing; pass a positive multiple of 4 KiB');
  if (iova + len > SV39X4_GPA_LIMIT) {
    throw new IommuMapError(`IOVA range [0x${iova.toString(16)}, 0x${(iova + len).toString(16)}) goes past 2^41, the end of Sv39x4's guest physical space`);
  }
}
