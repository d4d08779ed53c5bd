// A descriptor chain popped from a split virtqueue (virtio 1.2 §2.7.5 "The Virtqueue Descriptor Table",
// §2.7.5.3 "Indirect Descriptors"), already walked and checked: its buffers as (address, length) pairs, the
// device-readable ones first, then the device-writable ones. One object per queue is reused for every pop, so
// the hot path allocates nothing per descriptor (its arrays grow only when a longer chain than any before shows up).

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
}
