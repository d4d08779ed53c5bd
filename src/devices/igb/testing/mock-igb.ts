// A mock of Linux 6.12's igb PF driver for tests: the register protocol of igb_probe (igb_reset_hw_82575: GIO master
// disable, CTRL.RST, auto-read done; igb_validate_nvm_checksum over EERD; igb_read_mac_addr from RAR0; the PHY ID over
// MDIC), igb_open/igb_configure with VFs (GPIE, IVAR_MISC, IVAR, EIAC/EIAM/EIMS, IMS with VMMB, MBVFIMR 0xFF, VMDq
// MRQC, VT_CTL default pool and replication, DTXSWC loopback and anti-spoofing, VMOLR, the PF's queue at index vfs,
// CTRL.SLU, CTRL_EXT.PFRSTD), igb_msix_other → igb_msg_task → igb_rcv_msg_from_vf (VF_RESET → RAR 23-vf, VFTE/VFRE,
// ACK + MAC; SET_MAC_ADDR, SET_MULTICAST, SET_VLAN, SET_LPE → CTS|ACK) over the e1000_mbx.c PF mailbox protocol, and
// igb_set_vf_rate_limit. It is the PF side of the mailbox tests; the hardware model never sees anything but registers.

import type { GuestMemory } from '../../../memory/guest-memory.js';
import * as D from '../defines.js';
import * as R from '../regs.js';
import { RxRing, TxRing } from './rings.js';

export interface Mmio {
  read(offset: number): number;
  write(offset: number, value: number): void;
}

/** Where the mock puts its rings: the PF's queue `vfs` (Q_IDX 0 with VFs). */
export interface PfLayout {
  rxRing: number;
  txRing: number;
  rxBuffers: number;
  txBuffers: number;
  count: number;
}

interface VfData { mac: Uint8Array; cts: boolean; mcHashes: number[]; vlans: number[] }

export class MockIgbDriver {
  vfs = 0;
  mac: Uint8Array = new Uint8Array(6);
  readonly vf: VfData[] = [];
  /** Messages handled, as "vf:type" strings (tests follow the conversation). */
  readonly log: string[] = [];
  rx: RxRing | null = null;
  tx: TxRing | null = null;
  /** The "other" vector is 0, the TxRx vector 1 (igb_configure_msix). */
  readonly eimsOther = 1;
  readonly eimsQueue = 2;

  constructor(readonly mmio: Mmio, readonly ram: GuestMemory, readonly layout: PfLayout) {}

  r(off: number): number { return this.mmio.read(off) >>> 0; }
  w(off: number, v: number): void { this.mmio.write(off, v >>> 0); }

  private eerd(word: number): number {
    this.w(R.E1000_EERD, (word << D.E1000_NVM_RW_ADDR_SHIFT) | D.E1000_NVM_RW_REG_START);
    for (let i = 0; i < 100000; i++) {
      const v = this.r(R.E1000_EERD);
      if ((v & D.E1000_NVM_RW_REG_DONE) !== 0) return v >>> D.E1000_NVM_RW_REG_DATA;
    }
    throw new Error('EERD never completed');
  }

  mdicRead(reg: number): number {
    this.w(R.E1000_MDIC, (reg << D.E1000_MDIC_REG_SHIFT) | (D.IGB_PHY_ADDRESS << D.E1000_MDIC_PHY_SHIFT) | D.E1000_MDIC_OP_READ);
    const v = this.r(R.E1000_MDIC);
    if ((v & D.E1000_MDIC_READY) === 0 || (v & D.E1000_MDIC_ERROR) !== 0) throw new Error('MDIC read failed');
    return v & D.E1000_MDIC_DATA_MASK;
  }

