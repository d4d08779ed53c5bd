// The interpreter's WebAssembly tier (jit/wasm-interp.ts), against the JavaScript interpreter as oracle (twin harts
// stepped with the same budgets and compared after every step: pc, instret, privilege, registers, trap CSRs, all of
// RAM). Random programs of the instructions it does (and of those it leaves to the interpreter) are the property
// test of its decoder, which reads guest bytes; then each of its exits: TLB misses, MMIO, page-crossing accesses
// and instructions, stores into code, reserved encodings, computed jumps the interpreter's doubles round; LR/SC and
// the AMOs; and blocks entered from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
process.env['VMIO_TEST_CPU'] = 'wasm-tier'; // RAM as a WebAssembly memory on both twins
const A = await import('../../../src/cpu/riscv/testing/asm.js');
const { RAM_BASE } = await import('../../../src/cpu/riscv/testing/machine.js');
const { mixedBudgets, runBoth, twins } = await import('../../../src/cpu/riscv/jit/testing.js');
const { interpModule } = await import('../../../src/cpu/riscv/jit/wasm-interp.js');
type Twin = ReturnType<typeof twins>;

const { a0, a1, a2, s0, s1, s2, t0, t1, t2, ra } = A.R;
const CODE = RAM_BASE + 0x1000, DATA = RAM_BASE + 0x40000;
const MCAUSE = 0x342, MEPC = 0x341, MTVAL = 0x343;
/** The tier alone: a translator that never finds anything hot. */
const TIER = { sampleThreshold: 2 ** 30, exitThreshold: 2 ** 30 };

/** Asserts the twins agree through `total` instructions cut by mixed budgets, and that the tier ran at least `minTier` of them. */
function agree(t: Twin, total: number, seed: number, minTier = 0.5, prime = false): void {
  const diff = runBoth(t, mixedBudgets(total, seed), undefined, prime);
  assert.equal(diff, null, diff ?? '');
  const share = t.engine.stats.tier / Math.max(1, t.jit.hart.instret);
  assert.ok(share >= minTier, `only ${(share * 100).toFixed(0)}% of the instructions ran in the tier (${JSON.stringify(t.engine.stats)})`);
}

/**
 * S-mode at CODE with one tick per instruction, the supervisor timer (Sstc) delegated and enabled, traps to
 * `handler`, stimecmp at `deadline`, sstatus.SIE set.
 */
function sModeTimer(m: Twin['interp'], handler: number, deadline: bigint): void {
  m.clock.perInstret = 1;
  m.hart.reset(CODE, 1);
  m.hart.writeCsr(0x30a, 1n << 63n); // menvcfg.STCE
  m.hart.writeCsr(0x306, 2n); // mcounteren.TM
  m.hart.writeCsr(0x303, 1n << 5n); // mideleg STIP
  m.hart.writeCsr(0x304, 1n << 5n); // mie STIE
  m.hart.writeCsr(0x105, BigInt(handler));
  m.hart.writeCsr(0x14d, deadline); // stimecmp
  m.hart.writeCsr(0x100, 2n); // sstatus.SIE
}

