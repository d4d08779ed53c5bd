// Receive buffers of one virtio-net receive queue (virtio 1.2 §5.1.6.3 "Setting Up Receive Buffers", §5.1.6.4
// "Processing of Incoming Packets"): chains the device has taken from the available ring and not yet used, in ring
// order, and the writing of one frame (header + data) into the first buffer, or across as many as it needs with
// VIRTIO_NET_F_MRG_RXBUF (num_buffers; every buffer but the last filled completely).
//
// A frame may need more buffers than the ring has right now: the device takes what is there and keeps it, so the
// next frame uses it (a held buffer is the device's, as any popped chain is). Nothing is ever taken back from the
// driver and nothing is returned half-written.

import type { DmaSpace } from '../../../memory/dma.js';
import { DescriptorChain } from '../chain.js';
import { QueueError } from '../queue-error.js';
import type { SplitQueue } from '../queue.js';
import { NET_HDR_NUM_BUFFERS, VIRTIO_NET_HDR_SIZE } from './constants.js';

/** take(): a chain is now held, the ring has none, the ring broke, or a chain too small for a header came back unused. */
export const TAKE_HELD = 1;
export const TAKE_NONE = 0;
export const TAKE_BROKEN = -1;
export const TAKE_DISCARDED = 2;

export class RxBuffers {
  /** Held chains (their device-writable buffers), a ring of up to the queue's maximum size. */
  private readonly pool: DescriptorChain[] = [];
  private first = 0;
  /** Chains held, and their device-writable bytes. */
  count = 0;
  bytes = 0;

  constructor(readonly maxSize: number) {}

  /** Drops every held chain (device reset: the queue forgets them too). */
  reset(): void { this.first = 0; this.count = 0; this.bytes = 0; }

  /** Held chain `i` (0 = the oldest). */
  chain(i: number): DescriptorChain { return this.pool[(this.first + i) % this.maxSize]!; }

  /**
   * Takes the next available chain from `q` and holds its device-writable buffers. A chain with fewer writable bytes
   * than the header is useless for receiving: it goes back at once with used length 0 (TAKE_DISCARDED).
   */
  take(q: SplitQueue, dma: DmaSpace): number {
    const c = q.pop(dma);
    if (c === null) return TAKE_NONE;
    if (c instanceof QueueError) return TAKE_BROKEN;
    if (c.writableBytes < VIRTIO_NET_HDR_SIZE) return q.push(dma, c.head, 0) === null ? TAKE_DISCARDED : TAKE_BROKEN;
    const slot = (this.first + this.count) % this.maxSize;
    let h = this.pool[slot];
    if (h === undefined) { h = new DescriptorChain(); this.pool[slot] = h; }
    h.reset(c.head);
    for (let i = c.readable; i < c.count; i++) h.add(c.addr(i), c.len(i), true);
    this.count++;
    this.bytes += h.writableBytes;
    return TAKE_HELD;
  }

  /** Forgets the `n` oldest held chains (they were returned to the driver). */
  release(n: number): void {
    for (let i = 0; i < n; i++) this.bytes -= this.chain(i).writableBytes;
    this.first = (this.first + n) % this.maxSize;
    this.count -= n;
  }

  /** How many of the oldest held chains `need` bytes take (count + 1 when they are not enough). */
  buffersFor(need: number): number {
    let acc = 0;
    for (let i = 0; i < this.count; i++) {
      acc += this.chain(i).writableBytes;
      if (acc >= need) return i + 1;
    }
    return this.count + 1;
  }

  /**
   * Writes header `hdr` (num_buffers filled in here) and `frame` across the `n` oldest held chains, then returns them
   * all to the driver with the bytes each got, and forgets them. Returns false when the queue broke; a buffer the
   * DmaSpace refuses breaks it before any of the frame's buffers is used, so the driver never sees part of a frame.
   */
  write(q: SplitQueue, dma: DmaSpace, hdr: Uint8Array, frame: Uint8Array, n: number): boolean {
    hdr[NET_HDR_NUM_BUFFERS] = n & 0xff;
    hdr[NET_HDR_NUM_BUFFERS + 1] = (n >> 8) & 0xff;
    const need = VIRTIO_NET_HDR_SIZE + frame.length;
    let pos = 0;
    for (let k = 0; k < n; k++) {
      const c = this.chain(k);
      const len = Math.min(c.writableBytes, need - pos);
      if (!this.writePart(q, dma, c, hdr, frame, pos, len)) return false;
      pos += len;
    }
    pos = 0;
    for (let k = 0; k < n; k++) {
      const c = this.chain(k);
      const len = Math.min(c.writableBytes, need - pos);
      if (q.push(dma, c.head, len) !== null) return false;
      pos += len;
    }
    this.release(n);
    return true;
  }

  /** Bytes [pos, pos + len) of header-then-frame into the start of chain `c`. */
  private writePart(q: SplitQueue, dma: DmaSpace, c: DescriptorChain, hdr: Uint8Array, frame: Uint8Array, pos: number, len: number): boolean {
    const H = VIRTIO_NET_HDR_SIZE;
    let at = 0;
    if (pos < H) {
      const h = Math.min(H - pos, len);
      if (q.write(dma, c, 0, h === H ? hdr : hdr.subarray(pos, pos + h)) < 0) return false;
      at = h;
    }
    if (at === len) return true;
    const from = pos + at - H;
    const to = pos + len - H;
    const part = from === 0 && to === frame.length ? frame : frame.subarray(from, to);
    return q.write(dma, c, at, part) >= 0;
  }
}
