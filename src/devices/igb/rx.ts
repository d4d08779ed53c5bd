// Receive into one queue with advanced one-buffer descriptors (82576EB datasheet: advanced receive descriptors,
// SRRCTL.DESCTYPE = 001b): the device reads pkt_addr from the descriptor at RDH, copies the frame (split over as many
// buffers as it needs), and writes back each descriptor: status DD (EOP on the last), IXSM (the model checks no
// checksums: the stack does), VP with the stripped VLAN tag, LB for a frame that came from another pool of the same
// NIC, and the length. Guest memory only through the function's DmaSpace: a fault drops the frame and is counted.

import { DMA_OK, type DmaSpace } from '../../memory/dma.js';
import {
  ADV_DESC_SIZE, E1000_RXDEXT_STATERR_LB, E1000_RXD_STAT_DD, E1000_RXD_STAT_EOP, E1000_RXD_STAT_IXSM,
  E1000_RXD_STAT_VP, RXD_WB_STATUS,
} from './defines.js';
import { ringAvailable, type Ring } from './queues.js';

export type RxDrop = 'rx-no-buffers' | 'rx-dma-fault' | 'rx-oversize';

/** Most buffers one frame may span (a 64 KiB frame in 1 KiB buffers). */
const MAX_BUFFERS = 64;

export class RxEngine {
  /** After receive(): RDH past the frame (unchanged when it was dropped) and the bytes copied into guest buffers. */
  head = 0;
  copied = 0;
  private readonly wb = new Uint8Array(ADV_DESC_SIZE);
  private readonly wbView = new DataView(this.wb.buffer);
  private readonly addrs = new Float64Array(MAX_BUFFERS);

  // guest-controlled: the ring and the buffer addresses in it; the frame comes from another function or the wire.
  /**
   * Writes `frame` into `ring` (buffers of `bufSize` bytes), reporting `vlan` (the stripped TCI, or -1) and whether it
   * was looped back from another pool; returns why it was dropped, or null. Never throws, allocates nothing.
   */
  receive(dma: DmaSpace, ring: Ring, bufSize: number, frame: Uint8Array, vlan: number, loopback: boolean): RxDrop | null {
    this.head = ring.head;
    this.copied = 0;
    const len = frame.length;
    const need = Math.max(1, Math.ceil(len / bufSize));
    if (need > MAX_BUFFERS) return 'rx-oversize';
    if (ringAvailable(ring) < need) return 'rx-no-buffers';
    // Read every buffer address first, so a bad descriptor drops the frame before any descriptor is written back.
    const addrs = this.addrs;
    let at = ring.head;
    for (let i = 0; i < need; i++) {
      const a = dma.read64(ring.base + at * ADV_DESC_SIZE);
      // A negative bigint is the fault code; an address above 2^53 is refused by the DmaSpace below.
      if (a < 0n) return 'rx-dma-fault';
      addrs[i] = a > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(a);
      at = (at + 1) % ring.count;
    }
    let copied = 0;
    for (let i = 0; i < need; i++) {
      const n = Math.min(bufSize, len - copied);
      if (n > 0 && dma.write(addrs[i]!, frame.subarray(copied, copied + n)) !== DMA_OK) return 'rx-dma-fault';
      copied += n;
      this.copied = copied;
    }
    at = ring.head;
    copied = 0;
    for (let i = 0; i < need; i++) {
      const n = Math.min(bufSize, len - copied);
      copied += n;
      const last = i === need - 1;
      let status = E1000_RXD_STAT_DD | E1000_RXD_STAT_IXSM;
      if (last) {
        status |= E1000_RXD_STAT_EOP;
        if (vlan >= 0) status |= E1000_RXD_STAT_VP;
        if (loopback) status |= E1000_RXDEXT_STATERR_LB;
      }
      this.wb.fill(0);
      this.wbView.setUint32(RXD_WB_STATUS, status >>> 0, true);
      this.wbView.setUint16(RXD_WB_STATUS + 4, n, true);
      this.wbView.setUint16(RXD_WB_STATUS + 6, last && vlan >= 0 ? vlan : 0, true);
      if (dma.write(ring.base + at * ADV_DESC_SIZE, this.wb) !== DMA_OK) { this.head = at; return 'rx-dma-fault'; }
      at = (at + 1) % ring.count;
    }
    this.head = at;
    return null;
  }
}
