// virtio-rng, the entropy device (virtio 1.2 §5.4; Linux drivers/char/hw_random/virtio-rng.c): one request
// queue; the driver posts device-writable buffers and the device fills them with host entropy
// (crypto.randomFillSync by default), written through the DmaSpace. The device may fill less than offered
// (§5.4.6.1): at most `maxPerRequest` bytes per chain, so a huge buffer cannot hold the VMM.

import { randomFillSync } from 'node:crypto';
import { VIRTIO_ID_RNG } from './constants.js';
import { ConfigBytes } from './config-space.js';
import type { VirtioDevice, VirtioDeviceContext } from './device.js';
import { drainQueue } from './drain.js';
import type { DescriptorChain } from './chain.js';
import type { CostCharger, SplitQueue } from './queue.js';

export interface VirtioRngOptions {
  /** Size of the request queue (default 64). */
  queueSize?: number;
  /** The entropy source (default crypto.randomFillSync); a seeded one makes deterministic runs repeat. */
  fill?: (buf: Uint8Array) => void;
  /** Bytes written per request at most (default 64 KiB). */
  maxPerRequest?: number;
  cost?: CostCharger | null;
}

export class VirtioRng implements VirtioDevice {
  readonly name = 'virtio-rng';
  readonly deviceId = VIRTIO_ID_RNG;
  readonly deviceFeatures = 0n;
  /** §5.4.4: no device configuration. */
  readonly config = new ConfigBytes(0);
  readonly queueMaxSizes: readonly number[];
  private ctx: VirtioDeviceContext | null = null;
  private readonly fill: (buf: Uint8Array) => void;
  private readonly maxPerRequest: number;
  private readonly scratch = new Uint8Array(4096);
  private readonly cost: CostCharger | null;
  /** Requests served and entropy bytes given. */
  requests = 0;
  bytes = 0;

  constructor(opts: VirtioRngOptions = {}) {
    this.queueMaxSizes = [opts.queueSize ?? 64];
    this.fill = opts.fill ?? ((b) => { randomFillSync(b); });
    this.maxPerRequest = opts.maxPerRequest ?? 65536;
    this.cost = opts.cost ?? null;
  }

  activate(ctx: VirtioDeviceContext): void { this.ctx = ctx; }
  reset(): void { this.ctx = null; }

  queueNotify(index: number): void {
    if (this.ctx !== null && index === 0) drainQueue(this.ctx, 0, this.handle);
  }

  /** Fills the chain's device-writable buffers (readable ones are ignored); returns the bytes written. */
  private readonly handle = (q: SplitQueue, c: DescriptorChain): number => {
    const dma = this.ctx!.dma;
    const want = Math.min(c.writableBytes, this.maxPerRequest);
    let done = 0;
    while (done < want) {
      const n = Math.min(this.scratch.length, want - done);
      const part = n === this.scratch.length ? this.scratch : this.scratch.subarray(0, n);
      this.fill(part);
      const r = q.write(dma, c, done, part);
      if (r < 0) return -1;
      done += r;
    }
    this.requests++;
    this.bytes += done;
    this.cost?.charge('perRequest');
    return done;
  };
}
