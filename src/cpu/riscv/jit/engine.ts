// The block translator's runtime (--cpu jit): finds hot code, translates it (translate.ts), runs and chains the
// translations, and forgets them when their bytes change (unprivileged spec §6 Zifencei: the hart's own stores
// take effect on the next fetch even without FENCE.I, as in the interpreter), on FENCE.I and remote fences, and
// when the cache is full.
//
// - Translations are per physical RAM page and position independent (the page's virtual base is read from the
//   hart's current fetch page), so a satp switch or SFENCE.VMA needs no flush: every jump out of a page is looked
//   up again through the hart's fetch TLB, which those flush.
// - The interpreter stays in charge: a translation is reached through marker entries in the decoded-instruction
//   cache (see BlockTranslator in hart.ts), so cold code costs nothing extra and the interpreter keeps doing
//   interrupts, timer checks, slice ends and traps exactly as before.
// - Hot code is found by the interpreter's timer check, which samples the pc every 1024 instructions, and by exits
//   from translated code into untranslated code: a pc sampled or exited to often enough becomes an entry of its
//   page's region, and the region is translated again with it.
// - Memory is bounded: translations are charged by their source size and the oldest go when the total passes the
//   limit.

import type { BlockTranslator, Hart } from '../hart.js';
import { PAGE } from '../tlb.js';
import { loadSlow, storeSlow } from '../access.js';
import { amo } from '../amo.js';
import { fpMem, fpOp } from '../fp-insn.js';
import { system } from '../system.js';
import { mulDiv64, mulhu32 } from '../muldiv.js';
import { ATTN, EXIT, FAULT, generateRegion, planRegion, SYS, type RegionPlan } from './translate.js';

/** A translated region: runs from byte `off` of its page, at most `room` instructions; returns an exit status. */
export type RegionFn = (h: Hart, off: number, room: number) => number;

/** The translation of one page's code reached from its labels. */
export interface Region {
  readonly id: number;
  /** RAM page index and that page's decode array. */
  readonly page: number;
  readonly dc: Int32Array;
  /** Entry offsets, ascending; each holds the region's marker in `dc`. */
  readonly labels: readonly number[];
  /** The decoded entry each marker replaced. */
  readonly entry0: Map<number, number>;
  /** 1 per halfword of the page an instruction of the region occupies (for stores into code). */
  readonly cover: Uint8Array;
  /** Instructions translated. */
  readonly size: number;
  /** Source characters (the cache is bounded by them). */
  readonly cost: number;
  readonly fn: RegionFn;
  /** One-instruction translations of labels, for when the budget is smaller than a label's first segment. */
  readonly singles: Map<number, RegionFn>;
  valid: boolean;
  /** Times entered (profile). */
  runs: number;
}

export interface JitOptions {
  /** Source characters of live translations before the oldest are evicted (default 64 Mi). */
  maxCost?: number;
  /** Samples (one per 1024 instructions) at a pc before it is translated (default 2). */
  sampleThreshold?: number;
  /** Exits from translated code to an untranslated pc before it is translated (default 4). */
  exitThreshold?: number;
  /** Translate every pc as soon as it is seen (tests: everything runs translated). */
  eager?: boolean;
}

/** Counters for `vmio run --profile` (profile.ts) and tests. */
export interface JitStats {
  /** Regions translated (including re-translations with a new entry) and one-instruction translations. */
  regions: number;
  singles: number;
  /** Guest instructions translated, and host time spent generating and compiling (ms). */
  insns: number;
  translateMs: number;
  /** Interpreter -> translated code, and region -> region without the interpreter. */
  entries: number;
  chained: number;
  /** Translated code -> interpreter, by reason. */
  exitUntranslated: number;
  exitBudget: number;
  exitInterrupt: number;
  exitSystem: number;
  exitFault: number;
  /** Regions dropped: by a store into their instructions, by FENCE.I / remote fences (everything), by the bound. */
  invalidatedByStore: number;
  flushes: number;
  evicted: number;
  liveRegions: number;
  liveCost: number;
}

