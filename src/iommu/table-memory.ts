// The IOMMU's table memory: host-private pages that hold the device directory and every domain's G-stage page
// tables (RISC-V IOMMU spec "Data Structures": the tables live in main memory and are read by the IOMMU).
//
// Why host-private: on a real host the hypervisor allocates these tables from its own memory, never from a VM's,
// so that no guest store and no device DMA can rewrite a translation. vmio models that literally: the tables are a
// buffer of their own (a GuestMemory used as host memory, owned by the Iommu), placed at a host physical range of
// its own. No VM's Bus maps it, no domain may map it (Iommu.map refuses its range), and the walk reads page tables
// only from it. A guest cannot even name it: its addresses exist only inside the IOMMU's tables.

import { GuestMemory } from '../memory/guest-memory.js';
import { PAGE_SIZE, SV39X4_ROOT_BYTES } from './spec.js';

export class IommuOutOfTableMemory extends Error {
  constructor(what: string, bytes: number) {
    super(`the IOMMU's table memory (${bytes} bytes) is full while allocating ${what}; `
      + 'create the Iommu with a larger tableBytes, or use superpage-aligned mappings (whole-RAM policy) that need fewer tables');
    this.name = 'IommuOutOfTableMemory';
  }
}

/** Host-private memory with a page allocator (4 KiB pages, and 16 KiB-aligned blocks for Sv39x4 roots). */
export class TableMemory {
  /** The pages; `mem.base` is their host physical address. */
  readonly mem: GuestMemory;
  private next = 0;
  private readonly freePages: number[] = [];
  private readonly freeRoots: number[] = [];
  /** Pages currently allocated (a 16 KiB root counts 4). */
  pagesInUse = 0;
  /** Most pages ever in use. */
  peakPages = 0;

  constructor(hostBase: number, bytes: number) {
    if (!Number.isSafeInteger(bytes) || bytes < SV39X4_ROOT_BYTES || bytes % SV39X4_ROOT_BYTES !== 0) {
      throw new RangeError(`IOMMU table memory of ${bytes} bytes: need a positive multiple of 16 KiB`);
    }
    if (hostBase % SV39X4_ROOT_BYTES !== 0) throw new RangeError(`IOMMU table memory base 0x${hostBase.toString(16)} is not 16 KiB aligned`);
    this.mem = new GuestMemory(hostBase, bytes);
  }

  get base(): number { return this.mem.base; }
  get size(): number { return this.mem.size; }

  /** True when [hpa, hpa+len) overlaps the table memory. */
  overlaps(hpa: number, len: number): boolean {
    return hpa < this.mem.base + this.mem.size && hpa + len > this.mem.base;
  }

  /** A zeroed 4 KiB page; returns its host physical address. */
  allocPage(what: string): number {
    let off = this.freePages.pop();
    if (off === undefined) {
      if (this.next + PAGE_SIZE > this.mem.size) throw new IommuOutOfTableMemory(what, this.mem.size);
      off = this.next;
      this.next += PAGE_SIZE;
    }
    return this.taken(off, PAGE_SIZE);
  }

  /** A zeroed, 16 KiB-aligned 16 KiB block (an Sv39x4 root table). */
  allocRoot(what: string): number {
    let off = this.freeRoots.pop();
    if (off === undefined) {
      let start = Math.ceil(this.next / SV39X4_ROOT_BYTES) * SV39X4_ROOT_BYTES;
      if (start + SV39X4_ROOT_BYTES > this.mem.size) throw new IommuOutOfTableMemory(what, this.mem.size);
      // The gap left by alignment goes to the 4 KiB free list.
      for (let p = this.next; p < start; p += PAGE_SIZE) this.freePages.push(p);
      off = start;
      start += SV39X4_ROOT_BYTES;
      this.next = start;
    }
    return this.taken(off, SV39X4_ROOT_BYTES);
  }

  freePage(hpa: number): void {
    this.freePages.push(this.released(hpa, PAGE_SIZE));
  }

  freeRoot(hpa: number): void {
    this.freeRoots.push(this.released(hpa, SV39X4_ROOT_BYTES));
  }

  private taken(off: number, bytes: number): number {
    this.mem.fill(this.mem.base + off, bytes, 0);
    this.pagesInUse += bytes / PAGE_SIZE;
    if (this.pagesInUse > this.peakPages) this.peakPages = this.pagesInUse;
    return this.mem.base + off;
  }

  private released(hpa: number, bytes: number): number {
    const off = hpa - this.mem.base;
    if (!this.mem.contains(hpa, bytes) || off % PAGE_SIZE !== 0) throw new RangeError(`0x${hpa.toString(16)} is not a table page`);
    this.mem.fill(hpa, bytes, 0);
    this.pagesInUse -= bytes / PAGE_SIZE;
    return off;
  }

  /** Reads the 64-bit entry at host physical address `hpa`. */
  read64(hpa: number): bigint {
    return this.mem.read64(hpa - this.mem.base);
  }

  /** Writes a 64-bit entry with one store (the spec's rule for entries the IOMMU may read at any time). */
  write64(hpa: number, v: bigint): void {
    this.mem.write64(hpa - this.mem.base, v);
  }

  read32(hpa: number): number {
    return this.mem.read32(hpa - this.mem.base);
  }
}
