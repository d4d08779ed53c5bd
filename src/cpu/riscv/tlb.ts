// The hart's software TLB: direct-mapped translation caches for fetch, load and store, one set of entries per
// privilege context, each mapping a 4 KiB virtual page to a RAM offset (privileged spec §4.3.2 leaves caching to
// the implementation; §4.2.1 SFENCE.VMA says what a fence must make visible). Only pages whose whole 4 KiB is RAM
// and passed the permission and PMP checks are entered, so MMIO is never cached. Filled by translate(); the hart
// reads the tag and offset arrays inline (Hart.lOff/sOff/fetchHalf) and keeps the current contexts itself.

import { ACC_FETCH, ACC_LOAD, PRV_M, PRV_U, type AccessType } from './csr-defs.js';

// Local constants: V8 folds these, but not exported or imported bindings (module cells), which cost a load per use.
const INV_PAGE = 1 / 4096;
/**
 * Sets per context (a power of two). A boot fills 35.3 k entries with 4,096 sets and 23.3 k with 8,192 or 16,384
 * (the rest are conflicts), but boots no faster with 8,192 (docs/jit.md).
 */
const SETS = 4096;
/** SETS for hart.ts, which keeps its own copy for its inline lookups and checks it against this one. */
export const TLB_SETS = SETS;
/** Translation contexts: 0 M (no translation), 1 U, 2 S with SUM=0, 3 S with SUM=1, 4 S/U with satp=Bare. */
const CTX_COUNT = 5;
const TLB_SIZE = SETS * CTX_COUNT;
/** Distinct superpages remembered for SFENCE.VMA (see Tlb.spans). */
const SPAN_LIMIT = 64;
/** Entries remembered as filled since the last flush (see Tlb.filled). */
const FILLED_MAX = 4096;

/** The first entry of the context used at privilege `p` (satp Bare or not, mstatus.SUM set or not). */
export function tlbContext(p: number, bare: boolean, sum: boolean): number {
  if (p === PRV_M) return 0;
  if (bare) return 4 * SETS;
  if (p === PRV_U) return SETS;
  return (sum ? 3 : 2) * SETS;
}

/** Entries per access type (all contexts). */
export const TLB_ENTRIES = TLB_SIZE;
/**
 * Bytes of the tag and offset arrays, laid out ldTag, ldOff, stTag, stOff, fcTag, fcOff (doubles, see Tlb's
 * constructor), then the records (TLB_REC).
 */
export const TLB_BYTES = TLB_SIZE * 8 * 6 + TLB_SIZE * 16 * 3;
/**
 * Where the records start in those bytes: every entry again for WebAssembly code, 16 bytes at TLB_REC + (acc *
 * TLB_ENTRIES + entry) * 16 (acc: ACC_FETCH, ACC_LOAD, ACC_STORE): the tag as an int64 (REC_EMPTY_HI in its high
 * word when empty) and the RAM offset as an int32 after it. Generated code compares and adds integers, without
 * converting a vpn to a double for the tag or a double offset back (with its range check) on the way to every
 * load and store address, and reads one cache line instead of two.
 */
export const TLB_REC = TLB_SIZE * 8 * 6;
/** Where the records of access type `acc` (ACC_FETCH, ACC_LOAD, ACC_STORE) start in the TLB's bytes; 16 bytes an entry. */
export function tlbRecords(acc: AccessType): number { return TLB_REC + acc * TLB_ENTRIES * 16; }
/** The access type of entry `m` (acc * TLB_ENTRIES + index). */
const accOf = (m: number): number => (m >= 2 * TLB_SIZE ? 2 : m >= TLB_SIZE ? 1 : 0);
/** The high word of an empty record's tag: no vpn (|vpn| < 2^52) has it. */
export const REC_EMPTY_HI = 0x40000000;
const TWO32 = 2 ** 32;