const MARK = 0x7f;
const MAX_ID = (1 << 24) - 1;
/** A count at which a pc is not tried again until its page changes (it cannot start a translation). */
const NEVER = 0x7fffffff;

/** The generated code's imports. */
const s32 = new Int32Array(6);
const HELPERS = { loadSlow, storeSlow, amo, fpMem, fpOp, system, mulhu32, mulDiv64, s32, s64: new BigInt64Array(s32.buffer) };
type Factory = (helpers: typeof HELPERS, region: Region) => RegionFn;

export class Jit implements BlockTranslator {
  readonly stats: JitStats = {
    regions: 0, singles: 0, insns: 0, translateMs: 0, entries: 0, chained: 0, exitUntranslated: 0, exitBudget: 0,
    exitInterrupt: 0, exitSystem: 0, exitFault: 0, invalidatedByStore: 0, flushes: 0, evicted: 0, liveRegions: 0, liveCost: 0,
  };
  /** Told every sampled pc (the profiler). */
  onSample: ((h: Hart, pc: number) => void) | null = null;
  private readonly regions: (Region | undefined)[] = [];
  private readonly freeIds: number[] = [];
  private readonly byPage = new Map<number, Region>();
  /** Live regions, oldest first (may hold dropped ones, skipped). */
  private order: Region[] = [];
  /** Hotness per RAM offset of a would-be entry. */
  private readonly counts = new Map<number, number>();
  private readonly maxCost: number;
  private readonly sampleThreshold: number;
  private readonly exitThreshold: number;
  /** lookup()'s second result: the offset in the page of the region it returned. */
  private foundOff = 0;

  constructor(hart: Hart, opts: JitOptions = {}) {
    this.maxCost = opts.maxCost ?? 64 * 1024 * 1024;
    this.sampleThreshold = opts.eager === true ? 1 : opts.sampleThreshold ?? 2;
    this.exitThreshold = opts.eager === true ? 1 : opts.exitThreshold ?? 4;
    hart.dcache.onCodeStore = (page, from, to) => this.codeStore(page, from, to);
    hart.dcache.onFlush = () => this.flushAll();
  }

  // ---- BlockTranslator ----

  enter(h: Hart, stop: number): boolean {
    let off = h.pc - h.fetchBase;
    const dc = h.fetchDc;
    let r = this.regions[dc[off]! >>> 7];
    if (r === undefined || r.dc !== dc || !r.valid || !r.entry0.has(off)) return h.illegal(dc[off + 1]!); // guest bits, not a marker
    const st = this.stats;
    st.entries++;
    if (h.attn) return this.runSingle(r, h, off, stop); // a trigger watches every instruction (trigger.ts)
    let ran = false;
    for (;;) {
      const before = h.instret;
      const status = r.fn(h, off, stop - before);
      if (status === FAULT) { st.exitFault++; return true; }
      if (h.instret === before) { // the first segment does not fit before `stop`
        if (ran) { st.exitBudget++; return false; }
        return this.runSingle(r, h, off, stop);
      }
      ran = true;
      r.runs++;
      if (status !== EXIT || h.instret >= stop || h.attn) {
        if (status === SYS) st.exitSystem++; else if (status === ATTN) st.exitInterrupt++; else st.exitBudget++;
        return false;
      }
      const next = this.lookup(h, h.pc);
      if (next === null) { st.exitUntranslated++; return false; }
      st.chained++;
      r = next;
      off = this.foundOff;
    }
  }

