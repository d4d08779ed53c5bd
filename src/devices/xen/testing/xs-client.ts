// The guest's xenstore client, for tests: what Linux's drivers/xen/xenbus/xenbus_comms.c and xenbus_xs.c do on the
// ring page (xs_wire.h): write a struct xsd_sockmsg and payload into req[] (waiting for space by notifying), bump
// req_prod, notify the store event channel, then read rsp[] — replies by req_id, WATCH_EVENTs into a list.
// vmio answers synchronously inside the notifying hypercall, so a reply is in the ring when send() returns.

import {
  XENSTORE_RING_SIZE, XS_DIRECTORY, XS_ERROR, XS_GET_PERMS, XS_MKDIR, XS_READ, XS_RING_REQ, XS_RING_REQ_CONS,
  XS_RING_REQ_PROD, XS_RING_RSP, XS_RING_RSP_CONS, XS_RING_RSP_PROD, XS_RM, XS_SET_PERMS, XS_TRANSACTION_END,
  XS_TRANSACTION_START, XS_UNWATCH, XS_WATCH, XS_WATCH_EVENT, XS_WRITE,
} from '../xs-wire.js';
import { bytesOf, stringsOf, textOf } from '../xs-text.js';
import type { MockGuest } from './guest.js';

export interface XsReply { type: number; reqId: number; txId: number; payload: Uint8Array }

export class XsError extends Error {
  constructor(readonly code: string) { super(`xenstore error ${code}`); }
}

export class XsClient {
  /** WATCH_EVENTs received, as [path, token]. */
  readonly events: [string, string][] = [];
  private reqId = 1;
  private readonly pending: XsReply[] = [];
  private inBuf = new Uint8Array(0);

  constructor(readonly guest: MockGuest, readonly ring: number, readonly port: number) {}

  private r32(off: number): number { return this.guest.r32(this.ring + off); }
  private w32(off: number, v: number): void { this.guest.w32(this.ring + off, v >>> 0); }

  /** Writes raw bytes into req[] (as much as fits, notifying to make room) and publishes them. */
  writeRaw(bytes: Uint8Array): void {
    let done = 0;
    for (let spins = 0; done < bytes.length; spins++) {
      if (spins > 64) throw new Error('xenstore ring stuck: vmio consumes nothing');
      const prod = this.r32(XS_RING_REQ_PROD);
      const space = XENSTORE_RING_SIZE - ((prod - this.r32(XS_RING_REQ_CONS)) >>> 0);
      const n = Math.min(space, bytes.length - done);
      for (let i = 0; i < n; i++) this.guest.w8(this.ring + XS_RING_REQ + ((prod + i) & (XENSTORE_RING_SIZE - 1)), bytes[done + i]!);
      this.w32(XS_RING_REQ_PROD, prod + n);
      done += n;
      this.guest.send(this.port);
    }
  }

  /** Reads rsp[] (as xb_read does, byte stream first, notifying after consuming) and parses complete messages. */
  drain(): void {
    for (let progress = true; progress;) {
      progress = false;
      const cons = this.r32(XS_RING_RSP_CONS);
      const avail = (this.r32(XS_RING_RSP_PROD) - cons) >>> 0;
      if (avail > 0 && avail <= XENSTORE_RING_SIZE) {
        const got = new Uint8Array(this.inBuf.length + avail);
        got.set(this.inBuf);
        for (let i = 0; i < avail; i++) got[this.inBuf.length + i] = this.guest.r8(this.ring + XS_RING_RSP + ((cons + i) & (XENSTORE_RING_SIZE - 1)));
        this.inBuf = got;
        this.w32(XS_RING_RSP_CONS, cons + avail);
        this.guest.send(this.port);
        progress = true;
      }
      while (this.inBuf.length >= 16) {
        const v = new DataView(this.inBuf.buffer, this.inBuf.byteOffset);
        const len = v.getUint32(12, true);
        if (this.inBuf.length < 16 + len) break;
        const m = { type: v.getUint32(0, true), reqId: v.getUint32(4, true), txId: v.getUint32(8, true), payload: this.inBuf.slice(16, 16 + len) };
        this.inBuf = this.inBuf.slice(16 + len);
        if (m.type === XS_WATCH_EVENT) {
          const str = stringsOf(m.payload).strings;
          this.events.push([str[0] ?? '', str[1] ?? '']);
        } else {
          this.pending.push(m);
        }
      }
    }
  }

  /** Sends one request and returns its reply (an XS_ERROR reply too). */
  request(type: number, payload: Uint8Array, txId = 0): XsReply {
    const id = this.reqId++;
    const m = new Uint8Array(16 + payload.length);
    const v = new DataView(m.buffer);
    v.setUint32(0, type, true); v.setUint32(4, id, true); v.setUint32(8, txId, true); v.setUint32(12, payload.length, true);
    m.set(payload, 16);
    this.writeRaw(m);
    this.drain();
    const i = this.pending.findIndex((r) => r.reqId === id);
    if (i < 0) throw new Error(`no xenstore reply to request ${id}`);
    return this.pending.splice(i, 1)[0]!;
  }

  private ok(type: number, text: string, txId: number): Uint8Array {
    const r = this.request(type, bytesOf(text), txId);
    if (r.type === XS_ERROR) throw new XsError(textOf(r.payload).replace(/\0$/, ''));
    return r.payload;
  }

  read(path: string, tx = 0): string { return textOf(this.ok(XS_READ, `${path}\0`, tx)); }
  write(path: string, value: string, tx = 0): void { this.ok(XS_WRITE, `${path}\0${value}`, tx); }
  mkdir(path: string, tx = 0): void { this.ok(XS_MKDIR, `${path}\0`, tx); }
  rm(path: string, tx = 0): void { this.ok(XS_RM, `${path}\0`, tx); }
  directory(path: string, tx = 0): string[] { return stringsOf(this.ok(XS_DIRECTORY, `${path}\0`, tx)).strings; }
  getPerms(path: string, tx = 0): string[] { return stringsOf(this.ok(XS_GET_PERMS, `${path}\0`, tx)).strings; }
  setPerms(path: string, perms: string[], tx = 0): void { this.ok(XS_SET_PERMS, `${path}\0${perms.join('\0')}\0`, tx); }
  watch(path: string, token: string): void { this.ok(XS_WATCH, `${path}\0${token}\0`, 0); }
  unwatch(path: string, token: string): void { this.ok(XS_UNWATCH, `${path}\0${token}\0`, 0); }
  transactionStart(): number { return Number(textOf(this.ok(XS_TRANSACTION_START, '\0', 0)).replace(/\0$/, '')); }
  transactionEnd(tx: number, commit: boolean): void { this.ok(XS_TRANSACTION_END, commit ? 'T\0' : 'F\0', tx); }

  /** The error name a request fails with, or null when it succeeds. */
  errorOf(fn: () => unknown): string | null {
    try { fn(); return null; } catch (e) { if (e instanceof XsError) return e.code; throw e; }
  }

  /** xenbus_switch_state: writes <path>/state in a transaction, retrying on EAGAIN (xenbus_client.c). */
  switchState(dir: string, state: number): void {
    for (;;) {
      const tx = this.transactionStart();
      this.write(`${dir}/state`, String(state), tx);
      if (this.errorOf(() => this.transactionEnd(tx, true)) !== 'EAGAIN') return;
    }
  }
}
