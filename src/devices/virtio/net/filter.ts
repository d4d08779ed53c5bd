// virtio-net's receive filter (virtio 1.2 §5.1.6.5.1 "Packet Receive Filtering", §5.1.6.5.2 "Setting MAC Address
// Filtering"): the device's own MAC, broadcast, a unicast and a multicast table set with VIRTIO_NET_CTRL_MAC_TABLE_SET,
// and the promiscuous and all-multicast modes of VIRTIO_NET_CTRL_RX. A table given more addresses than it holds
// overflows into "accept all of that kind", as the spec's footnote allows (QEMU does the same).

import { ETH_ALEN, isGroupAddress } from '../../../backends/net/ethernet.js';

/** Addresses each table holds (QEMU's MAC_TABLE_ENTRIES). */
export const MAC_TABLE_ENTRIES = 64;

export class MacTable {
  readonly entries = new Uint8Array(MAC_TABLE_ENTRIES * ETH_ALEN);
  count = 0;
  /** More addresses were given than the table holds: every address of this kind is accepted. */
  overflow = false;

  clear(): void { this.count = 0; this.overflow = false; }

  /** Whether the six bytes at f[off] are in the table. */
  has(f: Uint8Array, off: number): boolean {
    const e = this.entries;
    for (let i = 0, at = 0; i < this.count; i++, at += ETH_ALEN) {
      if (e[at] === f[off] && e[at + 1] === f[off + 1] && e[at + 2] === f[off + 2] && e[at + 3] === f[off + 3]
        && e[at + 4] === f[off + 4] && e[at + 5] === f[off + 5]) return true;
    }
    return false;
  }

  copyFrom(t: MacTable): void { this.entries.set(t.entries); this.count = t.count; this.overflow = t.overflow; }
}

export class RxFilter {
  /**
   * Promiscuous mode is on after reset, as in QEMU: a driver without VIRTIO_NET_F_CTRL_RX cannot name the multicast
   * groups it needs (IPv6 neighbour discovery), and Linux turns it off at ifup when it has CTRL_RX.
   */
  promisc = true;
  allmulti = false;
  /** The address VIRTIO_NET_CTRL_MAC_ADDR_SET set, or the configured one. */
  readonly mac = new Uint8Array(ETH_ALEN);
  readonly uni = new MacTable();
  readonly multi = new MacTable();

  /** Back to the state after device reset (§5.1.6.5.2: an empty MAC filtering table). */
  reset(mac: Uint8Array): void {
    this.promisc = true;
    this.allmulti = false;
    this.mac.set(mac);
    this.uni.clear();
    this.multi.clear();
  }

  // wire-controlled: the destination address of a received frame (the caller checked it has an Ethernet header).
  /** Whether a frame with this destination address is for the driver. */
  accepts(f: Uint8Array): boolean {
    if (this.promisc) return true;
    if (isGroupAddress(f, 0)) {
      if ((f[0]! & f[1]! & f[2]! & f[3]! & f[4]! & f[5]!) === 0xff) return true;
      return this.allmulti || this.multi.overflow || this.multi.has(f, 0);
    }
    const m = this.mac;
    if (f[0] === m[0] && f[1] === m[1] && f[2] === m[2] && f[3] === m[3] && f[4] === m[4] && f[5] === m[5]) return true;
    return this.uni.overflow || this.uni.has(f, 0);
  }
}
