// The 82576's PF↔VF mailboxes (82576EB datasheet: the PF/VF mailbox; bits as Linux's igb/e1000_mbx.h and
// igbvf/mbx.h name them). Per VF: a 16-word buffer both sides address (VMBMEM(n) on the PF, VMBMEM on the VF), the
// PF's P2VMAILBOX(n) and the VF's V2PMAILBOX, and on the PF MBVFICR (VFREQ / VFACK per VF, write-1-to-clear),
// MBVFIMR and VFLRE (a VF reset). Who sets what:
//
//   PF writes P2VMAILBOX.STS  → VF's PFSTS, VF mailbox interrupt     VF writes V2PMAILBOX.REQ → MBVFICR.VFREQ(n), ICR.VMMB
//   PF writes P2VMAILBOX.ACK  → VF's PFACK, VF mailbox interrupt     VF writes V2PMAILBOX.ACK → MBVFICR.VFACK(n), ICR.VMMB
//   PFU: set only while VFU is clear; written 0 releases it         VFU: set only while PFU is clear; written 0 releases it
//   RVFU: clears a stuck VFU                                         PFSTS, PFACK, RSTD clear when the VF reads the register
//   PF reset: RSTI in every VF mailbox; CTRL_EXT.PFRSTD: RSTI → RSTD, VF interrupt; VF reset: VFLRE(n), ICR.VMMB
//
// MBVFIMR bit n lets VF n's REQ and ACK raise ICR.VMMB (igb writes 0xFF); a VF reset raises it regardless. The
// messages themselves (VF_RESET, SET_MAC_ADDR, …) are the drivers' business: the hardware only moves the words. A
// side may write the buffer only while the other side does not hold it (both stock drivers lock before writing), so a
// misbehaving VF cannot rewrite a message the PF is composing; such writes are dropped and counted.

import {
  E1000_MBVFICR_VFACK_VF1, E1000_MBVFICR_VFREQ_VF1, E1000_P2VMAILBOX_ACK, E1000_P2VMAILBOX_PFU,
  E1000_P2VMAILBOX_RVFU, E1000_P2VMAILBOX_STS, E1000_P2VMAILBOX_VFU, E1000_V2PMAILBOX_ACK, E1000_V2PMAILBOX_PFACK,
  E1000_V2PMAILBOX_PFSTS, E1000_V2PMAILBOX_PFU, E1000_V2PMAILBOX_R2C_BITS, E1000_V2PMAILBOX_REQ,
  E1000_V2PMAILBOX_RSTD, E1000_V2PMAILBOX_RSTI, E1000_V2PMAILBOX_VFU,
} from './defines.js';
import { E1000_VFMAILBOX_SIZE, IGB_MAX_VF_FUNCTIONS } from './regs.js';

/** Where mailbox events go: the PF's ICR.VMMB cause and VF n's mailbox ("other") interrupt cause. */
export interface MailboxSignals {
  toPf(): void;
  toVf(vf: number): void;
}

export class MailboxCounters {
  /** Messages announced (P2VMAILBOX.STS / V2PMAILBOX.REQ). */
  pfToVf = 0;
  vfToPf = 0;
  acksFromPf = 0;
  acksFromVf = 0;
  /** Lock attempts refused because the other side held the buffer. */
  lockRefused = 0;
  /** Buffer writes dropped because the other side held the buffer. */
  writesRefused = 0;
  vfResets = 0;
  pfResets = 0;
}

const MBVFICR_VALID = 0x00ff_00ff;
const VF_MASK = (1 << IGB_MAX_VF_FUNCTIONS) - 1;

export class MailboxBank {
  readonly counters = new MailboxCounters();
  /** MBVFICR: VFREQ in bits 7:0, VFACK in bits 23:16. */
  mbvficr = 0;
  mbvfimr = 0;
  vflre = 0;
  private readonly buffers: Uint32Array[] = [];
  private readonly pfu = new Uint8Array(IGB_MAX_VF_FUNCTIONS);
  private readonly vfu = new Uint8Array(IGB_MAX_VF_FUNCTIONS);
  /** The VF-side status bits that live on their own: PFSTS, PFACK, RSTI, RSTD. */
  private readonly v2p = new Uint8Array(IGB_MAX_VF_FUNCTIONS);
  /** The PF has been reset and has not yet written CTRL_EXT.PFRSTD. */
  private pfInReset = true;

  constructor(private readonly signals: MailboxSignals) {
    for (let i = 0; i < IGB_MAX_VF_FUNCTIONS; i++) this.buffers.push(new Uint32Array(E1000_VFMAILBOX_SIZE));
    this.v2p.fill(E1000_V2PMAILBOX_RSTI);
  }

  // --- PF side --------------------------------------------------------------------------------------------------

  readP2v(vf: number): number {
    return (this.vfu[vf] !== 0 ? E1000_P2VMAILBOX_VFU : 0) | (this.pfu[vf] !== 0 ? E1000_P2VMAILBOX_PFU : 0);
  }

  // guest-controlled (the PF's driver): any value.
  writeP2v(vf: number, v: number): void {
    if ((v & E1000_P2VMAILBOX_RVFU) !== 0) this.vfu[vf] = 0;
    if ((v & E1000_P2VMAILBOX_PFU) === 0) this.pfu[vf] = 0;
    else if (this.vfu[vf] === 0) this.pfu[vf] = 1;
    else this.counters.lockRefused++;
    let signal = false;
    if ((v & E1000_P2VMAILBOX_STS) !== 0) { this.v2p[vf] = this.v2p[vf]! | E1000_V2PMAILBOX_PFSTS; this.counters.pfToVf++; signal = true; }
    if ((v & E1000_P2VMAILBOX_ACK) !== 0) { this.v2p[vf] = this.v2p[vf]! | E1000_V2PMAILBOX_PFACK; this.counters.acksFromPf++; signal = true; }
    if (signal) this.signals.toVf(vf);
  }

