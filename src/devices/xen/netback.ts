// netback in vmio: one Xen vif, the backend of Linux's xen-netfront (drivers/net/xen-netback/xenbus.c for the
// xenbus side). The toolstack's xenstore nodes come first (libxl's layout: device/vif/N in the guest's home,
// backend/vif/DOMID/N in vmio's), then netback's probe: its feature-* keys and state InitWait. It follows the
// frontend's state: at Connected it reads tx-ring-ref, rx-ring-ref and event-channel (or -tx/-rx), maps the two
// rings through the guest's grant table, binds the event channel and goes Connected; Closing/Closed tear that down.
// A protocol violation is xenbus_dev_fatal: an error node, state Closing, the rings dropped. Frames leave through a
// NicPort (send) and arrive through NicReceiver (canReceive/receive); the data paths are netback-tx.ts/-rx.ts.

import { ETH_ALEN, formatMac, parseMac } from '../../backends/net/ethernet.js';
import type { NicReceiver } from '../../backends/net/port.js';
import type { GsoInfo } from '../../backends/net/gso.js';
import { DOMID_VMIO } from './abi.js';
import { NetbackCounters } from './counters.js';
import type { XenGuest, XenHost } from './host.js';
import { NetbackRx, type RxContext } from './netback-rx.js';
import { NetbackTx, type TxContext } from './netback-tx.js';
import { NET_RX_RING_SIZE, NET_TX_RING_SIZE, RX_SLOT, TX_SLOT } from './netif-abi.js';
import { BackRing } from './netif-ring.js';
import {
  XenbusStateClosed, XenbusStateClosing, XenbusStateConnected, XenbusStateInitialising, XenbusStateInitWait,
  XenbusStateUnknown, XS_PERM_NONE, XS_PERM_READ,
} from './xs-wire.js';

/** Where transmitted frames go: a NicPort. */
export interface NetTransmitPort {
  send(frame: Uint8Array, gso?: GsoInfo | null): void;
  readonly linkUp: boolean;
  /** The port carries large TCP packets whole (NicPort: a switch port). */
  readonly acceptsGso?: boolean;
}

export interface VifOptions {
  /** The vif's index N (device/vif/N); default 0. */
  readonly devid?: number;
  /** The guest's MAC; default 00:16:3e:00:<domid>:<devid> (Xen's OUI). */
  readonly mac?: string | Uint8Array;
  /** Offer scatter-gather and TCP segmentation to the frontend (default true). */
  readonly sg?: boolean;
  readonly gso?: boolean;
  /** Verify received checksums and mark good frames data_validated (default true). */
  readonly rxChecksum?: boolean;
}

interface Connection {
  readonly tx: TxContext & { ring: BackRing };
  readonly rx: RxContext & { ring: BackRing };
  readonly maps: number[];
  readonly ports: number[];
}

/** A decimal u32 as xenbus_scanf("%u") would accept it from a well-behaved peer; null otherwise. */
function readU32(v: string | null): number | null {
  if (v === null || !/^\d{1,10}$/.test(v)) return null;
  const n = Number(v);
  return n <= 0xffff_ffff ? n : null;
}

export class Netback implements NicReceiver {
  readonly counters = new NetbackCounters();
  readonly devid: number;
  readonly mac: Uint8Array;
  readonly frontendPath: string;
  readonly backendPath: string;
  private state = XenbusStateInitialising;
  private frontendState = -1;
  private port: NetTransmitPort | null = null;
  private conn: Connection | null = null;
  private readonly txPath = new NetbackTx();
  private readonly rxPath = new NetbackRx();
  private readonly unwatch: () => void;
  private readonly sg: boolean;
  private readonly gso: boolean;
  private readonly rxChecksum: boolean;

