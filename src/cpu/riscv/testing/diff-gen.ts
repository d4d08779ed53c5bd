// Random user-mode instruction sequences for differential testing against qemu-riscv64 (RV64IMAC + F/D,
// unprivileged ISA v20191213): straight-line code with forward branches that stay inside the block, memory
// operations confined to a scratch buffer addressed from x27 (s11), which no generated instruction writes.
// Sequences are assembly text, so gcc assembles (and compresses) them and a failure prints readable code.

/** The register that holds the scratch buffer's base; never written by a sequence. */
export const SCRATCH_REG = 27;
export const SCRATCH_BYTES = 256;

export interface Sequence {
  index: number;
  /** Assembly lines (numeric local labels 1: ... are used for forward branches). */
  lines: string[];
  /** Initial x1..x31 (x[27] is replaced by the scratch address), f0..f31 raw bits, fcsr, scratch bytes. */
  x: bigint[];
  f: bigint[];
  fcsr: number;
  scratch: Uint8Array;
}

export interface GenOptions {
  /** Instructions per sequence (approximate: branches add labels, AMOs add an address computation). */
  length: number;
  /** Include F and D instructions. */
  fp: boolean;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same sequences. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  int(n: number): number { return this.u32() % n; }
  range(lo: number, hi: number): number { return lo + this.int(hi - lo + 1); }
  pick<T>(a: readonly T[]): T { return a[this.int(a.length)]!; }
  chance(p: number): boolean { return this.u32() / 4294967296 < p; }
  u64(): bigint { return (BigInt(this.u32()) << 32n) | BigInt(this.u32()); }
}

const XN = (i: number): string => `x${i}`;
const FN = (i: number): string => `f${i}`;

const INTERESTING_X: readonly bigint[] = [
  0n, 1n, 2n, 3n, -1n, -2n, 0x7fffffffn, 0x80000000n, -0x80000000n, 0xffffffffn, 0x7fffffffffffffffn,
  -0x8000000000000000n, 0x100000000n, 0x8000n, 0xffffn, 31n, 32n, 63n, 64n,
];

const INTERESTING_D: readonly bigint[] = [
  0x0000000000000000n, 0x8000000000000000n, 0x3ff0000000000000n, 0xbff0000000000000n, 0x7ff0000000000000n,
  0xfff0000000000000n, 0x7ff8000000000000n, 0x7ff4000000000000n, 0x0000000000000001n, 0x000fffffffffffffn,
  0x7fefffffffffffffn, 0x0010000000000000n, 0x4000000000000000n, 0x3fe0000000000000n, 0x43e0000000000000n,
  0xc3e0000000000000n, 0x41dfffffffc00000n, 0x41efffffffe00000n, 0x3ff8000000000000n, 0xc00c000000000000n,
];
const INTERESTING_S: readonly number[] = [
  0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7fa00000, 0x00000001,
  0x007fffff, 0x7f7fffff, 0x00800000, 0x4f000000, 0xcf000000, 0x4f800000, 0x5f000000, 0x3fc00000, 0x3f000000,
];

function randomX(r: Rng): bigint {
  switch (r.int(5)) {
    case 0: return BigInt.asIntN(64, r.pick(INTERESTING_X));
    case 1: return BigInt(r.range(-64, 64));
    case 2: return BigInt.asIntN(64, BigInt(r.u32() | 0)); // sign-extended 32-bit
    default: return BigInt.asIntN(64, r.u64());
  }
}

function randomF(r: Rng): bigint {
  const box = (s: number): bigint => 0xffffffff00000000n | BigInt(s >>> 0);
  switch (r.int(8)) {
    case 0: return r.pick(INTERESTING_D);
    case 1: return box(r.pick(INTERESTING_S));
    case 2: return box(r.u32());
    case 3: { // a double with a modest exponent: arithmetic that neither overflows nor flushes
      const exp = BigInt(1023 + r.range(-40, 40));
      return (BigInt(r.int(2)) << 63n) | (exp << 52n) | (r.u64() & 0xfffffffffffffn);
    }
    case 4: { // a single with a modest exponent, NaN-boxed
      const exp = 127 + r.range(-20, 20);
      return box(((r.int(2) << 31) | (exp << 23) | (r.u32() & 0x7fffff)) >>> 0);
    }
    case 5: return BigInt(r.u32()); // an improperly boxed single (upper bits 0): reads as the canonical NaN
    case 6: { // a small integer as a double
      const v = new Float64Array([r.range(-100, 100)]);
      return new BigUint64Array(v.buffer)[0]!;
    }
    default: return r.u64();
  }
}

