// virtio-blk requests (virtio 1.2 §5.2.6; names from Linux 6.12 include/uapi/linux/virtio_blk.h), parsed from a
// descriptor chain into checked values before any I/O (Firecracker's Request::parse): the header, the data
// length, the sector range against the capacity, discard/write-zeroes segments. A request the device must
// refuse gets its status here (IOERR, UNSUPP) and never reaches the backend.

import type { DmaSpace } from '../../memory/dma.js';
import type { DescriptorChain } from './chain.js';
import type { SplitQueue } from './queue.js';

// Feature bits (§5.2.3).
export const VIRTIO_BLK_F_SIZE_MAX = 1;
export const VIRTIO_BLK_F_SEG_MAX = 2;
export const VIRTIO_BLK_F_GEOMETRY = 4;
export const VIRTIO_BLK_F_RO = 5;
export const VIRTIO_BLK_F_BLK_SIZE = 6;
export const VIRTIO_BLK_F_FLUSH = 9;
export const VIRTIO_BLK_F_TOPOLOGY = 10;
export const VIRTIO_BLK_F_CONFIG_WCE = 11;
export const VIRTIO_BLK_F_MQ = 12;
export const VIRTIO_BLK_F_DISCARD = 13;
export const VIRTIO_BLK_F_WRITE_ZEROES = 14;

// Request types and status (§5.2.6).
export const VIRTIO_BLK_T_IN = 0;
export const VIRTIO_BLK_T_OUT = 1;
export const VIRTIO_BLK_T_FLUSH = 4;
export const VIRTIO_BLK_T_GET_ID = 8;
export const VIRTIO_BLK_T_DISCARD = 11;
export const VIRTIO_BLK_T_WRITE_ZEROES = 13;
export const VIRTIO_BLK_S_OK = 0;
export const VIRTIO_BLK_S_IOERR = 1;
export const VIRTIO_BLK_S_UNSUPP = 2;
export const VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP = 1;
export const VIRTIO_BLK_ID_BYTES = 20;
export const SECTOR_SIZE = 512;
/** struct virtio_blk_outhdr: le32 type, le32 ioprio, le64 sector. */
export const VIRTIO_BLK_OUTHDR_SIZE = 16;
/** struct virtio_blk_discard_write_zeroes: le64 sector, le32 num_sectors, le32 flags. */
export const VIRTIO_BLK_SEGMENT_SIZE = 16;

/** What the parser checks requests against. */
export interface BlkLimits {
  /** Capacity in 512-byte sectors. */
  readonly capacity: number;
  readonly readOnly: boolean;
  /** Whether DISCARD / WRITE_ZEROES were negotiated, and their limits (config space). */
  readonly discard: boolean;
  readonly writeZeroes: boolean;
  readonly maxDiscardSectors: number;
  readonly maxDiscardSeg: number;
  readonly maxWriteZeroesSectors: number;
  readonly maxWriteZeroesSeg: number;
}

export type BlkKind = 'in' | 'out' | 'flush' | 'get-id' | 'discard' | 'write-zeroes';

/** A parsed request; one object per device, refilled by each parse (nothing allocated per request). */
export class BlkRequest {
  kind: BlkKind = 'in';
  /** The status decided without I/O (IOERR, UNSUPP), or -1 when the request is to be carried out. */
  status = -1;
  /** Why the request was refused (for counters and logs). */
  why = '';
  /** IN/OUT: byte offset in the image and data length; GET_ID: bytes of the ID to write. */
  offset = 0;
  len = 0;
  /** DISCARD/WRITE_ZEROES: the segments, as byte offsets and lengths in the image. */
  segments = 0;
  readonly segOffset: Float64Array;
  readonly segLen: Float64Array;
  /** Room for the header or the segments as the guest wrote them. */
  readonly scratch: Uint8Array;
  readonly view: DataView;

  constructor(maxSegments: number) {
    const n = Math.max(1, maxSegments);
    this.segOffset = new Float64Array(n);
    this.segLen = new Float64Array(n);
    this.scratch = new Uint8Array(n * VIRTIO_BLK_SEGMENT_SIZE);
    this.view = new DataView(this.scratch.buffer);
  }

  private refuse(status: number, why: string): this { this.status = status; this.why = why; return this; }
  ioerr(why: string): this { return this.refuse(VIRTIO_BLK_S_IOERR, why); }
  unsupp(why: string): this { return this.refuse(VIRTIO_BLK_S_UNSUPP, why); }
}

const TWO32 = 0x1_0000_0000;
/** A 64-bit little-endian value as an exact number, or Infinity when past 2^53 (out of any disk's range). */
function u64(v: DataView, at: number): number {
  const hi = v.getUint32(at + 4, true);
  return hi < 0x20_0000 ? hi * TWO32 + v.getUint32(at, true) : Infinity;
}

/**
 * Parses the chain into `req`. Returns `req`, null when the chain has no byte for a status (the device
 * completes it with used length 0), or -1 when the DmaSpace refused a buffer (the queue is broken).
 * `req` must have room for the larger of the two segment limits.
 */
