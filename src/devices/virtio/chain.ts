// A descriptor chain popped from a split virtqueue (virtio 1.2 §2.7.5 "The Virtqueue Descriptor Table",
// §2.7.5.3 "Indirect Descriptors"), already walked and checked: its buffers as (address, length) pairs, the
// device-readable ones first, then the device-writable ones. One object per queue is reused for every pop, so
// the hot path allocates nothing per descriptor (its arrays grow only when a longer chain than any before shows up).

import type { DmaSpace } from '../../memory/dma.js';

const INITIAL_CAPACITY = 16;

export class DescriptorChain {
  /** Index of the head descriptor: the id the device returns in the used ring. */
  head = 0;
  /** Buffers in the chain (descriptors that point at an indirect table are not buffers). */
  count = 0;
  /** The first `readable` buffers are device-readable; the rest are device-writable. */
  readable = 0;
  /** Total length of the device-readable buffers, and of the device-writable ones (each < 2^32). */
  readableBytes = 0;
  writableBytes = 0;
  /** Descriptors read from guest memory to build the chain (buffers plus indirect-table pointers). */
  descriptors = 0;
  /** Whether the chain went through an indirect table. */
  indirect = false;
  /** DMA copies the last copy() made, and where it faulted (when it returned a fault). */
  lastCopies = 0;
  faultAddr = 0;
  faultLen = 0;
  // Where the last copy ended (first buffer of its part, buffer index, the part's offset of that buffer's start):
  // sequential copies of a request's data in chunks resume there, O(buffers) per chain rather than per call.
  private curFrom = -1;
  private curIndex = 0;
  private curBase = 0;
  private addrs = new Float64Array(INITIAL_CAPACITY);
  private lens = new Uint32Array(INITIAL_CAPACITY);

  /** Starts an empty chain at `head`. */
  reset(head: number): void {
    this.head = head;
    this.count = 0;
    this.readable = 0;
    this.readableBytes = 0;
    this.writableBytes = 0;
    this.descriptors = 0;
    this.indirect = false;
    this.curFrom = -1;
  }

  /** Appends a buffer; the caller (the queue's walk) has checked the order and the totals. */
  add(addr: number, len: number, writable: boolean): void {
    if (this.count === this.addrs.length) this.grow();
    this.addrs[this.count] = addr;
    this.lens[this.count] = len;
    this.count++;
    if (writable) this.writableBytes += len;
    else { this.readable++; this.readableBytes += len; }
  }

  private grow(): void {
    const addrs = new Float64Array(this.addrs.length * 2);
    const lens = new Uint32Array(this.lens.length * 2);
    addrs.set(this.addrs);
    lens.set(this.lens);
    this.addrs = addrs;
    this.lens = lens;
  }

  /** Guest address of buffer `i` (0 ≤ i < count). */
  addr(i: number): number { return this.addrs[i]!; }
  /** Length of buffer `i`. */
  len(i: number): number { return this.lens[i]!; }
  /** Whether buffer `i` is device-writable. */
  writable(i: number): boolean { return i >= this.readable; }
  /** Number of device-writable buffers (they follow the readable ones). */
  get writableCount(): number { return this.count - this.readable; }

  /**
   * Copies between `buf` and the part of the chain made of buffers [from, to), starting `offset` bytes into the
   * part (into guest memory when `write`). Returns the bytes copied (fewer when the part is shorter) or a negative
   * DMA fault code, with faultAddr/faultLen set. The queue (read/write) counts and charges the copies.
   */
  copy(dma: DmaSpace, from: number, to: number, offset: number, buf: Uint8Array, write: boolean): number {
    let i = from;
    let skip = offset;
    if (this.curFrom === from && offset >= this.curBase) { i = this.curIndex; skip = offset - this.curBase; }
    let done = 0;
    this.lastCopies = 0;
    for (; i < to && done < buf.length; i++) {
      const len = this.lens[i]!;
      if (skip >= len) { skip -= len; continue; }
      const n = Math.min(len - skip, buf.length - done);
      const addr = this.addrs[i]! + skip;
      const part = done === 0 && n === buf.length ? buf : buf.subarray(done, done + n);
      const r = write ? dma.write(addr, part) : dma.read(addr, part);
      if (r !== 0) { this.faultAddr = addr; this.faultLen = n; return -r; }
      this.lastCopies++;
      done += n;
      if (done === buf.length) { this.curFrom = from; this.curIndex = i; this.curBase = offset + done - (skip + n); break; }
      skip = 0;
    }
    return done;
  }
}
