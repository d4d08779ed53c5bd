// Test doubles for the network backends: a NIC that records what its port gives it, and builders and parsers of
// the few frames tests exchange with a host kernel (Ethernet II; ARP, RFC 826; IPv4, RFC 791; ICMP echo, RFC 792).

import { ETH_HLEN, ETH_P_ARP, ETH_P_IP, parseMac } from '../ethernet.js';
import { PortCounters, type FrameSink, type NetBackend, type NicReceiver } from '../port.js';
import type { GsoInfo } from '../gso.js';

/** A NIC that takes frames while `accepting` and has room, and keeps copies of them. */
export class RecordingNic implements NicReceiver {
  readonly frames: Uint8Array[] = [];
  accepting = true;
  /** Frames it holds at most (like posted receive buffers); Infinity by default. */
  capacity = Infinity;
  /** Frames longer than this are refused by receive(). */
  maxLength = Infinity;
  canReceive(): boolean { return this.accepting && this.frames.length < this.capacity; }
  receive(frame: Uint8Array): boolean {
    if (frame.length > this.maxLength) return false;
    this.frames.push(frame.slice());
    return true;
  }
}

export function mac(text: string): Uint8Array {
  const m = parseMac(text);
  if (m === null) throw new Error(`bad MAC ${text}`);
  return m;
}

export function ipv4(text: string): Uint8Array {
  const parts = text.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`bad IPv4 address ${text}`);
  return Uint8Array.from(parts);
}

/** An Ethernet II frame with `payload` (no padding: the caller pads if it wants ETH_ZLEN). */
export function ethFrame(dst: Uint8Array, src: Uint8Array, type: number, payload: Uint8Array = new Uint8Array(46)): Uint8Array {
  const f = new Uint8Array(ETH_HLEN + payload.length);
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = type >> 8;
  f[13] = type & 0xff;
  f.set(payload, ETH_HLEN);
  return f;
}

export const BROADCAST = mac('ff:ff:ff:ff:ff:ff');
export const ARPOP_REQUEST = 1;
export const ARPOP_REPLY = 2;

/** An ARP request (RFC 826, Ethernet/IPv4) for `targetIp` from `srcMac`/`srcIp`, broadcast, padded to 60 bytes. */
export function arpRequest(srcMac: Uint8Array, srcIp: Uint8Array, targetIp: Uint8Array): Uint8Array {
  return arpFrame(BROADCAST, ARPOP_REQUEST, srcMac, srcIp, new Uint8Array(6), targetIp);
}

export function arpFrame(dst: Uint8Array, op: number, sha: Uint8Array, spa: Uint8Array, tha: Uint8Array, tpa: Uint8Array): Uint8Array {
  const p = new Uint8Array(46);
  const v = new DataView(p.buffer);
  v.setUint16(0, 1); // ar_hrd: ARPHRD_ETHER
  v.setUint16(2, ETH_P_IP); // ar_pro
  p[4] = 6; // ar_hln
  p[5] = 4; // ar_pln
  v.setUint16(6, op);
  p.set(sha, 8);
  p.set(spa, 14);
  p.set(tha, 18);
  p.set(tpa, 24);
  return ethFrame(dst, sha, ETH_P_ARP, p);
}

export interface Arp { op: number; sha: Uint8Array; spa: Uint8Array; tha: Uint8Array; tpa: Uint8Array }

/** The ARP packet in an Ethernet/IPv4 ARP frame, or null. */
export function parseArp(f: Uint8Array): Arp | null {
  if (f.length < ETH_HLEN + 28 || ((f[12]! << 8) | f[13]!) !== ETH_P_ARP) return null;
  const p = f.subarray(ETH_HLEN);
  if (((p[0]! << 8) | p[1]!) !== 1 || ((p[2]! << 8) | p[3]!) !== ETH_P_IP || p[4] !== 6 || p[5] !== 4) return null;
  return { op: (p[6]! << 8) | p[7]!, sha: p.slice(8, 14), spa: p.slice(14, 18), tha: p.slice(18, 24), tpa: p.slice(24, 28) };
}