/** A small xorshift generator (deterministic programs). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

test('wasm tier: its module validates, for a shared memory too', () => {
  const L = { regs: 1 << 20, tlb: 2 << 20, lineMarks: 4 << 20, resv: 5 << 20, scratch: 5 << 20, rvc: 6 << 20, blockScratch: 7 << 20, valid: 8 << 20, cache: 9 << 20, blockPages: 10 << 20, shared: false };
  assert.ok(WebAssembly.validate(interpModule(L)));
  assert.ok(WebAssembly.validate(interpModule({ ...L, shared: true })));
});

test('wasm tier: random programs (RV64IMAC, compressed, with CSR, FENCE and illegal words among them) agree with the interpreter', () => {
  const W = [1, 2, 3, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 28, 29, 30, 31]; // rd: never s0/s1 (the data pointers), x0 sometimes
  let tierShare = 0;
  for (let prog = 0; prog < 24; prog++) {
    const r = rng(0x5eed + prog * 7919);
    const pick = <T>(xs: readonly T[]): T => xs[r() % xs.length]!;
    const reg = (): number => (r() % 8 === 0 ? 0 : pick(W));
    const src = (): number => r() % 32;
    const p = new A.Program(CODE);
    for (let i = 0; i < 300; i++) {
      const k = r() % 100, rd = reg(), rs1 = src(), rs2 = src(), imm = (r() % 4096) - 2048;
      const base = r() % 2 === 0 ? s0 : s1, off = (r() % 512) * (r() % 3 === 0 ? 1 : 8);
      if (k < 30) { // OP-IMM / OP-IMM-32 with every funct3, shifts well and badly encoded
        const f3 = r() % 8, sh = r() % 64;
        if (f3 === 1 || f3 === 5) p.w(r() % 16 === 0 ? A.iType(imm, rs1, f3, rd, 0x13) : f3 === 1 ? A.slli(rd, rs1, sh) : r() % 2 ? A.srli(rd, rs1, sh) : A.srai(rd, rs1, sh));
        else if (r() % 4 === 0) p.w(r() % 3 === 0 ? A.slliw(rd, rs1, sh & 31) : r() % 2 ? A.sraiw(rd, rs1, sh & 31) : A.addiw(rd, rs1, imm));
        else p.w(A.iType(imm, rs1, f3, rd, 0x13));
      } else if (k < 50) { // OP / OP-32, M included
        p.w(pick([A.add, A.sub, A.sll, A.slt, A.sltu, A.xor, A.srl, A.sra, A.or, A.and, A.mul, A.mulh, A.mulhsu, A.mulhu,
          A.div, A.divu, A.rem, A.remu, A.addw, A.subw, A.sllw, A.srlw, A.sraw, A.mulw, A.divw, A.divuw, A.remw, A.remuw])(rd, rs1, rs2));
      } else if (k < 62) { // loads of every width, aligned or not, some crossing into the next page
        p.w(pick([A.lb, A.lh, A.lw, A.ld, A.lbu, A.lhu, A.lwu])(rd, base, r() % 20 === 0 ? 4093 - 2048 : off));
      } else if (k < 72) { // stores
        p.w(pick([A.sb, A.sh, A.sw, A.sd])(rs2, base, r() % 20 === 0 ? 2045 : off));
      } else if (k < 78) { // atomics on aligned words and doublewords (sometimes misaligned: the interpreter faults)
        const w = r() % 2 === 0, at = base;
        if (r() % 3 === 0) p.w(A.lr(rd, at, w), A.addi(t2, t2, 1), A.sc(rd, rs2, at, w));
        else p.w(pick([A.amoswap, A.amoadd, A.amoxor, A.amoand, A.amoor, A.amomin, A.amomax, A.amominu, A.amomaxu])(rd, rs2, at, w));
      } else if (k < 86) { // compressed
        p.c(pick([A.cAddi(rd || 1, (r() % 63) - 31), A.cLi(rd || 1, (r() % 63) - 31), A.cMv(rd || 1, rs2 || 1), A.cAdd(rd || 1, rs2 || 1),
          A.cLd(pick([10, 11, 12, 13]), 8, (r() % 32) * 8), A.cSd(pick([10, 11, 12, 13]), 9, (r() % 32) * 8), A.cLw(14, 9, (r() % 32) * 4),
          A.cSub(pick([10, 11, 12, 13]), pick([10, 14, 15])), A.cNop()]));
      } else if (k < 92) { // forward branches and jumps (no loops: every program ends)
        const skip = 4 + 4 * (r() % 3);
        p.w(r() % 5 === 0 ? A.jal(rd, skip) : A.bType(skip, rs2, rs1, pick([0, 1, 4, 5, 6, 7])));
        for (let j = 4; j < skip; j += 4) p.w(A.addi(a0, a0, 1));
      } else if (k < 95) {
        p.w(pick([A.lui(rd, r() & 0xfffff), A.auipc(rd, r() & 0xfffff), A.fence()]));
      } else if (k < 98) { // CSRs: sstatus set/clear (the tier's when only SIE changes), mscratch and instret (the interpreter's)
        p.w(pick([A.csrr(rd, 0x340), A.csrw(0x340, rs1), A.csrr(rd, 0xb02), A.csrr(rd, 0x100), A.csrrci(rd, 0x100, r() % 32),
          A.csrrsi(rd, 0x100, r() % 32), A.csrrs(rd, 0x100, rs1), A.csrrc(rd, 0x100, rs1), A.csrrw(rd, 0x100, rs1)]));
      } else { // an illegal or reserved word (the trap ends the program at HALT)
        p.w(pick([0, 0xffffffff, A.iType(0, rs1, 7, rd, 0x03), A.rType(0x40, rs2, rs1, 0, rd, 0x33)]));
      }
    }
    p.w(A.ebreak());
    const t = twins(p, (m) => {
      const g = rng(prog + 1);
      for (let i = 1; i < 32; i++) m.hart.x[i] = BigInt.asIntN(64, (BigInt(g()) << 32n) | BigInt(g()));
      for (const i of [3, 4, 5, 6]) m.hart.x[i] = [0n, -1n, 1n << 63n, (1n << 63n) - 1n][i - 3]!; // edge values
      m.hart.x[s0] = BigInt(DATA); m.hart.x[s1] = BigInt(DATA + 0x1000 - 2048); // s1's page ends where s0's next one starts
    }, TIER);
    const diff = runBoth(t, mixedBudgets(2_000, prog + 3), undefined, false);
    assert.equal(diff, null, `program ${prog}: ${diff}`);
    tierShare += t.engine.stats.tier / Math.max(1, t.jit.hart.instret);
  }
  assert.ok(tierShare / 24 > 0.5, `the tier ran ${(100 * tierShare / 24).toFixed(0)}% on average`);
});

test('wasm tier: the commonest compressed forms in a kernel (C.LDSP, C.SDSP, C.MV, C.ADD, C.JR, C.JALR) agree, reserved and hint encodings too', () => {
  // ~28 % of a boot's instructions. Random halfwords of quadrant 2 with funct3 3, 7 and 4: every register and offset
  // field, rd 0 (reserved in C.LDSP, a hint in C.MV and C.ADD), sp near a page's end so that some accesses cross it,
  // or (every third program) sp among the code and misaligned, so that some stores land in lines holding decoded
  // code. Jumps go through a register (any but sp) set to a target just ahead; C.EBREAK ends some programs.
  const regs = [1, 3, 5, 6, 7, 10, 11, 12, 13, 14, 15, 16, 17, 28, 29, 30, 31];
  let tierShare = 0;
  for (let prog = 0; prog < 24; prog++) {
    const r = rng(0xc0de + prog * 104729);
    const p = new A.Program(CODE);
    for (let i = 0; i < 300; i++) {
      const k = r() % 100, f = r() & 0x1ffc;
      if (k < 30) { // C.LDSP, rd 0 now and then; never into sp (rd 2 and most rd 0 become 3 and 1)
        const rd = (f >> 7) & 31, keep = rd !== 2 && (rd !== 0 || r() % 4 === 0);
        p.c((3 << 13) | (keep ? f : f | (1 << 7)) | 2);
      } else if (k < 55) {
        p.c((7 << 13) | f | 2); // C.SDSP
      } else if (k < 85) { // C.MV / C.ADD: rs2 never 0 (that is C.JR, C.JALR, C.EBREAK), rd any but sp (0 is a hint)
        const rd = ((f >> 7) & 31) === 2 ? 0 : (f >> 7) & 31, rs2 = ((f >> 2) & 31) || 1;
        p.c((4 << 13) | (f & 0x1000) | (rd << 7) | (rs2 << 2) | 2);
      } else if (k < 93) { // C.JR / C.JALR through a register holding the address after a c.nop
        const rs1 = regs[r() % regs.length]!;
        p.w(A.auipc(rs1, 0), A.addi(rs1, rs1, 12));
        p.c((4 << 13) | ((r() & 1) << 12) | (rs1 << 7) | 2, A.cNop());
      } else if (k < 99) {
        p.w(A.addi(pick(r, regs), pick(r, regs), (r() % 4096) - 2048));
      } else {
        p.c(pick(r, [0x8002, 0x9002, 0x9006])); // C.JR x0 (reserved), C.EBREAK, C.ADD x0, ra (a hint)
      }
    }
    p.c(A.cEbreak());
    const t = twins(p, (m) => {
      const g = rng(prog + 77);
      for (let i = 1; i < 32; i++) m.hart.x[i] = BigInt.asIntN(64, (BigInt(g()) << 32n) | BigInt(g()));
      const sp = prog % 3 === 1 ? CODE + 0x100 + (g() % 8) : DATA + 0x1000 - (g() % 600);
      m.hart.x[2] = BigInt(sp);
    }, TIER);
    const diff = runBoth(t, mixedBudgets(2_000, prog + 11), undefined, false);
    assert.equal(diff, null, `program ${prog}: ${diff}`);
    tierShare += t.engine.stats.tier / Math.max(1, t.jit.hart.instret);
  }
  assert.ok(tierShare / 24 > 0.5, `the tier ran ${(100 * tierShare / 24).toFixed(0)}% on average`);
  // A C.SDSP whose 8 bytes cross from a line without decoded code into one with it is the interpreter's: the CSR
  // instruction it overwrites (the interpreter's, so decoded) must run as its new bytes the next time round. (An
  // `sd` into the page first fills the store TLB, without which the tier leaves every store there.)
  const p = new A.Program(CODE);
  p.w(A.sd(0, 2, -0x7c), A.jal(0, 0xbc)); // (a store into the page first, for the store TLB)
  p.org(CODE + 0xc0).w(A.csrr(a0, 0x340));
  p.c((7 << 13) | (a1 << 2) | 2, A.cNop()); // c.sdsp a1, 0(sp)
  p.w(A.addi(s1, s1, -1), A.bne(s1, 0, -12), A.ebreak());
  const t = twins(p, (m) => {
    m.hart.x[2] = BigInt(CODE + 0xbc);
    m.hart.x[a1] = (BigInt(A.csrr(a2, 0x340) >>> 0) << 32n) | 0x13n;
    m.hart.x[s1] = 3n;
    m.hart.writeCsr(0x340, 0x1234n);
  }, TIER);
  assert.equal(runBoth(t, [1_000], undefined, false), null);
  assert.equal(t.jit.hart.x[a2], 0x1234n, 'the new bytes ran');
});

/** One of `xs`, by `r`. */
function pick<T>(r: () => number, xs: readonly T[]): T { return xs[r() % xs.length]!; }

