// A mock guest e1000 driver for tests and benchmarks: it programs the device the way Linux 6.12's e1000_main.c and
// e1000_hw.c do for an 82540 (e1000_probe: init_eeprom_params, reset_hw with CTRL.RST through the I/O BAR,
// validate_eeprom_checksum and read_mac_addr by bit-banging EECD; e1000_reset → init_hw: RAR/MTA/VFTA, setup_link with
// the M88 PHY over MDIC; e1000_open → configure_tx/rx, irq_enable, ICS LSC; the watchdog turning TCTL.EN on; xmit with
// context + data descriptors (e1000_tso, e1000_tx_csum, e1000_tx_queue); e1000_intr + e1000_clean), with rings and
// buffers in guest RAM. Every register access goes through the bus, and is counted per offset.

import type { GuestMemory } from '../../../memory/guest-memory.js';
import {
  E1000_CTRL, E1000_CTRL_RST, E1000_CTRL_SLU, E1000_DESC_SIZE, E1000_EECD, E1000_EECD_CS, E1000_EECD_DI,
  E1000_EECD_DO, E1000_EECD_GNT, E1000_EECD_REQ, E1000_EECD_SIZE, E1000_EECD_SK, E1000_EERD, E1000_EERD_DONE,
  E1000_EERD_START, E1000_ICR, E1000_ICS, E1000_ICR_LSC, E1000_IMC, E1000_IMS, E1000_IOADDR, E1000_IODATA, E1000_ITR,
  E1000_MANC, E1000_MANC_ARP_EN, E1000_MDIC, E1000_MDIC_ERROR, E1000_MDIC_OP_READ, E1000_MDIC_OP_WRITE,
  E1000_MDIC_PHY_SHIFT, E1000_MDIC_READY, E1000_MDIC_REG_SHIFT, E1000_MTA, E1000_PBA, E1000_PBA_48K, E1000_RA,
  E1000_RAH_AV, E1000_RCTL, E1000_RCTL_BAM, E1000_RCTL_EN, E1000_RDBAH, E1000_RDBAL, E1000_RDH, E1000_RDLEN,
  E1000_RDT, E1000_RDTR, E1000_RXCSUM, E1000_RXCSUM_TUOFL, E1000_RXD_STAT_DD, E1000_STATS, E1000_STATUS,
  E1000_STATUS_LU, E1000_TCTL, E1000_TCTL_EN, E1000_TCTL_PSP, E1000_TCTL_RTLC, E1000_TDBAH, E1000_TDBAL,
  E1000_TDH, E1000_TDLEN, E1000_TDT, E1000_TIDV, E1000_TIPG, E1000_TXDCTL, E1000_TXD_CMD_DEXT, E1000_TXD_CMD_EOP,
  E1000_TXD_CMD_IFCS, E1000_TXD_CMD_IP, E1000_TXD_CMD_RS, E1000_TXD_CMD_TCP, E1000_TXD_CMD_TSE, E1000_TXD_DTYP_D,
  E1000_TXD_POPTS_IXSM, E1000_TXD_POPTS_TXSM, E1000_TXD_STAT_DD, E1000_VET, E1000_VFTA, EEPROM_CHECKSUM_REG,
  EEPROM_INIT_CONTROL2_REG, EEPROM_READ_OPCODE_MICROWIRE, EEPROM_SUM, IMS_ENABLE_MASK, MII_CR_AUTO_NEG_EN,
  MII_CR_RESET, MII_CR_RESTART_AUTO_NEG, MII_SR_LINK_STATUS, M88E1000_EXT_PHY_SPEC_CTRL, M88E1000_PHY_SPEC_CTRL,
  M88E1000_PSCR_ASSERT_CRS_ON_TX, M88E1000_PSCR_AUTO_X_MODE, M88E1000_EPSCR_TX_CLK_25, M88E1011_I_PHY_ID,
  PHY_1000T_CTRL, PHY_AUTONEG_ADV, PHY_CTRL, PHY_ID1, PHY_ID2, PHY_STATUS, RXD_LENGTH, RXD_STATUS, TXD_STATUS,
} from '../regs.js';

/** 32-bit register accesses to BAR 0 (and optionally the I/O BAR), as a hart's loads and stores reach them. */
export interface E1000Access {
  read(offset: number): number;
  write(offset: number, value: number): void;
  ioRead?(offset: number): number;
  ioWrite?(offset: number, value: number): void;
}

