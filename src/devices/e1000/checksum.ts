// The sums the 82540EM computes in hardware: the 16-bit one's complement sum of RFC 1071 (IP, TCP and UDP checksums,
// the receive descriptor's packet checksum; 8254x SDM §3.2.9, §3.3.6) and the Ethernet FCS (IEEE 802.3 §3.2.9,
// CRC-32, reflected polynomial 0xEDB88320), which the receive path appends to each frame as the wire carried it.

/** The one's complement sum of `len` bytes of `b` from `off` (big-endian 16-bit words), added to `sum`, unfolded. */
export function onesSum(b: Uint8Array, off: number, len: number, sum = 0): number {
  let i = off;
  const end = off + len;
  for (; i + 1 < end; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (i < end) sum += b[i]! << 8;
  // Fold now and then so the sum stays an exact integer however long the data.
  return sum > 0x7fff_ffff ? fold(sum) : sum;
}

/** Folds a sum to 16 bits (carries added back). */
export function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The Internet checksum (complement of the folded sum) of `len` bytes from `off`. */
export function inetChecksum(b: Uint8Array, off: number, len: number, sum = 0): number {
  return ~fold(onesSum(b, off, len, sum)) & 0xffff;
}

export function get16(b: Uint8Array, off: number): number { return (b[off]! << 8) | b[off + 1]!; }
export function put16(b: Uint8Array, off: number, v: number): void { b[off] = (v >>> 8) & 0xff; b[off + 1] = v & 0xff; }
export function get32(b: Uint8Array, off: number): number { return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0; }
export function put32(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 24) & 0xff; b[off + 1] = (v >>> 16) & 0xff; b[off + 2] = (v >>> 8) & 0xff; b[off + 3] = v & 0xff;
}

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xedb8_8320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/** The Ethernet FCS of `len` bytes from `off` (CRC-32 as transmitted: little-endian on the wire). */
export function ethernetFcs(b: Uint8Array, off: number, len: number): number {
  let c = -1;
  for (let i = off, end = off + len; i < end; i++) c = CRC_TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
