// A tiny RV64IMAC assembler for tests and bare-metal fixtures: one function per instruction, returning the
// encoded word (RISC-V unprivileged spec §2.2-§2.3 base formats, §16 RVC formats). Registers are numbers 0..31.

export const R = {
  zero: 0, ra: 1, sp: 2, gp: 3, tp: 4, t0: 5, t1: 6, t2: 7, s0: 8, s1: 9,
  a0: 10, a1: 11, a2: 12, a3: 13, a4: 14, a5: 15, a6: 16, a7: 17,
  s2: 18, s3: 19, s4: 20, s5: 21, s6: 22, s7: 23, s8: 24, s9: 25, s10: 26, s11: 27, t3: 28, t4: 29, t5: 30, t6: 31,
} as const;

const u = (v: number): number => v >>> 0;
export const rType = (f7: number, rs2: number, rs1: number, f3: number, rd: number, op: number): number =>
  u((f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op);
export const iType = (imm: number, rs1: number, f3: number, rd: number, op: number): number => {
  if (imm < -2048 || imm > 4095) throw new RangeError(`I-immediate ${imm} out of range`);
  return u(((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op);
};
export const sType = (imm: number, rs2: number, rs1: number, f3: number, op: number): number =>
  u((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 0x1f) << 7) | op);
export const bType = (imm: number, rs2: number, rs1: number, f3: number): number =>
  u((((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
    (((imm >> 1) & 0xf) << 8) | (((imm >> 11) & 1) << 7) | 0x63);
export const uType = (imm20: number, rd: number, op: number): number => u(((imm20 & 0xfffff) << 12) | (rd << 7) | op);
export const jType = (imm: number, rd: number): number =>
  u((((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3ff) << 21) | (((imm >> 11) & 1) << 20) | (((imm >> 12) & 0xff) << 12) |
    (rd << 7) | 0x6f);

// RV64I
export const lui = (rd: number, imm20: number) => uType(imm20, rd, 0x37);
export const auipc = (rd: number, imm20: number) => uType(imm20, rd, 0x17);
export const jal = (rd: number, off: number) => jType(off, rd);
export const jalr = (rd: number, rs1: number, imm = 0) => iType(imm, rs1, 0, rd, 0x67);
export const beq = (a: number, b: number, off: number) => bType(off, b, a, 0);
export const bne = (a: number, b: number, off: number) => bType(off, b, a, 1);
export const blt = (a: number, b: number, off: number) => bType(off, b, a, 4);
export const bge = (a: number, b: number, off: number) => bType(off, b, a, 5);
export const bltu = (a: number, b: number, off: number) => bType(off, b, a, 6);
export const bgeu = (a: number, b: number, off: number) => bType(off, b, a, 7);
export const lb = (rd: number, rs1: number, imm = 0) => iType(imm, rs1, 0, rd, 0x03);
export const lh = (rd: number, rs1: number, imm = 0) => iType(imm, rs1, 1, rd, 0x03);
export const lw = (rd: number, rs1: number, imm = 0) => iType(imm, rs1, 2, rd, 0x03);
export const ld = (rd: number, rs1: number, imm = 0) => iType(imm, rs1, 3, rd, 0x03);
export const lbu = (rd: number, rs1: number, imm = 0) => iType(imm, rs1, 4, rd, 0x03);
export const lhu = (rd: number, rs1: number, imm = 0) => iType(imm, rs1, 5, rd, 0x03);
export const lwu = (rd: number, rs1: number, imm = 0) => iType(imm, rs1, 6, rd, 0x03);
export const sb = (rs2: number, rs1: number, imm = 0) => sType(imm, rs2, rs1, 0, 0x23);
export const sh = (rs2: number, rs1: number, imm = 0) => sType(imm, rs2, rs1, 1, 0x23);
export const sw = (rs2: number, rs1: number, imm = 0) => sType(imm, rs2, rs1, 2, 0x23);
export const sd = (rs2: number, rs1: number, imm = 0) => sType(imm, rs2, rs1, 3, 0x23);
export const addi = (rd: number, rs1: number, imm: number) => iType(imm, rs1, 0, rd, 0x13);
export const slti = (rd: number, rs1: number, imm: number) => iType(imm, rs1, 2, rd, 0x13);
export const sltiu = (rd: number, rs1: number, imm: number) => iType(imm, rs1, 3, rd, 0x13);
export const xori = (rd: number, rs1: number, imm: number) => iType(imm, rs1, 4, rd, 0x13);
export const ori = (rd: number, rs1: number, imm: number) => iType(imm, rs1, 6, rd, 0x13);
export const andi = (rd: number, rs1: number, imm: number) => iType(imm, rs1, 7, rd, 0x13);
export const slli = (rd: number, rs1: number, sh: number) => iType(sh, rs1, 1, rd, 0x13);
export const srli = (rd: number, rs1: number, sh: number) => iType(sh, rs1, 5, rd, 0x13);
export const srai = (rd: number, rs1: number, sh: number) => iType(0x400 | sh, rs1, 5, rd, 0x13);
export const addiw = (rd: number, rs1: number, imm: number) => iType(imm, rs1, 0, rd, 0x1b);
export const slliw = (rd: number, rs1: number, sh: number) => iType(sh, rs1, 1, rd, 0x1b);
export const srliw = (rd: number, rs1: number, sh: number) => iType(sh, rs1, 5, rd, 0x1b);
export const sraiw = (rd: number, rs1: number, sh: number) => iType(0x400 | sh, rs1, 5, rd, 0x1b);
const op = (f7: number, f3: number) => (rd: number, a: number, b: number) => rType(f7, b, a, f3, rd, 0x33);
const op32 = (f7: number, f3: number) => (rd: number, a: number, b: number) => rType(f7, b, a, f3, rd, 0x3b);
export const add = op(0, 0), sub = op(0x20, 0), sll = op(0, 1), slt = op(0, 2), sltu = op(0, 3), xor = op(0, 4);
export const srl = op(0, 5), sra = op(0x20, 5), or = op(0, 6), and = op(0, 7);
export const addw = op32(0, 0), subw = op32(0x20, 0), sllw = op32(0, 1), srlw = op32(0, 5), sraw = op32(0x20, 5);
// RV64M
export const mul = op(1, 0), mulh = op(1, 1), mulhsu = op(1, 2), mulhu = op(1, 3);
export const div = op(1, 4), divu = op(1, 5), rem = op(1, 6), remu = op(1, 7);
export const mulw = op32(1, 0), divw = op32(1, 4), divuw = op32(1, 5), remw = op32(1, 6), remuw = op32(1, 7);
// Zifencei, fences, system
export const fence = () => 0x0ff0000f;
export const fenceI = () => 0x0000100f;
export const pause = () => 0x0100000f;
export const ecall = () => 0x00000073;
export const ebreak = () => 0x00100073;
export const mret = () => 0x30200073;
export const sret = () => 0x10200073;
export const wfi = () => 0x10500073;
export const sfenceVma = (rs1 = 0, rs2 = 0) => rType(0x09, rs2, rs1, 0, 0, 0x73);
export const csrrw = (rd: number, csr: number, rs1: number) => u((csr << 20) | (rs1 << 15) | (1 << 12) | (rd << 7) | 0x73);
export const csrrs = (rd: number, csr: number, rs1: number) => u((csr << 20) | (rs1 << 15) | (2 << 12) | (rd << 7) | 0x73);
export const csrrc = (rd: number, csr: number, rs1: number) => u((csr << 20) | (rs1 << 15) | (3 << 12) | (rd << 7) | 0x73);
export const csrrwi = (rd: number, csr: number, imm: number) => u((csr << 20) | (imm << 15) | (5 << 12) | (rd << 7) | 0x73);
export const csrrsi = (rd: number, csr: number, imm: number) => u((csr << 20) | (imm << 15) | (6 << 12) | (rd << 7) | 0x73);
export const csrrci = (rd: number, csr: number, imm: number) => u((csr << 20) | (imm << 15) | (7 << 12) | (rd << 7) | 0x73);
export const csrr = (rd: number, csr: number) => csrrs(rd, csr, 0);
export const csrw = (csr: number, rs1: number) => csrrw(0, csr, rs1);
// RV64A: `w` selects .W (true) or .D
const amoOp = (f5: number) => (rd: number, rs2: number, rs1: number, w = false, aq = false, rl = false) =>
  u((f5 << 27) | ((aq ? 1 : 0) << 26) | ((rl ? 1 : 0) << 25) | (rs2 << 20) | (rs1 << 15) | ((w ? 2 : 3) << 12) | (rd << 7) | 0x2f);
export const lr = (rd: number, rs1: number, w = false) => amoOp(0x02)(rd, 0, rs1, w);
export const sc = amoOp(0x03), amoswap = amoOp(0x01), amoadd = amoOp(0x00), amoxor = amoOp(0x04), amoand = amoOp(0x0c);
export const amoor = amoOp(0x08), amomin = amoOp(0x10), amomax = amoOp(0x14), amominu = amoOp(0x18), amomaxu = amoOp(0x1c);
// F/D loads and stores
export const flw = (rd: number, rs1: number, imm = 0) => iType(imm, rs1, 2, rd, 0x07);
export const fld = (rd: number, rs1: number, imm = 0) => iType(imm, rs1, 3, rd, 0x07);
export const fsw = (rs2: number, rs1: number, imm = 0) => sType(imm, rs2, rs1, 2, 0x27);
export const fsd = (rs2: number, rs1: number, imm = 0) => sType(imm, rs2, rs1, 3, 0x27);

// A few RVC encodings (16-bit). `p` registers are x8..x15.
const cp = (r: number): number => { if (r < 8 || r > 15) throw new RangeError(`x${r} is not a compressed register`); return r - 8; };
export const cNop = () => 0x0001;
export const cLi = (rd: number, imm: number) => (2 << 13) | (((imm >> 5) & 1) << 12) | (rd << 7) | ((imm & 31) << 2) | 1;
export const cAddi = (rd: number, imm: number) => (0 << 13) | (((imm >> 5) & 1) << 12) | (rd << 7) | ((imm & 31) << 2) | 1;
export const cMv = (rd: number, rs2: number) => (4 << 13) | (rd << 7) | (rs2 << 2) | 2;
export const cAdd = (rd: number, rs2: number) => (4 << 13) | (1 << 12) | (rd << 7) | (rs2 << 2) | 2;
export const cJr = (rs1: number) => (4 << 13) | (rs1 << 7) | 2;
export const cEbreak = () => 0x9002;
export const cSub = (rd: number, rs2: number) => 0x8c01 | (cp(rd) << 7) | (cp(rs2) << 2);
export const cLw = (rd: number, rs1: number, imm: number) =>
  (2 << 13) | (((imm >> 3) & 7) << 10) | (cp(rs1) << 7) | (((imm >> 2) & 1) << 6) | (((imm >> 6) & 1) << 5) | (cp(rd) << 2);
export const cSd = (rs2: number, rs1: number, imm: number) =>
  (7 << 13) | (((imm >> 3) & 7) << 10) | (cp(rs1) << 7) | (((imm >> 6) & 3) << 5) | (cp(rs2) << 2);
export const cLd = (rd: number, rs1: number, imm: number) =>
  (3 << 13) | (((imm >> 3) & 7) << 10) | (cp(rs1) << 7) | (((imm >> 6) & 3) << 5) | (cp(rd) << 2);
export const cJ = (off: number) => (5 << 13) | (((off >> 11) & 1) << 12) | (((off >> 4) & 1) << 11) | (((off >> 8) & 3) << 9) |
  (((off >> 10) & 1) << 8) | (((off >> 6) & 1) << 7) | (((off >> 7) & 1) << 6) | (((off >> 1) & 7) << 3) | (((off >> 5) & 1) << 2) | 1;
export const cBeqz = (rs1: number, off: number) => (6 << 13) | (((off >> 8) & 1) << 12) | (((off >> 3) & 3) << 10) | (cp(rs1) << 7) |
  (((off >> 6) & 3) << 5) | (((off >> 1) & 3) << 3) | (((off >> 5) & 1) << 2) | 1;

/** Loads an arbitrary 64-bit constant into rd (LUI/ADDI/SLLI sequence). */
export function li(rd: number, value: bigint | number): number[] {
  const v = BigInt.asIntN(64, BigInt(value));
  if (v >= -2048n && v < 2048n) return [addi(rd, 0, Number(v))];
  if (v >= -(1n << 31n) && v < (1n << 31n)) {
    const lo = Number(BigInt.asIntN(12, v));
    const hi = Number(BigInt.asIntN(32, (v - BigInt(lo)))) >> 12;
    const out = [lui(rd, hi & 0xfffff)];
    if (lo !== 0) out.push(addiw(rd, rd, lo));
    return out;
  }
  const lo = Number(BigInt.asIntN(12, v));
  const rest = (v - BigInt(lo)) >> 12n;
  let shift = 12;
  let r = rest;
  while ((r & 1n) === 0n) { r >>= 1n; shift++; }
  return [...li(rd, r), slli(rd, rd, shift), ...(lo !== 0 ? [addi(rd, rd, lo)] : [])];
}

/** A program under construction: 32-bit words and 16-bit halfwords, emitted in order. */
export class Program {
  private bytes: number[] = [];
  constructor(readonly base: number) {}
  /** Address of the next instruction. */
  get here(): number { return this.base + this.bytes.length; }
  /** Appends 32-bit instructions (arrays are flattened). */
  w(...words: (number | number[])[]): this {
    for (const w of words.flat()) for (let i = 0; i < 4; i++) this.bytes.push((w >>> (8 * i)) & 0xff);
    return this;
  }
  /** Appends 16-bit compressed instructions. */
  c(...halves: number[]): this {
    for (const h of halves) this.bytes.push(h & 0xff, (h >>> 8) & 0xff);
    return this;
  }
  /** Pads with zero bytes up to address `addr`. */
  org(addr: number): this {
    if (addr < this.here) throw new RangeError(`org 0x${addr.toString(16)} is behind 0x${this.here.toString(16)}`);
    while (this.here < addr) this.bytes.push(0);
    return this;
  }
  build(): Uint8Array { return Uint8Array.from(this.bytes); }
}
