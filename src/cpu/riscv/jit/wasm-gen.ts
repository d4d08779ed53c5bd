// The block translator's WebAssembly code generator (--cpu jit, when guest RAM is a WebAssembly memory): a
// superblock of guest instructions becomes one small wasm module whose function V8 compiles at once with Liftoff
// (native code from the first run) instead of a JavaScript function, which V8 interprets until it is hot enough
// for its optimizing compiler -- too late for code that runs only a few hundred times, which is most of a Linux
// boot. Semantics are the interpreter's (hart.ts) and the JavaScript generator's (translate.ts).
//
// What it covers: integer instructions (RV64IM), loads and stores, branches and jumps; a block is cut before the
// first instruction it does not do (AMO, F/D, SYSTEM): that one starts a block of the JavaScript generator. Registers
// are i64 locals, loaded from the hart's x registers (which live in RAM's VMM area, guest-memory.ts) on entry and
// stored back on the way out. Loads and stores look the hart's TLB up in place (its arrays are in the VMM area too);
// anything but a TLB hit in one page -- a miss, MMIO, a store into a line holding decoded code -- leaves before the
// instruction for the interpreter, which does it and refills the TLB. So a block module imports nothing but the
// memory: V8 compiles a wrapper for every JavaScript function a module imports, which would cost more than the block.
//
// Every exit stores the instructions it retired and its next pc's page offset (a computed exit: the pc itself) in
// the hart's scratch words and returns
// its status (translate.ts: an exit index >= 0, or DYN/BUDGET/MISS). Blocks run under the runtime module's `go`,
// which chains them without coming back to JavaScript: a linked exit (same page) goes to its successor, any other
// exit to a fixed or computed target is looked up through the fetch TLB and a physical-address -> block cache; a
// block is entered only while its validity byte says it is live and verified in this FENCE.I generation. All of
// these tables are in the VMM area, kept by the runtime (engine.ts).
//
// Values the interpreter computes as doubles (a JALR target, which may round above 2^53) are computed here with
// the same double operations, so even those match it bit for bit.

import { type Insn, BUDGET, MISS, DYN, branchOffset, jalOffset } from './translate.js';
import { TLB_ENTRIES, TLB_SETS, tlbRecords } from '../tlb.js';
import { CODE_LINE } from '../../../memory/guest-memory.js';
import { ACC_FETCH, ACC_LOAD, ACC_STORE } from '../csr-defs.js';

const PAGE = 4096;
/** log2 of CODE_LINE (guest-memory.ts), the bytes of RAM a decoded-code line mark stands for. */
export const LINE_SHIFT = 6;
if (1 << LINE_SHIFT !== CODE_LINE) throw new Error('wasm-gen.ts and guest-memory.ts disagree on the code line');

/** Where the hart's state sits in the wasm memory (byte offsets), and the memory's kind. */
export interface WasmLayout {
  regs: number;
  tlb: number;
  /** The decoded-code line marks (decode-cache.ts lineMarks): a byte per CODE_LINE bytes of RAM. */
  lineMarks: number;
  /** SCRATCH_BYTES: see the S_* offsets. */
  scratch: number;
  /**
   * WASM_IDS validity bytes; WASM_IDS * LINKS successor ids (+1, 0 = none); CACHE_SLOTS (RAM offset + 1, id) pairs;
   * WASM_IDS RAM offsets (i32) of each block's page.
   */
  valid: number;
  links: number;
  cache: number;
  pages: number;
  /** CACHE_SLOTS (RAM offset + 1, count) pairs: exits `go` found no block for, in the block's own page (HOT). */
  misses: number;
  shared: boolean;
}

/** Block ids the WebAssembly tables have room for; exits per block that can be linked; cache slots. */
export const WASM_IDS = 32768, LINKS = 32, CACHE_SLOTS = 16384;
export const SCRATCH_BYTES = 40;
/** go's result when an exit in the block's page found no block there for the HOT_EXIT-th time (its pc as a fixed exit's). */
export const HOT = -7;
const HOT_EXIT = 1024;
/**
 * Scratch: instructions retired (i32), the last block's id (i32), the next pc's page offset (f64) and page base
 * (f64), transitions `go` made through links and through lookups (i32 counters), and the next pc itself after a
 * computed exit (f64: as vbase + (t - vbase) it could round differently from t above 2^53).
 */
export const S_N = 0, S_LAST = 4, S_OFF = 8, S_VBASE = 16, S_LINKED = 24, S_LOOKED = 28, S_PC = 32;