test('wasm tier: an instruction straddling a page, reserved compressed encodings and a jump above 2^53 are the interpreter\'s, exactly', () => {
  const END = CODE + 0x1000; // a 32-bit instruction at END - 2 crosses into the next page
  const p = new A.Program(CODE).w(A.li(s1, 50));
  const top = p.here;
  p.w(A.jal(ra, END - 2 - 4 - p.here));
  p.w(A.addi(s1, s1, -1), A.bne(s1, 0, top - (p.here + 4)), A.ebreak());
  p.org(END - 6).c(A.cNop(), A.cNop());
  p.w(A.addi(a0, a0, 7)); // at END - 2 .. END + 2: the straddling one
  p.w(A.jalr(0, ra, 0));
  const t = twins(p, undefined, TIER);
  agree(t, 3_000, 5, 0.3);
  assert.equal(t.jit.hart.x[a0], 350n);
  // 0x0000 is a reserved compressed encoding: an illegal instruction with mtval 0
  const q = new A.Program(CODE).w(A.addi(a0, a0, 1)).c(0x0000);
  const u = twins(q, undefined, TIER);
  agree(u, 20, 7, 0);
  assert.equal(u.jit.hart.readCsr(MCAUSE), 2n);
  assert.equal(u.jit.hart.readCsr(MEPC), BigInt(CODE + 4));
  // a computed jump above 2^53: pc, mepc and mtval as the interpreter's doubles round them
  const big = (1n << 60n) + 0x123457n;
  const v = new A.Program(CODE).w(A.li(t0, big), A.addi(a0, a0, 1), A.jalr(ra, t0, 3));
  const w = twins(v, undefined, TIER);
  agree(w, 40, 9, 0);
  assert.equal(w.jit.hart.readCsr(MCAUSE), 1n);
  assert.equal(w.jit.hart.readCsr(MTVAL), w.interp.hart.readCsr(MTVAL));
});

