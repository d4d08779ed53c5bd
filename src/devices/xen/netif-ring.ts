// The back end of a Xen shared ring (io/ring.h: BACK_RING_ATTACH, RING_COPY_REQUEST, RING_PUSH_RESPONSES_AND_CHECK_NOTIFY,
// RING_FINAL_CHECK_FOR_REQUESTS), over the granted ring page through the frontend's DmaSpace. vmio keeps req_cons,
// rsp_prod_pvt and the last rsp_prod it published to itself: the guest can scribble over the shared page but only
// req_prod, req_event's reader side and rsp_event are ever read back from it. A req_prod more than a ring ahead of
// req_cons is reported (-1), never followed.

import { DMA_OK, type DmaSpace } from '../../memory/dma.js';
import { SRING_ENTRIES, SRING_REQ_EVENT, SRING_REQ_PROD, SRING_RSP_EVENT, SRING_RSP_PROD } from './netif-abi.js';

/** Pushes of responses that notified the frontend, and those its rsp_event let vmio skip. */
export interface RingNotifyCounts {
  notified: number;
  suppressed: number;
}

export class BackRing {
  reqCons = 0;
  rspProdPvt = 0;
  private pushed = 0;

  constructor(
    private readonly mem: DmaSpace,
    readonly addr: number,
    readonly size: number,
    readonly slot: number,
    private readonly counts: RingNotifyCounts = { notified: 0, suppressed: 0 },
  ) {}

  private reqProd(): number {
    const p = this.mem.read32(this.addr + SRING_REQ_PROD);
    return p < 0 ? this.reqCons : p;
  }

  // guest-controlled: req_prod.
  /**
   * Requests published and not yet consumed, bounded by the free response slots (XEN_RING_NR_UNCONSUMED_REQUESTS), or
   * -1 when req_prod is more than a ring ahead of req_cons (a broken or hostile frontend).
   */
  unconsumed(): number {
    const req = (this.reqProd() - this.reqCons) >>> 0;
    if (req > this.size) return -1;
    const rsp = this.size - ((this.reqCons - this.rspProdPvt) >>> 0);
    return Math.min(req, rsp);
  }

  /** Guest physical address of slot `idx` (free-running index). */
  slotAddr(idx: number): number { return this.addr + SRING_ENTRIES + (idx & (this.size - 1)) * this.slot; }

  /** RING_COPY_REQUEST: the request at req_cons + `ahead` into `dst` (one read; the guest cannot change it after). */
  copyRequest(ahead: number, dst: Uint8Array): boolean {
    return this.mem.read(this.slotAddr(this.reqCons + ahead), dst) === DMA_OK;
  }

  /** Writes a response at rsp_prod_pvt and advances it. */
  putResponse(src: Uint8Array): void {
    this.mem.write(this.slotAddr(this.rspProdPvt), src);
    this.rspProdPvt = (this.rspProdPvt + 1) >>> 0;
  }

  // guest-controlled: rsp_event.
  /** RING_PUSH_RESPONSES_AND_CHECK_NOTIFY: publishes rsp_prod; true when rsp_event asks for a notification. */
  pushResponses(): boolean {
    const old = this.pushed;
    const now = this.rspProdPvt;
    if (old === now) return false;
    this.mem.write32(this.addr + SRING_RSP_PROD, now);
    this.pushed = now;
    const ev = this.mem.read32(this.addr + SRING_RSP_EVENT);
    const notify = ev >= 0 && ((now - ev) >>> 0) < ((now - old) >>> 0);
    if (notify) this.counts.notified++; else this.counts.suppressed++;
    return notify;
  }

  /** RING_FINAL_CHECK_FOR_REQUESTS: with nothing left, ask for a notification on the next request and look again. */
  finalCheckForRequests(): number {
    const n = this.unconsumed();
    if (n !== 0) return n;
    this.mem.write32(this.addr + SRING_REQ_EVENT, (this.reqCons + 1) >>> 0);
    return this.unconsumed();
  }

  /** Asks for a notification once req_prod passes its current value (netback's rx "slots available" wait). */
  requestEventAfterProd(): void {
    this.mem.write32(this.addr + SRING_REQ_EVENT, (this.reqProd() + 1) >>> 0);
  }
}
