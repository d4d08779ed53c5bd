// The block translator's code generator: the code of one physical page becomes one JavaScript function that V8
// compiles (RISC-V unprivileged spec §2-§9, §16 for the semantics, which are the interpreter's in hart.ts line
// for line; the interpreter is the reference).
//
// Unit: a page region. From its entry points the translator follows the code statically inside the page
// (conditional branches both ways, direct jumps, and the return point after a call) and emits everything it
// reached as one function: `switch (off)` over the labels (entries and jump targets) inside a dispatch loop, each
// label opening a superblock that runs to the next label through its conditional branches (side exits). A jump
// to a label of the same page, direct or computed (JALR), is a `continue` of the dispatch loop; anything else
// leaves the function with the target pc. A superblock that branches back to its own label is a JS loop.
//
// Registers: the low and high int32 words of each guest register a superblock touches are locals, loaded from
// the hart's x32 when the superblock is entered and written back whenever it is left (to another label, out of
// the function, before a helper call). On an exception the function knows which instruction it was at (it
// records the index before every instruction that may fault), writes the current superblock's registers back
// (the faulting instruction has not written its destination), sets pc and instret to that instruction and
// returns FAULT. So a fault in the middle of a block leaves exactly the interpreter's state.
//
// Budget: the caller passes `room`, the instructions it may retire before the interpreter's next timer check or
// the end of the slice. Before each straight-line segment (a label, and after each conditional branch) the code
// checks that the whole segment fits, else it leaves there; the interpreter then steps up to the check point. So
// timer checks, interrupts and slice ends fall at exactly the interpreter's instruction counts.
//
// Interrupt state can change in translated code only through an MMIO access (a device raising a line) or a
// helper (SYSTEM, AMO, F/D): the code leaves after any slow-path access or helper call that sets hart.attn or
// invalidated this region (a store into its own code: self-modifying code takes effect at the next instruction,
// as in the interpreter). After a CSR instruction it also leaves when the address-translation context changed.

import { PAGE } from '../tlb.js';

/** Most instructions in one region. */
export const MAX_REGION_INSNS = 1024;

/** Why a region function returned (hart.pc and hart.instret are set in every case). */
export const EXIT = 0, FAULT = 1, BUDGET = 2, ATTN = 3, SYS = 4;
/** Inside a region: go on at `off` through the dispatch switch, or fall into the next case. */
const CONT = -1, FALL = -2;

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

