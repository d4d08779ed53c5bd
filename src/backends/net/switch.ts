// The driver domain's bridge: an in-process learning switch (IEEE 802.1D-2004 clause 7 forwarding, without
// spanning tree) joining the NICs of the VMs of one vmio process and optional uplink backends such as a TAP.
//
// Forwarding (7.7): a frame's source address is learnt on its ingress port; a frame for a group address, or for a
// unicast address not learnt (or aged out), is flooded to every other port; a frame for an address learnt on its
// own ingress port is filtered; never back out of the ingress port (no hairpin). Frames from an invalid source
// (group or all-zero, as Linux's bridge drops them) and to the reserved 01-80-C2-00-00-0x addresses (7.12.6) are
// discarded. Ageing (7.9.2) is deterministic: entries expire after `ageing` units of an injected clock — virtual
// time — or, without one, after that many frames switched.
//
// A VM's port is a NetBackend for its NicPort: what the switch sends it is queued by the NicPort and enters the
// guest at the scheduler's delivery points, so traffic between VMs on one timeline repeats exactly. Large TCP packets
// with their GsoInfo (gso.ts) cross the switch whole; each NicPort segments for a NIC that cannot take them, and the
// switch segments for an uplink that cannot (a TAP without a vnet header).

import { ETH_DEST, ETH_HLEN, ETH_SOURCE, isGroupAddress, isLinkLocalGroup, isZeroAddress, macHigh, macLow, MAX_FRAME_LEN } from './ethernet.js';
import { GsoSegmenter, type GsoInfo } from './gso.js';
import { PortCounters, type FrameSink, type NetBackend } from './port.js';

export interface SwitchOptions {
  /** The clock ageing is measured in (virtual time in ticks); frames switched so far when absent. */
  readonly now?: () => number;
  /** How long an address stays learnt without being seen, in units of `now` (default: 300 s of a 10 MHz clock, or 65536 frames). */
  readonly ageing?: number;
  /** Most addresses learnt at once; a guest inventing source addresses cannot grow the table past it. */
  readonly maxAddresses?: number;
}

export const DEFAULT_AGEING_TICKS = 300 * 10_000_000;
export const DEFAULT_AGEING_FRAMES = 65536;
export const DEFAULT_MAX_ADDRESSES = 1024;
/** Frames a backend may hand back synchronously while the switch is still forwarding (two switches patched together). */
const MAX_FORWARD_DEPTH = 4;

/** Switch-wide counts of forwarding decisions. */
export class SwitchCounters {
  /** Unicast frames sent to exactly one learnt port. */
  forwarded = 0;
  /** Frames sent to every other port (group destination or unknown unicast). */
  flooded = 0;
  /** Unicast frames whose destination was learnt on their ingress port. */
  filtered = 0;
  /** Frames shorter than an Ethernet header or longer than MAX_FRAME_LEN. */
  malformed = 0;
  /** Frames with a group or all-zero source address. */
  invalidSource = 0;
  /** Frames for the reserved 802.1D link-local group addresses. */
  linkLocal = 0;
  /** Frames dropped because a backend looped them back while the switch was forwarding. */
  loops = 0;
  learned = 0;
  /** Addresses seen again on a different port. */
  moved = 0;
  aged = 0;
  /** Addresses not learnt because the table was full (their frames are flooded to them instead). */
  tableFull = 0;
}

/** A port of the switch: a NetBackend for a NIC, or the switch's side of an uplink backend. */
export class SwitchPort implements NetBackend {
  onFrame: FrameSink | null = null;
  /** This port's view (see PortCounters): tx = frames its device sent into the switch, rx = frames given to it. */
  readonly counters = new PortCounters();
  private open = true;

  /** @internal Created by NetSwitch.addPort/addUplink only. */
  constructor(readonly name: string, private readonly sw: NetSwitch, /** @internal */ readonly uplink: NetBackend | null) {}

  get linkUp(): boolean { return this.open; }
  get live(): boolean { return this.open && this.sw.hasLiveUplink(this); }

  /** A NIC's port takes large TCP packets whole: the switch carries them so. */
  readonly acceptsGso = true;