/** A translated block: the module's bytes, the instructions covered (a prefix of those planned), where its exits go. */
export interface WasmBlockCode {
  bytes: Uint8Array<ArrayBuffer>;
  insns: Insn[];
  exits: number[];
}

/** Whether the generator does this (expanded) instruction. */
function supported(insn: number): boolean {
  switch ((insn >>> 2) & 31) {
    case 13: case 5: case 27: case 25: case 24: case 0: case 8: case 4: case 6: case 12: case 14: case 3: return true;
    default: return false; // AMO, F/D, SYSTEM: the JavaScript generator's
  }
}

// ---- encoding (WebAssembly core spec §5) ----

export function uleb(out: number[], v: number): void {
  do { let b = v & 0x7f; v = Math.floor(v / 128); if (v !== 0) b |= 0x80; out.push(b); } while (v !== 0);
}
function sleb(out: number[], v: bigint): void {
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)) { out.push(b); return; }
    out.push(b | 0x80);
  }
}
export function section(out: number[], id: number, body: number[]): void { out.push(id); uleb(out, body.length); out.push(...body); }
export function name(out: number[], s: string): void { uleb(out, s.length); for (const c of s) out.push(c.charCodeAt(0)); }
/** The code section of a module with one function: its locals as (count, type) runs, then its body. */
export function codeSection(out: number[], locals: readonly (readonly [number, number])[], body: readonly number[]): void {
  codeSectionOf(out, [{ locals, body }]);
}

/** The code section of a module with these functions, in order: each one's locals as (count, type) runs, and body. */
export function codeSectionOf(out: number[], fns: readonly { locals: readonly (readonly [number, number])[]; body: readonly number[] }[]): void {
  const code: number[] = [];
  uleb(code, fns.length);
  for (const { locals, body } of fns) {
    const fn: number[] = [];
    uleb(fn, locals.length);
    for (const [n, type] of locals) { uleb(fn, n); fn.push(type); }
    fn.push(...body, 0x0b);
    uleb(code, fn.length);
    code.push(...fn);
  }
  section(out, 10, code);
}

export const I32 = 0x7f, I64 = 0x7e, F64 = 0x7c, VOID = 0x40;
// Locals: parameters room (i32), vbase (f64), ctx (i32); then these.
const ROOM = 0, VBASE = 1, CTX = 2;
const N = 3, R = 4, O = 5, TI = 6, F = 7, VA = 8, T1 = 9, T2 = 10, T3 = 11, T4 = 12, T5 = 13, T6 = 14, VB = 15;
const FIRST_REG = 16;
const M32 = 0xffffffffn;

const F64_CELL = new Float64Array(1), F64_BYTES = new Uint8Array(F64_CELL.buffer);

/** The function body being emitted, with its labels (for branch depths). */
export class Body {
  readonly code: number[] = [];
  private readonly labels: string[] = [];
  op(...bytes: number[]): this { this.code.push(...bytes); return this; }
  get(l: number): this { this.code.push(0x20); uleb(this.code, l); return this; }
  set(l: number): this { this.code.push(0x21); uleb(this.code, l); return this; }
  tee(l: number): this { this.code.push(0x22); uleb(this.code, l); return this; }
  i32(v: number): this { this.code.push(0x41); sleb(this.code, BigInt(v | 0)); return this; }
  i64(v: bigint): this { this.code.push(0x42); sleb(this.code, BigInt.asIntN(64, v)); return this; }
  f64(v: number): this { this.code.push(0x44); F64_CELL[0] = v; for (let i = 0; i < 8; i++) this.code.push(F64_BYTES[i]!); return this; }
  /** A load or store opcode with its memarg (alignment hint 0: guest accesses may be unaligned). */
  mem(opcode: number, offset: number): this { this.code.push(opcode, 0); uleb(this.code, offset); return this; }
  open(kind: 0x02 | 0x03 | 0x04, label: string, type = VOID): this { this.code.push(kind, type); this.labels.push(label); return this; }
  else(): this { this.code.push(0x05); return this; }
  end(): this { this.code.push(0x0b); this.labels.pop(); return this; }
  br(label: string): this {
    const i = this.labels.lastIndexOf(label);
    if (i < 0) throw new Error(`wasm-gen: no label ${label}`);
    this.code.push(0x0c); uleb(this.code, this.labels.length - 1 - i); return this;
  }
  brIf(label: string): this {
    const i = this.labels.lastIndexOf(label);
    if (i < 0) throw new Error(`wasm-gen: no label ${label}`);
    this.code.push(0x0d); uleb(this.code, this.labels.length - 1 - i); return this;
  }
  /** br_table: index i goes to targets[i], any other to `dflt` (labels by name, innermost of that name). */
  brTable(targets: readonly string[], dflt: string): this {
    const depth = (label: string): number => {
      const i = this.labels.lastIndexOf(label);
      if (i < 0) throw new Error(`wasm-gen: no label ${label}`);
      return this.labels.length - 1 - i;
    };
    this.code.push(0x0e); uleb(this.code, targets.length);
    for (const t of targets) uleb(this.code, depth(t));
    uleb(this.code, depth(dflt));
    return this;
  }
}

