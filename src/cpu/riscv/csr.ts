// CSR file semantics: reads and WARL writes of every CSR the hart implements (RISC-V privileged spec §2, §3.1,
// §3.7 PMP, §4.1 supervisor CSRs, Sstc, Zicntr). Privilege and trap-enable checks (TVM, counteren, FS) are done
// by the hart before it calls these; these two functions are also the tests' and debuggers' raw access path.

import * as C from './csr-defs.js';
import type { Hart } from './hart.js';

const M_DELEG_MASK = 0xb3ff; // medeleg: every exception but ecall-from-M (11) and the reserved 10 and 14
const MIDELEG_MASK = C.S_INTERRUPTS;
const MIE_MASK = C.S_INTERRUPTS | C.M_INTERRUPTS | C.MIP_LCOFIP;
const SSTATUS_READ = C.SSTATUS_WRITABLE;

function misa(h: Hart): bigint {
  let ext = 0;
  for (const c of h.fpuOk ? 'ACDFIMSU' : 'ACIMSU') ext |= 1 << (c.charCodeAt(0) - 65);
  return (2n << 62n) | BigInt(ext);
}

function statusRead(h: Hart, mask: number, xl: bigint): bigint {
  const s = h.mstatus & mask;
  return BigInt(s) | xl | ((s & C.MSTATUS_FS) === C.MSTATUS_FS ? C.STATUS_SD : 0n);
}

const signed = (v: bigint): number => Number(BigInt.asIntN(64, v));

/** Reads a CSR; null when it does not exist. */
export function csrRead(h: Hart, num: number): bigint | null {
  if (num >= C.CSR_CYCLE && num <= C.CSR_HPMCOUNTER31) {
    if (num === C.CSR_CYCLE) return BigInt(h.instret + h.cycleDelta);
    if (num === C.CSR_TIME) return BigInt(Math.floor(h.env.readTime(h.instret)));
    if (num === C.CSR_INSTRET) return BigInt(h.instret + h.instretDelta);
    return 0n;
  }
  if (num >= C.CSR_MHPMCOUNTER3 && num <= C.CSR_MHPMCOUNTER31) return 0n;
  if (num >= C.CSR_MHPMEVENT3 && num <= C.CSR_MHPMEVENT31) return 0n;
  if (num >= C.CSR_PMPCFG0 && num <= C.CSR_PMPCFG15) return h.pmp.readCfg(num - C.CSR_PMPCFG0);
  if (num >= C.CSR_PMPADDR0 && num <= C.CSR_PMPADDR63) return h.pmp.readAddr(num - C.CSR_PMPADDR0);
  switch (num) {
    case C.CSR_FFLAGS: return BigInt(h.fpu.fflags & 0x1f);
    case C.CSR_FRM: return BigInt(h.fpu.frm & 7);
    case C.CSR_FCSR: return BigInt(((h.fpu.frm & 7) << 5) | (h.fpu.fflags & 0x1f));
    case C.CSR_SSTATUS: return statusRead(h, SSTATUS_READ, C.SSTATUS_XL64);
    case C.CSR_SIE: return BigInt(h.mie & h.mideleg);
    case C.CSR_STVEC: return BigInt.asUintN(64, BigInt(h.stvecBase + h.stvecMode));
    case C.CSR_SCOUNTEREN: return BigInt(h.scounteren);
    case C.CSR_SENVCFG: return h.senvcfg;
    case C.CSR_SSCRATCH: return h.sscratch;
    case C.CSR_SEPC: return BigInt(h.sepc);
    case C.CSR_SCAUSE: return h.scause;
    case C.CSR_STVAL: return h.stval;
    case C.CSR_SIP: return BigInt(h.mip() & h.mideleg);
    case C.CSR_STIMECMP: return h.stimecmp;
    case C.CSR_SATP: return h.satp;
    case C.CSR_MVENDORID: case C.CSR_MARCHID: case C.CSR_MIMPID: case C.CSR_MCONFIGPTR: return 0n;
    case C.CSR_MHARTID: return BigInt(h.id);
    case C.CSR_MSTATUS: return statusRead(h, C.MSTATUS_WRITABLE, C.MSTATUS_XL64);
    case C.CSR_MISA: return misa(h);
    case C.CSR_MEDELEG: return BigInt(h.medeleg);
    case C.CSR_MIDELEG: return BigInt(h.mideleg);
    case C.CSR_MIE: return BigInt(h.mie);
    case C.CSR_MTVEC: return BigInt.asUintN(64, BigInt(h.mtvecBase + h.mtvecMode));
    case C.CSR_MCOUNTEREN: return BigInt(h.mcounteren);
    case C.CSR_MENVCFG: return h.menvcfg;
    case C.CSR_MCOUNTINHIBIT: return BigInt(h.mcountinhibit);
    case C.CSR_MSCRATCH: return h.mscratch;
    case C.CSR_MEPC: return BigInt(h.mepc);
    case C.CSR_MCAUSE: return h.mcause;
    case C.CSR_MTVAL: return h.mtval;
    case C.CSR_MIP: return BigInt(h.mip());
    case C.CSR_MCYCLE: return BigInt(h.instret + h.cycleDelta);
    case C.CSR_MINSTRET: return BigInt(h.instret + h.instretDelta);
    default: return null;
  }
}

