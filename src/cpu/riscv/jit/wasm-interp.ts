// The interpreter's fast tier in WebAssembly (--cpu jit): one wasm loop that fetches, decodes and executes the
// common instructions -- RV64I, M, A (LR/SC and the AMOs) and their compressed forms, loads and stores that hit the
// TLB -- straight from guest RAM, with the registers, TLB and LR/SC reservation where the hart keeps them (RAM's VMM
// area, guest-memory.ts). A Linux
// boot is flat (no function holds more than ~6 % of it), so most of its code never gets hot enough to pay for a
// translation; this tier runs that lukewarm code at native speed from its first instruction, without the
// JavaScript interpreter loop's warm-up (V8 re-optimizes a loop that big a dozen times while it learns its types).
//
// It stops *before* anything else and returns to the JavaScript loop (hart.ts), which does that one instruction
// with all its rules and calls back in: CSR and SYSTEM instructions (but CSRRS/CSRRC(I) of sstatus that change
// nothing but SIE, Linux's interrupt save/disable/restore: after one that sets SIE while a supervisor interrupt is
// pending it returns, for the loop to take it), F/D, FENCE.I, illegal encodings, a TLB miss
// (a fetch, load or store the hart's TLB does not hold, MMIO, an access or instruction crossing a page), a store or
// AMO into a line of RAM holding decoded code, a misaligned AMO, a computed jump the interpreter's doubles would round. Nothing it does
// can raise an exception or enable an interrupt without returning, so the loop's interrupt, timer and slice checks
// stay where they were: it runs at most `room` instructions, the loop's distance to its next check that could change something
// (timer checks that would not are skipped, unobservably). Every SAMPLE_EVERY instructions it runs itself (counted
// across calls) it returns at a jump target for the translator to sample the pc, which the skipped checks would have done.
//
// Instructions are read from RAM at each execution (no decode cache): a store into code is seen at the next fetch,
// as the interpreter sees it; code written behind the hart's back (DMA, another hart) is seen at once, where the
// interpreter's decoded-instruction cache sees it after FENCE.I (Zifencei allows both).
//
// Translated blocks (wasm-gen.ts) are entered from here: at every instruction of a page the translator has made
// blocks in (a byte per RAM page; no block starts anywhere else), the tier looks the RAM address up in the
// translator's block cache and, when a live wasm block starts there, hands it to the runtime module's `go` (which
// runs it and the blocks it chains to, within `room`) and carries on where `go` stopped; at a JavaScript block it
// stops, and the interpreter enters that through its marker. The interpreter loop itself is a function of its own
// (inner) that returns to run() for `go`: a call inside the loop would make V8 keep the loop's state on the stack.

import { Body, CACHE_SLOTS, F64, HOT, I32, I64, LINE_SHIFT, S_N, S_OFF, S_PC, S_VBASE, codeSectionOf, emitMulhu, memoryImport, name, section } from './wasm-gen.js';
import { DYN } from './translate.js';
import { TLB_SETS, tlbRecords } from '../tlb.js';
import { RVC_TABLE } from '../rvc.js';
import { ACC_FETCH, ACC_LOAD, ACC_STORE, MSTATUS_FS, MSTATUS_SIE, SSTATUS_WRITABLE } from '../csr-defs.js';

/**
 * run()'s results: the room is used up; the instruction at the returned pc is the JavaScript loop's; the tier has
 * run SAMPLE_EVERY instructions itself since its last sample (blocks not counted) and the translator may sample
 * the pc to find hot code.
 */
export const WI_BUDGET = 0, WI_EXIT = 1, WI_SAMPLE = 2;
/**
 * run()'s result after a CSR instruction that set sstatus.SIE while a supervisor interrupt is pending: the
 * instruction has retired (the loop takes the new mstatus from the scratch, which raises its attention).
 */
export const WI_IRQ = 3;
/** run()'s result when blocks keep stopping at the returned pc, in their page, for want of a block there (wasm-gen.ts HOT). */
export const WI_HOT = 4;
/**
 * run()'s result at a block a FENCE.I-style wipe made stale (the block cache still names it, its validity byte is
 * 0): the instruction at the returned pc is the JavaScript loop's, which first has the translator compare the
 * block with its bytes (BlockTranslator.hotTarget), so that a hot block runs again after a wipe rather than only
 * when samples find it anew. A block that fails the comparison is dropped, which empties its cache slot.
 */
export const WI_STALE = 5;
/**
 * Instructions the tier runs itself between samples, counted across calls (the interpreter's timer check samples
 * every 1024, so a tier sample weighs four: engine.ts TIER_SAMPLE_WEIGHT).
 */
export const SAMPLE_EVERY = 4096;
/**
 * Bytes of scratch run() reports in: instructions retired (i32 at 0), the next pc (f64 at 8); and counts the
 * translator takes now and then (Jit.stats): instructions retired in translated blocks (i32 at 4) and by the tier
 * itself (i32 at 16). The loop passes mstatus (i32 at 20, which the tier's sstatus instructions update) and the
 * privilege (i32 at 24) in it, and whether a supervisor interrupt is pending and enabled in mie (i32 at 32); the
 * tier keeps its count towards the next sample at 28.
 */
export const WI_SCRATCH_BYTES = 64;
/** Where inner() reports its next pc (i64), and the id and page base (f64) of the block it stopped at (WI_BLOCK). */
const WI_INNER_PC = 40, WI_BLOCK_ID = 48, WI_VBASE = 56;
/** inner()'s result at a live wasm block, which run() enters (never returned to JavaScript). */
const WI_BLOCK = 6;
/** Where the loop passes mstatus and the privilege level in the scratch (int32 indexes). */
export const WI_MSTATUS = 5, WI_PRIV = 6;
/** Where the loop passes whether mip & mie & mideleg is nonzero (int32 index). */
export const WI_SIRQ = 8;
/** Where the tier keeps the instructions it did itself since its last sample, across calls (int32 index). */
const WI_SINCE = 7;

