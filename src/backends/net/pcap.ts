// Packet capture in the classic libpcap file format (tcpdump.org "pcap savefile format"; Wireshark wiki
// "Development/LibpcapFileFormat"): a 24-byte file header, then per frame a 16-byte record header and the frame.
// Written little-endian (readers detect the byte order from the magic). Timestamps come from virtual time, so a
// deterministic run writes the same file every time. Three uses: a capture on any backend (both directions), the
// `pcap=FILE` backend that only records what the guest sends, and tests.

import { closeSync, openSync, writeSync } from 'node:fs';
import { MAX_FRAME_LEN } from './ethernet.js';
import { PortCounters, type FrameSink, type NetBackend } from './port.js';
import type { GsoInfo } from './gso.js';

/** File header magic for microsecond timestamps. */
export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
/** File header magic for nanosecond timestamps. */
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
export const PCAP_VERSION_MAJOR = 2;
export const PCAP_VERSION_MINOR = 4;
/** tcpdump.org link-layer header types: IEEE 802.3 Ethernet. */
export const LINKTYPE_ETHERNET = 1;
export const PCAP_SNAPLEN = 65535;
export const PCAP_FILE_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;

/** Where timestamps come from: virtual time in ticks, and ticks per second. */
export interface PcapClock {
  now(): number;
  readonly frequency: number;
}

/** Where the bytes of a capture go. */
export interface PcapOutput {
  write(bytes: Uint8Array): void;
  close(): void;
}

export type PcapResolution = 'ns' | 'us';

export interface PcapOptions {
  /** Timestamp resolution: nanoseconds (default; exact for the 10 MHz timebase) or microseconds. */
  readonly resolution?: PcapResolution;
}

const BUFFER_BYTES = 64 * 1024;

/** Splits `ticks` of a `frequency` Hz clock into whole seconds and `unitsPerSecond` fractions, exactly. */
export function splitTimestamp(ticks: number, frequency: number, unitsPerSecond: number): [seconds: number, fraction: number] {
  const sec = Math.floor(ticks / frequency);
  const rem = ticks - sec * frequency;
  let frac: number;
  if (unitsPerSecond % frequency === 0) frac = rem * (unitsPerSecond / frequency);
  else if (frequency % unitsPerSecond === 0) frac = Math.floor(rem / (frequency / unitsPerSecond));
  else frac = Number(BigInt(rem) * BigInt(unitsPerSecond) / BigInt(frequency));
  return [sec, frac];
}

/** Writes one capture: the file header at once, then a record per frame (buffered; flushed when full and on close). */
export class PcapWriter {
  /** Frames recorded and the bytes of them stored (after snaplen). */
  frames = 0;
  bytes = 0;
  private readonly buf = new Uint8Array(BUFFER_BYTES);
  private readonly view = new DataView(this.buf.buffer);
  private used = 0;
  private readonly unitsPerSecond: number;
  private closed = false;

  constructor(private readonly out: PcapOutput, private readonly clock: PcapClock, options: PcapOptions = {}) {
    if (!(clock.frequency > 0) || !Number.isInteger(clock.frequency)) throw new RangeError(`pcap clock frequency must be a positive whole number of Hz (got ${clock.frequency})`);
    const nano = (options.resolution ?? 'ns') === 'ns';
    this.unitsPerSecond = nano ? 1_000_000_000 : 1_000_000;
    const v = this.view;
    v.setUint32(0, nano ? PCAP_MAGIC_NSEC : PCAP_MAGIC_USEC, true);
    v.setUint16(4, PCAP_VERSION_MAJOR, true);
    v.setUint16(6, PCAP_VERSION_MINOR, true);
    v.setInt32(8, 0, true); // thiszone: timestamps are UTC (here: virtual time since the machine started)
    v.setUint32(12, 0, true); // sigfigs
    v.setUint32(16, PCAP_SNAPLEN, true);
    v.setUint32(20, LINKTYPE_ETHERNET, true);
    this.used = PCAP_FILE_HEADER_LEN;
    this.flush();
  }