export interface RegionPlan {
  /** The instructions reached, by ascending offset. */
  insns: Insn[];
  /** Offsets where a superblock starts (entries and jump targets that have code), ascending. */
  labels: number[];
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

const branchOffset = (insn: number): number =>
  ((insn >> 31) << 12) | ((insn << 4) & 0x800) | ((insn >>> 20) & 0x7e0) | ((insn >>> 7) & 0x1e);
const jalOffset = (insn: number): number =>
  ((insn >> 31) << 20) | (insn & 0xff000) | ((insn >>> 9) & 0x800) | ((insn >>> 20) & 0x7fe);

/**
 * Follows the code of one page from `entries`. `entryAt(off)` is the decoded-instruction cache entry at byte
 * `off` (decoding it; 0 for an undecodable parcel), `rawAt(off)` the raw 16-bit parcel. `maxInsns` = 1 plans the
 * first entry's instruction alone. Returns null when no entry starts with a translatable instruction.
 */
export function planRegion(entries: readonly number[], entryAt: (off: number) => number, rawAt: (off: number) => number,
  maxInsns = MAX_REGION_INSNS): RegionPlan | null {
  const insns = new Map<number, Insn>();
  const labels = new Set<number>();
  const work = [...entries];
  for (const e of entries) labels.add(e);
  const target = (t: number): void => {
    if (t >= 0 && t < PAGE && !labels.has(t)) { labels.add(t); work.push(t); }
  };
  while (work.length > 0 && insns.size < maxInsns) {
    let at = work.pop()!;
    while (at < PAGE && !insns.has(at) && insns.size < maxInsns) {
      const lo = rawAt(at);
      const compressed = (lo & 3) !== 3;
      if (!compressed && at > PAGE - 4) break; // straddles the page: the interpreter's
      const e = entryAt(at);
      if (e === 0) break;
      const insn = compressed ? e | 3 : e;
      const kind = kindOf(insn);
      if (kind === Kind.Stop) break;
      const len = compressed ? 2 : 4;
      insns.set(at, { insn, raw: compressed ? lo : e, len, off: at });
      const next = at + len;
      if (kind === Kind.Branch) target(at + branchOffset(insn));
      else if (kind === Kind.Jal || kind === Kind.Jalr) {
        if (kind === Kind.Jal) target(at + jalOffset(insn));
        if (((insn >>> 7) & 31) !== 0) target(next); // the return point of a call
        break;
      } else if (kind === Kind.System) break;
      at = next;
    }
  }
  if (maxInsns === 1) { labels.clear(); labels.add(entries[0]!); }
  const list = [...insns.values()].sort((a, b) => a.off - b.off);
  const withCode = [...labels].filter((l) => insns.has(l)).sort((a, b) => a - b);
  if (withCode.length === 0) return null;
  return { insns: list, labels: withCode };
}

/** The generated source for a plan: the body of `new Function('H', 'R', src)`, which returns the region function. */
export function generateRegion(plan: RegionPlan): string {
  return new RegionGen(plan).source();
}

/** Per-instruction tables the catch path reads: pc offset, superblock index, index within the superblock pass. */
interface Tables { off: number[]; blk: number[]; idx: number[] }

class RegionGen {
  private readonly labels: Set<number>;
  private readonly tables: Tables = { off: [], blk: [], idx: [] };
  private readonly catchWb: string[] = [];
  private mem = false;
  private readonly allRegs = new Set<number>();

  constructor(private readonly plan: RegionPlan) {
    this.labels = new Set(plan.labels);
  }

  source(): string {
    const insns = this.plan.insns;
    const cases: string[] = [];
    let i = 0;
    while (i < insns.length) {
      const start = insns[i]!;
      if (!this.labels.has(start.off)) { i++; continue; } // reached only through code before it (emitted there)
      // A superblock: from this label up to the next label, a jump or the end of contiguous code.
      const body: Insn[] = [start];
      let j = i + 1;
      while (j < insns.length) {
        const prev = insns[j - 1]!, cur = insns[j]!;
        const k = kindOf(prev.insn);
        if (cur.off !== prev.off + prev.len || this.labels.has(cur.off) || k === Kind.Jal || k === Kind.Jalr || k === Kind.System) break;
        body.push(cur);
        j++;
      }
      const last = body[body.length - 1]!;
      const lastKind = kindOf(last.insn);
      const after = last.off + last.len;
      // Where control goes after the last instruction when it falls through: the next label (contiguous) or out.
      const fallsInto = lastKind === Kind.Jal || lastKind === Kind.Jalr || lastKind === Kind.System ? -1 : after;
      cases.push(new BlockGen(this, this.tables, this.catchWb.length, body, fallsInto, this.labels).emit());
      i = j;
    }
    const regs = [...this.allRegs].sort((a, b) => a - b);
    const decl = regs.map((r) => `r${r}l = 0, r${r}h = 0`).join(', ');
    const memDecl = this.mem
      ? 'const view = h.ramView, tlb = h.tlb, ldTag = tlb.ldTag, ldOff = tlb.ldOff, stTag = tlb.stTag, stOff = tlb.stOff, codeMark = h.dcache.codeMark;'
      : '';
    const t = this.tables;
    return `"use strict";
const { loadSlow, storeSlow, amo, fpMem, fpOp, system, mulhu32, mulDiv64, s32, s64 } = H;
const OFF = [${t.off.join(',')}], BLK = [${t.blk.join(',')}], IDX = [${t.idx.join(',')}];
return function region(h, off, room) {
  const x32 = h.x32, vbase = h.fetchBase, ctx = h.ldCtx; ${memDecl}
  const ib = h.instret;
  ${decl.length > 0 ? `let ${decl};` : ''}
  let n = 0, k = 0, st = ${EXIT};
  try {
    dispatch: for (;;) {
      switch (off) {
${cases.join('\n')}
        default: st = ${EXIT}; break dispatch;
      }
    }
  } catch (e) {
    switch (BLK[k]) {
${this.catchWb.map((wb, b) => `      case ${b}: ${wb} break;`).join('\n')}
    }
    h.pc = vbase + OFF[k]; h.instret = ib + n + IDX[k];
    if (e === null || typeof e !== 'object' || e.trap !== true) throw e;
    return ${FAULT};
  }
  h.pc = vbase + off; h.instret = ib + n;
  return st;
};`;
  }