/** Where the hart's state sits in the wasm memory (byte offsets). */
export interface WasmInterpLayout {
  regs: number;
  tlb: number;
  /** The decoded-code line marks (decode-cache.ts lineMarks). */
  lineMarks: number;
  scratch: number;
  /** RVC_TABLE (65536 int32 words). */
  rvc: number;
  /** The hart's LR/SC reservation (hart.ts resv). */
  resv: number;
  /** The block translator's scratch, validity bytes and block cache (wasm-gen.ts WasmLayout). */
  blockScratch: number;
  valid: number;
  cache: number;
  /** One byte per RAM page: nonzero once the translator has made a block there. */
  blockPages: number;
  shared: boolean;
}

/** The interpreter tier of one hart: `run(room, pc, fetchCtx, ldCtx)` and where it reports. */
export interface WasmInterp {
  run: (room: number, pc: number, fetchCtx: number, ldCtx: number) => number;
  /**
   * Scratch: [0] instructions retired; cumulative until the translator takes them, [1] instructions run in
   * translated blocks and [4] by the tier, [WI_MSTATUS] mstatus and [WI_PRIV] the privilege (int32); as doubles,
   * [1] the next pc.
   */
  s32: Int32Array;
  s64: Float64Array;
}

const PAGE = 4096;
const TWO53 = 1n << 53n;

/**
 * Builds the tier for a hart whose state is in `mem` at `at` (registers, TLB, code line marks, LR/SC reservation; the translator's scratch,
 * validity bytes and block cache) and the translator's runtime `go` (wasm-gen.ts); allocates its scratch and RVC table
 * with `alloc`.
 */
export function makeWasmInterp(mem: WebAssembly.Memory, go: WebAssembly.ExportValue,
  at: { regs: number; tlb: number; lineMarks: number; resv: number; blockScratch: number; valid: number; cache: number; blockPages: number },
  alloc: (bytes: number) => number): WasmInterp {
  const scratch = alloc(WI_SCRATCH_BYTES), rvc = alloc(RVC_TABLE.byteLength);
  new Int32Array(mem.buffer, rvc, RVC_TABLE.length).set(RVC_TABLE);
  const L: WasmInterpLayout = { ...at, scratch, rvc, shared: mem.buffer instanceof SharedArrayBuffer };
  const inst = new WebAssembly.Instance(new WebAssembly.Module(interpModule(L)), { m: { mem, go } });
  return {
    run: inst.exports['run'] as WasmInterp['run'],
    s32: new Int32Array(mem.buffer, scratch, WI_SCRATCH_BYTES / 4),
    s64: new Float64Array(mem.buffer, scratch, WI_SCRATCH_BYTES / 8),
  };
}

// Locals. inner(): parameters room (i32), pc (i64), fetch ctx, load/store ctx (i32 TLB entry indexes), and JMP
// (i32): 2 when a block that ran nothing for want of room starts at pc (not to be looked up again there), else 0.
const ROOM = 0, PC0 = 1, FCTX = 2, LCTX = 3, JMP = 4;
const N = 5, FRAM = 6, PO = 7, INSN = 8, LEN = 9, F3 = 10, TI = 11, O = 12, ST = 13, H = 14, W1 = 15, W2 = 16, SINCE = 17, HFRAM = 18;
const I32_LOCALS = 14;
const PC = 19, FBASE = 20, A = 21, B = 22, VA = 23, T1 = 24, T2 = 25, T3 = 26, T5 = 27, HBASE = 28;
const I64_LOCALS = 10;
// run(): parameters room (i32), pc (f64), fetch ctx, load/store ctx; then these.
const R_TOT = 4, R_ST = 5, R_JMP = 6, R_S = 7, R_K = 8;
const R_PC = 9;
const R_TF = 10;

/** The major opcodes (bits [6:2]) this tier executes; every other one exits. */
const CASES = [0, 3, 4, 5, 6, 8, 11, 12, 13, 14, 24, 25, 27, 28] as const;
/** The same, in the order the dispatch compares them: most frequent in a Linux boot first. */
const BY_FREQUENCY = [4, 0, 8, 12, 24, 27, 6, 25, 5, 13, 14, 28, 11, 3] as const;

/** The module: imports the memory and the translator's `go`, exports run(). */
export function interpModule(L: WasmInterpLayout): Uint8Array<ArrayBuffer> {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  // type 0: run(room, pc, fetch ctx, ld ctx) -> status; type 1: the runtime's go(id, room, vbase, fetch ctx, ctx) ->
  // status; type 2: inner(room, pc, fetch ctx, ld ctx, jmp) -> status
  section(out, 1, [3, 0x60, 4, I32, F64, I32, I32, 1, I32, 0x60, 5, I32, I32, F64, I32, I32, 1, I32,
    0x60, 5, I32, I64, I32, I32, I32, 1, I32]);
  const imports: number[] = [2];
  memoryImport(imports, L.shared);
  name(imports, 'm'); name(imports, 'go'); imports.push(0x00, 1); // function 0
  section(out, 2, imports);
  section(out, 3, [2, 0, 2]); // function 1: run, function 2: inner
  const exp: number[] = [1];
  name(exp, 'run'); exp.push(0x00, 1);
  section(out, 7, exp);
  const run = new Body(), inner = new Body();
  emitRun(run, L);
  emitInner(inner, L);
  codeSectionOf(out, [
    { locals: [[5, I32], [1, I64], [1, F64]], body: run.code },
    { locals: [[I32_LOCALS, I32], [I64_LOCALS, I64]], body: inner.code },
  ]);
  return Uint8Array.from(out);
}

/**
 * run(): calls inner() for the instructions up to the next block, runs that block and the blocks it chains to
 * through the runtime's `go`, and so on, within the room. Kept apart from inner() so that the interpreter's loop
 * holds no call: V8 then keeps its state in registers instead of spilling it around the call on every instruction.
 */
