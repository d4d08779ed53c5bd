// virtio-net's device counters (ARCHITECTURE.md "Metrics"): frames and bytes each way, what the offloads did, and
// every dropped packet by reason. Per-queue figures (notifications, interrupts, descriptors, bytes copied) are the
// queues' own QueueCounters; these are the device's view of the packets.

/** Why a packet or frame was dropped; each has its own counter. */
export type NetDrop =
  /** A transmit chain with fewer device-readable bytes than struct virtio_net_hdr (a write-only chain has none). */
  | 'txShortHeader'
  /** A transmit packet larger than the device takes (64 KiB of frame plus slack; see TX_FRAME_MAX). */
  | 'txTooLong'
  /** A transmit frame shorter than an Ethernet header. */
  | 'txRunt'
  /** NEEDS_CSUM with csum_start/csum_offset outside the packet. */
  | 'txBadCsum'
  /** A GSO type that was not negotiated (or that vmio does not do: UFO, USO, tunnels). */
  | 'txGsoNotNegotiated'
  /** A GSO packet whose headers do not match its gso_type, or gso_size 0, or segments too large. */
  | 'txBadGso'
  /** The link was down when the driver transmitted. */
  | 'txLinkDown'
  /** A frame arrived while the driver was not running or the link was down. */
  | 'rxNotReady'
  /** Refused by the receive filter (destination MAC, promiscuous and multicast modes). */
  | 'rxFiltered'
  /** Not enough receive buffers posted to hold the frame. */
  | 'rxNoBuffers'
  /** Without mergeable buffers: the next receive buffer is smaller than header + frame. */
  | 'rxTooBig'
  /** A receive chain with fewer device-writable bytes than the header, returned unused (length 0). */
  | 'rxBadBuffer';

export const NET_DROPS: readonly NetDrop[] = [
  'txShortHeader', 'txTooLong', 'txRunt', 'txBadCsum', 'txGsoNotNegotiated', 'txBadGso', 'txLinkDown',
  'rxNotReady', 'rxFiltered', 'rxNoBuffers', 'rxTooBig', 'rxBadBuffer',
];

export class NetCounters {
  /** Packets the driver queued for transmission (chains taken from transmit queues). */
  txPackets = 0;
  /** Frames handed to the backend (a TSO packet gives several), and their bytes. */
  txFrames = 0;
  txBytes = 0;
  /** Checksums completed for NEEDS_CSUM packets (not counting the ones TSO computes per segment). */
  txCsumComputed = 0;
  /** GSO packets segmented, and the segments they gave. */
  tsoPackets = 0;
  tsoSegments = 0;
  /** GSO packets sent on whole (the port carries them), and large packets received whole (GUEST_TSO). */
  tsoWhole = 0;
  rxGso = 0;
  /** Frames written into receive buffers, their bytes (without the header), and the buffers they took. */
  rxFrames = 0;
  rxBytes = 0;
  rxBuffers = 0;
  /** Received TCP/UDP frames whose checksum the device verified (DATA_VALID), and those that failed it. */
  rxCsumValid = 0;
  rxCsumBad = 0;
  /** Control commands answered VIRTIO_NET_OK and VIRTIO_NET_ERR, and chains with no byte for the ack. */
  ctrlOk = 0;
  ctrlErr = 0;
  ctrlNoAck = 0;
  /** Link status changes reported through the configuration space. */
  linkChanges = 0;
  readonly drops: Record<NetDrop, number>;

  constructor() {
    this.drops = Object.fromEntries(NET_DROPS.map((d) => [d, 0])) as Record<NetDrop, number>;
  }

  drop(why: NetDrop): void { this.drops[why]++; }

  get txDropped(): number { let n = 0; for (const d of NET_DROPS) if (d.startsWith('tx')) n += this.drops[d]; return n; }
  get rxDropped(): number { let n = 0; for (const d of NET_DROPS) if (d.startsWith('rx')) n += this.drops[d]; return n; }

  toJSON(): Record<string, number | Record<string, number>> {
    return {
      txPackets: this.txPackets, txFrames: this.txFrames, txBytes: this.txBytes, txCsumComputed: this.txCsumComputed,
      tsoPackets: this.tsoPackets, tsoSegments: this.tsoSegments, tsoWhole: this.tsoWhole, rxGso: this.rxGso, rxFrames: this.rxFrames, rxBytes: this.rxBytes,
      rxBuffers: this.rxBuffers, rxCsumValid: this.rxCsumValid, rxCsumBad: this.rxCsumBad, ctrlOk: this.ctrlOk,
      ctrlErr: this.ctrlErr, ctrlNoAck: this.ctrlNoAck, linkChanges: this.linkChanges, drops: { ...this.drops },
    };
  }
}
