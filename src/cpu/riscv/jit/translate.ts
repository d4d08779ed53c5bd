// The block translator's code generator: a superblock of guest RV64GC instructions becomes the body of one
// JavaScript function that V8 compiles (RISC-V unprivileged spec §2-§9, §16 for the semantics, which are the
// interpreter's in hart.ts line for line; the interpreter is the reference).
//
// Unit: a superblock inside one physical page: straight-line code from its entry through conditional branches
// (side exits) and plain jumps within the page (followed) up to a call or computed jump, a SYSTEM instruction
// other than a CSR access, an instruction left to the interpreter, the end of the page or MAX_INSNS. A branch
// back to the entry makes the function a loop, and one back to a later instruction of the block an inner labeled
// loop (when it nests with the others). Every exit to a fixed address is numbered, so the runtime can link it to
// the next block (engine.ts).
//
// Registers: the low and high int32 words of each guest register the block touches are locals, loaded from the
// hart's x32 on entry and written back on every exit (one write-back at the end of the function) and before a
// helper call.
//
// Memory: loads and stores look the hart's TLB up inline (as Hart.lOff/sOff do), once per group of accesses
// through one base register (addr); a miss asks the page walk to fill the TLB (helpers.ts). Anything else -- MMIO, an access crossing a page, a page or access fault -- leaves the
// block *before* the instruction (status MISS) and the interpreter executes
// it, faults and all. So loads and stores never fault in translated code; a helper that can (AMO, F/D, SYSTEM)
// reports its exception instead of throwing it, and the block leaves with pc and instret naming that instruction
// and its registers written back (the faulting instruction has not written its destination): exactly the
// interpreter's state.
//
// Forward branches to an instruction later in the same block (if/else, a skipped statement) do not leave it:
// the instructions skipped sit in a labeled JS block the branch breaks out of, after subtracting them from the
// retired count (so every later count stays exact). Only properly nested ranges are taken; others are exits.
//
// Budget: the caller passes `room`, the instructions it may retire before the interpreter's next timer check or
// the end of the slice. Before each straight-line segment (the entry, and after each conditional branch) the code
// checks that the whole segment fits, else it leaves there; the runtime then runs single instructions up to the
// check point (engine.ts). So timer checks, interrupts and slice ends fall at exactly the interpreter's
// instruction counts.
//
// F/D: loads, stores and the common operations run here on the Fpu's register views and fast paths (fpOp); the
// rest through the interpreter's FPU code.
//
// Interrupt state can change in translated code only through a helper (SYSTEM, AMO, F/D; MMIO is the
// interpreter's): the code leaves after a helper call that sets hart.attn. A store into its own code
// invalidates the block, which then leaves after the store: self-modifying code takes effect at the next
// instruction, as in the interpreter. After a CSR instruction it also leaves when the address-translation
// context changed.

import { TLB_SETS } from '../tlb.js';
import { MSTATUS_FS } from '../csr-defs.js';

/** The 4 KiB base page (privileged spec §4.3). */
const PAGE = 4096;

/** Longest block, in instructions. */
export const MAX_INSNS = 96;

/**
 * What a block function returns besides the index (>= 0) of the fixed-address exit it took: the next pc is a
 * computed jump target (DYN), or it stopped for the budget, an interrupt or a change of its own code (ATTN), a
 * SYSTEM instruction (SYS), an exception (FAULT, recorded on the hart), or before an access for the interpreter
 * (MISS). hart.pc and hart.instret are set in every case.
 */
export const DYN = -1, BUDGET = -2, ATTN = -3, SYS = -4, FAULT = -5, MISS = -6;

/** The parameters of every block function: `new Function(...BLOCK_PARAMS, source)`. */
export const BLOCK_PARAMS = ['h', 'room', 'H', 'B'] as const;

/** One decoded guest instruction. */
export interface Insn {
  /** Expanded 32-bit instruction (compressed ones through RVC_TABLE), low bits 11. */
  insn: number;
  /** The raw bits (16 for compressed ones). */
  raw: number;
  len: number;
  /** Byte offset in the page. */
  off: number;
}

/** A translated block's source and what the runtime needs to know about it. */
export interface BlockCode {
  source: string;
  insns: Insn[];
  /** Page offset (may lie outside the page) each fixed-address exit goes to, by exit index. */
  exits: number[];
  /** The exit table the code reads (B.en, B.eo, B.es): instructions retired, next page offset, status. */
  en: number[];
  eo: number[];
  es: number[];
}

/** How an instruction is treated. */
const enum Kind { Alu, Branch, Jal, Jalr, Load, Store, Amo, FpMem, FpOp, Csr, System, Fence, Stop }

function kindOf(insn: number): Kind {
  const f3 = (insn >>> 12) & 7;
  switch ((insn >>> 2) & 31) {
    case 13: case 5: return Kind.Alu;
    case 4: case 6: case 12: case 14: return aluLegal(insn) ? Kind.Alu : Kind.Stop;
    case 24: return f3 === 2 || f3 === 3 ? Kind.Stop : Kind.Branch;
    case 27: return Kind.Jal;
    case 25: return f3 === 0 ? Kind.Jalr : Kind.Stop;
    case 0: return f3 === 7 ? Kind.Stop : Kind.Load;
    case 8: return f3 > 3 ? Kind.Stop : Kind.Store;
    case 3: return f3 === 0 ? Kind.Fence : Kind.Stop; // FENCE.I (and reserved encodings) stay with the interpreter
    case 28: return f3 === 0 ? Kind.System : f3 === 4 ? Kind.Stop : Kind.Csr;
    case 11: return Kind.Amo;
    case 1: case 9: return Kind.FpMem;
    case 20: case 16: case 17: case 18: case 19: return Kind.FpOp;
    default: return Kind.Stop;
  }
}

