// virtio-net's checksum and segmentation offloads (virtio 1.2 §5.1.6.2 "Packet Transmission", §5.1.6.4 "Processing
// of Incoming Packets"): on transmit, complete a NEEDS_CSUM packet's checksum at csum_start + csum_offset, and cut
// a TCPv4/TCPv6 GSO packet into gso_size segments with their own IP lengths, IPv4 IDs, sequence numbers, flags and
// checksums (what Linux's inet_gso_segment/tcp_gso_segment do); on receive, verify a TCP/UDP checksum so the
// device can set DATA_VALID.
//
// The packet is read once into a frame region and segments are built in a segment region of the same buffer, so
// payload moves with copyWithin and nothing is allocated per packet (views of the lengths in use are cached).

import { ETH_HLEN, ETH_P_IP, ETH_P_IPV6, MAX_FRAME_LEN } from '../../../backends/net/ethernet.js';
import {
  NET_HDR_CSUM_OFFSET, NET_HDR_CSUM_START, NET_HDR_FLAGS, NET_HDR_GSO_SIZE, NET_HDR_GSO_TYPE, VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_ECN, VIRTIO_NET_HDR_GSO_NONE, VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6,
} from './constants.js';
import type { NetDrop } from './counters.js';
import type { GsoInfo } from '../../../backends/net/gso.js';
import {
  IPPROTO_TCP, IPPROTO_UDP, IPV4_CHECK, IPV4_ID, IPV4_TOT_LEN, IPV6_HLEN, IPV6_PAYLOAD_LEN, PacketInfo, TCP_CHECK,
  TCP_FLAGS, TCP_FLAG_CWR, TCP_FLAG_FIN, TCP_FLAG_PSH, TCP_SEQ, UDP_CHECK, be16, be32, checksum, fold, onesSum,
  parsePacket, pseudoHeaderSum, setBe16, setBe32,
} from './packet.js';

/**
 * The largest packet (without the virtio header) the device takes from a transmit queue: a 64 KiB GSO packet
 * (Linux's GSO_LEGACY_MAX_SIZE bounds skb->len) plus room for VLAN tags. Larger ones are dropped and counted.
 */
export const TX_FRAME_MAX = 65536 + 64;
/** Linux's TCP_MIN_GSO_SIZE (include/net/tcp.h): a smaller gso_size is raised to it, bounding the segment count. */
export const TCP_MIN_GSO_SIZE = 8;
/** A checksum that folds to 0 goes out as 0xffff (Linux's CSUM_MANGLED_0; RFC 768 for UDP). */
const CSUM_MANGLED_0 = 0xffff;

/** Views of buf[base, base + len) by length, in a small direct-mapped cache: steady traffic allocates no views. */
export class ViewCache {
  private readonly views: (Uint8Array | null)[] = new Array<Uint8Array | null>(64).fill(null);
  constructor(private readonly buf: Uint8Array, private readonly base: number) {}
  get(len: number): Uint8Array {
    const k = len & 63;
    let v = this.views[k]!;
    if (v === null || v.length !== len) { v = this.buf.subarray(this.base, this.base + len); this.views[k] = v; }
    return v;
  }
}

/** The transmit offloads the driver accepted. */
export interface TxFeatures {
  csum: boolean;
  tso4: boolean;
  tso6: boolean;
  ecn: boolean;
}

const SEG = TX_FRAME_MAX;

export class TxOffload {
  /** Frame region [0, TX_FRAME_MAX), then segment region [TX_FRAME_MAX, + MAX_FRAME_LEN). */
  readonly buf = new Uint8Array(TX_FRAME_MAX + MAX_FRAME_LEN);
  features: TxFeatures = { csum: false, tso4: false, tso6: false, ecn: false };
  /** Segments the last transmit produced (0 for a non-GSO packet) and whether it completed a checksum. */
  segments = 0;
  csumComputed = false;
  /** The last transmit went out whole, as a large packet (transmit's `whole`). */
  passedWhole = false;
  private readonly gso = { v6: false, ecn: false, size: 0, csumStart: 0, hdrLen: 0, csumOffset: 0 };
  private readonly frames = new ViewCache(this.buf, 0);
  private readonly segs = new ViewCache(this.buf, SEG);
  private readonly info = new PacketInfo();

