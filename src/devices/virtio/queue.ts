// A split virtqueue, device side (virtio 1.2 §2.7): the descriptor table, available ring and used ring live in
// guest memory at addresses the driver gave; this object holds only the device's indices and the queue
// configuration. It never holds guest memory: every operation takes the DmaSpace to use (rust-vmm virtio-queue's
// habit), so an IOMMU-translated space slots in for an assigned function. A bad ring is a QueueError value (the
// device then sets DEVICE_NEEDS_RESET), never a throw and never a hang: every chain walk carries a TTL.
//
// Supports VIRTIO_RING_F_INDIRECT_DESC (§2.7.5.3) and VIRTIO_RING_F_EVENT_IDX in both directions (§2.7.7
// used_event before interrupting, §2.7.10 avail_event published to suppress notifications).

import { DMA_MAX_ADDR, dmaAddr, type DmaSpace } from '../../memory/dma.js';
import type { CostKind } from '../../metrics/cost.js';
import { DescriptorChain } from './chain.js';
import {
  VIRTQ_AVAIL_ALIGN, VIRTQ_AVAIL_F_NO_INTERRUPT, VIRTQ_DESC_ALIGN, VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT,
  VIRTQ_DESC_F_WRITE, VIRTQ_DESC_SIZE, VIRTQ_MAX_SIZE, VIRTQ_USED_ALIGN, virtqAvailBytes, virtqDescBytes,
  virtqUsedBytes, vringNeedEvent,
} from './constants.js';
import { QueueCounters } from './queue-counters.js';
import { QueueError, type QueueErrorCode } from './queue-error.js';

/** What the queue charges backend copies to (the VM's CostMeter). */
export interface CostCharger {
  charge(kind: CostKind, n?: number): number;
}

const TWO32 = 0x1_0000_0000;
const MAX_CHAIN_BYTES = 0xffff_ffff;

export class SplitQueue {
  // Configuration, as the driver wrote it through the transport (64-bit areas kept exact as bigints).
  size: number;
  desc = 0n;
  driver = 0n;
  device = 0n;
  /** QueueReady: set only by enable() after the configuration checked out. */
  ready = false;
  // Negotiated ring features (set by the transport at FEATURES_OK).
  eventIdx = false;
  indirectDesc = false;

  // Resolved areas (valid while ready).
  private descAddr = 0;
  private driverAddr = 0;
  private deviceAddr = 0;
  // Device state (§2.7: 16-bit free-running indices).
  nextAvail = 0;
  nextUsed = 0;
  /** used.idx when needsInterrupt() last decided (Linux's "old" in vring_need_event). */
  private signalledUsed = 0;
  /** Chains available beyond nextAvail as of the last read of avail.idx. */
  private pendingAvail = 0;
  /** Chains popped and not yet pushed back. */
  inFlight = 0;
  /** The avail_event value last published (EVENT_IDX); the driver zeroes the used ring, so it starts at 0. */
  private availEvent = 0;
  /** The first error; the queue does nothing more until reset. */
  error: QueueError | null = null;

  /** The chain pop() fills in (reused: handle one chain before popping the next). */
  readonly chain = new DescriptorChain();
  readonly counters: QueueCounters;
  private readonly descBuf = new Uint8Array(VIRTQ_DESC_SIZE);
  private readonly descView = new DataView(this.descBuf.buffer);

  constructor(readonly index: number, readonly maxSize: number, name = `q${index}`, public cost: CostCharger | null = null) {
    if (!Number.isInteger(maxSize) || maxSize < 1 || maxSize > VIRTQ_MAX_SIZE || (maxSize & (maxSize - 1)) !== 0) {
      throw new RangeError(`queue ${name}: maximum size ${maxSize} must be a power of two in 1..${VIRTQ_MAX_SIZE}`);
    }
    this.size = maxSize;
    this.counters = new QueueCounters(name);
  }

  /** Back to the power-on state (device reset): not ready, default size, no areas, indices 0. Counters stay. */
  reset(): void {
    this.size = this.maxSize;
    this.desc = this.driver = this.device = 0n;
    this.ready = false;
    this.eventIdx = this.indirectDesc = false;
    this.descAddr = this.driverAddr = this.deviceAddr = 0;
    this.nextAvail = this.nextUsed = this.signalledUsed = this.pendingAvail = this.inFlight = this.availEvent = 0;
    this.error = null;
  }

