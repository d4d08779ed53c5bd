// Test packets and an independent reference for what the e1000 must put on the wire: TCP/IPv4 frames built and
// checked with the backends' own RFC 1071 checksum (src/backends/net/testing/frames.ts), not the device's code.

import { inetChecksum } from '../../../src/backends/net/testing/frames.js';

export const GUEST_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
export const PEER_MAC = Uint8Array.of(0x02, 0x00, 0x00, 0x00, 0x00, 0x01);
export const GUEST_IP = Uint8Array.of(10, 0, 2, 15);
export const PEER_IP = Uint8Array.of(10, 0, 2, 2);

const be16 = (b: Uint8Array, o: number, v: number) => { b[o] = v >> 8; b[o + 1] = v & 0xff; };
const be32 = (b: Uint8Array, o: number, v: number) => { be16(b, o, v >>> 16); be16(b, o + 2, v & 0xffff); };
export const rd16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
export const rd32 = (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

export function payload(n: number, seed = 1): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed * 7 + (i >> 8)) & 0xff);
}

export interface TcpFields { seq: number; ack?: number; flags: number; ipId: number; proto?: number }

/** The TCP (or UDP, proto 17) checksum of segment `l4` with the IPv4 pseudo header. */
export function l4Checksum(src: Uint8Array, dst: Uint8Array, proto: number, l4: Uint8Array): number {
  const ph = new Uint8Array(12 + l4.length);
  ph.set(src, 0); ph.set(dst, 4); ph[9] = proto; be16(ph, 10, l4.length);
  ph.set(l4, 12);
  return inetChecksum(ph);
}

/** A complete, correct Ethernet/IPv4/TCP frame (20-byte headers, no options). */
export function tcpFrame(dstMac: Uint8Array, srcMac: Uint8Array, src: Uint8Array, dst: Uint8Array, t: TcpFields, data: Uint8Array): Uint8Array {
  const f = new Uint8Array(14 + 20 + 20 + data.length);
  f.set(dstMac, 0); f.set(srcMac, 6); be16(f, 12, 0x0800);
  const ip = 14;
  f[ip] = 0x45; be16(f, ip + 2, 40 + data.length); be16(f, ip + 4, t.ipId); be16(f, ip + 6, 0x4000);
  f[ip + 8] = 64; f[ip + 9] = t.proto ?? 6; f.set(src, ip + 12); f.set(dst, ip + 16);
  be16(f, ip + 10, inetChecksum(f.subarray(ip, ip + 20)));
  const tcp = 34;
  be16(f, tcp, 40000); be16(f, tcp + 2, 5201); be32(f, tcp + 4, t.seq); be32(f, tcp + 8, t.ack ?? 0x1000);
  f[tcp + 12] = 5 << 4; f[tcp + 13] = t.flags; be16(f, tcp + 14, 0xffff);
  f.set(data, 54);
  be16(f, tcp + 16, l4Checksum(src, dst, 6, f.subarray(tcp)));
  return f;
}

/** Whether `f`'s IPv4 header and TCP checksums verify (the oracle; it must be able to say no). */
export function checksumsValid(f: Uint8Array): boolean {
  const ihl = (f[14]! & 0x0f) * 4;
  const total = rd16(f, 16);
  if (inetChecksum(f.subarray(14, 14 + ihl)) !== 0) return false;
  const l4 = f.subarray(14 + ihl, 14 + total);
  const ph = new Uint8Array(12 + l4.length);
  ph.set(f.subarray(26, 34), 0); ph[9] = f[23]!; be16(ph, 10, l4.length); ph.set(l4, 12);
  return inetChecksum(ph) === 0;
}