test('wasm tier: MMIO is never cached, a TLB miss and a store into code go to the interpreter, and self-modifying code runs its new bytes', () => {
  const DEV = 0x1000_0000;
  const p = new A.Program(CODE).w(A.li(s0, DEV), A.li(t2, DATA), A.li(s1, 300));
  const top = p.here;
  const patch = CODE + 0x800;
  p.w(A.lw(a1, s0, 4), A.add(a0, a0, a1), A.sd(a0, t2, 0), A.ld(a2, t2, 0));
  // patch: rewrite `addi t1, t1, imm` at `patch` with imm = s1 & 31, then call it
  p.w(A.andi(t0, s1, 31), A.slli(t0, t0, 20), A.li(a2, A.addi(t1, t1, 0)), A.or(t0, t0, a2), A.li(a2, patch), A.sw(t0, a2, 0));
  p.w(A.jal(ra, patch - p.here));
  p.w(A.addi(s1, s1, -1), A.bne(s1, 0, top - (p.here + 4)), A.ebreak());
  p.org(patch).w(A.addi(t1, t1, 0), A.jalr(0, ra, 0));
  const reads: number[] = [];
  const t = twins(p, (m) => {
    let n = 0;
    const id = reads.length;
    reads.push(0);
    m.bus.addRegion({ name: 'counter', base: DEV, size: 0x1000, exitClass: 'user', handler: { read: () => { reads[id]!++; return ++n; }, write: () => {} } });
  }, TIER);
  agree(t, 8_000, 11, 0.5);
  assert.deepEqual(reads, [300, 300]);
  assert.equal(t.jit.hart.x[a0], 300n * 301n / 2n);
  let sum = 0n;
  for (let i = 300; i >= 1; i--) sum += BigInt(i & 31);
  assert.equal(t.jit.hart.x[t1], sum, 'each call ran the instruction just written');
});