/** Whether an OP/OP-IMM(-32) encoding is one the interpreter accepts (else it is left to raise illegal). */
function aluLegal(insn: number): boolean {
  const f3 = (insn >>> 12) & 7, f7 = insn >>> 25, imm = insn >> 20;
  switch ((insn >>> 2) & 31) {
    case 4: return f3 === 1 ? (imm >>> 6) === 0 : f3 === 5 ? ((imm >>> 6) & 0x3f) === 0 || ((imm >>> 6) & 0x3f) === 0x10 : true;
    case 6: return f3 === 0 || ((f3 === 1 || f3 === 5) && f7 === 0) || (f3 === 5 && f7 === 0x20);
    case 12: return f7 === 0 || f7 === 1 || (f7 === 0x20 && (f3 === 0 || f3 === 5));
    default: return (f7 === 0 && (f3 === 0 || f3 === 1 || f3 === 5)) || (f7 === 0x20 && (f3 === 0 || f3 === 5)) ||
      (f7 === 1 && (f3 === 0 || f3 >= 4));
  }
}

/** The offsets of a B-type branch and of JAL (unprivileged spec §2.5). */
export const branchOffset = (insn: number): number =>
  ((insn >> 31) << 12) | ((insn << 4) & 0x800) | ((insn >>> 20) & 0x7e0) | ((insn >>> 7) & 0x1e);
export const jalOffset = (insn: number): number =>
  ((insn >> 31) << 20) | (insn & 0xff000) | ((insn >>> 9) & 0x800) | ((insn >>> 20) & 0x7fe);

/** What the translator reads of a page: the decoded-instruction cache's view of it, as the interpreter sees it. */
export interface PageCode {
  /** The cache entry at byte `off` (decoding it first if needed): tag 11 = 32-bit, 01 = compressed, 0 = undecodable. */
  entryAt(off: number): number;
  /** The raw bits that entry was decoded from (16 for a compressed one). */
  rawAt(off: number): number;
  /** The 16-bit parcel in RAM at `off` (only to see whether the last one of the page starts a 32-bit instruction). */
  parcelAt(off: number): number;
}

/**
 * The instructions of the block at byte `k` of a page, as the decoded-instruction cache has them (so a block
 * runs what the interpreter would run, even code changed behind the hart's back before a FENCE.I). Returns an
 * empty list when the first instruction is left to the interpreter.
 */
export function planBlock(k: number, code: PageCode, maxInsns = MAX_INSNS): Insn[] {
  const insns: Insn[] = [];
  let at = k;
  while (insns.length < maxInsns && at < PAGE) {
    if (at > PAGE - 4 && (code.parcelAt(at) & 3) === 3) break; // straddles the page: the interpreter's
    const e = code.entryAt(at);
    if (e === 0) break;
    const compressed = (e & 3) !== 3;
    const insn = compressed ? e | 3 : e;
    const kind = kindOf(insn);
    if (kind === Kind.Stop) break;
    const len = compressed ? 2 : 4;
    insns.push({ insn, raw: code.rawAt(at), len, off: at });
    at += len;
    if (kind === Kind.Jal && ((insn >>> 7) & 31) === 0) { // a plain jump: follow it inside the page
      const t = at - len + jalOffset(insn);
      if (t !== k && t >= 0 && t < PAGE && !insns.some((x) => x.off === t)) { at = t; continue; }
    }
    if (kind === Kind.Jal || kind === Kind.Jalr || kind === Kind.System) break;
    if (kind === Kind.Branch && at - len + branchOffset(insn) === k) break; // a loop: its back edge ends it
  }
  return insns;
}

/** The body of a block function (parameters BLOCK_PARAMS) and its exits. */
export function generateBlock(insns: Insn[]): BlockCode {
  const g = new BlockGen(insns);
  const source = g.source();
  return { source, insns, exits: g.exits, en: g.table.map((r) => r[0]), eo: g.table.map((r) => r[1]), es: g.table.map((r) => r[2]) };
}

/** Whether `expr` reads local `name` (r<n>l / r<n>h: no name is a substring of another). */
const refs = (expr: string, name: string): boolean => expr.includes(name);

class BlockGen {
  readonly exits: number[] = [];
  /** Fixed exits: [instructions retired, next page offset, status]. */
  readonly table: [number, number, number][] = [];
  private readonly used = new Set<number>();
  private readonly written = new Set<number>();
  private readonly imports = new Set<string>();
  private readonly start: number;
  private readonly loops: boolean;
  private mem = false;
  /** The current group of accesses (see addr), or null; and whether any access used one (gp/go declared). */
  private grp: { kind: 'ld' | 'st'; rs1: number; imm: number } | null = null;
  private grouped = false;
  /** Whether the block has F/D instructions done here (the prologue then takes the f register views). */
  private fp = false;

  constructor(private readonly insns: Insn[]) {
    this.start = insns[0]!.off;
    this.loops = insns.some((x) => {
      const op = (x.insn >>> 2) & 31;
      return (op === 24 && x.off + branchOffset(x.insn) === this.start) || (op === 27 && x.off + jalOffset(x.insn) === this.start);
    });
  }

  /** Forward branches kept inside the block: branch index -> index of its target instruction (properly nested). */
  private readonly skips = new Map<number, number>();
  /** Inner loops: index of a back edge (a branch, or a plain jump) -> index of its target (not the first instruction). */
  private readonly backEdges = new Map<number, number>();

