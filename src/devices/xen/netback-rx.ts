// netback's receive path (frames for the frontend): drivers/net/xen-netback/rx.c over io/netif.h. The frontend posts
// rx requests {id, gref} naming writable granted pages; a frame is grant-copied into as many of them as it needs
// (one page each, data at offset 0, XEN_NETRXF_more_data on all but the last — only if the frontend offered
// feature-sg), and each request gets its response {id, offset, flags, status = bytes or a negative error} in its
// own slot. A frame whose TCP/UDP checksum verifies is marked XEN_NETRXF_data_validated. With too few requests
// posted, netback asks for an event when more arrive (req_event) and the frame is dropped.

import { XEN_PAGE_SIZE, GNTST_okay } from './abi.js';
import type { CostCharger, NetbackCounters } from './counters.js';
import type { GrantTable } from './grant-table.js';
import {
  RX_SLOT, RXREQ_GREF, RXREQ_ID, RXRSP_FLAGS, RXRSP_ID, RXRSP_OFFSET, RXRSP_STATUS, XEN_NETRXF_data_validated,
  XEN_NETRXF_more_data,
} from './netif-abi.js';
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

  // wire-controlled: the frame; guest-controlled: the rx requests.
  /** Copies one frame into the frontend's posted buffers; false when it was dropped. */
  receive(ctx: RxContext, frame: Uint8Array): boolean {
    const c = ctx.counters;
    const ring = ctx.ring;
    const len = frame.length;
    const need = Math.max(1, Math.ceil(len / XEN_PAGE_SIZE));
    if (need > 1 && !ctx.frontendSg) { c.dropRx('tooBigWithoutSg'); return false; }
    const avail = ring.unconsumed();
    if (avail < 0) { ctx.fatal('rx: req_prod more than a ring ahead of req_cons'); return false; }
    if (avail < need) { ring.requestEventAfterProd(); c.dropRx('noBuffers'); return false; }
    const valid = ctx.rxChecksum && verifyRxChecksum(frame, this.info) === RX_CSUM_VALID;
    let ok = true;
    const v = this.reqView, r = this.rspView;
    for (let i = 0; i < need; i++) {
      // A request that cannot be read gets an error response like one whose grant fails.
      const readable = ring.copyRequest(i, this.req);
      const start = i * XEN_PAGE_SIZE;
      const chunk = frame.subarray(start, Math.min(len, start + XEN_PAGE_SIZE));
      const st = readable ? ctx.grants.copyTo(v.getUint32(RXREQ_GREF, true), 0, chunk) : -1;
      if (st !== GNTST_okay) ok = false;
      let flags = i < need - 1 ? XEN_NETRXF_more_data : 0;
      if (i === 0 && valid) flags |= XEN_NETRXF_data_validated;
      r.setUint16(RXRSP_ID, readable ? v.getUint16(RXREQ_ID, true) : 0, true);
      r.setUint16(RXRSP_OFFSET, 0, true);
      r.setUint16(RXRSP_FLAGS, flags, true);
      r.setInt16(RXRSP_STATUS, st === GNTST_okay ? chunk.length : st, true);
      ring.putResponse(this.rsp);
    }
    ring.reqCons = (ring.reqCons + need) >>> 0;
    c.rxSlots += need;
    ctx.cost?.charge('perRequest');
    if (ring.pushResponses()) ctx.notify();
    if (!ok) { c.dropRx('grantCopyFailed'); return false; }
    c.rxPackets++;
    c.rxBytes += len;
    if (valid) c.rxDataValidated++;
    return true;
  }
}