test('wasm tier: no block starts at an sstatus set/clear, which the tier does itself; one starts at another CSR instruction', () => {
  for (const [first, blocks] of [[A.csrrci(s0, 0x100, 2), 0], [A.csrrs(0, 0x100, s0), 0], [A.csrrw(a0, 0x340, a1), 1]] as const) {
    const p = new A.Program(CODE).w(first, A.addi(a0, a0, 1), A.addi(a1, a1, 2), A.ebreak());
    const t = twins(p, () => {}, TIER);
    t.engine.prime(t.jit.hart);
    assert.equal(runBoth(t, [10], undefined, false), null);
    assert.equal(t.engine.stats.blocks, blocks, `0x${first.toString(16)}: ${JSON.stringify(t.engine.stats)}`);
  }
});

test('wasm tier: data beside code in a page stays in the tier, and a store into a line of code the interpreter decoded is its', () => {
  // The loop's CSR read is the interpreter's, so its page holds decoded code; the stores beside it (0xc00 on) are
  // the tier's. Then each pass rewrites the CSR instruction at `patch` (mscratch or mepc), which the interpreter
  // has decoded: those stores go to the interpreter, which drops the old decoding.
  const patch = CODE + 0x400, data = CODE + 0xc00;
  const p = new A.Program(CODE).w(A.li(s0, data), A.li(s1, 2000), A.li(t2, patch), A.li(t1, A.csrr(a2, 0x340)), A.li(a1, A.csrr(a2, 0x341)));
  const top = p.here;
  p.w(A.csrr(t0, 0x340), A.sd(a0, s0, 0), A.sd(t0, s0, 8), A.sw(a0, s0, 20), A.addi(a0, a0, 1), A.ld(a2, s0, 0), A.add(a0, a0, a2));
  p.w(A.andi(t0, s1, 1), A.beq(t0, 0, 12), A.sw(t1, t2, 0), A.jal(0, 8), A.sw(a1, t2, 0)); // mscratch on odd passes, mepc on even
  p.w(A.jal(ra, patch - p.here), A.add(s2, s2, a2));
  p.w(A.addi(s1, s1, -1), A.bne(s1, 0, top - p.here), A.ebreak());
  p.org(patch).w(A.csrr(a2, 0x340), A.jalr(0, ra, 0));
  const t = twins(p, (m) => { m.hart.writeCsr(0x340, 5n); m.hart.writeCsr(0x341, 8n); }, TIER);
  agree(t, 60_000, 17, 0.7);
  assert.equal(t.jit.hart.readCsr(MCAUSE), 3n, 'ran to the ebreak');
  assert.equal(t.jit.hart.x[s2], 1000n * 5n + 1000n * 8n, 'each call read the CSR just written there');
});

test('wasm tier: LR/SC and every AMO agree, with a reservation broken between LR and SC', () => {
  const p = new A.Program(CODE).w(A.li(s0, DATA), A.li(a2, 0x7fffffff), A.li(s1, 200));
  const top = p.here;
  const retry = p.here;
  p.w(A.lr(a0, s0, false), A.addi(a0, a0, 3), A.sc(t0, a0, s0, false), A.bne(t0, 0, retry - (p.here + 12)));
  p.w(A.amoadd(a1, a2, s0, true), A.amoxor(a1, s1, s0, false), A.amomin(t1, s1, s0, true), A.amomaxu(t1, a2, s0, false));
  p.w(A.amominu(t1, s1, s0, true), A.amomax(t1, a2, s0, false), A.amoand(t1, a2, s0, true), A.amoor(t1, s1, s0, false), A.amoswap(t2, t1, s0, true));
  p.w(A.lr(a0, s0, true), A.sw(a1, s0, 0), A.sc(t0, a0, s0, true)); // the store changed the value: SC fails
  p.w(A.addi(s1, s1, -1), A.bne(s1, 0, top - (p.here + 4)), A.ebreak());
  const t = twins(p, undefined, TIER);
  agree(t, 6_000, 13, 0.5);
  assert.equal(t.jit.hart.readCsr(MCAUSE), 3n, 'ran to the ebreak');
});