/**
 * Generates the module for `planned` (a plan from translate.ts planBlock); null when its first instruction is not
 * one this generator does.
 */
export function generateWasmBlock(planned: Insn[], layout: WasmLayout): WasmBlockCode | null {
  let cut = planned.findIndex((x) => !supported(x.insn));
  if (cut < 0) cut = planned.length;
  if (cut === 0) return null;
  return new WasmGen(planned.slice(0, cut), layout).generate();
}

/** Whether the generator does the first instruction of this plan (else the block is the JavaScript generator's). */
export function wasmStarts(planned: readonly Insn[]): boolean {
  return planned.length > 0 && supported(planned[0]!.insn);
}

/** The memory import every module has: ("m", "mem"), shared or not as the guest's RAM is. */
export function memoryImport(out: number[], shared: boolean): void {
  name(out, 'm'); name(out, 'mem'); out.push(0x02);
  if (shared) { out.push(0x03); uleb(out, 1); uleb(out, 65536); } else { out.push(0x00); uleb(out, 1); }
}

/**
 * The runtime module, one per translator: the table of block functions and `go(id, room, vbase, fetchCtx, ctx)`,
 * which runs block `id` and then the blocks its exits lead to, while they are known here, up to `room`
 * instructions: a linked exit (links[id][exit], same page) to a live successor; an exit to a fixed target in the
 * block's own page through the cache of blocks by RAM offset (the page's RAM offset is the block's: pages[id]);
 * any other exit, or a computed one, through the fetch TLB (the hart's fcTag/fcOff) and that cache. It stops
 * at the first exit it cannot follow and leaves in scratch the instructions retired, the last block run, and the
 * page base of its next pc (its page offset is there already). JavaScript calls only `go`, so V8's fast
 * JS-to-wasm wrapper serves every block.
 */