  /** igb_probe's hardware part; returns the PHY ID, or throws like the driver would fail the probe. */
  probe(): number {
    this.w(R.E1000_CTRL, this.r(R.E1000_CTRL) | D.E1000_CTRL_GIO_MASTER_DISABLE);
    if ((this.r(R.E1000_STATUS) & D.E1000_STATUS_GIO_MASTER_ENABLE) !== 0) throw new Error('PCIe master never disabled');
    this.w(R.E1000_IMC, 0xffff_ffff);
    this.w(R.E1000_RCTL, 0);
    this.w(R.E1000_CTRL, this.r(R.E1000_CTRL) | D.E1000_CTRL_RST);
    if ((this.r(R.E1000_EECD) & D.E1000_EECD_AUTO_RD) === 0) throw new Error('auto read not done');
    this.w(R.E1000_IMC, 0xffff_ffff);
    this.r(R.E1000_ICR);
    let sum = 0;
    for (let i = 0; i <= D.NVM_CHECKSUM_REG; i++) sum = (sum + this.eerd(i)) & 0xffff;
    if (sum !== D.NVM_SUM) throw new Error(`NVM checksum 0x${sum.toString(16)}`);
    const lo = this.r(R.E1000_RAL(0)), hi = this.r(R.E1000_RAH(0));
    this.mac = Uint8Array.of(lo & 0xff, (lo >>> 8) & 0xff, (lo >>> 16) & 0xff, lo >>> 24, hi & 0xff, (hi >>> 8) & 0xff);
    return (this.mdicRead(D.PHY_ID1) << 16 | this.mdicRead(D.PHY_ID2)) >>> 0;
  }

  /** igb_configure + igb_up for `vfs` VFs (the PF's queue is vfs, Q_IDX_82576(0) = 0). */
  open(vfs: number): void {
    this.vfs = vfs;
    while (this.vf.length < vfs) this.vf.push({ mac: new Uint8Array(6), cts: false, mcHashes: [], vlans: [] });
    const q = vfs;
    this.w(R.E1000_GPIE, D.E1000_GPIE_MSIX_MODE | D.E1000_GPIE_PBA | D.E1000_GPIE_EIAME | D.E1000_GPIE_NSICR);
    this.w(R.E1000_IVAR_MISC, (0 | D.E1000_IVAR_VALID) << 8);
    const row = q & 7, col = (q & 8) << 1;
    this.w(R.E1000_IVAR0 + 4 * row, this.r(R.E1000_IVAR0 + 4 * row) | ((1 | D.E1000_IVAR_VALID) << col) | ((1 | D.E1000_IVAR_VALID) << (col + 8)));
    const rxb = R.RXQ_BASE + R.QUEUE_STRIDE * q, txb = R.TXQ_BASE + R.QUEUE_STRIDE * q, L = this.layout;
    this.tx = new TxRing(this.ram, L.txRing, L.count, L.txBuffers, 0x800);
    this.w(txb + R.Q_DLEN, L.count * D.ADV_DESC_SIZE); this.w(txb + R.Q_DBAL, L.txRing); this.w(txb + R.Q_DBAH, 0);
    this.w(txb + R.Q_DH, 0); this.w(txb + R.Q_DT, 0); this.w(txb + R.Q_DCTL, D.E1000_TXDCTL_QUEUE_ENABLE);
    this.w(R.E1000_TCTL, this.r(R.E1000_TCTL) | D.E1000_TCTL_EN);
    this.rx = new RxRing(this.ram, L.rxRing, L.count, L.rxBuffers);
    this.w(rxb + R.Q_DBAL, L.rxRing); this.w(rxb + R.Q_DBAH, 0); this.w(rxb + R.Q_DLEN, L.count * D.ADV_DESC_SIZE);
    this.w(rxb + R.Q_SRRCTL, 2 | D.E1000_SRRCTL_DESCTYPE_ADV_ONEBUF | D.E1000_SRRCTL_DROP_EN);
    this.w(rxb + R.Q_DH, 0); this.w(rxb + R.Q_DT, 0); this.w(rxb + R.Q_DCTL, D.E1000_RXDCTL_QUEUE_ENABLE);
    this.w(rxb + R.Q_DT, this.rx.fill());
    this.w(R.E1000_RAL(0), this.r(R.E1000_RAL(0)));
    this.w(R.E1000_RAH(0), (this.r(R.E1000_RAH(0)) & 0xffff) | D.E1000_RAH_AV | (vfs > 0 ? 1 << (D.E1000_RAH_POOL_SHIFT + vfs) : 0));
    if (vfs > 0) {
      this.w(R.E1000_VT_CTL, (vfs << D.E1000_VT_CTL_DEFAULT_POOL_SHIFT) | D.E1000_VT_CTL_VM_REPL_EN);
      this.w(R.E1000_MRQC, D.E1000_MRQC_ENABLE_VMDQ);
      this.w(R.E1000_DTXSWC, (D.E1000_DTXSWC_VMDQ_LOOPBACK_EN | ((D.E1000_DTXSWC_MAC_SPOOF_MASK | D.E1000_DTXSWC_VLAN_SPOOF_MASK) ^ ((1 << vfs) | (1 << (vfs + 8))))) >>> 0);
      this.w(R.E1000_VMOLR(vfs), D.E1000_VMOLR_AUPE | D.E1000_VMOLR_BAM | D.E1000_VMOLR_ROMPE | D.E1000_VMOLR_LPE | 0x3f00);
    }
    this.w(R.E1000_RCTL, D.E1000_RCTL_EN | D.E1000_RCTL_BAM | D.E1000_RCTL_VFE);
    // igb_irq_enable with MSI-X.
    const mask = this.eimsOther | this.eimsQueue;
    this.w(R.E1000_EIAC, this.r(R.E1000_EIAC) | mask);
    this.w(R.E1000_EIAM, this.r(R.E1000_EIAM) | mask);
    this.w(R.E1000_EIMS, mask);
    if (vfs > 0) this.w(R.E1000_MBVFIMR, 0xff);
    this.w(R.E1000_IMS, D.E1000_ICR_LSC | D.E1000_ICR_DOUTSYNC | D.E1000_ICR_DRSTA | (vfs > 0 ? D.E1000_ICR_VMMB : 0));
    this.w(R.E1000_CTRL, this.r(R.E1000_CTRL) | D.E1000_CTRL_SLU);
    this.w(R.E1000_CTRL_EXT, this.r(R.E1000_CTRL_EXT) | D.E1000_CTRL_EXT_PFRSTD);
  }

