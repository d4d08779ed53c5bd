// netback's receive path (frames for the frontend): drivers/net/xen-netback/rx.c over io/netif.h. The frontend posts
// rx requests {id, gref} naming writable granted pages; a frame is grant-copied into as many of them as it needs
// (one page each, data at offset 0, XEN_NETRXF_more_data on all but the last — only if the frontend offered
// feature-sg), and each request gets its response {id, offset, flags, status = bytes or a negative error} in its
// own slot. A frame whose TCP/UDP checksum verifies is marked XEN_NETRXF_data_validated. With too few requests
// posted, netback asks for an event when more arrive (req_event) and the frame is dropped. A large TCP packet (the
// frontend offered feature-gso-tcpv4/6) goes whole: its first response carries XEN_NETRXF_extra_info and
// csum_blank|data_validated (a CHECKSUM_PARTIAL skb, as rx.c marks it), the next slot is the GSO extra info (its
// request consumed, its buffer unused: netfront recycles it), then the rest of the data (xenvif_rx_extra_slot).

import { XEN_PAGE_SIZE, GNTST_okay } from './abi.js';
import type { CostCharger, NetbackCounters } from './counters.js';
import type { GrantTable } from './grant-table.js';
import {
  EXTRA_GSO_SIZE, EXTRA_GSO_TYPE, EXTRA_TYPE, RX_SLOT, RXREQ_GREF, RXREQ_ID, RXRSP_FLAGS, RXRSP_ID, RXRSP_OFFSET,
  RXRSP_STATUS, XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_GSO_TYPE_TCPV4, XEN_NETIF_GSO_TYPE_TCPV6, XEN_NETRXF_csum_blank,
  XEN_NETRXF_data_validated, XEN_NETRXF_extra_info, XEN_NETRXF_more_data,
} from './netif-abi.js';
import type { GsoInfo } from '../../backends/net/gso.js';
import type { BackRing } from './netif-ring.js';
import { RX_CSUM_VALID, verifyRxChecksum } from '../virtio/net/offload.js';
import { PacketInfo } from '../virtio/net/packet.js';

export interface RxContext {
  readonly ring: BackRing;
  readonly grants: GrantTable;
  readonly counters: NetbackCounters;
  readonly cost: CostCharger | null;
  /** The frontend offered feature-sg: a frame may span several rx slots. */
  readonly frontendSg: boolean;
  /** Verify checksums and mark good frames data_validated. */
  readonly rxChecksum: boolean;
  /** The frontend offered feature-gso-tcpv4 / -tcpv6: large TCP packets may come whole. */
  readonly frontendGso4: boolean;
  readonly frontendGso6: boolean;
  notify(): void;
  fatal(reason: string): void;
}

export class NetbackRx {
  private readonly req = new Uint8Array(RX_SLOT);
  private readonly reqView = new DataView(this.req.buffer);
  private readonly rsp = new Uint8Array(RX_SLOT);
  private readonly rspView = new DataView(this.rsp.buffer);
  private readonly info = new PacketInfo();

  // guest-controlled: req_prod and the rx requests.
  /** At least one rx request is posted; if none, asks the frontend for an event when it posts one. */
  canReceive(ctx: RxContext): boolean {
    const n = ctx.ring.unconsumed();
    if (n < 0) { ctx.fatal('rx: req_prod more than a ring ahead of req_cons'); return false; }
    if (n > 0) return true;
    ctx.ring.requestEventAfterProd();
    return ctx.ring.unconsumed() > 0;
  }

  /** Requests for a `len`-byte large packet are posted (its pages and the extra-info slot); else asks for an event. */
  canReceiveGso(ctx: RxContext, len: number): boolean {
    const need = Math.ceil(len / XEN_PAGE_SIZE) + 1;
    const n = ctx.ring.unconsumed();
    if (n < 0) { ctx.fatal('rx: req_prod more than a ring ahead of req_cons'); return false; }
    if (n >= need) return true;
    ctx.ring.requestEventAfterProd();
    return ctx.ring.unconsumed() >= need;
  }