  noteRegs(used: Set<number>): void { for (const r of used) this.allRegs.add(r); }
  noteMem(): void { this.mem = true; }
  addCatch(wb: string): void { this.catchWb.push(wb); }
}

/** One superblock: `case LABEL:` and its code. */
class BlockGen {
  private readonly used = new Set<number>();
  private readonly written = new Set<number>();
  private readonly label: number;
  /** Whether the code branches back to its own label (emitted as a JS loop). */
  private readonly loops: boolean;

  constructor(private readonly region: RegionGen, private readonly tables: Tables, private readonly index: number,
    private readonly insns: Insn[], private readonly fallsInto: number, private readonly labels: Set<number>) {
    this.label = insns[0]!.off;
    this.loops = insns.some((x) => {
      const op = (x.insn >>> 2) & 31;
      return (op === 24 && x.off + branchOffset(x.insn) === this.label) || (op === 27 && x.off + jalOffset(x.insn) === this.label);
    });
  }

  /**
   * The case: load the registers, run the code in block `x` (a loop when it branches back to its own label);
   * every way out sets n, off and st and breaks out of `x` to the one write-back, then goes on by st.
   */
  emit(): string {
    const lines: string[] = [];
    const insns = this.insns;
    for (let i = 0; i < insns.length; i++) {
      const x = insns[i]!;
      this.tables.off.push(x.off);
      this.tables.blk.push(this.index);
      this.tables.idx.push(i);
      if (i === 0 || kindOf(insns[i - 1]!.insn) === Kind.Branch) {
        let j = i;
        while (j < insns.length - 1 && kindOf(insns[j]!.insn) !== Kind.Branch) j++;
        lines.push(`if (n + ${j + 1} > room) ${this.out(i, x.off, BUDGET)}`);
      }
      lines.push(this.insn(i, this.tables.off.length - 1));
    }
    if (this.fallsInto >= 0) {
      // Into the next label (the next case in source order) or out of the region.
      lines.push(`n += ${insns.length}; off = ${this.fallsInto}; st = ${this.labels.has(this.fallsInto) ? FALL : EXIT};`);
    }
    const wb = [...this.written].sort((a, b) => a - b).map((r) => `x32[${2 * r}] = r${r}l; x32[${2 * r + 1}] = r${r}h;`).join(' ');
    const load = [...this.used].sort((a, b) => a - b).map((r) => `r${r}l = x32[${2 * r}]; r${r}h = x32[${2 * r + 1}];`).join(' ');
    this.region.noteRegs(this.used);
    this.region.addCatch(wb);
    const body = lines.join('\n').replaceAll('/*LOADALL*/', load).replaceAll('/*SYNC*/', wb);
    const code = this.loops ? `loop: for (;;) {\n${body}\nbreak; }` : body;
    return `case ${this.label}: {
${load}
x: {
${code}
}
${wb}
if (st === ${CONT}) continue dispatch;
if (st !== ${FALL}) break dispatch; }`;
  }