  /** igb_msix_other. */
  otherInterrupt(): void {
    const icr = this.r(R.E1000_ICR);
    if ((icr & D.E1000_ICR_VMMB) !== 0) this.msgTask();
    if ((icr & D.E1000_ICR_DOUTSYNC) !== 0) this.log.push(`wvbr:${this.r(R.E1000_WVBR).toString(16)}`);
    this.w(R.E1000_EIMS, this.eimsOther);
  }

  private checkBit(mask: number): boolean {
    if ((this.r(R.E1000_MBVFICR) & mask) === 0) return false;
    this.w(R.E1000_MBVFICR, mask);
    return true;
  }

  /** igb_msg_task. */
  msgTask(): void {
    for (let vf = 0; vf < this.vfs; vf++) {
      if ((this.r(R.E1000_VFLRE) & (1 << vf)) !== 0) {
        this.w(R.E1000_VFLRE, 1 << vf);
        this.vf[vf]!.cts = false;
        this.log.push(`${vf}:reset-event`);
      }
      if (this.checkBit(D.E1000_MBVFICR_VFREQ_VF1 << vf)) this.rcvMsg(vf);
      if (this.checkBit(D.E1000_MBVFICR_VFACK_VF1 << vf)) this.log.push(`${vf}:ack`);
    }
  }

  private lock(vf: number): boolean {
    for (let i = 0; i <= 10; i++) {
      this.w(R.E1000_P2VMAILBOX(vf), D.E1000_P2VMAILBOX_PFU);
      if ((this.r(R.E1000_P2VMAILBOX(vf)) & D.E1000_P2VMAILBOX_PFU) !== 0) return true;
    }
    return false;
  }

  /** igb_write_mbx (igb_write_mbx_pf). */
  writeMbx(vf: number, msg: readonly number[]): boolean {
    if (!this.lock(vf)) return false;
    this.checkBit(D.E1000_MBVFICR_VFREQ_VF1 << vf);
    this.checkBit(D.E1000_MBVFICR_VFACK_VF1 << vf);
    msg.forEach((m, i) => this.w(R.E1000_VMBMEM(vf) + 4 * i, m));
    this.w(R.E1000_P2VMAILBOX(vf), D.E1000_P2VMAILBOX_STS);
    return true;
  }

