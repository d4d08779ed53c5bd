// A mock of Linux 6.12's igbvf driver for tests, following igbvf/vf.c, mbx.c and netdev.c register by register:
// e1000_reset_hw_vf (CTRL.RST, wait while RSTI/RSTD, VF_RESET posted, read ACK + MAC), the mailbox protocol (VFU lock,
// REQ to send, PFACK/PFSTS polled with the read-to-clear bits cached as hw->dev_spec.vf.v2p_mailbox, ACK after
// reading), SET_MAC_ADDR / SET_MULTICAST / SET_VLAN / SET_LPE, igbvf_configure_msix (TX → vector 0, RX → vector 1,
// mailbox → vector 2), ring setup for queue 0, e1000_check_for_link_vf (STATUS.LU and a CTS word), transmit and receive.
// Polling loops call `pump` between tries, which is where a test lets the PF's driver run.

import type { GuestMemory } from '../../../memory/guest-memory.js';
import * as D from '../defines.js';
import * as R from '../regs.js';
import type { Mmio } from './mock-igb.js';
import { macOf } from './mock-igb.js';
import { RxRing, TxRing, type TxOptions } from './rings.js';

export interface VfLayout {
  rxRing: number;
  txRing: number;
  rxBuffers: number;
  txBuffers: number;
  count: number;
}

/** igbvf: 200 × 5 µs for RSTI/RSTD, 2000 × 500 µs for a posted message. */
export const E1000_VF_INIT_TIMEOUT = 200;
export const E1000_VF_MBX_INIT_TIMEOUT = 2000;

export class MockIgbvfDriver {
  /** hw->dev_spec.vf.v2p_mailbox: read-to-clear bits seen but not yet consumed. */
  private v2pCache = 0;
  /** mbx->timeout: 0 until a reset succeeded (posted messages fail before that). */
  mbxTimeout = 0;
  permAddr: Uint8Array = new Uint8Array(6);
  rx: RxRing | null = null;
  tx: TxRing | null = null;
  /** Times `pump` was called (a measure of how long a handshake polled). */
  pumps = 0;

  constructor(readonly mmio: Mmio, readonly ram: GuestMemory, readonly layout: VfLayout, private readonly pump: () => void) {}

  r(off: number): number { return this.mmio.read(off) >>> 0; }
  w(off: number, v: number): void { this.mmio.write(off, v >>> 0); }
  private wait(): void { this.pumps++; this.pump(); }

  private readV2p(): number {
    const v = this.r(R.E1000_V2PMAILBOX) | this.v2pCache;
    this.v2pCache |= v & D.E1000_V2PMAILBOX_R2C_BITS;
    return v;
  }

  private checkBit(mask: number): boolean {
    const ok = (this.readV2p() & mask) !== 0;
    this.v2pCache &= ~mask;
    return ok;
  }

  checkForRst(): boolean { return this.checkBit(D.E1000_V2PMAILBOX_RSTD | D.E1000_V2PMAILBOX_RSTI); }
  private checkForMsg(): boolean { return this.checkBit(D.E1000_V2PMAILBOX_PFSTS); }
  private checkForAck(): boolean { return this.checkBit(D.E1000_V2PMAILBOX_PFACK); }

  private lock(): boolean {
    for (let i = 0; i <= 10; i++) {
      this.w(R.E1000_V2PMAILBOX, D.E1000_V2PMAILBOX_VFU);
      if ((this.readV2p() & D.E1000_V2PMAILBOX_VFU) !== 0) return true;
      this.wait();
    }
    return false;
  }

  /** e1000_write_mbx_vf. */
  writeMbx(msg: readonly number[]): boolean {
    if (!this.lock()) return false;
    this.checkForAck();
    this.checkForMsg();
    msg.forEach((m, i) => this.w(R.E1000_VTVMBMEM + 4 * i, m));
    this.w(R.E1000_V2PMAILBOX, D.E1000_V2PMAILBOX_REQ);
    return true;
  }