  /** The NIC on this port transmits a frame (or a large TCP packet, with `gso`) into the switch. */
  send(frame: Uint8Array, gso: GsoInfo | null = null): void {
    if (!this.open) { this.counters.txDropped++; return; }
    this.sw.forward(this, frame, gso);
  }

  /** @internal The switch hands a frame out of this port. */
  emit(frame: Uint8Array, gso: GsoInfo | null): void {
    const up = this.uplink;
    if (up !== null) {
      if (!up.linkUp) { this.counters.rxDropped++; return; }
      if (gso !== null && up.acceptsGso !== true) {
        if (!this.sw.segmenter.segment(frame, gso, this.emitToUplink)) this.counters.rxDropped++;
        return;
      }
      this.count(frame);
      up.send(frame, gso);
      return;
    }
    const sink = this.onFrame;
    if (sink === null) { this.counters.rxDropped++; return; }
    this.count(frame);
    sink(frame, gso);
  }

  private readonly emitToUplink = (segment: Uint8Array): void => {
    this.count(segment);
    this.uplink!.send(segment);
  };

  private count(frame: Uint8Array): void {
    this.counters.rxFrames++;
    this.counters.rxBytes += frame.length;
  }

  get isOpen(): boolean { return this.open; }

  /** Leaves the switch: its learnt addresses are forgotten; an uplink backend is detached (not closed). */
  close(): void {
    if (!this.open) return;
    this.open = false;
    this.sw.remove(this);
  }
}

interface Station {
  port: SwitchPort;
  /** When it was last seen as a source, in units of the switch's clock. */
  seen: number;
}

/** Learnt stations by MAC address, keyed by the address's two 24-bit halves: lookups allocate nothing. */
class MacTable {
  private readonly byHigh = new Map<number, Map<number, Station>>();
  size = 0;

  get(frame: Uint8Array, off: number): Station | undefined {
    return this.byHigh.get(macHigh(frame, off))?.get(macLow(frame, off));
  }

  add(frame: Uint8Array, off: number, st: Station): void {
    const high = macHigh(frame, off);
    let m = this.byHigh.get(high);
    if (m === undefined) { m = new Map(); this.byHigh.set(high, m); }
    m.set(macLow(frame, off), st);
    this.size++;
  }

  delete(frame: Uint8Array, off: number): void {
    const high = macHigh(frame, off);
    const m = this.byHigh.get(high);
    if (m === undefined || !m.delete(macLow(frame, off))) return;
    this.size--;
    if (m.size === 0) this.byHigh.delete(high);
  }

  /** Removes every station `drop` says yes to; returns how many. */
  removeWhere(drop: (st: Station) => boolean): number {
    let n = 0;
    for (const [high, m] of this.byHigh) {
      for (const [low, st] of m) if (drop(st)) { m.delete(low); n++; }
      if (m.size === 0) this.byHigh.delete(high);
    }
    this.size -= n;
    return n;
  }
}

export class NetSwitch {
  readonly counters = new SwitchCounters();
  /** @internal Cuts large TCP packets for uplinks that take only frames. */
  readonly segmenter = new GsoSegmenter();
  private readonly ports: SwitchPort[] = [];
  private readonly table = new MacTable();
  private readonly now: () => number;
  private readonly ageing: number;
  private readonly maxAddresses: number;
  private framesSwitched = 0;
  private depth = 0;

  constructor(readonly name: string, options: SwitchOptions = {}) {
    this.now = options.now ?? (() => this.framesSwitched);
    this.ageing = options.ageing ?? (options.now !== undefined ? DEFAULT_AGEING_TICKS : DEFAULT_AGEING_FRAMES);
    this.maxAddresses = options.maxAddresses ?? DEFAULT_MAX_ADDRESSES;
    if (!(this.ageing > 0) || !Number.isInteger(this.maxAddresses) || this.maxAddresses < 1) {
      throw new RangeError(`switch '${name}': ageing must be positive and maxAddresses a positive whole number (got ${this.ageing}, ${this.maxAddresses})`);
    }
  }

  /** A new port for a NIC; attach a NicPort to it. */
  addPort(name: string): SwitchPort {
    const port = new SwitchPort(name, this, null);
    this.ports.push(port);
    return port;
  }