export function runtimeModule(L: WasmLayout): Uint8Array<ArrayBuffer> {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  section(out, 1, [2, 0x60, 3, I32, F64, I32, 1, I32, 0x60, 5, I32, I32, F64, I32, I32, 1, I32]);
  const imports: number[] = [1];
  memoryImport(imports, L.shared);
  section(out, 2, imports);
  section(out, 3, [1, 1]);
  const table: number[] = [1, 0x70, 0x00];
  uleb(table, 1024);
  section(out, 4, table);
  const exp: number[] = [2];
  name(exp, 'go'); exp.push(0x00, 0);
  name(exp, 'tbl'); exp.push(0x01, 0);
  section(out, 7, exp);
  // params: 0 id, 1 room, 2 vbase, 3 fetch ctx, 4 ld ctx; locals: 5 total, 6 st, 7 nx, 8 pc, 9 vpn, 10 ti,
  // 11 addr, 12 slot, 13 linked, 14 looked up, 15 a fixed exit's page offset
  const ID = 0, ROOMP = 1, VBP = 2, FCTX = 3, LCTX = 4, TOTAL = 5, ST = 6, NX = 7, PC = 8, VPN = 9, TIX = 10, ADDR = 11, SLOT = 12, LINKED = 13, LOOKED = 14, OFFF = 15;
  const b = new Body(), sc = L.scratch;
  const fcTag = L.tlb + 4 * TLB_ENTRIES * 8, fcOff32 = L.tlb + tlbRecords(ACC_FETCH) + 8; // tlb.ts: the record's offset
  b.open(0x02, 'out').open(0x03, 'L');
  b.get(ROOMP).get(TOTAL).op(0x6b).get(VBP).get(LCTX).get(ID).op(0x11, 0, 0).set(ST); // call_indirect (type 0, table 0)
  b.get(TOTAL).i32(0).mem(0x28, sc + S_N).op(0x6a).set(TOTAL);
  b.get(TOTAL).get(ROOMP).op(0x4e).open(0x04, 'if').br('out').end(); // the budget is used up
  b.get(ST).i32(DYN).op(0x48).open(0x04, 'if').br('out').end(); // BUDGET, MISS, ...: JavaScript's
  // a linked exit to a live block
  b.get(ST).i32(LINKS).op(0x49).open(0x04, 'if'); // 0 <= st < LINKS (unsigned)
  b.get(ID).i32(LINKS).op(0x6c).get(ST).op(0x6a).i32(2).op(0x74).mem(0x28, L.links).tee(NX);
  b.open(0x04, 'if');
  b.get(NX).i32(1).op(0x6b).mem(0x2d, L.valid).i32(1).op(0x46).open(0x04, 'if'); // 1: a live wasm block
  b.get(NX).i32(1).op(0x6b).set(ID).get(LINKED).i32(1).op(0x6a).set(LINKED).br('L');
  b.end().end().end();
  // a fixed target in the block's page: no TLB (nothing inside go can change a translation)
  b.get(ST).i32(0).op(0x4e).i32(0).mem(0x2b, sc + S_OFF).tee(OFFF).f64(0).op(0x66).op(0x71).get(OFFF).f64(PAGE).op(0x63).op(0x71);
  b.open(0x04, 'if');
  b.get(ID).i32(2).op(0x74).mem(0x28, L.pages).get(OFFF).op(0xaa).op(0x6a).tee(ADDR);
  b.i32(1).op(0x76).i32(CACHE_SLOTS - 1).op(0x71).i32(3).op(0x74).set(SLOT);
  b.get(SLOT).mem(0x28, L.cache).get(ADDR).i32(1).op(0x6a).op(0x47).open(0x04, 'if');
  // no block there: counted per cache slot (restarted when another target takes it), and the HOT_EXIT-th miss
  // reported (the caller may translate there; a target that cannot be translated is reported once)
  b.get(SLOT).mem(0x28, L.misses).get(ADDR).i32(1).op(0x6a).op(0x47).open(0x04, 'if');
  b.get(SLOT).get(ADDR).i32(1).op(0x6a).mem(0x36, L.misses).get(SLOT).i32(0).mem(0x36, L.misses + 4);
  b.end();
  b.get(SLOT).get(SLOT).mem(0x28, L.misses + 4).i32(1).op(0x6a).tee(NX).mem(0x36, L.misses + 4);
  b.get(NX).i32(HOT_EXIT).op(0x46).open(0x04, 'if').i32(HOT).set(ST).end();
  b.br('out');
  b.end();
  b.get(SLOT).mem(0x28, L.cache + 4).tee(NX).mem(0x2d, L.valid).i32(1).op(0x47).open(0x04, 'if').br('out').end();
  b.get(NX).set(ID).get(LINKED).i32(1).op(0x6a).set(LINKED).br('L');
  b.end();
  // else the target through the fetch TLB and the block cache
  // pc: a computed exit's own, else vbase + the exit's page offset
  b.i32(0).mem(0x2b, sc + S_PC).get(VBP).i32(0).mem(0x2b, sc + S_OFF).op(0xa0).get(ST).i32(DYN).op(0x46).op(0x1b);
  b.tee(PC).f64(4096).op(0xa3).op(0x9c).set(VPN); // floor(pc / 4096)
  b.get(FCTX).get(VPN).op(0xb0).op(0xa7).i32(TLB_SETS - 1).op(0x71).op(0x6a).i32(3).op(0x74).set(TIX);
  b.get(TIX).mem(0x2b, fcTag).get(VPN).op(0x62).open(0x04, 'if').br('out').end(); // the page is not in the fetch TLB
  b.get(TIX).i32(1).op(0x74).mem(0x28, fcOff32).get(PC).get(VPN).f64(4096).op(0xa2).op(0xa1).op(0xaa).op(0x6a).set(ADDR);
  b.get(ADDR).i32(1).op(0x76).i32(CACHE_SLOTS - 1).op(0x71).i32(3).op(0x74).set(SLOT);
  b.get(SLOT).mem(0x28, L.cache).get(ADDR).i32(1).op(0x6a).op(0x47).open(0x04, 'if').br('out').end();
  b.get(SLOT).mem(0x28, L.cache + 4).tee(NX).mem(0x2d, L.valid).i32(1).op(0x47).open(0x04, 'if').br('out').end();
  b.get(NX).set(ID).get(VPN).f64(4096).op(0xa2).set(VBP).get(LOOKED).i32(1).op(0x6a).set(LOOKED).br('L');
  b.end().end();
  b.i32(0).get(TOTAL).mem(0x36, sc + S_N);
  b.i32(0).get(ID).mem(0x36, sc + S_LAST);
  b.i32(0).get(VBP).mem(0x39, sc + S_VBASE);
  b.i32(0).i32(0).mem(0x28, sc + S_LINKED).get(LINKED).op(0x6a).mem(0x36, sc + S_LINKED);
  b.i32(0).i32(0).mem(0x28, sc + S_LOOKED).get(LOOKED).op(0x6a).mem(0x36, sc + S_LOOKED);
  b.get(ST);
  codeSection(out, [[3, I32], [2, F64], [5, I32], [1, F64]], b.code); // total st nx; pc vpn; ti addr slot linked looked; offf
  return Uint8Array.from(out);
}