  /** e1000_read_mbx_vf. */
  readMbx(n: number): number[] | null {
    if (!this.lock()) return null;
    const msg = Array.from({ length: n }, (_, i) => this.r(R.E1000_VTVMBMEM + 4 * i));
    this.w(R.E1000_V2PMAILBOX, D.E1000_V2PMAILBOX_ACK);
    return msg;
  }

  private poll(check: () => boolean): boolean {
    for (let n = this.mbxTimeout; n > 0; n--) {
      if (check()) return true;
      this.wait();
    }
    this.mbxTimeout = 0;
    return false;
  }

  writePosted(msg: readonly number[]): boolean {
    if (this.mbxTimeout === 0 || !this.writeMbx(msg)) return false;
    return this.poll(() => this.checkForAck());
  }

  readPosted(n: number): number[] | null {
    return this.poll(() => this.checkForMsg()) ? this.readMbx(n) : null;
  }

  /** e1000_reset_hw_vf: 'ack' (MAC from the PF), 'nack' (no MAC: igbvf picks a random one), or why it failed. */
  resetHw(): 'ack' | 'nack' | 'pf-in-reset' | 'no-reply' | 'bad-reply' {
    this.w(R.E1000_VTCTRL, this.r(R.E1000_VTCTRL) | D.E1000_CTRL_RST);
    let timeout = E1000_VF_INIT_TIMEOUT;
    while (this.checkForRst() && timeout > 0) { timeout--; this.wait(); }
    if (timeout === 0) return 'pf-in-reset';
    this.mbxTimeout = E1000_VF_MBX_INIT_TIMEOUT;
    this.writePosted([D.E1000_VF_RESET]);
    const msg = this.readPosted(3);
    if (msg === null) return 'no-reply';
    if (msg[0] === (D.E1000_VF_RESET | D.E1000_VT_MSGTYPE_ACK) >>> 0) { this.permAddr = macOf(msg[1]!, msg[2]!); return 'ack'; }
    if (msg[0] === (D.E1000_VF_RESET | D.E1000_VT_MSGTYPE_NACK) >>> 0) { this.permAddr = new Uint8Array(6); return 'nack'; }
    return 'bad-reply';
  }

  /** A request and its one-word (or n-word) reply; the reply with CTS masked off, or null on a timeout. */
  request(msg: readonly number[], replyWords = 1): number | null {
    if (!this.writePosted(msg)) return null;
    const r = this.readPosted(replyWords);
    return r === null ? null : (r[0]! & ~D.E1000_VT_MSGTYPE_CTS) >>> 0;
  }

  setMac(mac: Uint8Array): number | null {
    return this.request([D.E1000_VF_SET_MAC_ADDR, mac[0]! | (mac[1]! << 8) | (mac[2]! << 16) | (mac[3]! << 24), mac[4]! | (mac[5]! << 8)], 3);
  }

  /** e1000_update_mc_addr_list_vf: up to 30 12-bit hashes (e1000_hash_mc_addr_vf) in a 16-word message. */
  setMulticast(macs: readonly Uint8Array[]): number | null {
    const cnt = Math.min(macs.length, 30);
    const msg = new Array<number>(R.E1000_VFMAILBOX_SIZE).fill(0);
    msg[0] = D.E1000_VF_SET_MULTICAST | (cnt << D.E1000_VT_MSGINFO_SHIFT);
    for (let i = 0; i < cnt; i++) {
      const m = macs[i]!;
      const h = ((m[4]! >>> 4) | (m[5]! << 4)) & 0xfff;
      msg[1 + (i >> 1)] = (msg[1 + (i >> 1)]! | (h << (16 * (i & 1)))) >>> 0;
    }
    return this.request(msg);
  }

  setVlan(vid: number, add: boolean): number | null { return this.request([D.E1000_VF_SET_VLAN | (add ? 1 << D.E1000_VT_MSGINFO_SHIFT : 0), vid], 2); }
  setLpe(maxFrame: number): number | null { return this.request([D.E1000_VF_SET_LPE, maxFrame]); }

