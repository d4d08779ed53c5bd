// The block translator's runtime (--cpu jit): finds hot code, translates it (translate.ts), runs and links the
// translations, and keeps them exact when code changes (unprivileged spec §6 Zifencei: the hart's own stores take
// effect on the next fetch even without FENCE.I, as in the interpreter).
//
// - Translations are per physical RAM address and position independent (the page's virtual base is read from the
//   hart's current fetch page), so a satp switch or SFENCE.VMA needs no flush: a jump out of the page is looked up
//   again through the hart's fetch TLB, which those flush. A block never crosses its page.
// - The interpreter stays in charge: a translation is reached through a marker entry in the decoded-instruction
//   cache (see BlockTranslator in hart.ts), so cold code costs nothing extra and the interpreter keeps doing
//   interrupts, timer checks, slice ends and traps exactly as before. Once in translated code, blocks run one
//   after another here; an exit to a fixed address in the same page is linked to its block after the first time.
// - Hot code is found by the interpreter's timer check, which samples the pc every 1024 instructions, and by
//   exits from translated code into untranslated code: a pc sampled or exited to often enough is translated.
// - A store into a page with translations drops the blocks whose bytes it touched (decode-cache.ts tells). FENCE.I
//   and remote fences wipe the decoded-instruction cache: the blocks stay, unverified, and each is compared with
//   its bytes in RAM the next time it is looked up (DMA and other harts' stores are what FENCE.I is for).
// - Memory is bounded: translations are charged by their source size and the oldest go past the limit.
// - Two code generators: where guest RAM is a WebAssembly memory (--cpu jit), a block the WebAssembly generator can
//   do (wasm-gen.ts: integer code, loads, stores, branches) becomes a wasm module, run through the runtime module's
//   `go`, which chains wasm blocks without coming back here; the rest are JavaScript functions (translate.ts).
//   This runtime keeps the tables `go` reads (validity bytes, links, the block cache) in step with its own.

import { settleFields } from '../../../util/settle-fields.js';
import { ENTER_DECLINED, ENTER_FAULT, ENTER_RAN, type BlockTranslator, type Hart } from '../hart.js';
/** The 4 KiB base page (privileged spec §4.3). */
const PAGE = 4096;
import { ramViews } from '../ram-views.js';
import { ATTN, BLOCK_PARAMS, BUDGET, DYN, FAULT, MISS, SYS, generateBlock, planBlock, type Insn } from './translate.js';
import { HELPERS, type Helpers } from './helpers.js';
import { SAMPLE_EVERY, makeWasmInterp } from './wasm-interp.js';
import { CACHE_SLOTS, HOT, LINKS, SCRATCH_BYTES, S_LAST, S_LINKED, S_LOOKED, S_N, S_OFF, S_PC, S_VBASE, WASM_IDS, generateWasmBlock, runtimeModule, type WasmBlockCode, type WasmLayout } from './wasm-gen.js';

/** What a sample of the WebAssembly tier weighs against one of the interpreter's timer checks (one per 1024 instructions). */
const TIER_SAMPLE_WEIGHT = SAMPLE_EVERY / 1024;

/**
 * A translated block: runs at most `room` (>= 1) instructions; returns an exit index (>= 0) or a status
 * (translate.ts). `helpers` and `block` are HELPERS and the block itself.
 */
export type BlockFn = (h: Hart, room: number, helpers: Helpers, block: Block) => number;

/** One translation. */
export interface Block {
  readonly id: number;
  /** RAM offset of the first instruction; its page's index and decode array; page offset of the first instruction. */
  readonly addr: number;
  readonly page: number;
  readonly dc: Int32Array;
  readonly k: number;
  /** Guest instructions in one pass. */
  readonly len: number;
  /** The first instruction's own decoded entry (its slot holds the block's marker). */
  readonly entry0: number;
  /**
   * The parcels translated (as decoded) and their halfword indexes in the page, to verify the block after a
   * FENCE.I and to see which stores touch it. Not contiguous when the block followed a jump.
   */
  readonly parcels: Uint16Array;
  readonly halves: Uint16Array;
  /** Page offset each fixed-address exit goes to, and the block found there once linked (same page only). */
  readonly exits: readonly number[];
  readonly succ: (Block | null)[];
  /** The exit table the code reads: instructions retired, next page offset, status (translate.ts). */
  readonly en: readonly number[];
  readonly eo: readonly number[];
  readonly es: readonly number[];
  /** Source characters (the cache is bounded by them). */
  readonly cost: number;
  readonly fn: BlockFn;
  /** The first instruction alone, for a budget smaller than the first segment (made when first needed). */
  single: BlockFn | null;
  valid: boolean;
  /** The FENCE.I generation it was last verified in. */
  gen: number;
  /** Times entered (profile). */
  runs: number;
  /** Translated to WebAssembly (wasm-gen.ts). */
  readonly wasm: boolean;
}

