// The IOTLB: the IOMMU's address-translation cache for G-stage leaves (RISC-V IOMMU spec "Caching in-memory data
// structures"; invalidation by IOTINVAL.GVMA, table "IOTINVAL.GVMA operands and operations"). Entries are tagged
// by GSCID and guest page, as the spec's table of tags says for second-stage entries. Only successful walks are
// cached: the spec forbids caching PTEs whose V bit is clear, so a newly valid mapping is seen at once without an
// invalidation, while a changed or removed one may be used until the invalidation that subsumes it.
//
// 4-way set-associative with least-recently-used replacement, in allocation-free typed arrays. An entry is filled
// per 4 KiB guest page accessed, but carries its whole leaf (a 2 MiB or 1 GiB leaf may occupy several entries), so
// an invalidation by address drops every entry of the leaf that covers the address.

export interface IotlbCounters {
  hits: number;
  misses: number;
  /** Fills that replaced a valid entry with another tag. */
  evictions: number;
  /** Valid entries dropped by invalidations. */
  invalidated: number;
}

export class Iotlb {
  readonly size: number;
  readonly ways: number;
  private readonly setMask: number;
  /** GSCID of each entry; -1 when invalid. Entries of set s are s*ways .. s*ways+ways-1. */
  private readonly gscid: Int32Array;
  /** The 4 KiB guest page the entry was filled for (its tag). */
  private readonly vpn: Float64Array;
  /** The leaf: first guest address, size, and the local address (on the owner's bus) of its first byte. */
  private readonly leafGpa: Float64Array;
  private readonly leafSize: Float64Array;
  private readonly local: Float64Array;
  /** PTE_R / PTE_W as the walk allowed them. */
  private readonly perms: Uint8Array;
  /** When each entry was last used (for LRU). */
  private readonly used: Float64Array;
  private clock = 0;
  readonly counters: IotlbCounters = { hits: 0, misses: 0, evictions: 0, invalidated: 0 };

  constructor(entries = 512) {
    if (!Number.isInteger(entries) || entries < 1 || (entries & (entries - 1)) !== 0 || entries > 1 << 20) {
      throw new RangeError(`IOTLB size ${entries}: need a power of two between 1 and 2^20`);
    }
    this.size = entries;
    this.ways = Math.min(4, entries);
    this.setMask = entries / this.ways - 1;
    this.gscid = new Int32Array(entries).fill(-1);
    this.vpn = new Float64Array(entries);
    this.leafGpa = new Float64Array(entries);
    this.leafSize = new Float64Array(entries);
    this.local = new Float64Array(entries);
    this.perms = new Uint8Array(entries);
    this.used = new Float64Array(entries);
  }

  /** First entry of the set of (gscid, vpn): the page number's bits folded together, mixed with the GSCID. */
  private set(gscid: number, vpn: number): number {
    const h = (vpn ^ (vpn >>> 7) ^ Math.floor(vpn / 2 ** 17) ^ Math.imul(gscid, 0x9e37_79b1)) >>> 0;
    return (h & this.setMask) * this.ways;
  }

  /** The entry caching guest page `vpn` of address space `gscid`, or -1 (counted as a hit or a miss). */
  lookup(gscid: number, vpn: number): number {
    const s = this.set(gscid, vpn);
    for (let i = s; i < s + this.ways; i++) {
      if (this.gscid[i] === gscid && this.vpn[i] === vpn) {
        this.counters.hits++;
        this.used[i] = ++this.clock;
        return i;
      }
    }
    this.counters.misses++;
    return -1;
  }

  entryPerms(i: number): number { return this.perms[i]!; }
  entryLeafGpa(i: number): number { return this.leafGpa[i]!; }
  entryLeafSize(i: number): number { return this.leafSize[i]!; }
  entryLocal(i: number): number { return this.local[i]!; }

  fill(gscid: number, vpn: number, leafGpa: number, leafSize: number, local: number, perms: number): void {
    const s = this.set(gscid, vpn);
    let i = s;
    for (let k = s; k < s + this.ways; k++) {
      if (this.gscid[k] === -1 || (this.gscid[k] === gscid && this.vpn[k] === vpn)) { i = k; break; }
      if (this.used[k]! < this.used[i]!) i = k;
    }
    if (this.gscid[i] !== -1 && (this.gscid[i] !== gscid || this.vpn[i] !== vpn)) this.counters.evictions++;
    this.gscid[i] = gscid;
    this.vpn[i] = vpn;
    this.leafGpa[i] = leafGpa;
    this.leafSize[i] = leafSize;
    this.local[i] = local;
    this.perms[i] = perms;
    this.used[i] = ++this.clock;
  }

  /**
   * IOTINVAL.GVMA: GV=0 (gscid null) drops every entry; GV=1, AV=0 drops the entries of `gscid`; GV=1, AV=1
   * drops the entries of `gscid` whose leaf maps guest address `gpa`. Returns how many entries were dropped.
   */
  invalidate(gscid: number | null, gpa: number | null = null): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) {
      const g = this.gscid[i]!;
      if (g === -1 || (gscid !== null && g !== gscid)) continue;
      if (gscid !== null && gpa !== null && !(gpa >= this.leafGpa[i]! && gpa < this.leafGpa[i]! + this.leafSize[i]!)) continue;
      this.gscid[i] = -1;
      n++;
    }
    this.counters.invalidated += n;
    return n;
  }

  /** Valid entries (for reports and tests). */
  get occupancy(): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) if (this.gscid[i] !== -1) n++;
    return n;
  }
}
