// `vmio run --profile FILE`: where the guest spends its instructions and, under --cpu jit, what the translator
// did. The pc is sampled at the interpreter's timer check, once per 1024 instructions (BlockTranslator.sample),
// so a sample stands for 1024 instructions in both modes; with a System.map (Linux's `nm`-style symbol list) the
// report names the function and offset of each hot pc.

import { readFileSync } from 'node:fs';
import type { BlockTranslator, Hart } from '../hart.js';
/** The 4 KiB base page (privileged spec §4.3). */
const PAGE = 4096;
import type { Jit, JitStats } from './engine.js';

/** A symbol table: addresses (unsigned, as bigint) ascending, with their names. */
export interface SymbolMap { addrs: bigint[]; names: string[] }

// person-controlled: a System.map given on the command line.
/** Parses a System.map (`ADDR TYPE NAME` per line, hex addresses); lines that do not parse are skipped. */
export function parseSystemMap(text: string): SymbolMap {
  const rows: [bigint, string][] = [];
  for (const line of text.split('\n')) {
    const m = /^([0-9a-fA-F]{1,16})\s+([a-zA-Z])\s+(\S+)/.exec(line);
    if (m === null || 'aAuwv'.includes(m[2]!)) continue; // absolute and undefined (also weak undefined) symbols name no code
    rows.push([BigInt(`0x${m[1]!}`), m[3]!]);
  }
  rows.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { addrs: rows.map((r) => r[0]), names: rows.map((r) => r[1]) };
}

/** `name+0xoff` for an address, or null when it lies below every symbol. */
export function symbolize(map: SymbolMap, pc: number): string | null {
  const a = BigInt.asUintN(64, BigInt(pc));
  let lo = 0, hi = map.addrs.length - 1;
  if (hi < 0 || map.addrs[0]! > a) return null;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (map.addrs[mid]! <= a) lo = mid; else hi = mid - 1;
  }
  const off = a - map.addrs[lo]!;
  return off === 0n ? map.names[lo]! : `${map.names[lo]!}+0x${off.toString(16)}`;
}

/** The sampling hook for a hart that only interprets: it translates nothing (enter only sees guest bits). */
class SampleOnly implements BlockTranslator {
  constructor(private readonly onSample: (h: Hart, pc: number) => void) {}
  enter(h: Hart, _stop: number, _limit: number): number {
    // No markers are ever placed: the entry is a guest instruction with major opcode 31, which is illegal.
    const off = h.pc - h.fetchBase;
    return h.illegal(off >= 0 && off <= PAGE - 4 ? h.fetchDc[off + 1]! : h.fetchSlow(h.pc));
  }
  sample(h: Hart, pc: number): void { this.onSample(h, pc); }
  tierSample(h: Hart, pc: number): void { this.onSample(h, pc); }
  hotTarget(_h: Hart, _pc: number): void { /* translates nothing */ }
  quietUntil(_h: Hart, stop: number, _limit: number): number { return stop; } // a sample at every check
  stillQuiet(_h: Hart, _at: number): boolean { return false; }
  left(_h: Hart, _pc: number): void { /* translates nothing */ }
}

/** Samples of the harts of one VM, and the report. */
export class Profiler {
  private readonly counts = new Map<number, number>();
  private samples = 0;

  constructor(private readonly harts: readonly Hart[]) {
    const record = (_h: Hart, pc: number): void => {
      this.samples++;
      this.counts.set(pc, (this.counts.get(pc) ?? 0) + 1);
    };
    for (const h of harts) {
      const jit = h.jit as Jit | null;
      if (jit !== null && 'stats' in jit) jit.onSample = record;
      else h.jit = new SampleOnly(record);
    }
  }

  /** The text report: hot pcs (symbolized with `map`), then the translator's counters for each hart that has one. */
  report(map: SymbolMap | null, top = 40): string {
    const out: string[] = [];
    const instret = this.harts.reduce((n, h) => n + h.instret, 0);
    const jits = this.harts.map((h) => h.jit as Jit | null).filter((j): j is Jit => j !== null && 'stats' in j);
    out.push(`vmio profile: ${this.harts.length} hart(s), --cpu ${jits.length > 0 ? 'jit' : 'interp'}, ${instret} instructions retired, ` +
      `${this.samples} samples (one per 1024 instructions)${map === null ? ', no System.map' : ''}`);
    out.push('', `hot guest pcs (top ${top}):`, '  samples      %  pc                  symbol');
    const rows = [...this.counts].sort((a, b) => b[1] - a[1]).slice(0, top);
    for (const [pc, n] of rows) {
      const sym = map === null ? '' : symbolize(map, pc) ?? '?';
      out.push(`  ${String(n).padStart(7)} ${(n / Math.max(1, this.samples) * 100).toFixed(2).padStart(6)}  0x${BigInt.asUintN(64, BigInt(pc)).toString(16).padStart(16, '0')}  ${sym}`);
    }
    if (map !== null) {
      const byFn = new Map<string, number>();
      for (const [pc, n] of this.counts) {
        const s = symbolize(map, pc);
        const fn = s === null ? '?' : s.replace(/\+0x[0-9a-f]+$/, '');
        byFn.set(fn, (byFn.get(fn) ?? 0) + n);
      }
      out.push('', `hot functions (top ${top}):`, '  samples      %  function');
      for (const [fn, n] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) {
        out.push(`  ${String(n).padStart(7)} ${(n / Math.max(1, this.samples) * 100).toFixed(2).padStart(6)}  ${fn}`);
      }
    }
    this.harts.forEach((h, i) => {
      const j = h.jit as Jit | null;
      if (j !== null && 'stats' in j) out.push('', ...translatorReport(`hart ${i}`, j.stats, h.instret));
    });
    return out.join('\n') + '\n';
  }
}

function translatorReport(who: string, s: JitStats, instret: number): string[] {
  const pct = (n: number): string => `${(n / Math.max(1, instret) * 100).toFixed(1)}%`;
  return [
    `translator (${who}):`,
    `  translated: ${s.blocks} blocks (${s.wasmBlocks} of them to WebAssembly; ${s.insns} guest instructions), ${s.singles} single instructions, ${s.translateMs.toFixed(1)} ms`,
    `  ran in the interpreter's WebAssembly tier: ${s.tier} of ${instret} instructions (${pct(s.tier)})`,
    `  ran translated: ${s.retired} of ${instret} instructions (${pct(s.retired)}); entries from the interpreter ${s.entries}, ` +
      `block to block ${s.linked} linked + ${s.lookedUp} looked up`,
    `  exits to the interpreter: untranslated code ${s.exitUntranslated}, budget (timer check or slice end) ${s.exitBudget}, ` +
      `interrupt ${s.exitInterrupt}, SYSTEM ${s.exitSystem}, exception ${s.exitFault}, access for the interpreter ${s.exitMiss}`,
    `  invalidated by stores ${s.invalidatedByStore}; FENCE.I-style wipes ${s.flushes} (blocks re-verified after one ${s.reverified}); ` +
      `evicted ${s.evicted}; live ${s.liveBlocks} blocks, ${s.liveCost} source characters`,
  ];
}

/** Reads a System.map, or null with a message for the caller to show when it cannot be read. */
export function loadSystemMap(path: string): { map: SymbolMap | null; error: string | null } {
  try {
    return { map: parseSystemMap(readFileSync(path, 'utf8')), error: null };
  } catch (e) {
    return { map: null, error: `cannot read the System.map ${path}: ${(e as Error).message}` };
  }
}