test('wasm tier: code written behind the hart\'s back is run at once (the tier reads RAM; the interpreter sees it after FENCE.I)', () => {
  const p = new A.Program(CODE).w(A.li(s1, 100));
  const top = p.here;
  p.w(A.addi(a0, a0, 1), A.addi(s1, s1, -1), A.bne(s1, 0, top - (p.here + 8)), A.ebreak());
  const t = twins(p, undefined, TIER);
  assert.equal(runBoth(t, [30], undefined, false), null);
  for (const m of [t.interp, t.jit]) m.mem.write32(top - RAM_BASE, A.addi(a0, a0, 100)); // "DMA"
  t.interp.hart.run(1_000);
  t.jit.hart.run(1_000);
  assert.ok(t.jit.hart.x[a0]! > t.interp.hart.x[a0]!, `tier ${t.jit.hart.x[a0]} vs interpreter ${t.interp.hart.x[a0]}`);
});

test('wasm tier: hot loops enter translated blocks from the tier and still agree', () => {
  const p = new A.Program(CODE).w(A.li(s0, DATA), A.li(s1, 3000));
  const top = p.here;
  p.w(A.ld(a1, s0, 0), A.addi(a1, a1, 3), A.sd(a1, s0, 0), A.mul(a2, a1, s1), A.xor(a0, a0, a2), A.addi(s1, s1, -1));
  p.w(A.bne(s1, 0, top - p.here), A.ebreak());
  const t = twins(p, undefined, { sampleThreshold: 2, exitThreshold: 2 });
  agree(t, 25_000, 17, 0, true);
  const st = t.engine.stats;
  assert.ok(st.blocks > 0 && st.retired > 10_000, JSON.stringify(st));
  assert.ok(st.tier > 0 && st.entries < 50, `blocks were entered from the tier, not the interpreter: ${JSON.stringify(st)}`);
});

test('wasm tier: where blocks keep stopping in their page for want of a block, one is made, and blocks chain there without the TLB', () => {
  // A's block exits to L0 on its conditional branch, and finds nothing there (no samples: the tier alone would
  // never translate L0) until go has stopped there HOT_EXIT (1024) times; then L0 gets its block, whose branch
  // leads back to A: the two chain in wasm, each exit found through the block cache without the fetch TLB.
  const p = new A.Program(CODE);
  const a = p.here;
  p.w(A.addi(a0, a0, 1), A.add(a2, a2, a0), A.xor(t0, t0, a2), A.slli(t1, a2, 3), A.add(t2, t2, t1), A.bne(s1, 0, 8), A.ebreak());
  const l0 = p.here;
  p.w(A.addi(s1, s1, -1), A.bne(s1, 0, a - (p.here + 4)), A.ebreak());
  const t = twins(p, (m) => { m.hart.x[s1] = 3000n; }, TIER);
  const made = (): boolean => (t.engine['byAddr'] as Map<number, unknown>).has(l0 - RAM_BASE);
  t.engine.prime(t.jit.hart); // A's block
  assert.equal(runBoth(t, [2_000], undefined, false), null);
  assert.ok(!made(), 'no block at L0 after 2000 instructions');
  assert.equal(runBoth(t, [20_000, 20_000], undefined, false), null);
  const st = t.engine.stats;
  assert.equal(t.jit.hart.readCsr(MCAUSE), 3n, 'ran to the ebreak');
  assert.ok(made(), `a block at L0 once hot: ${JSON.stringify(st)}`);
  assert.ok(st.linked > 1500, `blocks chained in their page: ${JSON.stringify(st)}`);
});

