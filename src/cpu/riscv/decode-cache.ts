// The decoded-instruction cache, keyed by physical RAM page (unprivileged spec §6 Zifencei: FENCE.I makes stores
// visible to fetches; RVC expansion per §16 via rvc.ts). Per RAM page an Int32Array of two entries per halfword:
// [2k] the (expanded) instruction starting at byte 2k, tagged in its low bits (11: 32-bit, 01: compressed,
// 0: not decoded yet), [2k+1] the raw parcel(s) for tval. codeMark[page] is 1 while the page may hold decoded
// entries; every hart store into RAM checks it and clears the entries its bytes overlap, so self-modifying code
// works even without FENCE.I. FENCE.I, reset and remote fences wipe everything; device DMA into code pages is
// covered by the guest's FENCE.I. A block translator (jit/) listens through onCodeStore/onFlush: its
// translations live in the same pages and must go when their bytes change or on a wipe.
// WebAssembly code (the interpreter's tier, wasm blocks) checks finer marks before it stores: lineMarks, a byte per
// CODE_LINE (64) bytes of RAM, set for every line an entry (or a block, jit/engine.ts) covers a byte of and
// cleared only by the wipe; a store into an unmarked line of a marked page -- data beside code -- is then no
// business of the cache's, and stays in WebAssembly.

import { RVC_TABLE } from './rvc.js';
import { CODE_LINE } from '../../memory/guest-memory.js';
import { hugePageBytes } from '../../memory/huge-pages.js';

/** The 4 KiB base page (privileged spec §4.3). A local constant, not an import: V8 folds it into the code. */
const PAGE = 4096;
const INV_PAGE = 1 / 4096;
const LINE_SHIFT = 6;
/** Decode arrays per slab (2 MiB, one huge page). */
const SLAB_PAGES = 128;
if (1 << LINE_SHIFT !== CODE_LINE) throw new Error('decode-cache.ts and guest-memory.ts disagree on the code line');

export class DecodeCache {
  /** 1 per RAM page that may hold decoded entries (read inline by the hart loop's store path). */
  readonly codeMark: Uint8Array;
  private readonly pages: (Int32Array | undefined)[] = [];
  /** Where new pages' decode arrays come from, and the next one's index in it. */
  private slab: Int32Array | null = null;
  private slabNext = 0;
  /** Pages that were marked since the last full wipe (may hold stale or duplicate numbers). */
  private marked: number[] = [];
  /** RAM as 16-bit parcels. */
  private readonly ram16: Uint16Array;
  /** Told after codeStore cleared the entries of RAM page `page` for bytes [from, to) of it (jit/). */
  onCodeStore: ((page: number, from: number, to: number) => void) | null = null;
  /** Told after flush() wiped every entry. */
  onFlush: (() => void) | null = null;

  /**
   * One byte per CODE_LINE bytes of RAM: 1 once a decoded entry or a block covers a byte of the line, until the
   * wipe (WebAssembly code reads them; null without it).
   */
  readonly lineMarks: Uint8Array | null;

  /** `lineMarks`, when given, is where the line marks live (in the wasm memory, where WebAssembly code reads them). */
  constructor(ram16: Uint16Array, lineMarks: Uint8Array | null = null) {
    this.ram16 = ram16;
    this.lineMarks = lineMarks;
    this.codeMark = new Uint8Array(Math.ceil((ram16.length * 2) / PAGE));
  }

  /** A zeroed decode array, cut from a slab of huge pages (each page's own array was 4 page faults on the host). */
  private newPage(): Int32Array {
    if (this.slab === null || this.slabNext === this.slab.length) {
      const bytes = hugePageBytes(SLAB_PAGES * PAGE * 4);
      this.slab = new Int32Array(bytes.buffer, bytes.byteOffset, SLAB_PAGES * PAGE);
      this.slabNext = 0;
    }
    const a = this.slab.subarray(this.slabNext, this.slabNext + PAGE);
    this.slabNext += PAGE;
    return a;
  }

  /** The decode array of the RAM page at offset `off` (page-aligned), marking the page as holding code. */
  page(off: number): Int32Array {
    const p = off / PAGE;
    let a = this.pages[p];
    if (a === undefined) { a = this.newPage(); this.pages[p] = a; }
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
    const lm = this.lineMarks;
    if (lm !== null) { const at = pageOff + k; lm[at >>> LINE_SHIFT] = 1; lm[(at + ((e & 3) === 3 ? 3 : 1)) >>> LINE_SHIFT] = 1; }
    return e;
  }

  /** Marks the lines of RAM bytes [from, to) as holding code (a block's, jit/engine.ts). */
  markLines(from: number, to: number): void {
    const lm = this.lineMarks;
    if (lm !== null && to > from) lm.fill(1, Math.floor(from / CODE_LINE), Math.floor((to - 1) / CODE_LINE) + 1);
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
      this.lineMarks?.fill(0, p * (PAGE / CODE_LINE), (p + 1) * (PAGE / CODE_LINE));
    }
    this.marked.length = 0;
    if (this.onFlush !== null) this.onFlush();
  }
}