  /** Sets the device's ring indices (restoring a snapshot; tests start near the 16-bit wrap). */
  restoreIndices(nextAvail: number, nextUsed: number): void {
    this.nextAvail = nextAvail & 0xffff;
    this.nextUsed = this.signalledUsed = nextUsed & 0xffff;
    this.availEvent = this.nextAvail;
    this.pendingAvail = 0;
  }

  private fail(code: QueueErrorCode, detail: string): QueueError {
    if (this.error === null) {
      this.error = new QueueError(this.index, code, detail);
      this.counters.errors++;
    }
    return this.error;
  }

  /** Records a fault the device met copying a chain's buffer (the DmaSpace refused its address). */
  bufferFault(addr: number, len: number, code: number): QueueError {
    return this.fail('buffer-fault', `the DmaSpace refused ${len} bytes at 0x${addr.toString(16)} (fault ${code})`);
  }

  // guest-controlled: size and the three areas, written by the driver through the transport.
  /** QueueReady=1: checks the configuration (§2.7 sizes and alignments) and starts the queue. */
  enable(): QueueError | null {
    const s = this.size;
    if (!Number.isInteger(s) || s < 1 || s > this.maxSize || (s & (s - 1)) !== 0) {
      return this.fail('bad-size', `queue size ${s} is not a power of two in 1..${this.maxSize}`);
    }
    const area = (v: bigint, align: number, bytes: number, what: string): number => {
      const a = dmaAddr(v);
      if (a < 0 || a + bytes - 1 > DMA_MAX_ADDR) { this.fail('bad-address', `${what} 0x${v.toString(16)} is not a usable bus address`); return -1; }
      if (a % align !== 0) { this.fail('bad-address', `${what} 0x${v.toString(16)} is not ${align}-byte aligned`); return -1; }
      return a;
    };
    const d = area(this.desc, VIRTQ_DESC_ALIGN, virtqDescBytes(s), 'descriptor table');
    const a = area(this.driver, VIRTQ_AVAIL_ALIGN, virtqAvailBytes(s), 'available ring');
    const u = area(this.device, VIRTQ_USED_ALIGN, virtqUsedBytes(s), 'used ring');
    if (d < 0 || a < 0 || u < 0) return this.error;
    this.descAddr = d; this.driverAddr = a; this.deviceAddr = u;
    this.ready = true;
    return null;
  }

  // guest-controlled: avail.idx, the ring entry and every descriptor of the chain.
  /**
   * Takes the next available chain: the queue's (reused) chain object, null when nothing is available (or the
   * queue is not ready), or the QueueError that broke the queue.
   */
  pop(dma: DmaSpace): DescriptorChain | QueueError | null {
    if (this.error !== null) return this.error;
    if (!this.ready) return null;
    if (this.pendingAvail === 0) {
      const idx = dma.read16(this.driverAddr + 2);
      if (idx < 0) return this.fail('avail-ring-fault', `avail.idx at 0x${(this.driverAddr + 2).toString(16)} (fault ${-idx})`);
      const pending = (idx - this.nextAvail) & 0xffff;
      if (pending > this.size) return this.fail('avail-idx-jump', `avail.idx ${idx} is ${pending} ahead of the device's ${this.nextAvail}; at most the queue size ${this.size}`);
      if (pending === 0) return null;
      this.pendingAvail = pending;
    }
    const pos = this.nextAvail;
    const slot = this.driverAddr + 4 + 2 * (pos & (this.size - 1));
    const head = dma.read16(slot);
    if (head < 0) return this.fail('avail-ring-fault', `avail.ring entry at 0x${slot.toString(16)} (fault ${-head})`);
    if (head >= this.size) return this.fail('head-out-of-range', `avail.ring[${pos & (this.size - 1)}] = ${head}; the table has ${this.size} descriptors`);
    const err = this.walk(dma, head);
    if (err !== null) return err;
    this.nextAvail = (pos + 1) & 0xffff;
    this.pendingAvail--;
    this.inFlight++;
    const c = this.counters;
    c.chains++;
    c.descriptors += this.chain.descriptors;
    if (this.eventIdx && pos !== this.availEvent) c.notifySuppressed++;
    return this.chain;
  }