export interface JitOptions {
  /** Source characters of live translations before the oldest are evicted (default 64 Mi). */
  maxCost?: number;
  /** Samples (one per 1024 instructions) in a 64-byte line of code within one window (sampleWindow) before the sampled pc is translated (default 512). */
  sampleThreshold?: number;
  /** Samples (weighted: tier samples count four) after which the lines' counts start again (default SAMPLE_WINDOW, 4096). */
  sampleWindow?: number;
  /** Samples in a line over the whole run that get it translated whatever the window (default SAMPLE_TOTAL, 4096). */
  sampleTotal?: number;
  /**
   * Exits from translated code to an untranslated pc before it is translated (default 8192); when given, also the
   * times the WebAssembly tier leaves an F/D instruction to the interpreter before a block starts there (default 256).
   */
  exitThreshold?: number;
  /** Translate every pc as soon as it is seen (tests: everything runs translated). */
  eager?: boolean;
  /**
   * Which code generator: 'wasm' (wasm-gen.ts, where it can; the default when guest RAM is a WebAssembly memory)
   * or 'js' (translate.ts only).
   */
  backend?: 'wasm' | 'js';
  /**
   * Whether the interpreter gets its WebAssembly tier (wasm-interp.ts) where guest RAM is a WebAssembly memory
   * (default: yes, unless `eager`, whose tests are of the block translator alone).
   */
  wasmInterp?: boolean;
}

/** Counters for `vmio run --profile` (profile.ts) and tests. */
export interface JitStats {
  /** Blocks translated (of them to WebAssembly), first-instruction-alone translations, guest instructions translated, host ms translating. */
  blocks: number;
  wasmBlocks: number;
  singles: number;
  insns: number;
  translateMs: number;
  /** Guest instructions retired in translated code. */
  retired: number;
  /** Guest instructions the interpreter's WebAssembly tier ran itself (wasm-interp.ts). */
  tier: number;
  /** Interpreter -> translated code; block -> block through a link, and through a lookup. */
  entries: number;
  linked: number;
  lookedUp: number;
  /** Translated code -> interpreter, by reason. */
  exitUntranslated: number;
  exitBudget: number;
  exitInterrupt: number;
  exitSystem: number;
  exitFault: number;
  /** Before an access the interpreter does: a TLB miss, MMIO, a page-crossing access, a store into code. */
  exitMiss: number;
  /** Blocks dropped by a store into their bytes; FENCE.I-style wipes; blocks verified again after one; evicted. */
  invalidatedByStore: number;
  flushes: number;
  reverified: number;
  evicted: number;
  liveBlocks: number;
  liveCost: number;
}

/** The live blocks of one RAM page and, per halfword of it, how many of them have an instruction there. */
interface PageBlocks { blocks: Block[]; cover: Uint16Array }

const MARK = 0x7f;

const MAX_ID = (1 << 24) - 1;
/**
 * Times the WebAssembly tier leaves an F/D instruction to the interpreter before a block starts there: F/D code
 * crosses from the tier to the interpreter at every such instruction, so it pays to translate it sooner than code
 * found by samples.
 */
const LEFT_THRESHOLD = 256;
/** A count at which a pc is not tried again until its bytes change (it cannot start a translation). */
const NEVER = 0x7fffffff;
/**
 * Weighted samples (one per 1024 of the hart's instructions outside blocks, wherever they land) after which every
 * line's count starts again: a line is translated when it gets the sample threshold within one window (512 of
 * 4096: an eighth of the hart's time over ~4 M instructions), so when it is hot now, not when its samples merely
 * add up over a long run. A boot is flat: its busiest lines reach 512 only over tens of millions of instructions,
 * and blocks made there cost more (the translator's own code is cold in a boot: ~1 ms a block) than they save over
 * the tier, which is about as fast on such code. The boot makes 1 block instead of 26 and is ~3.5 % faster; the
 * benchmarks' loops are translated as before (docs/jit.md).
 */
const SAMPLE_WINDOW = 4096;
/**
 * Weighted samples in a line over the whole run that get it translated too: code hot for long but never an eighth
 * of the time, a program's hot functions spread over many lines (gzip in the guest: 868 blocks and 22 s with the
 * old rule, 37 blocks and 26 s with the window alone). A boot's busiest line gets ~2,000 of its ~74,000.
 */
const SAMPLE_TOTAL = 4096;
/** Lines `totals` holds before it starts again (a guest running code all over RAM cannot grow it without bound). */
const TOTALS_MAX = 1 << 16;


export class Jit implements BlockTranslator {
  /** The counters, with what wasm counted in its scratch words since the last look folded in. */
  get stats(): JitStats {
    this.foldWasmCounts();
    return this.counters;
  }