  /**
   * Picks the control flow kept inside the block: backward branches and plain jumps to an earlier instruction of it
   * (other than the first, which is the whole-block loop) become inner JS loops over [target, edge], and forward
   * branches to a later instruction skip blocks over [branch, target). Every range taken must nest with the others
   * (JS blocks and loops nest); the rest stay exits. Targets must be unique in the block.
   */
  private planStructure(): void {
    const insns = this.insns;
    const ranges: [number, number][] = [];
    const nests = (i: number, j: number): boolean =>
      ranges.every(([a, b]) => j <= a || b <= i || (a <= i && j <= b) || (i <= a && b <= j));
    const indexOf = (t: number): number => {
      let j = -1;
      for (let q = 0; q < insns.length; q++) if (insns[q]!.off === t) { if (j >= 0) return -1; j = q; }
      return j;
    };
    for (let i = 0; i < insns.length; i++) { // inner loops first: a hot loop matters more than a skipped statement
      const x = insns[i]!, k = kindOf(x.insn);
      const plainJal = k === Kind.Jal && ((x.insn >>> 7) & 31) === 0;
      if (k !== Kind.Branch && !plainJal) continue;
      const j = indexOf(x.off + (k === Kind.Branch ? branchOffset(x.insn) : jalOffset(x.insn)));
      if (j <= 0 || j >= i || (plainJal && i + 1 < insns.length && insns[i + 1]!.off === insns[j]!.off)) continue;
      if (nests(j, i + 1)) { ranges.push([j, i + 1]); this.backEdges.set(i, j); }
    }
    for (let i = 0; i < insns.length; i++) {
      const x = insns[i]!;
      if (kindOf(x.insn) !== Kind.Branch || this.backEdges.has(i)) continue;
      const t = x.off + branchOffset(x.insn);
      let j = -1;
      for (let q = i + 1; q < insns.length; q++) if (insns[q]!.off === t) { j = q; break; }
      if (j < 0 || j === i + 1) continue;
      // The labeled block holds the branch and what it skips, [i, j): it must nest with every one taken so far.
      if (nests(i, j)) {
        ranges.push([i, j]);
        this.skips.set(i, j);
      }
    }
  }

  source(): string {
    this.planStructure();
    const lines: string[] = [];
    const insns = this.insns;
    // Nested ranges: [start, end) and whether it is a loop (labeled by its back edge: two loops may share a head);
    // opened outermost first, closed innermost first (a loop and a skip over the same range: the loop outside).
    const blocks: [number, number, boolean][] = [
      ...[...this.skips].map(([b, t]): [number, number, boolean] => [b, t, false]),
      ...[...this.backEdges].map(([e, h]): [number, number, boolean] => [h, e + 1, true]),
    ];
    const segmentStarts = new Set([...this.skips.values(), ...this.backEdges.values()]);
    for (let i = 0; i < insns.length; i++) {
      const x = insns[i]!;
      const opening = blocks.filter(([b]) => b === i).sort((p, q) => q[1] - p[1] || Number(q[2]) - Number(p[2]));
      for (const [b, t, isLoop] of opening) lines.push(isLoop ? `lp${t - 1}: for (;;) {` : `sk${b}: {`);
      if (i === 0 || kindOf(insns[i - 1]!.insn) === Kind.Branch || segmentStarts.has(i)) {
        let j = i;
        while (j < insns.length - 1 && kindOf(insns[j]!.insn) !== Kind.Branch) j++;
        lines.push(`if (n + ${j + 1} > room) ${this.out(i, x.off, BUDGET)}`);
      }
      // A group of accesses (addr) holds only along straight-line code: not into a join or across anything but ALU
      // instructions, branches (the fall-through) and accesses that leave its base register alone.
      if (segmentStarts.has(i)) this.grp = null;
      lines.push(this.insn(i));
      this.endGroup(x.insn);
      const closing = blocks.filter(([, t]) => t === i + 1).sort((p, q) => q[0] - p[0] || Number(p[2]) - Number(q[2]));
      for (const [, , isLoop] of closing) lines.push(isLoop ? 'break; }' : '}');
    }
    const last = insns[insns.length - 1]!;
    const lk = kindOf(last.insn);
    if (lk !== Kind.Jal && lk !== Kind.Jalr && lk !== Kind.System) lines.push(this.jump(insns.length, last.off + last.len));
    const wb = [...this.written].sort((a, b) => a - b).map((r) => `x32[${2 * r}] = r${r}l; x32[${2 * r + 1}] = r${r}h;`).join(' ');
    const regs = [...this.used].sort((a, b) => a - b);
    const decl = regs.map((r) => `r${r}l = x32[${2 * r}], r${r}h = x32[${2 * r + 1}]`).join(', ');
    const load = regs.map((r) => `r${r}l = x32[${2 * r}]; r${r}h = x32[${2 * r + 1}];`).join(' ');
    const body = lines.join('\n').replaceAll('/*LOADALL*/', load).replaceAll('/*SYNC*/', wb);
    const imports = this.imports.size > 0 ? `const { ${[...this.imports].join(', ')} } = H;` : '';
    return `"use strict";
const x32 = h.x32, vbase = h.fetchBase, ctx = h.ldCtx, ib = h.instret;${this.mem ? ' const view = h.ramView, codeMark = h.dcache.codeMark, tlb = h.tlb, ldTag = tlb.ldTag, ldOff = tlb.ldOff, stTag = tlb.stTag, stOff = tlb.stOff;' : ''}
${imports}${this.fp ? '\nconst fpu = h.fpu, fw = fpu.fw;' : ''}
${decl.length > 0 ? `let ${decl};` : ''}
let n = 0, off = 0, st = 0, e = -1, pc = NaN;${this.grouped ? ' let gp = 0, go = 0;' : ''}
x: {
${this.loops ? `loop: for (;;) {\n${body}\n}` : body}
}
if (e >= 0) { n += B.en[e]; off = B.eo[e]; st = B.es[e]; }
${wb}
h.pc = pc === pc ? pc : vbase + off; h.instret = ib + n;
return st;`;
  }

