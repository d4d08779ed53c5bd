// Register offsets, bits and descriptor layouts of the Intel 82540EM (8254x Family SDM, ch. 13 "Register Descriptions"
// and §3 "Receive and Transmit Description"), named exactly as in Linux 6.12 drivers/net/ethernet/intel/e1000/e1000_hw.h
// so that the driver, the manual and this model can be grepped for the same word.

// PCI identity (e1000_hw.h E1000_DEV_ID_82540EM; PCI class 02/00/00 Ethernet controller).
export const PCI_VENDOR_ID_INTEL = 0x8086;
export const E1000_DEV_ID_82540EM = 0x100e;
export const E1000_CLASS_ETHERNET = 0x02_00_00;
/** Revision 3 as the 82540EM-A in QEMU's model; Linux does not look at it for this MAC type. */
export const E1000_82540EM_REVISION = 0x03;

/** BAR 0: the memory-mapped register space (SDM §13.1: 128 KiB). BAR 1: the I/O window (IOADDR, IODATA). */
export const E1000_MMIO_SIZE = 0x20000;
export const E1000_IO_SIZE = 0x40;
export const E1000_IOADDR = 0x00;
export const E1000_IODATA = 0x04;

// Registers (SDM Table 13-2).
export const E1000_CTRL = 0x00000;
export const E1000_CTRL_DUP = 0x00004;
export const E1000_STATUS = 0x00008;
export const E1000_EECD = 0x00010;
export const E1000_EERD = 0x00014;
export const E1000_CTRL_EXT = 0x00018;
export const E1000_FLA = 0x0001c;
export const E1000_MDIC = 0x00020;
export const E1000_FCAL = 0x00028;
export const E1000_FCAH = 0x0002c;
export const E1000_FCT = 0x00030;
export const E1000_VET = 0x00038;
export const E1000_ICR = 0x000c0;
export const E1000_ITR = 0x000c4;
export const E1000_ICS = 0x000c8;
export const E1000_IMS = 0x000d0;
export const E1000_IMC = 0x000d8;
export const E1000_RCTL = 0x00100;
export const E1000_FCTTV = 0x00170;
export const E1000_TXCW = 0x00178;
export const E1000_RXCW = 0x00180;
export const E1000_TCTL = 0x00400;
export const E1000_TIPG = 0x00410;
export const E1000_LEDCTL = 0x00e00;
export const E1000_PBA = 0x01000;
export const E1000_FCRTL = 0x02160;
export const E1000_FCRTH = 0x02168;
export const E1000_RDBAL = 0x02800;
export const E1000_RDBAH = 0x02804;
export const E1000_RDLEN = 0x02808;
export const E1000_RDH = 0x02810;
export const E1000_RDT = 0x02818;
export const E1000_RDTR = 0x02820;
export const E1000_RXDCTL = 0x02828;
export const E1000_RADV = 0x0282c;
export const E1000_RSRPD = 0x02c00;
export const E1000_TXDMAC = 0x03000;
export const E1000_TDFH = 0x03410;
export const E1000_TDFT = 0x03418;
export const E1000_TDFHS = 0x03420;
export const E1000_TDFTS = 0x03428;
export const E1000_TDFPC = 0x03430;
export const E1000_TDBAL = 0x03800;
export const E1000_TDBAH = 0x03804;
export const E1000_TDLEN = 0x03808;
export const E1000_TDH = 0x03810;
export const E1000_TDT = 0x03818;
export const E1000_TIDV = 0x03820;
export const E1000_TXDCTL = 0x03828;
export const E1000_TADV = 0x0382c;
export const E1000_TSPMT = 0x03830;
export const E1000_RXCSUM = 0x05000;
export const E1000_MTA = 0x05200;
export const E1000_RA = 0x05400;
export const E1000_VFTA = 0x05600;
export const E1000_WUC = 0x05800;
export const E1000_WUFC = 0x05808;
export const E1000_WUS = 0x05810;
export const E1000_MANC = 0x05820;
export const E1000_IPAV = 0x05838;
export const E1000_IP4AT = 0x05840;
export const E1000_IP6AT = 0x05880;
export const E1000_WUPL = 0x05900;
export const E1000_WUPM = 0x05a00;
export const E1000_FFLT = 0x05f00;
export const E1000_FFMT = 0x09000;
export const E1000_FFVT = 0x09800;

