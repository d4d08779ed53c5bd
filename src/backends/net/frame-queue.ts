// A bounded FIFO of Ethernet frames held in one preallocated byte ring, so queueing a frame copies it once and
// allocates nothing: frames waiting for a NIC between the scheduler's delivery points (port.ts).
//
// Each frame is stored contiguously. When a frame does not fit between the newest frame and the end of the ring,
// it goes to the start of the ring if the oldest frame leaves room there (the unused tail is skipped); otherwise
// the queue is full. Bounded both in frames and in bytes. A frame may carry GsoInfo (a large TCP packet still to be
// segmented, gso.ts), kept beside it.

import type { GsoInfo } from './gso.js';

/** The GsoInfo of the oldest frame, rewritten by each peekGso(). */
class HeldGso implements GsoInfo {
  v6 = false;
  ecn = false;
  size = 0;
  csumStart = 0;
  hdrLen = 0;
  csumOffset = 0;
}

export class FrameQueue {
  private readonly ring: Uint8Array;
  private readonly offs: Int32Array;
  private readonly lens: Int32Array;
  /** Per slot: gso size (0: a plain frame), then flags (1 v6, 2 ecn), csum_start, hdr_len, csum_offset. */
  private readonly gsoSize: Int32Array;
  private readonly gsoMeta: Int32Array;
  private readonly held0 = new HeldGso();
  /** Index (in offs/lens) of the oldest frame, and the number of frames. */
  private head = 0;
  private count = 0;
  /** Bytes of frame data held (without skipped tails). */
  private held = 0;
  /** Some frames sit at the start of the ring, after frames near its end. */
  private wrapped = false;

  constructor(readonly capacityBytes: number, readonly maxFrames: number) {
    if (!Number.isInteger(capacityBytes) || capacityBytes < 1 || !Number.isInteger(maxFrames) || maxFrames < 1) {
      throw new RangeError(`frame queue needs a positive whole byte capacity and frame count (got ${capacityBytes} bytes, ${maxFrames} frames)`);
    }
    this.ring = new Uint8Array(capacityBytes);
    this.offs = new Int32Array(maxFrames);
    this.lens = new Int32Array(maxFrames);
    this.gsoSize = new Int32Array(maxFrames);
    this.gsoMeta = new Int32Array(maxFrames * 4);
  }

  get length(): number { return this.count; }
  get bytes(): number { return this.held; }

  /** Copies `frame` (and its GsoInfo) in at the back; false (nothing stored) when it does not fit. */
  push(frame: Uint8Array, gso: GsoInfo | null = null): boolean {
    const len = frame.length;
    if (this.count === this.maxFrames || len > this.capacityBytes) return false;
    let off: number;
    if (this.count === 0) {
      off = 0;
      this.wrapped = false;
    } else {
      const last = (this.head + this.count - 1) % this.maxFrames;
      const end = this.offs[last]! + this.lens[last]!;
      const first = this.offs[this.head]!;
      if (this.wrapped) {
        if (end + len > first) return false;
        off = end;
      } else if (end + len <= this.capacityBytes) {
        off = end;
      } else if (len <= first) {
        off = 0;
        this.wrapped = true;
      } else {
        return false;
      }
    }
    this.ring.set(frame, off);
    const slot = (this.head + this.count) % this.maxFrames;
    this.offs[slot] = off;
    this.lens[slot] = len;
    this.gsoSize[slot] = gso === null ? 0 : gso.size;
    if (gso !== null) {
      const m = this.gsoMeta, k = slot * 4;
      m[k] = (gso.v6 ? 1 : 0) | (gso.ecn ? 2 : 0);
      m[k + 1] = gso.csumStart;
      m[k + 2] = gso.hdrLen;
      m[k + 3] = gso.csumOffset;
    }
    this.count++;
    this.held += len;
    return true;
  }

  /** The oldest frame, as a view into the ring that is valid until the next push, shift or clear; null when empty. */
  peek(): Uint8Array | null {
    if (this.count === 0) return null;
    const off = this.offs[this.head]!;
    return this.ring.subarray(off, off + this.lens[this.head]!);
  }

  /** The GsoInfo of the oldest frame (an object reused by the next call), or null for a plain frame or none. */
  peekGso(): GsoInfo | null {
    if (this.count === 0) return null;
    const size = this.gsoSize[this.head]!;
    if (size === 0) return null;
    const m = this.gsoMeta, k = this.head * 4, g = this.held0;
    g.v6 = (m[k]! & 1) !== 0;
    g.ecn = (m[k]! & 2) !== 0;
    g.size = size;
    g.csumStart = m[k + 1]!;
    g.hdrLen = m[k + 2]!;
    g.csumOffset = m[k + 3]!;
    return g;
  }

  /** Drops the oldest frame (no-op when empty). */
  shift(): void {
    if (this.count === 0) return;
    const oldOff = this.offs[this.head]!;
    this.held -= this.lens[this.head]!;
    this.head = (this.head + 1) % this.maxFrames;
    this.count--;
    if (this.count === 0) { this.head = 0; this.wrapped = false; return; }
    // The oldest frame is now the first one at the start of the ring: the data is contiguous again.
    if (this.offs[this.head]! < oldOff) this.wrapped = false;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
    this.held = 0;
    this.wrapped = false;
  }
}
