// The standard CSRs of this hart as CSR-table rows: reads and WARL writes (RISC-V privileged spec §2.2 tables,
// §3.1 machine CSRs, §3.7 PMP, §4.1 supervisor CSRs; unprivileged §7 Zicntr, §13.2 fcsr; Sstc) and the access
// guards for mstatus.FS, mcounteren/scounteren, mstatus.TVM and Sstc. These rows, the traps and the SYSTEM
// instructions are the only code outside hart.ts that touches the hart's internal CSR fields.

import * as C from './csr-defs.js';
import type { CsrDef } from './csr.js';
import type { Hart } from './hart.js';
import { triggerCsrs } from './trigger.js';

const M_DELEG_MASK = 0xb3ff; // medeleg: every exception but ecall-from-M (11) and the reserved 10 and 14
const MIDELEG_MASK = C.S_INTERRUPTS;
const MIE_MASK = C.S_INTERRUPTS | C.M_INTERRUPTS | C.MIP_LCOFIP;
const SSTATUS_READ = C.SSTATUS_WRITABLE;

const signed = (v: bigint): number => Number(BigInt.asIntN(64, v));

function misa(h: Hart): bigint {
  let ext = 0;
  for (const c of h.fpuOk ? 'ACDFIMSU' : 'ACIMSU') ext |= 1 << (c.charCodeAt(0) - 65);
  return (2n << 62n) | BigInt(ext);
}

function statusRead(h: Hart, mask: number, xl: bigint): bigint {
  const s = h.mstatus & mask;
  return BigInt(s) | xl | ((s & C.MSTATUS_FS) === C.MSTATUS_FS ? C.STATUS_SD : 0n);
}

function statusWrite(h: Hart, mask: number, v: bigint): void {
  let n = (h.mstatus & ~mask) | (Number(v & 0xffffffffn) & mask);
  if (((n >> C.MSTATUS_MPP_SHIFT) & 3) === 2) n = (n & ~C.MSTATUS_MPP) | (h.mstatus & C.MSTATUS_MPP); // WARL: keep old MPP
  if (!h.fpuOk) n &= ~C.MSTATUS_FS;
  h.setMstatus(n);
}

/** xtvec WARL: BASE is 4-byte aligned, MODE 2 and 3 are reserved and read back as Direct. */
const tvecBase = (v: bigint): number => signed(v & ~3n);
const tvecMode = (v: bigint): number => { const mode = Number(v & 3n); return mode >= 2 ? 0 : mode; };

/** mip and sip write the software-writable pending bits `mask` (SSIP, SEIP, STIP without Sstc, the PV event bit). */
function writeMipSw(h: Hart, mask: number, v: bigint): void {
  h.mipSw = (h.mipSw & ~mask) | (Number(v & 0xffffffffn) & mask);
  h.irqChanged();
}

// ---- guards (CSR instructions only) ----

/** F/D CSRs need an FPU and mstatus.FS != Off (unprivileged spec §13.1); a write marks FS dirty. */
const fpGuard = (h: Hart): boolean => h.fpuOk && (h.mstatus & C.MSTATUS_FS) !== 0;
const fsDirty = (h: Hart): void => { h.mstatus |= C.MSTATUS_FS; };

/** cycle/time/instret/hpmcounterN below M need the counter's bit in mcounteren, and in U also in scounteren (§3.1.11). */
const counterGuard = (bit: number) => (h: Hart): boolean =>
  !((h.priv < C.PRV_M && (h.mcounteren & bit) === 0) || (h.priv === C.PRV_U && (h.scounteren & bit) === 0));

/** satp is illegal in S-mode while mstatus.TVM (§3.1.6.5). */
const satpGuard = (h: Hart): boolean => !(h.priv === C.PRV_S && (h.mstatus & C.MSTATUS_TVM) !== 0);

/** stimecmp below M needs menvcfg.STCE and mcounteren.TM (Sstc). */
const stimecmpGuard = (h: Hart): boolean => !(h.priv < C.PRV_M && (!h.stce || (h.mcounteren & 2) === 0));