  /** A capture written to `path` (created or truncated now). */
  static toFile(path: string, clock: PcapClock, options: PcapOptions = {}): PcapWriter {
    let fd: number;
    try {
      fd = openSync(path, 'w');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new Error(`cannot create pcap file '${path}': ${err.code ?? err.message}; give a path in a writable directory`);
    }
    const out: PcapOutput = {
      write: (bytes) => { for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off); },
      close: () => closeSync(fd),
    };
    return new PcapWriter(out, clock, options);
  }

  /** Records one frame at the clock's current time. */
  record(frame: Uint8Array): void { this.recordAt(this.clock.now(), frame); }

  /** Records one frame at `ticks` of virtual time. */
  recordAt(ticks: number, frame: Uint8Array): void {
    if (this.closed) return;
    const incl = Math.min(frame.length, PCAP_SNAPLEN);
    if (this.used + PCAP_RECORD_HEADER_LEN + incl > BUFFER_BYTES) this.flush();
    const [sec, frac] = splitTimestamp(ticks, this.clock.frequency, this.unitsPerSecond);
    const v = this.view;
    const at = this.used;
    v.setUint32(at, sec >>> 0, true); // ts_sec wraps after 136 years of virtual time
    v.setUint32(at + 4, frac, true);
    v.setUint32(at + 8, incl, true);
    v.setUint32(at + 12, frame.length, true);
    this.used += PCAP_RECORD_HEADER_LEN;
    if (this.used + incl > BUFFER_BYTES) {
      this.flush();
      this.out.write(frame.subarray(0, incl));
    } else {
      this.buf.set(incl === frame.length ? frame : frame.subarray(0, incl), this.used);
      this.used += incl;
    }
    this.frames++;
    this.bytes += incl;
  }

  /** Writes what is buffered. */
  flush(): void {
    if (this.used === 0) return;
    this.out.write(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.out.close();
  }
}

/**
 * A backend with a capture on it: every frame sent through it and every frame it brings in is recorded, then
 * passed on unchanged. Closing it closes the backend and the capture.
 */
export class CapturedBackend implements NetBackend {
  private sink: FrameSink | null = null;
  private readonly hook: FrameSink;

  constructor(readonly inner: NetBackend, readonly pcap: PcapWriter) {
    // A large TCP packet crossing whole (gso.ts) is recorded as one frame, as tcpdump on a host shows GSO packets.
    this.hook = (frame, gso) => {
      this.pcap.record(frame);
      this.sink?.(frame, gso);
    };
  }

  get name(): string { return this.inner.name; }
  get linkUp(): boolean { return this.inner.linkUp; }
  get live(): boolean { return this.inner.live; }
  get counters(): PortCounters { return this.inner.counters; }

  get onFrame(): FrameSink | null { return this.sink; }
  set onFrame(sink: FrameSink | null) {
    this.sink = sink;
    this.inner.onFrame = sink === null ? null : this.hook;
  }

  get acceptsGso(): boolean { return this.inner.acceptsGso === true; }

  send(frame: Uint8Array, gso: GsoInfo | null = null): void {
    if (this.inner.linkUp) this.pcap.record(frame);
    this.inner.send(frame, gso);
  }

  close(): void {
    this.inner.close();
    this.pcap.close();
  }
}

/** The `pcap=FILE` backend: carrier up, records what the guest sends, never brings anything in. */
export class PcapBackend implements NetBackend {
  onFrame: FrameSink | null = null;
  readonly counters = new PortCounters();
  readonly live = false;
  private open = true;

  constructor(readonly name: string, readonly pcap: PcapWriter) {}

  get linkUp(): boolean { return this.open; }

  send(frame: Uint8Array): void {
    if (!this.open || frame.length > MAX_FRAME_LEN) { this.counters.txDropped++; return; }
    this.counters.txFrames++;
    this.counters.txBytes += frame.length;
    this.pcap.record(frame);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.pcap.close();
  }
}