  constructor(private readonly host: XenHost, private readonly guest: XenGuest, opts: VifOptions = {}) {
    const dom = guest.id;
    this.devid = opts.devid ?? 0;
    if (!Number.isInteger(this.devid) || this.devid < 0 || this.devid > 0xffff) throw new RangeError(`vif index ${this.devid}: use 0..65535`);
    const mac = typeof opts.mac === 'string' ? parseMac(opts.mac) : (opts.mac ?? Uint8Array.of(0x00, 0x16, 0x3e, 0, dom & 0xff, this.devid & 0xff));
    if (mac === null || mac.length !== ETH_ALEN || (mac[0]! & 1) !== 0) throw new RangeError(`vif MAC ${String(opts.mac)}: give a unicast address like 00:16:3e:00:01:00`);
    this.mac = Uint8Array.from(mac);
    this.sg = opts.sg ?? true;
    this.gso = (opts.gso ?? true) && this.sg;
    this.rxChecksum = opts.rxChecksum ?? true;
    this.frontendPath = `/local/domain/${dom}/device/vif/${this.devid}`;
    this.backendPath = `/local/domain/${DOMID_VMIO}/backend/vif/${dom}/${this.devid}`;
    const xs = host.xenstore;
    if (xs.read(`${this.backendPath}/state`) !== null) throw new RangeError(`vif ${this.devid} of domain ${dom} already exists`);
    // The toolstack's nodes (libxl__device_generic_add): each side owns its directory and may read the other's.
    const f = this.frontendPath, b = this.backendPath, m = formatMac(this.mac);
    // The directories get their permissions first: the keys written into them inherit them.
    xs.mkdir(f);
    xs.setPerms(f, [{ id: dom, perm: XS_PERM_NONE }, { id: DOMID_VMIO, perm: XS_PERM_READ }]);
    for (const [k, v] of [['backend', b], ['backend-id', String(DOMID_VMIO)], ['state', '1'], ['handle', String(this.devid)], ['mac', m]]) xs.write(`${f}/${k}`, v!);
    xs.mkdir(b);
    xs.setPerms(b, [{ id: DOMID_VMIO, perm: XS_PERM_NONE }, { id: dom, perm: XS_PERM_READ }]);
    for (const [k, v] of [['frontend', f], ['frontend-id', String(dom)], ['online', '1'], ['state', '1'], ['handle', String(this.devid)], ['mac', m]]) xs.write(`${b}/${k}`, v!);
    // netback_probe: what this backend offers, then InitWait.
    const flag = (on: boolean) => (on ? '1' : '0');
    for (const [k, v] of [['feature-sg', flag(this.sg)], ['feature-gso-tcpv4', flag(this.gso)], ['feature-gso-tcpv6', flag(this.gso)],
      ['feature-ipv6-csum-offload', '1'], ['feature-rx-copy', '1'], ['feature-rx-flip', '0'], ['feature-split-event-channels', '1']]) {
      xs.write(`${b}/${k}`, v!);
    }
    this.switchState(XenbusStateInitWait);
    this.unwatch = xs.watch(`${f}/state`, () => this.frontendChanged());
  }

  /** The backend's xenbus state. */
  get backendState(): number { return this.state; }
  get connected(): boolean { return this.conn !== null; }

  /** Where transmitted frames go (a NicPort, whose NicReceiver this netback is). */
  attach(port: NetTransmitPort): void { this.port = port; }

  private switchState(s: number): void {
    if (this.state === s) return;
    this.state = s;
    this.host.xenstore.write(`${this.backendPath}/state`, String(s));
  }

  // guest-controlled: the frontend's state node.
  private frontendChanged(): void {
    const s = readU32(this.host.xenstore.read(`${this.frontendPath}/state`)) ?? XenbusStateUnknown;
    if (s === this.frontendState) return;
    this.frontendState = s;
    switch (s) {
      case XenbusStateInitialising:
        this.disconnect();
        this.switchState(XenbusStateInitWait);
        break;
      case XenbusStateConnected:
        if (this.state === XenbusStateInitWait) this.connect();
        break;
      case XenbusStateClosing:
        this.disconnect();
        this.switchState(XenbusStateClosing);
        break;
      case XenbusStateClosed: case XenbusStateUnknown:
        this.disconnect();
        this.switchState(XenbusStateClosed);
        break;
      default: // Initialised, Reconfiguring...: nothing to do for a single-queue vif without XDP
    }
  }