/** Definitions of every standard CSR this hart implements, in number order within each group. */
export function standardCsrs(): CsrDef[] {
  const defs: CsrDef[] = [
    // Unprivileged floating-point CSRs.
    { num: C.CSR_FFLAGS, name: 'fflags', guard: fpGuard, afterInsnWrite: fsDirty,
      read: (h) => BigInt(h.fpu.fflags & 0x1f), write: (h, v) => { h.fpu.fflags = Number(v & 0x1fn); } },
    { num: C.CSR_FRM, name: 'frm', guard: fpGuard, afterInsnWrite: fsDirty,
      read: (h) => BigInt(h.fpu.frm & 7), write: (h, v) => { h.fpu.frm = Number(v & 7n); } },
    { num: C.CSR_FCSR, name: 'fcsr', guard: fpGuard, afterInsnWrite: fsDirty,
      read: (h) => BigInt(((h.fpu.frm & 7) << 5) | (h.fpu.fflags & 0x1f)),
      write: (h, v) => { h.fpu.fflags = Number(v & 0x1fn); h.fpu.frm = Number((v >> 5n) & 7n); } },

    // Supervisor.
    { num: C.CSR_SSTATUS, name: 'sstatus', read: (h) => statusRead(h, SSTATUS_READ, C.SSTATUS_XL64),
      write: (h, v) => statusWrite(h, C.SSTATUS_WRITABLE, v) },
    { num: C.CSR_SIE, name: 'sie', read: (h) => BigInt(h.mie & h.mideleg),
      write: (h, v) => { h.mie = (h.mie & ~h.mideleg) | (Number(v & 0xffffffffn) & h.mideleg); h.irqChanged(); } },
    { num: C.CSR_STVEC, name: 'stvec', read: (h) => BigInt.asUintN(64, BigInt(h.stvecBase + h.stvecMode)),
      write: (h, v) => { h.stvecBase = tvecBase(v); h.stvecMode = tvecMode(v); } },
    { num: C.CSR_SCOUNTEREN, name: 'scounteren', read: (h) => BigInt(h.scounteren),
      write: (h, v) => { h.scounteren = Number(v & 0xffffffffn); } },
    { num: C.CSR_SENVCFG, name: 'senvcfg', read: (h) => h.senvcfg, write: (h, v) => { h.senvcfg = v & C.MENVCFG_FIOM; } },
    { num: C.CSR_SSCRATCH, name: 'sscratch', read: (h) => h.sscratch, write: (h, v) => { h.sscratch = v; } },
    { num: C.CSR_SEPC, name: 'sepc', read: (h) => BigInt(h.sepc), write: (h, v) => { h.sepc = signed(v & ~1n); } },
    { num: C.CSR_SCAUSE, name: 'scause', read: (h) => h.scause, write: (h, v) => { h.scause = v; } },
    { num: C.CSR_STVAL, name: 'stval', read: (h) => h.stval, write: (h, v) => { h.stval = v; } },
    { num: C.CSR_SIP, name: 'sip', read: (h) => BigInt(h.mip() & h.mideleg),
      write: (h, v) => writeMipSw(h, (C.MIP_SSIP | C.MIP_PVI) & h.mideleg, v) },
    { num: C.CSR_STIMECMP, name: 'stimecmp', guard: stimecmpGuard, read: (h) => h.stimecmp,
      write: (h, v) => { h.stimecmp = v; h.stimecmpNum = Number(v); h.checkTimers(); } },
    { num: C.CSR_SATP, name: 'satp', guard: satpGuard, read: (h) => h.satp, write: (h, v) => h.setSatp(v) },

    // Machine information (read-only by number).
    { num: C.CSR_MVENDORID, name: 'mvendorid', read: () => 0n },
    { num: C.CSR_MARCHID, name: 'marchid', read: () => 0n },
    { num: C.CSR_MIMPID, name: 'mimpid', read: () => 0n },
    { num: C.CSR_MHARTID, name: 'mhartid', read: (h) => BigInt(h.id) },
    { num: C.CSR_MCONFIGPTR, name: 'mconfigptr', read: () => 0n },

    // Machine trap setup and handling.
    { num: C.CSR_MSTATUS, name: 'mstatus', read: (h) => statusRead(h, C.MSTATUS_WRITABLE, C.MSTATUS_XL64),
      write: (h, v) => statusWrite(h, C.MSTATUS_WRITABLE, v) },
    { num: C.CSR_MISA, name: 'misa', read: misa, write: () => {} }, // WARL: this hart's extensions are fixed
    { num: C.CSR_MEDELEG, name: 'medeleg', read: (h) => BigInt(h.medeleg),
      write: (h, v) => { h.medeleg = Number(v & BigInt(M_DELEG_MASK)); } },
    { num: C.CSR_MIDELEG, name: 'mideleg', read: (h) => BigInt(h.mideleg),
      write: (h, v) => { h.mideleg = Number(v & BigInt(MIDELEG_MASK)); h.irqChanged(); } },
    { num: C.CSR_MIE, name: 'mie', read: (h) => BigInt(h.mie),
      write: (h, v) => { h.mie = Number(v & BigInt(MIE_MASK)); h.irqChanged(); } },
    { num: C.CSR_MTVEC, name: 'mtvec', read: (h) => BigInt.asUintN(64, BigInt(h.mtvecBase + h.mtvecMode)),
      write: (h, v) => { h.mtvecBase = tvecBase(v); h.mtvecMode = tvecMode(v); } },
    { num: C.CSR_MCOUNTEREN, name: 'mcounteren', read: (h) => BigInt(h.mcounteren),
      write: (h, v) => { h.mcounteren = Number(v & 0xffffffffn); } },
    { num: C.CSR_MENVCFG, name: 'menvcfg', read: (h) => h.menvcfg,
      write: (h, v) => {
        h.menvcfg = v & (C.MENVCFG_FIOM | C.MENVCFG_STCE);
        h.stce = (v & C.MENVCFG_STCE) !== 0n;
        h.checkTimers();
        h.irqChanged();
      } },
    { num: C.CSR_MCOUNTINHIBIT, name: 'mcountinhibit', read: (h) => BigInt(h.mcountinhibit),
      write: (h, v) => { h.mcountinhibit = Number(v & 0xfffffffdn); } },
    { num: C.CSR_MSCRATCH, name: 'mscratch', read: (h) => h.mscratch, write: (h, v) => { h.mscratch = v; } },
    { num: C.CSR_MEPC, name: 'mepc', read: (h) => BigInt(h.mepc), write: (h, v) => { h.mepc = signed(v & ~1n); } },
    { num: C.CSR_MCAUSE, name: 'mcause', read: (h) => h.mcause, write: (h, v) => { h.mcause = v; } },
    { num: C.CSR_MTVAL, name: 'mtval', read: (h) => h.mtval, write: (h, v) => { h.mtval = v; } },
    { num: C.CSR_MIP, name: 'mip', read: (h) => BigInt(h.mip()),
      write: (h, v) => writeMipSw(h, C.MIP_SSIP | C.MIP_SEIP | C.MIP_PVI | (h.stce ? 0 : C.MIP_STIP), v) },

    // Machine counters (Zicntr; mcycle counts instructions, one per cycle). A CSR instruction that writes one
    // does so "instead of the increment" (unprivileged spec, Zicsr "CSR Access Ordering"): the value written is
    // what the next instruction reads, so afterInsnWrite takes back the writing instruction's own retirement.
    // A raw writeCsr (no instruction retires) sets the value as given.
    { num: C.CSR_MCYCLE, name: 'mcycle', read: (h) => BigInt(h.instret + h.cycleDelta),
      write: (h, v) => { h.cycleDelta = Number(v) - h.instret; }, afterInsnWrite: (h) => { h.cycleDelta--; } },
    { num: C.CSR_MINSTRET, name: 'minstret', read: (h) => BigInt(h.instret + h.instretDelta),
      write: (h, v) => { h.instretDelta = Number(v) - h.instret; }, afterInsnWrite: (h) => { h.instretDelta--; } },

    // Unprivileged counters (read-only by number).
    { num: C.CSR_CYCLE, name: 'cycle', guard: counterGuard(1), read: (h) => BigInt(h.instret + h.cycleDelta) },
    { num: C.CSR_TIME, name: 'time', guard: counterGuard(2), read: (h) => BigInt(Math.floor(h.env.readTime(h.instret))) },
    { num: C.CSR_INSTRET, name: 'instret', guard: counterGuard(4), read: (h) => BigInt(h.instret + h.instretDelta) },
  ];
  // Hardware performance monitor: counters and events exist, read 0 and ignore writes.
  for (let n = 3; n <= 31; n++) {
    defs.push({ num: C.CSR_CYCLE + n, name: `hpmcounter${n}`, guard: counterGuard(1 << n), read: () => 0n });
    defs.push({ num: C.CSR_MCYCLE + n, name: `mhpmcounter${n}`, read: () => 0n, write: () => {} });
    defs.push({ num: C.CSR_MHPMEVENT3 + n - 3, name: `mhpmevent${n}`, read: () => 0n, write: () => {} });
  }
  // PMP (§3.7): on RV64 only the even pmpcfg registers exist; any change drops cached translations.
  for (let i = 0; i <= 14; i += 2) {
    defs.push({ num: C.CSR_PMPCFG0 + i, name: `pmpcfg${i}`, read: (h) => h.pmp.readCfg(i)!,
      write: (h, v) => { h.pmp.writeCfg(i, v); h.flushTlb(); } });
  }
  for (let i = 0; i < 64; i++) {
    defs.push({ num: C.CSR_PMPADDR0 + i, name: `pmpaddr${i}`, read: (h) => h.pmp.readAddr(i),
      write: (h, v) => { h.pmp.writeAddr(i, v); h.flushTlb(); } });
  }
  // Sdtrig (trigger.ts): one mcontrol6 trigger.
  defs.push(...triggerCsrs());
  return defs;
}