  // ---- registers ----
  private lo(r: number): string { if (r === 0) return '0'; this.used.add(r); return `r${r}l`; }
  private hi(r: number): string { if (r === 0) return '0'; this.used.add(r); return `r${r}h`; }
  /** rd = (lo, hi), int32 expressions that may read rd's old value; nothing for x0. */
  private set(rd: number, lo: string, hi: string): string {
    if (rd === 0) return '';
    this.used.add(rd); this.written.add(rd);
    const L = `r${rd}l`, Hh = `r${rd}h`;
    if (!refs(hi, L)) return `${L} = ${lo}; ${Hh} = ${hi};`;
    if (!refs(lo, Hh)) return `${Hh} = ${hi}; ${L} = ${lo};`;
    return `{ const _l = ${lo}; ${Hh} = ${hi}; ${L} = _l; }`;
  }
  /** rd = a sign-extended int32 expression. */
  private set32(rd: number, expr: string): string {
    if (rd === 0) return '';
    this.used.add(rd); this.written.add(rd);
    return `r${rd}l = ${expr}; r${rd}h = r${rd}l >> 31;`;
  }
  /** rd = the double `v` (an address: pc-relative values), split into halves. */
  private setAddr(rd: number, v: string): string {
    if (rd === 0) return '';
    return `{ const v = ${v}; ${this.set(rd, 'v | 0', 'Math.floor(v / 4294967296) | 0')} }`;
  }
  /**
   * Writes back every register this block writes, before a helper reads the hart's registers; x0 too, which the
   * interpreter (and a helper writing rd = x0) may have left nonzero: it zeroes it before each instruction.
   */
  private sync(): string { return '/*SYNC*/ x32[0] = 0; x32[1] = 0;'; }
  /** rd's locals again from x32, after a helper wrote the hart's registers. */
  private reload(r: number): string {
    if (r === 0) return '';
    this.used.add(r);
    return `r${r}l = x32[${2 * r}]; r${r}h = x32[${2 * r + 1}];`;
  }
  private use(name: string): string { this.imports.add(name); return name; }

  // ---- control ----
  /**
   * Leaves after `i` instructions (of this pass), the next pc being page offset `to` (a number) or the pc an expression `to` computes,
   * with status `st`. Fixed ones are rows of the block's exit table (B.en/eo/es), so each costs `e = ROW`.
   */
  private out(i: number, to: string | number, st: number): string {
    // A computed target is the next pc itself: as vbase + (t - vbase) it could round differently above 2^53.
    if (typeof to === 'string') return `{ n += ${i}; pc = ${to}; st = ${st}; break x; }`;
    let row = this.table.findIndex((r) => r[0] === i && r[1] === to && r[2] === st);
    if (row < 0) { row = this.table.length; this.table.push([i, to, st]); }
    return `{ e = ${row}; break x; }`;
  }
  /** A jump to fixed page offset `to` after `i` instructions: a numbered exit, or the loop's back edge. */
  private jump(i: number, to: number): string {
    if (to === this.start && this.loops) return `{ n += ${i}; continue loop; }`; // registers stay in locals
    let e = this.exits.indexOf(to);
    if (e < 0) { e = this.exits.length; this.exits.push(to); }
    return this.out(i, to, e);
  }
  /** Ends the current group of accesses after `insn` unless it keeps it (see source). */
  private endGroup(insn: number): void {
    const g = this.grp;
    if (g === null) return;
    const k = kindOf(insn), rd = (insn >>> 7) & 31;
    const fpMemOk = k === Kind.FpMem && (((insn >>> 12) & 7) === 2 || ((insn >>> 12) & 7) === 3);
    const keeps = k === Kind.Alu || k === Kind.Load || k === Kind.Store || k === Kind.Branch || k === Kind.Fence || fpMemOk;
    if (!keeps) this.grp = null;
    else if ((k === Kind.Alu || k === Kind.Load) && rd === g.rs1) this.grp = null;
  }

  /**
   * The back edge at instruction `i` to instruction `head` of an inner loop: the instructions of this iteration
   * from `head` to `i` are counted now (later exits count each instruction of the pass once, by position).
   */
  private backEdge(i: number, head: number): string {
    return `{ n += ${i + 1 - head}; continue lp${i}; }`;
  }
  private nextOff(i: number): number { const x = this.insns[i]!; return x.off + x.len; }
  /** After an access or helper that may have raised an interrupt or invalidated this block. */
  private checkAfter(i: number): string {
    return `if (h.attn || !B.valid) ${this.out(i + 1, this.nextOff(i), ATTN)}`;
  }

