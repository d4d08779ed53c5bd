// The device side of "Receiving Used Buffers" (virtio 1.2 §2.7.13-14) every virtio device here shares: take each
// available chain, let the device handle it, return it in the used ring; when the ring is empty, publish
// avail_event and re-check (§2.7.10); then one used-buffer notification for the batch, unless the driver
// suppressed it. A broken ring ends the batch and sets DEVICE_NEEDS_RESET.

import type { DescriptorChain } from './chain.js';
import type { VirtioDeviceContext } from './device.js';
import { QueueError } from './queue-error.js';
import type { SplitQueue } from './queue.js';

/**
 * Handles one chain: returns the number of bytes written into its device-writable buffers (the used length), or
 * -1 when the queue broke while handling it (the queue's `error` says why).
 */
export type ChainHandler = (q: SplitQueue, chain: DescriptorChain) => number;

/** Drains queue `index` through `handle`; returns the number of chains used. */
export function drainQueue(ctx: VirtioDeviceContext, index: number, handle: ChainHandler): number {
  const q = ctx.queues[index];
  if (q === undefined || ctx.broken) return 0;
  const dma = ctx.dma;
  let used = 0;
  for (;;) {
    for (;;) {
      const c = q.pop(dma);
      if (c === null) break;
      if (c instanceof QueueError) { ctx.needsReset(c); return used; }
      const len = handle(q, c);
      if (len < 0 || q.push(dma, c.head, len) !== null) {
        if (used > 0) ctx.usedBuffers(index);
        ctx.needsReset(q.error ?? `${index}: the device could not complete chain ${c.head}`);
        return used;
      }
      used++;
    }
    if (!q.enableNotification(dma)) break;
  }
  if (q.error !== null) { ctx.needsReset(q.error); return used; }
  if (used > 0) ctx.usedBuffers(index);
  return used;
}
