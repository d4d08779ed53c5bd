// A Xen guest domain as vmio sees it: its RAM (reached only through its DmaSpace), which of its frames are aliases
// of hypervisor pages (XENMEM_add_to_physmap, memory.h), where each vCPU's vcpu_info is (VCPUOP_register_vcpu_info,
// vcpu.h), its HVM parameters (hvm/params.h), and the upcall line through which its event channels interrupt it.
// Ownership rule: a frame a guest names for its own data (a grant's frame, a vcpu_info page) must be a RAM frame
// of this domain that is not an alias of a hypervisor page.

import type { DmaSpace } from '../../memory/dma.js';
import {
  EINVAL, ENOENT, SI_VCPU_INFO, VCPU_INFO_SIZE, VI_PENDING_SEL, VI_UPCALL_PENDING, XEN_PAGE_SHIFT, XEN_PAGE_SIZE,
  XENMAPIDX_grant_table_status, XENMAPSPACE_grant_table, XENMAPSPACE_shared_info,
} from './abi.js';
import { RamWindow, XenPage, type ByteWindow } from './xen-page.js';

/** Raises a vCPU's event upcall interrupt (the "xen,xen" node's interrupt); the wiring point injects it. */
export interface UpcallSink {
  raise(vcpu: number): void;
}

export interface XenDomainConfig {
  /** Domain id, 1..0x7fef (0 is vmio itself). */
  readonly id: number;
  /** The domain's RAM as its own backends see it (identity DMA space over the VM's GuestMemory). */
  readonly mem: DmaSpace;
  readonly ramBase: number;
  readonly ramSize: number;
  readonly vcpus: number;
  readonly upcall: UpcallSink;
  /** Grant table frames the guest may map (GNTTABOP_query_size's max_nr_frames); default 32 (16384 grants). */
  readonly maxGrantFrames?: number;
}

export const DEFAULT_MAX_GRANT_FRAMES = 32;
/** Highest frame number a guest may name: frames are exact as numbers (2^40 frames = 4 PiB). */
const MAX_GFN = 2 ** 40;

export class XenDomain {
  readonly id: number;
  readonly mem: DmaSpace;
  readonly vcpus: number;
  readonly upcall: UpcallSink;
  readonly sharedInfo: XenPage;
  readonly grantFrames: readonly XenPage[];
  /** HVM parameters the toolstack set (HVMOP_get_param reads them). */
  readonly params = new Map<number, bigint>();
  /** vCPUs that registered a runstate area (VCPUOP_register_runstate_memory_area). */
  readonly runstateRegistered: boolean[];
  /** SCHEDOP_shutdown's reason once the guest shut down, else -1. */
  shutdownReason = -1;
  private readonly firstFrame: number;
  private readonly frameCount: number;
  private readonly aliases = new Map<number, XenPage>();
  private readonly vcpuInfo: (ByteWindow | null)[];
  /** Grant frames mapped so far (the table's size: Xen grows it when a higher index is mapped). */
  private grantFramesInUse = 0;

  constructor(cfg: XenDomainConfig) {
    if (!Number.isInteger(cfg.id) || cfg.id < 1 || cfg.id >= 0x7ff0) throw new RangeError(`Xen domain id ${cfg.id}: use 1..32751 (0 is vmio)`);
    if (cfg.ramBase % XEN_PAGE_SIZE !== 0 || cfg.ramSize % XEN_PAGE_SIZE !== 0 || cfg.ramSize <= 0) {
      throw new RangeError(`Xen domain ${cfg.id}: RAM 0x${cfg.ramBase.toString(16)}+0x${cfg.ramSize.toString(16)} must be whole 4 KiB pages`);
    }
    if (!Number.isInteger(cfg.vcpus) || cfg.vcpus < 1 || cfg.vcpus > 64) throw new RangeError(`Xen domain ${cfg.id}: ${cfg.vcpus} vCPUs; use 1..64`);
    const maxFrames = cfg.maxGrantFrames ?? DEFAULT_MAX_GRANT_FRAMES;
    if (!Number.isInteger(maxFrames) || maxFrames < 1 || maxFrames > 1024) throw new RangeError(`Xen domain ${cfg.id}: ${maxFrames} grant frames; use 1..1024`);
    this.id = cfg.id;
    this.mem = cfg.mem;
    this.vcpus = cfg.vcpus;
    this.upcall = cfg.upcall;
    this.firstFrame = cfg.ramBase / XEN_PAGE_SIZE;
    this.frameCount = cfg.ramSize / XEN_PAGE_SIZE;
    this.sharedInfo = new XenPage('shared_info', cfg.mem);
    this.grantFrames = Array.from({ length: maxFrames }, (_, i) => new XenPage(`grant_table[${i}]`, cfg.mem));
    this.vcpuInfo = Array.from({ length: cfg.vcpus }, () => null);
    this.runstateRegistered = Array.from({ length: cfg.vcpus }, () => false);
  }

  /** Grant frames the table has grown to (GNTTABOP_query_size's nr_frames). */
  get nrGrantFrames(): number { return this.grantFramesInUse; }

