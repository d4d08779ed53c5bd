// Register bits and descriptor layouts of the Intel 82576 (82576EB datasheet, chapters on functionality and the programming interface), named as in Linux 6.12's
// igb/e1000_defines.h, e1000_82575.h, e1000_mbx.h and igbvf/defines.h, mbx.h.

export const E1000_CTRL_FD = 0x0000_0001;
export const E1000_CTRL_GIO_MASTER_DISABLE = 0x0000_0004;
export const E1000_CTRL_SLU = 0x0000_0040;
export const E1000_CTRL_RST = 0x0400_0000;
export const E1000_CTRL_VME = 0x4000_0000;
export const E1000_CTRL_PHY_RST = 0x8000_0000;

export const E1000_STATUS_FD = 0x0000_0001;
export const E1000_STATUS_LU = 0x0000_0002;
export const E1000_STATUS_SPEED_1000 = 0x0000_0080;
export const E1000_STATUS_GIO_MASTER_ENABLE = 0x0008_0000;

export const E1000_CTRL_EXT_PFRSTD = 0x0000_4000;
export const E1000_CTRL_EXT_DRV_LOAD = 0x1000_0000;

export const E1000_EECD_REQ = 0x0000_0040;
export const E1000_EECD_GNT = 0x0000_0080;
export const E1000_EECD_PRES = 0x0000_0100;
export const E1000_EECD_AUTO_RD = 0x0000_0200;
export const E1000_EECD_SIZE_EX_SHIFT = 11;
/** EERD (82575 family): start bit 0, done bit 1, word address from bit 2, data in bits 31:16. */
export const E1000_NVM_RW_REG_START = 1;
export const E1000_NVM_RW_REG_DONE = 2;
export const E1000_NVM_RW_ADDR_SHIFT = 2;
export const E1000_NVM_RW_REG_DATA = 16;
export const NVM_CHECKSUM_REG = 0x3f;
export const NVM_SUM = 0xbaba;
export const E1000_NVM_CFG_DONE_PORT_0 = 0x0004_0000;

export const E1000_SWSM_SMBI = 0x1;
export const E1000_SWSM_SWESMBI = 0x2;

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

export const E1000_ICR_TXDW = 0x0000_0001;
export const E1000_ICR_LSC = 0x0000_0004;
export const E1000_ICR_RXDMT0 = 0x0000_0010;
export const E1000_ICR_RXT0 = 0x0000_0080;
export const E1000_ICR_VMMB = 0x0000_0100;
export const E1000_ICR_MDAC = 0x0000_0200;
export const E1000_ICR_DOUTSYNC = 0x1000_0000;
export const E1000_ICR_DRSTA = 0x4000_0000;
export const E1000_ICR_INT_ASSERTED = 0x8000_0000;

export const E1000_GPIE_NSICR = 0x0000_0001;
export const E1000_GPIE_MSIX_MODE = 0x0000_0010;
export const E1000_GPIE_EIAME = 0x4000_0000;
export const E1000_GPIE_PBA = 0x8000_0000;
export const E1000_IVAR_VALID = 0x80;

export const E1000_RCTL_EN = 0x0000_0002;
export const E1000_RCTL_UPE = 0x0000_0008;
export const E1000_RCTL_MPE = 0x0000_0010;
export const E1000_RCTL_LPE = 0x0000_0020;
export const E1000_RCTL_MO_SHIFT = 12;
export const E1000_RCTL_BAM = 0x0000_8000;
export const E1000_RCTL_VFE = 0x0004_0000;
export const E1000_TCTL_EN = 0x0000_0002;

export const E1000_SRRCTL_BSIZEPKT_MASK = 0x0000_007f;
export const E1000_SRRCTL_BSIZEPKT_SHIFT = 10;
export const E1000_SRRCTL_DESCTYPE_MASK = 0x0e00_0000;
export const E1000_SRRCTL_DESCTYPE_ADV_ONEBUF = 0x0200_0000;
export const E1000_SRRCTL_DROP_EN = 0x8000_0000;
export const E1000_RXDCTL_QUEUE_ENABLE = 0x0200_0000;
export const E1000_TXDCTL_QUEUE_ENABLE = 0x0200_0000;