/** Statistics registers (SDM §13.7), in address order; all clear on read (64-bit pairs: when the high half is read). */
export const E1000_STATS: readonly (readonly [string, number])[] = [
  ['CRCERRS', 0x04000], ['ALGNERRC', 0x04004], ['SYMERRS', 0x04008], ['RXERRC', 0x0400c], ['MPC', 0x04010],
  ['SCC', 0x04014], ['ECOL', 0x04018], ['MCC', 0x0401c], ['LATECOL', 0x04020], ['COLC', 0x04028], ['DC', 0x04030],
  ['TNCRS', 0x04034], ['SEC', 0x04038], ['CEXTERR', 0x0403c], ['RLEC', 0x04040], ['XONRXC', 0x04048],
  ['XONTXC', 0x0404c], ['XOFFRXC', 0x04050], ['XOFFTXC', 0x04054], ['FCRUC', 0x04058], ['PRC64', 0x0405c],
  ['PRC127', 0x04060], ['PRC255', 0x04064], ['PRC511', 0x04068], ['PRC1023', 0x0406c], ['PRC1522', 0x04070],
  ['GPRC', 0x04074], ['BPRC', 0x04078], ['MPRC', 0x0407c], ['GPTC', 0x04080], ['GORCL', 0x04088], ['GORCH', 0x0408c],
  ['GOTCL', 0x04090], ['GOTCH', 0x04094], ['RNBC', 0x040a0], ['RUC', 0x040a4], ['RFC', 0x040a8], ['ROC', 0x040ac],
  ['RJC', 0x040b0], ['MGTPRC', 0x040b4], ['MGTPDC', 0x040b8], ['MGTPTC', 0x040bc], ['TORL', 0x040c0], ['TORH', 0x040c4],
  ['TOTL', 0x040c8], ['TOTH', 0x040cc], ['TPR', 0x040d0], ['TPT', 0x040d4], ['PTC64', 0x040d8], ['PTC127', 0x040dc],
  ['PTC255', 0x040e0], ['PTC511', 0x040e4], ['PTC1023', 0x040e8], ['PTC1522', 0x040ec], ['MPTC', 0x040f0],
  ['BPTC', 0x040f4], ['TSCTC', 0x040f8], ['TSCTFC', 0x040fc],
];
export const E1000_STATS_BASE = 0x04000;
export const E1000_STATS_END = 0x04100;

/** Table sizes (e1000_hw.h). */
export const E1000_NUM_MTA_REGISTERS = 128;
export const E1000_RAR_ENTRIES = 16; // the hardware has 16 pairs; the driver uses 15 (the last is manageability's)
export const E1000_VLAN_FILTER_TBL_SIZE = 128;

// CTRL (SDM §13.4.1)
export const E1000_CTRL_FD = 0x0000_0001;
export const E1000_CTRL_LRST = 0x0000_0008;
export const E1000_CTRL_ASDE = 0x0000_0020;
export const E1000_CTRL_SLU = 0x0000_0040;
export const E1000_CTRL_ILOS = 0x0000_0080;
export const E1000_CTRL_SPD_SEL = 0x0000_0300;
export const E1000_CTRL_SPD_1000 = 0x0000_0200;
export const E1000_CTRL_FRCSPD = 0x0000_0800;
export const E1000_CTRL_FRCDPX = 0x0000_1000;
export const E1000_CTRL_SWDPIN0 = 0x0004_0000;
export const E1000_CTRL_SWDPIN1 = 0x0008_0000;
export const E1000_CTRL_SWDPIN2 = 0x0010_0000;
export const E1000_CTRL_SWDPIN3 = 0x0020_0000;
export const E1000_CTRL_SWDPIO0 = 0x0040_0000;
export const E1000_CTRL_RST = 0x0400_0000;
export const E1000_CTRL_RFCE = 0x0800_0000;
export const E1000_CTRL_TFCE = 0x1000_0000;
export const E1000_CTRL_VME = 0x4000_0000;
export const E1000_CTRL_PHY_RST = 0x8000_0000;

