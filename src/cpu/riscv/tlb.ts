// The hart's software TLB: direct-mapped translation caches for fetch, load and store, one set of entries per
// privilege context, each mapping a 4 KiB virtual page to a RAM offset (privileged spec §4.3.2 leaves caching to
// the implementation; §4.2.1 SFENCE.VMA says what a fence must make visible). Only pages whose whole 4 KiB is RAM
// and passed the permission and PMP checks are entered, so MMIO is never cached. Filled by translate(); the hart
// reads the tag and offset arrays inline (Hart.lOff/sOff/fetchHalf) and keeps the current contexts itself.

import { ACC_FETCH, ACC_LOAD, PRV_M, PRV_U, type AccessType } from './csr-defs.js';

// Local constants: V8 folds these, but not exported or imported bindings (module cells), which cost a load per use.
const INV_PAGE = 1 / 4096;
/** Sets per context (a power of two). */
const SETS = 4096;
/** SETS for hart.ts, which keeps its own copy for its inline lookups and checks it against this one. */
export const TLB_SETS = SETS;
/** Translation contexts: 0 M (no translation), 1 U, 2 S with SUM=0, 3 S with SUM=1, 4 S/U with satp=Bare. */
const CTX_COUNT = 5;
const TLB_SIZE = SETS * CTX_COUNT;
/** Distinct superpages remembered for SFENCE.VMA (see Tlb.spans). */
const SPAN_LIMIT = 64;

/** The first entry of the context used at privilege `p` (satp Bare or not, mstatus.SUM set or not). */
export function tlbContext(p: number, bare: boolean, sum: boolean): number {
  if (p === PRV_M) return 0;
  if (bare) return 4 * SETS;
  if (p === PRV_U) return SETS;
  return (sum ? 3 : 2) * SETS;
}

/** Entries per access type (all contexts). */
export const TLB_ENTRIES = TLB_SIZE;
/** Bytes of the six tag and offset arrays, laid out ldTag, ldOff, stTag, stOff, fcTag, fcOff (see Tlb's constructor). */
export const TLB_BYTES = TLB_SIZE * 8 * 6;

export class Tlb {
  // Tags are virtual page numbers (NaN: empty); offsets are the RAM offset of the page's first byte.
  readonly ldTag: Float64Array;
  readonly ldOff: Float64Array;
  readonly stTag: Float64Array;
  readonly stOff: Float64Array;
  readonly fcTag: Float64Array;
  readonly fcOff: Float64Array;
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
   * The tag and offset arrays in a buffer of their own, or at `at.offset` of `at.buffer` (TLB_BYTES there, in the
   * order TLB_BYTES names: translated wasm code looks them up in place).
   */
  constructor(at: { buffer: ArrayBuffer | SharedArrayBuffer; offset: number } | null = null) {
    const buf = at?.buffer ?? new ArrayBuffer(TLB_BYTES), base = at?.offset ?? 0;
    const arr = (k: number): Float64Array => new Float64Array(buf, base + k * TLB_SIZE * 8, TLB_SIZE);
    this.ldTag = arr(0).fill(NaN); this.ldOff = arr(1);
    this.stTag = arr(2).fill(NaN); this.stOff = arr(3);
    this.fcTag = arr(4).fill(NaN); this.fcOff = arr(5);
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
    this.global[m] = global;
    this.spBase[m] = spBase;
    this.spPages[m] = spPages;
    if (spPages > 1 && !this.spansFull && (this.spans.get(spBase) ?? 0) < spPages) {
      if (this.spans.size >= SPAN_LIMIT) this.spansFull = true; else this.spans.set(spBase, spPages);
    }
  }

  /** Forgets every translation. */
  flush(): void {
    this.ldTag.fill(NaN);
    this.stTag.fill(NaN);
    this.fcTag.fill(NaN);
    this.spans.clear();
    this.spansFull = false;
  }

  /** Forgets load translations only (mstatus.MXR changed what loads may read). */
  flushLoads(): void {
    this.ldTag.fill(NaN);
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
          tag[i] = NaN;
        }
      }
      return;
    }
    for (let t = 0; t < 3; t++) {
      const tag = tags[t]!;
      for (let i = SETS; i < 4 * SETS; i++) { // translated contexts only
        if (Number.isNaN(tag[i]!)) continue;
        const m = t * TLB_SIZE + i;
        if (asid !== null && this.global[m] === 1) continue;
        if (va !== null && (vpn < this.spBase[m]! || vpn >= this.spBase[m]! + this.spPages[m]!)) continue;
        tag[i] = NaN;
      }
    }
  }

  /** Whether an entry filled since the last flush may have come from a superpage containing page `vpn`. */
  private inSuperpage(vpn: number): boolean {
    if (this.spansFull) return true;
    for (const [base, pages] of this.spans) if (vpn >= base && vpn < base + pages) return true;
    return false;
  }
}