  /** igb_rcv_msg_from_vf. */
  private rcvMsg(vf: number): void {
    if (!this.lock(vf)) { this.log.push(`${vf}:lock-failed`); return; }
    const msg = Array.from({ length: R.E1000_VFMAILBOX_SIZE }, (_, i) => this.r(R.E1000_VMBMEM(vf) + 4 * i));
    this.w(R.E1000_P2VMAILBOX(vf), D.E1000_P2VMAILBOX_ACK | D.E1000_P2VMAILBOX_PFU);
    const d = this.vf[vf]!;
    const type = msg[0]! & 0xffff;
    if ((msg[0]! & (D.E1000_VT_MSGTYPE_ACK | D.E1000_VT_MSGTYPE_NACK)) !== 0) { this.unlock(vf); return; }
    if (msg[0] === D.E1000_VF_RESET) { this.log.push(`${vf}:VF_RESET`); this.vfResetMsg(vf); return; }
    if (!d.cts) { this.log.push(`${vf}:not-cts`); this.writeMbx(vf, [msg[0]! | D.E1000_VT_MSGTYPE_NACK]); return; }
    let ok = true;
    switch (type) {
      case D.E1000_VF_SET_MAC_ADDR: this.log.push(`${vf}:SET_MAC_ADDR`); d.mac = macOf(msg[1]!, msg[2]!); this.setVfMac(vf); break;
      case D.E1000_VF_SET_MULTICAST: {
        const n = (msg[0]! >>> D.E1000_VT_MSGINFO_SHIFT) & 0xff;
        d.mcHashes = Array.from({ length: Math.min(n, 30) }, (_, i) => (msg[1 + (i >> 1)]! >>> (16 * (i & 1))) & 0xffff);
        this.log.push(`${vf}:SET_MULTICAST`);
        for (const h of d.mcHashes) { const reg = R.E1000_MTA + 4 * ((h >>> 5) & 0x7f); this.w(reg, this.r(reg) | (1 << (h & 31))); }
        if (d.mcHashes.length > 0) this.w(R.E1000_VMOLR(vf), this.r(R.E1000_VMOLR(vf)) | D.E1000_VMOLR_ROMPE);
        break;
      }
      case D.E1000_VF_SET_VLAN: ok = this.setVfVlan(vf, msg[1]! & 0xfff, ((msg[0]! >>> D.E1000_VT_MSGINFO_SHIFT) & 0xff) !== 0); this.log.push(`${vf}:SET_VLAN`); break;
      case D.E1000_VF_SET_LPE: this.log.push(`${vf}:SET_LPE`); this.w(R.E1000_VMOLR(vf), (this.r(R.E1000_VMOLR(vf)) & ~D.E1000_VMOLR_RLPML_MASK) | (msg[1]! + 4) | D.E1000_VMOLR_LPE); break;
      default: this.log.push(`${vf}:unhandled-${type}`); ok = false;
    }
    this.writeMbx(vf, [(msg[0]! | D.E1000_VT_MSGTYPE_CTS | (ok ? D.E1000_VT_MSGTYPE_ACK : D.E1000_VT_MSGTYPE_NACK)) >>> 0]);
  }

  private unlock(vf: number): void {
    const v = this.r(R.E1000_P2VMAILBOX(vf));
    if ((v & D.E1000_P2VMAILBOX_PFU) !== 0) this.w(R.E1000_P2VMAILBOX(vf), v & ~D.E1000_P2VMAILBOX_PFU);
  }

  /** The MAC igb gives a VF when none was set administratively (tests set it with setVfMacAdmin). */
  setVfMacAdmin(vf: number, mac: Uint8Array): void { this.vf[vf]!.mac = mac.slice(); this.setVfMac(vf); }

  /** igb_set_vf_mac: RAR entry 23 - vf with the VF's pool bit. */
  private setVfMac(vf: number): void {
    const m = this.vf[vf]!.mac, e = R.E1000_RAR_ENTRIES_82576 - (vf + 1);
    this.w(R.E1000_RAL(e), m[0]! | (m[1]! << 8) | (m[2]! << 16) | (m[3]! << 24));
    this.w(R.E1000_RAH(e), m[4]! | (m[5]! << 8) | D.E1000_RAH_AV | (1 << (D.E1000_RAH_POOL_SHIFT + vf)));
  }