// STATUS (SDM §13.4.2)
export const E1000_STATUS_FD = 0x0000_0001;
export const E1000_STATUS_LU = 0x0000_0002;
export const E1000_STATUS_TXOFF = 0x0000_0010;
export const E1000_STATUS_SPEED_MASK = 0x0000_00c0;
export const E1000_STATUS_SPEED_1000 = 0x0000_0080;
export const E1000_STATUS_ASDV = 0x0000_0300;
export const E1000_STATUS_MTXCKOK = 0x0000_0400;

// EECD (SDM §13.4.3)
export const E1000_EECD_SK = 0x0000_0001;
export const E1000_EECD_CS = 0x0000_0002;
export const E1000_EECD_DI = 0x0000_0004;
export const E1000_EECD_DO = 0x0000_0008;
export const E1000_EECD_FWE_MASK = 0x0000_0030;
export const E1000_EECD_FWE_DIS = 0x0000_0010;
export const E1000_EECD_REQ = 0x0000_0040;
export const E1000_EECD_GNT = 0x0000_0080;
export const E1000_EECD_PRES = 0x0000_0100;
export const E1000_EECD_SIZE = 0x0000_0200;

// EERD (SDM §13.4.4; the 8254x layout: address in bits 15:8, DONE in bit 4)
export const E1000_EERD_START = 0x0000_0001;
export const E1000_EERD_DONE = 0x0000_0010;
export const E1000_EERD_ADDR_SHIFT = 8;
export const E1000_EERD_ADDR_MASK = 0x0000_ff00;
export const E1000_EERD_DATA_SHIFT = 16;

// MDIC (SDM §13.4.7)
export const E1000_MDIC_DATA_MASK = 0x0000_ffff;
export const E1000_MDIC_REG_MASK = 0x001f_0000;
export const E1000_MDIC_REG_SHIFT = 16;
export const E1000_MDIC_PHY_MASK = 0x03e0_0000;
export const E1000_MDIC_PHY_SHIFT = 21;
export const E1000_MDIC_OP_WRITE = 0x0400_0000;
export const E1000_MDIC_OP_READ = 0x0800_0000;
export const E1000_MDIC_READY = 0x1000_0000;
export const E1000_MDIC_INT_EN = 0x2000_0000;
export const E1000_MDIC_ERROR = 0x4000_0000;

// ICR / ICS / IMS / IMC bits (SDM §13.4.17-21)
export const E1000_ICR_TXDW = 0x0000_0001;
export const E1000_ICR_TXQE = 0x0000_0002;
export const E1000_ICR_LSC = 0x0000_0004;
export const E1000_ICR_RXSEQ = 0x0000_0008;
export const E1000_ICR_RXDMT0 = 0x0000_0010;
export const E1000_ICR_RXO = 0x0000_0040;
export const E1000_ICR_RXT0 = 0x0000_0080;
export const E1000_ICR_MDAC = 0x0000_0200;
export const E1000_ICR_TXD_LOW = 0x0000_8000;
export const E1000_ICR_SRPD = 0x0001_0000;
export const E1000_ICR_INT_ASSERTED = 0x8000_0000;
/** The interrupt causes the 82540EM implements (bits 0..16 less the reserved ones). */
export const E1000_ICR_VALID = 0x0001_f6df;
/** e1000_hw.h IMS_ENABLE_MASK: what e1000_irq_enable writes to IMS. */
export const IMS_ENABLE_MASK = E1000_ICR_RXT0 | E1000_ICR_TXDW | E1000_ICR_RXDMT0 | E1000_ICR_RXSEQ | E1000_ICR_LSC;

