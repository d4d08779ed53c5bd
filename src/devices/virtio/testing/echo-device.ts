// A test device (no virtio ID of its own; it borrows 0xffff, never offered to a guest): for each chain it reads
// every device-readable byte and writes them back, in order, into the device-writable buffers. Property tests,
// the fuzzer and the queue benchmark use it to move real data through a queue without a backend.

import type { DescriptorChain } from '../chain.js';
import { ConfigBytes } from '../config-space.js';
import type { VirtioDevice, VirtioDeviceContext } from '../device.js';
import { drainQueue } from '../drain.js';
import type { SplitQueue } from '../queue.js';

export class EchoDevice implements VirtioDevice {
  readonly name = 'echo';
  readonly deviceId = 0xffff;
  readonly deviceFeatures = 0n;
  readonly config = new ConfigBytes(8);
  readonly queueMaxSizes: readonly number[];
  ctx: VirtioDeviceContext | null = null;
  private readonly buf = new Uint8Array(4096);

  constructor(queueSizes: readonly number[] = [256]) { this.queueMaxSizes = queueSizes; }

  activate(ctx: VirtioDeviceContext): void { this.ctx = ctx; }
  reset(): void { this.ctx = null; }
  queueNotify(index: number): void { if (this.ctx !== null) drainQueue(this.ctx, index, this.handle); }

  private readonly handle = (q: SplitQueue, c: DescriptorChain): number => {
    const dma = this.ctx!.dma;
    const n = Math.min(c.readableBytes, c.writableBytes);
    for (let done = 0; done < n; done += this.buf.length) {
      const part = n - done >= this.buf.length ? this.buf : this.buf.subarray(0, n - done);
      if (q.read(dma, c, done, part) < 0 || q.write(dma, c, done, part) < 0) return -1;
    }
    return n;
  };
}