  /**
   * Adds the counts wasm keeps in scratch words (int32, so taken often enough not to wrap: at every sample and
   * every entry) to the counters: instructions the WebAssembly tier ran itself and in blocks, and block-to-block
   * transitions `go` made (wasm-gen.ts runtimeModule).
   */
  private foldWasmCounts(): void {
    const c = this.counters, wi = this.hart.wasmInterp, ws = this.wasm;
    if (wi !== null) { c.retired += wi.s32[1]!; c.tier += wi.s32[4]!; wi.s32[1] = 0; wi.s32[4] = 0; }
    if (ws !== null) {
      c.linked += ws.s32[S_LINKED / 4]!; c.lookedUp += ws.s32[S_LOOKED / 4]!;
      ws.s32[S_LINKED / 4] = 0; ws.s32[S_LOOKED / 4] = 0;
    }
  }
  private readonly counters: JitStats = {
    blocks: 0, wasmBlocks: 0, singles: 0, insns: 0, translateMs: 0, retired: 0, tier: 0, entries: 0, linked: 0, lookedUp: 0, exitUntranslated: 0,
    exitBudget: 0, exitInterrupt: 0, exitSystem: 0, exitFault: 0, exitMiss: 0, invalidatedByStore: 0, flushes: 0, reverified: 0,
    evicted: 0, liveBlocks: 0, liveCost: 0,
  };
  /** Told every sampled pc (the profiler). */
  onSample: ((h: Hart, pc: number) => void) | null = null;
  private readonly ids: (Block | undefined)[] = [];
  private readonly freeIds: number[] = [];
  private readonly byAddr = new Map<number, Block>();
  private readonly byPage = new Map<number, PageBlocks>();
  /** Live blocks, oldest first (may hold dropped ones, skipped). */
  private order: Block[] = [];
  /** Hotness per RAM offset of a would-be block (exits to it), and per 64-byte line of RAM (samples in it). */
  private readonly counts = new Map<number, number>();
  private readonly lines = new Map<number, number>();
  /** Weighted samples left in the current window (SAMPLE_WINDOW) before `lines` is emptied. */
  private windowLeft: number;
  private readonly sampleWindow: number;
  /** Samples per line over the whole run (SAMPLE_TOTAL), beside `lines`' counts within the window. */
  private readonly totals = new Map<number, number>();
  private readonly sampleTotal: number;
  private gen = 0;
  /** Blocks whose marker is out for one interpreted instruction (see run). */
  private readonly declined: Block[] = [];
  private readonly ram16: Uint16Array;
  private readonly maxCost: number;
  private readonly sampleThreshold: number;
  /** What the last quietUntil's answer depends on (stillQuiet). */
  private qOff = NaN;
  private qCmp = 0;
  private qSbi = 0;
  private qStce = false;
  private qStip = false;
  private readonly exitThreshold: number;
  private readonly leftThreshold: number;

  /** The WebAssembly backend: its layout, views of its tables and scratch, the runtime's exports; or null. */
  private readonly wasm: {
    layout: WasmLayout; mem: WebAssembly.Memory;
    /** Scratch as int32 words and as doubles (wasm-gen.ts S_*). */
    s32: Int32Array; s64: Float64Array;
    valid: Uint8Array; links: Int32Array; cache: Int32Array; pages: Int32Array;
    /** Per RAM page: a wasm block was made there (the WebAssembly tier looks for blocks at every instruction of it). */
    blockPages: Uint8Array;
    tbl: WebAssembly.Table; go: (id: number, room: number, vbase: number, fetchCtx: number, ctx: number) => number;
  } | null;
  /** The last block `go` ran (its exit is the one returned), or -1. */
  private wasmLast = -1;
  /** Link slots (wasm-gen.ts links) that name each wasm block, so dropping it clears them before its id is reused. */
  private readonly incoming = new Map<number, number[]>();

  constructor(private readonly hart: Hart, opts: JitOptions = {}) {
    this.ram16 = ramViews(hart.ram).u16;
    this.maxCost = opts.maxCost ?? 64 * 1024 * 1024;
    const mem = hart.ram.wasm;
    if (mem === null || opts.backend === 'js' || hart.vmmRegs < 0) this.wasm = null;
    else {
      const ram = hart.ram;
      const scratch = ram.vmmAlloc(SCRATCH_BYTES)!, valid = ram.vmmAlloc(WASM_IDS)!;
      const links = ram.vmmAlloc(WASM_IDS * LINKS * 4)!, cache = ram.vmmAlloc(CACHE_SLOTS * 8)!;
      const blockPages = ram.vmmAlloc(ram.size / PAGE)!, pages = ram.vmmAlloc(WASM_IDS * 4)!, misses = ram.vmmAlloc(CACHE_SLOTS * 8)!;
      const layout: WasmLayout = {
        regs: hart.vmmRegs, tlb: hart.vmmTlb, lineMarks: hart.vmmLineMarks, scratch, valid, links, cache, pages, misses,
        shared: mem.buffer instanceof SharedArrayBuffer,
      };
      const rt = new WebAssembly.Instance(new WebAssembly.Module(runtimeModule(layout)), { m: { mem } }).exports;
      if (opts.wasmInterp ?? opts.eager !== true) {
        hart.wasmInterp = makeWasmInterp(mem, rt['go']!,
          { regs: hart.vmmRegs, tlb: hart.vmmTlb, lineMarks: hart.vmmLineMarks, resv: hart.vmmResv, blockScratch: scratch, valid, cache, blockPages }, (n) => ram.vmmAlloc(n)!);
      }
      this.wasm = {
        layout, mem,
        s32: new Int32Array(mem.buffer, scratch, SCRATCH_BYTES / 4), s64: new Float64Array(mem.buffer, scratch, SCRATCH_BYTES / 8),
        valid: new Uint8Array(mem.buffer, valid, WASM_IDS), links: new Int32Array(mem.buffer, links, WASM_IDS * LINKS),
        cache: new Int32Array(mem.buffer, cache, CACHE_SLOTS * 2),
        blockPages: new Uint8Array(mem.buffer, blockPages, ram.size / PAGE),
        pages: new Int32Array(mem.buffer, pages, WASM_IDS),
        tbl: rt['tbl'] as WebAssembly.Table,
        go: rt['go'] as (id: number, room: number, vbase: number, fetchCtx: number, ctx: number) => number,
      };
    }
    // The same thresholds for both backends: translating lukewarm code does not pay with either (docs/jit.md).
    this.sampleThreshold = opts.eager === true ? 1 : opts.sampleThreshold ?? 512;
    this.sampleWindow = this.windowLeft = opts.sampleWindow ?? SAMPLE_WINDOW;
    this.sampleTotal = opts.eager === true ? 1 : opts.sampleTotal ?? SAMPLE_TOTAL;
    this.exitThreshold = opts.eager === true ? 1 : opts.exitThreshold ?? 8192;
    this.leftThreshold = opts.exitThreshold === undefined ? LEFT_THRESHOLD : this.exitThreshold; // tests set both by exitThreshold
    hart.dcache.onCodeStore = (page, from, to) => this.codeStore(page, from, to);
    hart.dcache.onFlush = () => this.flushAll();
    settleFields(this, ['qCmp', 'qSbi'], ['qOff', 'qStce', 'qStip', 'wasmLast']); // util/settle-fields.ts
  }