  // guest-controlled: every key the frontend wrote.
  private connect(): void {
    const xs = this.host.xenstore;
    const f = (k: string) => xs.read(`${this.frontendPath}/${k}`);
    if (readU32(f('request-rx-copy')) !== 1) return this.fatal('frontend does not request rx-copy');
    const queues = f('multi-queue-num-queues');
    if (queues !== null && readU32(queues) !== 1) return this.fatal('multi-queue not offered');
    const txRef = readU32(f('tx-ring-ref'));
    const rxRef = readU32(f('rx-ring-ref'));
    if (txRef === null || rxRef === null) return this.fatal('reading tx-ring-ref/rx-ring-ref');
    const split = [readU32(f('event-channel-tx')), readU32(f('event-channel-rx'))];
    const evtchns = split[0] !== null && split[1] !== null ? split as number[] : [readU32(f('event-channel'))];
    if (evtchns[0] === null || evtchns[0] === undefined) return this.fatal('reading event-channel');
    const grants = this.guest.grants;
    const maps = [grants.map(txRef, false), grants.map(rxRef, false)];
    if (maps[0]! < 0 || maps[1]! < 0) {
      for (const h of maps) if (h > 0) grants.unmap(h);
      return this.fatal('mapping the rings');
    }
    const mem = this.guest.domain.mem;
    const txRing = new BackRing(mem, grants.mapping(maps[0]!)!.addr, NET_TX_RING_SIZE, TX_SLOT, this.counters.txRing);
    const rxRing = new BackRing(mem, grants.mapping(maps[1]!)!.addr, NET_RX_RING_SIZE, RX_SLOT, this.counters.rxRing);
    const ports: number[] = [];
    const common = { grants, counters: this.counters, cost: this.host.cost, fatal: (r: string) => this.fatal(r) };
    const conn: Connection = {
      tx: { ...common, ring: txRing, sg: this.sg, gso: this.gso, send: (fr) => this.send(fr), sendWhole: () => (this.port?.acceptsGso === true ? this.sendGso : null) },
      rx: {
        ...common, ring: rxRing, frontendSg: readU32(f('feature-sg')) === 1, rxChecksum: this.rxChecksum,
        frontendGso4: readU32(f('feature-gso-tcpv4')) === 1, frontendGso6: readU32(f('feature-gso-tcpv6')) === 1,
        notify: () => this.host.evtchn.send(DOMID_VMIO, ports[ports.length - 1]!),
      },
      maps, ports,
    };
    this.conn = conn;
    for (const [i, p] of evtchns.entries()) {
      const local = this.host.evtchn.bindInterdomain(DOMID_VMIO, this.guest.id, p!, i === 0 ? () => this.kick(conn) : () => { this.counters.kicks++; });
      if (local < 0) return this.fatal('binding the event channel');
      // Binding marks the port pending, so the first kick has already run: it may have found a broken ring.
      if (this.conn !== conn) { this.host.evtchn.close(DOMID_VMIO, local); return; }
      ports.push(local);
    }
    // Requests answered by the kicks during binding could not notify yet (no port): notify now.
    if (conn.tx.ring.rspProdPvt !== 0) this.host.evtchn.send(DOMID_VMIO, ports[0]!);
    this.switchState(XenbusStateConnected);
  }

  /** The frontend notified: transmit what it queued (answering with a notification if rsp_event asks for one). */
  private kick(conn: Connection): void {
    this.counters.kicks++;
    if (this.conn !== conn) return;
    if (this.txPath.process(conn.tx) && this.conn === conn) this.host.evtchn.send(DOMID_VMIO, conn.ports[0]!);
  }

  private send(frame: Uint8Array): void {
    if (this.port === null) { this.counters.dropTx('noPort'); return; }
    this.port.send(frame);
  }

  private readonly sendGso = (frame: Uint8Array, gso: GsoInfo): void => { this.port?.send(frame, gso); };

  private disconnect(): void {
    const c = this.conn;
    if (c === null) return;
    this.conn = null;
    for (const p of c.ports) this.host.evtchn.close(DOMID_VMIO, p);
    for (const h of c.maps) this.guest.grants.unmap(h);
  }

  /** xenbus_dev_fatal: record why, go Closing, drop the connection. Counted, never thrown. */
  private fatal(reason: string): void {
    this.counters.fatal[reason] = (this.counters.fatal[reason] ?? 0) + 1;
    this.disconnect();
    this.host.xenstore.write(`/local/domain/${DOMID_VMIO}/error${this.backendPath.slice(`/local/domain/${DOMID_VMIO}`.length)}/error`, reason);
    this.switchState(XenbusStateClosing);
  }

  // NicReceiver: frames from the port.

  canReceive(): boolean { return this.conn !== null && this.rxPath.canReceive(this.conn.rx); }

  receive(frame: Uint8Array): boolean { return this.conn !== null && this.rxPath.receive(this.conn.rx, frame); }

  /** A large TCP packet may come whole when the frontend offered feature-gso-tcpv4/6 (and feature-sg); not ECN. */
  acceptsGso(gso: GsoInfo): boolean {
    const rx = this.conn?.rx;
    return rx !== undefined && rx.frontendSg && !gso.ecn && (gso.v6 ? rx.frontendGso6 : rx.frontendGso4);
  }

  canReceiveGso(len: number): boolean { return this.conn !== null && this.rxPath.canReceiveGso(this.conn.rx, len); }

  receiveGso(frame: Uint8Array, gso: GsoInfo): boolean { return this.conn !== null && this.rxPath.receive(this.conn.rx, frame, gso); }

  /** Unplugs the vif: the connection, the watch and the toolstack's nodes go. */
  close(): void {
    this.unwatch();
    this.disconnect();
    this.host.xenstore.rm(this.backendPath);
    this.host.xenstore.rm(this.frontendPath);
  }
}