export interface MockDriverLayout {
  /** Guest physical addresses of the rings and of the buffer area. */
  txRing: number;
  rxRing: number;
  txCount: number;
  rxCount: number;
  /** RX buffers (rxCount × 2048) then TX buffers (txCount × txBufSize). */
  buffers: number;
  txBufSize: number;
}

/** Per-offset register access counts (reads and writes), the mock driver's own view of its exits. */
export class AccessLog {
  readonly reads = new Map<number, number>();
  readonly writes = new Map<number, number>();
  total = 0;
  note(off: number, write: boolean): void {
    const m = write ? this.writes : this.reads;
    m.set(off, (m.get(off) ?? 0) + 1);
    this.total++;
  }
  clear(): void { this.reads.clear(); this.writes.clear(); this.total = 0; }
}

export interface TsoRequest {
  mss: number;
  /** Ethernet + IP + TCP header length (skb_tcp_all_headers). */
  hdrLen: number;
  ipv4: boolean;
}

export interface XmitOptions {
  tso?: TsoRequest;
  /** CHECKSUM_PARTIAL: csum_start (offset of the TCP/UDP header) and csum_offset (of its checksum field). */
  csum?: { start: number; offset: number; tcp: boolean };
  /** Write TDT (false: netdev_xmit_more, the doorbell comes with a later packet). Default true. */
  doorbell?: boolean;
}

export const RX_BUFFER_LEN = 2048;