// RCTL (SDM §13.4.22)
export const E1000_RCTL_EN = 0x0000_0002;
export const E1000_RCTL_SBP = 0x0000_0004;
export const E1000_RCTL_UPE = 0x0000_0008;
export const E1000_RCTL_MPE = 0x0000_0010;
export const E1000_RCTL_LPE = 0x0000_0020;
export const E1000_RCTL_LBM_MASK = 0x0000_00c0;
export const E1000_RCTL_RDMTS_MASK = 0x0000_0300;
export const E1000_RCTL_RDMTS_SHIFT = 8;
export const E1000_RCTL_MO_SHIFT = 12;
export const E1000_RCTL_MO_MASK = 0x0000_3000;
export const E1000_RCTL_BAM = 0x0000_8000;
export const E1000_RCTL_SZ_MASK = 0x0003_0000;
export const E1000_RCTL_SZ_SHIFT = 16;
export const E1000_RCTL_VFE = 0x0004_0000;
export const E1000_RCTL_BSEX = 0x0200_0000;
export const E1000_RCTL_SECRC = 0x0400_0000;

// TCTL (SDM §13.4.33)
export const E1000_TCTL_EN = 0x0000_0002;
export const E1000_TCTL_PSP = 0x0000_0008;
export const E1000_TCTL_CT = 0x0000_0ff0;
export const E1000_TCTL_COLD = 0x003f_f000;
export const E1000_TCTL_RTLC = 0x0100_0000;

// RAH (SDM §13.5.3)
export const E1000_RAH_AV = 0x8000_0000;

// RXCSUM (SDM §13.5.1)
export const E1000_RXCSUM_PCSS_MASK = 0x0000_00ff;
export const E1000_RXCSUM_IPOFL = 0x0000_0100;
export const E1000_RXCSUM_TUOFL = 0x0000_0200;

// MANC (SDM §13.6.4): the 82540EM has no manageability firmware; only the ARP filter bit is written by the driver.
export const E1000_MANC_ARP_EN = 0x0000_2000;

// Reset values that differ from 0 (SDM Table 13-2 "Initial value").
export const E1000_PBA_48K = 0x0030;
/** LEDCTL reset value: LED0 link-up, LED1 activity, LED2 link-100, LED3 link-1000 (SDM §13.4.34). */
export const E1000_LEDCTL_DEFAULT = 0x0706_8302;
export const E1000_TXDCTL_DEFAULT = 0x0000_0000;
/** Time units of the delay and throttle registers: ITR counts 256 ns, RDTR/RADV/TIDV/TADV 1.024 us. */
export const E1000_ITR_UNIT_NS = 256;

// Legacy receive descriptor (SDM §3.2.3, struct e1000_rx_desc): 16 bytes.
export const E1000_DESC_SIZE = 16;
export const RXD_BUFFER_ADDR = 0;
export const RXD_LENGTH = 8;
export const RXD_CSUM = 10;
export const RXD_STATUS = 12;
export const RXD_ERRORS = 13;
export const RXD_SPECIAL = 14;
export const E1000_RXD_STAT_DD = 0x01;
export const E1000_RXD_STAT_EOP = 0x02;
export const E1000_RXD_STAT_IXSM = 0x04;
export const E1000_RXD_STAT_VP = 0x08;
export const E1000_RXD_STAT_TCPCS = 0x20;
export const E1000_RXD_STAT_IPCS = 0x40;
export const E1000_RXD_ERR_TCPE = 0x20;
export const E1000_RXD_ERR_IPE = 0x40;