  sample(h: Hart, pc: number): void {
    if (this.onSample !== null) this.onSample(h, pc);
    const off = pc - h.fetchBase;
    if (!(off >= 0 && off <= PAGE - 4)) return; // the interpreter reads markers only there
    if ((h.fetchDc[off]! & MARK) === MARK) return;
    // Inside translated code already (the interpreter is finishing a segment after a budget exit, which is where
    // samples land): the next label is near. Only code outside every translation is news.
    const r = this.byPage.get(h.fetchOff / PAGE);
    if (r !== undefined && r.cover[off >> 1] === 1) return;
    this.miss(h, off, this.sampleThreshold);
  }

  /** Translates the code at the hart's pc now if its page is in the fetch TLB (tests, benchmarks). */
  prime(h: Hart): void {
    const r = this.lookup(h, h.pc, 1);
    void r;
  }

  // ---- lookup and translation ----

  /** The live region with an entry at virtual `pc` (through the fetch TLB), translating when it became hot; or null. */
  private lookup(h: Hart, pc: number, threshold = this.exitThreshold): Region | null {
    let off = pc - h.fetchBase;
    if (!(off >= 0 && off <= PAGE - 2)) {
      const vpn = Math.floor(pc / PAGE);
      const pageOff = h.tlb.fetchPageOff(h.fetchCtx, vpn);
      if (pageOff < 0) return null;
      h.setFetchPage(vpn * PAGE, pageOff);
      off = pc - vpn * PAGE;
    }
    const dc = h.fetchDc;
    const e = dc[off]!;
    if ((e & MARK) === MARK) {
      const r = this.regions[e >>> 7];
      if (r !== undefined && r.dc === dc && r.valid && r.entry0.has(off)) { this.foundOff = off; return r; }
    }
    const r = this.miss(h, off, threshold);
    this.foundOff = off;
    return r;
  }

  /** Counts a pc without a translation; at `threshold` translates its page's region with it as an entry. */
  private miss(h: Hart, off: number, threshold: number): Region | null {
    const key = h.fetchOff + off;
    const c = this.counts.get(key) ?? 0;
    if (c === NEVER) return null;
    if (c + 1 < threshold) { this.counts.set(key, c + 1); return null; }
    this.counts.delete(key);
    const r = this.translate(h, h.fetchDc, h.fetchOff, off);
    if (r === null) this.counts.set(key, NEVER);
    return r;
  }

  /** The decoded entry at byte `off` of a page (decoding it), seen through markers. */
  private entryAt(h: Hart, dc: Int32Array, pageOff: number, off: number): number {
    const e = dc[off]!;
    if (e === 0) return h.dcache.fill(dc, pageOff, off);
    if ((e & MARK) === MARK) {
      const r = this.regions[e >>> 7];
      if (r !== undefined && r.dc === dc && r.valid) { const o = r.entry0.get(off); if (o !== undefined) return o; }
    }
    return e;
  }

  private plan(h: Hart, dc: Int32Array, pageOff: number, entries: readonly number[], max?: number): RegionPlan | null {
    const view = h.ramView;
    return planRegion(entries, (at) => this.entryAt(h, dc, pageOff, at), (at) => view.getUint16(pageOff + at, true), max);
  }

  /** (Re)translates the region of the page at RAM offset `pageOff` with `off` as a new entry; null if it cannot start there. */
  private translate(h: Hart, dc: Int32Array, pageOff: number, off: number): Region | null {
    const t0 = performance.now();
    const page = pageOff / PAGE;
    const old = this.byPage.get(page);
    const plan = this.plan(h, dc, pageOff, old === undefined ? [off] : [...old.labels, off]);
    if (plan === null || !plan.labels.includes(off)) return null;
    const id = this.freeIds.pop() ?? this.regions.length;
    if (id > MAX_ID) return null;
    const entry0 = new Map<number, number>();
    for (const l of plan.labels) entry0.set(l, this.entryAt(h, dc, pageOff, l));
    const cover = new Uint8Array(PAGE / 2);
    for (const x of plan.insns) for (let b = x.off; b < x.off + x.len; b += 2) cover[b >> 1] = 1;
    const src = generateRegion(plan);
    const region: Region = {
      id, page, dc, labels: plan.labels, entry0, cover, size: plan.insns.length, cost: src.length,
      fn: null as unknown as RegionFn, singles: new Map(), valid: true, runs: 0,
    };
    (region as { fn: RegionFn }).fn = (new Function('H', 'R', src) as Factory)(HELPERS, region);
    if (old !== undefined) this.drop(old);
    this.regions[id] = region;
    for (const l of plan.labels) dc[l] = (id << 7) | MARK;
    this.byPage.set(page, region);
    this.order.push(region);
    const st = this.stats;
    st.regions++;
    st.insns += region.size;
    st.liveRegions++;
    st.liveCost += region.cost;
    st.translateMs += performance.now() - t0;
    if (st.liveCost > this.maxCost) this.evict(region);
    return region.valid ? region : null;
  }

