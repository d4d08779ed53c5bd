// netback's transmit path (what the frontend sends): the rules of drivers/net/xen-netback/netback.c
// (xenvif_tx_build_gops, xenvif_get_extras, xenvif_count_requests, xenvif_set_skb_gso) over io/netif.h requests.
// A packet is a first request (whose size is the whole packet), optional extra-info slots (GSO), and
// XEN_NETTXF_more_data continuations. Its data is grant-copied into vmio's buffer, the checksum completed for
// XEN_NETTXF_csum_blank, a GSO packet cut into segments, and every slot answered in order. A malformed packet is
// dropped with error responses; a frontend that breaks the protocol (a slot across a page, a packet running past
// req_prod, XEN_NETBK's fatal slot count, a bad extra) is disconnected. Nothing here throws on guest input.

import { ETH_HLEN, ETH_P_IPV6 } from '../../backends/net/ethernet.js';
import {
  NET_HDR_CSUM_OFFSET, NET_HDR_CSUM_START, NET_HDR_FLAGS, NET_HDR_GSO_SIZE, NET_HDR_GSO_TYPE, VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_SIZE,
} from '../virtio/net/constants.js';
import type { GsoInfo } from '../../backends/net/gso.js';
import { TxOffload } from '../virtio/net/offload.js';
import {
  IPPROTO_TCP, IPPROTO_UDP, PacketInfo, TCP_CHECK, UDP_CHECK, checksum, onesSum, parsePacket, pseudoHeaderSum, setBe16,
} from '../virtio/net/packet.js';
import { GNTST_okay, XEN_PAGE_SIZE } from './abi.js';
import type { CostCharger, NetbackCounters } from './counters.js';
import type { GrantTable } from './grant-table.js';
import {
  EXTRA_FLAGS, EXTRA_GSO_SIZE, EXTRA_GSO_TYPE, EXTRA_TYPE, FATAL_SKB_SLOTS, TX_SLOT, TXREQ_FLAGS, TXREQ_GREF, TXREQ_ID,
  TXREQ_OFFSET, TXREQ_SIZE, TXRSP_ID, TXRSP_STATUS, XEN_NETBK_LEGACY_SLOTS_MAX, XEN_NETIF_EXTRA_FLAG_MORE,
  XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_EXTRA_TYPE_MAX, XEN_NETIF_EXTRA_TYPE_MCAST_ADD, XEN_NETIF_EXTRA_TYPE_MCAST_DEL,
  XEN_NETIF_GSO_TYPE_TCPV4, XEN_NETIF_GSO_TYPE_TCPV6, XEN_NETIF_RSP_ERROR, XEN_NETIF_RSP_NULL, XEN_NETIF_RSP_OKAY,
  XEN_NETTXF_csum_blank, XEN_NETTXF_extra_info, XEN_NETTXF_more_data,
} from './netif-abi.js';
import type { BackRing } from './netif-ring.js';

export interface TxContext {
  readonly ring: BackRing;
  readonly grants: GrantTable;
  readonly counters: NetbackCounters;
  readonly cost: CostCharger | null;
  /** What vmio offered the frontend (feature-sg, feature-gso-tcpv4/6). */
  readonly sg: boolean;
  readonly gso: boolean;
  send(frame: Uint8Array): void;
  /** Where a large TCP packet may go whole (a port that carries them, e.g. a switch port), or null: cut it here. */
  sendWhole(): ((frame: Uint8Array, gso: GsoInfo) => void) | null;
  /** Disconnects the frontend for a protocol violation. */
  fatal(reason: string): void;
}

/** A UDP checksum that computes to 0 is sent as 0xffff (RFC 768). */
const CSUM_MANGLED_0 = 0xffff;