// Mailbox (e1000_mbx.h, igbvf/mbx.h).
export const E1000_P2VMAILBOX_STS = 0x01;
export const E1000_P2VMAILBOX_ACK = 0x02;
export const E1000_P2VMAILBOX_VFU = 0x04;
export const E1000_P2VMAILBOX_PFU = 0x08;
export const E1000_P2VMAILBOX_RVFU = 0x10;
export const E1000_V2PMAILBOX_REQ = 0x01;
export const E1000_V2PMAILBOX_ACK = 0x02;
export const E1000_V2PMAILBOX_VFU = 0x04;
export const E1000_V2PMAILBOX_PFU = 0x08;
export const E1000_V2PMAILBOX_PFSTS = 0x10;
export const E1000_V2PMAILBOX_PFACK = 0x20;
export const E1000_V2PMAILBOX_RSTI = 0x40;
export const E1000_V2PMAILBOX_RSTD = 0x80;
/** PFSTS, PFACK and RSTD clear when the VF reads its mailbox register. */
export const E1000_V2PMAILBOX_R2C_BITS = 0xb0;
export const E1000_MBVFICR_VFREQ_VF1 = 0x0000_0001;
export const E1000_MBVFICR_VFACK_VF1 = 0x0001_0000;
// Messages (the PF's igb driver interprets them; the hardware only carries them).
export const E1000_VT_MSGTYPE_ACK = 0x8000_0000;
export const E1000_VT_MSGTYPE_NACK = 0x4000_0000;
export const E1000_VT_MSGTYPE_CTS = 0x2000_0000;
export const E1000_VT_MSGINFO_SHIFT = 16;
export const E1000_VF_RESET = 0x01;
export const E1000_VF_SET_MAC_ADDR = 0x02;
export const E1000_VF_SET_MULTICAST = 0x03;
export const E1000_VF_SET_VLAN = 0x04;
export const E1000_VF_SET_LPE = 0x05;
export const E1000_VF_SET_PROMISC = 0x06;
export const E1000_PF_CONTROL_MSG = 0x0100;

// VMDq and the switch (e1000_82575.h, e1000_defines.h).
export const E1000_RAH_AV = 0x8000_0000;
export const E1000_RAH_ASEL_SRC_ADDR = 0x0001_0000;
export const E1000_RAH_POOL_MASK = 0x03fc_0000;
export const E1000_RAH_POOL_SHIFT = 18;
export const E1000_MRQC_ENABLE_MASK = 0x7;
export const E1000_MRQC_ENABLE_VMDQ = 0x3;
export const E1000_MRQC_ENABLE_VMDQ_RSS_MQ = 0x5;
export const E1000_VT_CTL_DEFAULT_POOL_SHIFT = 7;
export const E1000_VT_CTL_DEFAULT_POOL_MASK = 0x7 << 7;
export const E1000_VT_CTL_DISABLE_DEF_POOL = 1 << 29;
export const E1000_VT_CTL_VM_REPL_EN = 1 << 30;
export const E1000_VMOLR_RLPML_MASK = 0x0000_3fff;
export const E1000_VMOLR_LPE = 0x0001_0000;
export const E1000_VMOLR_AUPE = 0x0100_0000;
export const E1000_VMOLR_ROMPE = 0x0200_0000;
export const E1000_VMOLR_ROPE = 0x0400_0000;
export const E1000_VMOLR_BAM = 0x0800_0000;
export const E1000_VMOLR_MPME = 0x1000_0000;
export const E1000_VMOLR_STRVLAN = 0x4000_0000;
export const E1000_VLVF_VLANID_MASK = 0x0000_0fff;
export const E1000_VLVF_POOLSEL_SHIFT = 12;
export const E1000_VLVF_POOLSEL_MASK = 0xff << 12;
export const E1000_VLVF_VLANID_ENABLE = 0x8000_0000;
export const E1000_VMVIR_VLANA_DEFAULT = 0x4000_0000;
export const E1000_VMVIR_VLANA_NEVER = 0x8000_0000;
export const E1000_DTXSWC_MAC_SPOOF_MASK = 0x0000_00ff;
export const E1000_DTXSWC_VLAN_SPOOF_MASK = 0x0000_ff00;
export const E1000_DTXSWC_VLAN_SPOOF_SHIFT = 8;
export const E1000_DTXSWC_VMDQ_LOOPBACK_EN = 0x8000_0000;
export const E1000_RTTBCNRC_RS_ENA = 0x8000_0000;
export const E1000_RTTBCNRC_RF_DEC_MASK = 0x0000_3fff;
export const E1000_RTTBCNRC_RF_INT_SHIFT = 14;
export const E1000_RTTBCNRC_RF_INT_MASK = 0x3fff << 14;