  /** Leaves this superblock after `i` instructions for region offset `to` (a number or an expression), with status `st`. */
  private out(i: number, to: string | number, st: number): string {
    return `{ n += ${i}; off = ${to}; st = ${st}; break x; }`;
  }

  // ---- registers ----
  private lo(r: number): string { if (r === 0) return '0'; this.used.add(r); return `r${r}l`; }
  private hi(r: number): string { if (r === 0) return '0'; this.used.add(r); return `r${r}h`; }
  /** rd = (lo, hi) int32 expressions, both evaluated before either is stored; nothing for x0. */
  private set(rd: number, loExpr: string, hiExpr: string): string {
    if (rd === 0) return '';
    this.used.add(rd); this.written.add(rd);
    return `{ const _l = ${loExpr}, _h = ${hiExpr}; r${rd}l = _l; r${rd}h = _h; }`;
  }
  /** rd = a sign-extended int32 expression. */
  private set32(rd: number, expr: string): string {
    if (rd === 0) return '';
    this.used.add(rd); this.written.add(rd);
    return `{ const _v = ${expr}; r${rd}l = _v; r${rd}h = _v >> 31; }`;
  }
  /**
   * Writes back every register this superblock writes, before a helper reads the hart's registers; x0 too, which
   * the interpreter (and a helper writing rd = x0) may have left nonzero: it zeroes it before each instruction.
   */
  private sync(): string { return '/*SYNC*/ x32[0] = 0; x32[1] = 0;'; }
  /** rd's locals again from x32, after a helper wrote the hart's registers. */
  private reload(r: number): string {
    if (r === 0) return '';
    this.used.add(r);
    return `r${r}l = x32[${2 * r}]; r${r}h = x32[${2 * r + 1}];`;
  }

  // ---- control ----
  /** Goes on at region offset `to` (a number or an expression) after `i` instructions. */
  private jump(i: number, to: string | number): string {
    if (to === this.label) return `{ n += ${i}; continue loop; }`; // registers stay in locals
    return this.out(i, to, CONT);
  }
  /** Leaves the region after `i` instructions, continuing at region offset `to`, with status `st`. */
  private leave(i: number, to: string | number, st: number): string {
    return this.out(i, to, st);
  }
  private nextOff(i: number): number { const x = this.insns[i]!; return x.off + x.len; }
  /** After an access or helper that may have raised an interrupt or invalidated this region. */
  private checkAfter(i: number): string {
    return `if (h.attn || !R.valid) ${this.leave(i + 1, this.nextOff(i), ATTN)}`;
  }

