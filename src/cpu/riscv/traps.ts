// Trap entry and interrupt selection (RISC-V privileged spec §3.1.6.1 mstatus stack, §3.1.7 xtvec, §3.1.8
// delegation, §3.1.9 which interrupt is taken and in what priority, §4.1.1 the S-mode view).

import * as C from './csr-defs.js';
import type { Hart } from './hart.js';
import { RVC_TABLE } from './rvc.js';

const PAGE_BYTES = 4096n;

/** Enters the trap handler for `cause` (an interrupt when `interrupt`), delegating to S when medeleg/mideleg say so. */
export function takeTrap(h: Hart, cause: number, tval: number, interrupt: boolean): void {
  const from = h.priv;
  const deleg = from <= C.PRV_S && (((interrupt ? h.mideleg : h.medeleg) >>> cause) & 1) !== 0;
  const tv = interrupt || Number.isSafeInteger(tval) ? BigInt(tval) : exactAddress(h, cause, tval);
  const causeBits = interrupt ? BigInt(cause) | (1n << 63n) : BigInt(cause);
  let ms = h.mstatus;
  if (deleg) {
    h.scause = causeBits; h.sepc = h.pc; h.stval = BigInt.asUintN(64, tv);
    ms = (ms & ~(C.MSTATUS_SPIE | C.MSTATUS_SIE | C.MSTATUS_SPP)) |
      ((ms & C.MSTATUS_SIE) !== 0 ? C.MSTATUS_SPIE : 0) | (from === C.PRV_S ? C.MSTATUS_SPP : 0);
    h.mstatus = ms;
    h.pc = h.stvecBase + (interrupt && h.stvecMode === 1 ? 4 * cause : 0);
    h.setPriv(C.PRV_S);
  } else {
    h.mcause = causeBits; h.mepc = h.pc; h.mtval = BigInt.asUintN(64, tv);
    ms = (ms & ~(C.MSTATUS_MPIE | C.MSTATUS_MIE | C.MSTATUS_MPP)) |
      ((ms & C.MSTATUS_MIE) !== 0 ? C.MSTATUS_MPIE : 0) | (from << C.MSTATUS_MPP_SHIFT);
    h.mstatus = ms;
    h.pc = h.mtvecBase + (interrupt && h.mtvecMode === 1 ? 4 * cause : 0);
    h.setPriv(C.PRV_M);
  }
  h.resValid = false;
  h.irqChanged();
}

/** The interrupt to take now (cause number), or -1 (§3.1.9: M-level first, then S-level, each by priority). */
export function pendingInterrupt(h: Hart): number {
  const pend = h.mip() & h.mie;
  if (pend === 0) return -1;
  const m = pend & ~h.mideleg;
  if (m !== 0 && (h.priv < C.PRV_M || (h.mstatus & C.MSTATUS_MIE) !== 0)) return highestIrq(m);
  const s = pend & h.mideleg;
  if (s !== 0 && (h.priv < C.PRV_S || (h.priv === C.PRV_S && (h.mstatus & C.MSTATUS_SIE) !== 0))) {
    return highestIrq(s);
  }
  return -1;
}

function highestIrq(bits: number): number {
  for (const b of C.IRQ_PRIORITY) if ((bits & (1 << b)) !== 0) return b;
  for (let b = 0; b < 32; b++) if ((bits & (1 << b)) !== 0) return b;
  return -1;
}

/**
 * The exact faulting address of a load, store or AMO whose address is beyond 2^53, where the hart's numbers round
 * (the access has failed: no valid address is that large). Recomputed from the instruction at h.pc and its base
 * register, which the faulting instruction has not written. Other causes, and instructions that cannot be read
 * back, keep the rounded value (xtval is WARL and may hold another invalid address, privileged spec §3.1.16).
 */
function exactAddress(h: Hart, cause: number, tval: number): bigint {
  const rounded = BigInt(tval);
  if (cause !== C.CAUSE_MISALIGNED_LOAD && cause !== C.CAUSE_LOAD_ACCESS && cause !== C.CAUSE_MISALIGNED_STORE &&
    cause !== C.CAUSE_STORE_ACCESS && cause !== C.CAUSE_LOAD_PAGE_FAULT && cause !== C.CAUSE_STORE_PAGE_FAULT) return rounded;
  let insn: number;
  try {
    insn = h.fetchSlow(h.pc); // fetched a moment ago, so this cannot fault
  } catch {
    return rounded;
  }
  if ((insn & 3) !== 3) insn = RVC_TABLE[insn & 0xffff]!;
  const op = insn & 0x7f, rs1 = (insn >>> 15) & 31;
  let imm: number;
  if (op === 0x03 || op === 0x07) imm = insn >> 20; // LOAD, LOAD-FP
  else if (op === 0x23 || op === 0x27) imm = ((insn >> 25) << 5) | ((insn >>> 7) & 31); // STORE, STORE-FP
  else if (op === 0x2f) imm = 0; // AMO
  else return rounded;
  const exact = BigInt.asUintN(64, h.x[rs1]! + BigInt(imm));
  // tval is that address rounded (twice: base, then + imm), so it lies within a few ulps of it.
  const d = BigInt.asIntN(64, exact) - rounded;
  return d > -PAGE_BYTES && d < PAGE_BYTES ? exact : rounded;
}
