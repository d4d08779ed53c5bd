// Register offsets of the Intel 82576 (82576EB datasheet, "Programming Interface"), named as in Linux 6.12's
// drivers/net/ethernet/intel/igb/e1000_regs.h (PF) and igbvf/regs.h (VF), so that the driver, the datasheet and this
// model grep for the same word. Bits and descriptor layouts are in defines.ts.

export const PCI_VENDOR_ID_INTEL = 0x8086;
/** 82576 Gigabit Network Connection (copper), the PF. */
export const E1000_DEV_ID_82576 = 0x10c9;
/** 82576 Virtual Function (igbvf/vf.h E1000_DEV_ID_82576_VF). */
export const E1000_DEV_ID_82576_VF = 0x10ca;
export const IGB_CLASS_ETHERNET = 0x02_00_00;
export const IGB_82576_REVISION = 0x01;

/** PF BAR0: 128 KiB of registers; BAR3: MSI-X table at 0 and PBA at 0x2000 (16 KiB). */
export const IGB_MMIO_SIZE = 0x2_0000;
export const IGB_MSIX_BAR_SIZE = 0x4000;
export const IGB_MSIX_TABLE = 0x0000;
export const IGB_MSIX_PBA = 0x2000;
/** MSI-X vectors of the PF (the 82576's PF table size is 10). */
export const IGB_PF_MSIX_VECTORS = 10;
/** VF BAR0 (registers) and BAR3 (MSI-X) are 16 KiB each; a VF has exactly 3 vectors (igbvf needs all three). */
export const IGBVF_MMIO_SIZE = 0x4000;
export const IGBVF_MSIX_VECTORS = 3;

/** VMDq pools (= most VFs the hardware numbers), queues, receive address registers. */
export const IGB_MAX_VF_FUNCTIONS = 8;
export const IGB_NUM_QUEUES = 16;
export const E1000_RAR_ENTRIES_82576 = 24;
export const E1000_MTA_ENTRIES = 128;
export const E1000_VFTA_ENTRIES = 128;
export const E1000_UTA_ENTRIES = 128;
export const E1000_VLVF_ARRAY_SIZE = 32;
export const E1000_VFMAILBOX_SIZE = 16;

// General (PF view; the VF sees CTRL and STATUS at the same offsets).
export const E1000_CTRL = 0x00000;
export const E1000_STATUS = 0x00008;
export const E1000_EECD = 0x00010;
export const E1000_EERD = 0x00014;
export const E1000_CTRL_EXT = 0x00018;
export const E1000_MDIC = 0x00020;
export const E1000_VET = 0x00038;
export const E1000_ICR = 0x000c0;
export const E1000_ITR = 0x000c4;
export const E1000_ICS = 0x000c8;
export const E1000_IMS = 0x000d0;
export const E1000_IMC = 0x000d8;
export const E1000_IAM = 0x000e0;
export const E1000_RCTL = 0x00100;
export const E1000_TCTL = 0x00400;
export const E1000_EEMNGCTL = 0x01010;
export const E1000_GPIE = 0x01514;
export const E1000_EICS = 0x01520;
export const E1000_EIMS = 0x01524;
export const E1000_EIMC = 0x01528;
export const E1000_EIAC = 0x0152c;
export const E1000_EIAM = 0x01530;
export const E1000_EICR = 0x01580;
export const E1000_EITR0 = 0x01680;
export const E1000_IVAR0 = 0x01700;
export const E1000_IVAR_MISC = 0x01740;
export const E1000_RXCSUM = 0x05000;
export const E1000_RLPML = 0x05004;
export const E1000_MTA = 0x05200;
export const E1000_RA = 0x05400;
export const E1000_RA2 = 0x054e0;
export const E1000_VFTA = 0x05600;
export const E1000_MRQC = 0x05818;
export const E1000_VT_CTL = 0x0581c;
export const E1000_SWSM = 0x05b50;
export const E1000_SW_FW_SYNC = 0x05b5c;
export const E1000_UTA = 0x0a000;
/** Statistics block (read-to-clear counters): reads 0 in this model. */
export const E1000_STATS_START = 0x04000;
export const E1000_STATS_END = 0x04140;

// Virtualization (PF view).
export const E1000_VMBMEM0 = 0x00800;
export const E1000_P2VMAILBOX0 = 0x00c00;
export const E1000_MBVFICR = 0x00c80;
export const E1000_MBVFIMR = 0x00c84;
export const E1000_VFLRE = 0x00c88;
export const E1000_VFRE = 0x00c8c;
export const E1000_VFTE = 0x00c90;
export const E1000_QDE = 0x02408;
export const E1000_DTXSWC = 0x03500;
export const E1000_WVBR = 0x03554;
export const E1000_DTXCTL = 0x03590;
export const E1000_RTTDQSEL = 0x03604;
export const E1000_RTTBCNRM = 0x03690;
export const E1000_RTTBCNRC = 0x036b0;
export const E1000_VMVIR0 = 0x03700;
export const E1000_VMOLR0 = 0x05ad0;
export const E1000_RPLOLR = 0x05af0;
export const E1000_VLVF0 = 0x05d00;

