// APLIC register layout and field encodings (RISC-V AIA spec, chapter "Advanced Platform-Level Interrupt
// Controller", table "The registers of the first 16 KiB of an interrupt domain's memory-mapped control region"),
// named as in Linux include/linux/irqchip/riscv-aplic.h, plus the virt board's placement (QEMU hw/riscv/virt.c).

export const APLIC_MAX_SOURCE = 1023;
export const APLIC_MAX_IDC = 1 << 14;

export const APLIC_DOMAINCFG = 0x0000;
export const APLIC_DOMAINCFG_RDONLY = 0x8000_0000;
export const APLIC_DOMAINCFG_IE = 1 << 8;
export const APLIC_DOMAINCFG_DM = 1 << 2;
export const APLIC_DOMAINCFG_BE = 1 << 0;

export const APLIC_SOURCECFG_BASE = 0x0004;
export const APLIC_SOURCECFG_D = 1 << 10;
export const APLIC_SOURCECFG_CHILDIDX_MASK = 0x3ff;
export const APLIC_SOURCECFG_SM_MASK = 0x7;
export const APLIC_SOURCECFG_SM_INACTIVE = 0x0;
export const APLIC_SOURCECFG_SM_DETACH = 0x1;
export const APLIC_SOURCECFG_SM_EDGE_RISE = 0x4;
export const APLIC_SOURCECFG_SM_EDGE_FALL = 0x5;
export const APLIC_SOURCECFG_SM_LEVEL_HIGH = 0x6;
export const APLIC_SOURCECFG_SM_LEVEL_LOW = 0x7;

export const APLIC_MMSICFGADDR = 0x1bc0;
export const APLIC_MMSICFGADDRH = 0x1bc4;
export const APLIC_SMSICFGADDR = 0x1bc8;
export const APLIC_SMSICFGADDRH = 0x1bcc;
export const APLIC_xMSICFGADDRH_L = 0x8000_0000;
export const APLIC_xMSICFGADDRH_HHXS_SHIFT = 24;
export const APLIC_xMSICFGADDRH_HHXS_MASK = 0x1f;
export const APLIC_xMSICFGADDRH_LHXS_SHIFT = 20;
export const APLIC_xMSICFGADDRH_LHXS_MASK = 0x7;
export const APLIC_xMSICFGADDRH_HHXW_SHIFT = 16;
export const APLIC_xMSICFGADDRH_HHXW_MASK = 0x7;
export const APLIC_xMSICFGADDRH_LHXW_SHIFT = 12;
export const APLIC_xMSICFGADDRH_LHXW_MASK = 0xf;
export const APLIC_xMSICFGADDRH_BAPPN_MASK = 0xfff;
export const APLIC_xMSICFGADDR_PPN_SHIFT = 12;

export const APLIC_SETIP_BASE = 0x1c00;
export const APLIC_SETIPNUM = 0x1cdc;
export const APLIC_CLRIP_BASE = 0x1d00;
export const APLIC_CLRIPNUM = 0x1ddc;
export const APLIC_SETIE_BASE = 0x1e00;
export const APLIC_SETIENUM = 0x1edc;
export const APLIC_CLRIE_BASE = 0x1f00;
export const APLIC_CLRIENUM = 0x1fdc;
export const APLIC_SETIPNUM_LE = 0x2000;
export const APLIC_GENMSI = 0x3000;
export const APLIC_GENMSI_BUSY = 1 << 12;

export const APLIC_TARGET_BASE = 0x3004;
export const APLIC_TARGET_HART_IDX_SHIFT = 18;
export const APLIC_TARGET_HART_IDX_MASK = 0x3fff;
export const APLIC_TARGET_GUEST_IDX_SHIFT = 12;
export const APLIC_TARGET_GUEST_IDX_MASK = 0x3f;
export const APLIC_TARGET_IPRIO_MASK = 0xff;
export const APLIC_TARGET_EIID_MASK = 0x7ff;

export const APLIC_IDC_BASE = 0x4000;
export const APLIC_IDC_SIZE = 32;
export const APLIC_IDC_IDELIVERY = 0x00;
export const APLIC_IDC_IFORCE = 0x04;
export const APLIC_IDC_ITHRESHOLD = 0x08;
export const APLIC_IDC_TOPI = 0x18;
export const APLIC_IDC_TOPI_ID_SHIFT = 16;
export const APLIC_IDC_CLAIMI = 0x1c;

/** Words in the setip/in_clrip/setie/clrie arrays (sources 0..1023, 32 per word). */
export const APLIC_IRQ_WORDS = 32;

/** Source modes (the SM field), as the AIA spec names them. */
export const SM = {
  inactive: APLIC_SOURCECFG_SM_INACTIVE,
  detached: APLIC_SOURCECFG_SM_DETACH,
  edge1: APLIC_SOURCECFG_SM_EDGE_RISE,
  edge0: APLIC_SOURCECFG_SM_EDGE_FALL,
  level1: APLIC_SOURCECFG_SM_LEVEL_HIGH,
  level0: APLIC_SOURCECFG_SM_LEVEL_LOW,
} as const;

/** QEMU virt: VIRT_IRQCHIP_NUM_SOURCES wired sources (1..96) and VIRT_IRQCHIP_NUM_PRIO_BITS. */
export const VIRT_APLIC_NUM_SOURCES = 96;
export const VIRT_APLIC_IPRIO_BITS = 3;
/** Control region size: 16 KiB plus IDCs for up to 512 harts (QEMU's APLIC_SIZE(VIRT_CPUS_MAX)). */
export const VIRT_APLIC_SIZE = 0x8000;
export const VIRT_APLIC_M_BASE = 0x0c00_0000;
export const VIRT_APLIC_S_BASE = 0x0d00_0000;
/** IMSIC pages (one 4-KiB page per hart at each level, no guest files). */
export const VIRT_IMSIC_M_BASE = 0x2400_0000;
export const VIRT_IMSIC_S_BASE = 0x2800_0000;