class WasmGen {
  readonly exits: number[] = [];
  private readonly regLocal = new Map<number, number>();
  private readonly written = new Set<number>();
  private readonly start: number;
  private readonly loops: boolean;
  private readonly b = new Body();

  constructor(private readonly insns: Insn[], private readonly L: WasmLayout) {
    this.start = insns[0]!.off;
    this.loops = insns.some((x) => {
      const op = (x.insn >>> 2) & 31;
      return (op === 24 && x.off + branchOffset(x.insn) === this.start) || (op === 27 && x.off + jalOffset(x.insn) === this.start);
    });
  }

  generate(): WasmBlockCode {
    const body = this.b;
    body.open(0x02, 'x');
    if (this.loops) body.open(0x03, 'loop');
    const insns = this.insns;
    for (let i = 0; i < insns.length; i++) {
      const x = insns[i]!;
      if (i === 0 || ((insns[i - 1]!.insn >>> 2) & 31) === 24) { // a straight-line segment starts: does it fit?
        let j = i;
        while (j < insns.length - 1 && ((insns[j]!.insn >>> 2) & 31) !== 24) j++;
        body.get(N).i32(j + 1).op(0x6a).get(ROOM).op(0x4a).open(0x04, 'if');
        this.out(i, x.off, BUDGET);
        body.end();
      }
      this.insn(i);
    }
    const last = insns[insns.length - 1]!;
    const lop = (last.insn >>> 2) & 31;
    if (lop !== 27 && lop !== 25) this.jump(insns.length, last.off + last.len);
    if (this.loops) body.end();
    body.end();
    // after x: registers back, the status returned (each exit stored its count and next pc in scratch)
    for (const r of [...this.written].sort((a, c) => a - c)) body.i32(0).get(this.regLocal.get(r)!).mem(0x37, this.L.regs + 8 * r);
    body.get(R);
    return { bytes: this.module(), insns, exits: this.exits };
  }

  private module(): Uint8Array<ArrayBuffer> {
    const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    section(out, 1, [1, 0x60, 3, I32, F64, I32, 1, I32]); // run(room, vbase, ctx) -> status
    const imports: number[] = [1];
    memoryImport(imports, this.L.shared);
    section(out, 2, imports);
    section(out, 3, [1, 0]);
    const exp: number[] = [1];
    name(exp, 'run'); exp.push(0x00, 0);
    section(out, 7, exp);
    // prologue: vbase as an integer, the registers this block uses
    const pro = new Body();
    pro.get(VBASE).op(0xb0).set(VB);
    for (const [r, l] of this.regLocal) pro.i32(0).mem(0x29, this.L.regs + 8 * r).set(l);
    // locals: N R O TI; F; VA T1..T6 VB; the registers
    codeSection(out, [[4, I32], [1, F64], [8, I64], [this.regLocal.size, I64]], [...pro.code, ...this.b.code]);
    return Uint8Array.from(out);
  }

  // ---- registers ----
  private reg(r: number): number {
    let l = this.regLocal.get(r);
    if (l === undefined) { l = FIRST_REG + this.regLocal.size; this.regLocal.set(r, l); }
    return l;
  }
  /** Pushes x[r] (0 for x0). */
  private rd(r: number): void { if (r === 0) this.b.i64(0n); else this.b.get(this.reg(r)); }
  /** Pops into x[r] (dropped for x0). */
  private wr(r: number): void {
    if (r === 0) { this.b.op(0x1a); return; }
    this.written.add(r);
    this.b.set(this.reg(r));
  }

