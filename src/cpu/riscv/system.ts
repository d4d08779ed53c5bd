// The SYSTEM opcode: ECALL (to the SBI seam from S-mode), EBREAK, MRET/SRET, WFI, SFENCE.VMA (privileged spec
// §3.3, §4.2.1) and the Zicsr instructions, which reach CSRs through the hart's CSR table (csr.ts).

import * as C from './csr-defs.js';
import type { Hart } from './hart.js';

const TWO32 = 4294967296;

/** Executes a SYSTEM instruction; hart.pc and hart.instret are in sync. Returns the next pc. */
export function system(h: Hart, insn: number, raw: number, pc: number, npc: number): number {
  const f3 = (insn >>> 12) & 7;
  if (f3 !== 0) { csrInsn(h, insn, raw); return npc; }
  const rd = (insn >>> 7) & 31, rs1 = (insn >>> 15) & 31, rs2 = (insn >>> 20) & 31, f7 = insn >>> 25;
  if (f7 === 0x09 && rd === 0) { // SFENCE.VMA
    if (h.priv === C.PRV_U || (h.priv === C.PRV_S && (h.mstatus & C.MSTATUS_TVM) !== 0)) h.illegal(raw);
    const x32 = h.x32;
    h.sfenceVma(rs1 === 0 ? null : x32[rs1 * 2 + 1]! * TWO32 + (x32[rs1 * 2]! >>> 0),
      rs2 === 0 ? null : x32[rs2 * 2]! & 0xffff);
    return npc;
  }
  if (rd !== 0 || rs1 !== 0) h.illegal(raw);
  switch (insn >>> 20) {
    case 0x000: // ECALL
      if (h.priv === C.PRV_S && h.env.sbi !== null) {
        h.pc = npc; // the SBI handler may inspect or redirect the hart
        h.env.sbi.call(h);
        return h.pc;
      }
      return h.fault(h.priv === C.PRV_U ? C.CAUSE_USER_ECALL : h.priv === C.PRV_S ? C.CAUSE_SUPERVISOR_ECALL : C.CAUSE_MACHINE_ECALL, 0);
    case 0x001: // EBREAK
      return h.fault(C.CAUSE_BREAKPOINT, pc);
    case 0x302: { // MRET
      if (h.priv !== C.PRV_M) h.illegal(raw);
      const ms = h.mstatus;
      const mpp = ((ms >> C.MSTATUS_MPP_SHIFT) & 3) as 0 | 1 | 3;
      let n = (ms & ~(C.MSTATUS_MIE | C.MSTATUS_MPP)) | C.MSTATUS_MPIE | ((ms & C.MSTATUS_MPIE) !== 0 ? C.MSTATUS_MIE : 0);
      if (mpp !== C.PRV_M) n &= ~C.MSTATUS_MPRV;
      h.mstatus = n;
      h.resValid = false;
      h.setPriv(mpp);
      h.irqChanged();
      return h.mepc;
    }
    case 0x102: { // SRET
      if (h.priv === C.PRV_U || (h.priv === C.PRV_S && (h.mstatus & C.MSTATUS_TSR) !== 0)) h.illegal(raw);
      const ms = h.mstatus;
      const spp = (ms & C.MSTATUS_SPP) !== 0 ? 1 : 0;
      h.mstatus = (ms & ~(C.MSTATUS_SIE | C.MSTATUS_SPP | C.MSTATUS_MPRV)) | C.MSTATUS_SPIE |
        ((ms & C.MSTATUS_SPIE) !== 0 ? C.MSTATUS_SIE : 0);
      h.resValid = false;
      h.setPriv(spp);
      h.irqChanged();
      return h.sepc;
    }
    case 0x105: // WFI
      if (h.priv === C.PRV_U) h.illegal(raw);
      if (h.wakeable()) return npc;
      if (h.priv === C.PRV_S && (h.mstatus & C.MSTATUS_TW) !== 0) h.illegal(raw);
      h.waiting = true;
      h.attn = true;
      return npc;
    default:
      return h.illegal(raw);
  }
}

/**
 * Zicsr: CSRRW/CSRRS/CSRRC and the immediate forms. CSRRS/CSRRC with rs1 = x0 (or uimm = 0) do not write.
 * Checks, each raising illegal instruction: the CSR exists, privilege >= its minPriv, a write has somewhere to
 * go (never for read-only numbers), and the row's guard allows the access.
 */
function csrInsn(h: Hart, insn: number, raw: number): void {
  const f3 = (insn >>> 12) & 7, rd = (insn >>> 7) & 31, rs1 = (insn >>> 15) & 31, csr = insn >>> 20;
  if (f3 === 4) h.illegal(raw);
  const writes = (f3 & 3) === 1 || rs1 !== 0;
  const row = h.csrs.rows[csr];
  if (row === undefined || row.minPriv > h.priv || (writes && row.write === null)) return h.illegal(raw);
  if (row.guard !== null && !row.guard(h, writes)) h.illegal(raw);
  const old = row.read(h);
  if (writes) {
    const src = (f3 & 4) !== 0 ? BigInt(rs1) : h.x[rs1]!;
    const v = (f3 & 3) === 1 ? src : (f3 & 3) === 2 ? old | src : old & ~src;
    row.write!(h, BigInt.asUintN(64, v));
    if (row.afterInsnWrite !== null) row.afterInsnWrite(h);
  }
  if (rd !== 0) h.x[rd] = BigInt.asIntN(64, old);
}