  readPfBuffer(vf: number, word: number): number { return this.buffers[vf]![word]!; }

  writePfBuffer(vf: number, word: number, v: number): void {
    if (this.vfu[vf] !== 0) { this.counters.writesRefused++; return; }
    this.buffers[vf]![word] = v >>> 0;
  }

  /** MBVFICR is write-1-to-clear. */
  writeMbvficr(v: number): void { this.mbvficr &= ~(v & MBVFICR_VALID); }
  writeMbvfimr(v: number): void { this.mbvfimr = v & VF_MASK; }
  /** VFLRE is write-1-to-clear. */
  writeVflre(v: number): void { this.vflre &= ~(v & VF_MASK); }

  // --- VF side --------------------------------------------------------------------------------------------------

  // Reading clears PFSTS, PFACK and RSTD (igbvf/mbx.h E1000_V2PMAILBOX_R2C_BITS).
  readV2p(vf: number): number {
    const v = this.v2p[vf]! | (this.vfu[vf] !== 0 ? E1000_V2PMAILBOX_VFU : 0) | (this.pfu[vf] !== 0 ? E1000_V2PMAILBOX_PFU : 0);
    this.v2p[vf] = this.v2p[vf]! & ~E1000_V2PMAILBOX_R2C_BITS;
    return v;
  }

  /** The VF mailbox register without the read side effect (tests, reports). */
  peekV2p(vf: number): number {
    return this.v2p[vf]! | (this.vfu[vf] !== 0 ? E1000_V2PMAILBOX_VFU : 0) | (this.pfu[vf] !== 0 ? E1000_V2PMAILBOX_PFU : 0);
  }

  // guest-controlled (the VF's driver, possibly hostile): any value.
  writeV2p(vf: number, v: number): void {
    if ((v & E1000_V2PMAILBOX_VFU) === 0) this.vfu[vf] = 0;
    else if (this.pfu[vf] === 0) this.vfu[vf] = 1;
    else this.counters.lockRefused++;
    let bits = 0;
    if ((v & E1000_V2PMAILBOX_REQ) !== 0) { bits |= E1000_MBVFICR_VFREQ_VF1 << vf; this.counters.vfToPf++; }
    if ((v & E1000_V2PMAILBOX_ACK) !== 0) { bits |= E1000_MBVFICR_VFACK_VF1 << vf; this.counters.acksFromVf++; }
    if (bits === 0) return;
    this.mbvficr |= bits;
    if ((this.mbvfimr & (1 << vf)) !== 0) this.signals.toPf();
  }

  readVfBuffer(vf: number, word: number): number { return this.buffers[vf]![word]!; }

  writeVfBuffer(vf: number, word: number, v: number): void {
    if (this.pfu[vf] !== 0) { this.counters.writesRefused++; return; }
    this.buffers[vf]![word] = v >>> 0;
  }

  // --- resets ---------------------------------------------------------------------------------------------------

  /** VF `vf` was reset (VTCTRL.RST or FLR): its lock is dropped, VFLRE(vf) set, and the PF told. */
  vfReset(vf: number): void {
    this.counters.vfResets++;
    this.vfu[vf] = 0;
    this.v2p[vf] = this.pfInReset ? E1000_V2PMAILBOX_RSTI : 0;
    this.vflre |= 1 << vf;
    this.signals.toPf();
  }

  /** VF `vf` comes into existence (VF Enable): a clean mailbox that shows whether the PF is still in reset. */
  vfCreated(vf: number): void {
    this.vfu[vf] = 0;
    this.pfu[vf] = 0;
    this.buffers[vf]!.fill(0);
    this.v2p[vf] = this.pfInReset ? E1000_V2PMAILBOX_RSTI : 0;
    this.mbvficr &= ~((E1000_MBVFICR_VFREQ_VF1 | E1000_MBVFICR_VFACK_VF1) << vf);
    this.vflre &= ~(1 << vf);
  }

  /** The PF was reset (CTRL.RST, FLR, power-on): every VF sees RSTI until the PF's driver writes PFRSTD. */
  pfReset(liveVfs: number): void {
    this.counters.pfResets++;
    this.pfInReset = true;
    this.mbvficr = 0;
    this.mbvfimr = 0;
    this.vflre = 0;
    this.pfu.fill(0);
    for (let vf = 0; vf < IGB_MAX_VF_FUNCTIONS; vf++) {
      this.v2p[vf] = (this.v2p[vf]! & ~E1000_V2PMAILBOX_RSTD) | E1000_V2PMAILBOX_RSTI;
      if (vf < liveVfs) this.signals.toVf(vf);
    }
  }

  /** CTRL_EXT.PFRSTD went to 1: RSTI clears and RSTD sets in every VF mailbox, and the VFs are interrupted. */
  pfResetDone(liveVfs: number): void {
    this.pfInReset = false;
    for (let vf = 0; vf < IGB_MAX_VF_FUNCTIONS; vf++) {
      this.v2p[vf] = (this.v2p[vf]! & ~E1000_V2PMAILBOX_RSTI) | E1000_V2PMAILBOX_RSTD;
      if (vf < liveVfs) this.signals.toVf(vf);
    }
  }

  /** Raises VF n's mailbox interrupt without a message (a link change the VF should notice). */
  poke(vf: number): void { this.signals.toVf(vf); }

  get pfResetPending(): boolean { return this.pfInReset; }
}