  // ---- control ----
  /** Leaves after `i` instructions of this pass for page offset `to` with status `st`. */
  private out(i: number, to: number, st: number): void {
    const b = this.b, sc = this.L.scratch;
    b.i32(0).get(N).i32(i).op(0x6a).mem(0x36, sc + S_N);
    b.i32(0).f64(to).mem(0x39, sc + S_OFF);
    b.i32(st).set(R).br('x');
  }
  /** A jump to fixed page offset `to` after `i` instructions: a numbered exit, or the loop's back edge. */
  private jump(i: number, to: number): void {
    if (to === this.start && this.loops) { this.b.get(N).i32(i).op(0x6a).set(N).br('loop'); return; }
    let e = this.exits.indexOf(to);
    if (e < 0) { e = this.exits.length; this.exits.push(to); }
    this.out(i, to, e);
  }

  private insn(i: number): void {
    const { insn, len, off } = this.insns[i]!;
    const b = this.b;
    const rd = (insn >>> 7) & 31, f3 = (insn >>> 12) & 7, rs1 = (insn >>> 15) & 31, rs2 = (insn >>> 20) & 31;
    switch ((insn >>> 2) & 31) {
      case 13: // LUI
        if (rd !== 0) { b.i64(BigInt(insn & 0xfffff000)); this.wr(rd); }
        return;
      case 5: // AUIPC: vbase + offset, exact (a canonical page base plus a 32-bit offset)
        if (rd !== 0) { b.get(VB).i64(BigInt(off + (insn & 0xfffff000))).op(0x7c); this.wr(rd); }
        return;
      case 27: { // JAL; a plain jump the planner followed is nothing
        const target = off + jalOffset(insn);
        if (rd === 0 && i + 1 < this.insns.length && this.insns[i + 1]!.off === target) return;
        if (rd !== 0) { b.get(VB).i64(BigInt(off + len)).op(0x7c); this.wr(rd); }
        this.jump(i + 1, target);
        return;
      }
      case 25: { // JALR: t = rs1 + imm with bit 0 cleared, as the interpreter's doubles compute it
        const imm = insn >> 20;
        // hi * 2^32 + (lo >>> 0) + imm - ((lo + imm) & 1), each step a double operation
        this.rd(rs1); b.i64(32n).op(0x87).op(0xa7).op(0xb7).f64(4294967296).op(0xa2); // f64(hi) * 2^32
        this.rd(rs1); b.op(0xa7).op(0xb8).op(0xa0); // + f64(lo >>> 0)
        b.f64(imm).op(0xa0); // + imm
        this.rd(rs1); b.op(0xa7).i32(imm).op(0x6a).i32(1).op(0x71).op(0xb7).op(0xa1); // - ((lo + imm) & 1)
        b.set(F);
        if (rd !== 0) { b.get(VB).i64(BigInt(off + len)).op(0x7c); this.wr(rd); }
        b.i32(0).get(F).mem(0x39, this.L.scratch + S_PC);
        b.i32(0).get(N).i32(i + 1).op(0x6a).mem(0x36, this.L.scratch + S_N);
        b.i32(DYN).set(R).br('x');
        return;
      }
      case 24: return this.branch(i, f3, rs1, rs2, off + branchOffset(insn));
      case 0: return this.load(i, f3, rd, rs1, insn >> 20);
      case 8: return this.store(i, f3, rs1, rs2, ((insn >> 25) << 5) | ((insn >>> 7) & 31));
      case 4: return this.opImm(f3, rd, rs1, insn >> 20);
      case 6: return this.opImm32(insn, f3, rd, rs1);
      case 12: return this.op(insn, f3, rd, rs1, rs2);
      case 14: return this.op32(insn, f3, rd, rs1, rs2);
      case 3: return; // FENCE: memory is sequentially consistent
      default: throw new Error(`wasm-gen: opcode ${(insn >>> 2) & 31} reached the generator`);
    }
  }

  private branch(i: number, f3: number, rs1: number, rs2: number, target: number): void {
    const ops = [0x51, 0x52, -1, -1, 0x53, 0x59, 0x54, 0x5a]; // BEQ BNE - - BLT BGE BLTU BGEU
    this.rd(rs1); this.rd(rs2); this.b.op(ops[f3]!).open(0x04, 'if');
    this.jump(i + 1, target);
    this.b.end();
  }