/** The driver's own copy of the one's complement sum, for the pseudo-header the stack leaves in the TCP field. */
function sum16(b: Uint8Array, off: number, len: number, sum = 0): number {
  for (let i = 0; i + 1 < len; i += 2) sum += (b[off + i]! << 8) | b[off + i + 1]!;
  if ((len & 1) !== 0) sum += b[off + len - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

export class MockE1000Driver {
  readonly log = new AccessLog();
  mac = new Uint8Array(6);
  /** EEPROM reads by bit-banging EECD (what Linux does for the 82540) or through EERD. */
  eepromVia: 'eecd' | 'eerd' = 'eecd';
  private txNext = 0;
  private txClean = 0;
  private rxNext = 0;
  private rxClean = 0;
  /** Descriptor index of each queued packet's EOP, in order (next_to_watch). */
  private readonly txEop: number[] = [];
  /** ITR the driver programs (e1000_configure_rx: 1e9 / (itr * 256) for 20000 interrupts/s), 0 = none. */
  itr = Math.floor(1e9 / (20000 * 256));

  constructor(readonly hw: E1000Access, readonly ram: GuestMemory, readonly layout: MockDriverLayout) {}

  er32(off: number): number { this.log.note(off, false); return this.hw.read(off) >>> 0; }
  ew32(off: number, v: number): void { this.log.note(off, true); this.hw.write(off, v >>> 0); }

  // --- EEPROM (e1000_hw.c e1000_acquire_eeprom / e1000_shift_out_ee_bits / e1000_shift_in_ee_bits) ----------------

  private eecd(v: number): void { this.ew32(E1000_EECD, v); }

  private acquire(): boolean {
    let eecd = this.er32(E1000_EECD) | E1000_EECD_REQ;
    this.eecd(eecd);
    eecd = this.er32(E1000_EECD);
    if ((eecd & E1000_EECD_GNT) === 0) return false;
    eecd &= ~(E1000_EECD_DI | E1000_EECD_SK);
    this.eecd(eecd);
    eecd |= E1000_EECD_CS;
    this.eecd(eecd);
    return true;
  }

  private shiftOut(data: number, count: number): void {
    let eecd = this.er32(E1000_EECD) & ~E1000_EECD_DO;
    for (let mask = 1 << (count - 1); mask !== 0; mask >>= 1) {
      eecd = (eecd & ~E1000_EECD_DI) | ((data & mask) !== 0 ? E1000_EECD_DI : 0);
      this.eecd(eecd);
      this.eecd(eecd | E1000_EECD_SK);
      this.eecd(eecd);
    }
    this.eecd(eecd & ~E1000_EECD_DI);
  }

  private shiftIn(count: number): number {
    let eecd = this.er32(E1000_EECD) & ~(E1000_EECD_DO | E1000_EECD_DI);
    let data = 0;
    for (let i = 0; i < count; i++) {
      data <<= 1;
      this.eecd(eecd | E1000_EECD_SK);
      eecd = this.er32(E1000_EECD) & ~E1000_EECD_DI;
      if ((eecd & E1000_EECD_DO) !== 0) data |= 1;
      eecd &= ~E1000_EECD_SK;
      this.eecd(eecd);
    }
    return data;
  }

  private standby(): void {
    let eecd = this.er32(E1000_EECD) & ~(E1000_EECD_CS | E1000_EECD_SK);
    this.eecd(eecd);
    eecd |= E1000_EECD_SK; this.eecd(eecd);
    eecd |= E1000_EECD_CS; this.eecd(eecd);
    eecd &= ~E1000_EECD_SK; this.eecd(eecd);
  }

  private release(): void {
    let eecd = this.er32(E1000_EECD) & ~(E1000_EECD_CS | E1000_EECD_DI);
    this.eecd(eecd);
    eecd |= E1000_EECD_SK; this.eecd(eecd);
    eecd &= ~E1000_EECD_SK; this.eecd(eecd);
    this.eecd(eecd & ~E1000_EECD_REQ);
  }

  /** One EEPROM word (e1000_read_eeprom), or -1 when the part did not grant access or EERD never completed. */
  readEeprom(word: number): number {
    if (this.eepromVia === 'eerd') {
      this.ew32(E1000_EERD, E1000_EERD_START | (word << 8));
      for (let i = 0; i < 10; i++) {
        const v = this.er32(E1000_EERD);
        if ((v & E1000_EERD_DONE) !== 0) return v >>> 16;
      }
      return -1;
    }
    const addressBits = (this.er32(E1000_EECD) & E1000_EECD_SIZE) !== 0 ? 8 : 6;
    if (!this.acquire()) return -1;
    this.shiftOut(EEPROM_READ_OPCODE_MICROWIRE, 3);
    this.shiftOut(word, addressBits);
    const v = this.shiftIn(16);
    this.standby();
    this.release();
    return v;
  }

  // --- PHY over MDIC (e1000_read_phy_reg_ex / e1000_write_phy_reg_ex) --------------------------------------------

  readPhy(reg: number, phyAddr = 1): number {
    this.ew32(E1000_MDIC, (reg << E1000_MDIC_REG_SHIFT) | (phyAddr << E1000_MDIC_PHY_SHIFT) | E1000_MDIC_OP_READ);
    for (let i = 0; i < 64; i++) {
      const m = this.er32(E1000_MDIC);
      if ((m & E1000_MDIC_READY) !== 0) return (m & E1000_MDIC_ERROR) !== 0 ? -1 : m & 0xffff;
    }
    return -1;
  }

  writePhy(reg: number, v: number, phyAddr = 1): boolean {
    this.ew32(E1000_MDIC, (v & 0xffff) | (reg << E1000_MDIC_REG_SHIFT) | (phyAddr << E1000_MDIC_PHY_SHIFT) | E1000_MDIC_OP_WRITE);
    for (let i = 0; i < 64; i++) {
      const m = this.er32(E1000_MDIC);
      if ((m & E1000_MDIC_READY) !== 0) return (m & E1000_MDIC_ERROR) === 0;
    }
    return false;
  }

  // --- probe and reset (e1000_probe, e1000_reset_hw, e1000_init_hw) -----------------------------------------------

  /** e1000_reset_hw: mask, stop the units, CTRL.RST through the I/O BAR (or BAR 0 without one), MANC, clear ICR. */
  resetHw(): void {
    this.ew32(E1000_IMC, 0xffff_ffff);
    this.ew32(E1000_RCTL, 0);
    this.ew32(E1000_TCTL, E1000_TCTL_PSP);
    this.er32(E1000_STATUS);
    const ctrl = this.er32(E1000_CTRL);
    if (this.hw.ioWrite !== undefined) {
      this.log.note(E1000_CTRL, true);
      this.hw.ioWrite(E1000_IOADDR, E1000_CTRL);
      this.hw.ioWrite(E1000_IODATA, ctrl | E1000_CTRL_RST);
    } else {
      this.ew32(E1000_CTRL, ctrl | E1000_CTRL_RST);
    }
    this.ew32(E1000_MANC, this.er32(E1000_MANC) & ~E1000_MANC_ARP_EN);
    this.ew32(E1000_IMC, 0xffff_ffff);
    this.er32(E1000_ICR);
  }

  /** e1000_validate_eeprom_checksum: words 0..0x3f must sum to 0xBABA. */
  eepromChecksumOk(): boolean {
    let sum = 0;
    for (let i = 0; i <= EEPROM_CHECKSUM_REG; i++) {
      const w = this.readEeprom(i);
      if (w < 0) return false;
      sum = (sum + w) & 0xffff;
    }
    return sum === EEPROM_SUM;
  }

  /** e1000_probe as far as the hardware sees it. Returns whether the EEPROM checksum held (the MAC is read if so). */
  probe(): boolean {
    this.er32(E1000_EECD); // e1000_init_eeprom_params
    this.resetHw();
    const ok = this.eepromChecksumOk();
    if (ok) {
      for (let i = 0; i < 3; i++) {
        const w = this.readEeprom(i);
        this.mac[2 * i] = w & 0xff;
        this.mac[2 * i + 1] = w >>> 8;
      }
    } else {
      this.mac.fill(0);
    }
    this.readEeprom(0x24); // EEPROM_INIT_CONTROL3_PORT_A (wake on LAN)
    this.reset();
    return ok;
  }

  /** e1000_reset: PBA, reset_hw, init_hw (filters, setup_link, TXDCTL, clear counters), VET. Returns whether the PHY matched. */
  reset(): boolean {
    this.ew32(E1000_PBA, E1000_PBA_48K);
    this.resetHw();
    // e1000_init_hw
    this.readEeprom(0x04); // e1000_id_led_init
    this.ew32(E1000_VET, 0);
    for (let i = 0; i < 128; i++) this.ew32(E1000_VFTA + 4 * i, 0);
    this.rarSet(this.mac, 0);
    for (let i = 1; i < 15; i++) { this.ew32(E1000_RA + 8 * i, 0); this.ew32(E1000_RA + 8 * i + 4, 0); }
    for (let i = 0; i < 128; i++) { this.ew32(E1000_MTA + 4 * i, 0); this.er32(E1000_STATUS); }
    const phyOk = this.setupLink();
    this.ew32(E1000_TXDCTL, (this.er32(E1000_TXDCTL) & ~0x003f_0000) | 0x0101_0000);
    for (const [, off] of E1000_STATS) this.er32(off);
    this.ew32(E1000_VET, 0x8100);
    return phyOk;
  }

  /** e1000_rar_set */
  rarSet(addr: Uint8Array, index: number): void {
    this.ew32(E1000_RA + 8 * index, (addr[0]! | (addr[1]! << 8) | (addr[2]! << 16) | (addr[3]! << 24)) >>> 0);
    this.ew32(E1000_RA + 8 * index + 4, (addr[4]! | (addr[5]! << 8) | E1000_RAH_AV) >>> 0);
  }

  /** e1000_setup_link → e1000_setup_copper_link for an M88 PHY. Returns whether the PHY ID matched M88E1011. */
  setupLink(): boolean {
    this.readEeprom(EEPROM_INIT_CONTROL2_REG);
    this.ew32(E1000_CTRL, (this.er32(E1000_CTRL) | E1000_CTRL_SLU) & ~0x1800);
    const id = ((this.readPhy(PHY_ID1) << 16) | (this.readPhy(PHY_ID2) & 0xfff0)) >>> 0;
    if (id !== M88E1011_I_PHY_ID) return false;
    let pscr = this.readPhy(M88E1000_PHY_SPEC_CTRL) | M88E1000_PSCR_ASSERT_CRS_ON_TX;
    pscr = (pscr & ~M88E1000_PSCR_AUTO_X_MODE) | M88E1000_PSCR_AUTO_X_MODE;
    this.writePhy(M88E1000_PHY_SPEC_CTRL, pscr);
    this.writePhy(M88E1000_EXT_PHY_SPEC_CTRL, this.readPhy(M88E1000_EXT_PHY_SPEC_CTRL) | M88E1000_EPSCR_TX_CLK_25);
    this.writePhy(PHY_CTRL, this.readPhy(PHY_CTRL) | MII_CR_RESET);
    this.writePhy(PHY_AUTONEG_ADV, 0x01e1);
    this.writePhy(PHY_1000T_CTRL, 0x0200);
    this.writePhy(PHY_CTRL, this.readPhy(PHY_CTRL) | MII_CR_AUTO_NEG_EN | MII_CR_RESTART_AUTO_NEG);
    for (let i = 0; i < 10; i++) {
      this.readPhy(PHY_STATUS);
      if ((this.readPhy(PHY_STATUS) & MII_SR_LINK_STATUS) !== 0) break;
    }
    return true;
  }

  // --- open (e1000_configure_tx / e1000_setup_rctl / e1000_configure_rx / e1000_up) ------------------------------

  open(): void {
    const L = this.layout;
    // e1000_set_rx_mode: RCTL keeps UPE/MPE clear, the remaining RARs and the MTA are rewritten.
    this.ew32(E1000_RCTL, this.er32(E1000_RCTL));
    for (let i = 1; i < 15; i++) { this.ew32(E1000_RA + 8 * i, 0); this.ew32(E1000_RA + 8 * i + 4, 0); }
    for (let i = 127; i >= 0; i--) this.ew32(E1000_MTA + 4 * i, 0);
    // configure_tx
    this.ew32(E1000_TDLEN, L.txCount * E1000_DESC_SIZE);
    this.ew32(E1000_TDBAH, Math.floor(L.txRing / 0x1_0000_0000));
    this.ew32(E1000_TDBAL, L.txRing >>> 0);
    this.ew32(E1000_TDT, 0);
    this.ew32(E1000_TDH, 0);
    this.ew32(E1000_TIPG, 8 | (8 << 10) | (6 << 20));
    this.ew32(E1000_TIDV, 8);
    this.ew32(E1000_TCTL, (this.er32(E1000_TCTL) & ~0xff0) | E1000_TCTL_PSP | E1000_TCTL_RTLC | (0x0f << 4) | (0x3f << 12));
    // setup_rctl
    this.ew32(E1000_RCTL, (this.er32(E1000_RCTL) & ~0x3000) | E1000_RCTL_BAM);
    // configure_rx
    const rctl = this.er32(E1000_RCTL);
    this.ew32(E1000_RCTL, rctl & ~E1000_RCTL_EN);
    this.ew32(E1000_RDTR, 0);
    this.ew32(E1000_ITR, this.itr);
    this.ew32(E1000_RDLEN, L.rxCount * E1000_DESC_SIZE);
    this.ew32(E1000_RDBAH, Math.floor(L.rxRing / 0x1_0000_0000));
    this.ew32(E1000_RDBAL, L.rxRing >>> 0);
    this.ew32(E1000_RDT, 0);
    this.ew32(E1000_RDH, 0);
    this.ew32(E1000_RXCSUM, this.er32(E1000_RXCSUM) | E1000_RXCSUM_TUOFL);
    this.ew32(E1000_RCTL, rctl | E1000_RCTL_EN);
    this.txNext = this.txClean = this.rxNext = this.rxClean = 0;
    this.txEop.length = 0;
    this.ram.fill(L.txRing, L.txCount * E1000_DESC_SIZE);
    this.ram.fill(L.rxRing, L.rxCount * E1000_DESC_SIZE);
    this.allocRx(L.rxCount - 1);
    this.ew32(E1000_IMS, IMS_ENABLE_MASK);
    this.ew32(E1000_ICS, E1000_ICR_LSC);
  }

  /** The part of e1000_watchdog that matters to the device: link from the PHY, speed from STATUS, TCTL.EN. */
  watchdog(): boolean {
    this.er32(E1000_CTRL);
    this.er32(E1000_STATUS);
    this.readPhy(PHY_STATUS);
    const up = (this.readPhy(PHY_STATUS) & MII_SR_LINK_STATUS) !== 0;
    if (up && (this.er32(E1000_STATUS) & E1000_STATUS_LU) !== 0) this.ew32(E1000_TCTL, this.er32(E1000_TCTL) | E1000_TCTL_EN);
    return up;
  }

  // --- RX buffers (e1000_alloc_rx_buffers) and cleaning (e1000_clean_rx_irq) --------------------------------------

  rxBuffer(i: number): number { return this.layout.buffers + i * RX_BUFFER_LEN; }

  /** Posts `n` buffers from next_to_use and writes RDT once. */
  allocRx(n: number): void {
    const L = this.layout;
    for (let k = 0; k < n; k++) {
      const at = L.rxRing + this.rxNext * E1000_DESC_SIZE - this.ram.base;
      this.ram.write64(at, BigInt(this.rxBuffer(this.rxNext)));
      this.ram.write64(at + 8, 0n);
      this.rxNext = (this.rxNext + 1) % L.rxCount;
    }
    if (n > 0) this.ew32(E1000_RDT, this.rxNext);
  }

  /** Frames whose descriptors are done (DD), with the FCS removed, and their descriptor status words. */
  cleanRx(budget = Infinity): { frames: Uint8Array[]; status: number[]; errors: number[]; special: number[] } {
    const L = this.layout, out = { frames: [] as Uint8Array[], status: [] as number[], errors: [] as number[], special: [] as number[] };
    let cleaned = 0;
    let parts: Uint8Array[] = [];
    while (out.frames.length < budget) {
      const at = L.rxRing + this.rxClean * E1000_DESC_SIZE - this.ram.base;
      const status = this.ram.read8(at + RXD_STATUS);
      if ((status & E1000_RXD_STAT_DD) === 0) break;
      const len = this.ram.read16(at + RXD_LENGTH);
      parts.push(this.ram.slice(this.rxBuffer(this.rxClean), len));
      if ((status & 0x02) !== 0) {
        const total = parts.reduce((s, p) => s + p.length, 0);
        const f = new Uint8Array(total);
        let o = 0;
        for (const p of parts) { f.set(p, o); o += p.length; }
        out.frames.push(f.subarray(0, Math.max(0, total - 4)));
        out.status.push(status);
        out.errors.push(this.ram.read8(at + RXD_STATUS + 1));
        out.special.push(this.ram.read16(at + RXD_STATUS + 2));
        parts = [];
      }
      this.ram.write8(at + RXD_STATUS, 0);
      this.rxClean = (this.rxClean + 1) % L.rxCount;
      cleaned++;
    }
    this.allocRx(cleaned);
    return out;
  }

  // --- TX (e1000_xmit_frame → e1000_tso / e1000_tx_csum → e1000_tx_map → e1000_tx_queue) ------------------------

  /** Free TX descriptors (E1000_DESC_UNUSED). */
  get txUnused(): number {
    const c = this.layout.txCount;
    return ((this.txClean - this.txNext - 1) % c + c) % c;
  }

  private txBuffer(i: number): number { return this.layout.buffers + this.layout.rxCount * RX_BUFFER_LEN + i * this.layout.txBufSize; }

  private putDesc(i: number, addr: number, lower: number, upper: number): void {
    const at = this.layout.txRing + i * E1000_DESC_SIZE - this.ram.base;
    this.ram.write64(at, BigInt(addr));
    this.ram.write32(at + 8, lower);
    this.ram.write32(at + 12, upper);
  }

  /**
   * Queues one packet as Linux does: a context descriptor for TSO or CHECKSUM_PARTIAL, then data descriptors of at
   * most 4096 bytes (mss * 4 for TSO) each. The TCP/IP headers of `frame` are prepared as the stack leaves them
   * (TSO: tot_len and check 0, the TCP check the pseudo-header sum without length; CSUM: the pseudo-header sum with
   * length). Returns false when the ring is full.
   */
  xmit(frame: Uint8Array, opts: XmitOptions = {}): boolean {
    const L = this.layout;
    const maxPerTxd = opts.tso !== undefined ? Math.min(opts.tso.mss << 2, 4096) : 4096;
    const dataDescs = Math.max(1, Math.ceil(frame.length / maxPerTxd));
    if (this.txUnused < dataDescs + 2 || frame.length > L.txBufSize) return false;
    const f = frame.slice();
    let lowerFlags = E1000_TXD_CMD_IFCS;
    let popts = 0;
    if (opts.tso !== undefined) {
      const t = opts.tso;
      const ipcss = 14, tucss = t.ipv4 ? 14 + ((f[14]! & 0x0f) * 4) : 14 + 40;
      if (t.ipv4) { f[16] = f[17] = 0; f[24] = f[25] = 0; }
      // ~csum_tcpudp_magic(saddr, daddr, 0, IPPROTO_TCP, 0): the folded pseudo-header sum without length
      const pseudo = t.ipv4 ? sum16(f, 26, 8, 6) : sum16(f, 22, 32, 6);
      f[tucss + 16] = pseudo >> 8; f[tucss + 17] = pseudo & 0xff;
      const cmd = E1000_TXD_CMD_DEXT | E1000_TXD_CMD_TSE | E1000_TXD_CMD_TCP | (t.ipv4 ? E1000_TXD_CMD_IP : 0) | (frame.length - t.hdrLen);
      const ctx = new Uint8Array(16);
      const v = new DataView(ctx.buffer);
      ctx[0] = ipcss; ctx[1] = ipcss + 10; v.setUint16(2, t.ipv4 ? tucss - 1 : 0, true);
      ctx[4] = tucss; ctx[5] = tucss + 16; v.setUint16(6, 0, true);
      v.setUint32(8, cmd, true); ctx[13] = t.hdrLen; v.setUint16(14, t.mss, true);
      const at = L.txRing + this.txNext * E1000_DESC_SIZE - this.ram.base;
      this.ram.writeBytes(at, ctx);
      this.txNext = (this.txNext + 1) % L.txCount;
      lowerFlags |= E1000_TXD_CMD_DEXT | E1000_TXD_DTYP_D | E1000_TXD_CMD_TSE;
      popts = E1000_TXD_POPTS_TXSM | (t.ipv4 ? E1000_TXD_POPTS_IXSM : 0);
    } else if (opts.csum !== undefined) {
      const c = opts.csum;
      const ctx = new Uint8Array(16);
      const v = new DataView(ctx.buffer);
      ctx[4] = c.start; ctx[5] = c.start + c.offset;
      v.setUint32(8, E1000_TXD_CMD_DEXT | (c.tcp ? E1000_TXD_CMD_TCP : 0), true);
      const at = L.txRing + this.txNext * E1000_DESC_SIZE - this.ram.base;
      this.ram.writeBytes(at, ctx);
      this.txNext = (this.txNext + 1) % L.txCount;
      lowerFlags |= E1000_TXD_CMD_DEXT | E1000_TXD_DTYP_D;
      popts = E1000_TXD_POPTS_TXSM;
    }
    const first = this.txNext;
    this.ram.writeBytes(this.txBuffer(first) - this.ram.base, f);
    let last = first;
    for (let k = 0, off = 0; k < dataDescs; k++, off += maxPerTxd) {
      const len = Math.min(maxPerTxd, f.length - off);
      last = this.txNext;
      this.putDesc(this.txNext, this.txBuffer(first) + off, lowerFlags | len, popts << 8);
      this.txNext = (this.txNext + 1) % L.txCount;
    }
    const lastAt = L.txRing + last * E1000_DESC_SIZE - this.ram.base + 8;
    this.ram.write32(lastAt, this.ram.read32(lastAt) | E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
    this.txEop.push(last);
    if (opts.doorbell !== false) this.ew32(E1000_TDT, this.txNext);
    return true;
  }

  /** Writes TDT with the current next_to_use (the doorbell after a run of xmit_more packets). */
  kick(): void { this.ew32(E1000_TDT, this.txNext); }

  /** e1000_clean_tx_irq: reclaims packets whose EOP descriptor has DD. Returns how many. */
  cleanTx(): number {
    let n = 0;
    while (this.txEop.length > 0) {
      const eop = this.txEop[0]!;
      const at = this.layout.txRing + eop * E1000_DESC_SIZE - this.ram.base + TXD_STATUS;
      if ((this.ram.read8(at) & E1000_TXD_STAT_DD) === 0) break;
      this.txEop.shift();
      this.txClean = (eop + 1) % this.layout.txCount;
      n++;
    }
    return n;
  }

  /** e1000_intr then e1000_clean: ICR (0: not ours), IMC, clean TX and RX, IMS. */
  interrupt(): { icr: number; tx: number; rx: Uint8Array[] } {
    const icr = this.er32(E1000_ICR);
    if (icr === 0) return { icr, tx: 0, rx: [] };
    this.ew32(E1000_IMC, 0xffff_ffff);
    const tx = this.cleanTx();
    const rx = this.cleanRx(64).frames;
    this.ew32(E1000_IMS, IMS_ENABLE_MASK);
    return { icr, tx, rx };
  }

  /** The TX head and tail as the device reports them (the hang check's view). */
  txHeadTail(): [number, number] { return [this.er32(E1000_TDH), this.er32(E1000_TDT)]; }
}
