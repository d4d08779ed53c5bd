// The e1000's own counters (ARCHITECTURE.md "Metrics"): which emulation optimizations were on, packets and bytes each
// way, TSO segments and checksums done in "hardware", interrupts raised and held back by ITR moderation, and drops by
// reason. Exits per register are the bus's (the BAR region's counters), not counted here.

/** Why a frame or descriptor was dropped or refused. Each is counted, none stops the device. */
export type E1000DropReason =
  /** RX: the frame matched no address filter (unicast, multicast hash, broadcast, VLAN filter). */
  | 'rx-filtered'
  /** RX: the receiver is disabled (RCTL.EN clear) or the link is down. */
  | 'rx-disabled'
  /** RX: too few free descriptors for the frame (RNBC). */
  | 'rx-no-buffers'
  /** RX: longer than 1522 bytes without RCTL.LPE, or longer than the largest frame the part takes. */
  | 'rx-oversize'
  /** RX: the ring is unusable (RDLEN 0, RDH or RDT past the end). */
  | 'rx-bad-ring'
  /** RX: a descriptor or buffer is outside guest memory (or bus mastering is off). */
  | 'rx-dma-fault'
  /** TX: a descriptor or buffer is outside guest memory (or bus mastering is off). */
  | 'tx-dma-fault'
  /** TX: the ring is unusable (TDLEN 0, TDH or TDT past the end). */
  | 'tx-bad-ring'
  /** TX: a packet's descriptors add up to more than the largest packet the model takes. */
  | 'tx-oversize'
  /** TX: a descriptor type the 82540EM does not define. */
  | 'tx-bad-descriptor'
  /** TX: a TSO packet whose context is absurd (MSS 0, header longer than the packet, too many segments). */
  | 'tx-bad-tso'
  /** TX: a checksum offset outside the frame; the frame is sent without that checksum. */
  | 'tx-bad-checksum-offset'
  /** TX: the link is down; the descriptors complete but the frame goes nowhere. */
  | 'tx-link-down'
  /** TX: shorter than an Ethernet header. */
  | 'tx-runt';

export const E1000_DROP_REASONS: readonly E1000DropReason[] = [
  'rx-filtered', 'rx-disabled', 'rx-no-buffers', 'rx-oversize', 'rx-bad-ring', 'rx-dma-fault', 'tx-dma-fault',
  'tx-bad-ring', 'tx-oversize', 'tx-bad-descriptor', 'tx-bad-tso', 'tx-bad-checksum-offset', 'tx-link-down', 'tx-runt',
];

/** The emulation optimizations in force, as counters report them (1 = on). */
export interface E1000OptimizationsReport {
  coalesceMmio: number;
  txBatching: number;
  itrModeration: number;
  notifyTdt: number;
  inKernel: number;
}

export class E1000Counters {
  readonly optimizations: E1000OptimizationsReport = { coalesceMmio: 0, txBatching: 0, itrModeration: 0, notifyTdt: 0, inKernel: 0 };
  txPackets = 0;
  txBytes = 0;
  rxPackets = 0;
  rxBytes = 0;
  /** Descriptors the TX and RX engines consumed. */
  txDescriptors = 0;
  rxDescriptors = 0;
  /** Times the TX engine ran over the ring (a TDT doorbell, or a batch flushed by update()). */
  txPasses = 0;
  /** TSO: packets segmented and the frames they became. */
  tsoPackets = 0;
  tsoSegments = 0;
  /** Checksums inserted on transmit (IP header and TCP/UDP) and verified on receive. */
  txChecksums = 0;
  rxChecksumsGood = 0;
  rxChecksumsBad = 0;
  /** Interrupt line assertions. */
  interrupts = 0;
  /** Assertions ITR moderation postponed to the end of the throttle interval. */
  itrDeferred = 0;
  /** Interrupt causes that arrived while a postponed assertion was waiting (merged into it). */
  itrMerged = 0;
  /** Link state changes seen (LSC). */
  linkChanges = 0;
  /** Device resets (CTRL.RST). */
  resets = 0;
  /** DMA accesses that faulted. */
  dmaFaults = 0;
  readonly drops: Record<E1000DropReason, number> = Object.fromEntries(E1000_DROP_REASONS.map((r) => [r, 0])) as Record<E1000DropReason, number>;

  drop(reason: E1000DropReason): void { this.drops[reason]++; }

  toJSON(): object {
    return {
      optimizations: this.optimizations,
      txPackets: this.txPackets, txBytes: this.txBytes, rxPackets: this.rxPackets, rxBytes: this.rxBytes,
      txDescriptors: this.txDescriptors, rxDescriptors: this.rxDescriptors, txPasses: this.txPasses,
      tsoPackets: this.tsoPackets, tsoSegments: this.tsoSegments,
      txChecksums: this.txChecksums, rxChecksumsGood: this.rxChecksumsGood, rxChecksumsBad: this.rxChecksumsBad,
      interrupts: this.interrupts, itrDeferred: this.itrDeferred, itrMerged: this.itrMerged,
      linkChanges: this.linkChanges, resets: this.resets, dmaFaults: this.dmaFaults, drops: this.drops,
    };
  }
}
