// Ethernet frame facts the backends need (IEEE 802.3 clause 3.2, MAC frame format; names as in Linux's
// include/uapi/linux/if_ether.h). Frames here never carry the preamble or the FCS: a NIC strips the FCS on
// receive and adds it on transmit, and TAP devices and pcap files see frames without it.

/** Destination + source address + EtherType/length. */
export const ETH_HLEN = 14;
/** Octets in one MAC address. */
export const ETH_ALEN = 6;
/** Shortest frame on the wire without FCS; shorter frames are padded by the sender's NIC. */
export const ETH_ZLEN = 60;
/**
 * Longest frame any backend carries: the pcap snapshot length, and more than a TAP with the largest MTU Linux allows
 * for it (65521 + ETH_HLEN) ever gives. Longer frames are dropped and counted, never truncated.
 */
export const MAX_FRAME_LEN = 65535;

export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;

/** Offsets of the header fields. */
export const ETH_DEST = 0;
export const ETH_SOURCE = 6;
export const ETH_PROTO = 12;

/**
 * The first and last three octets of the MAC address at `off`, each a small integer (below 2^24), so tables keyed
 * by them box nothing. The caller has checked that six octets are there.
 */
export function macHigh(frame: Uint8Array, off: number): number {
  return (frame[off]! << 16) | (frame[off + 1]! << 8) | frame[off + 2]!;
}

export function macLow(frame: Uint8Array, off: number): number {
  return (frame[off + 3]! << 16) | (frame[off + 4]! << 8) | frame[off + 5]!;
}

/** The I/G bit (802.3 3.2.3): the least significant bit of the first octet marks group (multicast/broadcast) addresses. */
export function isGroupAddress(frame: Uint8Array, off: number): boolean {
  return (frame[off]! & 1) !== 0;
}

export function isZeroAddress(frame: Uint8Array, off: number): boolean {
  return (frame[off]! | frame[off + 1]! | frame[off + 2]! | frame[off + 3]! | frame[off + 4]! | frame[off + 5]!) === 0;
}

/**
 * The reserved 01-80-C2-00-00-00..0F group addresses (IEEE 802.1D-2004 7.12.6: STP, pause, LACP, 802.1X, LLDP):
 * a bridge consumes or discards them and never relays them.
 */
export function isLinkLocalGroup(frame: Uint8Array, off: number): boolean {
  return frame[off] === 0x01 && frame[off + 1] === 0x80 && frame[off + 2] === 0xc2 && frame[off + 3] === 0
    && frame[off + 4] === 0 && (frame[off + 5]! & 0xf0) === 0;
}

/** "52:54:00:12:34:56" for reports and errors. */
export function formatMac(frame: Uint8Array, off = 0): string {
  const parts: string[] = [];
  for (let i = 0; i < ETH_ALEN; i++) parts.push(frame[off + i]!.toString(16).padStart(2, '0'));
  return parts.join(':');
}

/** Parses "52:54:00:12:34:56" (or with dashes); null when it is not six hex octets. */
export function parseMac(text: string): Uint8Array | null {
  const m = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(text);
  if (m === null) return null;
  return Uint8Array.from(m.slice(1), (h) => parseInt(h, 16));
}