  /** Leaves `o` = the RAM offset of the access of `size` bytes at rs1 + imm from the TLB, or exits MISS. */
  private addr(i: number, rs1: number, imm: number, size: number, store: boolean): void {
    const b = this.b, L = this.L, off = this.insns[i]!.off;
    const recs = L.tlb + tlbRecords(store ? ACC_STORE : ACC_LOAD); // tlb.ts: int64 tag, int32 offset
    this.rd(rs1); b.i64(BigInt(imm)).op(0x7c).set(VA);
    b.get(VA).i64(12n).op(0x87).set(T1); // page
    b.get(CTX).get(T1).op(0xa7).i32(TLB_SETS - 1).op(0x71).op(0x6a).i32(4).op(0x74).set(TI); // entry * 16
    // hit: the tag is the page and the access stays in it
    b.get(TI).mem(0x29, recs).get(T1).op(0x51);
    b.get(VA).op(0xa7).i32(PAGE - 1).op(0x71).i32(PAGE - size).op(0x4d).op(0x71);
    b.op(0x45).open(0x04, 'if'); // a miss or a page-crossing access: the interpreter's
    this.out(i, off, MISS);
    b.end();
    b.get(TI).mem(0x28, recs + 8).get(VA).op(0xa7).i32(PAGE - 1).op(0x71).op(0x6a).set(O);
  }

  private load(i: number, f3: number, rd: number, rs1: number, imm: number): void {
    const size = [1, 2, 4, 8, 1, 2, 4][f3]!;
    this.addr(i, rs1, imm, size, false);
    const op = [0x30, 0x32, 0x34, 0x29, 0x31, 0x33, 0x35][f3]!; // i64.load8_s 16_s 32_s load 8_u 16_u 32_u
    this.b.get(O).mem(op, 0);
    this.wr(rd);
  }

  private store(i: number, f3: number, rs1: number, rs2: number, imm: number): void {
    const size = 1 << f3, b = this.b;
    this.addr(i, rs1, imm, size, true);
    // A store into a line holding decoded code is the interpreter's (it drops the decoded code it overlaps).
    b.get(O).i32(LINE_SHIFT).op(0x76).mem(0x2d, this.L.lineMarks);
    if (size > 1) b.get(O).i32(size - 1).op(0x6a).i32(LINE_SHIFT).op(0x76).mem(0x2d, this.L.lineMarks).op(0x72);
    b.open(0x04, 'if');
    this.out(i, this.insns[i]!.off, MISS);
    b.end();
    b.get(O); this.rd(rs2); b.mem([0x3c, 0x3d, 0x3e, 0x37][f3]!, 0);
  }

  private opImm(f3: number, rd: number, rs1: number, imm: number): void {
    if (rd === 0) return;
    const b = this.b, v = BigInt(imm);
    this.rd(rs1);
    switch (f3) {
      case 0: b.i64(v).op(0x7c); break;
      case 1: b.i64(BigInt(imm & 63)).op(0x86); break;
      case 2: b.i64(v).op(0x53).op(0xad); break;
      case 3: b.i64(v).op(0x54).op(0xad); break;
      case 4: b.i64(v).op(0x85); break;
      case 5: b.i64(BigInt(imm & 63)).op(((imm >>> 6) & 0x3f) === 0 ? 0x88 : 0x87); break;
      case 6: b.i64(v).op(0x84); break;
      default: b.i64(v).op(0x83); break;
    }
    this.wr(rd);
  }

  private opImm32(insn: number, f3: number, rd: number, rs1: number): void {
    if (rd === 0) return;
    const b = this.b, imm = insn >> 20;
    this.rd(rs1); b.op(0xa7);
    if (f3 === 0) b.i32(imm).op(0x6a);
    else if (f3 === 1) b.i32(imm & 31).op(0x74);
    else b.i32(imm & 31).op((insn >>> 25) === 0 ? 0x76 : 0x75);
    b.op(0xac);
    this.wr(rd);
  }

