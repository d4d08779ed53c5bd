// The RISC-V IOMMU as hardware (RISC-V IOMMU spec "Process to translate an IOVA", "Caching in-memory data
// structures", the IOTINVAL.GVMA and IODIR.INVAL_DDT commands, "Fault/Event-Queue"): a 2LVL device directory of
// base-format device contexts, Sv39x4 G-stage walks, an IOTLB, a DDT cache and a fault log, all over host-private
// table memory (table-memory.ts). What software (vmio's hypervisor) programs into it is in iommu.ts.
//
// translate() is the hot path: it allocates nothing, returns an address on the owner's bus or a negative DmaSpace
// fault code, and leaves the fault CAUSE in `cause`; the function's DmaSpace (dma-space.ts) logs one record per
// refused access through recordFault().

import { DMA_FAULT_PERMISSION, DMA_FAULT_TRANSLATION } from '../memory/dma.js';
import { type DeviceContext, locateDc, newDeviceContext } from './ddt.js';
import type { IommuDomain } from './domain.js';
import { FaultLog } from './fault-log.js';
import { newGStageResult, walkSv39x4 } from './g-stage.js';
import { HostPhysMap, type HostRange } from './host-map.js';
import { Iotlb } from './iotlb.js';
import {
  CAUSES_REPORTED_WITH_DTF, IOHGATP_MODE_BARE, PAGE_SIZE, PTE_R, PTE_W, TTYP_UNTRANSLATED_READ, TTYP_UNTRANSLATED_WRITE,
  accessFault, guestPageFault, isGuestPageFault,
} from './spec.js';
import { TableMemory } from './table-memory.js';

export interface IommuOptions {
  /** Bytes of host-private table memory (default 8 MiB: whole-RAM mappings of several GiB in 4 KiB pages). */
  readonly tableBytes?: number;
  /** IOTLB entries, a power of two (default 512). */
  readonly iotlbEntries?: number;
  /** Fault log records kept (default 256). */
  readonly faultLogEntries?: number;
}

export interface IommuCounters {
  translations: number;
  /** Table walks (IOTLB misses that reached the tables). */
  walks: number;
  /** Faults recorded in the log, and faults not logged because the device's DC has DTF set. */
  faults: number;
  faultsSuppressed: number;
  /** DC loads from the directory (DDT-cache misses). */
  ddtLoads: number;
  /** Invalidation commands: IOTINVAL.GVMA (all, by GSCID, by address) and IODIR.INVAL_DDT. */
  iotinvalAll: number;
  iotinvalGscid: number;
  iotinvalAddress: number;
  iodirInvalDdt: number;
}

/** A DC as cached: its decoded fields and the domain its GSCID names (null for Bare or an unknown GSCID). */
interface CachedDc extends DeviceContext {
  domain: IommuDomain | null;
}

export class IommuHardware {
  readonly hostMap = new HostPhysMap();
  readonly tables: TableMemory;
  readonly tablesRange: HostRange;
  /** Host physical address of the device directory's root page (ddtp.PPN × 4 KiB; ddtp.iommu_mode = 2LVL). */
  readonly ddtRoot: number;
  readonly iotlb: Iotlb;
  readonly faults: FaultLog;
  readonly counters: IommuCounters = {
    translations: 0, walks: 0, faults: 0, faultsSuppressed: 0, ddtLoads: 0,
    iotinvalAll: 0, iotinvalGscid: 0, iotinvalAddress: 0, iodirInvalDdt: 0,
  };
  /** Set by translate(): bytes contiguous from the address it returned. */
  span = 0;
  /** Set by translate() when it refuses: the fault record CAUSE. */
  cause = 0;
  private readonly dcCache = new Map<number, CachedDc>();
  /** The DC the last translation used (one entry in front of dcCache; dropped with it). */
  private lastDid = -1;
  private lastDc: CachedDc | null = null;
  /** Live domains by GSCID, and the domain each attached device ID points at (kept by the hypervisor side). */
  protected readonly domains = new Map<number, IommuDomain>();
  protected readonly attached = new Map<number, IommuDomain>();
  private readonly walk = newGStageResult();
  private readonly dcScratch = newDeviceContext();

  constructor(opts: IommuOptions = {}) {
    const bytes = opts.tableBytes ?? 8 * 1024 * 1024;
    this.tablesRange = this.hostMap.place('iommu-tables', '', bytes, 0);
    this.tables = new TableMemory(this.tablesRange.hpa, bytes);
    this.ddtRoot = this.tables.allocPage('the device directory root');
    this.iotlb = new Iotlb(opts.iotlbEntries ?? 512);
    this.faults = new FaultLog(opts.faultLogEntries ?? 256);
  }

  // ---- Invalidation commands ----

  /** IOTINVAL.GVMA: GV=0 (gscid null) all; GV=1, AV=0 one GSCID; GV=1, AV=1 the leaf mapping guest address `addr`. */
  iotinvalGvma(gscid: number | null = null, addr: number | null = null): void {
    if (gscid === null) this.counters.iotinvalAll++;
    else if (addr === null) this.counters.iotinvalGscid++;
    else this.counters.iotinvalAddress++;
    this.iotlb.invalidate(gscid, addr);
  }