  private insn(i: number): string {
    const { insn, raw, len, off } = this.insns[i]!;
    const rd = (insn >>> 7) & 31, f3 = (insn >>> 12) & 7, rs1 = (insn >>> 15) & 31, rs2 = (insn >>> 20) & 31;
    switch ((insn >>> 2) & 31) {
      case 13: { // LUI
        const v = insn & 0xfffff000;
        return this.set(rd, `${v}`, `${v >> 31}`);
      }
      case 5: return this.setAddr(rd, `vbase + ${off + (insn & 0xfffff000)}`); // AUIPC
      case 27: { // JAL; a plain jump the planner followed is nothing (the target's code comes next)
        const target = off + jalOffset(insn);
        if (rd === 0 && i + 1 < this.insns.length && this.insns[i + 1]!.off === target) return '';
        const head = this.backEdges.get(i);
        if (head !== undefined) return this.backEdge(i, head);
        return `${this.setAddr(rd, `vbase + ${off + len}`)} ${this.jump(i + 1, target)}`;
      }
      case 25: { // JALR: a computed exit
        const imm = insn >> 20, l = this.lo(rs1), h = this.hi(rs1);
        return `{ const t = ${h} * 4294967296 + (${l} >>> 0) + ${imm} - ((${l} + ${imm}) & 1); ${this.setAddr(rd, `vbase + ${off + len}`)} ${this.out(i + 1, 't', DYN)} }`;
      }
      case 24: return this.branch(i, f3, rs1, rs2, off + branchOffset(insn));
      case 0: return this.load(i, f3, rd, rs1, insn >> 20);
      case 8: return this.store(i, f3, rs1, rs2, ((insn >> 25) << 5) | ((insn >>> 7) & 31));
      case 4: return this.opImm(f3, rd, rs1, insn >> 20);
      case 6: return this.opImm32(insn, f3, rd, rs1);
      case 12: return this.op(insn, f3, rd, rs1, rs2);
      case 14: return this.op32(insn, f3, rd, rs1, rs2);
      case 3: return ''; // FENCE: memory is sequentially consistent
      // The interpreter's helpers on synced registers; false (NaN for SYSTEM): the exception is recorded.
      case 11: // AMO
        this.lo(rs1); this.lo(rs2);
        return `${this.sync()} if (!H.amo(h, ${insn}, ${raw})) ${this.out(i, off, FAULT)} ${this.reload(rd)} ${this.checkAfter(i)}`;
      case 1: case 9: { // LOAD-FP, STORE-FP: FLD/FSD/FLW/FSW inline, anything else through the interpreter's code
        const fast = f3 === 2 || f3 === 3 ? this.fpMem(i, insn, f3, rd, rs1, rs2) : null;
        if (fast !== null) return fast;
        this.lo(rs1);
        return `${this.sync()} if (!H.fpMem(h, ${insn}, ${raw})) ${this.out(i, off, FAULT)} ${this.checkAfter(i)}`;
      }
      case 20: case 16: case 17: case 18: case 19: // OP-FP, fused multiply-adds (may read or write an x register)
        return this.fpOp(i, insn, raw);
      case 28: { // SYSTEM, with pc and instret in sync
        const call = `${this.sync()} h.pc = vbase + ${off}; h.instret = ib + n + ${i};
const npc = H.system(h, ${insn}, ${raw}, vbase + ${off}, vbase + ${off + len}); /*LOADALL*/ if (npc !== npc) ${this.out(i, off, FAULT)}`;
        if (f3 === 0) return `{ ${call} ${this.out(i + 1, 'npc', SYS)} }`;
        // Zicsr: go on unless interrupts, translation (satp, MPRV, SUM, PMP) or this code changed.
        return `{ ${call} if (h.attn || h.fetchBase !== vbase || h.ldCtx !== ctx || !B.valid) ${this.out(i + 1, off + len, SYS)} }`;
      }
      default:
        throw new Error(`translate: opcode ${(insn >>> 2) & 31} reached the generator`);
    }
  }

  // ---- F/D (unprivileged spec §13-§14) ----
  // The common operations run here on the f registers' int32-word and double views (Fpu.fw/fd), the arithmetic
  // through the Fpu's own fast paths (fpu-fast.ts: exact results and flags, or NOT_HANDLED having changed
  // nothing); whatever those decline, and every other encoding, runs the interpreter's code (fpOpSlow). Every
  // path first checks what fp-insn.ts's fpCheck does (an FPU present, mstatus.FS not Off) and leaves for the
  // interpreter, which raises illegal instruction, when it fails; each marks FS dirty as the interpreter does.

  /** The FS gate: leave before instruction `i` when F/D is off (the interpreter raises the exception). */
  private fpGate(i: number): string {
    this.fp = true;
    return `if (!h.fpuOk || (h.mstatus & ${MSTATUS_FS}) === 0) ${this.out(i, this.insns[i]!.off, MISS)}`;
  }

  /** FLW/FLD (rd: f register) and FSW/FSD (rs2: f register) as the interpreter's fpMem does them; null: the helper. */
  private fpMem(i: number, insn: number, f3: number, rd: number, rs1: number, rs2: number): string | null {
    this.mem = true;
    const size = f3 === 2 ? 4 : 8;
    if ((insn & 0x7f) === 0x07) { // LOAD-FP; a binary32 is NaN-boxed (§12.2)
      const hiWord = size === 8 ? 'view.getInt32(o + 4, true)' : '-1';
      return `{ ${this.fpGate(i)} ${this.addr(i, rs1, insn >> 20, size, 'ld')}
fw[${2 * rd}] = view.getInt32(o, true); fw[${2 * rd + 1}] = ${hiWord}; h.mstatus |= ${MSTATUS_FS}; }`;
    }
    const imm = ((insn >> 25) << 5) | ((insn >>> 7) & 31);
    const put = size === 8 ? `view.setInt32(o, fw[${2 * rs2}], true); view.setInt32(o + 4, fw[${2 * rs2 + 1}], true);` : `view.setInt32(o, fw[${2 * rs2}], true);`;
    return `{ ${this.fpGate(i)} ${this.addr(i, rs1, imm, size, 'st')}
const inval = codeMark[o >>> 12] !== 0 && H.codeStore(h, o, ${size}, B); ${put} if (inval) ${this.out(i + 1, this.nextOff(i), ATTN)} }`;
  }

  /** Any OP-FP or fused multiply-add through the interpreter's code (registers synced, exceptions reported). */
  private fpOpSlow(i: number, insn: number, raw: number): string {
    const rd = (insn >>> 7) & 31;
    this.lo((insn >>> 15) & 31);
    return `${this.sync()} if (!H.fpOp(h, ${insn}, ${raw})) ${this.out(i, this.insns[i]!.off, FAULT)} ${this.reload(rd)}`;
  }

