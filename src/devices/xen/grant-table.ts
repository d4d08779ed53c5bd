// A domain's grant table, version 1 (grant_table.h; Xen's common/grant_table.c): 8-byte entries {flags, domid,
// frame} in the granting domain's grant frames, which are hypervisor pages the guest maps with
// XENMEM_add_to_physmap. vmio's backends use grants the way a backend domain does: GNTTABOP_copy semantics (one
// side a grant reference, the other vmio's own buffer, offset + length bounded by the page) and GNTTABOP_map (for
// the shared rings), with Xen's pinning rules: while vmio uses an entry, GTF_reading (and GTF_writing for a write)
// are set in the shared entry, so the guest's gnttab_end_foreign_access sees the grant in use and cannot revoke it.
// Every field of an entry is guest-controlled and read at each first pin; a frame must be the granter's own RAM.

import { DMA_OK } from '../../memory/dma.js';
import {
  DOMID_VMIO, GNTST_bad_copy_arg, GNTST_bad_gntref, GNTST_bad_handle, GNTST_bad_page, GNTST_general_error,
  GNTST_no_space, GNTST_okay, GRANT_ENTRIES_PER_FRAME, GRANT_ENTRY_V1_SIZE, GTF_permit_access, GTF_readonly,
  GTF_reading, GTF_type_mask, GTF_writing, XEN_PAGE_SIZE,
} from './abi.js';
import { GrantCounters, type CostCharger } from './counters.js';
import type { XenDomain } from './domain.js';

export const GNTST_NAMES: Readonly<Record<number, string>> = {
  [GNTST_general_error]: 'general_error', [GNTST_bad_gntref]: 'bad_gntref', [GNTST_bad_handle]: 'bad_handle',
  [GNTST_bad_page]: 'bad_page', [GNTST_bad_copy_arg]: 'bad_copy_arg', [GNTST_no_space]: 'no_space',
};

/** A grant vmio holds mapped (GNTTABOP_map_grant_ref). */
export interface GrantMapping {
  readonly handle: number;
  readonly gref: number;
  readonly readonly: boolean;
  /** Guest physical address of the granted frame, for access through the granter's DmaSpace. */
  readonly addr: number;
}

/** Xen's active entry: the pin counts and what the first pin found. */
interface Active {
  readers: number;
  writers: number;
  frame: number;
  domid: number;
  readonly: boolean;
}

/** Grants vmio may hold mapped from one domain at once. */
export const MAX_MAPS = 1024;

export class GrantTable {
  private readonly active = new Map<number, Active>();
  private readonly maps = new Map<number, GrantMapping>();
  private nextHandle = 1;

  constructor(readonly domain: XenDomain, readonly counters = new GrantCounters(), private readonly cost: CostCharger | null = null) {}

  /** Grant references currently valid (the table's size in entries). */
  get nrEntries(): number { return this.domain.nrGrantFrames * GRANT_ENTRIES_PER_FRAME; }

  private page(gref: number) { return this.domain.grantFrames[Math.floor(gref / GRANT_ENTRIES_PER_FRAME)]!; }
  private entryOff(gref: number): number { return (gref % GRANT_ENTRIES_PER_FRAME) * GRANT_ENTRY_V1_SIZE; }
  private flags(gref: number): number { return this.page(gref).read16(this.entryOff(gref)); }
  private setFlags(gref: number, v: number): void { this.page(gref).write16(this.entryOff(gref), v); }

  /** Set by check(): whether the entry it accepted is read-only. */
  private checkedReadonly = false;

  // guest-controlled: the entry's flags, domid and frame.
  /** Validates an unpinned entry for `requester` (Xen's _set_status_v1): its frame, or a GNTST status (< 0). */
  private check(gref: number, requester: number, write: boolean): number {
    const page = this.page(gref);
    const off = this.entryOff(gref);
    const flags = page.read16(off);
    const domid = page.read16(off + 2);
    const frame = page.read32(off + 4);
    if ((flags & GTF_type_mask) !== GTF_permit_access || domid !== requester) return GNTST_general_error;
    if (write && (flags & GTF_readonly) !== 0) return GNTST_general_error;
    if (!this.domain.ownsFrame(frame)) return GNTST_bad_page;
    this.checkedReadonly = (flags & GTF_readonly) !== 0;
    return frame;
  }