  private insn(i: number, k: number): string {
    const { insn, raw, len, off } = this.insns[i]!;
    const rd = (insn >>> 7) & 31, f3 = (insn >>> 12) & 7, rs1 = (insn >>> 15) & 31, rs2 = (insn >>> 20) & 31;
    switch ((insn >>> 2) & 31) {
      case 13: { // LUI
        const v = insn & 0xfffff000;
        return this.set(rd, `${v}`, `${v >> 31}`);
      }
      case 5: // AUIPC
        return rd === 0 ? '' : `{ const v = vbase + ${off + (insn & 0xfffff000)}; ${this.set(rd, 'v | 0', 'Math.floor(v / 4294967296) | 0')} }`;
      case 27: { // JAL
        const link = rd === 0 ? '' : `{ const v = vbase + ${off + len}; ${this.set(rd, 'v | 0', 'Math.floor(v / 4294967296) | 0')} }`;
        return `${link} ${this.jump(i + 1, off + jalOffset(insn))}`;
      }
      case 25: { // JALR: into this page's labels through the dispatch switch, else out
        const imm = insn >> 20;
        const l = this.lo(rs1), h = this.hi(rs1);
        const link = rd === 0 ? '' : `{ const v = vbase + ${off + len}; ${this.set(rd, 'v | 0', 'Math.floor(v / 4294967296) | 0')} }`;
        return `{ const t = ${h} * 4294967296 + (${l} >>> 0) + ${imm} - ((${l} + ${imm}) & 1); ${link} ${this.jump(i + 1, 't - vbase')} }`;
      }
      case 24: return this.branch(i, f3, rs1, rs2, off + branchOffset(insn));
      case 0: return this.load(i, k, f3, rd, rs1, insn >> 20);
      case 8: return this.store(i, k, f3, rs1, rs2, ((insn >> 25) << 5) | ((insn >>> 7) & 31));
      case 4: return this.opImm(f3, rd, rs1, insn >> 20);
      case 6: return this.opImm32(insn, f3, rd, rs1);
      case 12: return this.op(insn, f3, rd, rs1, rs2);
      case 14: return this.op32(insn, f3, rd, rs1, rs2);
      case 3: return ''; // FENCE: memory is sequentially consistent
      case 11: // AMO: the interpreter's helper, on synced registers
        this.lo(rs1); this.lo(rs2);
        return `${this.sync()} k = ${k}; amo(h, ${insn}, ${raw}); ${this.reload(rd)} ${this.checkAfter(i)}`;
      case 1: case 9: // LOAD-FP, STORE-FP
        this.lo(rs1);
        this.region.noteMem();
        return `${this.sync()} k = ${k}; fpMem(h, ${insn}, ${raw}); ${this.checkAfter(i)}`;
      case 20: case 16: case 17: case 18: case 19: // OP-FP, fused multiply-adds (may read or write an x register)
        this.lo(rs1);
        return `${this.sync()} k = ${k}; fpOp(h, ${insn}, ${raw}); ${this.reload(rd)}`;
      case 28: { // SYSTEM: the interpreter's helper with pc and instret in sync
        const call = `${this.sync()} k = ${k}; h.pc = vbase + ${off}; h.instret = ib + n + ${i};
const npc = system(h, ${insn}, ${raw}, vbase + ${off}, vbase + ${off + len}); /*LOADALL*/`;
        if (f3 === 0) return `{ ${call} ${this.out(i + 1, 'npc - vbase', SYS)} }`;
        // Zicsr: continue unless interrupts, translation (satp, MPRV, SUM, PMP) or this code changed.
        return `{ ${call} if (h.attn || h.fetchBase !== vbase || h.ldCtx !== ctx || !R.valid) ${this.leave(i + 1, off + len, SYS)} }`;
      }
      default:
        throw new Error(`translate: opcode ${(insn >>> 2) & 31} reached the generator`);
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
    return `if (${cond}) ${this.jump(i + 1, target)}`;
  }

  /** va = rs1 + imm, computed as the interpreter does (a double; exact below 2^53). */
  private va(rs1: number, imm: number): string {
    return `${this.hi(rs1)} * 4294967296 + (${this.lo(rs1)} >>> 0) + ${imm}`;
  }

  private load(i: number, k: number, f3: number, rd: number, rs1: number, imm: number): string {
    this.region.noteMem();
    const size = [1, 2, 4, 8, 1, 2, 4][f3]!;
    let fast: string, slow: string;
    switch (f3) {
      case 0: fast = this.set32(rd, 'view.getInt8(o)'); slow = this.set32(rd, 'Number(BigInt.asIntN(8, loadSlow(h, va, 1)))'); break;
      case 1: fast = this.set32(rd, 'view.getInt16(o, true)'); slow = this.set32(rd, 'Number(BigInt.asIntN(16, loadSlow(h, va, 2)))'); break;
      case 2: fast = this.set32(rd, 'view.getInt32(o, true)'); slow = this.set32(rd, 'Number(BigInt.asIntN(32, loadSlow(h, va, 4)))'); break;
      case 3:
        fast = this.set(rd, 'view.getInt32(o, true)', 'view.getInt32(o + 4, true)');
        slow = `{ const v = loadSlow(h, va, 8); ${this.set(rd, 'Number(v & 0xffffffffn) | 0', 'Number(BigInt.asIntN(32, v >> 32n))')} }`;
        break;
      case 4: fast = this.set(rd, 'view.getUint8(o)', '0'); slow = this.set(rd, 'Number(loadSlow(h, va, 1))', '0'); break;
      case 5: fast = this.set(rd, 'view.getUint16(o, true)', '0'); slow = this.set(rd, 'Number(loadSlow(h, va, 2))', '0'); break;
      default: fast = this.set(rd, 'view.getInt32(o, true)', '0'); slow = this.set(rd, 'Number(loadSlow(h, va, 4)) | 0', '0'); break;
    }
    if (rd === 0) { fast = ''; slow = `loadSlow(h, va, ${size});`; } // x0 still performs the access (it may fault or reach a device)
    return `{ const va = ${this.va(rs1, imm)}; const pg = Math.floor(va * ${1 / PAGE}), po = va - pg * ${PAGE}, ti = ctx + (pg & 1023);
if (ldTag[ti] === pg && po <= ${PAGE - size}) { const o = ldOff[ti] + po; ${fast} }
else { k = ${k}; ${slow} ${this.checkAfter(i)} } }`;
  }

  private store(i: number, k: number, f3: number, rs1: number, rs2: number, imm: number): string {
    this.region.noteMem();
    const size = 1 << f3;
    const bl = this.lo(rs2), bh = this.hi(rs2);
    let fast: string, value: string;
    switch (f3) {
      case 0: fast = `view.setInt8(o, ${bl});`; value = `BigInt(${bl})`; break;
      case 1: fast = `view.setInt16(o, ${bl}, true);`; value = `BigInt(${bl})`; break;
      case 2: fast = `view.setInt32(o, ${bl}, true);`; value = `BigInt(${bl})`; break;
      default:
        fast = `view.setInt32(o, ${bl}, true); view.setInt32(o + 4, ${bh}, true);`;
        value = `(BigInt(${bh}) << 32n) | BigInt(${bl} >>> 0)`;
        break;
    }
    // A store into a page holding decoded code drops what it overlaps (decode-cache.ts), maybe this region.
    return `{ const va = ${this.va(rs1, imm)}; const pg = Math.floor(va * ${1 / PAGE}), po = va - pg * ${PAGE}, ti = ctx + (pg & 1023);
if (stTag[ti] === pg && po <= ${PAGE - size}) { const o = stOff[ti] + po;
  if (codeMark[o >>> 12] === 0) { ${fast} }
  else { h.dcache.codeStore(o, ${size}); ${fast} if (!R.valid) ${this.leave(i + 1, this.nextOff(i), ATTN)} } }
else { k = ${k}; storeSlow(h, va, ${size}, ${value}); ${this.checkAfter(i)} } }`;
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
    return `{ const s = ${amt} & 63; if (s === 0) { ${this.set(rd, lo, hi)} } else { ${this.set(rd, resLo, resHi)} } }`;
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
        case 0: return `{ const t = (${al} >>> 0) + (${bl} >>> 0); ${this.set(rd, 't | 0', `(${ah} + ${bh} + (t > 4294967295 ? 1 : 0)) | 0`)} }`;
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
    // M extension: MUL inline, the rest through muldiv.ts on a scratch pair of views.
    if (f3 === 0) return this.set(rd, `Math.imul(${al}, ${bl})`, `(mulhu32(${al}, ${bl}) + Math.imul(${ah}, ${bl}) + Math.imul(${al}, ${bh})) | 0`);
    return `{ s32[0] = ${al}; s32[1] = ${ah}; s32[2] = ${bl}; s32[3] = ${bh}; mulDiv64(s32, s64, 4, 0, 2, ${f3}); ${this.set(rd, 's32[4]', 's32[5]')} }`;
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