  /** IODIR.INVAL_DDT: DV=0 (no argument) drops every cached DC; DV=1 drops device `deviceId`'s. */
  iodirInvalDdt(deviceId: number | null = null): void {
    this.counters.iodirInvalDdt++;
    if (deviceId === null) this.dcCache.clear(); else this.dcCache.delete(deviceId);
    this.lastDid = -1;
    this.lastDc = null;
  }

  // ---- Translation (the hot path) ----

  /**
   * Translates an untranslated read or write of device `deviceId` at `iova`, for a DmaSpace bound to domain `owner`.
   * Returns the address on the owner's bus (span in `span`), or a negative DMA fault code (cause in `cause`).
   * Beyond the spec's checks, the result must be memory of `owner`'s VM: a DC naming another domain, or a table
   * entry pointing elsewhere, is refused as an access fault, because a function's DMA reaches only its owner.
   */
  translate(deviceId: number, iova: number, write: boolean, owner: IommuDomain): number {
    this.counters.translations++;
    const dc = deviceId === this.lastDid ? this.lastDc : this.dcCache.get(deviceId) ?? this.loadDc(deviceId);
    if (dc === null) return -DMA_FAULT_TRANSLATION;
    this.lastDid = deviceId;
    this.lastDc = dc;
    if (dc.mode === IOHGATP_MODE_BARE) return this.resolve(owner, iova, write);
    const d = dc.domain;
    if (d !== owner || d === null) return this.refuse(accessFault(write), DMA_FAULT_TRANSLATION);
    const vpn = Math.floor(iova / PAGE_SIZE);
    const i = this.iotlb.lookup(d.gscid, vpn);
    if (i >= 0) {
      if ((this.iotlb.entryPerms(i) & (write ? PTE_W : PTE_R)) === 0) return this.refuse(guestPageFault(write), DMA_FAULT_PERMISSION);
      const leafGpa = this.iotlb.entryLeafGpa(i);
      this.span = leafGpa + this.iotlb.entryLeafSize(i) - iova;
      return this.iotlb.entryLocal(i) + (iova - leafGpa);
    }
    this.counters.walks++;
    d.stats.iotlbMisses++;
    d.cost?.charge('iotlbMiss');
    const w = this.walk;
    if (!walkSv39x4(this.tables.mem, dc.root, iova, write, w)) return this.refuse(w.cause, w.dmaFault);
    const local = this.resolve(d, w.hpa, write);
    if (local < 0) return local;
    const leafLocal = local - (iova - w.leafGpa);
    if (leafLocal >= d.resolvedStart && leafLocal + w.leafSize <= d.resolvedEnd) {
      this.iotlb.fill(d.gscid, w.leafGpa, w.leafSize, leafLocal, w.perms);
      this.span = w.leafGpa + w.leafSize - iova;
    } else {
      // A leaf straddling the owner's range (only a hand-built table can make one): cache just this page.
      const page = vpn * PAGE_SIZE;
      this.iotlb.fill(d.gscid, page, PAGE_SIZE, local - (iova - page), w.perms);
      this.span = page + PAGE_SIZE - iova;
    }
    return local;
  }

  /** Logs a refused access of `deviceId` (one record per access: the DmaSpace calls this once). */
  recordFault(deviceId: number, iova: number, write: boolean, cause: number): void {
    const dc = this.dcCache.get(deviceId);
    if (dc?.dtf === true && !CAUSES_REPORTED_WITH_DTF.has(cause)) { this.counters.faultsSuppressed++; return; }
    this.counters.faults++;
    const d = this.attached.get(deviceId);
    if (d !== undefined) d.stats.faults++;
    const iotval = iova >= 0 && Number.isSafeInteger(iova) ? iova : 0;
    this.faults.record(deviceId, cause, write ? TTYP_UNTRANSLATED_WRITE : TTYP_UNTRANSLATED_READ, iotval, isGuestPageFault(cause) ? iotval - (iotval % 4) : 0);
  }

  /** The owner-bus address of `hpa` (span to the end of the owner's range holding it), or an access fault. */
  private resolve(owner: IommuDomain, hpa: number, write: boolean): number {
    const local = owner.localOf(hpa);
    if (local < 0) return this.refuse(accessFault(write), DMA_FAULT_TRANSLATION);
    this.span = owner.resolvedEnd - local;
    return local;
  }

  private refuse(cause: number, code: number): number {
    this.cause = cause;
    return -code;
  }

  private loadDc(deviceId: number): CachedDc | null {
    this.counters.ddtLoads++;
    const c = locateDc(this.tables.mem, this.ddtRoot, deviceId, this.dcScratch);
    if (c !== 0) { this.cause = c; return null; }
    const s = this.dcScratch;
    const dc: CachedDc = { ...s, domain: s.mode === IOHGATP_MODE_BARE ? null : this.domains.get(s.gscid) ?? null };
    this.dcCache.set(deviceId, dc);
    return dc;
  }

  toJSON(): object {
    return {
      counters: this.counters, iotlb: { entries: this.iotlb.size, ...this.iotlb.counters },
      faults: this.faults, tablePages: { inUse: this.tables.pagesInUse, peak: this.tables.peakPages, total: this.tables.size / PAGE_SIZE },
      domains: [...this.domains.values()],
    };
  }
}