  /** igbvf_configure_msix + igbvf_configure_tx/rx + igbvf_irq_enable. */
  open(): void {
    this.w(R.E1000_VTIVAR, ((1 | D.E1000_IVAR_VALID) | ((0 | D.E1000_IVAR_VALID) << 8)) >>> 0);
    this.w(R.E1000_VTIVAR_MISC, 2 | D.E1000_IVAR_VALID);
    const L = this.layout;
    this.tx = new TxRing(this.ram, L.txRing, L.count, L.txBuffers, 0x800);
    this.w(R.TXQ_ALIAS + R.Q_DCTL, this.r(R.TXQ_ALIAS + R.Q_DCTL) & ~D.E1000_TXDCTL_QUEUE_ENABLE);
    this.w(R.TXQ_ALIAS + R.Q_DLEN, L.count * D.ADV_DESC_SIZE); this.w(R.TXQ_ALIAS + R.Q_DBAL, L.txRing); this.w(R.TXQ_ALIAS + R.Q_DBAH, 0);
    this.w(R.TXQ_ALIAS + R.Q_DH, 0); this.w(R.TXQ_ALIAS + R.Q_DT, 0);
    this.w(R.TXQ_ALIAS + R.Q_DCTL, D.E1000_TXDCTL_QUEUE_ENABLE);
    this.rx = new RxRing(this.ram, L.rxRing, L.count, L.rxBuffers);
    this.w(R.RXQ_ALIAS + R.Q_DCTL, this.r(R.RXQ_ALIAS + R.Q_DCTL) & ~D.E1000_RXDCTL_QUEUE_ENABLE);
    this.w(R.RXQ_ALIAS + R.Q_DBAL, L.rxRing); this.w(R.RXQ_ALIAS + R.Q_DBAH, 0); this.w(R.RXQ_ALIAS + R.Q_DLEN, L.count * D.ADV_DESC_SIZE);
    this.w(R.RXQ_ALIAS + R.Q_DH, 0); this.w(R.RXQ_ALIAS + R.Q_DT, 0);
    this.w(R.RXQ_ALIAS + R.Q_SRRCTL, D.E1000_SRRCTL_DROP_EN | 2 | D.E1000_SRRCTL_DESCTYPE_ADV_ONEBUF);
    this.setLpe(1518);
    this.w(R.RXQ_ALIAS + R.Q_DCTL, D.E1000_RXDCTL_QUEUE_ENABLE);
    this.w(R.RXQ_ALIAS + R.Q_DT, this.rx.fill());
    this.w(R.E1000_VTEIAC, 7);
    this.w(R.E1000_VTEIAM, 7);
    this.w(R.E1000_VTEIMS, 7);
  }

  /** igbvf_msix_other: schedule the watchdog (the test calls checkLink) and re-enable the mailbox vector. */
  otherInterrupt(): void { this.w(R.E1000_VTEIMS, 1 << 2); }

  /** e1000_check_for_link_vf: link is up when STATUS.LU and the PF's last word carries CTS. */
  checkLink(): boolean {
    this.checkForRst();
    if ((this.r(R.E1000_VTSTATUS) & D.E1000_STATUS_LU) === 0) return false;
    const m = this.readMbx(1);
    return m !== null && (m[0]! & D.E1000_VT_MSGTYPE_CTS) !== 0 && this.mbxTimeout !== 0;
  }

  xmit(frame: Uint8Array, o: TxOptions = {}): void { this.w(R.TXQ_ALIAS + R.Q_DT, this.tx!.post(frame, o)); }

  receive(): { frame: Uint8Array; vlan: number; status: number }[] {
    const { frames, tail } = this.rx!.poll();
    this.w(R.RXQ_ALIAS + R.Q_DT, tail);
    return frames;
  }
}
