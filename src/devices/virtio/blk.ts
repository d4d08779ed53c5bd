// virtio-blk (virtio 1.2 §5.2; Linux 6.12 drivers/block/virtio_blk.c) on a BlockBackend: one request queue;
// read, write, flush (the backend's fsync), GET_ID, and DISCARD / WRITE_ZEROES where the backend does them;
// VIRTIO_BLK_F_RO for read-only disks (writes answer IOERR and never reach the backend). Each request is parsed
// into checked values first (blk-request.ts), then carried out synchronously, then its status byte written.
//
// Limits offered, and why they are honest: SEG_MAX = queue size - 2 (a chain holds at most the queue size
// buffers, one for the header and one for the status; the queue refuses longer ones); no SIZE_MAX, since data
// moves through a fixed scratch buffer in chunks and any segment length the chain allows works.

import type { BlockBackend } from '../../backends/block/backend.js';
import type { DescriptorChain } from './chain.js';
import { ConfigBytes } from './config-space.js';
import { VIRTIO_ID_BLOCK, feature, hasFeature } from './constants.js';
import type { VirtioDevice, VirtioDeviceContext } from './device.js';
import { drainQueue } from './drain.js';
import type { CostCharger, SplitQueue } from './queue.js';
import {
  BlkRequest, SECTOR_SIZE, VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_F_DISCARD, VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_RO,
  VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_F_WRITE_ZEROES, VIRTIO_BLK_ID_BYTES, VIRTIO_BLK_OUTHDR_SIZE, VIRTIO_BLK_S_IOERR,
  VIRTIO_BLK_S_OK, parseBlkRequest, probeOutData, type BlkLimits,
} from './blk-request.js';

// struct virtio_blk_config offsets (virtio_blk.h), up to write_zeroes_may_unmap and its padding.
export const BLK_CFG_CAPACITY = 0;
export const BLK_CFG_SIZE_MAX = 8;
export const BLK_CFG_SEG_MAX = 12;
export const BLK_CFG_BLK_SIZE = 20;
export const BLK_CFG_MAX_DISCARD_SECTORS = 36;
export const BLK_CFG_MAX_DISCARD_SEG = 40;
export const BLK_CFG_DISCARD_SECTOR_ALIGNMENT = 44;
export const BLK_CFG_MAX_WRITE_ZEROES_SECTORS = 48;
export const BLK_CFG_MAX_WRITE_ZEROES_SEG = 52;
export const BLK_CFG_WRITE_ZEROES_MAY_UNMAP = 56;
export const BLK_CONFIG_SIZE = 60;

/** Discard / write-zeroes limits offered: one segment of up to 2^22 - 1 sectors (~2 GiB) per request. */
const MAX_DWZ_SECTORS = 0x3f_ffff;
const MAX_DWZ_SEG = 1;
const CHUNK = 64 * 1024;

export interface VirtioBlkOptions {
  /** Offer VIRTIO_BLK_F_RO even if the backend is writable. */
  readOnly?: boolean;
  /** The device ID string GET_ID returns (ASCII, at most 20 bytes; default "vmio-disk"). */
  serial?: string;
  /** Size of the request queue (default 128). */
  queueSize?: number;
  cost?: CostCharger | null;
}

export class VirtioBlk implements VirtioDevice {
  readonly name = 'virtio-blk';
  readonly deviceId = VIRTIO_ID_BLOCK;
  readonly deviceFeatures: bigint;
  readonly config = new ConfigBytes(BLK_CONFIG_SIZE);
  readonly queueMaxSizes: readonly number[];
  readonly readOnly: boolean;
  /** Capacity in 512-byte sectors (a partial last sector of the image is not exposed). */
  readonly capacity: number;
  private readonly id = new Uint8Array(VIRTIO_BLK_ID_BYTES);
  private ctx: VirtioDeviceContext | null = null;
  private limits: BlkLimits;
  private readonly req = new BlkRequest(MAX_DWZ_SEG);
  private readonly buf = new Uint8Array(CHUNK);
  private readonly status = new Uint8Array(1);
  private readonly cost: CostCharger | null;
  /** Requests by outcome, backend failures and the last one's message. */
  readonly stats = { in: 0, out: 0, flush: 0, getId: 0, discard: 0, writeZeroes: 0, ioerr: 0, unsupp: 0, noStatus: 0, backendErrors: 0 };
  lastError = '';

