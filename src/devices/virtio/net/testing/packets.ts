// Test frames for virtio-net: TCP and UDP over IPv4 (RFC 791) and IPv6 (RFC 8200) in Ethernet, either fully
// checksummed or as Linux hands a CHECKSUM_PARTIAL packet to virtio_net (the transport checksum field holding the
// folded pseudo-header sum, §5.1.6.2). Checksums are computed with the backends' own inetChecksum, not with the
// device's code, so tests comparing the two compare independent implementations.

import { ETH_P_IP, ETH_P_IPV6 } from '../../../../backends/net/ethernet.js';
import { ethFrame, inetChecksum, ipv4, mac } from '../../../../backends/net/testing/frames.js';

export const GUEST_MAC = mac('52:54:00:12:34:56');
export const PEER_MAC = mac('52:54:00:ab:cd:ef');
export const GUEST_IP4 = ipv4('10.0.2.15');
export const PEER_IP4 = ipv4('10.0.2.2');
export const GUEST_IP6 = Uint8Array.from([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x15]);
export const PEER_IP6 = Uint8Array.from([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02]);

export interface L4Spec {
  v6?: boolean;
  src?: Uint8Array;
  dst?: Uint8Array;
  srcMac?: Uint8Array;
  dstMac?: Uint8Array;
  payload: Uint8Array;
  /** 'full': a correct checksum; 'partial': the folded pseudo-header sum (CHECKSUM_PARTIAL); 'zero'. */
  csum?: 'full' | 'partial' | 'zero';
  /** IPv4 identification (default 0x1234), with DF set. */
  ipId?: number;
  /** IPv4 total / IPv6 payload length to write instead of the real one (a GSO packet may carry any). */
  ipLenOverride?: number;
}

export interface TcpSpec extends L4Spec {
  sport?: number;
  dport?: number;
  seq?: number;
  ack?: number;
  /** TCP flags byte (default ACK|PSH). */
  flags?: number;
  /** TCP options (a multiple of 4 bytes). */
  options?: Uint8Array;
}

/** The pseudo-header bytes (RFC 9293 §3.1, RFC 8200 §8.1) for a transport segment of `len` bytes. */
export function pseudoHeader(v6: boolean, src: Uint8Array, dst: Uint8Array, proto: number, len: number): Uint8Array {
  const p = new Uint8Array(v6 ? 40 : 12);
  const v = new DataView(p.buffer);
  p.set(src, 0);
  p.set(dst, v6 ? 16 : 4);
  if (v6) { v.setUint32(32, len); p[39] = proto; } else { p[9] = proto; v.setUint16(10, len); }
  return p;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** An IP packet around transport segment `l4` (checksum field at `checkAt` filled as spec.csum says), in Ethernet. */
function wrap(spec: L4Spec, proto: number, l4: Uint8Array, checkAt: number): Uint8Array {
  const v6 = spec.v6 ?? false;
  const src = spec.src ?? (v6 ? GUEST_IP6 : GUEST_IP4);
  const dst = spec.dst ?? (v6 ? PEER_IP6 : PEER_IP4);
  const lv = new DataView(l4.buffer, l4.byteOffset, l4.length);
  const pseudo = pseudoHeader(v6, src, dst, proto, l4.length);
  const mode = spec.csum ?? 'full';
  lv.setUint16(checkAt, 0);
  if (mode === 'full') lv.setUint16(checkAt, inetChecksum(concat(pseudo, l4)));
  else if (mode === 'partial') lv.setUint16(checkAt, ~inetChecksum(pseudo) & 0xffff);
  let ip: Uint8Array;
  if (v6) {
    ip = new Uint8Array(40);
    const v = new DataView(ip.buffer);
    v.setUint32(0, 0x6000_0000);
    v.setUint16(4, spec.ipLenOverride ?? l4.length);
    ip[6] = proto;
    ip[7] = 64;
    ip.set(src, 8);
    ip.set(dst, 24);
  } else {
    ip = new Uint8Array(20);
    const v = new DataView(ip.buffer);
    ip[0] = 0x45;
    v.setUint16(2, spec.ipLenOverride ?? 20 + l4.length);
    v.setUint16(4, spec.ipId ?? 0x1234);
    v.setUint16(6, 0x4000);
    ip[8] = 64;
    ip[9] = proto;
    ip.set(src, 12);
    ip.set(dst, 16);
    v.setUint16(10, inetChecksum(ip));
  }
  return ethFrame(spec.dstMac ?? PEER_MAC, spec.srcMac ?? GUEST_MAC, v6 ? ETH_P_IPV6 : ETH_P_IP, concat(ip, l4));
}

export const TCP_ACK = 0x10;
export const TCP_PSH = 0x08;
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_CWR = 0x80;
export const TCP_ECE = 0x40;

export function tcpFrame(spec: TcpSpec): Uint8Array {
  const opts = spec.options ?? new Uint8Array(0);
  const hlen = 20 + opts.length;
  const seg = new Uint8Array(hlen + spec.payload.length);
  const v = new DataView(seg.buffer);
  v.setUint16(0, spec.sport ?? 40000);
  v.setUint16(2, spec.dport ?? 5201);
  v.setUint32(4, spec.seq ?? 1000);
  v.setUint32(8, spec.ack ?? 7);
  seg[12] = (hlen / 4) << 4;
  seg[13] = spec.flags ?? (TCP_ACK | TCP_PSH);
  v.setUint16(14, 65535);
  seg.set(opts, 20);
  seg.set(spec.payload, hlen);
  return wrap(spec, 6, seg, 16);
}

export function udpFrame(spec: L4Spec & { sport?: number; dport?: number }): Uint8Array {
  const seg = new Uint8Array(8 + spec.payload.length);
  const v = new DataView(seg.buffer);
  v.setUint16(0, spec.sport ?? 40001);
  v.setUint16(2, spec.dport ?? 53);
  v.setUint16(4, seg.length);
  seg.set(spec.payload, 8);
  return wrap(spec, 17, seg, 6);
}

/** `n` bytes of a recognisable pattern. */
export function pattern(n: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 0xff);
}