export class NetbackTx {
  private readonly req = new Uint8Array(TX_SLOT);
  private readonly reqView = new DataView(this.req.buffer);
  private readonly rsp = new Uint8Array(4);
  private readonly rspView = new DataView(this.rsp.buffer);
  // The slots of the packet being parsed: grant, offset, size, id (at most FATAL_SKB_SLOTS of them).
  private readonly gref = new Uint32Array(FATAL_SKB_SLOTS + 1);
  private readonly off = new Uint16Array(FATAL_SKB_SLOTS + 1);
  private readonly size = new Uint16Array(FATAL_SKB_SLOTS + 1);
  private readonly id = new Uint16Array(FATAL_SKB_SLOTS + 1);
  private readonly status = new Int16Array(FATAL_SKB_SLOTS + 1);
  private readonly offload = new TxOffload();
  private readonly hdr = new Uint8Array(VIRTIO_NET_HDR_SIZE);
  private readonly info = new PacketInfo();
  private readonly out = (f: Uint8Array): void => { this.ctx!.counters.txFrames++; this.ctx!.send(f); };
  private ctx: TxContext | null = null;
  private wholeTo: ((frame: Uint8Array, gso: GsoInfo) => void) | null = null;
  private readonly wholeFn = (f: Uint8Array, gso: GsoInfo): void => { this.ctx!.counters.txFrames++; this.wholeTo!(f, gso); };
  private wholeOut(to: ((frame: Uint8Array, gso: GsoInfo) => void) | null): ((frame: Uint8Array, gso: GsoInfo) => void) | null {
    this.wholeTo = to;
    return to === null ? null : this.wholeFn;
  }

  constructor() {
    // csum: a GSO packet with csum_blank is passed on as NEEDS_CSUM (its TCP check holds the pseudo-header sum, as a
    // CHECKSUM_PARTIAL skb's does), so it can go whole; every other packet's checksum is completed here first.
    this.offload.features = { csum: true, tso4: true, tso6: true, ecn: false };
  }

  // guest-controlled: every request on the ring and every byte of the packets.
  /** Consumes every published request; returns whether rsp_event asks for a notification. False after a fatal error. */
  process(ctx: TxContext): boolean {
    this.ctx = ctx;
    const ring = ctx.ring;
    for (;;) {
      let work = ring.unconsumed();
      if (work === 0) work = ring.finalCheckForRequests();
      if (work < 0) { ctx.fatal('tx: req_prod more than a ring ahead of req_cons'); return false; }
      if (work === 0) break;
      if (!this.packet(ctx, work)) return false;
    }
    return ring.pushResponses();
  }

  private read(ring: BackRing, ahead: number): boolean {
    return ring.copyRequest(ahead, this.req);
  }