/** VMBMEM(n): the 16-word message buffer shared by the PF and VF n. */
export const E1000_VMBMEM = (n: number): number => E1000_VMBMEM0 + 64 * n;
export const E1000_P2VMAILBOX = (n: number): number => E1000_P2VMAILBOX0 + 4 * n;
export const E1000_VMOLR = (n: number): number => E1000_VMOLR0 + 4 * n;
export const E1000_VLVF = (n: number): number => E1000_VLVF0 + 4 * n;
export const E1000_VMVIR = (n: number): number => E1000_VMVIR0 + 4 * n;
/** RAL/RAH(i): entries 0-15 at 0x5400, 16-23 at 0x54E0 (e1000_regs.h). */
export const E1000_RAL = (i: number): number => (i <= 15 ? E1000_RA + 8 * i : E1000_RA2 + 8 * (i - 16));
export const E1000_RAH = (i: number): number => E1000_RAL(i) + 4;

// Queue registers, relative to a queue's block. Queue n's RX block is at 0xC000 + 0x40n (queues 0-3 also at the
// legacy alias 0x2800 + 0x100n, which is what Linux uses for them); TX at 0xE000 + 0x40n (alias 0x3800 + 0x100n).
export const RXQ_BASE = 0x0c000;
export const TXQ_BASE = 0x0e000;
export const RXQ_ALIAS = 0x02800;
export const TXQ_ALIAS = 0x03800;
export const QUEUE_STRIDE = 0x40;
export const ALIAS_STRIDE = 0x100;
export const Q_DBAL = 0x00;
export const Q_DBAH = 0x04;
export const Q_DLEN = 0x08;
/** RX: SRRCTL. */
export const Q_SRRCTL = 0x0c;
export const Q_DH = 0x10;
/** DCA RXCTRL / TXCTRL. */
export const Q_DCA = 0x14;
export const Q_DT = 0x18;
/** RXDCTL / TXDCTL. */
export const Q_DCTL = 0x28;
/** TX head write-back address (TDWBAL/H); stored only. */
export const Q_WBAL = 0x38;
export const Q_WBAH = 0x3c;
export const QUEUE_REGS = [Q_DBAL, Q_DBAH, Q_DLEN, Q_SRRCTL, Q_DH, Q_DCA, Q_DT, Q_DCTL, Q_WBAL, Q_WBAH] as const;

/** The VF queue registers are the VF's first two queues: VF n owns PF queues n and n + 8 (igb: Q_IDX_82576). */
export const vfQueue = (vf: number, q: number): number => vf + 8 * q;

// VF register view (igbvf/regs.h): BAR0 of each VF.
export const E1000_VTCTRL = 0x0000;
export const E1000_VTSTATUS = 0x0008;
export const E1000_VTFRTIMER = 0x1048;
export const E1000_VTEICS = 0x1520;
export const E1000_VTEIMS = 0x1524;
export const E1000_VTEIMC = 0x1528;
export const E1000_VTEIAC = 0x152c;
export const E1000_VTEIAM = 0x1530;
export const E1000_VTEICR = 0x1580;
export const E1000_VTEITR0 = 0x1680;
export const E1000_VTIVAR = 0x1700;
export const E1000_VTIVAR_MISC = 0x1740;
export const E1000_VTVMBMEM = 0x0800;
export const E1000_V2PMAILBOX = 0x0c40;
/** VF statistics (igbvf/regs.h E1000_VFGPRC..): read 0 here. */
export const E1000_VFGPRC = 0x0f10;
export const E1000_VFGPTC = 0x0f14;
export const E1000_VFGORC = 0x0f18;
export const E1000_VFGOTC = 0x0f34;
export const E1000_VFMPRC = 0x0f3c;
export const E1000_VFGPRLBC = 0x0f40;
export const E1000_VFGPTLBC = 0x0f44;
export const E1000_VFGORLBC = 0x0f48;
export const E1000_VFGOTLBC = 0x0f50;
export const VF_STATS = [E1000_VFGPRC, E1000_VFGPTC, E1000_VFGORC, E1000_VFGOTC, E1000_VFMPRC, E1000_VFGPRLBC, E1000_VFGPTLBC, E1000_VFGORLBC, E1000_VFGOTLBC] as const;
