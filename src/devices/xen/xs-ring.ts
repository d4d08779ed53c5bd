// xenstored's end of a domain's xenstore ring (xs_wire.h struct xenstore_domain_interface): requests are read from
// req[] between vmio's own req_cons and the guest's req_prod, reassembled into struct xsd_sockmsg + payload, and
// handed to the Xenstore; replies and watch events are queued and copied into rsp[] as space frees up. Indices are
// free-running u32s. vmio keeps its own copies of the indices it produces or consumes and never trusts the guest's
// copy of them; a guest index more than a ring ahead, or a payload over XENSTORE_PAYLOAD_MAX, breaks the connection
// (the ring's `error` field says why), counted, never thrown. Everything goes through the domain's DmaSpace.

import { DMA_OK, type DmaSpace } from '../../memory/dma.js';
import type { XenstoreCounters } from './counters.js';
import type { Xenstore, XsSink } from './xenstore.js';
import {
  XENSTORE_CONNECTED, XENSTORE_ERROR_NONE, XENSTORE_ERROR_PROTO, XENSTORE_ERROR_RINGIDX, XENSTORE_PAYLOAD_MAX,
  XENSTORE_RING_SIZE, XENSTORE_SERVER_FEATURE_ERROR, XS_RING_CONNECTION, XS_RING_ERROR, XS_RING_REQ, XS_RING_REQ_CONS,
  XS_RING_REQ_PROD, XS_RING_RSP, XS_RING_RSP_CONS, XS_RING_RSP_PROD, XS_RING_SERVER_FEATURES, XS_WATCH_EVENT, XSD_SOCKMSG_SIZE,
} from './xs-wire.js';
import { bytesOf } from './xs-text.js';

/** Output queued for a guest that is slow to read it; past this, vmio stops reading its requests. */
export const OUTPUT_LIMIT = 64 * 1024;

const MASK = XENSTORE_RING_SIZE - 1;

export class XsRingConnection implements XsSink {
  /** The connection was abandoned (a ring index or protocol error); nothing more is read or written. */
  broken = false;
  private reqCons = 0;
  private rspProd = 0;
  private readonly hdr = new Uint8Array(XSD_SOCKMSG_SIZE);
  private readonly hdrView = new DataView(this.hdr.buffer);
  private readonly body = new Uint8Array(XENSTORE_PAYLOAD_MAX);
  private hdrHave = 0;
  private bodyLen = -1;
  private bodyHave = 0;
  private readonly out: Uint8Array[] = [];
  private outOff = 0;
  private outBytes = 0;
  private processing = false;

  constructor(
    readonly dom: number,
    private readonly mem: DmaSpace,
    /** Guest physical address of the ring page (HVM_PARAM_STORE_PFN). */
    readonly addr: number,
    private readonly store: Xenstore,
    private readonly notify: () => void,
    private readonly counters: XenstoreCounters,
  ) {}

  /** The toolstack's initialisation of the page: indices 0, connected, no error. */
  reset(): void {
    for (const off of [XS_RING_REQ_CONS, XS_RING_REQ_PROD, XS_RING_RSP_CONS, XS_RING_RSP_PROD]) this.mem.write32(this.addr + off, 0);
    this.mem.write32(this.addr + XS_RING_SERVER_FEATURES, XENSTORE_SERVER_FEATURE_ERROR);
    this.mem.write32(this.addr + XS_RING_CONNECTION, XENSTORE_CONNECTED);
    this.mem.write32(this.addr + XS_RING_ERROR, XENSTORE_ERROR_NONE);
    this.reqCons = this.rspProd = 0;
    this.hdrHave = this.bodyHave = 0;
    this.bodyLen = -1;
    this.out.length = 0;
    this.outOff = this.outBytes = 0;
    this.broken = false;
  }

  private fail(code: number): void {
    this.broken = true;
    this.counters.brokenRings++;
    this.mem.write32(this.addr + XS_RING_ERROR, code);
  }

  // guest-controlled: req_prod, rsp_cons and every byte of req[].
  /** The guest notified the store's event channel: read what it wrote, answer, and write out what fits. */
  process(): void {
    if (this.broken || this.processing) return;
    this.processing = true;
    try {
      this.work();
    } finally {
      this.processing = false;
    }
  }

  private work(): void {
    let progress = this.flush();
    while (!this.broken && this.outBytes < OUTPUT_LIMIT) {
      const prod = this.mem.read32(this.addr + XS_RING_REQ_PROD);
      if (prod < 0) { this.fail(XENSTORE_ERROR_RINGIDX); break; }
      const avail = (prod - this.reqCons) >>> 0;
      if (avail > XENSTORE_RING_SIZE) { this.fail(XENSTORE_ERROR_RINGIDX); break; }
      if (avail === 0) break;
      const n = this.take(avail);
      if (n < 0) break;
      this.reqCons = (this.reqCons + n) >>> 0;
      this.mem.write32(this.addr + XS_RING_REQ_CONS, this.reqCons);
      progress = true;
      this.flush();
    }
    if (this.flush() || progress) this.notify();
  }