  private fpOp(i: number, insn: number, raw: number): string {
    const rd = (insn >>> 7) & 31, rm3 = (insn >>> 12) & 7, rs1 = (insn >>> 15) & 31, rs2 = (insn >>> 20) & 31;
    const fmt = (insn >>> 25) & 3, isD = fmt === 1, opcode = insn & 0x7f, slow = this.fpOpSlow(i, insn, raw);
    if (fmt > 1) return slow;
    // The rounding mode: static, or frm (DYN) when it is a valid one; else the interpreter (illegal).
    const withRm = (body: (rm: string) => string): string => {
      if (rm3 <= 4) return body(`${rm3}`);
      if (rm3 !== 7) return slow;
      return `{ const rm = fpu.frm; if (rm <= 4) { ${body('rm')} } else { ${slow} } }`;
    };
    const done = `h.mstatus |= ${MSTATUS_FS};`;
    const flags = (call: string): string => `{ const fl = ${call}; if (fl >= 0) { fpu.fflags |= fl; ${done} } else { ${slow} } }`;
    if (opcode !== 0x53) { // FMADD/FMSUB/FNMSUB/FNMADD
      const negProd = opcode === 0x4b || opcode === 0x4f, negC = opcode === 0x47 || opcode === 0x4f;
      return `{ ${this.fpGate(i)} ${withRm((rm) => flags(`fpu.fast.tryFma(${isD}, ${rd}, ${rs1}, ${rs2}, ${insn >>> 27}, ${negProd}, ${negC}, ${rm})`))} }`;
    }
    const f5 = insn >>> 27;
    switch (f5) {
      case 0x00: case 0x01: case 0x02: case 0x03: case 0x0b: // FADD FSUB FMUL FDIV FSQRT
        if (f5 === 0x0b && rs2 !== 0) return slow;
        return `{ ${this.fpGate(i)} ${withRm((rm) => flags(`fpu.fast.tryFast(${f5}, ${isD}, ${rd}, ${rs1}, ${rs2}, ${rm}, (fpu.fflags & 1) !== 0)`))} }`;
      case 0x1a: { // FCVT.fmt.W/WU/L/LU
        if (rs2 > 3) return slow;
        const lo = this.lo(rs1);
        const hi = rs2 === 0 ? `${lo} >> 31` : rs2 === 1 ? '0' : this.hi(rs1);
        return `{ ${this.fpGate(i)} ${withRm((rm) => flags(`fpu.fast.tryFromInt(${isD}, ${rd}, ${lo}, ${hi}, ${rs2 !== 1 && rs2 !== 3}, ${rm})`))} }`;
      }
      case 0x04: { // FSGNJ/FSGNJN/FSGNJX.D (FMV.D, FNEG.D, FABS.D): bit operations on the high words
        if (!isD || rm3 > 2) return slow;
        const a = `fw[${2 * rs1 + 1}]`, b = `fw[${2 * rs2 + 1}]`;
        const sign = rm3 === 0 ? `${b} & -2147483648` : rm3 === 1 ? `~${b} & -2147483648` : `(${a} ^ ${b}) & -2147483648`;
        return `{ ${this.fpGate(i)} const l = fw[${2 * rs1}], s = ${sign}; fw[${2 * rd + 1}] = (${a} & 2147483647) | s; fw[${2 * rd}] = l; ${done} }`;
      }
      case 0x14: { // FLE/FLT/FEQ.D: no flag unless an operand is a NaN (then the interpreter's code)
        if (!isD || rm3 > 2) return slow;
        const op = rm3 === 0 ? '<=' : rm3 === 1 ? '<' : '===';
        return `{ ${this.fpGate(i)} const a = fpu.fd[${rs1}], b = fpu.fd[${rs2}]; if (a === a && b === b) { ${this.set(rd, `a ${op} b ? 1 : 0`, '0')} ${done} } else { ${slow} } }`;
      }
      case 0x1c: // FMV.X.D
        if (!isD || rs2 !== 0 || rm3 !== 0) return slow;
        return `{ ${this.fpGate(i)} ${this.set(rd, `fw[${2 * rs1}]`, `fw[${2 * rs1 + 1}]`)} ${done} }`;
      case 0x1e: // FMV.D.X
        if (!isD || rs2 !== 0 || rm3 !== 0) return slow;
        return `{ ${this.fpGate(i)} fw[${2 * rd}] = ${this.lo(rs1)}; fw[${2 * rd + 1}] = ${this.hi(rs1)}; ${done} }`;
      default:
        return slow;
    }
  }

  private branch(i: number, f3: number, rs1: number, rs2: number, target: number): string {
    const al = this.lo(rs1), ah = this.hi(rs1), bl = this.lo(rs2), bh = this.hi(rs2);
    let cond: string;
    switch (f3) {
      case 0: cond = `${al} === ${bl} && ${ah} === ${bh}`; break;
      case 1: cond = `${al} !== ${bl} || ${ah} !== ${bh}`; break;
      case 4: cond = `${ah} < ${bh} || (${ah} === ${bh} && (${al} >>> 0) < (${bl} >>> 0))`; break;
      case 5: cond = `${ah} > ${bh} || (${ah} === ${bh} && (${al} >>> 0) >= (${bl} >>> 0))`; break;
      case 6: cond = `(${ah} >>> 0) < (${bh} >>> 0) || (${ah} === ${bh} && (${al} >>> 0) < (${bl} >>> 0))`; break;
      default: cond = `(${ah} >>> 0) > (${bh} >>> 0) || (${ah} === ${bh} && (${al} >>> 0) >= (${bl} >>> 0))`; break;
    }
    const skipTo = this.skips.get(i);
    if (skipTo !== undefined) return `if (${cond}) { n -= ${skipTo - i - 1}; break sk${i}; }`;
    const head = this.backEdges.get(i);
    if (head !== undefined) return `if (${cond}) ${this.backEdge(i, head)}`;
    return `if (${cond}) ${this.jump(i + 1, target)}`;
  }

