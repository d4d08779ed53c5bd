// RVC: expands 16-bit compressed instructions to their 32-bit equivalents (RISC-V unprivileged spec §16, RV64C).
// The whole table is built once at load time, so the hart decodes a compressed instruction with one array read.
// 0 marks a reserved or illegal encoding (0 is itself an illegal 32-bit instruction).

const rI = (imm: number, rs1: number, f3: number, rd: number, op: number): number =>
  ((imm & 0xfff) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
const rS = (imm: number, rs2: number, rs1: number, f3: number, op: number): number =>
  (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 0x1f) << 7) | op;
const rR = (f7: number, rs2: number, rs1: number, f3: number, rd: number, op: number): number =>
  (f7 << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
const rB = (imm: number, rs2: number, rs1: number, f3: number): number =>
  (((imm >> 12) & 1) << 31) | (((imm >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) |
  (((imm >> 1) & 0xf) << 8) | (((imm >> 11) & 1) << 7) | 0x63;
const rJ = (imm: number, rd: number): number =>
  (((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3ff) << 21) | (((imm >> 11) & 1) << 20) | (((imm >> 12) & 0xff) << 12) |
  (rd << 7) | 0x6f;

const sext = (v: number, bits: number): number => (v << (32 - bits)) >> (32 - bits);

/** Expands one compressed instruction; returns 0 when the encoding is reserved or illegal. */
export function expandCompressed(h: number): number {
  const op = h & 3, f3 = (h >> 13) & 7;
  const rdp = 8 + ((h >> 2) & 7), rs1p = 8 + ((h >> 7) & 7);
  const rd = (h >> 7) & 31, rs2 = (h >> 2) & 31;
  const imm6 = sext(((h >> 7) & 0x20) | ((h >> 2) & 0x1f), 6);
  const shamt = ((h >> 7) & 0x20) | ((h >> 2) & 0x1f);
  if (op === 0) {
    const ldImm = ((h >> 7) & 0x38) | ((h << 1) & 0xc0);
    const lwImm = ((h >> 7) & 0x38) | ((h >> 4) & 4) | ((h << 1) & 0x40);
    switch (f3) {
      case 0: {
        const imm = ((h >> 7) & 0x30) | ((h >> 1) & 0x3c0) | ((h >> 4) & 4) | ((h >> 2) & 8);
        return imm === 0 ? 0 : rI(imm, 2, 0, rdp, 0x13); // C.ADDI4SPN
      }
      case 1: return rI(ldImm, rs1p, 3, rdp, 0x07); // C.FLD
      case 2: return rI(lwImm, rs1p, 2, rdp, 0x03); // C.LW
      case 3: return rI(ldImm, rs1p, 3, rdp, 0x03); // C.LD
      case 5: return rS(ldImm, rdp, rs1p, 3, 0x27); // C.FSD
      case 6: return rS(lwImm, rdp, rs1p, 2, 0x23); // C.SW
      case 7: return rS(ldImm, rdp, rs1p, 3, 0x23); // C.SD
      default: return 0;
    }
  }
  if (op === 1) {
    switch (f3) {
      case 0: return rI(imm6, rd, 0, rd, 0x13); // C.ADDI / C.NOP
      case 1: return rd === 0 ? 0 : rI(imm6, rd, 0, rd, 0x1b); // C.ADDIW
      case 2: return rI(imm6, 0, 0, rd, 0x13); // C.LI
      case 3: {
        if (rd === 2) { // C.ADDI16SP
          const imm = sext(((h >> 3) & 0x200) | ((h >> 2) & 0x10) | ((h << 1) & 0x40) | ((h << 4) & 0x180) | ((h << 3) & 0x20), 10);
          return imm === 0 ? 0 : rI(imm, 2, 0, 2, 0x13);
        }
        if (imm6 === 0) return 0;
        return ((imm6 & 0xfffff) << 12) | (rd << 7) | 0x37; // C.LUI
      }
      case 4: {
        const rdq = rs1p;
        switch ((h >> 10) & 3) {
          case 0: return rI(shamt, rdq, 5, rdq, 0x13); // C.SRLI
          case 1: return rI(0x400 | shamt, rdq, 5, rdq, 0x13); // C.SRAI
          case 2: return rI(imm6, rdq, 7, rdq, 0x13); // C.ANDI
          default: {
            const f2 = (h >> 5) & 3;
            if ((h & 0x1000) === 0) {
              if (f2 === 0) return rR(0x20, rdp, rdq, 0, rdq, 0x33); // C.SUB
              if (f2 === 1) return rR(0, rdp, rdq, 4, rdq, 0x33); // C.XOR
              if (f2 === 2) return rR(0, rdp, rdq, 6, rdq, 0x33); // C.OR
              return rR(0, rdp, rdq, 7, rdq, 0x33); // C.AND
            }
            if (f2 === 0) return rR(0x20, rdp, rdq, 0, rdq, 0x3b); // C.SUBW
            if (f2 === 1) return rR(0, rdp, rdq, 0, rdq, 0x3b); // C.ADDW
            return 0;
          }
        }
      }
      case 5: { // C.J
        const imm = sext(((h >> 1) & 0x800) | ((h >> 7) & 0x10) | ((h >> 1) & 0x300) | ((h << 2) & 0x400) |
          ((h >> 1) & 0x40) | ((h << 1) & 0x80) | ((h >> 2) & 0xe) | ((h << 3) & 0x20), 12);
        return rJ(imm, 0);
      }
      default: { // C.BEQZ / C.BNEZ
        const imm = sext(((h >> 4) & 0x100) | ((h >> 7) & 0x18) | ((h << 1) & 0xc0) | ((h >> 2) & 6) | ((h << 3) & 0x20), 9);
        return rB(imm, 0, rs1p, f3 === 6 ? 0 : 1);
      }
    }
  }
  if (op === 2) {
    switch (f3) {
      case 0: return rI(shamt, rd, 1, rd, 0x13); // C.SLLI
      case 1: return rI(((h >> 7) & 0x20) | ((h >> 2) & 0x18) | ((h << 4) & 0x1c0), 2, 3, rd, 0x07); // C.FLDSP
      case 2: return rd === 0 ? 0 : rI(((h >> 7) & 0x20) | ((h >> 2) & 0x1c) | ((h << 4) & 0xc0), 2, 2, rd, 0x03); // C.LWSP
      case 3: return rd === 0 ? 0 : rI(((h >> 7) & 0x20) | ((h >> 2) & 0x18) | ((h << 4) & 0x1c0), 2, 3, rd, 0x03); // C.LDSP
      case 4:
        if ((h & 0x1000) === 0) {
          if (rs2 === 0) return rd === 0 ? 0 : rI(0, rd, 0, 0, 0x67); // C.JR
          return rR(0, rs2, 0, 0, rd, 0x33); // C.MV
        }
        if (rs2 === 0) return rd === 0 ? 0x00100073 : rI(0, rd, 0, 1, 0x67); // C.EBREAK / C.JALR
        return rR(0, rs2, rd, 0, rd, 0x33); // C.ADD
      case 5: return rS(((h >> 7) & 0x38) | ((h >> 1) & 0x1c0), rs2, 2, 3, 0x27); // C.FSDSP
      case 6: return rS(((h >> 7) & 0x3c) | ((h >> 1) & 0xc0), rs2, 2, 2, 0x23); // C.SWSP
      default: return rS(((h >> 7) & 0x38) | ((h >> 1) & 0x1c0), rs2, 2, 3, 0x23); // C.SDSP
    }
  }
  return 0;
}

/** Expansion of every 16-bit pattern; entries whose low two bits are 11 are unused. */
export const RVC_TABLE: Int32Array = (() => {
  const t = new Int32Array(65536);
  for (let h = 0; h < 65536; h++) if ((h & 3) !== 3) t[h] = expandCompressed(h);
  return t;
})();
