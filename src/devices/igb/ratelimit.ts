// Per-queue transmit rate limiting of the 82576 (82576EB datasheet: the transmit rate scheduler, registers RTTDQSEL,
// RTTBCNRC, RTTBCNRM): software selects a TX queue in RTTDQSEL and writes its rate factor to RTTBCNRC — RS_ENA plus
// RF = RF_INT + RF_DEC / 2^14, the queue's rate being the link speed divided by RF. That is what `ip link set PF vf N
// max_tx_rate R` programs through igb_set_vf_rate_limit (VF N uses queue N). The model paces in virtual time: a queue
// may start a packet when the clock has reached its next start time; each frame sent (preamble, FCS and the inter-frame
// gap included, as the wire counts it) moves that time on by its duration at the queue's rate.

import { E1000_RTTBCNRC_RF_DEC_MASK, E1000_RTTBCNRC_RF_INT_MASK, E1000_RTTBCNRC_RF_INT_SHIFT, E1000_RTTBCNRC_RS_ENA } from './defines.js';
import { IGB_NUM_QUEUES } from './regs.js';

/** Bytes a frame occupies on the wire beyond its payload here: FCS (4), preamble + SFD (8), inter-frame gap (12). */
export const WIRE_OVERHEAD = 24;

export class RateLimiter {
  /** RTTDQSEL: the queue RTTBCNRC writes apply to. */
  selected = 0;
  /** RTTBCNRM: stored (the model has no memory-window burst). */
  mmw = 0;
  private readonly bcnrc = new Uint32Array(IGB_NUM_QUEUES);
  /** Earliest clock time at which each queue may start its next packet. */
  private readonly nextStart = new Float64Array(IGB_NUM_QUEUES);

  constructor(private readonly now: () => number, private readonly frequency: number, private readonly linkMbps: () => number) {}

  // guest-controlled: any queue number and rate factor.
  writeSelect(v: number): void { this.selected = v & (IGB_NUM_QUEUES - 1); }
  writeConfig(v: number): void {
    const q = this.selected;
    this.bcnrc[q] = v >>> 0;
    if (this.bitsPerSecond(q) === 0) this.nextStart[q] = 0;
  }

  config(q: number): number { return this.bcnrc[q]!; }

  /** Queue `q`'s limit in bits per second, or 0 when it is not limited (RS_ENA clear, or a factor below 1). */
  bitsPerSecond(q: number): number {
    const v = this.bcnrc[q]!;
    if ((v & E1000_RTTBCNRC_RS_ENA) === 0) return 0;
    const rf = ((v & E1000_RTTBCNRC_RF_INT_MASK) >>> E1000_RTTBCNRC_RF_INT_SHIFT) + (v & E1000_RTTBCNRC_RF_DEC_MASK) / 16384;
    return rf >= 1 ? (this.linkMbps() * 1e6) / rf : 0;
  }

  /** Whether queue `q` may start a packet now. */
  mayStart(q: number): boolean { return this.bitsPerSecond(q) === 0 || this.now() >= this.nextStart[q]!; }

  /** Accounts a frame of `bytes` sent from queue `q`. */
  sent(q: number, bytes: number): void {
    const bps = this.bitsPerSecond(q);
    if (bps === 0) return;
    const start = Math.max(this.now(), this.nextStart[q]!);
    this.nextStart[q] = start + ((bytes + WIRE_OVERHEAD) * 8 * this.frequency) / bps;
  }

  /** When queue `q` may start again (for a deferred pass), in clock ticks. */
  deadline(q: number): number { return this.nextStart[q]!; }

  reset(): void {
    this.selected = 0;
    this.mmw = 0;
    this.bcnrc.fill(0);
    this.nextStart.fill(0);
  }
}
