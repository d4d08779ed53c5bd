// Why a split virtqueue is broken (virtio 1.2 §2.7, §2.1.2 "DEVICE_NEEDS_RESET"): each check of the chain walk
// and of the rings has its own code, after Firecracker's `QueueError`/`Request::parse` errors. A QueueError is a
// value, never thrown: the device that meets one sets DEVICE_NEEDS_RESET and stops using the queue until reset.

export type QueueErrorCode =
  /** QueueReady with a size that is not a power of two in 1..QueueNumMax. */
  | 'bad-size'
  /** A ring address that is not an exact bus address, or not aligned as §2.7 requires. */
  | 'bad-address'
  /** The DmaSpace refused a read of the available ring (idx, ring entry or used_event). */
  | 'avail-ring-fault'
  /** The DmaSpace refused a write to the used ring. */
  | 'used-ring-fault'
  /** avail.idx ran more than the queue size ahead of the device. */
  | 'avail-idx-jump'
  /** An available ring entry names a descriptor past the end of the table. */
  | 'head-out-of-range'
  /** The DmaSpace refused a read of a descriptor (main table or indirect table). */
  | 'descriptor-fault'
  /** A buffer whose address is not exact, or whose end wraps past the largest bus address. */
  | 'descriptor-address'
  /** `next` points past the end of its table (the main table, or an indirect table). */
  | 'next-out-of-range'
  /** The walk's TTL ran out, or the chain has more buffers than the queue size: a loop in the chain. */
  | 'chain-too-long'
  /** The lengths of the chain's buffers add up to 2^32 bytes or more. */
  | 'chain-length-overflow'
  /** A device-readable buffer after a device-writable one (§2.7.4.2: readable ones come first). */
  | 'readable-after-writable'
  /** VIRTQ_DESC_F_INDIRECT when VIRTIO_RING_F_INDIRECT_DESC was not negotiated. */
  | 'indirect-not-negotiated'
  /** VIRTQ_DESC_F_INDIRECT inside an indirect table. */
  | 'indirect-in-indirect'
  /** VIRTQ_DESC_F_INDIRECT together with VIRTQ_DESC_F_NEXT. */
  | 'indirect-with-next'
  /** An indirect table of length 0. */
  | 'indirect-empty'
  /** An indirect table whose length is not a multiple of 16 bytes. */
  | 'indirect-bad-length'
  /** The DmaSpace refused an access to a buffer of a chain (found when the device copies). */
  | 'buffer-fault'
  /** The device returned more buffers than it took (a device bug, kept from corrupting the used ring). */
  | 'used-without-pop';

export class QueueError {
  constructor(
    /** Index of the queue in its device. */
    readonly queue: number,
    readonly code: QueueErrorCode,
    /** What was found, with the guest values involved. */
    readonly detail: string,
  ) {}

  get message(): string {
    return `virtqueue ${this.queue}: ${this.code}: ${this.detail}; the device needs a reset (the driver's ring is not usable)`;
  }

  toString(): string { return this.message; }
}