  /**
   * `o` = the RAM offset of the access of `size` bytes at rs1 + imm, from the TLB (`ld` or `st` arrays; Hart.lOff/
   * sOff inline, so the address -- a double above 2^31 for RAM at 0x8000_0000 -- is never boxed for a call), or
   * after a miss from the page walk (H.loadFill/storeFill); when neither gives RAM in one page, the block leaves
   * before instruction `i` for the interpreter.
   *
   * Accesses of one kind through the same base register, with only ALU instructions that leave that register alone
   * between them, form a group (memcpy's four loads, then four stores; a stack frame's saves): the first looks
   * the TLB up and records its page (`go`: RAM offset of the page, `gp`: page offset of rs1 + the group's first
   * immediate); the others are in that page when their offset from it stays inside, and then need no lookup. The
   * TLB cannot change between them (nothing between them fills it or fences), so this is what the lookups would
   * give. Only a page the TLB holds starts a group: the walk also answers for pages it does not cache (PMP
   * allowing part of a page), and those answers hold for one access.
   */
  private addr(i: number, rs1: number, imm: number, size: number, kind: 'ld' | 'st'): string {
    this.mem = true;
    const fill = kind === 'ld' ? 'H.loadFill' : 'H.storeFill', off = this.insns[i]!.off;
    const g = this.grp;
    const lookup = (rel: number): string =>
      `const va = ${this.va(rs1, imm)}, pg = Math.floor(va * ${1 / PAGE}), po = va - pg * ${PAGE}, ti = ctx + (pg & ${TLB_SETS - 1});
if (${kind}Tag[ti] !== pg && (o = ${fill}(h, va, ${size})) < 0) ${this.out(i, off, MISS)}
if (${kind}Tag[ti] === pg) { go = ${kind}Off[ti]; gp = po${rel === 0 ? '' : ` - ${rel}`}; o = po <= ${PAGE - size} ? go + po : ${fill}(h, va, ${size}); if (o < 0) ${this.out(i, off, MISS)} } else gp = -1e9;`;
    this.grouped = true;
    if (g !== null && g.kind === kind && g.rs1 === rs1) {
      const rel = imm - g.imm;
      return `let o = -1; { const p = gp + ${rel}; if (p >= 0 && p <= ${PAGE - size}) o = go + p; else { ${lookup(rel)} } }`;
    }
    this.grp = { kind, rs1, imm };
    return `let o = -1; { ${lookup(0)} }`;
  }

  /** va = rs1 + imm, computed as the interpreter does (a double; exact below 2^53). */
  private va(rs1: number, imm: number): string {
    if (rs1 === 0) return `${imm}`;
    const base = `${this.hi(rs1)} * 4294967296 + (${this.lo(rs1)} >>> 0)`;
    return imm === 0 ? base : `${base} + ${imm}`;
  }

  private load(i: number, f3: number, rd: number, rs1: number, imm: number): string {
    this.mem = true;
    const size = [1, 2, 4, 8, 1, 2, 4][f3]!;
    let get: string;
    switch (f3) {
      case 0: get = this.set32(rd, 'view.getInt8(o)'); break;
      case 1: get = this.set32(rd, 'view.getInt16(o, true)'); break;
      case 2: get = this.set32(rd, 'view.getInt32(o, true)'); break;
      case 3: get = this.set(rd, 'view.getInt32(o, true)', 'view.getInt32(o + 4, true)'); break;
      case 4: get = this.set(rd, 'view.getUint8(o)', '0'); break;
      case 5: get = this.set(rd, 'view.getUint16(o, true)', '0'); break;
      default: get = this.set(rd, 'view.getInt32(o, true)', '0'); break;
    }
    return `{ ${this.addr(i, rs1, imm, size, 'ld')} ${get} }`;
  }

  private store(i: number, f3: number, rs1: number, rs2: number, imm: number): string {
    this.mem = true;
    const size = 1 << f3;
    const bl = this.lo(rs2), bh = this.hi(rs2);
    let put: string;
    switch (f3) {
      case 0: put = `view.setInt8(o, ${bl});`; break;
      case 1: put = `view.setInt16(o, ${bl}, true);`; break;
      case 2: put = `view.setInt32(o, ${bl}, true);`; break;
      default: put = `view.setInt32(o, ${bl}, true); view.setInt32(o + 4, ${bh}, true);`; break;
    }
    // A store into a page holding decoded code drops what the bytes overlap (decode-cache.ts) first, as the
    // interpreter's does; if that was this block, it leaves after the store.
    return `{ ${this.addr(i, rs1, imm, size, 'st')}
const inval = codeMark[o >>> 12] !== 0 && H.codeStore(h, o, ${size}, B); ${put} if (inval) ${this.out(i + 1, this.nextOff(i), ATTN)} }`;
  }

  private opImm(f3: number, rd: number, rs1: number, imm: number): string {
    if (rd === 0) return '';
    const al = this.lo(rs1), ah = this.hi(rs1);
    const immHi = imm >> 31;
    switch (f3) {
      case 0: // ADDI
        if (imm === 0) return this.set(rd, al, ah);
        if (rs1 === 0) return this.set(rd, `${imm}`, `${immHi}`);
        return `{ const t = (${al} >>> 0) + ${imm}; ${this.set(rd, 't | 0', imm > 0 ? `(${ah} + (t > 4294967295 ? 1 : 0)) | 0` : `(${ah} - (t < 0 ? 1 : 0)) | 0`)} }`;
      case 1: return this.shiftConst(rd, al, ah, imm & 63, 0);
      case 2: return this.set(rd, `${ah} < ${immHi} || (${ah} === ${immHi} && (${al} >>> 0) < ${imm >>> 0}) ? 1 : 0`, '0');
      case 3: return this.set(rd, `(${ah} >>> 0) < ${immHi >>> 0} || (${ah} === ${immHi} && (${al} >>> 0) < ${imm >>> 0}) ? 1 : 0`, '0');
      case 4: return this.set(rd, `${al} ^ ${imm}`, `${ah} ^ ${immHi}`);
      case 5: return this.shiftConst(rd, al, ah, imm & 63, ((imm >>> 6) & 0x3f) === 0 ? 1 : 2);
      case 6: return this.set(rd, `${al} | ${imm}`, `${ah} | ${immHi}`);
      default: return this.set(rd, `${al} & ${imm}`, `${ah} & ${immHi}`);
    }
  }

  /** 64-bit shift by a constant: kind 0 SLL, 1 SRL, 2 SRA. */
  private shiftConst(rd: number, lo: string, hi: string, sh: number, kind: number): string {
    if (sh === 0) return this.set(rd, lo, hi);
    if (kind === 0) return sh < 32 ? this.set(rd, `${lo} << ${sh}`, `(${hi} << ${sh}) | (${lo} >>> ${32 - sh})`) : this.set(rd, '0', `${lo} << ${sh - 32}`);
    if (kind === 1) return sh < 32 ? this.set(rd, `(${lo} >>> ${sh}) | (${hi} << ${32 - sh})`, `(${hi} >>> ${sh}) | 0`) : this.set(rd, `(${hi} >>> ${sh - 32}) | 0`, '0');
    return sh < 32 ? this.set(rd, `(${lo} >>> ${sh}) | (${hi} << ${32 - sh})`, `${hi} >> ${sh}`) : this.set(rd, `${hi} >> ${sh - 32}`, `${hi} >> 31`);
  }

