// The 82576's internal copper PHY (an IGP3, PHY ID 0x02A80390 at MDIO address 1) as igb reaches it through MDIC
// (e1000_phy.c igb_read_phy_reg_igp / igb_phy_has_link / igb_copper_link_autoneg; IEEE 802.3 clause 22 registers):
// control with self-clearing reset and autonegotiation restart, status with link and autonegotiation complete while
// the uplink has carrier, the ID, advertisement and link-partner ability (1000BASE-T full duplex), and the IGP port
// status. Registers from 0x10 up are paged (IGP01E1000_PHY_PAGE_SELECT); the model keeps one page of them.

import {
  IGP01E1000_PHY_PAGE_SELECT, IGP01E1000_PHY_PORT_STATUS, IGP01E1000_PSSR_FULL_DUPLEX, IGP01E1000_PSSR_LINK_UP,
  IGP01E1000_PSSR_SPEED_1000MBPS, IGP03E1000_E_PHY_ID,
  MII_CR_AUTO_NEG_EN, MII_CR_RESET, MII_CR_RESTART_AUTO_NEG, MII_SR_AUTONEG_COMPLETE, MII_SR_LINK_STATUS, PHY_1000T_CTRL,
  PHY_1000T_STATUS, PHY_AUTONEG_ADV, PHY_AUTONEG_EXP, PHY_CONTROL, PHY_EXT_STATUS, PHY_ID1, PHY_ID2, PHY_LP_ABILITY,
  PHY_STATUS,
} from './defines.js';

/** BMCR power down (IEEE 802.3 22.2.4.1.5). */
const MII_CR_POWER_DOWN = 0x0800;
/** BMSR abilities: 100BASE-TX FD/HD, 10BASE-T FD/HD, extended status, preamble suppression, AN ability, extended caps. */
const BMSR_BASE = 0x7949;
const ANAR_DEFAULT = 0x01e1;
/** Link partner: 100/10 FD/HD, acknowledge; 1000BASE-T status: partner 1000 FD/HD, local and remote receiver OK. */
const ANLPAR_UP = 0xc1e1;
const GSTAT_UP = 0x3c00;
/** Extended status: 1000BASE-T full and half duplex. */
const ESTAT = 0x3000;
/** IGP port status: link, full duplex, 1000 Mb/s. */
const PSSR_UP = IGP01E1000_PSSR_SPEED_1000MBPS | IGP01E1000_PSSR_FULL_DUPLEX | IGP01E1000_PSSR_LINK_UP;

export class IgpPhy {
  private readonly regs = new Uint16Array(32);
  private carrier = false;

  constructor() { this.reset(); }

  reset(): void {
    this.regs.fill(0);
    this.regs[PHY_CONTROL] = MII_CR_AUTO_NEG_EN | 0x0040 | 0x0100; // AN enable, 1000 Mb/s, full duplex
    this.regs[PHY_ID1] = IGP03E1000_E_PHY_ID >>> 16;
    this.regs[PHY_ID2] = IGP03E1000_E_PHY_ID & 0xffff;
    this.regs[PHY_AUTONEG_ADV] = ANAR_DEFAULT;
    this.regs[PHY_1000T_CTRL] = 0x0300;
    this.regs[PHY_EXT_STATUS] = ESTAT;
  }

  /** The uplink's carrier (the cable). */
  setCarrier(up: boolean): void { this.carrier = up; }

  /** Link as the PHY reports it: carrier, not powered down. */
  get linkUp(): boolean { return this.carrier && (this.regs[PHY_CONTROL]! & MII_CR_POWER_DOWN) === 0; }

  read(reg: number): number {
    const up = this.linkUp;
    switch (reg) {
      case PHY_STATUS: return BMSR_BASE | (up ? MII_SR_LINK_STATUS | MII_SR_AUTONEG_COMPLETE : 0);
      case PHY_LP_ABILITY: return up ? ANLPAR_UP : 0;
      case PHY_AUTONEG_EXP: return up ? 0x0001 : 0; // link partner AN able
      case PHY_1000T_STATUS: return up ? GSTAT_UP : 0;
      case IGP01E1000_PHY_PORT_STATUS: return up ? PSSR_UP : 0;
      default: return this.regs[reg & 31]!;
    }
  }

  // guest-controlled: any register and value; reset and restart-autonegotiation complete at once.
  write(reg: number, v: number): void {
    const r = reg & 31;
    if (r === PHY_CONTROL) {
      if ((v & MII_CR_RESET) !== 0) { const page = this.regs[IGP01E1000_PHY_PAGE_SELECT]!; this.reset(); this.regs[IGP01E1000_PHY_PAGE_SELECT] = page; return; }
      this.regs[r] = v & ~(MII_CR_RESET | MII_CR_RESTART_AUTO_NEG);
      return;
    }
    if (r === PHY_STATUS || r === PHY_ID1 || r === PHY_ID2 || r === PHY_LP_ABILITY || r === PHY_1000T_STATUS || r === PHY_EXT_STATUS) return;
    this.regs[r] = v & 0xffff;
  }
}