// Transmit descriptors (SDM §3.3.3 legacy, §3.3.6 context, §3.3.7 data; struct e1000_tx_desc,
// e1000_context_desc, e1000_data_desc): 16 bytes each. The dword at offset 8 carries the command and length.
export const TXD_BUFFER_ADDR = 0;
export const TXD_LOWER = 8;
export const TXD_UPPER = 12;
/** Legacy: CSO at byte 10, CMD at byte 11; upper: STA at byte 12, CSS at byte 13, special at 14. */
export const TXD_CSO = 10;
export const TXD_CSS = 13;
export const TXD_SPECIAL = 14;
export const TXD_STATUS = 12;
export const E1000_TXD_DTYP_D = 0x0010_0000;
export const E1000_TXD_DTYP_C = 0x0000_0000;
export const E1000_TXD_DTYP_MASK = 0x00f0_0000;
export const E1000_TXD_POPTS_IXSM = 0x01;
export const E1000_TXD_POPTS_TXSM = 0x02;
export const E1000_TXD_CMD_EOP = 0x0100_0000;
export const E1000_TXD_CMD_IFCS = 0x0200_0000;
export const E1000_TXD_CMD_IC = 0x0400_0000;
export const E1000_TXD_CMD_RS = 0x0800_0000;
export const E1000_TXD_CMD_RPS = 0x1000_0000;
export const E1000_TXD_CMD_DEXT = 0x2000_0000;
export const E1000_TXD_CMD_VLE = 0x4000_0000;
export const E1000_TXD_CMD_IDE = 0x8000_0000;
export const E1000_TXD_STAT_DD = 0x01;
/** Context descriptor TUCMD bits (in the command byte, bits 31:24 of the dword at offset 8). */
export const E1000_TXD_CMD_TCP = 0x0100_0000;
export const E1000_TXD_CMD_IP = 0x0200_0000;
export const E1000_TXD_CMD_TSE = 0x0400_0000;
/** Legacy/data length field: 16 bits legacy, 20 bits data and context (PAYLEN). */
export const E1000_TXD_LEN_MASK_LEGACY = 0xffff;
export const E1000_TXD_LEN_MASK = 0x000f_ffff;
/** Context descriptor fields (e1000_context_desc). */
export const TXC_IPCSS = 0;
export const TXC_IPCSO = 1;
export const TXC_IPCSE = 2;
export const TXC_TUCSS = 4;
export const TXC_TUCSO = 5;
export const TXC_TUCSE = 6;
export const TXC_HDR_LEN = 13;
export const TXC_MSS = 14;

// EEPROM (e1000_hw.h EEPROM_* word offsets; SDM §5.6 "EEPROM Address Map")
export const EEPROM_NODE_ADDRESS = 0x0000; // words 0..2
export const EEPROM_COMPAT = 0x0003;
export const EEPROM_ID_LED_SETTINGS = 0x0004;
export const EEPROM_VERSION = 0x0005;
export const EEPROM_INIT_CONTROL1_REG = 0x000a;
export const EEPROM_SUBSYSTEM_ID = 0x000b;
export const EEPROM_SUBSYSTEM_VENDOR_ID = 0x000c;
export const EEPROM_DEVICE_ID = 0x000d;
export const EEPROM_VENDOR_ID = 0x000e;
export const EEPROM_INIT_CONTROL2_REG = 0x000f;
export const EEPROM_INIT_CONTROL3_PORT_A = 0x0024;
export const EEPROM_CHECKSUM_REG = 0x003f;
export const EEPROM_SUM = 0xbaba;
/** The 82540EM's Microwire EEPROM: 64 words (EECD.SIZE clear), 6 address bits, 3-bit opcodes. */
export const EEPROM_WORD_SIZE = 64;
export const EEPROM_ADDRESS_BITS = 6;
export const EEPROM_READ_OPCODE_MICROWIRE = 0x6;
export const EEPROM_WRITE_OPCODE_MICROWIRE = 0x5;
export const EEPROM_ERASE_OPCODE_MICROWIRE = 0x7;

// PHY registers (IEEE 802.3 clause 22 and the Marvell 88E1011 as e1000_hw.h names them)
export const PHY_CTRL = 0x00;
export const PHY_STATUS = 0x01;
export const PHY_ID1 = 0x02;
export const PHY_ID2 = 0x03;
export const PHY_AUTONEG_ADV = 0x04;
export const PHY_LP_ABILITY = 0x05;
export const PHY_AUTONEG_EXP = 0x06;
export const PHY_NEXT_PAGE_TX = 0x07;
export const PHY_LP_NEXT_PAGE = 0x08;
export const PHY_1000T_CTRL = 0x09;
export const PHY_1000T_STATUS = 0x0a;
export const PHY_EXT_STATUS = 0x0f;
export const M88E1000_PHY_SPEC_CTRL = 0x10;
export const M88E1000_PHY_SPEC_STATUS = 0x11;
export const M88E1000_INT_ENABLE = 0x12;
export const M88E1000_INT_STATUS = 0x13;
export const M88E1000_EXT_PHY_SPEC_CTRL = 0x14;
export const M88E1000_RX_ERR_CNTR = 0x15;
export const M88E1000_PHY_PAGE_SELECT = 0x1d;
export const M88E1000_PHY_GEN_CONTROL = 0x1e;
/** The address the 8254x MACs (other than ce4100) use for their internal PHY. */
export const E1000_PHY_ADDRESS = 1;
export const M88E1011_I_PHY_ID = 0x0141_0c20;
/** PHY revision 2 (the low nibble of PHY_ID2), as the 82540EM's integrated PHY reports. */
export const M88E1011_REVISION = 0x2;