export class Tlb {
  // Tags are virtual page numbers (NaN: empty); offsets are the RAM offset of the page's first byte.
  readonly ldTag: Float64Array;
  readonly ldOff: Float64Array;
  readonly stTag: Float64Array;
  readonly stOff: Float64Array;
  readonly fcTag: Float64Array;
  readonly fcOff: Float64Array;
  /** The records (TLB_REC), as int32 words: four per entry. */
  private readonly rec: Int32Array;
  /** Per entry (the 3 caches side by side, by access type): global flag, superpage first VPN and size, for SFENCE.VMA. */
  private readonly global = new Uint8Array(TLB_SIZE * 3);
  private readonly spBase = new Float64Array(TLB_SIZE * 3);
  private readonly spPages = new Float64Array(TLB_SIZE * 3);
  /**
   * The superpages (first VPN -> 4 KiB pages spanned) entries were filled from since the last flush, so that
   * SFENCE.VMA of an address outside all of them looks at one set per context instead of every entry (the kernel
   * fences single pages thousands of times per boot). Entries evicted since are not removed: a stale superpage
   * only costs a full scan. Past SPAN_LIMIT distinct superpages every fence of an address scans.
   */
  private readonly spans = new Map<number, number>();
  private spansFull = false;
  /**
   * The entries filled since the last flush (acc * TLB_ENTRIES + index; the same one may be there twice), so that
   * a flush or a fence that must scan visits those instead of all 61,440 (a boot fills ~600 between its ~60
   * flushes). Past FILLED_MAX (nFilled = FILLED_MAX + 1) they visit everything again.
   */
  private readonly filled = new Int32Array(FILLED_MAX);
  private nFilled = 0;

  /**
   * The tag and offset arrays in a buffer of their own, or at `at.offset` of `at.buffer` (TLB_BYTES there, in the
   * order TLB_BYTES names: translated wasm code looks them up in place).
   */
  constructor(at: { buffer: ArrayBuffer | SharedArrayBuffer; offset: number } | null = null) {
    const buf = at?.buffer ?? new ArrayBuffer(TLB_BYTES), base = at?.offset ?? 0;
    const arr = (k: number): Float64Array => new Float64Array(buf, base + k * TLB_SIZE * 8, TLB_SIZE);
    this.ldTag = arr(0).fill(NaN); this.ldOff = arr(1);
    this.stTag = arr(2).fill(NaN); this.stOff = arr(3);
    this.fcTag = arr(4).fill(NaN); this.fcOff = arr(5);
    this.rec = new Int32Array(buf, base + TLB_REC, TLB_SIZE * 3 * 4);
    this.emptyRecords(0, 3);
  }

  /**
   * Empties the records of access types `from` to `to` - 1 (all contexts): every word REC_EMPTY_HI, a memset
   * (the tag 0x40000000_40000000 is no vpn's either).
   */
  private emptyRecords(from: number, to: number): void {
    this.rec.fill(REC_EMPTY_HI, from * TLB_SIZE * 4, to * TLB_SIZE * 4);
  }

  /**
   * Enters virtual page `vpn` -> RAM page offset `ramOff` for access type `acc` in context `ctx`; `global`,
   * `spBase` and `spPages` describe the leaf the walk found (global mapping, superpage span in 4 KiB pages).
   */
  fill(ctx: number, acc: AccessType, vpn: number, ramOff: number, global: number, spBase: number, spPages: number): void {
    const i = ctx + (vpn & (SETS - 1));
    const tag = acc === ACC_FETCH ? this.fcTag : acc === ACC_LOAD ? this.ldTag : this.stTag;
    const off = acc === ACC_FETCH ? this.fcOff : acc === ACC_LOAD ? this.ldOff : this.stOff;
    tag[i] = vpn;
    off[i] = ramOff;
    const m = acc * TLB_SIZE + i;
    const w = m * 4, rec = this.rec;
    rec[w] = vpn | 0; // the low 32 bits (ToInt32 is exact modulo 2^32 for an integer)
    rec[w + 1] = Math.floor(vpn / TWO32);
    rec[w + 2] = ramOff; // RAM is below 4 GiB (a wasm memory): read back unsigned
    this.global[m] = global;
    this.spBase[m] = spBase;
    this.spPages[m] = spPages;
    const n = this.nFilled;
    if (n < FILLED_MAX) { this.filled[n] = m; this.nFilled = n + 1; } else this.nFilled = FILLED_MAX + 1;
    if (spPages > 1 && !this.spansFull && (this.spans.get(spBase) ?? 0) < spPages) {
      if (this.spans.size >= SPAN_LIMIT) this.spansFull = true; else this.spans.set(spBase, spPages);
    }
  }

