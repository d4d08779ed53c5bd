// virtio-console (virtio 1.2 §5.3; Linux 6.12 drivers/char/virtio_console.c) with one port. Offered with
// VIRTIO_CONSOLE_F_MULTIPORT, so the device and driver talk over the control queues (§5.3.6.2): the device adds
// port 0 and names it either the console port (the guest's /dev/hvcN, a tty) or a named generic port
// (/dev/vportNp0, N the virtio device index, its name in /sys/class/virtio-ports/vportNp0/name), and learns when the guest opens and closes
// it (VIRTIO_CONSOLE_PORT_OPEN). A driver that does not accept MULTIPORT gets the single console port of §5.3.6.
//
// Queues (§5.3.2): 0 receiveq(port 0), 1 transmitq(port 0), 2 control receiveq (device → driver), 3 control
// transmitq (driver → device). Host input waits in a bounded queue until the driver has posted receive buffers;
// for a generic port also until the guest has the port open, because Linux discards what reaches a generic port
// nobody has open (virtio_console.c, handle_port_input). input() says how much it took (backpressure), and a
// finite input (a file) can end with the host closing its end, which a reader in the guest sees as end-of-file.
// It also has the shape of the host console's ConsoleInput (listening / canReceive / receive), so the wiring can
// feed it from the same deterministic event source as the UART.

import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { DescriptorChain } from './chain.js';
import { ConfigBytes } from './config-space.js';
import { VIRTIO_ID_CONSOLE, feature, hasFeature } from './constants.js';
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
export const VIRTIO_CONSOLE_CTRL_RX = 2;
export const VIRTIO_CONSOLE_CTRL_TX = 3;

/** Control events (§5.3.6.2, struct virtio_console_control { le32 id; le16 event; le16 value; }). */
export const VIRTIO_CONSOLE_DEVICE_READY = 0;
export const VIRTIO_CONSOLE_DEVICE_ADD = 1;
export const VIRTIO_CONSOLE_DEVICE_REMOVE = 2;
export const VIRTIO_CONSOLE_PORT_READY = 3;
export const VIRTIO_CONSOLE_CONSOLE_PORT = 4;
export const VIRTIO_CONSOLE_RESIZE = 5;
export const VIRTIO_CONSOLE_PORT_OPEN = 6;
export const VIRTIO_CONSOLE_PORT_NAME = 7;
export const CONTROL_SIZE = 8;
/** Control messages waiting for the driver's control receive buffers; more means a driver that never reads. */
const OUTBOX_LIMIT = 16;

/** Where guest output goes. */
export interface ConsoleSink {
  write(bytes: Uint8Array): void;
}

export interface VirtioConsoleOptions {
  sink: ConsoleSink;
  /**
   * The port's name: a named generic port (/dev/vportNp0) rather than the console port (/dev/hvcN, the default).
   * Needs MULTIPORT; a driver without it gets the console port.
   */
  portName?: string | null;
  /** Host input known in advance (a file): delivered as the driver takes it, then the host end closes if `closeAfterInput`. */
  input?: Uint8Array | null;
  /** After `input` is delivered, tell the guest the host end closed (a generic port's reader then sees end-of-file). */
  closeAfterInput?: boolean;
  /** The host end starts connected (default true; a socket port starts closed until a client connects). */
  hostConnected?: boolean;
  /** Host input held while the driver has no receive buffers (default 64 KiB). */
  inputLimit?: number;
  queueSize?: number;
  cost?: CostCharger | null;
}

/** Counters of the control protocol, for the metrics report. */
export interface ConsoleReport {
  bytesOut: number; bytesIn: number; guestOpen: boolean; hostOpen: boolean; controlIn: number; controlOut: number; controlIgnored: number;
}

export class VirtioConsole implements VirtioDevice {
  readonly name = 'virtio-console';
  readonly deviceId = VIRTIO_ID_CONSOLE;
  readonly deviceFeatures = feature(VIRTIO_CONSOLE_F_MULTIPORT);
  readonly config = new ConfigBytes(VIRTIO_CONSOLE_CONFIG_SIZE);
  readonly queueMaxSizes: readonly number[];
  private ctx: VirtioDeviceContext | null = null;
  private readonly sink: ConsoleSink;
  private readonly portName: string | null;
  private readonly pending: Uint8Array;
  private head = 0;
  private count = 0;
  private readonly out = new Uint8Array(4096);
  private readonly cost: CostCharger | null;
  /** The rest of a finite host input not yet taken into `pending`. */
  private source: Uint8Array | null;
  private readonly closeAfterInput: boolean;
  /** Control messages for the driver, oldest first. */
  private readonly outbox: Uint8Array[] = [];
  private multiport = false;
  /** The driver acknowledged port 0 (PORT_READY) — or, without MULTIPORT, it is the console port from the start. */
  private portReady = false;
  /** The guest has port 0 open (PORT_OPEN from the driver; a console port is open once it is set up). */
  guestOpen = false;
  /** The host end is open (what the device last told the driver). */
  hostOpen = false;
  /** The host end's own state: something is connected there (setHostConnected). */
  private hostConnected: boolean;
  /** Bytes the guest wrote, and host bytes delivered to it. */
  bytesOut = 0;
  bytesIn = 0;
  /** Control messages received from the driver, sent to it, and received but not understood. */
  controlIn = 0;
  controlOut = 0;
  controlIgnored = 0;
  /** The metrics report's view (src/host/wire-virtio.ts reads `counters`). */
  readonly counters = { toJSON: (): ConsoleReport => this.report() };

