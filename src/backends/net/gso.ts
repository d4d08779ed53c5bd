// TCP segmentation offload carried across the in-process network: a frame handed on with GsoInfo is one large TCP
// packet (up to 64 KiB) whose segmentation and TCP checksum are still to be done — what Linux calls a GSO skb with
// CHECKSUM_PARTIAL, and what virtio_net_hdr describes. The software switch passes such frames whole from a
// virtio-net that sends them (HOST_TSO) to a virtio-net that takes them (GUEST_TSO), as a host bridge passes GSO
// skbs between vhost-net guests; every other receiver (e1000, igb, Xen netback, a TAP without a vnet header, the
// switch's uplink) gets the segments, cut here the way the virtio-net device cuts them (tcp_gso_segment's rules).

import { TX_FRAME_MAX, TxOffload } from '../../devices/virtio/net/offload.js';
import {
  NET_HDR_CSUM_OFFSET, NET_HDR_CSUM_START, NET_HDR_FLAGS, NET_HDR_GSO_SIZE, NET_HDR_GSO_TYPE, NET_HDR_HDR_LEN,
  VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_ECN, VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_SIZE,
} from '../../devices/virtio/net/constants.js';

/** What is left to do to a large TCP packet (all offsets from the start of the Ethernet frame). */
export interface GsoInfo {
  /** TCP over IPv6 (else IPv4). */
  readonly v6: boolean;
  /** The packet's ECN CWR flag must stay on the first segment only (VIRTIO_NET_HDR_GSO_ECN). */
  readonly ecn: boolean;
  /** Payload bytes per segment (the MSS). */
  readonly size: number;
  /** Where the TCP header starts, and the end of the headers (TCP header included). */
  readonly csumStart: number;
  readonly hdrLen: number;
  /** Offset of the TCP checksum from csumStart (16); the field holds the pseudo-header sum. */
  readonly csumOffset: number;
}

/** The virtio_net_hdr (v1, 12 bytes) that describes `gso` — how a virtio device hands it to its driver. */
export function writeGsoHeader(hdr: Uint8Array, gso: GsoInfo): void {
  hdr[NET_HDR_FLAGS] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  hdr[NET_HDR_GSO_TYPE] = (gso.v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4) | (gso.ecn ? VIRTIO_NET_HDR_GSO_ECN : 0);
  const le16 = (at: number, v: number): void => { hdr[at] = v & 0xff; hdr[at + 1] = (v >> 8) & 0xff; };
  le16(NET_HDR_HDR_LEN, gso.hdrLen);
  le16(NET_HDR_GSO_SIZE, gso.size);
  le16(NET_HDR_CSUM_START, gso.csumStart);
  le16(NET_HDR_CSUM_OFFSET, gso.csumOffset);
}

/** Cuts GSO frames into segments for receivers that take only Ethernet frames. One buffer of 64 KiB per instance. */
export class GsoSegmenter {
  private readonly tx = new TxOffload();
  private readonly hdr = new Uint8Array(VIRTIO_NET_HDR_SIZE);
  /** Packets cut, and segments made of them. */
  packets = 0;
  segments = 0;

  constructor() {
    this.tx.features = { csum: true, tso4: true, tso6: true, ecn: true };
  }

  // guest-controlled: the frame and its GsoInfo come from a guest's transmit (checked again here).
  /** Hands each segment of `frame` to `out` (valid during the call only); false when the packet is not one it can cut. */
  segment(frame: Uint8Array, gso: GsoInfo, out: (segment: Uint8Array) => void): boolean {
    const len = frame.length;
    if (len > TX_FRAME_MAX) return false;
    this.tx.frame(len).set(frame);
    this.hdr.fill(0);
    writeGsoHeader(this.hdr, gso);
    if (this.tx.transmit(this.hdr, len, out) !== null) return false;
    this.packets++;
    this.segments += this.tx.segments;
    return true;
  }
}