  // ---- BlockTranslator ----

  enter(h: Hart, stop: number, limit: number): number {
    const start = h.instret;
    // Timer checks that would change nothing need not stop translated code (see timerCheckIsNoOp).
    if (this.onSample === null && stop < limit) stop = firstTimerChange(h, stop, limit);
    const r = this.run(h, stop);
    this.stats.retired += h.instret - start; // (the getter folds in what wasm counted)
    return r;
  }

  private run(h: Hart, stop: number): number {
    const off = h.pc - h.fetchBase, dc = h.fetchDc;
    const e = dc[off]!;
    let b = this.ids[e >>> 7];
    if (b === undefined || !this.isMarker(b, dc, off, e)) {
      // Guest bits with major opcode 31, not a marker (the loop may have fetched them past the decode cache).
      return h.illegal(h.fetchSlow(h.pc));
    }
    const st = this.stats;
    st.entries++;
    this.restoreMarkers();
    const start = h.instret;
    // A trigger watching every instruction (trigger.ts) keeps attn set: then one instruction at a time.
    const single = h.attn;
    let status: number = single ? BUDGET : b.fn(h, stop - start, HELPERS, b);
    if (this.wasmLast >= 0) { b = this.ids[this.wasmLast]!; this.wasmLast = -1; } // wasm ran on to this block
    // The first segment does not fit before `stop`: its first instruction alone, then back to the interpreter.
    // (A wasm block leaves it to the interpreter instead: compiling a single costs more than interpreting it.)
    const alone = status === BUDGET && h.instret === start && !b.wasm;
    if (alone) status = this.runSingle(b, h);
    if (status === FAULT) { st.exitFault++; return ENTER_FAULT; }
    if (h.instret === start) { // its first instruction is the interpreter's (MISS, or BUDGET for a wasm block): put it back for it
      b.dc[b.k] = b.entry0;
      this.declined.push(b);
      if (status === BUDGET) st.exitBudget++; else st.exitMiss++;
      return ENTER_DECLINED;
    }
    if (alone) { st.exitBudget++; return ENTER_RAN; }
    for (;;) {
      b.runs++;
      if (h.instret >= stop) { st.exitBudget++; return ENTER_RAN; }
      let next: Block | null;
      if (status >= 0) { // a fixed-address exit: linked after the first time when it stays in the page
        next = b.succ[status]!;
        if (next !== null && next.valid && next.gen === this.gen) st.linked++;
        else {
          const t = b.exits[status]!;
          // A jump back before this block's start is most likely a loop's: translate its head at once.
          next = this.lookup(h, h.pc, t < b.k ? 1 : this.exitThreshold);
          if (next !== null && t >= 0 && t < PAGE) {
            b.succ[status] = next;
            if (b.wasm && next.wasm) this.wasmLink(b, status, next);
          }
          st.lookedUp++;
        }
      } else if (status === DYN || status === HOT) {
        next = this.lookup(h, h.pc, status === HOT ? 1 : this.exitThreshold);
        st.lookedUp++;
      } else {
        if (status === SYS) st.exitSystem++; else if (status === ATTN) st.exitInterrupt++; else if (status === MISS) st.exitMiss++; else st.exitBudget++;
        return ENTER_RAN;
      }
      if (next === null) { st.exitUntranslated++; return ENTER_RAN; }
      if (h.attn) { st.exitInterrupt++; return ENTER_RAN; }
      b = next;
      status = b.fn(h, stop - h.instret, HELPERS, b);
      if (this.wasmLast >= 0) { b = this.ids[this.wasmLast]!; this.wasmLast = -1; }
      if (status === FAULT) { st.exitFault++; return ENTER_FAULT; }
    }
  }