export const MII_CR_SPEED_SELECT_MSB = 0x0040;
export const MII_CR_FULL_DUPLEX = 0x0100;
export const MII_CR_RESTART_AUTO_NEG = 0x0200;
export const MII_CR_ISOLATE = 0x0400;
export const MII_CR_POWER_DOWN = 0x0800;
export const MII_CR_AUTO_NEG_EN = 0x1000;
export const MII_CR_SPEED_SELECT_LSB = 0x2000;
export const MII_CR_LOOPBACK = 0x4000;
export const MII_CR_RESET = 0x8000;
export const MII_SR_EXTENDED_CAPS = 0x0001;
export const MII_SR_LINK_STATUS = 0x0004;
export const MII_SR_AUTONEG_CAPS = 0x0008;
export const MII_SR_AUTONEG_COMPLETE = 0x0020;
export const MII_SR_PREAMBLE_SUPPRESS = 0x0040;
export const MII_SR_EXTENDED_STATUS = 0x0100;
export const MII_SR_10T_HD_CAPS = 0x0800;
export const MII_SR_10T_FD_CAPS = 0x1000;
export const MII_SR_100X_HD_CAPS = 0x2000;
export const MII_SR_100X_FD_CAPS = 0x4000;
export const NWAY_AR_SELECTOR_FIELD = 0x0001;
export const NWAY_AR_ALL_CAPS = 0x01e0; // 10T HD/FD, 100TX HD/FD
export const NWAY_AR_PAUSE = 0x0400;
export const NWAY_AR_ASM_DIR = 0x0800;
export const NWAY_LPAR_ACKNOWLEDGE = 0x4000;
export const NWAY_ER_LP_NWAY_CAPS = 0x0001;
export const CR_1000T_HD_CAPS = 0x0100;
export const CR_1000T_FD_CAPS = 0x0200;
export const SR_1000T_LP_HD_CAPS = 0x0400;
export const SR_1000T_LP_FD_CAPS = 0x0800;
export const SR_1000T_REMOTE_RX_STATUS = 0x1000;
export const SR_1000T_LOCAL_RX_STATUS = 0x2000;
export const SR_1000T_MS_CONFIG_RES = 0x4000;
export const IEEE_ESR_1000T_HD_CAPS = 0x1000;
export const IEEE_ESR_1000T_FD_CAPS = 0x2000;
export const M88E1000_PSCR_AUTO_X_MODE = 0x0060;
export const M88E1000_PSCR_ASSERT_CRS_ON_TX = 0x0800;
export const M88E1000_PSSR_LINK = 0x0400;
export const M88E1000_PSSR_SPD_DPLX_RESOLVED = 0x0800;
export const M88E1000_PSSR_DPLX = 0x2000;
export const M88E1000_PSSR_1000MBS = 0x8000;
export const M88E1000_EPSCR_TX_CLK_25 = 0x0070;

// Statistics registers the tests and reports name directly (the full list is E1000_STATS).
export const E1000_MPC = 0x04010;
export const E1000_GPRC = 0x04074;
export const E1000_GPTC = 0x04080;
export const E1000_GORCL = 0x04088;
export const E1000_GORCH = 0x0408c;
export const E1000_GOTCL = 0x04090;
export const E1000_GOTCH = 0x04094;
export const E1000_RNBC = 0x040a0;
export const E1000_ROC = 0x040ac;
export const E1000_TPR = 0x040d0;
export const E1000_TPT = 0x040d4;