const R_OPS = ['add', 'sub', 'sll', 'slt', 'sltu', 'xor', 'srl', 'sra', 'or', 'and', 'addw', 'subw', 'sllw', 'srlw',
  'sraw', 'mul', 'mulh', 'mulhsu', 'mulhu', 'div', 'divu', 'rem', 'remu', 'mulw', 'divw', 'divuw', 'remw', 'remuw'];
const C_R_OPS = ['add', 'sub', 'and', 'or', 'xor', 'addw', 'subw'];
const C_MEM: readonly [string, number][] = [['lw', 4], ['ld', 8], ['sw', 4], ['sd', 8], ['fld', 8], ['fsd', 8]];
const I_OPS = ['addi', 'slti', 'sltiu', 'xori', 'ori', 'andi', 'addiw'];
const SHIFT_OPS = ['slli', 'srli', 'srai'];
const SHIFTW_OPS = ['slliw', 'srliw', 'sraiw'];
const LOADS: readonly [string, number][] = [['lb', 1], ['lh', 2], ['lw', 4], ['ld', 8], ['lbu', 1], ['lhu', 2], ['lwu', 4]];
const STORES: readonly [string, number][] = [['sb', 1], ['sh', 2], ['sw', 4], ['sd', 8]];
const AMO_OPS = ['amoswap', 'amoadd', 'amoxor', 'amoand', 'amoor', 'amomin', 'amomax', 'amominu', 'amomaxu'];
const AMO_ORDER = ['', '.aq', '.rl', '.aqrl'];
const BRANCHES = ['beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu'];
const RM = ['rne', 'rtz', 'rdn', 'rup', 'rmm', 'dyn'];
const FP_BIN = ['fadd', 'fsub', 'fmul', 'fdiv'];
const FP_MINMAX = ['fmin', 'fmax', 'fsgnj', 'fsgnjn', 'fsgnjx'];
const FP_FMA = ['fmadd', 'fmsub', 'fnmadd', 'fnmsub'];
const FP_CMP = ['feq', 'flt', 'fle'];
const INT_TYPES = ['w', 'wu', 'l', 'lu'];

export class SequenceGenerator {
  constructor(private readonly r: Rng, private readonly opts: GenOptions) {}

  /** A destination register: any x except the scratch base (x0 sometimes, which discards the result). */
  private rd(): string {
    const r = this.r;
    if (r.chance(0.03)) return 'x0';
    let i: number;
    do i = r.range(1, 31); while (i === SCRATCH_REG);
    // Favour x8-x15 so the assembler's compressed forms appear often.
    if (r.chance(0.4)) i = r.range(8, 15);
    return XN(i);
  }
  private rs(): string { return this.r.chance(0.4) ? XN(this.r.range(8, 15)) : XN(this.r.range(0, 31)); }
  private fr(): string { return this.r.chance(0.4) ? FN(this.r.range(8, 15)) : FN(this.r.range(0, 31)); }
  private imm12(): number { return this.r.chance(0.5) ? this.r.range(-32, 31) : this.r.range(-2048, 2047); }

  /** An offset from x27 for an access of `w` bytes, aligned to `w`. */
  private offset(w: number): number { return this.r.int(SCRATCH_BYTES / w) * w; }

  generate(index: number): Sequence {
    const r = this.r;
    const lines: string[] = [];
    let pendingLabel = 0; // instructions until the forward label is placed (0: none open)
    while (lines.length < this.opts.length) {
      this.one(lines, pendingLabel === 0);
      if (pendingLabel > 0 && --pendingLabel === 0) lines.push('1:');
      if (pendingLabel === 0 && lines.length > 0 && /^\s*(b|jal)/.test(lines[lines.length - 1]!) && lines[lines.length - 1]!.endsWith('1f')) {
        pendingLabel = r.range(1, 4);
      }
    }
    if (pendingLabel > 0) lines.push('1:');
    const x: bigint[] = [0n];
    for (let i = 1; i < 32; i++) x.push(randomX(r));
    const f: bigint[] = [];
    for (let i = 0; i < 32; i++) f.push(randomF(r));
    const fcsr = (r.range(0, 4) << 5) | (r.chance(0.3) ? r.int(32) : 0);
    const scratch = new Uint8Array(SCRATCH_BYTES);
    for (let i = 0; i < SCRATCH_BYTES; i += 4) new DataView(scratch.buffer).setUint32(i, r.u32(), true);
    return { index, lines, x, f, fcsr, scratch };
  }