  /** Pins `gref` for `requester`; returns the frame's guest physical address, or a GNTST status (< 0). */
  private acquire(gref: number, requester: number, write: boolean): number {
    if (!Number.isInteger(gref) || gref < 0 || gref >= this.nrEntries) return GNTST_bad_gntref;
    let a = this.active.get(gref);
    if (a === undefined) {
      const frame = this.check(gref, requester, write);
      if (frame < 0) return frame;
      a = { readers: 0, writers: 0, frame, domid: requester, readonly: this.checkedReadonly };
      this.active.set(gref, a);
    } else if (a.domid !== requester || (write && a.readonly)) {
      return GNTST_general_error;
    }
    if (write) a.writers++; else a.readers++;
    this.setFlags(gref, this.flags(gref) | GTF_reading | (write ? GTF_writing : 0));
    return a.frame * XEN_PAGE_SIZE;
  }

  private release(gref: number, write: boolean): void {
    const a = this.active.get(gref);
    if (a === undefined) return;
    if (write) a.writers--; else a.readers--;
    let clear = 0;
    if (a.writers === 0) clear |= GTF_writing;
    if (a.writers === 0 && a.readers === 0) { clear |= GTF_reading; this.active.delete(gref); }
    this.setFlags(gref, this.flags(gref) & ~clear);
  }

  private refuse(status: number): number {
    this.counters.refuse(GNTST_NAMES[status] ?? String(status));
    return status;
  }

  /** GNTTABOP_copy from grant `gref` at `offset` into all of `dst` (vmio's buffer). Returns a GNTST status. */
  copyFrom(gref: number, offset: number, dst: Uint8Array, requester = DOMID_VMIO): number {
    return this.copy(gref, offset, dst, false, requester);
  }

  /** GNTTABOP_copy from all of `src` into grant `gref` at `offset`. Returns a GNTST status. */
  copyTo(gref: number, offset: number, src: Uint8Array, requester = DOMID_VMIO): number {
    return this.copy(gref, offset, src, true, requester);
  }

  private copy(gref: number, offset: number, buf: Uint8Array, write: boolean, requester: number): number {
    if (!Number.isInteger(offset) || offset < 0 || offset + buf.length > XEN_PAGE_SIZE) return this.refuse(GNTST_bad_copy_arg);
    if (!Number.isInteger(gref) || gref < 0 || gref >= this.nrEntries) return this.refuse(GNTST_bad_gntref);
    let r: number;
    if (this.active.has(gref)) {
      // Pinned by a mapping: use what the first pin found, and leave the mapping's bits as they are.
      const base = this.acquire(gref, requester, write);
      if (base < 0) return this.refuse(base);
      r = write ? this.domain.mem.write(base + offset, buf) : this.domain.mem.read(base + offset, buf);
      this.release(gref, write);
    } else {
      // The common case, with nothing to remember: pin (set the in-use bits), copy, unpin.
      const frame = this.check(gref, requester, write);
      if (frame < 0) return this.refuse(frame);
      const inUse = GTF_reading | (write ? GTF_writing : 0);
      this.setFlags(gref, this.flags(gref) | inUse);
      const addr = frame * XEN_PAGE_SIZE + offset;
      r = write ? this.domain.mem.write(addr, buf) : this.domain.mem.read(addr, buf);
      this.setFlags(gref, this.flags(gref) & ~inUse);
    }
    if (r !== DMA_OK) return this.refuse(GNTST_general_error);
    this.counters.copies++;
    this.counters.bytes += buf.length;
    this.cost?.charge('copyPerByte', buf.length);
    return GNTST_okay;
  }

  /** GNTTABOP_map_grant_ref for vmio: a handle (>= 1) or a GNTST status (< 0). The grant stays pinned until unmap. */
  map(gref: number, readonly: boolean, requester = DOMID_VMIO): number {
    if (this.maps.size >= MAX_MAPS) return this.refuse(GNTST_no_space);
    const base = this.acquire(gref, requester, !readonly);
    if (base < 0) return this.refuse(base);
    const handle = this.nextHandle++;
    this.maps.set(handle, { handle, gref, readonly, addr: base });
    this.counters.maps++;
    return handle;
  }

  mapping(handle: number): GrantMapping | undefined { return this.maps.get(handle); }

  /** GNTTABOP_unmap_grant_ref: unpins; counts a grant the guest took away while it was mapped. */
  unmap(handle: number): number {
    const m = this.maps.get(handle);
    if (m === undefined) return GNTST_bad_handle;
    this.maps.delete(handle);
    if ((this.flags(m.gref) & GTF_type_mask) !== GTF_permit_access) this.counters.revokedWhileMapped++;
    this.release(m.gref, !m.readonly);
    this.counters.unmaps++;
    return GNTST_okay;
  }

  /** Unmaps everything vmio holds (a backend disconnecting). */
  unmapAll(): void {
    for (const h of [...this.maps.keys()]) this.unmap(h);
  }
}