  /** Runs the first instruction of `b` alone; returns its status (exit indexes are its own, not b's). */
  private runSingle(b: Block, h: Hart): number {
    if (b.single === null) {
      const t0 = performance.now();
      const insns = this.plan(h, b.dc, b.page * PAGE, b.k, 1);
      const code = generateBlock(insns);
      const single = new Function(...BLOCK_PARAMS, code.source) as BlockFn;
      // The single's code reads its own exit table: give it a view of b with that table.
      const view = Object.create(b) as Block;
      Object.defineProperties(view, { en: { value: code.en }, eo: { value: code.eo }, es: { value: code.es } });
      b.single = (hh, room, hp) => single(hh, room, hp, view);
      this.stats.singles++;
      this.stats.translateMs += performance.now() - t0;
    }
    return b.single(h, 1, HELPERS, b);
  }

  /** Markers taken out when blocks declined an entry, put back before the next entry or sample. */
  private restoreMarkers(): void {
    const d = this.declined;
    if (d.length === 0) return;
    for (const b of d) if (b.valid && b.gen === this.gen && b.dc[b.k] === b.entry0) b.dc[b.k] = (b.id << 7) | MARK;
    d.length = 0;
  }

  sample(h: Hart, pc: number): void { this.sampleAt(h, pc, 1); }

  tierSample(h: Hart, pc: number): void { this.sampleAt(h, pc, TIER_SAMPLE_WEIGHT); }

  /** A sample at `pc` that stands for `weight` timer checks' worth (1024 instructions each) of the hart's time. */
  private sampleAt(h: Hart, pc: number, weight: number): void {
    if (this.onSample !== null) this.onSample(h, pc);
    this.windowLeft -= weight;
    if (this.windowLeft <= 0) { this.lines.clear(); this.windowLeft = this.sampleWindow; }
    this.foldWasmCounts();
    this.restoreMarkers();
    let off = pc - h.fetchBase;
    if (!(off >= 0 && off <= PAGE - 4)) { // the WebAssembly tier ran on: its page, if the fetch TLB holds it
      const vpn = Math.floor(pc / PAGE);
      if (!h.fetchPageCached(vpn)) return;
      off = pc - vpn * PAGE;
      if (off > PAGE - 4) return; // the interpreter reads markers only up to here
    }
    if ((h.fetchDc[off]! & MARK) === MARK) return;
    // Hotness per 64-byte line: a loop's samples land on all of its instructions, and add up here (within the
    // window, and over the run: SAMPLE_WINDOW, SAMPLE_TOTAL).
    const line = (h.fetchOff + off) >> 6;
    const c = (this.lines.get(line) ?? 0) + weight, total = (this.totals.get(line) ?? 0) + weight;
    if (c < this.sampleThreshold && total < this.sampleTotal) {
      this.lines.set(line, c);
      if (this.totals.size >= TOTALS_MAX) this.totals.clear();
      this.totals.set(line, total);
      return;
    }
    this.lines.delete(line);
    this.totals.delete(line);
    this.find(h, off, 1);
  }

  hotTarget(h: Hart, pc: number): void {
    this.restoreMarkers();
    this.lookup(h, pc, 1);
  }

  left(h: Hart, pc: number): void {
    this.lookup(h, pc, this.leftThreshold);
  }

  quietUntil(h: Hart, stop: number, limit: number): number {
    if (this.onSample !== null || stop >= limit) return stop;
    // what firstTimerChange depends on, for stillQuiet: the comparators, STIP, and time less instret (which
    // changes within a slice only by what is charged to the hart: deterministic time is a function of instret)
    this.qOff = h.env.readTime(stop) - stop;
    this.qCmp = h.stimecmpNum; this.qSbi = h.sbiTimer; this.qStce = h.stce; this.qStip = h.stipTimer;
    return firstTimerChange(h, stop, limit);
  }

  stillQuiet(h: Hart, at: number): boolean {
    return h.env.readTime(at) - at === this.qOff && h.stimecmpNum === this.qCmp && h.sbiTimer === this.qSbi &&
      h.stce === this.qStce && h.stipTimer === this.qStip;
  }

  /** Translates the code at the hart's pc now if its page is in the fetch TLB (tests). */
  prime(h: Hart): void {
    this.lookup(h, h.pc, 1);
  }

  // ---- lookup and translation ----

  /** The block at virtual `pc` (through the fetch TLB), translating it when it has become hot; or null. */
  private lookup(h: Hart, pc: number, threshold = this.exitThreshold): Block | null {
    let off = pc - h.fetchBase;
    if (!(off >= 0 && off <= PAGE - 2)) {
      const vpn = Math.floor(pc / PAGE);
      if (!h.fetchPageCached(vpn)) return null;
      off = pc - vpn * PAGE;
    }
    const e = h.fetchDc[off]!;
    if ((e & MARK) === MARK) {
      const b = this.ids[e >>> 7];
      if (b !== undefined && this.isMarker(b, h.fetchDc, off, e)) return b;
    }
    return this.find(h, off, threshold);
  }

