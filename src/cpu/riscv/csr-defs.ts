// CSR numbers, mstatus/mip bit positions and trap causes (RISC-V privileged spec §2.2 Table 2.2-2.5, §3.1.6, §3.1.15).

export const CSR_FFLAGS = 0x001, CSR_FRM = 0x002, CSR_FCSR = 0x003;
export const CSR_CYCLE = 0xc00, CSR_TIME = 0xc01, CSR_INSTRET = 0xc02, CSR_HPMCOUNTER31 = 0xc1f;

export const CSR_SSTATUS = 0x100, CSR_SIE = 0x104, CSR_STVEC = 0x105, CSR_SCOUNTEREN = 0x106, CSR_SENVCFG = 0x10a;
export const CSR_SSCRATCH = 0x140, CSR_SEPC = 0x141, CSR_SCAUSE = 0x142, CSR_STVAL = 0x143, CSR_SIP = 0x144;
export const CSR_STIMECMP = 0x14d, CSR_SATP = 0x180;

export const CSR_MVENDORID = 0xf11, CSR_MARCHID = 0xf12, CSR_MIMPID = 0xf13, CSR_MHARTID = 0xf14, CSR_MCONFIGPTR = 0xf15;
export const CSR_MSTATUS = 0x300, CSR_MISA = 0x301, CSR_MEDELEG = 0x302, CSR_MIDELEG = 0x303, CSR_MIE = 0x304;
export const CSR_MTVEC = 0x305, CSR_MCOUNTEREN = 0x306, CSR_MENVCFG = 0x30a, CSR_MCOUNTINHIBIT = 0x320;
export const CSR_MHPMEVENT3 = 0x323, CSR_MHPMEVENT31 = 0x33f;
export const CSR_MSCRATCH = 0x340, CSR_MEPC = 0x341, CSR_MCAUSE = 0x342, CSR_MTVAL = 0x343, CSR_MIP = 0x344;
export const CSR_PMPCFG0 = 0x3a0, CSR_PMPCFG15 = 0x3af, CSR_PMPADDR0 = 0x3b0, CSR_PMPADDR63 = 0x3ef;
export const CSR_MCYCLE = 0xb00, CSR_MINSTRET = 0xb02, CSR_MHPMCOUNTER3 = 0xb03, CSR_MHPMCOUNTER31 = 0xb1f;
export const CSR_MSECCFG = 0x747;
export const CSR_TSELECT = 0x7a0, CSR_TDATA1 = 0x7a1, CSR_TDATA2 = 0x7a2, CSR_TDATA3 = 0x7a3, CSR_TINFO = 0x7a4;

// mstatus bits (§3.1.6). Held in a number: everything we keep lives below bit 32.
export const MSTATUS_SIE = 1 << 1, MSTATUS_MIE = 1 << 3, MSTATUS_SPIE = 1 << 5, MSTATUS_MPIE = 1 << 7;
export const MSTATUS_SPP = 1 << 8, MSTATUS_MPP_SHIFT = 11, MSTATUS_MPP = 3 << 11;
export const MSTATUS_FS_SHIFT = 13, MSTATUS_FS = 3 << 13;
export const MSTATUS_MPRV = 1 << 17, MSTATUS_SUM = 1 << 18, MSTATUS_MXR = 1 << 19;
export const MSTATUS_TVM = 1 << 20, MSTATUS_TW = 1 << 21, MSTATUS_TSR = 1 << 22;
/** Bits of mstatus we store (UXL/SXL are constant 2, SD is computed from FS, VS/XS are zero). */
export const MSTATUS_WRITABLE = MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP |
  MSTATUS_FS | MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR;
export const SSTATUS_WRITABLE = MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR;
/** UXL = SXL = 2 (64-bit) in bits 32..35. */
export const MSTATUS_XL64 = (2n << 32n) | (2n << 34n);
export const SSTATUS_XL64 = 2n << 32n;
export const STATUS_SD = 1n << 63n;

// mip/mie bits (§3.1.9).
export const MIP_SSIP = 1 << 1, MIP_MSIP = 1 << 3, MIP_STIP = 1 << 5, MIP_MTIP = 1 << 7, MIP_SEIP = 1 << 9, MIP_MEIP = 1 << 11;
export const MIP_LCOFIP = 1 << 13;
/**
 * vmio's paravirtual event interrupt: local interrupt 24, in the range the privileged spec (§3.1.9) leaves to the
 * platform (AIA designates 24..31 for custom use). Delegable to S-mode and, like SSIP, software-writable in mip/sip:
 * vmio sets it (Hart.injectPending) and the guest acknowledges it by clearing it in sip. The Xen upcall uses it.
 */
export const IRQ_PV_EVENT = 24;
export const MIP_PVI = 1 << IRQ_PV_EVENT;
/** Interrupts S-mode can see when delegated. */
export const S_INTERRUPTS = MIP_SSIP | MIP_STIP | MIP_SEIP | MIP_PVI;
export const M_INTERRUPTS = MIP_MSIP | MIP_MTIP | MIP_MEIP;
/** Interrupt numbers in priority order, highest first (§3.1.9: MEI, MSI, MTI, SEI, SSI, STI). */
export const IRQ_PRIORITY = [11, 3, 7, 9, 1, 5] as const;

// Exception causes (§3.1.15, Table 3.6).
export const CAUSE_MISALIGNED_FETCH = 0, CAUSE_FETCH_ACCESS = 1, CAUSE_ILLEGAL_INSTRUCTION = 2, CAUSE_BREAKPOINT = 3;
export const CAUSE_MISALIGNED_LOAD = 4, CAUSE_LOAD_ACCESS = 5, CAUSE_MISALIGNED_STORE = 6, CAUSE_STORE_ACCESS = 7;
export const CAUSE_USER_ECALL = 8, CAUSE_SUPERVISOR_ECALL = 9, CAUSE_MACHINE_ECALL = 11;
export const CAUSE_FETCH_PAGE_FAULT = 12, CAUSE_LOAD_PAGE_FAULT = 13, CAUSE_STORE_PAGE_FAULT = 15;

// menvcfg (§3.1.18).
export const MENVCFG_FIOM = 1n, MENVCFG_STCE = 1n << 63n;

// satp modes (§4.1.11).
export const SATP_MODE_BARE = 0, SATP_MODE_SV39 = 8, SATP_MODE_SV48 = 9;

export const PRV_U = 0, PRV_S = 1, PRV_M = 3;

/** Memory access types used by translation, PMP and fault reporting. */
export const ACC_FETCH = 0, ACC_LOAD = 1, ACC_STORE = 2;
export type AccessType = 0 | 1 | 2;