// Advanced descriptors (e1000_82575.h): 16 bytes each.
export const ADV_DESC_SIZE = 16;
export const E1000_RXD_STAT_DD = 0x01;
export const E1000_RXD_STAT_EOP = 0x02;
export const E1000_RXD_STAT_IXSM = 0x04;
export const E1000_RXD_STAT_VP = 0x08;
export const E1000_RXDEXT_STATERR_LB = 0x0004_0000;
/** Write-back field offsets: pkt_info/hdr_info (0), rss (4), status_error (8), length (12), vlan (14). */
export const RXD_WB_STATUS = 8;
export const RXD_WB_LENGTH = 12;
export const RXD_WB_VLAN = 14;
export const E1000_ADVTXD_DTYP_MASK = 0x00f0_0000;
export const E1000_ADVTXD_DTYP_CTXT = 0x0020_0000;
export const E1000_ADVTXD_DTYP_DATA = 0x0030_0000;
export const E1000_ADVTXD_DCMD_EOP = 0x0100_0000;
export const E1000_ADVTXD_DCMD_IFCS = 0x0200_0000;
export const E1000_ADVTXD_DCMD_RS = 0x0800_0000;
export const E1000_ADVTXD_DCMD_DEXT = 0x2000_0000;
export const E1000_ADVTXD_DCMD_VLE = 0x4000_0000;
export const E1000_ADVTXD_DCMD_TSE = 0x8000_0000;
export const E1000_ADVTXD_LEN_MASK = 0x0000_ffff;
export const E1000_ADVTXD_PAYLEN_SHIFT = 14;
export const E1000_ADVTXD_IDX_SHIFT = 4;
export const E1000_ADVTXD_POPTS_IXSM = 0x0000_0100;
export const E1000_ADVTXD_POPTS_TXSM = 0x0000_0200;
export const E1000_TXD_STAT_DD = 0x0000_0001;
export const E1000_ADVTXD_MACLEN_SHIFT = 9;
export const E1000_ADVTXD_TUCMD_IPV4 = 0x0000_0400;
export const E1000_ADVTXD_TUCMD_L4T_TCP = 0x0000_0800;
export const E1000_ADVTXD_TUCMD_L4T_SCTP = 0x0000_1000;
export const E1000_ADVTXD_L4LEN_SHIFT = 8;
export const E1000_ADVTXD_MSS_SHIFT = 16;
/** TX descriptor fields: buffer address (0), cmd_type_len (8), olinfo_status (12). */
export const TXD_CMD_TYPE_LEN = 8;
export const TXD_OLINFO_STATUS = 12;
/** Context descriptor fields: vlan_macip_lens (0), seqnum_seed (4), type_tucmd_mlhl (8), mss_l4len_idx (12). */
export const TXC_VLAN_MACIP_LENS = 0;
export const TXC_TYPE_TUCMD = 8;
export const TXC_MSS_L4LEN_IDX = 12;

// The PHY (e1000_defines.h, e1000_phy.h): the 82576's internal IGP3 PHY at MDIO address 1.
export const IGB_PHY_ADDRESS = 1;
export const IGP03E1000_E_PHY_ID = 0x02a8_0390;
export const PHY_CONTROL = 0x00;
export const PHY_STATUS = 0x01;
export const PHY_ID1 = 0x02;
export const PHY_ID2 = 0x03;
export const PHY_AUTONEG_ADV = 0x04;
export const PHY_LP_ABILITY = 0x05;
/** MII autonegotiation expansion (IEEE 802.3 22.2.4). */
export const PHY_AUTONEG_EXP = 0x06;
export const PHY_1000T_CTRL = 0x09;
export const PHY_1000T_STATUS = 0x0a;
/** MII extended status (IEEE 802.3 22.2.4). */
export const PHY_EXT_STATUS = 0x0f;
export const IGP01E1000_PHY_PORT_STATUS = 0x11;
export const IGP01E1000_PHY_PAGE_SELECT = 0x1f;
export const MII_CR_RESET = 0x8000;
export const MII_CR_AUTO_NEG_EN = 0x1000;
export const MII_CR_RESTART_AUTO_NEG = 0x0200;
export const MII_SR_LINK_STATUS = 0x0004;
export const MII_SR_AUTONEG_COMPLETE = 0x0020;
/** IGP port status bits (Linux e1000/e1000_hw.h IGP01E1000_PSSR_*). */
export const IGP01E1000_PSSR_FULL_DUPLEX = 0x0200;
export const IGP01E1000_PSSR_LINK_UP = 0x0400;
export const IGP01E1000_PSSR_SPEED_1000MBPS = 0xc000;