  // guest-controlled: a frame number from a hypercall argument or a grant entry.
  /** A guest frame number as a number, or -1 when it is not one of this domain's RAM frames. */
  ramFrame(gfn: bigint | number): number {
    const g = typeof gfn === 'bigint' ? (gfn >= 0n && gfn < BigInt(MAX_GFN) ? Number(gfn) : -1) : gfn;
    if (!Number.isSafeInteger(g) || g < this.firstFrame || g >= this.firstFrame + this.frameCount) return -1;
    return g;
  }

  /** True when `gfn` is RAM of this domain holding the guest's own data (not an alias of a hypervisor page). */
  ownsFrame(gfn: number): boolean {
    return this.ramFrame(gfn) >= 0 && !this.aliases.has(gfn);
  }

  /** The hypervisor page mapped at `gfn`, if any. */
  aliasAt(gfn: number): XenPage | undefined { return this.aliases.get(gfn); }

  /**
   * XENMEM_add_to_physmap for `space`/`idx` at guest frame `gpfn` (Xen's xenmem_add_to_physmap_one): 0 or -errno.
   * A page already mapped elsewhere moves; a page already at `gpfn` is displaced.
   */
  addToPhysmap(space: number, idx: bigint, gpfn: bigint): number {
    let page: XenPage;
    if (space === XENMAPSPACE_shared_info) {
      if (idx !== 0n) return -EINVAL;
      page = this.sharedInfo;
    } else if (space === XENMAPSPACE_grant_table) {
      // Status frames exist only in grant table v2, which vmio does not offer.
      if ((idx & BigInt(XENMAPIDX_grant_table_status)) !== 0n || idx >= BigInt(this.grantFrames.length)) return -EINVAL;
      page = this.grantFrames[Number(idx)]!;
    } else {
      return -EINVAL;
    }
    const g = this.ramFrame(gpfn);
    if (g < 0) return -EINVAL;
    // A vcpu_info registered on this frame would be overwritten by the page: refuse, as the frame is in use.
    if (this.vcpuInfoOn(g)) return -EINVAL;
    const displaced = this.aliases.get(g);
    if (displaced === page) return 0;
    if (displaced !== undefined) { displaced.unmap(); this.aliases.delete(g); }
    if (page.gfn >= 0) this.aliases.delete(page.gfn);
    page.mapAt(g);
    this.aliases.set(g, page);
    if (space === XENMAPSPACE_grant_table) this.grantFramesInUse = Math.max(this.grantFramesInUse, Number(idx) + 1);
    return 0;
  }

  private vcpuInfoOn(gfn: number): boolean {
    for (const w of this.vcpuInfo) if (w instanceof RamWindow && Math.floor(w.base / XEN_PAGE_SIZE) === gfn) return true;
    return false;
  }

  /**
   * Where vCPU `vcpu`'s vcpu_info is: registered, or vcpu_info[0] of shared_info for vCPU 0 (the only slot in the
   * Arm layout); null for a vCPU that has none yet (events for it wait in the pending bitmap).
   */
  vcpuInfoOf(vcpu: number): ByteWindow | null {
    const w = this.vcpuInfo[vcpu];
    if (w === undefined) return null;
    if (w !== null) return w;
    return vcpu === 0 ? this.sharedInfo : null;
  }

  /** The byte offset of vcpu_info inside the window vcpuInfoOf returns. */
  vcpuInfoOffset(vcpu: number): number { return this.vcpuInfo[vcpu] ? 0 : SI_VCPU_INFO; }

  // guest-controlled: VCPUOP_register_vcpu_info's mfn and offset.
  /**
   * VCPUOP_register_vcpu_info (Xen's map_vcpu_info): 0 or -errno. Once only per vCPU; the struct must lie in one
   * page of the guest's own RAM, 8-byte aligned. The current contents move there, and every selector bit is set so
   * that the guest rescans the pending bitmap (as Xen does).
   */
  registerVcpuInfo(vcpu: number, mfn: bigint, offset: number): number {
    if (vcpu < 0 || vcpu >= this.vcpus) return -ENOENT;
    if (this.vcpuInfo[vcpu] !== null) return -EINVAL;
    if (offset > XEN_PAGE_SIZE - VCPU_INFO_SIZE || (offset & 7) !== 0) return -EINVAL;
    const g = this.ramFrame(mfn);
    if (g < 0 || !this.ownsFrame(g)) return -EINVAL;
    const w = new RamWindow(this.mem, g * XEN_PAGE_SIZE + offset);
    const old = this.vcpuInfoOf(vcpu);
    const oldOff = this.vcpuInfoOffset(vcpu);
    for (let i = 0; i < VCPU_INFO_SIZE; i++) w.write8(i, old === null ? 0 : old.read8(oldOff + i));
    this.vcpuInfo[vcpu] = w;
    for (let i = 0; i < 8; i++) w.write8(VI_PENDING_SEL + i, 0xff);
    w.write8(VI_UPCALL_PENDING, 1);
    return 0;
  }

  /** Guest physical address of frame `gfn`. */
  static frameAddr(gfn: number): number { return gfn * 2 ** XEN_PAGE_SHIFT; }
}