  /** Byte `off` of the current fetch page has no marker: a block kept across a wipe, a new one, or nothing yet. */
  private find(h: Hart, off: number, threshold: number): Block | null {
    const addr = h.fetchOff + off;
    const kept = this.byAddr.get(addr);
    if (kept !== undefined) {
      // Its marker went: it declined an entry (its first access was the interpreter's), or a wipe (FENCE.I)
      // cleared the decode cache, after which its bytes are compared with RAM first.
      if (kept.gen === this.gen || this.verify(kept)) {
        if (kept.gen !== this.gen) { kept.gen = this.gen; this.stats.reverified++; this.wasmLive(kept); this.markLines(h, kept); }
        kept.dc[off] = (kept.id << 7) | MARK;
        return kept;
      }
      this.drop(kept);
    }
    const c = this.counts.get(addr) ?? 0;
    if (c === NEVER) return null;
    if (c + 1 < threshold) { this.counts.set(addr, c + 1); return null; }
    this.counts.delete(addr);
    const b = this.translate(h, h.fetchDc, h.fetchOff, off);
    if (b === null) this.counts.set(addr, NEVER);
    return b;
  }

  /** Whether entry `e` at byte `off` of decode array `dc` is b's marker (not guest bits that look like one). */
  private isMarker(b: Block, dc: Int32Array, off: number, e: number): boolean {
    return b.dc === dc && b.k === off && b.valid && b.gen === this.gen && e === ((b.id << 7) | MARK);
  }

  /** Whether the block's parcels are still in RAM. */
  private verify(b: Block): boolean {
    const ram16 = this.ram16, base = (b.page * PAGE) >> 1, parcels = b.parcels, halves = b.halves;
    for (let i = 0; i < parcels.length; i++) if (ram16[base + halves[i]!] !== parcels[i]) return false;
    return true;
  }

  /** The decoded entry at byte `off` of a page (decoding it), seen through markers. */
  private entryAt(h: Hart, dc: Int32Array, pageOff: number, off: number): number {
    const e = dc[off]!;
    if (e === 0) return h.dcache.fill(dc, pageOff, off);
    if ((e & MARK) === MARK) {
      const b = this.ids[e >>> 7];
      if (b !== undefined && this.isMarker(b, dc, off, e)) return b.entry0;
    }
    return e;
  }

  private plan(h: Hart, dc: Int32Array, pageOff: number, off: number, max?: number): Insn[] {
    const view = h.ramView;
    return planBlock(off, {
      entryAt: (at) => this.entryAt(h, dc, pageOff, at),
      rawAt: (at) => dc[at + 1]!,
      parcelAt: (at) => view.getUint16(pageOff + at, true),
    }, max);
  }

  /** The parcels a block was translated from (as decoded, not as RAM holds them now) and where they are. */
  private static parcels(insns: readonly Insn[]): { parcels: Uint16Array; halves: Uint16Array } {
    const parcels: number[] = [], halves: number[] = [];
    for (const x of insns) {
      parcels.push(x.raw & 0xffff); halves.push(x.off >> 1);
      if (x.len === 4) { parcels.push(x.raw >>> 16); halves.push((x.off >> 1) + 1); }
    }
    return { parcels: Uint16Array.from(parcels), halves: Uint16Array.from(halves) };
  }

  private translate(h: Hart, dc: Int32Array, pageOff: number, off: number): Block | null {
    const t0 = performance.now();
    const planned = this.plan(h, dc, pageOff, off);
    if (planned.length === 0 || (h.wasmInterp !== null && tierCsr(planned[0]!.insn))) return null;
    const id = this.freeIds.pop() ?? this.ids.length;
    if (id > MAX_ID) return null;
    const w = this.wasm !== null && id < WASM_IDS ? generateWasmBlock(planned, this.wasm.layout) : null;
    let code: { insns: Insn[]; exits: number[]; en: number[]; eo: number[]; es: number[] }, fn: BlockFn, cost: number;
    if (w !== null) {
      code = { ...w, en: [], eo: [], es: [] }; // a wasm block keeps its exit table in its code
      fn = this.instantiate(id, w);
      cost = w.bytes.length;
      this.stats.wasmBlocks++;
    } else {
      const js = generateBlock(planned);
      code = js;
      fn = new Function(...BLOCK_PARAMS, js.source) as BlockFn;
      cost = js.source.length;
    }
    const insns = code.insns;
    const addr = pageOff + off;
    const { parcels, halves } = Jit.parcels(insns);
    const block: Block = {
      id, addr, page: pageOff / PAGE, dc, k: off, len: insns.length, entry0: this.entryAt(h, dc, pageOff, off),
      parcels, halves, exits: code.exits,
      succ: code.exits.map(() => null), en: code.en, eo: code.eo, es: code.es, cost,
      fn, single: null, valid: true, gen: this.gen, runs: 0, wasm: w !== null,
    };
    this.wasmLive(block);
    this.markLines(h, block);
    this.ids[id] = block;
    dc[off] = (id << 7) | MARK;
    this.byAddr.set(addr, block);
    let pb = this.byPage.get(block.page);
    if (pb === undefined) { pb = { blocks: [], cover: new Uint16Array(PAGE / 2) }; this.byPage.set(block.page, pb); }
    pb.blocks.push(block);
    for (let i = 0; i < halves.length; i++) pb.cover[halves[i]!]!++;
    this.order.push(block);
    const st = this.stats;
    st.blocks++;
    st.insns += block.len;
    st.liveBlocks++;
    st.liveCost += block.cost;
    st.translateMs += performance.now() - t0;
    if (st.liveCost > this.maxCost) this.evict(block);
    return block;
  }

