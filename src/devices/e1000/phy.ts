// The 82540EM's integrated PHY as software sees it through MDIC (8254x SDM §13.4.7 MDIC, §13.5 "PHY Registers"; a
// Marvell 88E1011, which Linux 6.12 e1000_detect_gig_phy expects for the 82540 as M88E1011_I_PHY_ID): the IEEE 802.3
// clause 22 registers with autonegotiation that completes at once against a 1000BASE-T full-duplex partner while the
// backend has carrier, and the M88 specific registers the driver reads and writes (e1000_copper_link_mgp_setup,
// e1000_phy_m88_get_info, e1000_check_downshift). Registers the driver never touches read 0 and ignore writes.

import {
  CR_1000T_FD_CAPS, CR_1000T_HD_CAPS, IEEE_ESR_1000T_FD_CAPS, IEEE_ESR_1000T_HD_CAPS, M88E1000_EXT_PHY_SPEC_CTRL,
  M88E1000_INT_ENABLE, M88E1000_INT_STATUS, M88E1000_PHY_GEN_CONTROL, M88E1000_PHY_PAGE_SELECT,
  M88E1000_PHY_SPEC_CTRL, M88E1000_PHY_SPEC_STATUS, M88E1000_PSCR_AUTO_X_MODE, M88E1000_PSSR_1000MBS,
  M88E1000_PSSR_DPLX, M88E1000_PSSR_LINK, M88E1000_PSSR_SPD_DPLX_RESOLVED, M88E1000_RX_ERR_CNTR, M88E1011_I_PHY_ID,
  M88E1011_REVISION, MII_CR_AUTO_NEG_EN, MII_CR_FULL_DUPLEX, MII_CR_POWER_DOWN, MII_CR_RESET, MII_CR_RESTART_AUTO_NEG,
  MII_CR_SPEED_SELECT_MSB, MII_SR_100X_FD_CAPS, MII_SR_100X_HD_CAPS, MII_SR_10T_FD_CAPS, MII_SR_10T_HD_CAPS,
  MII_SR_AUTONEG_CAPS, MII_SR_AUTONEG_COMPLETE, MII_SR_EXTENDED_CAPS, MII_SR_EXTENDED_STATUS, MII_SR_LINK_STATUS,
  MII_SR_PREAMBLE_SUPPRESS, NWAY_AR_ALL_CAPS, NWAY_AR_SELECTOR_FIELD, NWAY_ER_LP_NWAY_CAPS, NWAY_LPAR_ACKNOWLEDGE,
  PHY_1000T_CTRL, PHY_1000T_STATUS, PHY_AUTONEG_ADV, PHY_AUTONEG_EXP, PHY_CTRL, PHY_EXT_STATUS, PHY_ID1, PHY_ID2,
  PHY_LP_ABILITY, PHY_LP_NEXT_PAGE, PHY_NEXT_PAGE_TX, PHY_STATUS, SR_1000T_LOCAL_RX_STATUS, SR_1000T_LP_FD_CAPS,
  SR_1000T_LP_HD_CAPS, SR_1000T_REMOTE_RX_STATUS,
} from './regs.js';

/** BMCR after reset: autonegotiation enabled, full duplex, 1000 Mb/s selected (88E1011 datasheet defaults). */
const PHY_CTRL_DEFAULT = MII_CR_AUTO_NEG_EN | MII_CR_FULL_DUPLEX | MII_CR_SPEED_SELECT_MSB;
const PHY_STATUS_CAPS = MII_SR_100X_FD_CAPS | MII_SR_100X_HD_CAPS | MII_SR_10T_FD_CAPS | MII_SR_10T_HD_CAPS |
  MII_SR_EXTENDED_STATUS | MII_SR_PREAMBLE_SUPPRESS | MII_SR_AUTONEG_CAPS | MII_SR_EXTENDED_CAPS;
/** The link partner: a 1000BASE-T full/half, 100/10 full/half capable switch port, acknowledging our page. */
const LP_ABILITY = NWAY_LPAR_ACKNOWLEDGE | NWAY_AR_ALL_CAPS | NWAY_AR_SELECTOR_FIELD;
const LINK_1000T_STATUS = SR_1000T_LP_FD_CAPS | SR_1000T_LP_HD_CAPS | SR_1000T_LOCAL_RX_STATUS | SR_1000T_REMOTE_RX_STATUS;
const LINK_PSSR = M88E1000_PSSR_1000MBS | M88E1000_PSSR_DPLX | M88E1000_PSSR_SPD_DPLX_RESOLVED | M88E1000_PSSR_LINK;