  /** Runs the instruction at label `off` of `r` alone (translated on first use). */
  private runSingle(r: Region, h: Hart, off: number, stop: number): boolean {
    let fn = r.singles.get(off);
    if (fn === undefined) {
      const t0 = performance.now();
      const pageOff = r.page * PAGE;
      const plan = this.plan(h, r.dc, pageOff, [off], 1)!;
      fn = (new Function('H', 'R', generateRegion(plan)) as Factory)(HELPERS, r);
      r.singles.set(off, fn);
      this.stats.singles++;
      this.stats.translateMs += performance.now() - t0;
    }
    if (fn(h, off, stop - h.instret) !== FAULT) return false;
    this.stats.exitFault++;
    return true;
  }

  // ---- invalidation and the cache bound ----

  private drop(r: Region): void {
    if (!r.valid) return;
    r.valid = false;
    const mark = (r.id << 7) | MARK;
    for (const l of r.labels) if (r.dc[l] === mark) r.dc[l] = 0; // decode again from the bytes
    this.regions[r.id] = undefined;
    this.freeIds.push(r.id);
    if (this.byPage.get(r.page) === r) this.byPage.delete(r.page);
    this.stats.liveRegions--;
    this.stats.liveCost -= r.cost;
  }

  /** A hart store changed bytes [from, to) of RAM page `page` (decode-cache.ts). */
  private codeStore(page: number, from: number, to: number): void {
    const r = this.byPage.get(page);
    if (r === undefined) return;
    for (let b = from & ~1; b < to && b < PAGE; b += 2) {
      if (r.cover[b >> 1] === 1) {
        this.drop(r);
        this.stats.invalidatedByStore++;
        const base = page * PAGE;
        for (const l of r.labels) this.counts.delete(base + l);
        return;
      }
    }
  }

  /** Every decoded instruction was wiped (FENCE.I, remote fence, reset): so is every translation. */
  flushAll(): void {
    for (const r of this.regions) if (r !== undefined) r.valid = false;
    this.regions.length = 0;
    this.freeIds.length = 0;
    this.byPage.clear();
    this.order = [];
    this.counts.clear();
    this.stats.flushes++;
    this.stats.liveRegions = 0;
    this.stats.liveCost = 0;
  }

  /** Drops the oldest regions until the cache is at 3/4 of its bound (`keep` is the one just made). */
  private evict(keep: Region): void {
    const target = this.maxCost * 0.75;
    let i = 0;
    while (this.stats.liveCost > target && i < this.order.length) {
      const r = this.order[i++]!;
      if (!r.valid || r === keep) continue;
      this.drop(r);
      this.stats.evicted++;
    }
    this.order = this.order.slice(i).filter((r) => r.valid);
    if (keep.valid && !this.order.includes(keep)) this.order.push(keep);
  }
}

/** Gives hart `h` a block translator (--cpu jit). */
export function attachJit(h: Hart, opts: JitOptions = {}): Jit {
  const jit = new Jit(h, opts);
  h.jit = jit;
  return jit;
}