  // wire-controlled: the frame and its GSO description; guest-controlled: the rx requests.
  /** Copies one frame (or, with `gso`, one large TCP packet) into the frontend's posted buffers; false when dropped. */
  receive(ctx: RxContext, frame: Uint8Array, gso: GsoInfo | null = null): boolean {
    const c = ctx.counters;
    const ring = ctx.ring;
    const len = frame.length;
    const need = Math.max(1, Math.ceil(len / XEN_PAGE_SIZE));
    if (need > 1 && !ctx.frontendSg) { c.dropRx('tooBigWithoutSg'); return false; }
    if (gso !== null && (gso.ecn || !(gso.v6 ? ctx.frontendGso6 : ctx.frontendGso4))) { c.dropRx('gsoNotOffered'); return false; }
    const extra = gso === null ? 0 : 1;
    const avail = ring.unconsumed();
    if (avail < 0) { ctx.fatal('rx: req_prod more than a ring ahead of req_cons'); return false; }
    if (avail < need + extra) { ring.requestEventAfterProd(); c.dropRx('noBuffers'); return false; }
    // A large packet's TCP check holds the pseudo-header sum (CHECKSUM_PARTIAL): the frontend completes it per segment.
    const valid = gso === null && ctx.rxChecksum && verifyRxChecksum(frame, this.info) === RX_CSUM_VALID;
    let ok = true;
    const v = this.reqView, r = this.rspView;
    for (let i = 0; i < need; i++) {
      // The extra-info slot sits right after the first data slot, in the next request's place.
      if (i === 1 && gso !== null) this.putGsoExtra(ring, gso);
      // A request that cannot be read gets an error response like one whose grant fails.
      const readable = ring.copyRequest(i === 0 ? 0 : i + extra, this.req);
      const start = i * XEN_PAGE_SIZE;
      const chunk = frame.subarray(start, Math.min(len, start + XEN_PAGE_SIZE));
      const st = readable ? ctx.grants.copyTo(v.getUint32(RXREQ_GREF, true), 0, chunk) : -1;
      if (st !== GNTST_okay) ok = false;
      let flags = i < need - 1 ? XEN_NETRXF_more_data : 0;
      if (i === 0 && valid) flags |= XEN_NETRXF_data_validated;
      if (i === 0 && gso !== null) flags |= XEN_NETRXF_extra_info | XEN_NETRXF_csum_blank | XEN_NETRXF_data_validated;
      r.setUint16(RXRSP_ID, readable ? v.getUint16(RXREQ_ID, true) : 0, true);
      r.setUint16(RXRSP_OFFSET, 0, true);
      r.setUint16(RXRSP_FLAGS, flags, true);
      r.setInt16(RXRSP_STATUS, st === GNTST_okay ? chunk.length : st, true);
      ring.putResponse(this.rsp);
    }
    if (need === 1 && gso !== null) this.putGsoExtra(ring, gso);
    ring.reqCons = (ring.reqCons + need + extra) >>> 0;
    c.rxSlots += need + extra;
    if (gso !== null) c.rxGso++;
    ctx.cost?.charge('perRequest');
    if (ring.pushResponses()) ctx.notify();
    if (!ok) { c.dropRx('grantCopyFailed'); return false; }
    c.rxPackets++;
    c.rxBytes += len;
    if (valid) c.rxDataValidated++;
    return true;
  }

  /** struct xen_netif_extra_info {type GSO, flags 0, gso {size, type, pad, features 0}} as the next response. */
  private putGsoExtra(ring: BackRing, gso: GsoInfo): void {
    const e = this.rsp;
    e.fill(0);
    e[EXTRA_TYPE] = XEN_NETIF_EXTRA_TYPE_GSO;
    this.rspView.setUint16(EXTRA_GSO_SIZE, gso.size, true);
    e[EXTRA_GSO_TYPE] = gso.v6 ? XEN_NETIF_GSO_TYPE_TCPV6 : XEN_NETIF_GSO_TYPE_TCPV4;
    ring.putResponse(e);
  }
}
