// The block translator's WebAssembly backend (jit/wasm-gen.ts): every exactness test of exactness.test.ts again
// with guest RAM as a WebAssembly memory, so every block the generator can do runs as wasm; then what is particular
// to it -- modules that validate for every instruction it covers, blocks cut before what it does not do, chaining
// inside wasm, stores into code and TLB misses left to the interpreter, and the tables it reads after a drop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
// before the modules that read it (testing/machine.ts TEST_CPU): these import statically-free below
process.env['VMIO_TEST_CPU'] = 'jit-wasm';
const A = await import('../../../src/cpu/riscv/testing/asm.js');
const { RAM_BASE } = await import('../../../src/cpu/riscv/testing/machine.js');
const { runBoth, twins } = await import('../../../src/cpu/riscv/jit/testing.js');
const { generateWasmBlock, runtimeModule } = await import('../../../src/cpu/riscv/jit/wasm-gen.js');
await import('./exactness.test.js');

const { a0, a1, a2, s0, s1, t0, t1, ra } = A.R;
const CODE = RAM_BASE + 0x1000, DATA = RAM_BASE + 0x8000;
const LAYOUT = { regs: 1 << 20, tlb: 2 << 20, lineMarks: 4 << 20, scratch: 5 << 20, valid: 6 << 20, links: 7 << 20, cache: 8 << 20, pages: 9 << 20, misses: 10 << 20, shared: false };

test('wasm: the module of every instruction the generator covers validates, and the runtime module too', () => {
  const words = [
    A.lui(a0, 0x12345), A.auipc(a0, 0x1), A.addi(a0, a1, -5), A.slti(a0, a1, 3), A.sltiu(a0, a1, 3), A.xori(a0, a1, -1),
    A.ori(a0, a1, 1), A.andi(a0, a1, 7), A.slli(a0, a1, 63), A.srli(a0, a1, 1), A.srai(a0, a1, 33), A.addiw(a0, a1, 1),
    A.slliw(a0, a1, 31), A.srliw(a0, a1, 1), A.sraiw(a0, a1, 2), A.add(a0, a1, a2), A.srl(a0, a1, a2), A.addw(a0, a1, a2),
    A.mul(a0, a1, a2), A.div(a0, a1, a2), A.mulw(a0, a1, a2), A.lb(a0, s0, 1), A.lh(a0, s0, 2), A.lw(a0, s0, 4),
    A.ld(a0, s0, 8), A.lbu(a0, s0, 1), A.lhu(a0, s0, 2), A.lwu(a0, s0, 4), A.sb(a0, s0, 1), A.sh(a0, s0, 2),
    A.sw(a0, s0, 4), A.sd(a0, s0, 8), A.beq(a0, a1, 8), A.bne(a0, a1, 8), A.blt(a0, a1, 8), A.bge(a0, a1, 8),
    A.bltu(a0, a1, 8), A.bgeu(a0, a1, 8), A.fence(), A.jal(ra, 16), A.jalr(ra, a0, 4),
    A.rType(1, a2, a1, 1, a0, 0x33), A.rType(1, a2, a1, 2, a0, 0x33), A.rType(1, a2, a1, 3, a0, 0x33), // MULH MULHSU MULHU
    A.rType(1, a2, a1, 5, a0, 0x33), A.rType(1, a2, a1, 6, a0, 0x33), A.rType(1, a2, a1, 7, a0, 0x33), // DIVU REM REMU
    A.rType(1, a2, a1, 4, a0, 0x3b), A.rType(1, a2, a1, 5, a0, 0x3b), A.rType(1, a2, a1, 6, a0, 0x3b), A.rType(1, a2, a1, 7, a0, 0x3b),
  ];
  for (const insn of words) {
    const w = generateWasmBlock([{ insn, raw: insn, len: 4, off: 0x100 }], LAYOUT);
    assert.ok(w !== null && WebAssembly.validate(w.bytes), `0x${(insn >>> 0).toString(16)}`);
  }
  const all = words.map((insn, i) => ({ insn, raw: insn, len: 4, off: 0x100 + 4 * i }));
  const w = generateWasmBlock(all, LAYOUT);
  assert.ok(w !== null && w.insns.length > 30 && WebAssembly.validate(w.bytes));
  assert.ok(WebAssembly.validate(runtimeModule(LAYOUT)));
  assert.ok(WebAssembly.validate(runtimeModule({ ...LAYOUT, shared: true })));
});