test('wasm tier: back from a call into a page with blocks, it fetches from the page it returned to', () => {
  // The loop's page has no block; F's page has one (at B, never reached). The tier runs F itself, looking for a
  // block at each of its instructions, and returns to the loop within the same call: what it fetches there must
  // come from the loop's page again, not from the page it was just in.
  const B = CODE + 0x1000, F = CODE + 0x1100;
  const p = new A.Program(CODE);
  const top = p.here;
  p.w(A.addi(a0, a0, 1));
  p.w(A.jal(ra, F - p.here));
  p.w(A.xor(t0, t0, a0), A.add(t2, t2, t0), A.addi(s1, s1, -1));
  p.w(A.bne(s1, 0, top - p.here), A.ebreak());
  p.org(B).w(A.addi(a1, a1, 7), A.xor(a2, a2, a1), A.slli(t1, a2, 2), A.add(t2, t2, t1), A.addi(a1, a1, 1), A.ebreak());
  p.org(F).w(A.add(a2, a2, a0), A.slli(t1, a2, 3), A.add(t2, t2, t1), A.jalr(0, ra, 0));
  const t = twins(p, (m) => { m.hart.x[s1] = 500n; }, TIER);
  const h = t.jit.hart;
  h.fetchSlow(B);
  h.pc = B;
  t.engine.prime(h); // the block at B: F's page has blocks
  h.pc = CODE;
  assert.equal(t.engine.stats.blocks, 1);
  agree(t, 5_000, 23, 0.9);
  assert.equal(h.readCsr(MCAUSE), 3n, 'ran to the ebreak');
  assert.equal(t.engine.stats.entries, 0, 'no block was entered');
});

test('wasm tier: a block made stale by FENCE.I is compared with its bytes when the tier reaches it, and runs again', () => {
  // No samples ever translate here (TIER): the one block is primed at the loop's top, and every iteration's
  // FENCE.I wipes it. The tier stops at it each time for the translator to verify it, and then enters it.
  const p = new A.Program(CODE);
  const top = p.here;
  p.w(A.addi(a0, a0, 1), A.add(a2, a2, a0), A.xor(t0, t0, a2), A.slli(t1, a2, 3), A.add(t2, t2, t1), A.fenceI());
  p.w(A.addi(s1, s1, -1), A.bne(s1, 0, top - (p.here + 4)), A.ebreak());
  const t = twins(p, (m) => { m.hart.x[s1] = 300n; }, TIER);
  t.engine.prime(t.jit.hart);
  assert.equal(runBoth(t, [5_000, 5_000], undefined, false), null);
  assert.equal(t.jit.hart.readCsr(MCAUSE), 3n, 'ran to the ebreak');
  const st = t.engine.stats;
  assert.ok(st.flushes >= 299 && st.reverified >= 290, `re-verified after the wipes: ${JSON.stringify(st)}`);
  assert.ok(st.retired >= 290 * 5, `the block ran after the wipes: ${JSON.stringify(st)}`);
});

test('wasm tier: a timer interrupt is taken at the same instruction as in the interpreter, however far the tier runs past checks that change nothing', () => {
  const S_HANDLER = RAM_BASE + 0x3000;
  const p = new A.Program(CODE).w(A.li(s0, DATA), A.li(s1, 100_000));
  const top = p.here;
  p.w(A.addi(a0, a0, 1), A.sd(a0, s0, 0), A.ld(a1, s0, 0), A.add(a2, a2, a1), A.addi(s1, s1, -1), A.bne(s1, 0, top - (p.here + 20)), A.ebreak());
  p.org(S_HANDLER).w(A.csrr(t0, 0x142), A.addi(t1, t1, 1), A.li(t2, 0), A.csrw(0x14d, t2), A.csrrci(0, 0x100, 2), A.jal(0, 0));
  const setup = (deadline: bigint) => (m: Twin['interp']): void => {
    sModeTimer(m, S_HANDLER, deadline);
    m.hart.writeCsr(0x300, (1n << 13n) | 2n); // FS, SIE
  };
  // Budgets of one slice and of many: the tier runs to the first check that would raise STIP, then stops there.
  for (const deadline of [1_500n, 2_100n, 3_000n, 4_200n, 5_000n, 40_000n]) {
    for (const budgets of deadline < 10_000n ? [[2_048, 2_048, 2_048, 2_048, 2_048], [50_000]] : [[50_000]]) {
      const t = twins(p, setup(deadline), TIER);
      assert.equal(runBoth(t, budgets, undefined, false), null, `deadline ${deadline}, budgets ${budgets[0]}`);
      assert.equal(t.jit.hart.readCsr(0x142), (1n << 63n) | 5n, `deadline ${deadline}: the supervisor timer interrupt was taken`);
      assert.equal(t.jit.hart.readCsr(0x141), t.interp.hart.readCsr(0x141), 'at the same pc');
      assert.ok(t.engine.stats.tier > Number(deadline) / 2, JSON.stringify(t.engine.stats));
    }
  }
});