  private one(out: string[], branchOk: boolean): void {
    const r = this.r;
    const fp = this.opts.fp;
    const k = r.int(fp ? 100 : 60);
    if (k < 18) {
      if (r.chance(0.3)) { // rd == rs1 within x8-x15: the assembler picks c.add/c.sub/c.and/c.addw/...
        const d = XN(r.range(8, 15));
        out.push(`${r.pick(C_R_OPS)} ${d}, ${d}, ${XN(r.range(8, 15))}`);
      } else {
        out.push(`${r.pick(R_OPS)} ${this.rd()}, ${this.rs()}, ${this.rs()}`);
      }
      return;
    }
    if (k < 28) {
      if (r.chance(0.3)) { // c.addi / c.addiw / c.andi / c.li
        const d = r.chance(0.5) ? XN(r.range(8, 15)) : this.rd();
        const op = r.pick(['addi', 'addiw', 'andi', 'li']);
        if (op === 'li') out.push(`li ${d}, ${r.range(-32, 31)}`);
        else out.push(`${op} ${d}, ${d}, ${r.range(-32, 31)}`);
      } else {
        out.push(`${r.pick(I_OPS)} ${this.rd()}, ${this.rs()}, ${this.imm12()}`);
      }
      return;
    }
    if (k < 32) {
      if (r.chance(0.3)) { // c.slli / c.srli / c.srai
        const d = XN(r.range(8, 15));
        out.push(`${r.pick(SHIFT_OPS)} ${d}, ${d}, ${r.range(1, 63)}`);
      } else if (r.chance(0.5)) out.push(`${r.pick(SHIFT_OPS)} ${this.rd()}, ${this.rs()}, ${r.int(64)}`);
      else out.push(`${r.pick(SHIFTW_OPS)} ${this.rd()}, ${this.rs()}, ${r.int(32)}`);
      return;
    }
    if (k < 33) { out.push(`mv ${this.rd()}, ${this.rs()}`); return; }
    if (k < 34 && r.chance(0.5)) { // c.lw/c.ld/c.sw/c.sd/c.fld/c.fsd: base and data in x8-x15
      const base = XN(r.range(8, 15));
      out.push(`addi ${base}, x${SCRATCH_REG}, ${this.offset(8)}`);
      const [op, w] = r.pick(fp ? C_MEM : C_MEM.slice(0, 4));
      const disp = r.int(Math.min(32, (SCRATCH_BYTES - Number(out[out.length - 1]!.split(', ')[2])) / w)) * w;
      const data = op.startsWith('f') ? FN(r.range(8, 15)) : XN(r.range(8, 15));
      if (op.startsWith('s') || op.startsWith('fs')) out.push(`${op} ${data}, ${disp}(${base})`);
      else out.push(`${op} ${data}, ${disp}(${base})`);
      return;
    }
    if (k < 35) { out.push(`${r.chance(0.5) ? 'lui' : 'auipc'} ${this.rd()}, ${r.int(0x100000)}`); return; }
    if (k < 42) {
      const [op, w] = r.pick(LOADS);
      out.push(`${op} ${this.rd()}, ${this.offset(w)}(x${SCRATCH_REG})`);
      return;
    }
    if (k < 48) {
      const [op, w] = r.pick(STORES);
      out.push(`${op} ${this.rs()}, ${this.offset(w)}(x${SCRATCH_REG})`);
      return;
    }
    if (k < 52) { // AMO or LR/SC through an address register
      const w = r.chance(0.5) ? 8 : 4;
      const sfx = w === 8 ? '.d' : '.w';
      const a = this.rd();
      const addr = a === 'x0' ? 'x5' : a;
      out.push(`addi ${addr}, x${SCRATCH_REG}, ${this.offset(w)}`);
      if (r.chance(0.75)) {
        out.push(`${r.pick(AMO_OPS)}${sfx}${r.pick(AMO_ORDER)} ${this.rd()}, ${this.rs()}, (${addr})`);
      } else {
        out.push(`lr${sfx}${r.pick(AMO_ORDER)} ${this.rd()}, (${addr})`);
        // The address register may have been overwritten by lr's destination; sc then uses a fresh copy.
        out.push(`addi x5, x${SCRATCH_REG}, ${out[out.length - 2]!.split(', ')[2]}`);
        out.push(`sc${sfx}${r.pick(AMO_ORDER)} ${this.rd()}, ${this.rs()}, (x5)`);
      }
      return;
    }
    if (k < 56) {
      if (!branchOk) { out.push(`xor ${this.rd()}, ${this.rs()}, ${this.rs()}`); return; }
      if (r.chance(0.8)) out.push(`${r.pick(BRANCHES)} ${this.rs()}, ${this.rs()}, 1f`);
      else out.push(`jal ${this.rd()}, 1f`);
      return;
    }
    if (k < 60) { // fcsr access (valid rounding modes only, so dynamic-rm instructions stay legal)
      switch (r.int(6)) {
        case 0: out.push(`frflags ${this.rd()}`); break;
        case 1: out.push(`frrm ${this.rd()}`); break;
        case 2: out.push(`frcsr ${this.rd()}`); break;
        case 3: out.push(`fsflags ${this.rd()}, ${this.rs()}`); break;
        case 4: out.push(`fsrmi ${this.rd()}, ${r.int(5)}`); break;
        default: out.push(`fsflagsi ${this.rd()}, ${r.int(32)}`);
      }
      return;
    }
    // F and D
    const t = r.chance(0.5) ? 's' : 'd';
    const rm = (): string => r.pick(RM);
    const j = r.int(12);
    switch (j) {
      case 0: out.push(`${r.pick(FP_BIN)}.${t} ${this.fr()}, ${this.fr()}, ${this.fr()}, ${rm()}`); break;
      case 1: out.push(`fsqrt.${t} ${this.fr()}, ${this.fr()}, ${rm()}`); break;
      case 2: out.push(`${r.pick(FP_MINMAX)}.${t} ${this.fr()}, ${this.fr()}, ${this.fr()}`); break;
      case 3: out.push(`${r.pick(FP_FMA)}.${t} ${this.fr()}, ${this.fr()}, ${this.fr()}, ${this.fr()}, ${rm()}`); break;
      case 4: out.push(`${r.pick(FP_CMP)}.${t} ${this.rd()}, ${this.fr()}, ${this.fr()}`); break;
      case 5: out.push(`fclass.${t} ${this.rd()}, ${this.fr()}`); break;
      case 6: out.push(`fcvt.${r.pick(INT_TYPES)}.${t} ${this.rd()}, ${this.fr()}, ${rm()}`); break;
      case 7: { // int -> double from 32 bits is exact: the assembler takes no rounding mode for it
        const it = r.pick(INT_TYPES);
        const exact = t === 'd' && (it === 'w' || it === 'wu');
        out.push(`fcvt.${t}.${it} ${this.fr()}, ${this.rs()}${exact ? '' : `, ${rm()}`}`);
        break;
      }
      case 8: out.push(t === 's' ? `fcvt.s.d ${this.fr()}, ${this.fr()}, ${rm()}` : `fcvt.d.s ${this.fr()}, ${this.fr()}`); break;
      case 9:
        if (r.chance(0.5)) out.push(`fmv.x.${t === 's' ? 'w' : 'd'} ${this.rd()}, ${this.fr()}`);
        else out.push(`fmv.${t === 's' ? 'w' : 'd'}.x ${this.fr()}, ${this.rs()}`);
        break;
      case 10: {
        const w = t === 's' ? 4 : 8;
        out.push(`fl${t === 's' ? 'w' : 'd'} ${this.fr()}, ${this.offset(w)}(x${SCRATCH_REG})`);
        break;
      }
      default: {
        const w = t === 's' ? 4 : 8;
        out.push(`fs${t === 's' ? 'w' : 'd'} ${this.fr()}, ${this.offset(w)}(x${SCRATCH_REG})`);
      }
    }
  }
}