test('wasm: a block is cut before the first instruction the generator does not do; one starting with it is not made', () => {
  const ecall = 0x00000073, amo = A.amoadd(a0, a1, s0);
  const plan = [A.addi(a0, a0, 1), A.addi(a1, a1, 1), amo, A.addi(a2, a2, 1)].map((insn, i) => ({ insn, raw: insn, len: 4, off: 4 * i }));
  assert.equal(generateWasmBlock(plan, LAYOUT)!.insns.length, 2);
  assert.equal(generateWasmBlock([{ insn: ecall, raw: ecall, len: 4, off: 0 }], LAYOUT), null);
});

test('wasm: blocks chain inside wasm (same-page links and calls/returns through the fetch TLB) and count exactly', () => {
  const F = CODE + 0x400;
  const p = new A.Program(CODE).w(A.li(s1, 500));
  const top = p.here;
  p.w(A.jal(ra, F - p.here));
  p.w(A.addi(a1, a1, 2), A.addi(s1, s1, -1));
  p.w(A.bne(s1, 0, top - p.here), A.ebreak());
  p.org(F).w(A.addi(a0, a0, 3), A.jalr(0, ra, 0));
  const t = twins(p);
  const diff = runBoth(t, [...new Array<number>(30).fill(200), 1000]);
  assert.equal(diff, null, diff ?? '');
  assert.equal(t.jit.hart.x[a0], 1500n);
  const st = t.engine.stats;
  assert.ok(st.wasmBlocks > 0 && st.linked + st.lookedUp > 1000, JSON.stringify(st));
  assert.ok(st.entries < 100, `the interpreter entered translated code ${st.entries} times: wasm did not chain`);
});

test('wasm: a store into a page holding code and a load that misses the TLB are left to the interpreter, exactly', () => {
  const p = new A.Program(CODE).w(A.li(s0, CODE + 0x800), A.li(t1, DATA), A.li(s1, 200));
  const top = p.here;
  p.w(A.ld(a1, t1, 0), A.addi(a1, a1, 1), A.sd(a1, t1, 0), A.sw(a0, s0, 0), A.addi(s1, s1, -1));
  p.w(A.bne(s1, 0, top - p.here), A.ebreak());
  p.org(CODE + 0x800).w(A.addi(a0, a0, 0));
  const t = twins(p);
  const diff = runBoth(t, new Array<number>(40).fill(50));
  assert.equal(diff, null, diff ?? '');
  assert.equal(t.jit.hart.x[a1], 200n);
  assert.ok(t.engine.stats.exitMiss > 0, JSON.stringify(t.engine.stats));
});

test('wasm: a block dropped by a store is not entered from another block\'s link, and its id is reused safely', () => {
  const TARGET = CODE + 0x400;
  const p = new A.Program(CODE).w(A.li(s0, TARGET), A.li(s1, 120), A.li(t0, 0x00150513)); // addi a0, a0, 1
  const top = p.here;
  p.w(A.jal(ra, TARGET - p.here), A.andi(t1, s1, 7), A.bne(t1, 0, 8), A.sw(t0, s0, 0)); // rewrite TARGET every 8th
  p.w(A.addi(s1, s1, -1));
  p.w(A.bne(s1, 0, top - p.here), A.ebreak());
  p.org(TARGET).w(A.addi(a0, a0, 1), A.addi(a2, a2, 1), A.jalr(0, ra, 0));
  const t = twins(p);
  const diff = runBoth(t, new Array<number>(60).fill(37));
  assert.equal(diff, null, diff ?? '');
  assert.equal(t.jit.hart.x[a2], 120n);
  assert.ok(t.engine.stats.invalidatedByStore > 0, JSON.stringify(t.engine.stats));
});

test('wasm: after a FENCE.I-style wipe no block is enterable from wasm until it has been compared with its bytes again', () => {
  const p = new A.Program(CODE).w(A.li(s1, 3000));
  const top = p.here;
  p.w(A.jal(ra, CODE + 0x400 - p.here));
  p.w(A.addi(s1, s1, -1));
  p.w(A.bne(s1, 0, top - p.here), A.ebreak());
  p.org(CODE + 0x400).w(A.addi(a0, a0, 1), A.jalr(0, ra, 0));
  const t = twins(p);
  assert.equal(runBoth(t, new Array<number>(20).fill(100)), null);
  assert.ok(t.engine.wasmEnterable() > 0, 'blocks are live before the wipe');
  for (const m of [t.interp, t.jit]) m.hart.flushTlb(); // what FENCE.I and remote fences do to the decode cache
  assert.equal(t.engine.wasmEnterable(), 0, 'a wipe leaves no block enterable from wasm');
  const diff = runBoth(t, new Array<number>(40).fill(100));
  assert.equal(diff, null, diff ?? '');
  assert.ok(t.engine.wasmEnterable() > 0 && t.engine.stats.reverified > 0, JSON.stringify(t.engine.stats));
});