function statusWrite(h: Hart, mask: number, v: bigint): void {
  let n = (h.mstatus & ~mask) | (Number(v & 0xffffffffn) & mask);
  if (((n >> C.MSTATUS_MPP_SHIFT) & 3) === 2) n = (n & ~C.MSTATUS_MPP) | (h.mstatus & C.MSTATUS_MPP); // WARL: keep old MPP
  if (!h.fpuOk) n &= ~C.MSTATUS_FS;
  h.setMstatus(n);
}

function tvec(v: bigint): [number, number] {
  const mode = Number(v & 3n);
  return [signed(v & ~3n), mode >= 2 ? 0 : mode];
}

/** Writes a CSR with its WARL rules; returns false when it does not exist or cannot be written. */
export function csrWrite(h: Hart, num: number, v: bigint): boolean {
  v = BigInt.asUintN(64, v);
  if (num >= C.CSR_MHPMCOUNTER3 && num <= C.CSR_MHPMCOUNTER31) return true;
  if (num >= C.CSR_MHPMEVENT3 && num <= C.CSR_MHPMEVENT31) return true;
  if (num >= C.CSR_PMPCFG0 && num <= C.CSR_PMPCFG15) {
    if (!h.pmp.writeCfg(num - C.CSR_PMPCFG0, v)) return false;
    h.flushTlb();
    return true;
  }
  if (num >= C.CSR_PMPADDR0 && num <= C.CSR_PMPADDR63) {
    h.pmp.writeAddr(num - C.CSR_PMPADDR0, v);
    h.flushTlb();
    return true;
  }
  switch (num) {
    case C.CSR_FFLAGS: h.fpu.fflags = Number(v & 0x1fn); return true;
    case C.CSR_FRM: h.fpu.frm = Number(v & 7n); return true;
    case C.CSR_FCSR: h.fpu.fflags = Number(v & 0x1fn); h.fpu.frm = Number((v >> 5n) & 7n); return true;
    case C.CSR_SSTATUS: statusWrite(h, C.SSTATUS_WRITABLE, v); return true;
    case C.CSR_SIE: h.mie = (h.mie & ~h.mideleg) | (Number(v & 0xffffn) & h.mideleg); h.irqChanged(); return true;
    case C.CSR_STVEC: [h.stvecBase, h.stvecMode] = tvec(v); return true;
    case C.CSR_SCOUNTEREN: h.scounteren = Number(v & 0xffffffffn); return true;
    case C.CSR_SENVCFG: h.senvcfg = v & C.MENVCFG_FIOM; return true;
    case C.CSR_SSCRATCH: h.sscratch = v; return true;
    case C.CSR_SEPC: h.sepc = signed(v & ~1n); return true;
    case C.CSR_SCAUSE: h.scause = v; return true;
    case C.CSR_STVAL: h.stval = v; return true;
    case C.CSR_SIP: {
      const m = C.MIP_SSIP & h.mideleg;
      h.mipSw = (h.mipSw & ~m) | (Number(v & 0xffffn) & m);
      h.irqChanged();
      return true;
    }
    case C.CSR_STIMECMP: h.stimecmp = v; h.stimecmpNum = Number(v); h.checkTimers(); return true;
    case C.CSR_SATP: h.setSatp(v); return true;
    case C.CSR_MSTATUS: statusWrite(h, C.MSTATUS_WRITABLE, v); return true;
    case C.CSR_MISA: return true; // read-only in this hart
    case C.CSR_MEDELEG: h.medeleg = Number(v & BigInt(M_DELEG_MASK)); return true;
    case C.CSR_MIDELEG: h.mideleg = Number(v & BigInt(MIDELEG_MASK)); h.irqChanged(); return true;
    case C.CSR_MIE: h.mie = Number(v & BigInt(MIE_MASK)); h.irqChanged(); return true;
    case C.CSR_MTVEC: [h.mtvecBase, h.mtvecMode] = tvec(v); return true;
    case C.CSR_MCOUNTEREN: h.mcounteren = Number(v & 0xffffffffn); return true;
    case C.CSR_MENVCFG: h.menvcfg = v & (C.MENVCFG_FIOM | C.MENVCFG_STCE); h.stce = (v & C.MENVCFG_STCE) !== 0n; h.checkTimers(); h.irqChanged(); return true;
    case C.CSR_MCOUNTINHIBIT: h.mcountinhibit = Number(v & 0xfffffffdn); return true;
    case C.CSR_MSCRATCH: h.mscratch = v; return true;
    case C.CSR_MEPC: h.mepc = signed(v & ~1n); return true;
    case C.CSR_MCAUSE: h.mcause = v; return true;
    case C.CSR_MTVAL: h.mtval = v; return true;
    case C.CSR_MIP: {
      const m = C.MIP_SSIP | C.MIP_SEIP | (h.stceOn() ? 0 : C.MIP_STIP);
      h.mipSw = (h.mipSw & ~m) | (Number(v & 0xffffn) & m);
      h.irqChanged();
      return true;
    }
    case C.CSR_MCYCLE: h.cycleDelta = Number(v) - h.instret; return true;
    case C.CSR_MINSTRET: h.instretDelta = Number(v) - h.instret; return true;
    default: return false;
  }
}