  constructor(readonly backend: BlockBackend, opts: VirtioBlkOptions = {}) {
    const qs = opts.queueSize ?? 128;
    this.queueMaxSizes = [qs];
    this.readOnly = (opts.readOnly ?? false) || backend.readOnly;
    this.capacity = Math.floor(backend.size / SECTOR_SIZE);
    this.cost = opts.cost ?? null;
    const serial = opts.serial ?? 'vmio-disk';
    if (!/^[\x20-\x7e]{0,20}$/.test(serial)) throw new RangeError(`virtio-blk serial "${serial}" must be at most 20 printable ASCII characters`);
    this.id.set(new TextEncoder().encode(serial));
    let f = feature(VIRTIO_BLK_F_SEG_MAX) | feature(VIRTIO_BLK_F_BLK_SIZE) | feature(VIRTIO_BLK_F_FLUSH);
    if (this.readOnly) f |= feature(VIRTIO_BLK_F_RO);
    else f |= feature(VIRTIO_BLK_F_DISCARD) | feature(VIRTIO_BLK_F_WRITE_ZEROES);
    this.deviceFeatures = f;
    const c = this.config;
    c.set64(BLK_CFG_CAPACITY, BigInt(this.capacity));
    c.set32(BLK_CFG_SEG_MAX, Math.max(1, qs - 2));
    c.set32(BLK_CFG_BLK_SIZE, SECTOR_SIZE);
    if (!this.readOnly) {
      c.set32(BLK_CFG_MAX_DISCARD_SECTORS, MAX_DWZ_SECTORS);
      c.set32(BLK_CFG_MAX_DISCARD_SEG, MAX_DWZ_SEG);
      c.set32(BLK_CFG_DISCARD_SECTOR_ALIGNMENT, 1);
      c.set32(BLK_CFG_MAX_WRITE_ZEROES_SECTORS, MAX_DWZ_SECTORS);
      c.set32(BLK_CFG_MAX_WRITE_ZEROES_SEG, MAX_DWZ_SEG);
      c.set8(BLK_CFG_WRITE_ZEROES_MAY_UNMAP, 0); // write-zeroes writes zeros; it never deallocates
    }
    this.limits = this.limitsFor(0n);
  }

  private limitsFor(features: bigint): BlkLimits {
    return {
      capacity: this.capacity, readOnly: this.readOnly,
      discard: hasFeature(features, VIRTIO_BLK_F_DISCARD), writeZeroes: hasFeature(features, VIRTIO_BLK_F_WRITE_ZEROES),
      maxDiscardSectors: MAX_DWZ_SECTORS, maxDiscardSeg: MAX_DWZ_SEG, maxWriteZeroesSectors: MAX_DWZ_SECTORS, maxWriteZeroesSeg: MAX_DWZ_SEG,
    };
  }

  activate(ctx: VirtioDeviceContext): void {
    this.ctx = ctx;
    this.limits = this.limitsFor(ctx.features);
  }

  reset(): void { this.ctx = null; }

  queueNotify(index: number): void {
    if (this.ctx !== null && index === 0) drainQueue(this.ctx, 0, this.handle);
  }

  /** One request: parse, carry out, write the status byte. Returns the used length, or -1 if the ring broke. */
  private readonly handle = (q: SplitQueue, c: DescriptorChain): number => {
    const dma = this.ctx!.dma;
    const req = parseBlkRequest(q, dma, c, this.limits, this.req);
    if (req === -1) return -1;
    if (req === null) { this.stats.noStatus++; return 0; }
    this.cost?.charge('perRequest');
    let status = req.status;
    let written = 0;
    if (status < 0) {
      if (req.kind === 'out' && probeOutData(q, dma, c) < 0) return -1;
      const r = this.execute(q, c, req);
      if (r === -1) return -1;
      status = r === -2 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
      if (status === VIRTIO_BLK_S_OK && (req.kind === 'in' || req.kind === 'get-id')) written = req.len;
    } else {
      if (status === VIRTIO_BLK_S_IOERR) this.stats.ioerr++; else this.stats.unsupp++;
      this.lastError = req.why;
    }
    this.status[0] = status;
    if (q.write(dma, c, c.writableBytes - 1, this.status) < 0) return -1;
    return written + 1;
  };

  /** Carries out a checked request: 0 done, -2 the backend failed (IOERR), -1 the DmaSpace refused a buffer. */
  private execute(q: SplitQueue, c: DescriptorChain, req: BlkRequest): number {
    const dma = this.ctx!.dma;
    const s = this.stats;
    try {
      switch (req.kind) {
        case 'in':
          s.in++;
          for (let done = 0; done < req.len; done += CHUNK) {
            const part = this.chunk(req.len - done);
            this.backend.read(req.offset + done, part);
            if (q.write(dma, c, done, part) < 0) return -1;
          }
          return 0;
        case 'out':
          s.out++;
          for (let done = 0; done < req.len; done += CHUNK) {
            const part = this.chunk(req.len - done);
            if (q.read(dma, c, VIRTIO_BLK_OUTHDR_SIZE + done, part) < 0) return -1;
            this.backend.write(req.offset + done, part);
          }
          return 0;
        case 'flush':
          s.flush++;
          this.backend.flush();
          return 0;
        case 'get-id':
          s.getId++;
          return q.write(dma, c, 0, this.id.subarray(0, req.len)) < 0 ? -1 : 0;
        case 'discard':
        case 'write-zeroes':
          if (req.kind === 'discard') s.discard++; else s.writeZeroes++;
          for (let i = 0; i < req.segments; i++) {
            if (req.kind === 'discard') this.backend.discard(req.segOffset[i]!, req.segLen[i]!);
            else this.backend.writeZeroes(req.segOffset[i]!, req.segLen[i]!);
          }
          return 0;
      }
    } catch (e) {
      // A host I/O failure: the guest sees VIRTIO_BLK_S_IOERR, the VMM keeps running.
      s.backendErrors++;
      s.ioerr++;
      this.lastError = `${req.kind} at byte ${req.offset}: ${(e as Error).message}`;
      return -2;
    }
  }

  private chunk(left: number): Uint8Array {
    return left >= CHUNK ? this.buf : this.buf.subarray(0, left);
  }
}
