// A mock xen-netfront for tests (drivers/net/xen-netfront.c, single queue): it does what netfront does in guest RAM
// through the mock guest (shared_info, grant frames and the xenstore client are the guest's): SHARED_RING_INIT on two
// granted ring pages, an unbound event channel to the backend, the keys talk_to_netback writes in a transaction,
// state Connected; rx buffers granted writable, tx data granted read-only; requests pushed with the req_event rule
// (RING_PUSH_REQUESTS_AND_CHECK_NOTIFY), responses consumed with RING_FINAL_CHECK_FOR_RESPONSES. It can also write
// anything into the rings, for hostile tests.

import { XEN_PAGE_SIZE } from '../abi.js';
import {
  EXTRA_FLAGS, EXTRA_GSO_SIZE, EXTRA_GSO_TYPE, EXTRA_TYPE, RX_SLOT, RXREQ_GREF, RXREQ_ID, RXRSP_FLAGS, RXRSP_ID,
  RXRSP_OFFSET, RXRSP_STATUS, SRING_ENTRIES, SRING_REQ_EVENT, SRING_REQ_PROD, SRING_RSP_EVENT, SRING_RSP_PROD, TX_SLOT,
  TXREQ_FLAGS, TXREQ_GREF, TXREQ_ID, TXREQ_OFFSET, TXREQ_SIZE, TXRSP_ID, TXRSP_STATUS, XEN_NETIF_EXTRA_TYPE_GSO,
  XEN_NETRXF_more_data, XEN_NETTXF_extra_info, XEN_NETTXF_more_data, XEN_NETRXF_extra_info,
} from '../netif-abi.js';
import { XenbusStateConnected, XenbusStateInitWait } from '../xs-wire.js';
import type { MockGuest } from './guest.js';
import type { XsClient } from './xs-client.js';

const RING_SIZE = 256;

export interface TxOptions {
  /** netif flags for the first request (csum_blank, data_validated). */
  flags?: number;
  /** A GSO extra: XEN_NETIF_GSO_TYPE_* and the segment size. */
  gso?: { type: number; size: number };
  /** Bytes per slot (default: the whole frame in one slot, or page-sized pieces). */
  slots?: number[];
  /** Offset of the data in the first slot's page. */
  offset?: number;
}

/** A received packet; `gso` from its GSO extra-info slot (XEN_NETRXF_extra_info), as netfront's xennet_get_extras reads it. */
export interface RxPacket { frame: Uint8Array; flags: number; statuses: number[]; gso?: { size: number; type: number } }

/** One shared ring as the front end sees it. */
export class FrontRing {
  reqProdPvt = 0;
  rspCons = 0;
  notified = 0;
  suppressed = 0;
  constructor(readonly guest: MockGuest, readonly page: number, readonly slot: number) {
    guest.w32(page + SRING_REQ_PROD, 0); guest.w32(page + SRING_RSP_PROD, 0);
    guest.w32(page + SRING_REQ_EVENT, 1); guest.w32(page + SRING_RSP_EVENT, 1);
  }
  slotAddr(idx: number): number { return this.page + SRING_ENTRIES + (idx & (RING_SIZE - 1)) * this.slot; }
  /** RING_PUSH_REQUESTS_AND_CHECK_NOTIFY. */
  push(): boolean {
    const old = this.guest.r32(this.page + SRING_REQ_PROD);
    const now = this.reqProdPvt >>> 0;
    this.guest.w32(this.page + SRING_REQ_PROD, now);
    const notify = ((now - this.guest.r32(this.page + SRING_REQ_EVENT)) >>> 0) < ((now - old) >>> 0);
    if (notify) this.notified++; else this.suppressed++;
    return notify;
  }
  rspProd(): number { return this.guest.r32(this.page + SRING_RSP_PROD); }
  /** RING_FINAL_CHECK_FOR_RESPONSES' event update: notify me on the next response. */
  armResponses(): void { this.guest.w32(this.page + SRING_RSP_EVENT, this.rspCons + 1); }
}

export class MockNetfront {
  readonly nodename: string;
  backend = '';
  backendId = 0;
  tx!: FrontRing;
  rx!: FrontRing;
  txRef = 0;
  rxRef = 0;
  port = 0;
  private nextRef = 8; // GNTTAB_NR_RESERVED_ENTRIES
  private readonly freeRefs: number[] = [];
  private readonly pages: number[] = [];
  private readonly rxPosted = new Map<number, { ref: number; page: number }>();
  private readonly txInFlight = new Map<number, { ref: number; page: number }[]>();
  private nextRxId = 0;
  /** The id posted at each rx ring index: an extra-info response overwrites its request, so it is found by place. */
  private readonly rxIdAt = new Map<number, number>();
  private nextTxId = 0;