  /** The frame region, `len` bytes: the device copies the packet (after the virtio header) into it. */
  frame(len: number): Uint8Array { return this.frames.get(len); }

  // guest-controlled: the virtio header and every byte of the packet.
  /**
   * Finishes the `len`-byte packet in the frame region as header `hdr` (struct virtio_net_hdr_v1) asks and hands each
   * resulting frame to `out` (valid only during the call). Returns why the packet was dropped, or null.
   */
  transmit(hdr: Uint8Array, len: number, out: (frame: Uint8Array) => void, whole: ((frame: Uint8Array, gso: GsoInfo) => void) | null = null): NetDrop | null {
    this.segments = 0;
    this.csumComputed = false;
    this.passedWhole = false;
    if (len < ETH_HLEN) return 'txRunt';
    const flags = hdr[NET_HDR_FLAGS]!;
    const gsoType = hdr[NET_HDR_GSO_TYPE]!;
    const csumStart = hdr[NET_HDR_CSUM_START]! | (hdr[NET_HDR_CSUM_START + 1]! << 8);
    const csumOffset = hdr[NET_HDR_CSUM_OFFSET]! | (hdr[NET_HDR_CSUM_OFFSET + 1]! << 8);
    const needsCsum = this.features.csum && (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) !== 0;
    if (gsoType === VIRTIO_NET_HDR_GSO_NONE) {
      // §5.1.6.2 device requirements: csum_start/csum_offset are used only with NEEDS_CSUM (and only once CSUM was
      // negotiated: without it the flag means nothing to the device).
      if (needsCsum) {
        if (csumStart + csumOffset + 2 > len) return 'txBadCsum';
        const c = checksum(onesSum(this.buf, csumStart, len));
        setBe16(this.buf, csumStart + csumOffset, c === 0 ? CSUM_MANGLED_0 : c);
        this.csumComputed = true;
      }
      out(this.frames.get(len));
      return null;
    }
    const base = gsoType & ~VIRTIO_NET_HDR_GSO_ECN;
    const f = this.features;
    if ((base === VIRTIO_NET_HDR_GSO_TCPV4 && !f.tso4) || (base === VIRTIO_NET_HDR_GSO_TCPV6 && !f.tso6)
      || (base !== VIRTIO_NET_HDR_GSO_TCPV4 && base !== VIRTIO_NET_HDR_GSO_TCPV6) || ((gsoType & VIRTIO_NET_HDR_GSO_ECN) !== 0 && !f.ecn)) {
      return 'txGsoNotNegotiated';
    }
    const gsoSize = hdr[NET_HDR_GSO_SIZE]! | (hdr[NET_HDR_GSO_SIZE + 1]! << 8);
    if (gsoSize === 0) return 'txBadGso';
    const p = this.info;
    // hdr_len is only a hint without VIRTIO_NET_F_GUEST_HDRLEN (§5.1.6.2: the device MUST NOT rely on it): the headers
    // are found in the packet itself, and must be what gso_type says.
    parsePacket(this.buf, 0, len, p);
    const v6 = base === VIRTIO_NET_HDR_GSO_TCPV6;
    if (p.ethType !== (v6 ? ETH_P_IPV6 : ETH_P_IP) || p.fragment || p.proto !== IPPROTO_TCP || p.l4HdrLen === 0) return 'txBadGso';
    // Linux's virtio_net_hdr_to_skb() refuses a TCP GSO packet whose checksum offload points elsewhere than the TCP check.
    if (needsCsum && (csumStart !== p.l4 || csumOffset !== TCP_CHECK)) return 'txBadGso';
    const mss = Math.max(gsoSize, TCP_MIN_GSO_SIZE);
    const hdrLen = p.l4 + p.l4HdrLen;
    // Whole, to a port that carries large packets: checked here exactly as for cutting (headers, a segment that fits
    // a frame), then left as it is; the TCP checksum stays partial (NEEDS_CSUM), as Linux's GSO skbs leave it.
    if (whole !== null && needsCsum && len - hdrLen > mss && hdrLen + mss <= MAX_FRAME_LEN) {
      const g = this.gso;
      g.v6 = v6; g.ecn = (gsoType & VIRTIO_NET_HDR_GSO_ECN) !== 0; g.size = mss; g.csumStart = csumStart; g.hdrLen = hdrLen; g.csumOffset = csumOffset;
      this.segments = 0;
      this.passedWhole = true;
      whole(this.frames.get(len), g);
      return null;
    }
    return this.segment(p, len, mss, v6, out);
  }