/** Registers that simply hold what software writes, with their reset values. */
const STORED: ReadonlyMap<number, number> = new Map([
  [PHY_AUTONEG_ADV, NWAY_AR_ALL_CAPS | NWAY_AR_SELECTOR_FIELD],
  [PHY_NEXT_PAGE_TX, 0x2001],
  [PHY_1000T_CTRL, CR_1000T_FD_CAPS | CR_1000T_HD_CAPS],
  [M88E1000_PHY_SPEC_CTRL, M88E1000_PSCR_AUTO_X_MODE | 0x0008],
  [M88E1000_INT_ENABLE, 0],
  [M88E1000_EXT_PHY_SPEC_CTRL, 0x0c60],
  [M88E1000_PHY_PAGE_SELECT, 0],
  [M88E1000_PHY_GEN_CONTROL, 0],
]);

export class M88Phy {
  private ctrl = PHY_CTRL_DEFAULT;
  private readonly stored = new Map<number, number>(STORED);
  /** The cable has carrier (the backend's link is up). */
  private carrier = false;
  /** Autonegotiation has completed since the last restart (immediately while there is carrier). */
  private anComplete = false;
  /** Accesses to registers the model does not implement. */
  unknownAccesses = 0;

  /** Power-on / PHY_RST state. The carrier is the cable's and survives the reset. */
  reset(): void {
    this.ctrl = PHY_CTRL_DEFAULT;
    this.stored.clear();
    for (const [k, v] of STORED) this.stored.set(k, v);
    this.anComplete = this.carrier;
  }

  /** The PHY reports link: carrier, powered, and (with autonegotiation on) negotiation complete. */
  get linkUp(): boolean {
    return this.carrier && (this.ctrl & MII_CR_POWER_DOWN) === 0 && ((this.ctrl & MII_CR_AUTO_NEG_EN) === 0 || this.anComplete);
  }

  /** The cable's carrier changed (the backend's linkUp). Negotiation completes at once when it comes up. */
  setCarrier(up: boolean): void {
    this.carrier = up;
    this.anComplete = up;
  }

  read(reg: number): number {
    switch (reg) {
      case PHY_CTRL: return this.ctrl;
      case PHY_STATUS: return PHY_STATUS_CAPS | (this.linkUp ? MII_SR_LINK_STATUS : 0) | (this.anComplete ? MII_SR_AUTONEG_COMPLETE : 0);
      case PHY_ID1: return M88E1011_I_PHY_ID >>> 16;
      case PHY_ID2: return (M88E1011_I_PHY_ID & 0xfff0) | M88E1011_REVISION;
      case PHY_LP_ABILITY: return this.anComplete ? LP_ABILITY : 0;
      case PHY_AUTONEG_EXP: return this.anComplete ? NWAY_ER_LP_NWAY_CAPS : 0;
      case PHY_LP_NEXT_PAGE: return 0;
      case PHY_1000T_STATUS: return this.linkUp ? LINK_1000T_STATUS : 0;
      case PHY_EXT_STATUS: return IEEE_ESR_1000T_FD_CAPS | IEEE_ESR_1000T_HD_CAPS;
      case M88E1000_PHY_SPEC_STATUS: return this.linkUp ? LINK_PSSR : 0;
      case M88E1000_INT_STATUS: return 0;
      case M88E1000_RX_ERR_CNTR: return 0;
      default: {
        const v = this.stored.get(reg);
        if (v === undefined) { this.unknownAccesses++; return 0; }
        return v;
      }
    }
  }

  // guest-controlled: any register number 0..31 and 16-bit value.
  write(reg: number, v: number): void {
    v &= 0xffff;
    if (reg === PHY_CTRL) {
      if ((v & MII_CR_RESET) !== 0) {
        // A software reset commits the configuration and self-clears (e1000_phy_reset); negotiation restarts.
        this.ctrl = v & ~(MII_CR_RESET | MII_CR_RESTART_AUTO_NEG);
        this.anComplete = this.carrier;
        return;
      }
      if ((v & MII_CR_RESTART_AUTO_NEG) !== 0) this.anComplete = this.carrier;
      this.ctrl = v & ~MII_CR_RESTART_AUTO_NEG;
      return;
    }
    if (this.stored.has(reg)) { this.stored.set(reg, v); return; }
    this.unknownAccesses++;
  }
}