/** The Internet checksum (RFC 1071) of `b`. */
export function inetChecksum(b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if ((b.length & 1) !== 0) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export const IPPROTO_ICMP = 1;
export const ICMP_ECHOREPLY = 0;
export const ICMP_ECHO = 8;

/** An ICMP echo request in IPv4 in Ethernet, checksums filled in. */
export function icmpEcho(dstMac: Uint8Array, srcMac: Uint8Array, srcIp: Uint8Array, dstIp: Uint8Array, id: number, seq: number, data: Uint8Array): Uint8Array {
  const icmp = new Uint8Array(8 + data.length);
  const iv = new DataView(icmp.buffer);
  icmp[0] = ICMP_ECHO;
  iv.setUint16(4, id);
  iv.setUint16(6, seq);
  icmp.set(data, 8);
  iv.setUint16(2, inetChecksum(icmp));
  const ip = new Uint8Array(20 + icmp.length);
  const v = new DataView(ip.buffer);
  ip[0] = 0x45; // version 4, IHL 5
  v.setUint16(2, ip.length);
  v.setUint16(4, id);
  v.setUint16(6, 0x4000); // DF
  ip[8] = 64; // TTL
  ip[9] = IPPROTO_ICMP;
  ip.set(srcIp, 12);
  ip.set(dstIp, 16);
  v.setUint16(10, inetChecksum(ip.subarray(0, 20)));
  ip.set(icmp, 20);
  return ethFrame(dstMac, srcMac, ETH_P_IP, ip);
}

export interface Icmp { src: Uint8Array; dst: Uint8Array; type: number; id: number; seq: number; data: Uint8Array; checksumOk: boolean }

/** The ICMP message in an IPv4 frame, or null. */
export function parseIcmp(f: Uint8Array): Icmp | null {
  if (f.length < ETH_HLEN + 28 || ((f[12]! << 8) | f[13]!) !== ETH_P_IP) return null;
  const ip = f.subarray(ETH_HLEN);
  const ihl = (ip[0]! & 0x0f) * 4;
  if ((ip[0]! >> 4) !== 4 || ip[9] !== IPPROTO_ICMP || ihl < 20) return null;
  const total = (ip[2]! << 8) | ip[3]!;
  if (total > ip.length || total < ihl + 8) return null;
  const icmp = ip.subarray(ihl, total);
  return {
    src: ip.slice(12, 16), dst: ip.slice(16, 20), type: icmp[0]!,
    id: (icmp[4]! << 8) | icmp[5]!, seq: (icmp[6]! << 8) | icmp[7]!, data: icmp.slice(8),
    checksumOk: inetChecksum(icmp) === 0,
  };
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A backend a test drives by hand: it keeps copies of what is sent and injects frames as if they came from outside. */
export class ScriptedBackend implements NetBackend {
  onFrame: FrameSink | null = null;
  readonly counters = new PortCounters();
  readonly sent: Uint8Array[] = [];
  /** The GsoInfo of each sent frame (null for a plain one). */
  readonly sentGso: (GsoInfo | null)[] = [];
  linkUp = true;
  live = true;
  closed = false;
  /** Set to take large TCP packets whole, as the software switch does. */
  acceptsGso = false;
  constructor(readonly name = 'scripted') {}
  send(frame: Uint8Array, gso: GsoInfo | null = null): void {
    this.counters.txFrames++;
    this.counters.txBytes += frame.length;
    this.sent.push(frame.slice());
    this.sentGso.push(gso === null ? null : { ...gso });
  }
  /** A frame arrives from outside (e.g. a TAP read); the buffer is reused afterwards, as a real backend would. */
  inject(frame: Uint8Array, gso: GsoInfo | null = null): void {
    const sink = this.onFrame;
    if (sink === null) { this.counters.rxDropped++; return; }
    this.counters.rxFrames++;
    this.counters.rxBytes += frame.length;
    const scratch = frame.slice();
    sink(scratch, gso);
    scratch.fill(0xee);
  }
  close(): void { this.closed = true; this.live = false; }
}

/**
 * Two backends joined like a cable: what one sends, the other hands its receiver at once (synchronously). Used to
 * patch switches together.
 */
export function patchCable(nameA = 'patch-a', nameB = 'patch-b'): [NetBackend, NetBackend] {
  const make = (name: string): NetBackend & { peer: NetBackend | null } => ({
    name, onFrame: null, linkUp: true, live: false, counters: new PortCounters(), peer: null,
    send(frame: Uint8Array) { this.counters.txFrames++; this.peer?.onFrame?.(frame); },
    close() {},
  });
  const a = make(nameA);
  const b = make(nameB);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
