// virtio-console with a single port and no VIRTIO_CONSOLE_F_MULTIPORT (virtio 1.2 §5.3; Linux 6.12
// drivers/char/virtio_console.c makes it the console port, hvc0): queue 0 (receiveq) carries host input into the
// driver's device-writable buffers, queue 1 (transmitq) carries guest output to a host sink. Host input waits in a
// bounded queue until the driver has posted receive buffers; input() says how much it took (backpressure).
// It also has the shape of the host console's ConsoleInput (listening / canReceive / receive), so the wiring can
// feed it from the same deterministic event source as the UART.

import { closeSync, openSync, writeSync } from 'node:fs';
import type { DescriptorChain } from './chain.js';
import { ConfigBytes } from './config-space.js';
import { VIRTIO_ID_CONSOLE } from './constants.js';
import type { VirtioDevice, VirtioDeviceContext } from './device.js';
import { drainQueue } from './drain.js';
import { QueueError } from './queue-error.js';
import type { CostCharger, SplitQueue } from './queue.js';

export const VIRTIO_CONSOLE_F_SIZE = 0;
export const VIRTIO_CONSOLE_F_MULTIPORT = 1;
export const VIRTIO_CONSOLE_F_EMERG_WRITE = 2;
/** struct virtio_console_config: le16 cols, le16 rows, le32 max_nr_ports, le32 emerg_wr. */
export const VIRTIO_CONSOLE_CONFIG_SIZE = 12;
export const VIRTIO_CONSOLE_RX = 0;
export const VIRTIO_CONSOLE_TX = 1;

/** Where guest output goes. */
export interface ConsoleSink {
  write(bytes: Uint8Array): void;
}

export interface VirtioConsoleOptions {
  sink: ConsoleSink;
  /** Host input held while the driver has no receive buffers (default 64 KiB). */
  inputLimit?: number;
  queueSize?: number;
  cost?: CostCharger | null;
}

export class VirtioConsole implements VirtioDevice {
  readonly name = 'virtio-console';
  readonly deviceId = VIRTIO_ID_CONSOLE;
  readonly deviceFeatures = 0n;
  readonly config = new ConfigBytes(VIRTIO_CONSOLE_CONFIG_SIZE);
  readonly queueMaxSizes: readonly number[];
  private ctx: VirtioDeviceContext | null = null;
  private readonly sink: ConsoleSink;
  private readonly pending: Uint8Array;
  private head = 0;
  private count = 0;
  private readonly out = new Uint8Array(4096);
  private readonly cost: CostCharger | null;
  /** Bytes the guest wrote, and host bytes delivered to it. */
  bytesOut = 0;
  bytesIn = 0;

  constructor(opts: VirtioConsoleOptions) {
    this.sink = opts.sink;
    this.pending = new Uint8Array(opts.inputLimit ?? 65536);
    const qs = opts.queueSize ?? 64;
    this.queueMaxSizes = [qs, qs];
    this.cost = opts.cost ?? null;
    this.config.set32(4, 1); // max_nr_ports (only read with MULTIPORT)
  }

  activate(ctx: VirtioDeviceContext): void { this.ctx = ctx; this.deliver(); }

  /** Reset drops the device's view of the driver; host input still waiting is kept for the next driver. */
  reset(): void { this.ctx = null; }

  queueNotify(index: number): void {
    if (this.ctx === null) return;
    if (index === VIRTIO_CONSOLE_TX) drainQueue(this.ctx, VIRTIO_CONSOLE_TX, this.transmit);
    else if (index === VIRTIO_CONSOLE_RX) this.deliver();
  }

  /** Guest output: every device-readable byte of the chain goes to the sink; nothing is written back. */
  private readonly transmit = (q: SplitQueue, c: DescriptorChain): number => {
    const dma = this.ctx!.dma;
    for (let done = 0; done < c.readableBytes; done += this.out.length) {
      const n = Math.min(this.out.length, c.readableBytes - done);
      const part = n === this.out.length ? this.out : this.out.subarray(0, n);
      if (q.read(dma, c, done, part) < 0) return -1;
      this.sink.write(part);
      this.bytesOut += n;
    }
    this.cost?.charge('perRequest');
    return 0;
  };

  /** Host input: takes as many bytes as it can hold and delivers what the driver has buffers for. */
  input(bytes: Uint8Array): number {
    const room = this.pending.length - this.count;
    const n = Math.min(room, bytes.length);
    for (let i = 0; i < n; i++) this.pending[(this.head + this.count + i) % this.pending.length] = bytes[i]!;
    this.count += n;
    this.deliver();
    return n;
  }

  /** Host bytes not yet delivered to the guest. */
  get queued(): number { return this.count; }

  // The ConsoleInput shape (src/host/console-source.ts).
  listening(): boolean { return this.ctx !== null && !this.ctx.broken && this.ctx.queues[VIRTIO_CONSOLE_RX]!.ready; }
  canReceive(): boolean { return this.count < this.pending.length; }
  receive(byte: number): boolean { return this.input(Uint8Array.of(byte)) === 1; }

  /** Moves waiting host input into the driver's receive buffers, one used buffer per chain filled. */
  private deliver(): void {
    const ctx = this.ctx;
    if (ctx === null || ctx.broken || this.count === 0) return;
    const q = ctx.queues[VIRTIO_CONSOLE_RX]!;
    let used = 0;
    while (this.count > 0) {
      const c = q.pop(ctx.dma);
      if (c === null) {
        // Out of receive buffers with input waiting: ask to be notified when the driver adds some (§2.7.10).
        if (q.enableNotification(ctx.dma)) continue;
        break;
      }
      if (c instanceof QueueError) { ctx.needsReset(c); return; }
      const len = this.fill(q, c);
      if (len < 0 || q.push(ctx.dma, c.head, len) !== null) { ctx.needsReset(q.error ?? 'virtio-console: receive failed'); return; }
      used++;
    }
    if (q.error !== null) { ctx.needsReset(q.error); return; }
    if (used > 0) ctx.usedBuffers(VIRTIO_CONSOLE_RX);
  }

  private fill(q: SplitQueue, c: DescriptorChain): number {
    const dma = this.ctx!.dma;
    let done = 0;
    while (this.count > 0 && done < c.writableBytes) {
      const end = Math.min(this.pending.length, this.head + this.count);
      const n = Math.min(end - this.head, c.writableBytes - done);
      if (q.write(dma, c, done, this.pending.subarray(this.head, this.head + n)) < 0) return -1;
      this.head = (this.head + n) % this.pending.length;
      this.count -= n;
      done += n;
    }
    if (this.count === 0) this.head = 0;
    this.bytesIn += done;
    return done;
  }
}

/**
 * The host end of `--console-port FILE|stdio`: 'stdio' writes guest output to stdout; anything else is a file the
 * output is appended to. Input from stdin is the wiring's (it owns the terminal); a file port has no input.
 */
export function openConsolePort(spec: string): { sink: ConsoleSink; close(): void } {
  if (spec === 'stdio') return { sink: { write: (b) => { process.stdout.write(Buffer.from(b)); } }, close: () => {} };
  let fd: number;
  try { fd = openSync(spec, 'a'); } catch (e) { throw new Error(`--console-port ${spec}: cannot open it for appending: ${(e as Error).message}`); }
  return {
    sink: { write: (b) => { for (let done = 0; done < b.length;) done += writeSync(fd, b, done, b.length - done); } },
    close: () => { if (fd >= 0) { closeSync(fd); fd = -1; } },
  };
}
