// The block translator's WebAssembly code generator (--cpu jit, when guest RAM is a WebAssembly memory): a
// superblock of guest instructions becomes one small wasm module whose function V8 compiles at once with Liftoff
// (tens of microseconds, native code from the first run) instead of a JavaScript function, which V8 interprets
// until it is hot enough for its optimizing compiler -- too late for code that runs only a few hundred times, which
// is most of a Linux boot. Semantics are the interpreter's (hart.ts) and the JavaScript generator's (translate.ts),
// whose exit protocol this keeps: the runtime (engine.ts) cannot tell the two kinds of block apart.
//
// What it covers: integer instructions (RV64IM), loads and stores, branches and jumps; a block is cut before the
// first instruction it does not do (AMO, F/D, SYSTEM): that one starts a block of the JavaScript generator. Registers
// are i64 locals, loaded from the hart's x registers (which live in RAM's VMM area, guest-memory.ts) on entry and
// stored back on the way out. Loads and stores look the hart's TLB up in place (its arrays are in the VMM area too);
// a miss calls the page walk (helpers.ts loadFill/storeFill) and anything that is not RAM in one page leaves before
// the instruction for the interpreter, as in translate.ts. A store into a page holding decoded code calls the decode
// cache first and leaves after the store if that dropped this block.
//
// Values the interpreter computes as doubles (a JALR target, which may round above 2^53) are computed here with
// the same double operations, so even those match it bit for bit.

import { type Insn, BUDGET, MISS, ATTN } from './translate.js';
import { TLB_ENTRIES, TLB_SETS } from '../tlb.js';

const PAGE = 4096;

/** Where the hart's state sits in the wasm memory (byte offsets), and the memory's kind. */
export interface WasmLayout {
  regs: number;
  tlb: number;
  marks: number;
  /** 16 bytes: [0] i32 instructions retired by loop iterations, [8] f64 page offset of a computed exit. */
  scratch: number;
  shared: boolean;
}

/** A translated block: the module's bytes, the instructions covered (a prefix of those planned) and the exits. */
export interface WasmBlockCode {
  bytes: Uint8Array<ArrayBuffer>;
  insns: Insn[];
  exits: number[];
  en: number[];
  eo: number[];
  es: number[];
}

/** Whether the generator does this (expanded) instruction. */
function supported(insn: number): boolean {
  switch ((insn >>> 2) & 31) {
    case 13: case 5: case 27: case 25: case 24: case 0: case 8: case 4: case 6: case 12: case 14: case 3: return true;
    default: return false; // AMO, F/D, SYSTEM: the JavaScript generator's
  }
}

const branchOffset = (insn: number): number =>
  ((insn >> 31) << 12) | ((insn << 4) & 0x800) | ((insn >>> 20) & 0x7e0) | ((insn >>> 7) & 0x1e);
const jalOffset = (insn: number): number =>
  ((insn >> 31) << 20) | (insn & 0xff000) | ((insn >>> 9) & 0x800) | ((insn >>> 20) & 0x7fe);

// ---- encoding (WebAssembly core spec §5) ----