  /** Forgets every translation. */
  flush(): void {
    if (this.nFilled > FILLED_MAX) {
      this.ldTag.fill(NaN);
      this.stTag.fill(NaN);
      this.fcTag.fill(NaN);
      this.emptyRecords(0, 3);
    } else {
      const f = this.filled;
      for (let k = 0, n = this.nFilled; k < n; k++) this.drop(f[k]!);
    }
    this.nFilled = 0;
    this.spans.clear();
    this.spansFull = false;
  }

  /** Forgets load translations only (mstatus.MXR changed what loads may read). */
  flushLoads(): void {
    if (this.nFilled > FILLED_MAX) {
      this.ldTag.fill(NaN);
      this.emptyRecords(ACC_LOAD, ACC_LOAD + 1);
      return;
    }
    const f = this.filled, from = ACC_LOAD * TLB_SIZE, to = from + TLB_SIZE;
    for (let k = 0, n = this.nFilled; k < n; k++) { const m = f[k]!; if (m >= from && m < to) this.drop(m); }
  }

  /** Empties entry `m` (acc * TLB_ENTRIES + index), in the doubles and in its record. */
  private drop(m: number): void {
    const t = accOf(m);
    (t === ACC_FETCH ? this.fcTag : t === ACC_LOAD ? this.ldTag : this.stTag)[m - t * TLB_SIZE] = NaN;
    this.rec[m * 4 + 1] = REC_EMPTY_HI;
  }

  /**
   * SFENCE.VMA (privileged spec §4.2.1): `va` null = all addresses, `asid` null = all address spaces. Every cached
   * entry belongs to `currentAsid` (a satp write flushes), so a fence for another ASID has nothing to drop.
   */
  sfence(va: number | null, asid: number | null, currentAsid: number): void {
    if (va === null && asid === null) { this.flush(); return; }
    if (asid !== null && asid !== currentAsid) return;
    const vpn = va === null ? 0 : Math.floor(va * INV_PAGE);
    const tags = [this.fcTag, this.ldTag, this.stTag];
    if (va !== null && !this.inSuperpage(vpn)) { // only a 4 KiB entry for vpn itself can translate va
      for (let t = 0; t < 3; t++) {
        const tag = tags[t]!;
        for (let i = SETS + (vpn & (SETS - 1)); i < 4 * SETS; i += SETS) { // its set in each translated context
          if (tag[i] !== vpn || (asid !== null && this.global[t * TLB_SIZE + i] === 1)) continue;
          this.drop(t * TLB_SIZE + i);
        }
      }
      return;
    }
    // Every entry of the translated contexts the fence covers: those filled since the flush, or all of them.
    const covered = (m: number): void => {
      const t = accOf(m), i = m - t * TLB_SIZE;
      if (i < SETS || i >= 4 * SETS || Number.isNaN(tags[t]![i]!)) return; // translated contexts only
      if (asid !== null && this.global[m] === 1) return;
      if (va !== null && (vpn < this.spBase[m]! || vpn >= this.spBase[m]! + this.spPages[m]!)) return;
      this.drop(m);
    };
    if (this.nFilled <= FILLED_MAX) {
      for (let k = 0, n = this.nFilled; k < n; k++) covered(this.filled[k]!);
      return;
    }
    for (let t = 0; t < 3; t++) for (let i = SETS; i < 4 * SETS; i++) covered(t * TLB_SIZE + i);
  }

  /** Whether an entry filled since the last flush may have come from a superpage containing page `vpn`. */
  private inSuperpage(vpn: number): boolean {
    if (this.spansFull) return true;
    for (const [base, pages] of this.spans) if (vpn >= base && vpn < base + pages) return true;
    return false;
  }
}