test('wasm tier: interrupts disabled and re-enabled through sstatus (Linux\'s irq save/restore) are taken at the interpreter\'s instruction', () => {
  const S_HANDLER = RAM_BASE + 0x3000;
  const p = new A.Program(CODE).w(A.li(s1, 20_000), A.li(a2, 1 << 18));
  const top = p.here;
  p.w(A.csrrci(a0, 0x100, 2), A.addi(a1, a1, 1), A.csrr(t2, 0x100), A.add(a1, a1, t2), A.csrrs(0, 0x100, a0), // save, disable, restore
    A.csrrsi(0, 0x100, 2), A.csrrc(0, 0x100, a2), A.csrrci(0, 0x100, 0), A.addi(s1, s1, -1)); // enable; SUM (the interpreter's)
  p.w(A.bne(s1, 0, top - p.here), A.ebreak());
  // the handler counts, pushes the timer 1500 ticks on, and returns with SIE restored from SPIE
  p.org(S_HANDLER).w(A.addi(t1, t1, 1), A.csrr(t0, 0xc01), A.addi(t0, t0, 1500), A.csrw(0x14d, t0), A.sret());
  const setup = (m: Twin['interp']): void => sModeTimer(m, S_HANDLER, 1_000n);
  for (const budgets of [[2_048, 2_048, 2_048, 2_048, 2_048, 2_048, 2_048, 2_048, 2_048, 2_048], [7, 300, 5_000, 13, 20_000], [400_000]]) {
    const t = twins(p, setup, TIER);
    assert.equal(runBoth(t, budgets, undefined, false), null, `budgets ${budgets.join(',')}`);
    const taken = Number(t.jit.hart.x[t1]!);
    assert.ok(taken >= 5, `the timer interrupt was taken ${taken} times`);
    assert.ok(t.engine.stats.tier > t.jit.hart.instret / 2, JSON.stringify(t.engine.stats));
  }
  // in U-mode sstatus is illegal: the tier leaves it to the interpreter, which raises the exception
  const u = new A.Program(CODE).w(A.addi(a0, a0, 1), A.csrrci(a1, 0x100, 2), A.ebreak());
  const tu = twins(u, (m) => { m.hart.reset(CODE, 0); m.hart.writeCsr(0x305, BigInt(S_HANDLER)); }, TIER);
  assert.equal(runBoth(tu, [10], undefined, false), null);
  assert.equal(tu.jit.hart.readCsr(MCAUSE), 2n, 'illegal instruction');
});

test('wasm tier: F/D code it leaves to the interpreter is translated where it is left, and agrees', () => {
  const { fld, fsd } = A;
  const faddD = (rd: number, rs1: number, rs2: number): number => A.rType(0x01, rs2, rs1, 7, rd, 0x53); // fadd.d, dynamic rounding
  const fmulD = (rd: number, rs1: number, rs2: number): number => A.rType(0x09, rs2, rs1, 7, rd, 0x53);
  const p = new A.Program(CODE).w(A.li(s0, DATA), A.li(s1, 3000));
  const top = p.here;
  p.w(fld(1, s0, 0), fld(2, s0, 8), faddD(3, 1, 2), fmulD(4, 3, 2), fsd(4, s0, 16), A.addi(a0, a0, 1), A.addi(s1, s1, -1));
  p.w(A.bne(s1, 0, top - p.here), A.ebreak());
  const setup = (m: Twin['interp']): void => {
    m.mem.write32(DATA - RAM_BASE, 0); m.mem.write32(DATA - RAM_BASE + 4, 0x3ff80000); // 1.5
    m.mem.write32(DATA - RAM_BASE + 8, 0); m.mem.write32(DATA - RAM_BASE + 12, 0x40000000); // 2.0
  };
  const t = twins(p, setup, {});
  agree(t, 25_000, 23, 0);
  const st = t.engine.stats;
  assert.equal(t.jit.hart.readCsr(0x342), 3n, 'ran to the ebreak');
  assert.ok(st.blocks > 0 && st.retired > 15_000, `the F/D loop ran translated: ${JSON.stringify(st)}`);
});