  constructor(opts: VirtioConsoleOptions) {
    this.sink = opts.sink;
    this.portName = opts.portName ?? null;
    this.pending = new Uint8Array(opts.inputLimit ?? 65536);
    const qs = opts.queueSize ?? 64;
    this.queueMaxSizes = [qs, qs, qs, qs];
    this.cost = opts.cost ?? null;
    this.source = opts.input ?? null;
    this.closeAfterInput = opts.closeAfterInput ?? false;
    this.hostConnected = opts.hostConnected ?? true;
    this.config.set32(4, 1); // max_nr_ports
  }

  activate(ctx: VirtioDeviceContext): void {
    this.ctx = ctx;
    this.multiport = hasFeature(ctx.features, VIRTIO_CONSOLE_F_MULTIPORT);
    // Without MULTIPORT port 0 is the console port at once (§5.3.6); with it, only after the control handshake.
    this.portReady = !this.multiport;
    this.guestOpen = !this.multiport;
    this.hostOpen = !this.multiport;
    this.deliver();
  }

  /** Reset drops the device's view of the driver; host input still waiting is kept for the next driver. */
  reset(): void {
    this.ctx = null;
    this.outbox.length = 0;
    this.portReady = this.guestOpen = this.hostOpen = false;
  }

  queueNotify(index: number): void {
    if (this.ctx === null) return;
    if (index === VIRTIO_CONSOLE_TX) drainQueue(this.ctx, VIRTIO_CONSOLE_TX, this.transmit);
    else if (index === VIRTIO_CONSOLE_RX) this.deliver();
    else if (this.multiport && index === VIRTIO_CONSOLE_CTRL_TX) drainQueue(this.ctx, VIRTIO_CONSOLE_CTRL_TX, this.control);
    else if (this.multiport && index === VIRTIO_CONSOLE_CTRL_RX) this.flushControl();
  }