  /** Consumes up to `avail` bytes into the message being assembled; returns the bytes consumed, or -1 on failure. */
  private take(avail: number): number {
    let used = 0;
    while (used < avail && !this.broken) {
      if (this.bodyLen < 0) {
        const n = Math.min(avail - used, XSD_SOCKMSG_SIZE - this.hdrHave);
        if (!this.copyIn(used, this.hdr.subarray(this.hdrHave, this.hdrHave + n))) return -1;
        this.hdrHave += n;
        used += n;
        if (this.hdrHave < XSD_SOCKMSG_SIZE) continue;
        const len = this.hdrView.getUint32(12, true);
        if (len > XENSTORE_PAYLOAD_MAX) { this.fail(XENSTORE_ERROR_PROTO); return -1; }
        this.bodyLen = len;
        this.bodyHave = 0;
      } else {
        const n = Math.min(avail - used, this.bodyLen - this.bodyHave);
        if (!this.copyIn(used, this.body.subarray(this.bodyHave, this.bodyHave + n))) return -1;
        this.bodyHave += n;
        used += n;
      }
      if (this.bodyLen >= 0 && this.bodyHave === this.bodyLen) {
        const v = this.hdrView;
        this.hdrHave = 0;
        const len = this.bodyLen;
        this.bodyLen = -1;
        this.store.request(this.dom, this, v.getUint32(0, true), v.getUint32(4, true), v.getUint32(8, true), this.body.subarray(0, len));
        // Stop after a message while output is backed up; the rest waits in the ring.
        if (this.outBytes >= OUTPUT_LIMIT) break;
      }
    }
    return used;
  }

  /** Copies req[] bytes starting `skip` bytes past reqCons into `dst` (wrapping at the end of the ring). */
  private copyIn(skip: number, dst: Uint8Array): boolean {
    let done = 0;
    while (done < dst.length) {
      const idx = (this.reqCons + skip + done) & MASK;
      const n = Math.min(dst.length - done, XENSTORE_RING_SIZE - idx);
      if (this.mem.read(this.addr + XS_RING_REQ + idx, dst.subarray(done, done + n)) !== DMA_OK) { this.fail(XENSTORE_ERROR_RINGIDX); return false; }
      done += n;
    }
    return true;
  }

  reply(type: number, reqId: number, txId: number, payload: Uint8Array): void { this.queue(type, reqId, txId, payload); }

  event(path: string, token: string): boolean {
    if (this.broken || this.outBytes >= OUTPUT_LIMIT) return false;
    this.queue(XS_WATCH_EVENT, 0, 0, bytesOf(`${path}\0${token}\0`));
    // An event caused by another domain's request goes out now; during our own, process() writes it after the reply.
    if (!this.processing && this.flush()) this.notify();
    return true;
  }

  private queue(type: number, reqId: number, txId: number, payload: Uint8Array): void {
    const m = new Uint8Array(XSD_SOCKMSG_SIZE + payload.length);
    const v = new DataView(m.buffer);
    v.setUint32(0, type, true); v.setUint32(4, reqId, true); v.setUint32(8, txId, true); v.setUint32(12, payload.length, true);
    m.set(payload, XSD_SOCKMSG_SIZE);
    this.out.push(m);
    this.outBytes += m.length;
  }

  /** Writes queued output into rsp[] as far as the guest's rsp_cons allows; true when anything was written. */
  private flush(): boolean {
    if (this.broken || this.outBytes === 0) return false;
    const cons = this.mem.read32(this.addr + XS_RING_RSP_CONS);
    const inUse = (this.rspProd - cons) >>> 0;
    if (cons < 0 || inUse > XENSTORE_RING_SIZE) { this.fail(XENSTORE_ERROR_RINGIDX); return false; }
    let space = XENSTORE_RING_SIZE - inUse;
    let wrote = false;
    while (space > 0 && this.out.length > 0) {
      const m = this.out[0]!;
      const idx = this.rspProd & MASK;
      const n = Math.min(space, m.length - this.outOff, XENSTORE_RING_SIZE - idx);
      this.mem.write(this.addr + XS_RING_RSP + idx, m.subarray(this.outOff, this.outOff + n));
      this.rspProd = (this.rspProd + n) >>> 0;
      this.outOff += n;
      this.outBytes -= n;
      space -= n;
      wrote = true;
      if (this.outOff === m.length) { this.out.shift(); this.outOff = 0; }
    }
    if (wrote) this.mem.write32(this.addr + XS_RING_RSP_PROD, this.rspProd);
    return wrote;
  }
}
