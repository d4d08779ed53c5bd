// What firmware would have set up before entering an S-mode kernel, done by vmio when it serves SBI itself:
// trap and interrupt delegation, counter access (mcounteren and scounteren), Sstc, and a PMP entry that opens all memory to S/U-mode
// (RISC-V privileged spec §3.1.8 medeleg/mideleg, §3.1.11 mcounteren, §3.1.18 menvcfg, §3.7 PMP).

import type { Hart } from '../cpu/riscv/hart.js';

const CSR_SCOUNTEREN = 0x106;
const CSR_MEDELEG = 0x302;
const CSR_MIDELEG = 0x303;
const CSR_MCOUNTEREN = 0x306;
const CSR_MENVCFG = 0x30a;
const CSR_PMPCFG0 = 0x3a0;
const CSR_PMPADDR0 = 0x3b0;

/** Misaligned fetch/load/store, access faults, illegal instruction, breakpoint, ecall from U, page faults. */
const MEDELEG_S = (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) |
  (1 << 8) | (1 << 12) | (1 << 13) | (1 << 15);
/** SSIP, STIP, SEIP, and vmio's PV event interrupt 24 (the Xen upcall; nothing raises it otherwise). */
const MIDELEG_S = (1 << 1) | (1 << 5) | (1 << 9) | (1 << 24);
const MENVCFG_STCE = 1n << 63n;
/** pmpcfg entry 0: NAPOT over the whole address space, R|W|X. */
const PMP_NAPOT_RWX = 0x1f;

export function prepareSupervisorBoot(h: Hart): void {
  h.writeCsr(CSR_MEDELEG, BigInt(MEDELEG_S));
  h.writeCsr(CSR_MIDELEG, BigInt(MIDELEG_S));
  h.writeCsr(CSR_MCOUNTEREN, 7n);
  // As OpenSBI does: user mode may read cycle, time and instret (Linux's vDSO reads `time` directly and never
  // sets scounteren itself; without this every clock_gettime in user space, e.g. ping's, is an illegal instruction).
  h.writeCsr(CSR_SCOUNTEREN, 7n);
  h.writeCsr(CSR_MENVCFG, MENVCFG_STCE);
  h.writeCsr(CSR_PMPADDR0, (1n << 54n) - 1n);
  h.writeCsr(CSR_PMPCFG0, BigInt(PMP_NAPOT_RWX));
}