  /** igb_vf_reset_msg: VMOLR (AUPE, BAM), RAR, VFTE/VFRE, CTS, reply ACK + MAC (NACK without one). */
  private vfResetMsg(vf: number): void {
    const d = this.vf[vf]!;
    this.w(R.E1000_VMOLR(vf), D.E1000_VMOLR_AUPE | D.E1000_VMOLR_BAM | D.E1000_VMOLR_STRVLAN);
    this.setVfMac(vf);
    this.w(R.E1000_VFTE, this.r(R.E1000_VFTE) | (1 << vf));
    this.w(R.E1000_VFRE, this.r(R.E1000_VFRE) | (1 << vf));
    d.cts = true;
    const m = d.mac;
    const has = m.some((b) => b !== 0);
    this.writeMbx(vf, [D.E1000_VF_RESET | (has ? D.E1000_VT_MSGTYPE_ACK : D.E1000_VT_MSGTYPE_NACK),
      m[0]! | (m[1]! << 8) | (m[2]! << 16) | (m[3]! << 24), m[4]! | (m[5]! << 8)]);
  }

  /** igb_vlvf_set / igb_vfta_set, reduced: one VLVF entry per VLAN, the pool bit of the VF. */
  private setVfVlan(vf: number, vid: number, add: boolean): boolean {
    let free = -1;
    for (let i = 0; i < R.E1000_VLVF_ARRAY_SIZE; i++) {
      const v = this.r(R.E1000_VLVF(i));
      if ((v & D.E1000_VLVF_VLANID_ENABLE) !== 0 && (v & D.E1000_VLVF_VLANID_MASK) === vid) { free = i; break; }
      if (free < 0 && (v & D.E1000_VLVF_VLANID_ENABLE) === 0) free = i;
    }
    if (free < 0) return false;
    const bit = 1 << (D.E1000_VLVF_POOLSEL_SHIFT + vf);
    const cur = this.r(R.E1000_VLVF(free));
    this.w(R.E1000_VLVF(free), add ? (D.E1000_VLVF_VLANID_ENABLE | vid | (cur & D.E1000_VLVF_POOLSEL_MASK) | bit) >>> 0 : (cur & ~bit) >>> 0);
    const reg = R.E1000_VFTA + 4 * (vid >>> 5);
    if (add) this.w(reg, this.r(reg) | (1 << (vid & 31)));
    return true;
  }

  /** igb_set_vf_rate_limit at a 1000 Mb/s link (what `ip link set … vf N max_tx_rate R` ends in). */
  setVfRate(vf: number, mbps: number): void {
    let v = 0;
    if (mbps !== 0) {
      const rfInt = Math.floor(1000 / mbps);
      const rfDec = Math.floor(((1000 - rfInt * mbps) * (1 << D.E1000_RTTBCNRC_RF_INT_SHIFT)) / mbps);
      v = D.E1000_RTTBCNRC_RS_ENA | ((rfInt << D.E1000_RTTBCNRC_RF_INT_SHIFT) & D.E1000_RTTBCNRC_RF_INT_MASK) | (rfDec & D.E1000_RTTBCNRC_RF_DEC_MASK);
    }
    this.w(R.E1000_RTTDQSEL, vf);
    this.w(R.E1000_RTTBCNRM, 0x14);
    this.w(R.E1000_RTTBCNRC, v >>> 0);
  }

  /** Sends a frame on the PF's queue. */
  xmit(frame: Uint8Array): void { this.w(R.TXQ_BASE + R.QUEUE_STRIDE * this.vfs + R.Q_DT, this.tx!.post(frame)); }

  /** Takes received frames from the PF's queue and returns the buffers. */
  receive(): Uint8Array[] {
    const { frames, tail } = this.rx!.poll();
    this.w(R.RXQ_BASE + R.QUEUE_STRIDE * this.vfs + R.Q_DT, tail);
    return frames.map((f) => f.frame);
  }
}

export function macOf(lo: number, hi: number): Uint8Array {
  return Uint8Array.of(lo & 0xff, (lo >>> 8) & 0xff, (lo >>> 16) & 0xff, lo >>> 24, hi & 0xff, (hi >>> 8) & 0xff);
}