  /** One packet starting at req_cons; false after a fatal error. */
  private packet(ctx: TxContext, work: number): boolean {
    const ring = ctx.ring;
    const v = this.reqView;
    if (!this.read(ring, 0)) { ctx.fatal('tx: ring unreadable'); return false; }
    const flags = v.getUint16(TXREQ_FLAGS, true);
    const total = v.getUint16(TXREQ_SIZE, true);
    this.gref[0] = v.getUint32(TXREQ_GREF, true); this.off[0] = v.getUint16(TXREQ_OFFSET, true); this.id[0] = v.getUint16(TXREQ_ID, true);
    let n = 1; // ring slots the packet uses
    let extras = 0;
    let gsoSize = -1, gsoType = 0, mcast = false;
    if ((flags & XEN_NETTXF_extra_info) !== 0) {
      for (let more = true; more;) {
        if (n >= work) { ctx.fatal('tx: extra info missing'); return false; }
        this.read(ring, n++);
        extras++;
        const type = this.req[EXTRA_TYPE]!;
        if (type === 0 || type >= XEN_NETIF_EXTRA_TYPE_MAX) { ctx.fatal('tx: invalid extra info type'); return false; }
        if (type === XEN_NETIF_EXTRA_TYPE_GSO) { gsoSize = v.getUint16(EXTRA_GSO_SIZE, true); gsoType = this.req[EXTRA_GSO_TYPE]!; }
        if (type === XEN_NETIF_EXTRA_TYPE_MCAST_ADD || type === XEN_NETIF_EXTRA_TYPE_MCAST_DEL) mcast = true;
        more = (this.req[EXTRA_FLAGS]! & XEN_NETIF_EXTRA_FLAG_MORE) !== 0;
      }
    }
    if (mcast) { // multicast control was not offered: refuse the request, as a netback without it does
      this.respond(ctx, 1, extras, XEN_NETIF_RSP_ERROR, 'multicastControl');
      ring.reqCons = (ring.reqCons + n) >>> 0;
      return true;
    }
    // The continuation slots (xenvif_count_requests).
    let slots = 1;
    let remaining = total;
    let drop: string | null = null;
    for (let more = (flags & XEN_NETTXF_more_data) !== 0; more;) {
      if (n >= work) { ctx.fatal('tx: packet continues past req_prod'); return false; }
      if (slots > FATAL_SKB_SLOTS) { ctx.fatal(`tx: more than ${FATAL_SKB_SLOTS} slots in a packet`); return false; }
      // More than XEN_NETIF_NR_SLOTS_MIN slots: dropped; more than netback's fatal count: disconnected.
      if (drop === null && slots >= XEN_NETBK_LEGACY_SLOTS_MAX) drop = 'tooManySlots';
      this.read(ring, n++);
      const off = v.getUint16(TXREQ_OFFSET, true), size = v.getUint16(TXREQ_SIZE, true);
      if (drop === null && size > remaining) drop = 'slotLargerThanPacket';
      remaining = (remaining - size) & 0xffff;
      if (off + size > XEN_PAGE_SIZE) { ctx.fatal('tx: slot crosses a page'); return false; }
      this.gref[slots] = v.getUint32(TXREQ_GREF, true); this.off[slots] = off; this.size[slots] = size; this.id[slots] = v.getUint16(TXREQ_ID, true);
      slots++;
      more = (v.getUint16(TXREQ_FLAGS, true) & XEN_NETTXF_more_data) !== 0;
    }
    this.size[0] = remaining; // the first slot's own length
    if (drop === null && total < ETH_HLEN) drop = 'runt';
    if (drop === null && this.off[0]! + remaining > XEN_PAGE_SIZE) { ctx.fatal('tx: first slot crosses a page'); return false; }
    if (drop === null && slots > 1 && !ctx.sg) drop = 'sgNotOffered';
    if (drop === null && gsoSize >= 0) {
      if (gsoSize === 0) { ctx.fatal('tx: GSO size 0'); return false; }
      if (gsoType !== XEN_NETIF_GSO_TYPE_TCPV4 && gsoType !== XEN_NETIF_GSO_TYPE_TCPV6) { ctx.fatal('tx: bad GSO type'); return false; }
      if (!ctx.gso) drop = 'gsoNotOffered';
    }
    if (drop !== null) {
      this.respond(ctx, slots, extras, XEN_NETIF_RSP_ERROR, drop);
    } else {
      this.deliver(ctx, slots, extras, total, flags, gsoSize, gsoType);
    }
    ring.reqCons = (ring.reqCons + n) >>> 0;
    return true;
  }