  /**
   * Compiles and instantiates a WebAssembly block (wasm-gen.ts), puts it in the runtime's table and wraps it in the
   * BlockFn protocol: `go` runs it and whatever it chains to; the wrapper sets pc and instret from scratch, makes
   * the last page the fetch page and tells `run` which block ran last (wasmLast).
   */
  private instantiate(id: number, w: WasmBlockCode): BlockFn {
    const ws = this.wasm!;
    const inst = new WebAssembly.Instance(new WebAssembly.Module(w.bytes), { m: { mem: ws.mem } });
    if (id >= ws.tbl.length) ws.tbl.grow(Math.min(WASM_IDS, Math.max(id + 1, 2 * ws.tbl.length)) - ws.tbl.length);
    ws.tbl.set(id, inst.exports['run'] as () => number);
    const go = ws.go, s32 = ws.s32, s64 = ws.s64;
    return (hh: Hart, room: number): number => {
      const ib = hh.instret;
      const st = go(id, room, hh.fetchBase, hh.fetchCtx, hh.ldCtx);
      const vbase = s64[S_VBASE / 8]!;
      if (vbase !== hh.fetchBase && !hh.fetchPageCached(Math.floor(vbase / PAGE))) hh.fetchBase = NaN;
      hh.pc = st === DYN ? s64[S_PC / 8]! : vbase + s64[S_OFF / 8]!;
      hh.instret = ib + s32[S_N / 4]!;
      this.wasmLast = s32[S_LAST / 4]!;
      return st;
    };
  }

  /** How many wasm blocks wasm itself may enter now (validity bytes set): tests, and the profile. */
  wasmEnterable(): number {
    const v = this.wasm?.valid;
    if (v === undefined) return 0;
    let n = 0;
    for (let i = 0; i < this.ids.length && i < v.length; i++) n += v[i] === 1 ? 1 : 0;
    return n;
  }

  /**
   * A block is live (new, or verified again after a FENCE.I): its validity byte (1: a wasm block, `go` may run it;
   * 2: a JavaScript block, the WebAssembly tier leaves its entry to the interpreter, which enters it through its
   * marker), its cache slot, no links out yet. Nothing for blocks past the wasm tables' ids, or without them.
   */
  private wasmLive(b: Block): void {
    const ws = this.wasm;
    if (ws === null || b.id >= WASM_IDS) return;
    ws.valid[b.id] = b.wasm ? 1 : 2;
    ws.blockPages[b.page] = 1;
    ws.pages[b.id] = b.page * PAGE;
    const slot = ((b.addr >>> 1) & (CACHE_SLOTS - 1)) * 2;
    ws.cache[slot] = b.addr + 1;
    ws.cache[slot + 1] = b.id;
  }

  /** A live block's code lines are marked (decode-cache.ts lineMarks): WebAssembly stores into them leave to the interpreter. */
  private markLines(h: Hart, b: Block): void {
    const base = b.page * PAGE, halves = b.halves;
    for (let i = 0; i < halves.length; i++) { const at = base + halves[i]! * 2; h.dcache.markLines(at, at + 2); }
  }

  /** A block is dropped: nothing may enter it from wasm, and its id may be reused. */
  private wasmDead(b: Block): void {
    const ws = this.wasm;
    if (ws === null || b.id >= WASM_IDS) return;
    ws.valid[b.id] = 0;
    const slot = ((b.addr >>> 1) & (CACHE_SLOTS - 1)) * 2;
    if (ws.cache[slot] === b.addr + 1 && ws.cache[slot + 1] === b.id) ws.cache[slot] = 0;
    ws.links.fill(0, b.id * LINKS, (b.id + 1) * LINKS); // its own exits
    for (const at of this.incoming.get(b.id) ?? []) ws.links[at] = 0; // exits of others into it
    this.incoming.delete(b.id);
  }

  /** Exit `exit` of wasm block `from` goes to wasm block `to` (same page): wasm follows it from now on. */
  private wasmLink(from: Block, exit: number, to: Block): void {
    if (exit >= LINKS) return;
    const at = from.id * LINKS + exit;
    if (this.wasm!.links[at] === to.id + 1) return; // linked again after a FENCE.I: already listed
    this.wasm!.links[at] = to.id + 1;
    let inc = this.incoming.get(to.id);
    if (inc === undefined) { inc = []; this.incoming.set(to.id, inc); }
    inc.push(at);
  }