  constructor(readonly guest: MockGuest, readonly xs: XsClient, devid = 0) {
    this.nodename = `device/vif/${devid}`;
  }

  private page(): number { return this.pages.pop() ?? this.guest.allocPage(); }
  private ref(): number { return this.freeRefs.pop() ?? this.nextRef++; }
  private release(g: { ref: number; page: number }): void { this.freeRefs.push(g.ref); this.pages.push(g.page); }

  /** netfront_probe + talk_to_netback + connect: returns once both ends are Connected. */
  connect(opts: { rxBuffers?: number; keys?: Record<string, string | null> } = {}): void {
    const xs = this.xs;
    this.backend = xs.read(`${this.nodename}/backend`);
    this.backendId = Number(xs.read(`${this.nodename}/backend-id`));
    if (xs.read(`${this.backend}/state`) !== String(XenbusStateInitWait)) throw new Error('backend is not in InitWait');
    if (xs.read(`${this.backend}/feature-rx-copy`) !== '1') throw new Error('backend lacks feature-rx-copy');
    this.tx = new FrontRing(this.guest, this.guest.allocPage(), TX_SLOT);
    this.rx = new FrontRing(this.guest, this.guest.allocPage(), RX_SLOT);
    this.txRef = this.ref(); this.rxRef = this.ref();
    this.guest.grantAccess(this.txRef, this.backendId, this.tx.page, false);
    this.guest.grantAccess(this.rxRef, this.backendId, this.rx.page, false);
    this.port = this.guest.allocUnbound(this.backendId);
    const keys: Record<string, string | null> = {
      'tx-ring-ref': String(this.txRef), 'rx-ring-ref': String(this.rxRef), 'event-channel': String(this.port),
      'request-rx-copy': '1', 'feature-rx-notify': '1', 'feature-sg': '1', 'feature-gso-tcpv4': '1', 'feature-gso-tcpv6': '1',
      'feature-ipv6-csum-offload': '1', ...opts.keys,
    };
    for (;;) {
      const t = xs.transactionStart();
      for (const [k, v] of Object.entries(keys)) if (v !== null) xs.write(`${this.nodename}/${k}`, v, t);
      if (xs.errorOf(() => xs.transactionEnd(t, true)) !== 'EAGAIN') break;
    }
    xs.switchState(this.nodename, XenbusStateConnected);
    this.postRx(opts.rxBuffers ?? 64);
  }

  backendState(): number { return Number(this.xs.read(`${this.backend}/state`)); }
  notify(): number { return this.guest.send(this.port); }

  // Receive buffers.

  /** Grants `n` pages writable to the backend and posts them as rx requests. */
  postRx(n: number): void {
    for (let i = 0; i < n; i++) {
      const id = this.nextRxId++ & 0xffff;
      const page = this.page();
      const ref = this.ref();
      this.guest.grantAccess(ref, this.backendId, page, false);
      this.rxPosted.set(id, { ref, page });
      this.rxIdAt.set(this.rx.reqProdPvt, id);
      const a = this.rx.slotAddr(this.rx.reqProdPvt++);
      this.guest.w16(a + RXREQ_ID, id); this.guest.w16(a + 2, 0); this.guest.w32(a + RXREQ_GREF, ref);
    }
    if (this.rx.push()) this.notify();
  }

  /** Reads rx responses into packets (more_data chains); buffers are revoked and recycled. */
  collectRx(): RxPacket[] {
    const out: RxPacket[] = [];
    let cur: { parts: Uint8Array[]; flags: number; statuses: number[]; gso?: { size: number; type: number } } | null = null;
    let extraNext = false;
    let last: { gso?: { size: number; type: number } } | null = null;
    while (this.rx.rspCons !== this.rx.rspProd()) {
      const idx = this.rx.rspCons;
      const a = this.rx.slotAddr(this.rx.rspCons++);
      if (extraNext) {
        // struct xen_netif_extra_info: the request's buffer is unused and goes back (xennet_move_rx_slot).
        extraNext = false;
        const target = cur ?? last;
        if (target !== null && this.guest.r8(a) === 1) target.gso = { size: this.guest.r16(a + 2), type: this.guest.r8(a + 4) };
        const xid = this.rxIdAt.get(idx);
        const xbuf = xid === undefined ? undefined : this.rxPosted.get(xid);
        if (xid === undefined || xbuf === undefined) throw new Error(`extra-info slot ${idx} has no posted request`);
        this.rxPosted.delete(xid);
        if (!this.guest.endForeignAccess(xbuf.ref)) throw new Error(`rx grant ${xbuf.ref} still in use`);
        this.release(xbuf);
        continue;
      }
      const id = this.guest.r16(a + RXRSP_ID), off = this.guest.r16(a + RXRSP_OFFSET), flags = this.guest.r16(a + RXRSP_FLAGS);
      const status = (this.guest.r16(a + RXRSP_STATUS) << 16) >> 16;
      const buf = this.rxPosted.get(id);
      if (buf === undefined) throw new Error(`rx response for id ${id}, which was never posted`);
      this.rxPosted.delete(id);
      if (cur === null && (flags & XEN_NETRXF_extra_info) !== 0) extraNext = true;
      cur ??= { parts: [], flags, statuses: [] };
      cur.statuses.push(status);
      if (status > 0) cur.parts.push(this.guest.ram.slice(buf.page + off, status));
      if (!this.guest.endForeignAccess(buf.ref)) throw new Error(`rx grant ${buf.ref} still in use`);
      this.release(buf);
      if ((flags & XEN_NETRXF_more_data) === 0) {
        const len = cur.parts.reduce((s, p) => s + p.length, 0);
        const frame = new Uint8Array(len);
        let at = 0;
        for (const p of cur.parts) { frame.set(p, at); at += p.length; }
        const pkt: RxPacket = { frame, flags: cur.flags, statuses: cur.statuses, ...(cur.gso === undefined ? {} : { gso: cur.gso }) };
        out.push(pkt);
        last = pkt;
        cur = null;
      }
    }
    this.rx.armResponses();
    return out;
  }

