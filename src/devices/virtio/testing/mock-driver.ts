// A mock guest driver for a split virtqueue (rust-vmm's MockSplitQueue habit): it lays out real rings in a
// GuestMemory the way a driver would (virtio 1.2 §2.7, "Supplying Buffers to The Device"), adds direct and
// indirect chains, reads the used ring, follows the notification-suppression rules, and can write hostile rings.
// It is the guest: it touches GuestMemory directly, while the device under test goes through a DmaSpace.

import type { GuestMemory } from '../../../memory/guest-memory.js';
import {
  VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE, VIRTQ_DESC_SIZE,
  VIRTQ_USED_F_NO_NOTIFY, virtqAvailBytes, virtqDescBytes, virtqUsedBytes, vringNeedEvent,
} from '../constants.js';
import type { SplitQueue } from '../queue.js';

/** One buffer of a chain: device-readable with `data`, or device-writable of `len` bytes. */
export type Segment = { data: Uint8Array } | { len: number };

export interface MockBuffer { addr: number; len: number; write: boolean }

export interface MockChain {
  head: number;
  buffers: MockBuffer[];
  /** Descriptor indices in the main table: the chain's, or just the one pointing at the indirect table. */
  ids: number[];
  /** The indirect table's address, or -1. */
  table: number;
}

export interface UsedElem { id: number; len: number }

export interface MockDriverOptions {
  /** Guest physical address of the rings (16-byte aligned) and the queue size. */
  base: number;
  size: number;
  /** Where buffers and indirect tables are allocated (wraps around when full). */
  dataBase: number;
  dataSize: number;
  /** Whether the driver follows VIRTIO_RING_F_EVENT_IDX (used_event / avail_event). */
  eventIdx?: boolean;
}

const align = (v: number, a: number): number => Math.ceil(v / a) * a;

export class MockDriver {
  readonly size: number;
  readonly desc: number;
  readonly avail: number;
  readonly used: number;
  /** The end of the ring area. */
  readonly end: number;
  readonly eventIdx: boolean;
  /** The driver's avail.idx (published with publish()), and the used.idx it has read up to. */
  availIdx = 0;
  lastUsed = 0;
  private publishedIdx = 0;
  private readonly free: number[] = [];
  private readonly owned = new Map<number, number[]>();
  private dataNext: number;

  constructor(readonly mem: GuestMemory, readonly opts: MockDriverOptions) {
    this.size = opts.size;
    this.desc = opts.base;
    this.avail = this.desc + virtqDescBytes(opts.size);
    this.used = align(this.avail + virtqAvailBytes(opts.size), 4);
    this.end = this.used + virtqUsedBytes(opts.size);
    this.eventIdx = opts.eventIdx ?? false;
    this.dataNext = opts.dataBase;
    mem.fill(this.desc, this.end - this.desc, 0);
    for (let i = this.size - 1; i >= 0; i--) this.free.push(i);
  }

  /** Hands the ring layout to a device-side queue and starts it, as the transport would. */
  attach(q: SplitQueue): void {
    q.size = this.size;
    q.desc = BigInt(this.desc);
    q.driver = BigInt(this.avail);
    q.device = BigInt(this.used);
    q.eventIdx = this.eventIdx;
    const err = q.enable();
    if (err !== null) throw new Error(`mock driver: the queue refused the layout: ${err.message}`);
  }

  /** Starts both rings at index `idx` (with queue.restoreIndices(idx, idx) on the device side: wrap-around tests). */
  startAt(idx: number): void {
    this.availIdx = this.lastUsed = idx & 0xffff;
    this.setAvailIdx(idx);
    this.mem.write16(this.used - this.mem.base + 2, idx & 0xffff);
    this.mem.write16(this.used - this.mem.base + 4 + 8 * this.size, idx & 0xffff);
  }

  get freeDescriptors(): number { return this.free.length; }

  /** Allocates `len` bytes (16-byte aligned) in the data area, wrapping to its start when full. */
  alloc(len: number): number {
    const { dataBase, dataSize } = this.opts;
    if (len > dataSize) throw new RangeError(`mock driver: ${len} bytes do not fit the ${dataSize}-byte data area`);
    if (this.dataNext + len > dataBase + dataSize) this.dataNext = dataBase;
    const a = this.dataNext;
    this.dataNext = align(a + Math.max(len, 1), 16);
    return a;
  }

  /** Writes descriptor `i` of the table at `table` (any values: hostile rings use this directly). */
  writeDesc(table: number, i: number, addr: number | bigint, len: number, flags: number, next: number): void {
    const o = table - this.mem.base + i * VIRTQ_DESC_SIZE;
    this.mem.write64(o, BigInt.asUintN(64, BigInt(addr)));
    this.mem.write32(o + 8, len >>> 0);
    this.mem.write16(o + 12, flags & 0xffff);
    this.mem.write16(o + 14, next & 0xffff);
  }