  // ---- invalidation and the cache bound ----

  private drop(b: Block): void {
    if (!b.valid) return;
    b.valid = false;
    this.wasmDead(b);
    if (b.dc[b.k] === ((b.id << 7) | MARK)) b.dc[b.k] = 0; // decode again from the bytes
    this.ids[b.id] = undefined;
    this.freeIds.push(b.id);
    if (this.byAddr.get(b.addr) === b) this.byAddr.delete(b.addr);
    const pb = this.byPage.get(b.page);
    if (pb !== undefined) {
      const i = pb.blocks.indexOf(b);
      if (i >= 0) {
        pb.blocks.splice(i, 1);
        for (let j = 0; j < b.halves.length; j++) pb.cover[b.halves[j]!]!--;
      }
      if (pb.blocks.length === 0) this.byPage.delete(b.page);
    }
    this.stats.liveBlocks--;
    this.stats.liveCost -= b.cost;
  }

  /** A hart store changed bytes [from, to) of RAM page `page` (decode-cache.ts). */
  private codeStore(page: number, from: number, to: number): void {
    const pb = this.byPage.get(page);
    if (pb === undefined) return;
    const h0 = from >> 1, h1 = Math.min((to + 1) >> 1, PAGE / 2);
    let touched = false;
    for (let x = h0; x < h1; x++) if (pb.cover[x] !== 0) { touched = true; break; }
    if (!touched) return; // data beside code: no translation is affected
    const hit = pb.blocks.filter((b) => {
      for (let j = 0; j < b.halves.length; j++) { const x = b.halves[j]!; if (x >= h0 && x < h1) return true; }
      return false;
    });
    const base = page * PAGE;
    for (const b of hit) {
      this.drop(b);
      this.stats.invalidatedByStore++;
      this.counts.delete(base + b.k);
    }
  }

  /** Every decoded instruction was wiped (FENCE.I, remote fence, reset): blocks must be verified before use. */
  private flushAll(): void {
    this.gen++;
    this.wasm?.valid.fill(0);
    this.stats.flushes++;
  }

  /** Drops the oldest blocks until the cache is at 3/4 of its bound (`keep` is the one just made). */
  private evict(keep: Block): void {
    const target = this.maxCost * 0.75;
    let i = 0;
    while (this.stats.liveCost > target && i < this.order.length) {
      const b = this.order[i++]!;
      if (!b.valid || b === keep) continue;
      this.drop(b);
      this.stats.evicted++;
    }
    this.order = this.order.slice(i).filter((b) => b.valid);
    if (keep.valid && !this.order.includes(keep)) this.order.push(keep);
  }
}

/**
 * Whether the interpreter's timer check at instret `at` (a multiple of 1024) would change nothing: what
 * Hart.checkTimers computes there equals the current STIP. Time is a function of instret within a slice, and
 * nothing else moves the comparators without leaving translated code (a CSR write is a SYSTEM exit).
 */
function timerCheckIsNoOp(h: Hart, at: number): boolean {
  if ((at & 1023) !== 0) return false;
  const stce = h.stce;
  if (!stce && h.sbiTimer === Infinity && !h.stipTimer) return true;
  const t = h.env.readTime(at);
  const fire = (stce && t >= h.stimecmpNum) || t >= h.sbiTimer;
  return fire === h.stipTimer;
}

/**
 * The first of the timer checks at `stop`, stop + 1024, ... before `limit` that would change STIP, or `limit` when
 * none would. Whether a check fires is monotonic in time, and time in instret, so the last check tells whether any
 * does, and a binary search finds the first.
 */
function firstTimerChange(h: Hart, stop: number, limit: number): number {
  if (timerCheckIsNoOp(h, stop) === false) return stop;
  const last = stop + Math.floor((limit - 1 - stop) / 1024) * 1024;
  if (timerCheckIsNoOp(h, last)) return limit;
  let lo = stop, hi = last; // a no-op at lo, a change at hi
  while (hi - lo > 1024) {
    const mid = lo + Math.floor((hi - lo) / 2048) * 1024;
    if (timerCheckIsNoOp(h, mid)) lo = mid; else hi = mid;
  }
  return hi;
}

/**
 * CSRRS/CSRRC(I) of sstatus, which the WebAssembly tier does itself (Linux's interrupt save/restore): a block
 * starting there would be a JavaScript one (it starts with a SYSTEM instruction), and would only take them, and
 * what follows, out of the tier.
 */
function tierCsr(insn: number): boolean {
  return ((insn >>> 2) & 31) === 28 && (insn & 0x2000) !== 0 && insn >>> 20 === 0x100;
}

/** Gives hart `h` a block translator (--cpu jit). */
export function attachJit(h: Hart, opts: JitOptions = {}): Jit {
  const jit = new Jit(h, opts);
  h.jit = jit;
  return jit;
}