  // Transmit.

  /** Queues one packet (data granted read-only) and pushes it; returns the ids of its data slots. */
  transmit(frame: Uint8Array, o: TxOptions = {}, push = true): number[] {
    const sizes = o.slots ?? this.pageSlices(frame.length, o.offset ?? 0);
    const ids: number[] = [];
    const grants: { ref: number; page: number }[] = [];
    let pos = 0;
    for (let i = 0; i < sizes.length; i++) {
      const len = sizes[i]!;
      const page = this.page();
      const ref = this.ref();
      const off = i === 0 ? (o.offset ?? 0) : 0;
      this.guest.ram.load(page + off, frame.subarray(pos, pos + len));
      this.guest.grantAccess(ref, this.backendId, page, true);
      grants.push({ ref, page });
      const id = this.nextTxId++ & 0xffff;
      ids.push(id);
      const more = i < sizes.length - 1 ? XEN_NETTXF_more_data : 0;
      const flags = i === 0 ? (o.flags ?? 0) | more | (o.gso ? XEN_NETTXF_extra_info : 0) : more;
      this.txRequest(this.tx.reqProdPvt++, ref, off, flags, id, i === 0 ? frame.length : len);
      if (i === 0 && o.gso) {
        const e = this.tx.slotAddr(this.tx.reqProdPvt++);
        for (let b = 0; b < TX_SLOT; b++) this.guest.w8(e + b, 0);
        this.guest.w8(e + EXTRA_TYPE, XEN_NETIF_EXTRA_TYPE_GSO); this.guest.w8(e + EXTRA_FLAGS, 0);
        this.guest.w16(e + EXTRA_GSO_SIZE, o.gso.size); this.guest.w8(e + EXTRA_GSO_TYPE, o.gso.type);
      }
      pos += len;
    }
    this.txInFlight.set(ids[0]!, grants);
    if (push && this.tx.push()) this.notify();
    return ids;
  }

  private pageSlices(len: number, offset: number): number[] {
    const out = [Math.min(len, XEN_PAGE_SIZE - offset)];
    for (let done = out[0]!; done < len; done += XEN_PAGE_SIZE) out.push(Math.min(XEN_PAGE_SIZE, len - done));
    return out;
  }

  /** Writes a raw tx request at ring index `idx`. */
  txRequest(idx: number, gref: number, offset: number, flags: number, id: number, size: number): void {
    const a = this.tx.slotAddr(idx);
    this.guest.w32(a + TXREQ_GREF, gref); this.guest.w16(a + TXREQ_OFFSET, offset); this.guest.w16(a + TXREQ_FLAGS, flags);
    this.guest.w16(a + TXREQ_ID, id); this.guest.w16(a + TXREQ_SIZE, size);
  }

  /** Reads tx responses ({id, status}, RSP_NULL ones included) and revokes the finished packets' grants. */
  collectTx(): { id: number; status: number }[] {
    const out: { id: number; status: number }[] = [];
    while (this.tx.rspCons !== this.tx.rspProd()) {
      const a = this.tx.slotAddr(this.tx.rspCons++);
      const r = { id: this.guest.r16(a + TXRSP_ID), status: (this.guest.r16(a + TXRSP_STATUS) << 16) >> 16 };
      out.push(r);
      const grants = this.txInFlight.get(r.id);
      if (grants !== undefined && r.status !== 1) {
        this.txInFlight.delete(r.id);
        for (const g of grants) {
          if (!this.guest.endForeignAccess(g.ref)) throw new Error(`tx grant ${g.ref} still in use`);
          this.release(g);
        }
      }
    }
    this.tx.armResponses();
    return out;
  }
}