function emitRun(b: Body, L: WasmInterpLayout): void {
  const S = L.scratch;
  b.i32(WI_EXIT).set(R_ST);
  b.open(0x02, 'out');
  // A pc the interpreter holds inexactly (|pc| >= 2^53) cannot be fetched: leave it to the interpreter.
  b.get(PC0).op(0x99).f64(2 ** 53).op(0x63).op(0x45).open(0x04, 'if').get(PC0).set(R_TF).br('out').end();
  b.get(PC0).op(0xb0).set(R_PC);
  b.open(0x03, 'L');
  b.get(ROOM).get(R_TOT).op(0x6b).get(R_PC).get(FCTX).get(LCTX).get(R_JMP).op(0x10, 2).set(R_ST);
  b.get(R_TOT).i32(0).mem(0x28, S).op(0x6a).set(R_TOT);
  b.i32(0).mem(0x29, S + WI_INNER_PC).set(R_PC);
  b.get(R_PC).op(0xb9).set(R_TF);
  b.get(R_ST).i32(WI_BLOCK).op(0x47).brIf('out');
  // go: the block and the blocks it chains to
  b.i32(0).mem(0x28, S + WI_BLOCK_ID).get(ROOM).get(R_TOT).op(0x6b).i32(0).mem(0x2b, S + WI_VBASE).get(FCTX).get(LCTX).op(0x10, 0).set(R_S);
  b.i32(0).mem(0x28, L.blockScratch + S_N).tee(R_K).get(R_TOT).op(0x6a).set(R_TOT);
  b.i32(0).i32(0).mem(0x28, S + 4).get(R_K).op(0x6a).mem(0x36, S + 4);
  b.i32(0).i32(2).get(R_K).op(0x1b).set(R_JMP); // after a block that ran nothing (its first segment did not fit), interpret
  b.i32(WI_EXIT).set(R_ST);
  b.get(R_S).i32(DYN).op(0x46).open(0x04, 'if');
  // a computed target the interpreter holds as a rounded double: return it as it is
  b.i32(0).mem(0x2b, L.blockScratch + S_PC).tee(R_TF).op(0x99).f64(2 ** 53).op(0x63).op(0x45).brIf('out');
  b.get(R_TF).op(0xb0).set(R_PC);
  b.else();
  b.i32(0).mem(0x2b, L.blockScratch + S_VBASE).i32(0).mem(0x2b, L.blockScratch + S_OFF).op(0xa0).tee(R_TF).op(0xb0).set(R_PC);
  b.end();
  b.get(R_S).i32(HOT).op(0x46).open(0x04, 'if').i32(WI_HOT).set(R_ST).br('out').end(); // for the translator
  b.br('L');
  b.end(); // L
  b.end(); // out
  b.i32(0).get(R_TOT).mem(0x36, S);
  b.i32(0).get(R_TF).mem(0x39, S + 8);
  b.i32(0).i64(0n).mem(0x37, L.regs);
  b.get(R_ST);
}

/**
 * inner(): the interpreter. Runs from pc until the room is used up, an instruction it leaves to the JavaScript loop,
 * a sample, or a live wasm block (WI_BLOCK: its id and page's virtual base in the scratch, for run()); reports the
 * instructions it ran at scratch[0] and the next pc at WI_INNER_PC.
 */