  /**
   * Connects a backend (a TAP, a pcap sink) as an uplink: its frames enter the switch, frames for it are sent to it.
   * The switch becomes the backend's receiver; closing the returned port detaches it again.
   */
  addUplink(backend: NetBackend): SwitchPort {
    if (backend.onFrame !== null) {
      throw new Error(`net backend '${backend.name}' already has a receiver and cannot also be the uplink of switch '${this.name}'`);
    }
    const port = new SwitchPort(backend.name, this, backend);
    this.ports.push(port);
    backend.onFrame = (frame, gso) => this.forward(port, frame, gso ?? null);
    return port;
  }

  /** The open ports, in the order they were added. */
  get portList(): readonly SwitchPort[] { return this.ports; }

  /** Addresses currently learnt (including ones not yet found aged). */
  get addressCount(): number { return this.table.size; }

  /** The port an address is learnt on, or null (for tests and reports). */
  lookup(mac: Uint8Array): SwitchPort | null {
    if (mac.length < 6) return null;
    const st = this.table.get(mac, 0);
    return st !== undefined && this.now() - st.seen <= this.ageing ? st.port : null;
  }

  /** @internal Whether some port other than `except` brings frames from outside the process. */
  hasLiveUplink(except: SwitchPort): boolean {
    for (const p of this.ports) if (p !== except && p.uplink !== null && p.uplink.live) return true;
    return false;
  }

  /** @internal */
  remove(port: SwitchPort): void {
    const i = this.ports.indexOf(port);
    if (i >= 0) this.ports.splice(i, 1);
    this.table.removeWhere((st) => st.port === port);
    if (port.uplink !== null && port.uplink.onFrame !== null) port.uplink.onFrame = null;
  }

  /** @internal A frame (a large TCP packet with `gso`) enters the switch on `ingress`. */
  forward(ingress: SwitchPort, frame: Uint8Array, gso: GsoInfo | null = null): void {
    // guest-controlled: every header field below comes from a guest's (or the outside's) frame.
    const c = ingress.counters;
    if (!ingress.isOpen) { c.txDropped++; return; }
    if (frame.length < ETH_HLEN || frame.length > MAX_FRAME_LEN) { c.txDropped++; this.counters.malformed++; return; }
    if (isGroupAddress(frame, ETH_SOURCE) || isZeroAddress(frame, ETH_SOURCE)) { c.txDropped++; this.counters.invalidSource++; return; }
    if (isLinkLocalGroup(frame, ETH_DEST)) { c.txDropped++; this.counters.linkLocal++; return; }
    if (this.depth >= MAX_FORWARD_DEPTH) { c.txDropped++; this.counters.loops++; return; }
    c.txFrames++;
    c.txBytes += frame.length;
    this.framesSwitched++;
    const now = this.now();
    this.learn(frame, ingress, now);

    this.depth++;
    try {
      if (!isGroupAddress(frame, ETH_DEST)) {
        const st = this.table.get(frame, ETH_DEST);
        if (st !== undefined && now - st.seen > this.ageing) {
          this.table.delete(frame, ETH_DEST);
          this.counters.aged++;
        } else if (st !== undefined) {
          if (st.port === ingress) this.counters.filtered++;
          else { this.counters.forwarded++; st.port.emit(frame, gso); }
          return;
        }
      }
      this.counters.flooded++;
      for (const p of this.ports) if (p !== ingress) p.emit(frame, gso);
    } finally {
      this.depth--;
    }
  }

  private learn(frame: Uint8Array, port: SwitchPort, now: number): void {
    const st = this.table.get(frame, ETH_SOURCE);
    if (st !== undefined) {
      if (st.port !== port) { st.port = port; this.counters.moved++; }
      st.seen = now;
      return;
    }
    if (this.table.size >= this.maxAddresses) {
      // Full: forget aged addresses; if none, the new one is not learnt (frames to it are flooded).
      this.counters.aged += this.table.removeWhere((s) => now - s.seen > this.ageing);
      if (this.table.size >= this.maxAddresses) { this.counters.tableFull++; return; }
    }
    this.table.add(frame, ETH_SOURCE, { port, seen: now });
    this.counters.learned++;
  }

  /** Detaches every port (uplink backends are not closed: their owners close them). */
  close(): void {
    for (const p of [...this.ports]) p.close();
  }
}
