// Transmit offloads of the 82576 with advanced descriptors (82576EB datasheet: transmit contexts and TCP
// segmentation): the context descriptor gives MACLEN, IPLEN, the VLAN tag, the L4 type, L4LEN and MSS; a data
// descriptor's POPTS asks for the IPv4 header checksum (IXSM) and the TCP/UDP checksum (TXSM), and TSE splits a TCP
// packet into MSS-sized segments with per-segment IP length, IPv4 ID, TCP sequence number, FIN/PSH only on the last
// segment, and both checksums recomputed. SCTP's CRC32c is not offered (the frame goes out as the driver built it).

import { fold, get16, get32, inetChecksum, onesSum, put16, put32 } from '../e1000/checksum.js';
import {
  E1000_ADVTXD_L4LEN_SHIFT, E1000_ADVTXD_MACLEN_SHIFT, E1000_ADVTXD_MSS_SHIFT, E1000_ADVTXD_TUCMD_IPV4,
  E1000_ADVTXD_TUCMD_L4T_SCTP, E1000_ADVTXD_TUCMD_L4T_TCP,
} from './defines.js';

/** One of a queue's two offload contexts, as the context descriptor set it. */
export interface TxContext {
  vlanMacipLens: number;
  tucmd: number;
  mssL4lenIdx: number;
}

export type OffloadFault = 'tx-bad-context' | 'tx-too-many-segments';

/** TSO packets that would become more frames than this are dropped (Linux sends at most 64 KiB / 48-byte MSS). */
export const MAX_TSO_SEGMENTS = 2048;
const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const IPPROTO_TCP = 6;

export const ctxMacLen = (c: TxContext): number => (c.vlanMacipLens >>> E1000_ADVTXD_MACLEN_SHIFT) & 0x7f;
export const ctxIpLen = (c: TxContext): number => c.vlanMacipLens & 0x1ff;
export const ctxVlan = (c: TxContext): number => c.vlanMacipLens >>> 16;

/** Inserts the checksums POPTS asks for into the packet in place; false when the context does not fit the packet. */
export function insertChecksums(p: Uint8Array, len: number, c: TxContext, ixsm: boolean, txsm: boolean): boolean {
  const mac = ctxMacLen(c), ip = ctxIpLen(c);
  if (mac + ip > len) return false;
  if (ixsm) {
    if (ip < 20) return false;
    put16(p, mac + 10, 0);
    put16(p, mac + 10, inetChecksum(p, mac, ip));
  }
  if (txsm && (c.tucmd & E1000_ADVTXD_TUCMD_L4T_SCTP) === 0) {
    const l4 = mac + ip;
    const tcp = (c.tucmd & E1000_ADVTXD_TUCMD_L4T_TCP) !== 0;
    const field = l4 + (tcp ? 16 : 6);
    if (field + 2 > len) return false;
    // The driver left the pseudo-header sum in the field (CHECKSUM_PARTIAL); the sum runs to the end of the packet.
    let sum = inetChecksum(p, l4, len - l4);
    if (!tcp && sum === 0) sum = 0xffff;
    put16(p, field, sum);
  }
  return true;
}

/** The TCP/UDP pseudo-header sum (RFC 793, RFC 8200 §8.1) of the IP header at `ipOff`. */
function pseudoSum(p: Uint8Array, ipOff: number, v4: boolean, proto: number, l4len: number): number {
  return v4
    ? onesSum(p, ipOff + 12, 8, proto + l4len)
    : onesSum(p, ipOff + 8, 32, proto + (l4len >>> 16) + (l4len & 0xffff));
}

/**
 * Splits a TSO packet (`len` bytes of `p`) into segments written to `seg` and hands each to `emit`. Returns the number
 * of segments, or a fault (nothing is emitted then).
 */
export function segment(p: Uint8Array, len: number, c: TxContext, seg: Uint8Array, emit: (frame: Uint8Array) => void): number | OffloadFault {
  const mac = ctxMacLen(c), ip = ctxIpLen(c);
  const l4len = (c.mssL4lenIdx >>> E1000_ADVTXD_L4LEN_SHIFT) & 0xff;
  const mss = c.mssL4lenIdx >>> E1000_ADVTXD_MSS_SHIFT;
  const v4 = (c.tucmd & E1000_ADVTXD_TUCMD_IPV4) !== 0;
  const hdr = mac + ip + l4len;
  if ((c.tucmd & E1000_ADVTXD_TUCMD_L4T_TCP) === 0 || mss === 0 || l4len < 20 || ip < (v4 ? 20 : 40) || hdr >= len || hdr + mss > seg.length) return 'tx-bad-context';
  const payload = len - hdr;
  const count = Math.ceil(payload / mss);
  if (count > MAX_TSO_SEGMENTS) return 'tx-too-many-segments';
  const l4 = mac + ip;
  const id = v4 ? get16(p, mac + 4) : 0;
  const seq = get32(p, l4 + 4);
  const flags = p[l4 + 13]!;
  for (let i = 0; i < count; i++) {
    const off = hdr + i * mss;
    const n = Math.min(mss, len - off);
    seg.set(p.subarray(0, hdr), 0);
    seg.set(p.subarray(off, off + n), hdr);
    const segLen = hdr + n;
    if (v4) {
      put16(seg, mac + 2, ip + l4len + n);
      put16(seg, mac + 4, (id + i) & 0xffff);
      put16(seg, mac + 10, 0);
      put16(seg, mac + 10, inetChecksum(seg, mac, ip));
    } else {
      put16(seg, mac + 4, ip - 40 + l4len + n);
    }
    put32(seg, l4 + 4, (seq + i * mss) >>> 0);
    if (i < count - 1) seg[l4 + 13] = flags & ~(TCP_FIN | TCP_PSH);
    put16(seg, l4 + 16, 0);
    const sum = onesSum(seg, l4, segLen - l4, pseudoSum(seg, mac, v4, IPPROTO_TCP, segLen - l4));
    put16(seg, l4 + 16, ~fold(sum) & 0xffff);
    emit(seg.subarray(0, segLen));
  }
  return count;
}