  /** 64-bit shift by the low 6 bits of a register: kind 0 SLL, 1 SRL, 2 SRA. */
  private shiftVar(rd: number, lo: string, hi: string, amt: string, kind: number): string {
    if (rd === 0) return '';
    const resHi = kind === 0 ? `s < 32 ? ((${hi} << s) | (${lo} >>> (32 - s))) : (${lo} << (s - 32))`
      : kind === 1 ? `s < 32 ? (${hi} >>> s) | 0 : 0` : `s < 32 ? ${hi} >> s : ${hi} >> 31`;
    const resLo = kind === 0 ? `s < 32 ? ${lo} << s : 0`
      : kind === 1 ? `s < 32 ? ((${lo} >>> s) | (${hi} << (32 - s))) : (${hi} >>> (s - 32)) | 0`
        : `s < 32 ? ((${lo} >>> s) | (${hi} << (32 - s))) : ${hi} >> (s - 32)`;
    return `{ const s = ${amt} & 63; if (s !== 0) { ${this.set(rd, resLo, resHi)} } else { ${this.set(rd, lo, hi)} } }`;
  }

  private opImm32(insn: number, f3: number, rd: number, rs1: number): string {
    if (rd === 0) return '';
    const imm = insn >> 20, a = this.lo(rs1);
    if (f3 === 0) return this.set32(rd, `(${a} + ${imm}) | 0`);
    if (f3 === 1) return this.set32(rd, `${a} << ${imm & 31}`);
    if ((insn >>> 25) === 0) return this.set32(rd, `(${a} >>> ${imm & 31}) | 0`);
    return this.set32(rd, `${a} >> ${imm & 31}`);
  }

  private op(insn: number, f3: number, rd: number, rs1: number, rs2: number): string {
    if (rd === 0) return '';
    const f7 = insn >>> 25;
    const al = this.lo(rs1), ah = this.hi(rs1), bl = this.lo(rs2), bh = this.hi(rs2);
    if (f7 === 0) {
      switch (f3) {
        case 0:
          if (rs1 === 0) return this.set(rd, bl, bh);
          if (rs2 === 0) return this.set(rd, al, ah);
          return `{ const t = (${al} >>> 0) + (${bl} >>> 0); ${this.set(rd, 't | 0', `(${ah} + ${bh} + (t > 4294967295 ? 1 : 0)) | 0`)} }`;
        case 1: return this.shiftVar(rd, al, ah, bl, 0);
        case 2: return this.set(rd, `${ah} < ${bh} || (${ah} === ${bh} && (${al} >>> 0) < (${bl} >>> 0)) ? 1 : 0`, '0');
        case 3: return this.set(rd, `(${ah} >>> 0) < (${bh} >>> 0) || (${ah} === ${bh} && (${al} >>> 0) < (${bl} >>> 0)) ? 1 : 0`, '0');
        case 4: return this.set(rd, `${al} ^ ${bl}`, `${ah} ^ ${bh}`);
        case 5: return this.shiftVar(rd, al, ah, bl, 1);
        case 6: return this.set(rd, `${al} | ${bl}`, `${ah} | ${bh}`);
        default: return this.set(rd, `${al} & ${bl}`, `${ah} & ${bh}`);
      }
    }
    if (f7 === 0x20) {
      if (f3 === 0) return `{ const t = (${al} >>> 0) - (${bl} >>> 0); ${this.set(rd, 't | 0', `(${ah} - ${bh} - (t < 0 ? 1 : 0)) | 0`)} }`;
      return this.shiftVar(rd, al, ah, bl, 2);
    }
    // M extension: MUL inline, the rest through muldiv.ts.
    if (f3 === 0) return this.set(rd, `Math.imul(${al}, ${bl})`, `(${this.use('mulhu32')}(${al}, ${bl}) + Math.imul(${ah}, ${bl}) + Math.imul(${al}, ${bh})) | 0`);
    return `H.mulDiv(${al}, ${ah}, ${bl}, ${bh}, ${f3}); ${this.set(rd, `${this.use('s32')}[4]`, 's32[5]')}`;
  }

  private op32(insn: number, f3: number, rd: number, rs1: number, rs2: number): string {
    if (rd === 0) return '';
    const f7 = insn >>> 25, a = this.lo(rs1), b = this.lo(rs2);
    if (f7 === 0) {
      if (f3 === 0) return this.set32(rd, `(${a} + ${b}) | 0`);
      if (f3 === 1) return this.set32(rd, `${a} << (${b} & 31)`);
      return this.set32(rd, `(${a} >>> (${b} & 31)) | 0`);
    }
    if (f7 === 0x20) {
      if (f3 === 0) return this.set32(rd, `(${a} - ${b}) | 0`);
      return this.set32(rd, `${a} >> (${b} & 31)`);
    }
    switch (f3) {
      case 0: return this.set32(rd, `Math.imul(${a}, ${b})`);
      case 4: return this.set32(rd, `${b} === 0 ? -1 : ${a} === -2147483648 && ${b} === -1 ? ${a} : Math.trunc(${a} / ${b}) | 0`);
      case 5: return this.set32(rd, `${b} === 0 ? -1 : Math.trunc((${a} >>> 0) / (${b} >>> 0)) | 0`);
      case 6: return this.set32(rd, `${b} === 0 ? ${a} : ${a} === -2147483648 && ${b} === -1 ? 0 : (${a} % ${b}) | 0`);
      default: return this.set32(rd, `${b} === 0 ? ${a} : ((${a} >>> 0) % (${b} >>> 0)) | 0`);
    }
  }
}