  /** Walks the chain at `head` into this.chain, checking every rule of §2.7.5; allocates nothing. */
  private walk(dma: DmaSpace, head: number): QueueError | null {
    const c = this.chain;
    c.reset(head);
    let table = this.descAddr;
    let entries = this.size;
    let i = head;
    let ttl = this.size;
    let inIndirect = false;
    const v = this.descView;
    for (;;) {
      if (ttl === 0) return this.fail('chain-too-long', `the walk from head ${head} visited ${inIndirect ? entries : this.size} descriptors of its table without an end (a loop?)`);
      ttl--;
      const at = table + VIRTQ_DESC_SIZE * i;
      const r = dma.read(at, this.descBuf);
      if (r !== 0) return this.fail('descriptor-fault', `descriptor ${i} at 0x${at.toString(16)}${inIndirect ? ' (indirect table)' : ''} (fault ${r})`);
      c.descriptors++;
      const hi = v.getUint32(4, true);
      const addr = hi < 0x20_0000 ? hi * TWO32 + v.getUint32(0, true) : -1;
      const len = v.getUint32(8, true);
      const flags = v.getUint16(12, true);
      const next = v.getUint16(14, true);
      if ((flags & VIRTQ_DESC_F_INDIRECT) !== 0) {
        if (!this.indirectDesc) return this.fail('indirect-not-negotiated', `descriptor ${i} has VIRTQ_DESC_F_INDIRECT`);
        if (inIndirect) return this.fail('indirect-in-indirect', `descriptor ${i} of an indirect table points at another table`);
        if ((flags & VIRTQ_DESC_F_NEXT) !== 0) return this.fail('indirect-with-next', `descriptor ${i} has both INDIRECT and NEXT`);
        if (len === 0) return this.fail('indirect-empty', `descriptor ${i} points at an indirect table of length 0`);
        if (len % VIRTQ_DESC_SIZE !== 0) return this.fail('indirect-bad-length', `indirect table length ${len} is not a multiple of ${VIRTQ_DESC_SIZE}`);
        if (addr < 0 || addr + len - 1 > DMA_MAX_ADDR) return this.fail('descriptor-address', `indirect table at 0x${(hi * TWO32).toString(16)}+${len} is not a usable bus address`);
        table = addr;
        entries = len / VIRTQ_DESC_SIZE;
        ttl = entries;
        i = 0;
        inIndirect = true;
        c.indirect = true;
        continue;
      }
      const writable = (flags & VIRTQ_DESC_F_WRITE) !== 0;
      if (!writable && c.writableCount > 0) return this.fail('readable-after-writable', `descriptor ${i} is device-readable after a device-writable one`);
      if (c.count === this.size) return this.fail('chain-too-long', `the chain from head ${head} has more than the queue size ${this.size} buffers (a loop?)`);
      if (addr < 0 || (len > 0 && addr + len - 1 > DMA_MAX_ADDR)) return this.fail('descriptor-address', `descriptor ${i}: buffer of ${len} bytes at high dword 0x${hi.toString(16)} is not a usable bus address`);
      if (c.readableBytes + c.writableBytes + len > MAX_CHAIN_BYTES) return this.fail('chain-length-overflow', `the chain from head ${head} is 2^32 bytes or longer`);
      c.add(addr, len, writable);
      if ((flags & VIRTQ_DESC_F_NEXT) === 0) return null;
      if (next >= entries) return this.fail('next-out-of-range', `descriptor ${i} has next = ${next}; its ${inIndirect ? 'indirect ' : ''}table has ${entries} entries`);
      i = next;
    }
  }