// guest-controlled: the whole chain — header, segments, layout.
export function parseBlkRequest(q: SplitQueue, dma: DmaSpace, c: DescriptorChain, lim: BlkLimits, req: BlkRequest): BlkRequest | null | -1 {
  const { scratch, view: v } = req;
  req.status = -1; req.why = ''; req.offset = 0; req.len = 0; req.segments = 0;
  if (c.writableBytes < 1) return null;
  const hdr = scratch.subarray(0, VIRTIO_BLK_OUTHDR_SIZE);
  const got = q.read(dma, c, 0, hdr);
  if (got < 0) return -1;
  if (got < VIRTIO_BLK_OUTHDR_SIZE) return req.ioerr(`a header of ${got} bytes; virtio_blk_outhdr is 16`);
  const type = v.getUint32(0, true);
  const sector = u64(v, 8);
  const dataOut = c.readableBytes - VIRTIO_BLK_OUTHDR_SIZE;
  const dataIn = c.writableBytes - 1;
  const range = (len: number): BlkRequest => {
    if (len % SECTOR_SIZE !== 0) return req.ioerr(`a data length of ${len} bytes, not a multiple of ${SECTOR_SIZE}`);
    if (sector + len / SECTOR_SIZE > lim.capacity) return req.ioerr(`sectors ${sector}+${len / SECTOR_SIZE} past the capacity of ${lim.capacity}`);
    req.offset = sector * SECTOR_SIZE;
    req.len = len;
    return req;
  };
  switch (type) {
    case VIRTIO_BLK_T_IN:
      req.kind = 'in';
      return range(dataIn);
    case VIRTIO_BLK_T_OUT:
      req.kind = 'out';
      if (lim.readOnly) return req.ioerr('a write to a read-only disk');
      return range(dataOut);
    case VIRTIO_BLK_T_FLUSH:
      req.kind = 'flush';
      return req;
    case VIRTIO_BLK_T_GET_ID:
      req.kind = 'get-id';
      req.len = Math.min(VIRTIO_BLK_ID_BYTES, dataIn);
      return req;
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES: {
      const discard = type === VIRTIO_BLK_T_DISCARD;
      req.kind = discard ? 'discard' : 'write-zeroes';
      if (discard ? !lim.discard : !lim.writeZeroes) return req.unsupp(`${req.kind} was not negotiated`);
      if (lim.readOnly) return req.ioerr(`${req.kind} on a read-only disk`);
      const maxSeg = discard ? lim.maxDiscardSeg : lim.maxWriteZeroesSeg;
      const maxSectors = discard ? lim.maxDiscardSectors : lim.maxWriteZeroesSectors;
      if (dataOut <= 0 || dataOut % VIRTIO_BLK_SEGMENT_SIZE !== 0) return req.ioerr(`${dataOut} bytes of segments, not a multiple of 16`);
      const n = dataOut / VIRTIO_BLK_SEGMENT_SIZE;
      if (n > maxSeg || dataOut > scratch.length) return req.ioerr(`${n} segments; at most ${maxSeg}`);
      const segs = scratch.subarray(0, dataOut);
      const r = q.read(dma, c, VIRTIO_BLK_OUTHDR_SIZE, segs);
      if (r < 0) return -1;
      for (let i = 0; i < n; i++) {
        const at = i * VIRTIO_BLK_SEGMENT_SIZE;
        const s = u64(v, at);
        const num = v.getUint32(at + 8, true);
        const flags = v.getUint32(at + 12, true);
        if ((flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) !== 0) return req.unsupp(`unknown segment flags 0x${flags.toString(16)}`);
        if (discard && flags !== 0) return req.unsupp('the unmap flag on a discard');
        if (num > maxSectors) return req.ioerr(`a segment of ${num} sectors; at most ${maxSectors}`);
        if (s + num > lim.capacity) return req.ioerr(`segment sectors ${s}+${num} past the capacity of ${lim.capacity}`);
        req.segOffset[i] = s * SECTOR_SIZE;
        req.segLen[i] = num * SECTOR_SIZE;
      }
      req.segments = n;
      return req;
    }
    default:
      return req.unsupp(`request type ${type}`);
  }
}

/**
 * Checks that every page of the device-readable data buffers (after the header) is readable through the
 * DmaSpace, so a write request never reaches the disk half done. Returns 0 or a negative DMA fault code.
 */
export function probeOutData(q: SplitQueue, dma: DmaSpace, c: DescriptorChain): number {
  let skip = VIRTIO_BLK_OUTHDR_SIZE;
  for (let i = 0; i < c.readable; i++) {
    const len = c.len(i);
    if (skip >= len) { skip -= len; continue; }
    const start = c.addr(i) + skip;
    const end = c.addr(i) + len;
    for (let a = start; a < end; a = (Math.floor(a / 4096) + 1) * 4096) {
      const r = dma.read8(a);
      if (r < 0) { q.bufferFault(a, 1, -r); return r; }
    }
    const last = dma.read8(end - 1);
    if (last < 0) { q.bufferFault(end - 1, 1, -last); return last; }
    skip = 0;
  }
  return 0;
}
