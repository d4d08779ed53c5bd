// The decoded-instruction cache, keyed by physical RAM page (unprivileged spec §6 Zifencei: FENCE.I makes stores
// visible to fetches; RVC expansion per §16 via rvc.ts). Per RAM page an Int32Array of two entries per halfword:
// [2k] the (expanded) instruction starting at byte 2k, tagged in its low bits (11: 32-bit, 01: compressed,
// 0: not decoded yet), [2k+1] the raw parcel(s) for tval. codeMark[page] is 1 while the page may hold decoded
// entries; every hart store into RAM checks it and clears the entries its bytes overlap, so self-modifying code
// works even without FENCE.I. FENCE.I, reset and remote fences wipe everything; device DMA into code pages is
// covered by the guest's FENCE.I. A block translator (jit/) listens through onCodeStore/onFlush: its
// translations live in the same pages and must go when their bytes change or on a wipe.

import { RVC_TABLE } from './rvc.js';

/** The 4 KiB base page (privileged spec §4.3). A local constant, not an import: V8 folds it into the code. */
const PAGE = 4096;
const INV_PAGE = 1 / 4096;

export class DecodeCache {
  /** 1 per RAM page that may hold decoded entries (read inline by the hart loop's store path). */
  readonly codeMark: Uint8Array;
  private readonly pages: (Int32Array | undefined)[] = [];
  /** Pages that were marked since the last full wipe (may hold stale or duplicate numbers). */
  private marked: number[] = [];
  /** RAM as 16-bit parcels. */
  private readonly ram16: Uint16Array;
  /** Told after codeStore cleared the entries of RAM page `page` for bytes [from, to) of it (jit/). */
  onCodeStore: ((page: number, from: number, to: number) => void) | null = null;
  /** Told after flush() wiped every entry. */
  onFlush: (() => void) | null = null;

  /** `codeMark`, when given, is where the marks live (one byte per RAM page: translated wasm code reads them there). */
  constructor(ram16: Uint16Array, codeMark?: Uint8Array) {
    this.ram16 = ram16;
    this.codeMark = codeMark ?? new Uint8Array(Math.ceil((ram16.length * 2) / PAGE));
  }

  /** The decode array of the RAM page at offset `off` (page-aligned), marking the page as holding code. */
  page(off: number): Int32Array {
    const p = off / PAGE;
    let a = this.pages[p];
    if (a === undefined) { a = new Int32Array(PAGE); this.pages[p] = a; }
    if (this.codeMark[p] === 0) {
      this.codeMark[p] = 1;
      if (this.marked.length >= this.codeMark.length) this.marked = this.marked.filter((q) => this.codeMark[q] === 1);
      this.marked.push(p);
    }
    return a;
  }

  // guest-controlled: instruction bytes come from guest memory.
  /**
   * Decodes the instruction at byte `k` of the page whose decode array is `dc` and RAM offset `pageOff`, stores
   * it and returns the entry; returns 0 (entry left undecoded, raw parcel in dc[k + 1]) for an illegal
   * compressed parcel.
   */
  fill(dc: Int32Array, pageOff: number, k: number): number {
    const ram16 = this.ram16;
    const h = (pageOff + k) / 2;
    const lo = ram16[h]!;
    let e: number, raw: number;
    if ((lo & 3) === 3) {
      e = raw = lo | (ram16[h + 1]! << 16);
    } else {
      raw = lo;
      e = RVC_TABLE[lo]!;
      if (e === 0) { dc[k + 1] = raw; return 0; }
      e &= ~2; // tag: compressed
    }
    dc[k] = e;
    dc[k + 1] = raw;
    return e;
  }

  /**
   * A hart store of `size` bytes at RAM offset `off` hit a page marked as holding code: forget the decoded
   * entries of every instruction that may overlap those bytes (one starting up to 2 bytes before them).
   */
  codeStore(off: number, size: number): void {
    const page = (off * INV_PAGE) | 0;
    const dc = this.pages[page]!;
    const po = off % PAGE, end = po + size;
    for (let k = po < 2 ? 0 : (po - 2) & ~1; k < end; k += 2) dc[k] = 0;
    if (this.onCodeStore !== null) this.onCodeStore(page, po, end);
  }

  /** Every RAM store by the hart outside the loop's fast path calls this with the RAM offset it writes. */
  noteStore(off: number, size: number): void {
    if (this.codeMark[(off * INV_PAGE) | 0] !== 0) this.codeStore(off, size);
  }

  /** Forgets every decoded instruction (FENCE.I, reset, remote fences). */
  flush(): void {
    for (const p of this.marked) {
      if (this.codeMark[p] === 0) continue;
      this.codeMark[p] = 0;
      this.pages[p]!.fill(0);
    }
    this.marked.length = 0;
    if (this.onFlush !== null) this.onFlush();
  }
}
