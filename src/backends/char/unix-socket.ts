// A character backend on a Unix socket (`--console-port unix:PATH`): vmio listens at PATH and serves one client at a
// time (a person with `socat -,raw,echo=0 UNIX-CONNECT:PATH`, or a program). The device's output goes to the client
// (dropped while none is connected, as a serial line with nobody listening); the client's bytes reach the device
// only through this EventSource, between the scheduler's rounds, like a TAP's frames: the outside is live, so the
// scheduler paces idle time to the host clock while a client is connected.

import { lstatSync, renameSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { EventSource } from '../../host/event-source.js';

/** What the device offers the socket for input. */
export interface CharReceiver {
  /** The guest can take input now (its driver is up and, for a named port, has the port open). */
  listening(): boolean;
  /** Takes what it can of `bytes`; returns how many. */
  input(bytes: Uint8Array): number;
  /** A client connected (true) or went away (false): the host end of the port opens or closes. */
  setHostConnected(open: boolean): void;
}

/** Bytes from the client held until the guest takes them; past this the socket is paused (backpressure). */
const HELD_LIMIT = 64 * 1024;

export class SocketCharError extends Error {}

export class UnixSocketChar implements EventSource {
  readonly name: string;
  private server: Server | null = null;
  private client: Socket | null = null;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private readonly waiters = new Set<() => void>();
  private receiver: CharReceiver | null = null;
  /** Bytes written to and read from clients, and clients refused because one was connected. */
  bytesOut = 0;
  bytesIn = 0;
  refused = 0;

  private constructor(readonly path: string) {
    this.name = `unix:${path}`;
  }

  /**
   * Listens at `path`. A stale socket left by an earlier run is replaced; any other file there is refused with one
   * line saying what to do. Resolves once the socket exists (a client may connect as soon as this returns).
   */
  static async listen(path: string): Promise<UnixSocketChar> {
    let st;
    try { st = lstatSync(path); } catch { st = null; }
    if (st !== null) {
      if (!st.isSocket()) throw new SocketCharError(`--console-port unix:${path}: ${path} exists and is not a socket; give a path that does not exist`);
      unlinkSync(path);
    }
    const c = new UnixSocketChar(path);
    const server = createServer((s) => c.accept(s));
    // Bound and listening under a private name, then renamed into place: the path appears only once a client can
    // connect to it (a client watching for it never meets a socket that refuses).
    const bound = `${path}.vmio-${process.pid}`;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new SocketCharError(`--console-port unix:${path}: cannot listen there: ${e.message}`)));
      server.listen(bound, () => resolve());
    });
    try {
      renameSync(bound, path);
    } catch (e) {
      server.close();
      throw new SocketCharError(`--console-port unix:${path}: cannot create it: ${(e as Error).message}`);
    }
    server.on('error', () => {});
    // The VMM must be able to exit while the socket waits for a client.
    server.unref();
    c.server = server;
    return c;
  }

  /** The device this backend feeds (set once by the wiring). */
  attach(r: CharReceiver): void {
    this.receiver = r;
    r.setHostConnected(this.client !== null);
  }

  /** Output from the guest: to the client if there is one. */
  write(bytes: Uint8Array): void {
    if (this.client === null) return;
    this.bytesOut += bytes.length;
    this.client.write(Buffer.from(bytes));
  }

  private accept(s: Socket): void {
    if (this.client !== null) {
      this.refused++;
      s.end('vmio: another client is connected to this port\n');
      return;
    }
    this.client = s;
    s.unref();
    s.on('data', (d: Buffer) => {
      this.held.push(d);
      this.heldBytes += d.length;
      this.bytesIn += d.length;
      if (this.heldBytes >= HELD_LIMIT) s.pause();
      this.wakeAll();
    });
    const gone = (): void => {
      if (this.client !== s) return;
      this.client = null;
      this.receiver?.setHostConnected(false);
      this.wakeAll();
    };
    s.on('close', gone);
    s.on('error', gone);
    this.receiver?.setHostConnected(true);
  }

  // EventSource

  live(): boolean { return this.server !== null; }

  ready(): boolean { return this.heldBytes > 0 && this.receiver !== null && this.receiver.listening(); }

  /** A person at the other end keeps the host's time. */
  pacesIdle(): boolean { return this.client !== null; }

  deliver(): void {
    const r = this.receiver;
    if (r === null) return;
    while (this.held.length > 0 && r.listening()) {
      const b = this.held[0]!;
      const n = r.input(b);
      if (n === 0) break;
      this.heldBytes -= n;
      if (n === b.length) this.held.shift();
      else { this.held[0] = b.subarray(n); break; }
    }
    if (this.heldBytes < HELD_LIMIT / 2) this.client?.resume();
  }

  awaitBeforeSkip(): boolean { return false; }

  onRound(_round: number): void { if (this.heldBytes > 0) this.deliver(); }

  onYield(): void {}

  wait(ms: number): Promise<void> {
    if (this.heldBytes > 0 || this.server === null) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => { clearTimeout(timer); this.waiters.delete(done); resolve(); };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  private wakeAll(): void { for (const w of this.waiters) w(); }

  /** Stops listening, drops the client and removes the socket file. Idempotent. */
  close(): void {
    if (this.server === null) return;
    this.server.close();
    this.server = null;
    this.client?.destroy();
    this.client = null;
    try { unlinkSync(this.path); } catch { /* already gone */ }
    this.wakeAll();
  }
}