  private op(insn: number, f3: number, rd: number, rs1: number, rs2: number): void {
    if (rd === 0) return;
    const b = this.b, f7 = insn >>> 25;
    if (f7 !== 1) {
      this.rd(rs1); this.rd(rs2);
      if (f7 === 0x20) b.op(f3 === 0 ? 0x7d : 0x87);
      else b.op([0x7c, 0x86, 0x53, 0x54, 0x85, 0x88, 0x84, 0x83][f3]!);
      if (f7 === 0 && (f3 === 2 || f3 === 3)) b.op(0xad);
      this.wr(rd);
      return;
    }
    // M extension (§7.1): MUL; MULH/MULHSU/MULHU from 32-bit partial products; DIV/REM with RISC-V's results for a
    // zero divisor and for overflow (wasm would trap)
    this.rd(rs1); b.set(T1); this.rd(rs2); b.set(T2);
    switch (f3) {
      case 0: b.get(T1).get(T2).op(0x7e); break;
      case 1: case 2: case 3: {
        this.mulhu();
        if (f3 !== 3) { // signed rs1: - (rs1 < 0 ? rs2 : 0)
          b.get(T5).get(T2).i64(0n).get(T1).i64(0n).op(0x53).op(0x1b).op(0x7d).set(T5);
        }
        if (f3 === 1) { // signed rs2 too: - (rs2 < 0 ? rs1 : 0)
          b.get(T5).get(T1).i64(0n).get(T2).i64(0n).op(0x53).op(0x1b).op(0x7d).set(T5);
        }
        b.get(T5);
        break;
      }
      case 4: // DIV
        b.get(T2).op(0x50).open(0x04, 'if', I64).i64(-1n).else()
          .get(T1).i64(-(1n << 63n)).op(0x51).get(T2).i64(-1n).op(0x51).op(0x71).open(0x04, 'if', I64).get(T1).else()
          .get(T1).get(T2).op(0x7f).end().end();
        break;
      case 5: b.get(T2).op(0x50).open(0x04, 'if', I64).i64(-1n).else().get(T1).get(T2).op(0x80).end(); break; // DIVU
      case 6: b.get(T2).op(0x50).open(0x04, 'if', I64).get(T1).else().get(T1).get(T2).op(0x81).end(); break; // REM
      default: b.get(T2).op(0x50).open(0x04, 'if', I64).get(T1).else().get(T1).get(T2).op(0x82).end(); break; // REMU
    }
    this.wr(rd);
  }

  /** T5 = the high 64 bits of the unsigned product T1 * T2 (uses T3, T4, T6). */
  private mulhu(): void { emitMulhu(this.b, T1, T2, T3, T4, T5, T6); }

  private op32(insn: number, f3: number, rd: number, rs1: number, rs2: number): void {
    if (rd === 0) return;
    const b = this.b, f7 = insn >>> 25;
    this.rd(rs1); b.op(0xa7).set(O);
    this.rd(rs2); b.op(0xa7).set(TI);
    if (f7 === 0) b.get(O).get(TI).op([0x6a, 0x74, 0, 0, 0, 0x76][f3]!);
    else if (f7 === 0x20) b.get(O).get(TI).op(f3 === 0 ? 0x6b : 0x75);
    else {
      switch (f3) {
        case 0: b.get(O).get(TI).op(0x6c); break;
        case 4: // DIVW
          b.get(TI).op(0x45).open(0x04, 'if', I32).i32(-1).else()
            .get(O).i32(-2147483648).op(0x46).get(TI).i32(-1).op(0x46).op(0x71).open(0x04, 'if', I32).get(O).else()
            .get(O).get(TI).op(0x6d).end().end();
          break;
        case 5: b.get(TI).op(0x45).open(0x04, 'if', I32).i32(-1).else().get(O).get(TI).op(0x6e).end(); break;
        case 6: b.get(TI).op(0x45).open(0x04, 'if', I32).get(O).else().get(O).get(TI).op(0x6f).end(); break;
        default: b.get(TI).op(0x45).open(0x04, 'if', I32).get(O).else().get(O).get(TI).op(0x70).end(); break;
      }
    }
    b.op(0xac);
    this.wr(rd);
  }
}

/**
 * Emits: local r = the high 64 bits of the unsigned product of i64 locals a and b, from 32-bit partial products
 * (uses locals t1, t2, t3 as scratch).
 */
export function emitMulhu(b: Body, a: number, bb: number, t1: number, t2: number, r: number, t3: number): void {
  const lo = (l: number): void => { b.get(l).i64(M32).op(0x83); }, hi = (l: number): void => { b.get(l).i64(32n).op(0x88); };
  lo(a); lo(bb); b.op(0x7e).set(t1); // p0 = al * bl
  lo(a); hi(bb); b.op(0x7e).set(t2); // p1 = al * bh
  hi(a); lo(bb); b.op(0x7e).set(t3); // p2 = ah * bl
  hi(a); hi(bb); b.op(0x7e).set(r); // p3 = ah * bh
  hi(t1); lo(t2); b.op(0x7c); lo(t3); b.op(0x7c).set(t1); // mid = (p0 >> 32) + lo(p1) + lo(p2)
  b.get(r); hi(t2); b.op(0x7c); hi(t3); b.op(0x7c); hi(t1); b.op(0x7c).set(r);
}