function emitInner(b: Body, L: WasmInterpLayout): void {
  const regs = L.regs;
  // the TLB's records (tlb.ts TLB_REC: an int64 tag, then the RAM offset as an int32), indexed by entry * 16
  const ldRec = L.tlb + tlbRecords(ACC_LOAD), stRec = L.tlb + tlbRecords(ACC_STORE), fcRec = L.tlb + tlbRecords(ACC_FETCH);
  // Register operands: byte offsets of x[rs1], x[rs2], x[rd] from the instruction word.
  const rs1 = (): void => { b.get(INSN).i32(12).op(0x76).i32(0xf8).op(0x71).mem(0x29, regs); };
  const rs2 = (): void => { b.get(INSN).i32(17).op(0x76).i32(0xf8).op(0x71).mem(0x29, regs); };
  const rdAt = (): void => { b.get(INSN).i32(4).op(0x76).i32(0xf8).op(0x71); };
  const toRd = (): void => { b.mem(0x37, regs); }; // i64.store at rdAt's address of the value pushed after it
  const immI = (): void => { b.get(INSN).i32(20).op(0x75); }; // i32
  const immI64 = (): void => { immI(); b.op(0xac); };
  const f3 = (): void => { b.get(INSN).i32(12).op(0x76).i32(7).op(0x71).set(F3); };
  const f7 = (): void => { b.get(INSN).i32(25).op(0x76); };

  /** Adds the instructions the tier did itself in this call to its count. */
  const tierCount = (): void => { b.i32(0).i32(0).mem(0x28, L.scratch + 16).get(N).op(0x6a).mem(0x36, L.scratch + 16); };
  /** Keeps the instructions the tier did itself since its last sample, for the next call (0 after a sample). */
  const sinceSave = (): void => {
    b.i32(0).i32(0).get(SINCE).get(N).op(0x6a).get(ST).i32(WI_SAMPLE).op(0x46).op(0x1b).mem(0x36, L.scratch + 4 * WI_SINCE);
  };

  b.i32(WI_EXIT).set(ST);
  b.i32(0).mem(0x28, L.scratch + 4 * WI_SINCE).set(SINCE);
  b.open(0x02, 'out');
  b.get(PC0).set(PC);
  b.i64(0x7ffffffffffff001n).set(FBASE); // no page: the first fetch looks its page up
  b.i64(0x7ffffffffffff001n).set(HBASE); // nor a page with blocks
  b.open(0x03, 'L');
  b.open(0x02, 'ex');
  // the room is used up
  b.get(N).get(ROOM).op(0x4e).open(0x04, 'if').i32(WI_BUDGET).set(ST).br('out').end();
  b.i32(0).i64(0n).mem(0x37, regs); // x0 reads as 0
  // fetch: the page through the fetch TLB when pc leaves the current one. In a page the translator has made blocks in, every instruction comes this way (the fetch page is not kept), and
  // a translated block that starts there runs instead (JMP 2: not at the first instruction, where a block that ran
  // nothing for want of room stopped). Elsewhere no block starts, and the loop does not look.
  b.open(0x02, 'paged');
  b.get(PC).get(FBASE).op(0x7d).tee(T1).i64(BigInt(PAGE - 2)).op(0x58).open(0x04, 'if');
  b.get(T1).op(0xa7).set(PO).br('paged');
  b.end();
  // the last page with blocks, or the page through the fetch TLB
  b.get(PC).get(HBASE).op(0x7d).tee(T1).i64(BigInt(PAGE - 2)).op(0x58).open(0x04, 'if');
  b.get(T1).op(0xa7).set(PO).get(HFRAM).set(FRAM).get(HBASE).set(T2);
  b.else();
  b.get(PC).i64(12n).op(0x87).set(T1); // vpn
  b.get(FCTX).get(T1).op(0xa7).i32(TLB_SETS - 1).op(0x71).op(0x6a).i32(4).op(0x74).set(TI);
  b.get(TI).mem(0x29, fcRec).get(T1).op(0x52).brIf('ex');
  b.get(T1).i64(12n).op(0x86).set(T2);
  b.get(PC).get(T2).op(0x7d).op(0xa7).set(PO);
  b.get(TI).mem(0x28, fcRec + 8).tee(FRAM).i32(12).op(0x76).mem(0x2d, L.blockPages).op(0x45).open(0x04, 'if');
  b.get(T2).set(FBASE).br('paged');
  b.end();
  b.get(T2).set(HBASE).get(FRAM).set(HFRAM);
  b.end();
  b.i64(0x7ffffffffffff001n).set(FBASE); // (FRAM is this page's now)
  b.get(JMP).i32(2).op(0x47).open(0x04, 'if');
  b.get(FRAM).get(PO).op(0x6a).tee(W1).i32(1).op(0x76).i32(CACHE_SLOTS - 1).op(0x71).i32(3).op(0x74).tee(TI);
  b.mem(0x28, L.cache).get(W1).i32(1).op(0x6a).op(0x46).open(0x04, 'if');
  b.get(TI).mem(0x28, L.cache + 4).tee(W2).mem(0x2d, L.valid).tee(W1).i32(2).op(0x46).brIf('ex'); // a JavaScript block: the interpreter enters it
  b.get(W1).open(0x04, 'if'); // a live wasm block: run() enters it
  b.i32(0).get(W2).mem(0x36, L.scratch + WI_BLOCK_ID).i32(0).get(T2).op(0xb9).mem(0x39, L.scratch + WI_VBASE);
  b.i32(WI_BLOCK).set(ST).br('out');
  b.else().i32(WI_STALE).set(ST).br('out'); // a block stale after a wipe: the loop has it verified
  b.end().end();
  b.else().i32(0).set(JMP);
  b.end();
  b.end(); // paged
  b.get(FRAM).get(PO).op(0x6a).mem(0x2f, 0).tee(H).i32(3).op(0x71).i32(3).op(0x46).open(0x04, 'if');
  b.get(PO).i32(PAGE - 4).op(0x4b).brIf('ex'); // a 32-bit instruction crossing the page
  b.get(FRAM).get(PO).op(0x6a).mem(0x28, 0).set(INSN).i32(4).set(LEN);
  b.else();
  b.get(H).i32(2).op(0x74).mem(0x28, L.rvc).tee(INSN).op(0x45).brIf('ex'); // reserved compressed encoding
  b.i32(2).set(LEN);
  b.end();

  b.open(0x02, 'taken'); // pc is set: count the instruction
  b.open(0x02, 'seq'); // pc advances by the instruction's length
  for (let i = CASES.length - 1; i >= 0; i--) b.open(0x02, `c${CASES[i]}`);
  b.get(INSN).i32(2).op(0x76).i32(31).op(0x71).set(H);
  for (const op of BY_FREQUENCY) { if (op === 0) b.get(H).op(0x45).brIf(`c${op}`); else b.get(H).i32(op).op(0x46).brIf(`c${op}`); }
  b.br('ex');
  for (const op of CASES) {
    b.end(); // the code of case `op` follows its block
    switch (op) {
      case 0: { // LOAD
        f3();
        addr(b, ldRec, () => { rs1(); immI64(); });
        const kinds = ['l0', 'l1', 'l2', 'l3', 'l4', 'l5', 'l6'];
        b.open(0x02, 'ldone');
        for (let k = kinds.length - 1; k >= 0; k--) b.open(0x02, kinds[k]!);
        dispatchF3(kinds, 'ex', [3, 2, 4, 5, 0, 6, 1]);
        const ops = [0x30, 0x32, 0x34, 0x29, 0x31, 0x33, 0x35]; // i64.load8_s 16_s 32_s load 8_u 16_u 32_u
        for (let k = 0; k < kinds.length; k++) {
          b.end();
          rdAt(); b.get(O).mem(ops[k]!, 0); toRd(); b.br('ldone');
        }
        b.end();
        b.br('seq');
        break;
      }
      case 8: { // STORE
        f3();
        b.get(F3).i32(3).op(0x4b).brIf('ex');
        addr(b, stRec, () => {
          rs1(); b.get(INSN).i32(20).op(0x75).i32(-32).op(0x71).get(INSN).i32(7).op(0x76).i32(31).op(0x71).op(0x72).op(0xac);
        });
        // A store into a line holding decoded code is the interpreter's (it drops what the store overlaps).
        b.get(O).i32(LINE_SHIFT).op(0x76).mem(0x2d, L.lineMarks);
        b.get(O).i32(1).get(F3).op(0x74).op(0x6a).i32(1).op(0x6b).i32(LINE_SHIFT).op(0x76).mem(0x2d, L.lineMarks).op(0x72).brIf('ex');
        const kinds = ['s0', 's1', 's2', 's3'];
        b.open(0x02, 'sdone');
        for (let k = kinds.length - 1; k >= 0; k--) b.open(0x02, kinds[k]!);
        dispatchF3(kinds, 'ex', [3, 2, 0, 1]);
        const ops = [0x3c, 0x3d, 0x3e, 0x37];
        for (let k = 0; k < kinds.length; k++) {
          b.end();
          b.get(O); rs2(); b.mem(ops[k]!, 0); b.br('sdone');
        }
        b.end();
        b.br('seq');
        break;
      }
      case 11: { // AMO (unprivileged spec §8; amo.ts): LR, SC and the AMOs on words and doublewords
        f3();
        b.get(F3).i32(2).op(0x6b).i32(1).op(0x4b).brIf('ex'); // neither .W nor .D
        rs1(); b.set(VA);
        b.get(VA).op(0xa7).i32(1).get(F3).op(0x74).i32(1).op(0x6b).op(0x71).brIf('ex'); // misaligned: the interpreter faults
        b.get(INSN).i32(27).op(0x76).set(H); // funct5
        const value = (): void => { // the old value at O, sign-extended for a word
          b.get(F3).i32(2).op(0x46).open(0x04, 'if', I64).get(O).mem(0x34, 0).else().get(O).mem(0x29, 0).end();
        };
        const hiWord = (): void => { // the old value's high word, as amo.ts keeps it
          b.get(F3).i32(2).op(0x46).open(0x04, 'if', I32).get(O).mem(0x28, 0).i32(31).op(0x75).else().get(O).mem(0x28, 4).end();
        };
        const R = L.resv;
        b.get(H).i32(2).op(0x46).open(0x04, 'if'); // LR
        b.get(INSN).i32(20).op(0x76).i32(31).op(0x71).brIf('ex'); // rs2 must be 0
        addr(b, ldRec, null);
        rdAt(); value(); toRd();
        b.i32(0).i32(1).mem(0x36, R).i32(0).get(O).mem(0x36, R + 4).i32(0).i32(1).get(F3).op(0x74).mem(0x36, R + 8);
        b.i32(0).get(O).mem(0x28, 0).mem(0x36, R + 12).i32(0); hiWord(); b.mem(0x36, R + 16);
        b.br('seq');
        b.end();
        b.get(H).i32(3).op(0x71).i32(2).op(0x46).brIf('ex'); // reserved funct5
        // the page must be in the TLB for stores and loads alike (amo.ts amoOff), and hold no decoded code
        addr(b, stRec, null); b.get(O).set(W2);
        addr(b, ldRec, null); b.get(O).get(W2).op(0x47).brIf('ex');
        b.get(O).i32(LINE_SHIFT).op(0x76).mem(0x2d, L.lineMarks).brIf('ex'); // (aligned: in one line)
        value(); b.set(A);
        rs2(); b.set(B);
        b.get(F3).i32(2).op(0x46).open(0x04, 'if').get(B).op(0xc4).set(B).end(); // a word operand: its low 32 bits
        const store = (v: () => void): void => {
          b.get(F3).i32(2).op(0x46).open(0x04, 'if').get(O); v(); b.mem(0x3e, 0).else().get(O); v(); b.mem(0x37, 0).end();
        };
        b.get(H).i32(3).op(0x46).open(0x04, 'if'); // SC: the reservation must name this place, size and value
        b.i32(0).mem(0x28, R).i32(0).op(0x47);
        b.i32(0).mem(0x28, R + 4).get(O).op(0x46).op(0x71);
        b.i32(0).mem(0x28, R + 8).i32(1).get(F3).op(0x74).op(0x46).op(0x71);
        b.i32(0).mem(0x28, R + 12).get(O).mem(0x28, 0).op(0x46).op(0x71);
        b.i32(0).mem(0x28, R + 16); hiWord(); b.op(0x46).op(0x71).set(W1);
        b.i32(0).i32(0).mem(0x36, R);
        b.get(W1).open(0x04, 'if'); store(() => b.get(B)); b.end();
        rdAt(); b.get(W1).op(0x45).op(0xad); toRd();
        b.br('seq');
        b.end();
        // the AMOs: the new value into T1, stored; rd gets the old one
        b.get(H).i32(1).op(0x46).open(0x04, 'if').get(B).set(T1).else();
        b.open(0x02, 'ad').open(0x02, 'a7').open(0x02, 'a6').open(0x02, 'a5').open(0x02, 'a4').open(0x02, 'a3').open(0x02, 'a2').open(0x02, 'a1').open(0x02, 'a0');
        b.get(H).i32(2).op(0x76).brTable(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7'], 'a7');
        b.end(); b.get(A).get(B).op(0x7c).set(T1).br('ad'); // AMOADD
        b.end(); b.get(A).get(B).op(0x85).set(T1).br('ad'); // AMOXOR
        b.end(); b.get(A).get(B).op(0x84).set(T1).br('ad'); // AMOOR
        b.end(); b.get(A).get(B).op(0x83).set(T1).br('ad'); // AMOAND
        b.end(); b.get(A).get(B).get(A).get(B).op(0x53).op(0x1b).set(T1).br('ad'); // AMOMIN
        b.end(); b.get(A).get(B).get(A).get(B).op(0x55).op(0x1b).set(T1).br('ad'); // AMOMAX
        b.end(); b.get(A).get(B).get(A).get(B).op(0x54).op(0x1b).set(T1).br('ad'); // AMOMINU
        b.end(); b.get(A).get(B).get(A).get(B).op(0x56).op(0x1b).set(T1); // AMOMAXU
        b.end();
        b.end();
        store(() => b.get(T1));
        rdAt(); b.get(A); toRd();
        b.br('seq');
        break;
      }
      case 4: { // OP-IMM
        f3(); rs1(); b.set(A); immI64(); b.set(B);
        const kinds = ['i0', 'i1', 'i2', 'i3', 'i4', 'i5', 'i6', 'i7'];
        b.open(0x02, 'idone');
        for (let k = kinds.length - 1; k >= 0; k--) b.open(0x02, kinds[k]!);
        dispatchF3(kinds, 'ex', [0, 1, 7, 5, 3, 4, 6, 2]);
        for (let k = 0; k < 8; k++) {
          b.end();
          switch (k) {
            case 1: b.get(INSN).i32(26).op(0x76).brIf('ex'); rdAt(); b.get(A).get(B).op(0x86); break; // SLLI
            case 5: // SRLI / SRAI
              b.get(INSN).i32(26).op(0x76).set(W1);
              b.get(W1).i32(0).op(0x47).get(W1).i32(0x10).op(0x47).op(0x71).brIf('ex');
              rdAt(); b.get(A).get(B).op(0x87).get(A).get(B).op(0x88).get(W1).op(0x1b);
              break;
            default: rdAt(); b.get(A).get(B).op([0x7c, 0, 0x53, 0x54, 0x85, 0, 0x84, 0x83][k]!); if (k === 2 || k === 3) b.op(0xad);
          }
          toRd(); b.br('idone');
        }
        b.end();
        b.br('seq');
        break;
      }
      case 6: { // OP-IMM-32
        f3(); rs1(); b.op(0xa7).set(W1); immI(); b.set(W2);
        b.open(0x02, 'wdone').open(0x02, 'w5').open(0x02, 'w1').open(0x02, 'w0');
        dispatchF3(['w0', 'w1', 'ex', 'ex', 'ex', 'w5'], 'ex', [0, 5, 1]);
        b.end(); rdAt(); b.get(W1).get(W2).op(0x6a).op(0xac); toRd(); b.br('wdone'); // ADDIW
        b.end(); f7(); b.brIf('ex'); rdAt(); b.get(W1).get(W2).op(0x74).op(0xac); toRd(); b.br('wdone'); // SLLIW
        b.end(); // SRLIW / SRAIW
        f7(); b.set(H);
        b.get(H).i32(0).op(0x47).get(H).i32(0x20).op(0x47).op(0x71).brIf('ex');
        rdAt(); b.get(W1).get(W2).op(0x75).get(W1).get(W2).op(0x76).get(H).op(0x1b).op(0xac); toRd();
        b.end();
        b.br('seq');
        break;
      }
      case 12: { // OP
        f3(); rs1(); b.set(A); rs2(); b.set(B);
        f7(); b.set(H);
        b.get(H).op(0x45).open(0x04, 'if'); // funct7 0: the eight ALU operations
        b.open(0x02, 'r').open(0x02, 'r7').open(0x02, 'r6').open(0x02, 'r5').open(0x02, 'r4').open(0x02, 'r3').open(0x02, 'r2').open(0x02, 'r1').open(0x02, 'r0');
        dispatchF3(['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6', 'r7'], 'r7', [0, 6, 7, 4, 3, 5, 2, 1]);
        const ops = [[0x7c], [0x86], [0x53, 0xad], [0x54, 0xad], [0x85], [0x88], [0x84], [0x83]];
        for (let k = 0; k < 8; k++) { b.end(); rdAt(); b.get(A).get(B).op(...ops[k]!); toRd(); b.br('seq'); }
        b.end();
        b.end();
        b.get(H).i32(0x20).op(0x46).open(0x04, 'if'); // SUB, SRA
        b.get(F3).op(0x45).open(0x04, 'if'); rdAt(); b.get(A).get(B).op(0x7d); toRd(); b.br('seq'); b.end();
        b.get(F3).i32(5).op(0x46).open(0x04, 'if'); rdAt(); b.get(A).get(B).op(0x87); toRd(); b.br('seq'); b.end();
        b.br('ex');
        b.end();
        b.get(H).i32(1).op(0x47).brIf('ex');
        mulDiv(b, rdAt, toRd);
        b.br('seq');
        break;
      }
      case 14: { // OP-32
        f3(); rs1(); b.op(0xa7).set(W1); rs2(); b.op(0xa7).set(W2);
        f7(); b.set(H);
        b.get(H).op(0x45).open(0x04, 'if'); // ADDW SLLW SRLW
        b.open(0x02, 'a').open(0x02, 'a5').open(0x02, 'a1').open(0x02, 'a0');
        b.get(F3).brTable(['a0', 'a1', 'ex', 'ex', 'ex', 'a5'], 'ex');
        b.end(); rdAt(); b.get(W1).get(W2).op(0x6a).op(0xac); toRd(); b.br('seq');
        b.end(); rdAt(); b.get(W1).get(W2).op(0x74).op(0xac); toRd(); b.br('seq');
        b.end(); rdAt(); b.get(W1).get(W2).op(0x76).op(0xac); toRd(); b.br('seq');
        b.end();
        b.end();
        b.get(H).i32(0x20).op(0x46).open(0x04, 'if'); // SUBW SRAW
        b.get(F3).op(0x45).open(0x04, 'if'); rdAt(); b.get(W1).get(W2).op(0x6b).op(0xac); toRd(); b.br('seq'); b.end();
        b.get(F3).i32(5).op(0x46).open(0x04, 'if'); rdAt(); b.get(W1).get(W2).op(0x75).op(0xac); toRd(); b.br('seq'); b.end();
        b.br('ex');
        b.end();
        b.get(H).i32(1).op(0x47).brIf('ex');
        mulDivW(b, rdAt, toRd);
        b.br('seq');
        break;
      }
      case 13: // LUI
        rdAt(); b.get(INSN).i32(0xfffff000).op(0x71).op(0xac); toRd();
        b.br('seq');
        break;
      case 5: // AUIPC
        rdAt(); b.get(PC).get(INSN).i32(0xfffff000).op(0x71).op(0xac).op(0x7c); toRd();
        b.br('seq');
        break;
      case 28: { // SYSTEM: CSRRS/CSRRC/CSRRSI/CSRRCI of sstatus in S or M that change nothing but SIE (csr-standard.ts)
        // Linux saves, disables and restores interrupts with these around every spinlock and more (~170 k in a boot).
        f3();
        b.get(F3).i32(2).op(0x71).op(0x45).brIf('ex'); // ECALL..., CSRRW(I): the interpreter's
        b.get(INSN).i32(20).op(0x76).i32(0x100).op(0x47).brIf('ex');
        b.i32(0).mem(0x28, L.scratch + 4 * WI_PRIV).op(0x45).brIf('ex'); // sstatus is illegal in U
        b.i32(0).mem(0x28, L.scratch + 4 * WI_MSTATUS).set(W1); // mstatus before
        b.get(INSN).i32(15).op(0x76).i32(31).op(0x71).set(H); // rs1 or uimm
        b.get(H).open(0x04, 'if', I32); // a write: the bits set or cleared (only the low 32 reach sstatus)
        b.get(F3).i32(4).op(0x71).open(0x04, 'if', I32).get(H).else(); rs1(); b.op(0xa7).end().set(W2);
        b.get(W1).get(W2).i32(-1).op(0x73).op(0x71).get(W1).get(W2).op(0x72).get(F3).i32(1).op(0x71).op(0x1b); // CSRRC(I) : CSRRS(I)
        b.i32(SSTATUS_WRITABLE).op(0x71).get(W1).i32(~SSTATUS_WRITABLE).op(0x71).op(0x72);
        b.else().get(W1).end().tee(W2);
        b.get(W1).op(0x73).i32(~MSTATUS_SIE).op(0x71).brIf('ex'); // anything but SIE changes: the interpreter's
        // rd: sstatus as it was, with UXL = 64 and SD when FS is dirty
        rdAt();
        b.get(W1).i32(SSTATUS_WRITABLE).op(0x71).op(0xad).i64(2n << 32n).op(0x84);
        b.get(W1).i32(MSTATUS_FS).op(0x71).i32(MSTATUS_FS).op(0x46).op(0xad).i64(63n).op(0x86).op(0x84);
        toRd();
        b.i32(0).get(W2).mem(0x36, L.scratch + 4 * WI_MSTATUS);
        // SIE set while a supervisor interrupt is pending: retire it and return, for the loop to take the interrupt
        // before the next instruction (nothing pending cannot change while the tier runs: lines, software bits
        // and STIP move only outside it)
        b.get(W2).get(W1).i32(-1).op(0x73).op(0x71).i32(MSTATUS_SIE).op(0x71).i32(0).op(0x47);
        b.i32(0).mem(0x28, L.scratch + 4 * WI_SIRQ).i32(0).op(0x47).op(0x71);
        b.open(0x04, 'if');
        b.get(PC).i64(4n).op(0x7c).set(PC).get(N).i32(1).op(0x6a).set(N).i32(WI_IRQ).set(ST).br('out');
        b.end();
        b.br('seq');
        break;
      }
      case 3: // MISC-MEM: FENCE is nothing (memory is sequentially consistent); FENCE.I is the interpreter's
        b.get(INSN).i32(12).op(0x76).i32(7).op(0x71).brIf('ex');
        b.br('seq');
        break;
      case 24: { // BRANCH
        f3(); rs1(); b.set(A); rs2(); b.set(B);
        b.open(0x02, 'nt').open(0x02, 'tk');
        const kinds = ['b0', 'b1', 'ex', 'ex', 'b4', 'b5', 'b6', 'b7'];
        const own = ['b0', 'b1', 'b4', 'b5', 'b6', 'b7'];
        for (let k = own.length - 1; k >= 0; k--) b.open(0x02, own[k]!);
        dispatchF3(kinds, 'ex', [0, 1, 6, 7, 5, 4]);
        const cmp = [0x51, 0x52, 0x53, 0x59, 0x54, 0x5a]; // BEQ BNE BLT BGE BLTU BGEU
        for (let k = 0; k < own.length; k++) { b.end(); b.get(A).get(B).op(cmp[k]!).brIf('tk').br('nt'); }
        b.end(); // taken
        b.get(PC).get(INSN).i32(31).op(0x75).i32(12).op(0x74)
          .get(INSN).i32(4).op(0x74).i32(0x800).op(0x71).op(0x72)
          .get(INSN).i32(20).op(0x76).i32(0x7e0).op(0x71).op(0x72)
          .get(INSN).i32(7).op(0x76).i32(0x1e).op(0x71).op(0x72).op(0xac).op(0x7c).set(PC);
        b.br('taken');
        b.end(); // not taken
        b.br('seq');
        break;
      }
      case 27: // JAL
        rdAt(); b.get(PC).get(LEN).op(0xad).op(0x7c); toRd();
        b.get(PC).get(INSN).i32(31).op(0x75).i32(20).op(0x74)
          .get(INSN).i32(0xff000).op(0x71).op(0x72)
          .get(INSN).i32(9).op(0x76).i32(0x800).op(0x71).op(0x72)
          .get(INSN).i32(20).op(0x76).i32(0x7fe).op(0x71).op(0x72).op(0xac).op(0x7c).set(PC);
        b.br('taken');
        break;
      case 25: // JALR: the interpreter computes the target in doubles, exact only while rs1 and it are below 2^53
        b.get(INSN).i32(12).op(0x76).i32(7).op(0x71).brIf('ex');
        rs1(); b.tee(A).i64(TWO53).op(0x7c).i64(2n * TWO53).op(0x5a).brIf('ex');
        b.get(A); immI64(); b.op(0x7c).i64(-2n).op(0x83).tee(T1).i64(TWO53).op(0x7c).i64(2n * TWO53).op(0x5a).brIf('ex');
        rdAt(); b.get(PC).get(LEN).op(0xad).op(0x7c); toRd();
        b.get(T1).set(PC);
        b.br('taken');
        break;
    }
  }
  b.end(); // seq
  b.get(PC).get(LEN).op(0xad).op(0x7c).set(PC);
  b.get(N).i32(1).op(0x6a).set(N);
  b.br('L');
  b.end(); // taken
  b.get(N).i32(1).op(0x6a).set(N);
  // at a jump target, now and then: a sample for the translator
  b.get(N).get(SINCE).op(0x6a).i32(SAMPLE_EVERY).op(0x4e).open(0x04, 'if').i32(WI_SAMPLE).set(ST).br('out').end();
  b.br('L');
  b.end(); // ex: the instruction at pc is the interpreter's
  b.end(); // L
  b.end(); // out
  tierCount(); sinceSave();
  b.i32(0).get(N).mem(0x36, L.scratch);
  b.i32(0).get(PC).mem(0x37, L.scratch + WI_INNER_PC);
  b.i32(0).i64(0n).mem(0x37, regs);
  b.get(ST);

  /**
   * O = the RAM offset of the access at the address `va` pushes (base and offset, added here), through the TLB records `recs` in the
   * load/store context; exits (br 'ex') on a miss or an access crossing its page. The size is 1 << (F3 & 3).
   */
  /**
   * Branches on F3 to targets[F3] (a label, 'ex' for none) with compares in `order` (most frequent first): direct
   * branches the host predicts from history, where a second br_table after the opcode's would be a second indirect
   * jump per instruction. F3 values not in `order` fall to `dflt`.
   */
  function dispatchF3(targets: readonly string[], dflt: string, order: readonly number[]): void {
    for (const k of order) {
      const t = targets[k] ?? dflt;
      if (t === dflt) continue;
      if (k === 0) b.get(F3).op(0x45).brIf(t); else b.get(F3).i32(k).op(0x46).brIf(t);
    }
    b.br(dflt);
  }

  function addr(bb: Body, recs: number, va: (() => void) | null): void {
    if (va !== null) { va(); bb.op(0x7c).set(VA); }
    bb.get(VA).i64(12n).op(0x87).set(T1); // page
    bb.get(LCTX).get(T1).op(0xa7).i32(TLB_SETS - 1).op(0x71).op(0x6a).i32(4).op(0x74).set(TI);
    bb.get(TI).mem(0x29, recs).get(T1).op(0x52).brIf('ex');
    bb.get(VA).op(0xa7).i32(PAGE - 1).op(0x71).set(W1); // page offset
    bb.get(W1).i32(PAGE).i32(1).get(F3).i32(3).op(0x71).op(0x74).op(0x6b).op(0x4b).brIf('ex'); // crosses the page
    bb.get(TI).mem(0x28, recs + 8).get(W1).op(0x6a).set(O);
  }
}

/** MUL/MULH/MULHSU/MULHU/DIV/DIVU/REM/REMU of A and B into rd (F3 selects), with RISC-V's division results. */
function mulDiv(b: Body, rdAt: () => void, toRd: () => void): void {
  b.open(0x02, 'm').open(0x02, 'm7').open(0x02, 'm6').open(0x02, 'm5').open(0x02, 'm4').open(0x02, 'mh').open(0x02, 'm0');
  b.get(F3).brTable(['m0', 'mh', 'mh', 'mh', 'm4', 'm5', 'm6', 'm7'], 'm7');
  b.end(); rdAt(); b.get(A).get(B).op(0x7e); toRd(); b.br('m');
  b.end(); // MULH (1), MULHSU (2), MULHU (3)
  emitMulhu(b, A, B, T1, T2, T5, T3);
  b.get(F3).i32(3).op(0x47).open(0x04, 'if'); // signed rs1: - (rs1 < 0 ? rs2 : 0)
  b.get(T5).get(B).i64(0n).get(A).i64(0n).op(0x53).op(0x1b).op(0x7d).set(T5);
  b.end();
  b.get(F3).i32(1).op(0x46).open(0x04, 'if'); // signed rs2 too: - (rs2 < 0 ? rs1 : 0)
  b.get(T5).get(A).i64(0n).get(B).i64(0n).op(0x53).op(0x1b).op(0x7d).set(T5);
  b.end();
  rdAt(); b.get(T5); toRd(); b.br('m');
  b.end(); // DIV
  rdAt();
  b.get(B).op(0x50).open(0x04, 'if', I64).i64(-1n).else()
    .get(A).i64(-(1n << 63n)).op(0x51).get(B).i64(-1n).op(0x51).op(0x71).open(0x04, 'if', I64).get(A).else()
    .get(A).get(B).op(0x7f).end().end();
  toRd(); b.br('m');
  b.end(); rdAt(); b.get(B).op(0x50).open(0x04, 'if', I64).i64(-1n).else().get(A).get(B).op(0x80).end(); toRd(); b.br('m'); // DIVU
  b.end(); rdAt(); b.get(B).op(0x50).open(0x04, 'if', I64).get(A).else().get(A).get(B).op(0x81).end(); toRd(); b.br('m'); // REM
  b.end(); rdAt(); b.get(B).op(0x50).open(0x04, 'if', I64).get(A).else().get(A).get(B).op(0x82).end(); toRd(); // REMU
  b.end();
}

/** MULW/DIVW/DIVUW/REMW/REMUW of W1 and W2 into rd (F3 selects; 1-3 exit). */
function mulDivW(b: Body, rdAt: () => void, toRd: () => void): void {
  b.open(0x02, 'v').open(0x02, 'v7').open(0x02, 'v6').open(0x02, 'v5').open(0x02, 'v4').open(0x02, 'v0');
  b.get(F3).brTable(['v0', 'ex', 'ex', 'ex', 'v4', 'v5', 'v6', 'v7'], 'ex');
  b.end(); rdAt(); b.get(W1).get(W2).op(0x6c).op(0xac); toRd(); b.br('v');
  b.end(); rdAt(); // DIVW
  b.get(W2).op(0x45).open(0x04, 'if', I32).i32(-1).else()
    .get(W1).i32(-2147483648).op(0x46).get(W2).i32(-1).op(0x46).op(0x71).open(0x04, 'if', I32).get(W1).else()
    .get(W1).get(W2).op(0x6d).end().end();
  b.op(0xac); toRd(); b.br('v');
  b.end(); rdAt(); b.get(W2).op(0x45).open(0x04, 'if', I32).i32(-1).else().get(W1).get(W2).op(0x6e).end(); b.op(0xac); toRd(); b.br('v');
  b.end(); rdAt(); b.get(W2).op(0x45).open(0x04, 'if', I32).get(W1).else().get(W1).get(W2).op(0x6f).end(); b.op(0xac); toRd(); b.br('v');
  b.end(); rdAt(); b.get(W2).op(0x45).open(0x04, 'if', I32).get(W1).else().get(W1).get(W2).op(0x70).end(); b.op(0xac); toRd();
  b.end();
}