  /** Returns chain `head` to the driver with `len` bytes written into its device-writable buffers (§2.7.8). */
  push(dma: DmaSpace, head: number, len: number): QueueError | null {
    if (this.error !== null) return this.error;
    if (this.inFlight === 0) return this.fail('used-without-pop', `the device returned chain ${head} without taking one`);
    const slot = this.deviceAddr + 4 + 8 * (this.nextUsed & (this.size - 1));
    if (dma.write32(slot, head) !== 0 || dma.write32(slot + 4, len >>> 0) !== 0) {
      return this.fail('used-ring-fault', `used.ring entry at 0x${slot.toString(16)}`);
    }
    this.nextUsed = (this.nextUsed + 1) & 0xffff;
    if (dma.write16(this.deviceAddr + 2, this.nextUsed) !== 0) return this.fail('used-ring-fault', `used.idx at 0x${(this.deviceAddr + 2).toString(16)}`);
    this.inFlight--;
    return null;
  }

  // guest-controlled: used_event or avail.flags.
  /**
   * Whether the driver wants a used-buffer notification for what was pushed since the last call (§2.7.7):
   * used_event with EVENT_IDX, otherwise VIRTQ_AVAIL_F_NO_INTERRUPT. Counts the interrupt as sent or suppressed.
   * A ring it cannot read breaks the queue and answers true (an extra interrupt is harmless).
   */
  needsInterrupt(dma: DmaSpace): boolean {
    if (!this.ready) return false;
    const old = this.signalledUsed;
    const now = this.nextUsed;
    this.signalledUsed = now;
    if (old === now) return false;
    let need: boolean;
    if (this.eventIdx) {
      const ev = dma.read16(this.driverAddr + 4 + 2 * this.size);
      if (ev < 0) { this.fail('avail-ring-fault', `used_event (fault ${-ev})`); return true; }
      need = vringNeedEvent(ev, now, old);
    } else {
      const flags = dma.read16(this.driverAddr);
      if (flags < 0) { this.fail('avail-ring-fault', `avail.flags (fault ${-flags})`); return true; }
      need = (flags & VIRTQ_AVAIL_F_NO_INTERRUPT) === 0;
    }
    if (need) this.counters.interrupts++; else this.counters.interruptsSuppressed++;
    return need;
  }

  /**
   * Called when the device has drained the ring: with EVENT_IDX, publishes avail_event = the next index it will
   * take (the driver notifies again only when it makes that entry available, §2.7.10). Returns whether more
   * chains arrived meanwhile (then the device keeps processing instead of waiting for a notification).
   */
  enableNotification(dma: DmaSpace): boolean {
    if (!this.ready || this.error !== null) return false;
    if (this.eventIdx) {
      const at = this.deviceAddr + 4 + 8 * this.size;
      if (dma.write16(at, this.nextAvail) !== 0) { this.fail('used-ring-fault', `avail_event at 0x${at.toString(16)}`); return false; }
      this.availEvent = this.nextAvail;
    }
    const idx = dma.read16(this.driverAddr + 2);
    if (idx < 0) { this.fail('avail-ring-fault', `avail.idx (fault ${-idx})`); return false; }
    this.pendingAvail = 0;
    return ((idx - this.nextAvail) & 0xffff) !== 0;
  }

  /**
   * Copies device-readable bytes of `chain`, starting `offset` bytes into its readable part, into `dst`. Returns
   * the bytes copied (fewer than dst.length when the chain is shorter) or a negative DMA fault code (the queue is
   * then broken with 'buffer-fault').
   */
  read(dma: DmaSpace, chain: DescriptorChain, offset: number, dst: Uint8Array): number {
    return this.copy(dma, chain, 0, chain.readable, offset, dst, false);
  }

  /** Copies `src` into the device-writable buffers of `chain` from `offset`; bytes copied or a negative fault. */
  write(dma: DmaSpace, chain: DescriptorChain, offset: number, src: Uint8Array): number {
    return this.copy(dma, chain, chain.readable, chain.count, offset, src, true);
  }

  private copy(dma: DmaSpace, chain: DescriptorChain, from: number, to: number, offset: number, buf: Uint8Array, write: boolean): number {
    const r = chain.copy(dma, from, to, offset, buf, write);
    const c = this.counters;
    c.copies += chain.lastCopies;
    if (r < 0) { this.bufferFault(chain.faultAddr, chain.faultLen, -r); return r; }
    if (write) c.bytesWritten += r; else c.bytesRead += r;
    this.cost?.charge('copyPerByte', r);
    return r;
  }
}