  report(): ConsoleReport {
    return {
      bytesOut: this.bytesOut, bytesIn: this.bytesIn, guestOpen: this.guestOpen, hostOpen: this.hostOpen,
      controlIn: this.controlIn, controlOut: this.controlOut, controlIgnored: this.controlIgnored,
    };
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

  /** One control message from the driver (§5.3.6.2 driver requirements). Short or unknown ones are counted and skipped. */
  private readonly control = (q: SplitQueue, c: DescriptorChain): number => {
    this.cost?.charge('perRequest');
    if (c.readableBytes < CONTROL_SIZE) { this.controlIgnored++; return 0; }
    const m = new Uint8Array(CONTROL_SIZE);
    if (q.read(this.ctx!.dma, c, 0, m) < 0) return -1;
    const v = new DataView(m.buffer);
    const id = v.getUint32(0, true), event = v.getUint16(4, true), value = v.getUint16(6, true);
    this.controlIn++;
    if (event === VIRTIO_CONSOLE_DEVICE_READY) {
      if (value === 1) this.send(0, VIRTIO_CONSOLE_DEVICE_ADD, 0);
    } else if (event === VIRTIO_CONSOLE_PORT_READY && id === 0) {
      if (value === 1 && !this.portReady) {
        this.portReady = true;
        if (this.portName === null) this.send(0, VIRTIO_CONSOLE_CONSOLE_PORT, 1);
        else this.send(0, VIRTIO_CONSOLE_PORT_NAME, 0, new TextEncoder().encode(this.portName));
        this.setHostOpen(this.hostConnected && !this.inputEnded());
      }
    } else if (event === VIRTIO_CONSOLE_PORT_OPEN && id === 0 && this.portReady) {
      this.guestOpen = value !== 0;
      this.deliver();
    } else {
      this.controlIgnored++;
    }
    return 0;
  };

  private send(id: number, event: number, value: number, extra: Uint8Array | null = null): void {
    if (this.outbox.length >= OUTBOX_LIMIT) { this.controlIgnored++; return; }
    const m = new Uint8Array(CONTROL_SIZE + (extra?.length ?? 0));
    const v = new DataView(m.buffer);
    v.setUint32(0, id, true); v.setUint16(4, event, true); v.setUint16(6, value, true);
    if (extra !== null) m.set(extra, CONTROL_SIZE);
    this.outbox.push(m);
    this.flushControl();
  }

  /** The host end connected or went away (a socket client): the driver learns it once the port is set up. */
  setHostConnected(open: boolean): void {
    this.hostConnected = open;
    if (this.portReady) this.setHostOpen(open && !this.inputEnded());
  }

  private setHostOpen(open: boolean): void {
    if (this.hostOpen === open || !this.multiport) return;
    this.hostOpen = open;
    this.send(0, VIRTIO_CONSOLE_PORT_OPEN, open ? 1 : 0);
  }

  /** Control messages into the driver's control receive buffers, one per buffer (Linux posts PAGE_SIZE ones). */
  private flushControl(): void {
    const ctx = this.ctx;
    if (ctx === null || ctx.broken || !this.multiport) return;
    const q = ctx.queues[VIRTIO_CONSOLE_CTRL_RX]!;
    let used = 0;
    while (this.outbox.length > 0) {
      const c = q.pop(ctx.dma);
      if (c === null) {
        if (q.enableNotification(ctx.dma)) continue;
        break;
      }
      if (c instanceof QueueError) { ctx.needsReset(c); return; }
      const m = this.outbox[0]!;
      // A buffer too small for the message: the name is cut to fit (the header alone must fit).
      const n = Math.min(m.length, c.writableBytes);
      if (n < CONTROL_SIZE) { ctx.needsReset('virtio-console: a control receive buffer is smaller than a control message'); return; }
      if (q.write(ctx.dma, c, 0, m.subarray(0, n)) < 0 || q.push(ctx.dma, c.head, n) !== null) { ctx.needsReset(q.error ?? 'virtio-console: control receive failed'); return; }
      this.outbox.shift();
      this.controlOut++;
      used++;
    }
    if (q.error !== null) { ctx.needsReset(q.error); return; }
    if (used > 0) ctx.usedBuffers(VIRTIO_CONSOLE_CTRL_RX);
  }

  /** Host input: takes as many bytes as it can hold and delivers what the driver has buffers for. */
  input(bytes: Uint8Array): number {
    const room = this.pending.length - this.count;
    const n = Math.min(room, bytes.length);
    for (let i = 0; i < n; i++) this.pending[(this.head + this.count + i) % this.pending.length] = bytes[i]!;
    this.count += n;
    this.deliver();
    return n;
  }

  /** Host bytes not yet delivered to the guest (held, plus what is left of a finite input). */
  get queued(): number { return this.count + (this.source?.length ?? 0); }

  private inputEnded(): boolean { return this.closeAfterInput && this.count === 0 && (this.source === null || this.source.length === 0); }

  // The ConsoleInput shape (src/host/console-source.ts).
  listening(): boolean {
    return this.ctx !== null && !this.ctx.broken && this.ctx.queues[VIRTIO_CONSOLE_RX]!.ready && this.portReady && this.guestOpen;
  }
  canReceive(): boolean { return this.count < this.pending.length; }
  receive(byte: number): boolean { return this.input(Uint8Array.of(byte)) === 1; }

  /** Moves a finite input into the held queue as room allows. */
  private refill(): void {
    const src = this.source;
    if (src === null || src.length === 0) return;
    const room = this.pending.length - this.count;
    if (room === 0) return;
    const n = Math.min(room, src.length);
    for (let i = 0; i < n; i++) this.pending[(this.head + this.count + i) % this.pending.length] = src[i]!;
    this.count += n;
    this.source = src.subarray(n);
  }

  /** Moves waiting host input into the driver's receive buffers, one used buffer per chain filled. */
  private deliver(): void {
    const ctx = this.ctx;
    if (ctx === null || ctx.broken || !this.portReady || !this.guestOpen) return;
    this.refill();
    if (this.count === 0) return;
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
      this.refill();
    }
    if (q.error !== null) { ctx.needsReset(q.error); return; }
    if (used > 0) ctx.usedBuffers(VIRTIO_CONSOLE_RX);
    if (this.inputEnded()) this.setHostOpen(false);
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

/** The largest file `--console-port …,in=FILE` takes (it is read whole at start). */
export const CONSOLE_INPUT_MAX = 64 << 20;

/**
 * The host end of `--console-port`: 'stdio' writes guest output to stdout, 'none' discards it; anything else is a
 * file the output is appended to. Input from stdin is the wiring's (it owns the terminal); a port's input comes
 * from `in=FILE` (readConsoleInput).
 */
export function openConsolePort(spec: string): { sink: ConsoleSink; close(): void } {
  if (spec === 'stdio') return { sink: { write: (b) => { process.stdout.write(Buffer.from(b)); } }, close: () => {} };
  if (spec === 'none') return { sink: { write: () => {} }, close: () => {} };
  let fd: number;
  try { fd = openSync(spec, 'a'); } catch (e) { throw new Error(`--console-port ${spec}: cannot open it for appending: ${(e as Error).message}`); }
  return {
    sink: { write: (b) => { for (let done = 0; done < b.length;) done += writeSync(fd, b, done, b.length - done); } },
    close: () => { if (fd >= 0) { closeSync(fd); fd = -1; } },
  };
}

/** The bytes of `--console-port …,in=FILE`, or one line saying why not. */
export function readConsoleInput(file: string): Uint8Array {
  let b: Buffer;
  try { b = readFileSync(file); } catch (e) { throw new Error(`--console-port in=${file}: cannot read it: ${(e as Error).message}`); }
  if (b.length > CONSOLE_INPUT_MAX) throw new Error(`--console-port in=${file}: ${b.length} bytes is more than the ${CONSOLE_INPUT_MAX >> 20} MiB a port's input may be; split it`);
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}
