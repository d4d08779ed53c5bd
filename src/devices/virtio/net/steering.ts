// Automatic receive steering in multiqueue mode (virtio 1.2 §5.1.6.5.6): after the driver transmits a packet of a
// flow on transmitqX, incoming packets of that flow SHOULD go to receiveqX; other packets MAY go to any enabled
// receive queue. A flow is the unordered pair of IP addresses and of TCP/UDP ports, so both directions hash alike;
// the table is direct-mapped and small (a collision only sends a flow to another enabled queue).

import { ETH_P_IPV6 } from '../../../backends/net/ethernet.js';
import { IPPROTO_TCP, IPPROTO_UDP, IPV4_SADDR, IPV6_SADDR, PacketInfo, be16, be32, parsePacket } from './packet.js';

const SLOTS = 256;

/** A 32-bit mix (the murmur3 finalizer). */
function mix(h: number): number {
  let x = h >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

export class FlowSteering {
  private readonly keys = new Uint32Array(SLOTS);
  private readonly pairs = new Uint16Array(SLOTS);
  private readonly used = new Uint8Array(SLOTS);
  private readonly info = new PacketInfo();

  reset(): void { this.used.fill(0); }

  // guest- or wire-controlled: the frame.
  /** The direction-independent hash of the frame's IP flow, or -1 for a frame that is not IPv4/IPv6. */
  flowHash(f: Uint8Array, len: number): number {
    const p = this.info;
    if (!parsePacket(f, 0, len, p)) return -1;
    let h: number;
    if (p.ethType === ETH_P_IPV6) {
      h = 0;
      for (let w = 0; w < 16; w += 4) h ^= mix(be32(f, p.l3 + IPV6_SADDR + w) ^ be32(f, p.l3 + IPV6_SADDR + 16 + w) ^ w);
    } else {
      h = be32(f, p.l3 + IPV4_SADDR) ^ be32(f, p.l3 + IPV4_SADDR + 4);
    }
    if ((p.proto === IPPROTO_TCP || p.proto === IPPROTO_UDP) && p.l4HdrLen > 0) h ^= Math.imul(be16(f, p.l4) ^ be16(f, p.l4 + 2), 0x9e3779b1) ^ p.proto;
    return mix(h);
  }

  /** The driver sent a frame of flow `hash` on pair `pair`. */
  record(hash: number, pair: number): void {
    const s = hash & (SLOTS - 1);
    this.keys[s] = hash;
    this.pairs[s] = pair;
    this.used[s] = 1;
  }

  /** The receive pair for a frame of flow `hash` among the first `pairs`: the flow's transmit pair, or by hash. */
  pairFor(hash: number, pairs: number): number {
    if (pairs <= 1 || hash < 0) return 0;
    const s = hash & (SLOTS - 1);
    if (this.used[s] === 1 && this.keys[s] === hash && this.pairs[s]! < pairs) return this.pairs[s]!;
    return hash % pairs;
  }
}
