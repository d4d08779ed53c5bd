// Virtio constants shared by the queue, the transports and the devices, named as in Linux 6.12's
// include/uapi/linux/virtio_{config,ring,ids}.h and virtio 1.2 §2.1 (device status), §2.7 (split virtqueues), §6
// (reserved feature bits).

// Device status bits (§2.1, virtio_config.h).
export const VIRTIO_CONFIG_S_ACKNOWLEDGE = 1;
export const VIRTIO_CONFIG_S_DRIVER = 2;
export const VIRTIO_CONFIG_S_DRIVER_OK = 4;
export const VIRTIO_CONFIG_S_FEATURES_OK = 8;
export const VIRTIO_CONFIG_S_NEEDS_RESET = 0x40;
export const VIRTIO_CONFIG_S_FAILED = 0x80;

// Reserved feature bits (§6, virtio_config.h and virtio_ring.h): bit numbers.
export const VIRTIO_F_NOTIFY_ON_EMPTY = 24;
export const VIRTIO_F_ANY_LAYOUT = 27;
export const VIRTIO_RING_F_INDIRECT_DESC = 28;
export const VIRTIO_RING_F_EVENT_IDX = 29;
export const VIRTIO_F_VERSION_1 = 32;
export const VIRTIO_F_ACCESS_PLATFORM = 33;
export const VIRTIO_F_RING_PACKED = 34;
export const VIRTIO_F_IN_ORDER = 35;
export const VIRTIO_F_NOTIFICATION_DATA = 38;
export const VIRTIO_F_RING_RESET = 40;

/** The 64-bit feature mask of bit `n`. */
export function feature(n: number): bigint { return 1n << BigInt(n); }

/** Whether `features` has bit `n`. */
export function hasFeature(features: bigint, n: number): boolean { return (features & feature(n)) !== 0n; }

// Split virtqueue layout (§2.7, virtio_ring.h).
export const VIRTQ_DESC_F_NEXT = 1;
export const VIRTQ_DESC_F_WRITE = 2;
export const VIRTQ_DESC_F_INDIRECT = 4;
export const VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
export const VIRTQ_USED_F_NO_NOTIFY = 1;
/** Bytes per descriptor (struct virtq_desc: le64 addr, le32 len, le16 flags, le16 next). */
export const VIRTQ_DESC_SIZE = 16;
/** The largest queue size (§2.7: a power of 2, at most 32768). */
export const VIRTQ_MAX_SIZE = 32768;
/** Alignment of the descriptor table, available ring and used ring (§2.7 table "Virtqueue Part"). */
export const VIRTQ_DESC_ALIGN = 16;
export const VIRTQ_AVAIL_ALIGN = 2;
export const VIRTQ_USED_ALIGN = 4;

/** Bytes of each ring part for a queue of `size` entries (§2.7), with the EVENT_IDX trailer. */
export function virtqDescBytes(size: number): number { return VIRTQ_DESC_SIZE * size; }
export function virtqAvailBytes(size: number): number { return 6 + 2 * size; }
export function virtqUsedBytes(size: number): number { return 6 + 8 * size; }

/**
 * vring_need_event() from virtio_ring.h: whether moving an index from `old` to `newIdx` crossed `event`
 * (i.e. `event` is in [old, newIdx) modulo 2^16). Used both ways: used_event by the device, avail_event by the driver.
 */
export function vringNeedEvent(event: number, newIdx: number, old: number): boolean {
  return ((newIdx - event - 1) & 0xffff) < ((newIdx - old) & 0xffff);
}

// Device IDs (§5, virtio_ids.h).
export const VIRTIO_ID_NET = 1;
export const VIRTIO_ID_BLOCK = 2;
export const VIRTIO_ID_CONSOLE = 3;
export const VIRTIO_ID_RNG = 4;