  /** Cuts the GSO packet into segments of `mss` payload bytes (one segment when the payload fits in one). */
  private segment(p: PacketInfo, len: number, mss: number, v6: boolean, out: (frame: Uint8Array) => void): NetDrop | null {
    const buf = this.buf;
    const l3 = p.l3, l4 = p.l4;
    const hlen = l4 + p.l4HdrLen;
    const payload = len - hlen;
    const n = payload <= mss ? 1 : Math.ceil(payload / mss);
    if (hlen + Math.min(payload, mss) > MAX_FRAME_LEN) return 'txBadGso';
    buf.copyWithin(SEG, 0, hlen);
    const s = SEG;
    const seq0 = be32(buf, l4 + TCP_SEQ);
    const id0 = v6 ? 0 : be16(buf, l3 + IPV4_ID);
    const tcpFlags = buf[l4 + TCP_FLAGS]!;
    for (let i = 0; i < n; i++) {
      const off = hlen + i * mss;
      const m = Math.min(mss, len - off);
      buf.copyWithin(s + hlen, off, off + m);
      const ipLen = hlen - l3 + m;
      if (v6) {
        setBe16(buf, s + l3 + IPV6_PAYLOAD_LEN, ipLen - IPV6_HLEN);
      } else {
        setBe16(buf, s + l3 + IPV4_TOT_LEN, ipLen);
        setBe16(buf, s + l3 + IPV4_ID, (id0 + i) & 0xffff);
        setBe16(buf, s + l3 + IPV4_CHECK, 0);
        setBe16(buf, s + l3 + IPV4_CHECK, checksum(onesSum(buf, s + l3, s + l4)));
      }
      // FIN and PSH only on the last segment, CWR only on the first (tcp_gso_segment).
      let fl = tcpFlags;
      if (i < n - 1) fl &= ~(TCP_FLAG_FIN | TCP_FLAG_PSH);
      if (i > 0) fl &= ~TCP_FLAG_CWR;
      buf[s + l4 + TCP_FLAGS] = fl;
      setBe32(buf, s + l4 + TCP_SEQ, (seq0 + i * mss) >>> 0);
      setBe16(buf, s + l4 + TCP_CHECK, 0);
      const tcpLen = p.l4HdrLen + m;
      const sum = onesSum(buf, s + l4, s + hlen + m, pseudoHeaderSum(buf, s + l3, v6, IPPROTO_TCP, tcpLen));
      setBe16(buf, s + l4 + TCP_CHECK, checksum(sum));
      out(this.segs.get(hlen + m));
    }
    this.segments = n;
    return null;
  }
}

/** Result of verifying a received frame's transport checksum. */
export const RX_CSUM_NONE = 0;
export const RX_CSUM_VALID = 1;
export const RX_CSUM_BAD = 2;

// wire-controlled: the received frame.
/**
 * Verifies the TCP or UDP checksum of an unfragmented IPv4/IPv6 frame (over the datagram's own length, so Ethernet
 * padding is left out). RX_CSUM_NONE when the frame has no such checksum to verify (not TCP/UDP, a fragment, a
 * truncated datagram, or UDP over IPv4 without a checksum).
 */
export function verifyRxChecksum(f: Uint8Array, info: PacketInfo): number {
  if (!parsePacket(f, 0, f.length, info) || info.l4HdrLen === 0 || info.ipEnd > f.length) return RX_CSUM_NONE;
  const v6 = info.ethType === ETH_P_IPV6;
  const l4Len = info.ipEnd - info.l4;
  if (l4Len < info.l4HdrLen) return RX_CSUM_NONE;
  if (info.proto === IPPROTO_UDP && !v6 && be16(f, info.l4 + UDP_CHECK) === 0) return RX_CSUM_NONE;
  const sum = onesSum(f, info.l4, info.ipEnd, pseudoHeaderSum(f, info.l3, v6, info.proto, l4Len));
  return fold(sum) === 0xffff ? RX_CSUM_VALID : RX_CSUM_BAD;
}