function uleb(out: number[], v: number): void {
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
function section(out: number[], id: number, body: number[]): void { out.push(id); uleb(out, body.length); out.push(...body); }
function name(out: number[], s: string): void { uleb(out, s.length); for (const c of s) out.push(c.charCodeAt(0)); }

const I32 = 0x7f, I64 = 0x7e, F64 = 0x7c, VOID = 0x40;
// Locals: parameters room (i32), vbase (f64), ctx (i32); then these.
const ROOM = 0, VBASE = 1, CTX = 2;
const N = 3, R = 4, O = 5, TI = 6, INV = 7, F = 8, VA = 9, T1 = 10, T2 = 11, T3 = 12, T4 = 13, T5 = 14, T6 = 15, VB = 16;
const FIRST_REG = 17;
const M32 = 0xffffffffn;

/** The function body being emitted, with its labels (for branch depths). */
class Body {
  readonly code: number[] = [];
  private readonly labels: string[] = [];
  op(...bytes: number[]): this { this.code.push(...bytes); return this; }
  get(l: number): this { this.code.push(0x20); uleb(this.code, l); return this; }
  set(l: number): this { this.code.push(0x21); uleb(this.code, l); return this; }
  tee(l: number): this { this.code.push(0x22); uleb(this.code, l); return this; }
  i32(v: number): this { this.code.push(0x41); sleb(this.code, BigInt(v | 0)); return this; }
  i64(v: bigint): this { this.code.push(0x42); sleb(this.code, BigInt.asIntN(64, v)); return this; }
  f64(v: number): this { this.code.push(0x44); const b = new Uint8Array(new Float64Array([v]).buffer); this.code.push(...b); return this; }
  /** A load or store opcode with its memarg (alignment hint 0: guest accesses may be unaligned). */
  mem(opcode: number, offset: number): this { this.code.push(opcode, 0); uleb(this.code, offset); return this; }
  call(f: number): this { this.code.push(0x10); uleb(this.code, f); return this; }
  open(kind: 0x02 | 0x03 | 0x04, label: string, type = VOID): this { this.code.push(kind, type); this.labels.push(label); return this; }
  else(): this { this.code.push(0x05); return this; }
  end(): this { this.code.push(0x0b); this.labels.pop(); return this; }
  br(label: string): this {
    const i = this.labels.lastIndexOf(label);
    if (i < 0) throw new Error(`wasm-gen: no label ${label}`);
    this.code.push(0x0c); uleb(this.code, this.labels.length - 1 - i); return this;
  }
}

/**
 * Generates the module for `planned` (a plan from translate.ts planBlock); null when its first instruction is not
 * one this generator does.
 */
export function generateWasmBlock(planned: Insn[], layout: WasmLayout, id: number): WasmBlockCode | null {
  let cut = planned.findIndex((x) => !supported(x.insn));
  if (cut < 0) cut = planned.length;
  if (cut === 0) return null;
  return new WasmGen(planned.slice(0, cut), layout, id).generate();
}

/** Whether the generator does the first instruction of this plan (else the block is the JavaScript generator's). */
export function wasmStarts(planned: readonly Insn[]): boolean {
  return planned.length > 0 && supported(planned[0]!.insn);
}

/**
 * The runtime module, one per translator: it imports the JavaScript helpers once (V8 compiles a wrapper for each
 * function a module imports from JavaScript, ~150 us apiece: per block that would cost more than the block) and
 * re-exports them as wasm functions, which blocks import without wrappers; and it owns the table of block
 * functions, with `go(id, room, vbase, ctx)`, the one entry JavaScript calls (so its call stays monomorphic and
 * V8's fast JS-to-wasm wrapper serves every block).
 */
export function runtimeModule(shared: boolean): Uint8Array<ArrayBuffer> {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [4];
  types.push(0x60, 3, I32, F64, I32, 1, F64); // 0 fill
  types.push(0x60, 3, I32, I32, I32, 1, I32); // 1 cs
  types.push(0x60, 3, I32, F64, I32, 1, I32); // 2 run
  types.push(0x60, 4, I32, I32, F64, I32, 1, I32); // 3 go
  section(out, 1, types);
  const imports: number[] = [3];
  name(imports, 'm'); name(imports, 'mem'); imports.push(0x02);
  if (shared) { imports.push(0x03); uleb(imports, 1); uleb(imports, 65536); } else { imports.push(0x00); uleb(imports, 1); }
  name(imports, 'm'); name(imports, 'fill'); imports.push(0x00, 0);
  name(imports, 'm'); name(imports, 'cs'); imports.push(0x00, 1);
  section(out, 2, imports);
  section(out, 3, [3, 0, 1, 3]); // functions 2 (fill), 3 (cs), 4 (go)
  const table: number[] = [1, 0x70, 0x00];
  uleb(table, 1024);
  section(out, 4, table);
  const exp: number[] = [4];
  name(exp, 'fill'); exp.push(0x00, 2);
  name(exp, 'cs'); exp.push(0x00, 3);
  name(exp, 'go'); exp.push(0x00, 4);
  name(exp, 'tbl'); exp.push(0x01, 0);
  section(out, 7, exp);
  const code: number[] = [3];
  const fns = [
    [0, 0x20, 0, 0x20, 1, 0x20, 2, 0x10, 0, 0x0b],
    [0, 0x20, 0, 0x20, 1, 0x20, 2, 0x10, 1, 0x0b],
    [0, 0x20, 1, 0x20, 2, 0x20, 3, 0x20, 0, 0x11, 2, 0x00, 0x0b], // call_indirect (type 2) table 0
  ];
  for (const f of fns) { uleb(code, f.length); code.push(...f); }
  section(out, 10, code);
  return Uint8Array.from(out);
}

class WasmGen {
  readonly exits: number[] = [];
  readonly table: [number, number, number][] = [];
  private readonly regLocal = new Map<number, number>();
  private readonly written = new Set<number>();
  private readonly start: number;
  private readonly loops: boolean;
  private readonly b = new Body();

  constructor(private readonly insns: Insn[], private readonly L: WasmLayout, private readonly id: number) {
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
    // after x: registers back, the loop count out, the exit row (or -1: computed) returned
    for (const r of [...this.written].sort((a, c) => a - c)) body.i32(0).get(this.regLocal.get(r)!).mem(0x37, this.L.regs + 8 * r);
    body.i32(0).get(N).mem(0x36, this.L.scratch);
    body.get(R);
    return {
      bytes: this.module(), insns, exits: this.exits,
      en: this.table.map((r) => r[0]), eo: this.table.map((r) => r[1]), es: this.table.map((r) => r[2]),
    };
  }

  private module(): Uint8Array<ArrayBuffer> {
    const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const types: number[] = [];
    uleb(types, 3);
    types.push(0x60, 3, I32, F64, I32, 1, F64); // fill(kind, va, size) -> RAM offset or -1
    types.push(0x60, 3, I32, I32, I32, 1, I32); // cs(offset, size, block id) -> 1 if that block was dropped
    types.push(0x60, 3, I32, F64, I32, 1, I32); // run(room, vbase, ctx) -> exit row, or -1 (computed)
    section(out, 1, types);
    const imports: number[] = [];
    uleb(imports, 3);
    name(imports, 'm'); name(imports, 'mem'); imports.push(0x02);
    if (this.L.shared) { imports.push(0x03); uleb(imports, 1); uleb(imports, 65536); } else { imports.push(0x00); uleb(imports, 1); }
    name(imports, 'm'); name(imports, 'fill'); imports.push(0x00, 0);
    name(imports, 'm'); name(imports, 'cs'); imports.push(0x00, 1);
    section(out, 2, imports);
    section(out, 3, [1, 2]);
    const exp: number[] = [1];
    name(exp, 'run'); exp.push(0x00, 2);
    section(out, 7, exp);
    const fn: number[] = [];
    const nregs = this.regLocal.size;
    uleb(fn, 4);
    uleb(fn, 5); fn.push(I32); // N R O TI INV
    uleb(fn, 1); fn.push(F64); // F
    uleb(fn, 8); fn.push(I64); // VA T1..T6 VB
    uleb(fn, nregs); fn.push(I64);
    // prologue: vbase as an integer, the registers this block uses
    const pro = new Body();
    pro.get(VBASE).op(0xb0).set(VB);
    for (const [r, l] of this.regLocal) pro.i32(0).mem(0x29, this.L.regs + 8 * r).set(l);
    fn.push(...pro.code, ...this.b.code, 0x0b);
    const code: number[] = [1];
    uleb(code, fn.length);
    code.push(...fn);
    section(out, 10, code);
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
  /** Leaves after `i` instructions of this pass for page offset `to` with status `st` (a row of the exit table). */
  private out(i: number, to: number, st: number): void {
    let row = this.table.findIndex((r) => r[0] === i && r[1] === to && r[2] === st);
    if (row < 0) { row = this.table.length; this.table.push([i, to, st]); }
    this.b.i32(row).set(R).br('x');
  }
  /** A jump to fixed page offset `to` after `i` instructions: a numbered exit, or the loop's back edge. */
  private jump(i: number, to: number): void {
    if (to === this.start && this.loops) { this.b.get(N).i32(i).op(0x6a).set(N).br('loop'); return; }
    let e = this.exits.indexOf(to);
    if (e < 0) { e = this.exits.length; this.exits.push(to); }
    this.out(i, to, e);
  }
  private nextOff(i: number): number { const x = this.insns[i]!; return x.off + x.len; }

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
      case 25: { // JALR: t = rs1 + imm with bit 0 cleared, as the interpreter's doubles compute it; off = t - vbase
        const imm = insn >> 20;
        // hi * 2^32 + (lo >>> 0) + imm - ((lo + imm) & 1), each step a double operation
        this.rd(rs1); b.i64(32n).op(0x87).op(0xa7).op(0xb7).f64(4294967296).op(0xa2); // f64(hi) * 2^32
        this.rd(rs1); b.op(0xa7).op(0xb8).op(0xa0); // + f64(lo >>> 0)
        b.f64(imm).op(0xa0); // + imm
        this.rd(rs1); b.op(0xa7).i32(imm).op(0x6a).i32(1).op(0x71).op(0xb7).op(0xa1); // - ((lo + imm) & 1)
        b.get(VBASE).op(0xa1).set(F); // off = t - vbase
        if (rd !== 0) { b.get(VB).i64(BigInt(off + len)).op(0x7c); this.wr(rd); }
        b.i32(0).get(F).mem(0x39, this.L.scratch + 8);
        b.get(N).i32(i + 1).op(0x6a).set(N).i32(-1).set(R).br('x');
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

  /** Leaves `o` = the RAM offset of the access of `size` bytes at rs1 + imm (TLB, else the walk), or exits MISS. */
  private addr(i: number, rs1: number, imm: number, size: number, store: boolean): void {
    const b = this.b, L = this.L, off = this.insns[i]!.off;
    const tag = L.tlb + (store ? 2 : 0) * TLB_ENTRIES * 8, ramOff = tag + TLB_ENTRIES * 8;
    this.rd(rs1); b.i64(BigInt(imm)).op(0x7c).set(VA);
    b.get(VA).i64(12n).op(0x87).set(T1); // page
    b.get(CTX).get(T1).op(0xa7).i32(TLB_SETS - 1).op(0x71).op(0x6a).i32(3).op(0x74).set(TI); // entry * 8
    // hit: the tag is the page and the access stays in it
    b.get(TI).mem(0x2b, tag).get(T1).op(0xb9).op(0x61);
    b.get(VA).op(0xa7).i32(PAGE - 1).op(0x71).i32(PAGE - size).op(0x4d).op(0x71);
    b.open(0x04, 'if');
    b.get(TI).mem(0x2b, ramOff).op(0xab).get(VA).op(0xa7).i32(PAGE - 1).op(0x71).op(0x6a).set(O);
    b.else();
    b.i32(store ? 1 : 0).get(VA).op(0xb9).i32(size).call(0).tee(F).f64(0).op(0x63).open(0x04, 'if');
    this.out(i, off, MISS);
    b.end();
    b.get(F).op(0xab).set(O);
    b.end();
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
    // A store into a page holding decoded code drops what it overlaps first (decode-cache.ts); if that was this
    // block, it leaves after the store.
    b.get(O).i32(12).op(0x76).mem(0x2d, this.L.marks).open(0x04, 'if', I32);
    b.get(O).i32(size).i32(this.id).call(1);
    b.else().i32(0).end().set(INV);
    b.get(O); this.rd(rs2); b.mem([0x3c, 0x3d, 0x3e, 0x37][f3]!, 0);
    b.get(INV).open(0x04, 'if');
    this.out(i + 1, this.nextOff(i), ATTN);
    b.end();
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
  private mulhu(): void {
    const b = this.b, lo = (l: number): void => { b.get(l).i64(M32).op(0x83); }, hi = (l: number): void => { b.get(l).i64(32n).op(0x88); };
    lo(T1); lo(T2); b.op(0x7e).set(T3); // p0 = al * bl
    lo(T1); hi(T2); b.op(0x7e).set(T4); // p1 = al * bh
    hi(T1); lo(T2); b.op(0x7e).set(T6); // p2 = ah * bl
    hi(T1); hi(T2); b.op(0x7e).set(T5); // p3 = ah * bh
    hi(T3); lo(T4); b.op(0x7c); lo(T6); b.op(0x7c).set(T3); // mid = (p0 >> 32) + lo(p1) + lo(p2)
    b.get(T5); hi(T4); b.op(0x7c); hi(T6); b.op(0x7c); hi(T3); b.op(0x7c).set(T5);
  }

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