  /**
   * Adds a chain (readable segments must come before writable ones, as §2.7.4.2 asks), in the main table or
   * through an indirect table; puts its head in the available ring. Returns null when descriptors run out.
   * The chain is visible to the device after publish() (or at once unless `defer`).
   */
  add(segments: readonly Segment[], opts: { indirect?: boolean; defer?: boolean } = {}): MockChain | null {
    const indirect = opts.indirect ?? false;
    const need = indirect ? 1 : segments.length;
    if (segments.length === 0 || this.free.length < need) return null;
    const buffers: MockBuffer[] = segments.map((s) => {
      const write = 'len' in s;
      const len = write ? s.len : s.data.length;
      const addr = this.alloc(len);
      if (!write) this.mem.load(addr, s.data);
      return { addr, len, write };
    });
    const ids = Array.from({ length: need }, () => this.free.pop()!);
    const head = ids[0]!;
    let table = -1;
    if (indirect) {
      table = this.alloc(buffers.length * VIRTQ_DESC_SIZE);
      buffers.forEach((b, i) => this.writeDesc(table, i, b.addr, b.len, (b.write ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < buffers.length ? VIRTQ_DESC_F_NEXT : 0), i + 1));
      this.writeDesc(this.desc, head, table, buffers.length * VIRTQ_DESC_SIZE, VIRTQ_DESC_F_INDIRECT, 0);
    } else {
      buffers.forEach((b, i) => this.writeDesc(this.desc, ids[i]!, b.addr, b.len, (b.write ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < buffers.length ? VIRTQ_DESC_F_NEXT : 0), ids[i + 1] ?? 0));
    }
    this.owned.set(head, ids);
    this.putAvail(head);
    if (opts.defer !== true) this.publish();
    return { head, buffers, ids, table };
  }

  /** Puts `head` in the next available ring slot without publishing it (hostile rings use any head). */
  putAvail(head: number): void {
    this.mem.write16(this.avail - this.mem.base + 4 + 2 * (this.availIdx % this.size), head & 0xffff);
    this.availIdx = (this.availIdx + 1) & 0xffff;
  }

  /** Writes avail.idx. Returns whether the device must be notified (§2.7.10: avail_event, or used.flags). */
  publish(): boolean {
    const old = this.publishedIdx;
    this.setAvailIdx(this.availIdx);
    if (this.eventIdx) return vringNeedEvent(this.availEvent, this.availIdx, old);
    return (this.mem.read16(this.used - this.mem.base) & VIRTQ_USED_F_NO_NOTIFY) === 0 && old !== this.availIdx;
  }

  /** Writes any avail.idx (hostile rings: jumps, decrements). */
  setAvailIdx(v: number): void {
    this.mem.write16(this.avail - this.mem.base + 2, v & 0xffff);
    this.publishedIdx = v & 0xffff;
  }

  /** The device's avail_event (after the used ring). */
  get availEvent(): number { return this.mem.read16(this.used - this.mem.base + 4 + 8 * this.size); }
  /** used.idx as the device wrote it. */
  get usedIdx(): number { return this.mem.read16(this.used - this.mem.base + 2); }
  /** Sets used_event (after the available ring): interrupt me when used.idx passes it. */
  set usedEvent(v: number) { this.mem.write16(this.avail - this.mem.base + 4 + 2 * this.size, v & 0xffff); }
  /** Sets or clears VIRTQ_AVAIL_F_NO_INTERRUPT. */
  set noInterrupt(on: boolean) { this.mem.write16(this.avail - this.mem.base, on ? VIRTQ_AVAIL_F_NO_INTERRUPT : 0); }

  /** Reads the used entries since the last call and frees their descriptors. */
  takeUsed(): UsedElem[] {
    const out: UsedElem[] = [];
    const idx = this.usedIdx;
    while (this.lastUsed !== idx) {
      const o = this.used - this.mem.base + 4 + 8 * (this.lastUsed % this.size);
      const e = { id: this.mem.read32(o), len: this.mem.read32(o + 4) };
      out.push(e);
      const ids = this.owned.get(e.id);
      if (ids !== undefined) { this.owned.delete(e.id); this.free.push(...ids); }
      this.lastUsed = (this.lastUsed + 1) & 0xffff;
    }
    return out;
  }

  /** Bytes of guest memory (a writable buffer's contents after the device used it). */
  read(addr: number, len: number): Uint8Array { return this.mem.slice(addr, len); }
}