  /** Grant-copies the slots into the frame buffer, finishes the packet and sends it; answers every slot. */
  private deliver(ctx: TxContext, slots: number, extras: number, total: number, flags: number, gsoSize: number, gsoType: number): void {
    const buf = this.offload.buf;
    let pos = 0;
    let failed = false;
    for (let i = 0; i < slots; i++) {
      const len = this.size[i]!;
      const st = ctx.grants.copyFrom(this.gref[i]!, this.off[i]!, buf.subarray(pos, pos + len));
      this.status[i] = st === GNTST_okay ? XEN_NETIF_RSP_OKAY : XEN_NETIF_RSP_ERROR;
      if (st !== GNTST_okay) failed = true;
      pos += len;
    }
    const c = ctx.counters;
    c.txSlots += slots + extras;
    ctx.cost?.charge('perRequest');
    if (failed) {
      c.dropTx('grantCopyFailed');
    } else if ((flags & XEN_NETTXF_csum_blank) !== 0 && gsoSize < 0 && !this.completeChecksum(total)) {
      c.dropTx('checksumNotCompletable'); // netback's checksum_setup fails: the slots were consumed fine
    } else {
      c.txPackets++;
      c.txBytes += total;
      if (gsoSize < 0) {
        this.out(this.offload.frame(total));
      } else {
        const h = this.hdr;
        h.fill(0);
        h[NET_HDR_GSO_TYPE] = gsoType === XEN_NETIF_GSO_TYPE_TCPV6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
        h[NET_HDR_GSO_SIZE] = gsoSize & 0xff; h[NET_HDR_GSO_SIZE + 1] = gsoSize >>> 8;
        const whole = ctx.sendWhole();
        const p = this.info;
        if (whole !== null && (flags & XEN_NETTXF_csum_blank) !== 0 && parsePacket(buf, 0, total, p) && p.proto === IPPROTO_TCP && p.l4 >= 0) {
          h[NET_HDR_FLAGS] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
          h[NET_HDR_CSUM_START] = p.l4 & 0xff; h[NET_HDR_CSUM_START + 1] = p.l4 >>> 8;
          h[NET_HDR_CSUM_OFFSET] = TCP_CHECK;
        }
        const err = this.offload.transmit(h, total, this.out, h[NET_HDR_FLAGS] !== 0 ? this.wholeOut(whole) : null);
        if (err !== null) c.dropTx(err);
        else if (this.offload.passedWhole) c.txGsoWhole++;
        else c.txGsoSegments += this.offload.segments;
      }
    }
    this.writeResponses(ctx.ring, slots, extras);
  }

  /** Completes the TCP or UDP checksum of the `len`-byte frame in the buffer (with its pseudo-header, from scratch). */
  private completeChecksum(len: number): boolean {
    const f = this.offload.buf;
    const p = this.info;
    if (!parsePacket(f, 0, len, p) || p.fragment || p.l4HdrLen === 0 || p.ipEnd > len || p.ipEnd < p.l4 + p.l4HdrLen) return false;
    const at = p.l4 + (p.proto === IPPROTO_TCP ? TCP_CHECK : p.proto === IPPROTO_UDP ? UDP_CHECK : -1e9);
    if (at < 0) return false;
    setBe16(f, at, 0);
    const v6 = p.ethType === ETH_P_IPV6;
    let c = checksum(onesSum(f, p.l4, p.ipEnd, pseudoHeaderSum(f, p.l3, v6, p.proto, p.ipEnd - p.l4)));
    if (c === 0 && p.proto === IPPROTO_UDP) c = CSUM_MANGLED_0;
    setBe16(f, at, c);
    this.ctx!.counters.txCsumCompleted++;
    return true;
  }

  /** Answers a dropped packet: `status` for its data slots, RSP_NULL for its extras. */
  private respond(ctx: TxContext, slots: number, extras: number, status: number, reason: string): void {
    this.status.fill(status, 0, slots);
    ctx.counters.dropTx(reason);
    ctx.counters.txSlots += slots + extras;
    this.writeResponses(ctx.ring, slots, extras);
  }

  /** The responses in ring order: the first slot, its extras (RSP_NULL), then the continuation slots. */
  private writeResponses(ring: BackRing, slots: number, extras: number): void {
    const r = this.rspView;
    for (let i = 0; i < slots; i++) {
      r.setUint16(TXRSP_ID, this.id[i]!, true);
      r.setInt16(TXRSP_STATUS, this.status[i]!, true);
      ring.putResponse(this.rsp);
      for (let e = 0; i === 0 && e < extras; e++) {
        r.setUint16(TXRSP_ID, 0, true);
        r.setInt16(TXRSP_STATUS, XEN_NETIF_RSP_NULL, true);
        ring.putResponse(this.rsp);
      }
    }
  }
}
