// The IOTLB: the IOMMU's address-translation cache for G-stage leaves (RISC-V IOMMU spec "Caching in-memory data
// structures"; invalidation by IOTINVAL.GVMA, table "IOTINVAL.GVMA operands and operations"). Entries are tagged
// by GSCID and guest address, as the spec's table of tags says for second-stage entries. Only successful walks are
// cached: the spec forbids caching PTEs whose V bit is clear, so a newly valid mapping is seen at once without an
// invalidation, while a changed or removed one may be used until the invalidation that subsumes it.
//
// One entry per leaf, whatever its size (4 KiB, 2 MiB, 1 GiB), so a superpage mapping costs one miss, not one per
// 4 KiB page. 4-way set-associative with least-recently-used replacement, in allocation-free typed arrays; a lookup
// probes the set of each leaf size that is present (at most three probes of four ways).

export interface IotlbCounters {
  hits: number;
  misses: number;
  /** Fills that replaced a valid entry with another tag. */
  evictions: number;
  /** Valid entries dropped by invalidations. */
  invalidated: number;
}

/** Leaf sizes in 4 KiB pages: 4 KiB, 2 MiB, 1 GiB. */
const LEAF_PAGES = [1, 512, 512 * 512] as const;

export class Iotlb {
  readonly size: number;
  readonly ways: number;
  private readonly setMask: number;
  /** GSCID of each entry; -1 when invalid. Entries of set s are s*ways .. s*ways+ways-1. */
  private readonly gscid: Int32Array;
  /** The leaf's first guest page (its tag) and its size class (an index into LEAF_PAGES). */
  private readonly tag: Float64Array;
  private readonly sizeClass: Uint8Array;
  /** The local address (on the owner's bus) of the leaf's first byte. */
  private readonly local: Float64Array;
  /** PTE_R / PTE_W as the walk allowed them. */
  private readonly perms: Uint8Array;
  /** When each entry was last used (for LRU). */
  private readonly used: Float64Array;
  private clock = 0;
  /** Valid entries of each size class: a lookup skips classes with none. */
  private readonly present = [0, 0, 0];
  readonly counters: IotlbCounters = { hits: 0, misses: 0, evictions: 0, invalidated: 0 };

  constructor(entries = 512) {
    if (!Number.isInteger(entries) || entries < 1 || (entries & (entries - 1)) !== 0 || entries > 1 << 20) {
      throw new RangeError(`IOTLB size ${entries}: need a power of two between 1 and 2^20`);
    }
    this.size = entries;
    this.ways = Math.min(4, entries);
    this.setMask = entries / this.ways - 1;
    this.gscid = new Int32Array(entries).fill(-1);
    this.tag = new Float64Array(entries);
    this.sizeClass = new Uint8Array(entries);
    this.local = new Float64Array(entries);
    this.perms = new Uint8Array(entries);
    this.used = new Float64Array(entries);
  }

  /** First entry of the set of (gscid, tag): the page number's bits folded together, mixed with the GSCID. */
  private set(gscid: number, tag: number): number {
    const h = (tag ^ (tag >>> 9) ^ Math.floor(tag / 2 ** 18) ^ Math.imul(gscid, 0x9e37_79b1)) >>> 0;
    return (h & this.setMask) * this.ways;
  }

  /** The entry whose leaf maps guest page `vpn` of address space `gscid`, or -1 (counted as a hit or a miss). */
  lookup(gscid: number, vpn: number): number {
    for (let c = 0; c < 3; c++) {
      if (this.present[c] === 0) continue;
      const t = vpn - (vpn % LEAF_PAGES[c]!);
      const s = this.set(gscid, t);
      for (let i = s; i < s + this.ways; i++) {
        if (this.gscid[i] === gscid && this.tag[i] === t && this.sizeClass[i] === c) {
          this.counters.hits++;
          this.used[i] = ++this.clock;
          return i;
        }
      }
    }
    this.counters.misses++;
    return -1;
  }

  entryPerms(i: number): number { return this.perms[i]!; }
  entryLeafGpa(i: number): number { return this.tag[i]! * 4096; }
  entryLeafSize(i: number): number { return LEAF_PAGES[this.sizeClass[i]! as 0 | 1 | 2] * 4096; }
  entryLocal(i: number): number { return this.local[i]!; }

  /** Caches the leaf at guest address `leafGpa` of `leafSize` bytes (4 KiB, 2 MiB or 1 GiB). */
  fill(gscid: number, leafGpa: number, leafSize: number, local: number, perms: number): void {
    const c = LEAF_PAGES.indexOf(leafSize / 4096 as 1);
    if (c < 0) throw new RangeError(`IOTLB leaf of ${leafSize} bytes`);
    const t = leafGpa / 4096;
    const s = this.set(gscid, t);
    let i = s;
    for (let k = s; k < s + this.ways; k++) {
      if (this.gscid[k] === -1 || (this.gscid[k] === gscid && this.tag[k] === t && this.sizeClass[k] === c)) { i = k; break; }
      if (this.used[k]! < this.used[i]!) i = k;
    }
    if (this.gscid[i] !== -1) {
      if (this.gscid[i] !== gscid || this.tag[i] !== t || this.sizeClass[i] !== c) this.counters.evictions++;
      this.present[this.sizeClass[i]!]!--;
    }
    this.gscid[i] = gscid;
    this.tag[i] = t;
    this.sizeClass[i] = c;
    this.local[i] = local;
    this.perms[i] = perms;
    this.used[i] = ++this.clock;
    this.present[c]!++;
  }

  /**
   * IOTINVAL.GVMA: GV=0 (gscid null) drops every entry; GV=1, AV=0 drops the entries of `gscid`; GV=1, AV=1
   * drops the entry of `gscid` whose leaf maps guest address `gpa`. Returns how many entries were dropped.
   */
  invalidate(gscid: number | null, gpa: number | null = null): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) {
      const g = this.gscid[i]!;
      if (g === -1 || (gscid !== null && g !== gscid)) continue;
      if (gscid !== null && gpa !== null) {
        const start = this.entryLeafGpa(i);
        if (!(gpa >= start && gpa < start + this.entryLeafSize(i))) continue;
      }
      this.gscid[i] = -1;
      this.present[this.sizeClass[i]!]!--;
      n++;
    }
    this.counters.invalidated += n;
    return n;
  }

  /** Valid entries (for reports and tests). */
  get occupancy(): number {
    return this.present[0]! + this.present[1]! + this.present[2]!;
  }
}
