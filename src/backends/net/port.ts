// The seam between a NIC model (e1000, virtio-net, Xen netback, an SR-IOV uplink) and a network backend (TAP,
// software switch, pcap, none), ARCHITECTURE.md "Multi-VM host": Ethernet frames (ethernet.ts) each way.
//
// A NIC never talks to a backend directly. It gets a NicPort, which sends its frames to the backend at once and
// queues the backend's frames until the scheduler calls the port's EventSource methods (src/host/event-source.ts):
// frames enter the guest only in deliver()/onRound(), between rounds, and only while the NIC can take them. So a
// frame from another VM on the same switch lands at the same guest time on every run, and a frame from a TAP lands
// between rounds, never in the middle of a guest's slice.
//
// Frame ownership, both ways: a frame handed to send() or to an onFrame sink is valid only during the call. A
// receiver copies what it keeps; a sender may reuse its buffer as soon as the call returns.

import type { EventSource } from '../../host/event-source.js';
import { ETH_HLEN, MAX_FRAME_LEN } from './ethernet.js';
import { FrameQueue } from './frame-queue.js';
import { GsoSegmenter, type GsoInfo } from './gso.js';

/** Receives one frame, and the segmentation still to be done to it (gso.ts), if any; valid only during the call. */
export type FrameSink = (frame: Uint8Array, gso?: GsoInfo | null) => void;

/**
 * Frame counters of one port, always from the point of view of the device on the NIC side of it (as the guest's
 * `ip -s link` counts): tx = frames that device sent out, rx = frames it was given. Drops are frames refused on
 * the way, counted where they were refused.
 */
export class PortCounters {
  txFrames = 0;
  txBytes = 0;
  txDropped = 0;
  rxFrames = 0;
  rxBytes = 0;
  rxDropped = 0;

  toJSON(): PortReport {
    return {
      txFrames: this.txFrames, txBytes: this.txBytes, txDropped: this.txDropped,
      rxFrames: this.rxFrames, rxBytes: this.rxBytes, rxDropped: this.rxDropped,
    };
  }
}

export interface PortReport {
  txFrames: number; txBytes: number; txDropped: number;
  rxFrames: number; rxBytes: number; rxDropped: number;
}

/** Where a NIC's frames go and where frames for it come from. */
export interface NetBackend {
  readonly name: string;
  /**
   * The one receiver of frames coming from this backend (set by NicPort or a switch, null when nothing is attached;
   * the backend then drops and counts). In-process backends call it synchronously; a TAP calls it from its I/O
   * callback, between the scheduler's rounds.
   */
  onFrame: FrameSink | null;
  /**
   * Sends one frame out (TAP write, switch forwarding, capture). Never keeps `frame` past the call. `gso` is given only
   * to a backend that says acceptsGso: the others get segments.
   */
  send(frame: Uint8Array, gso?: GsoInfo | null): void;
  /** Takes large TCP packets with their GsoInfo whole (the software switch); absent: false. */
  readonly acceptsGso?: boolean;
  /** Carrier: frames can flow. */
  readonly linkUp: boolean;
  /** Frames may still arrive from outside this process (an open TAP, a switch with a TAP uplink). */
  readonly live: boolean;
  /** tx = frames sent through this backend, rx = frames it brought in; drops it made itself. */
  readonly counters: PortCounters;
  /** Releases what the backend holds (file descriptors, switch ports). Idempotent. */
  close(): void;
}

/** What a NIC model offers its port for receiving. */
export interface NicReceiver {
  /** The NIC can take a frame now (driver up, receive buffers posted). */
  canReceive(): boolean;
  /** Takes one frame (copying it into guest memory); false when the NIC dropped it (e.g. no buffer large enough). */
  receive(frame: Uint8Array): boolean;
  /** The driver takes large TCP packets whole (virtio-net with GUEST_TSO); absent: the port gives it segments. */
  acceptsGso?(gso: GsoInfo): boolean;
  /** Room now for a large packet of `len` bytes (its buffers posted). */
  canReceiveGso?(len: number): boolean;
  /** Takes one large TCP packet whole; false when it dropped it. */
  receiveGso?(frame: Uint8Array, gso: GsoInfo): boolean;
}

export interface NicPortOptions {
  /** Name in reports and in the scheduler's source list; the backend's name by default. */
  readonly name?: string;
  /** The host runs on deterministic virtual time (enables awaitBeforeSkip for live backends). */
  readonly deterministic: boolean;
  /** Bounds of the queue of frames waiting for the NIC. */
  readonly queueFrames?: number;
  readonly queueBytes?: number;
}

export const DEFAULT_QUEUE_FRAMES = 256;
export const DEFAULT_QUEUE_BYTES = 256 * 1024;

/**
 * A NIC's attachment to a backend, and the EventSource through which the backend's frames reach the NIC.
 * Counters are the NIC's view: tx = frames the NIC sent (txDropped: link down), rx = frames handed to the NIC
 * (rxDropped: runt or oversized frames, queue overflow, or refused by the NIC).
 */
export class NicPort implements EventSource {
  readonly name: string;
  readonly counters = new PortCounters();
  private readonly queue: FrameQueue;
  private readonly deterministic: boolean;
  /** Pending wait() calls (the scheduler races every source's wait). */
  private readonly waiters = new Set<() => void>();
  /** The NIC sent something out of a live backend since awaitBeforeSkip last said yes: a reply may be on its way. */
  private sentSinceAwait = false;
  private closed = false;
  private gsoSegmenter: GsoSegmenter | null = null;

  constructor(readonly backend: NetBackend, private readonly nic: NicReceiver, options: NicPortOptions) {
    if (backend.onFrame !== null) {
      throw new Error(`net backend '${backend.name}' already has a receiver: one backend serves one NIC (attach NICs to a switch to share a network)`);
    }
    this.name = options.name ?? backend.name;
    this.deterministic = options.deterministic;
    this.queue = new FrameQueue(options.queueBytes ?? DEFAULT_QUEUE_BYTES, options.queueFrames ?? DEFAULT_QUEUE_FRAMES);
    backend.onFrame = (frame, gso) => this.arrive(frame, gso ?? null);
  }

  /** The backend has carrier and the port is attached. */
  get linkUp(): boolean { return !this.closed && this.backend.linkUp; }

  /** Frames waiting for the NIC. */
  get queued(): number { return this.queue.length; }

  /** The backend takes large TCP packets whole: a NIC may hand them over unsegmented (send with gso). */
  get acceptsGso(): boolean { return this.backend.acceptsGso === true; }

  /**
   * The NIC transmits one frame (its buffer may be reused when this returns). With `gso` it is one large TCP packet
   * still to be segmented: passed on whole to a backend that accepts that, cut into segments for any other.
   */
  send(frame: Uint8Array, gso: GsoInfo | null = null): void {
    // guest-controlled: the frame's length and contents come from the guest's transmit descriptors.
    if (!this.linkUp || frame.length < ETH_HLEN || (gso === null && frame.length > MAX_FRAME_LEN)) {
      this.counters.txDropped++;
      return;
    }
    // A large packet goes whole only where it is taken whole and fits a frame's length field; otherwise, its segments.
    if (gso !== null && (!this.acceptsGso || frame.length > MAX_FRAME_LEN)) {
      if (!this.segmenter().segment(frame, gso, this.sendOne)) this.counters.txDropped++;
      return;
    }
    this.counters.txFrames++;
    this.counters.txBytes += frame.length;
    this.sentSinceAwait = true;
    this.backend.send(frame, gso);
  }

  private readonly sendOne = (frame: Uint8Array): void => { this.send(frame); };

  private segmenter(): GsoSegmenter {
    this.gsoSegmenter ??= new GsoSegmenter();
    return this.gsoSegmenter;
  }

  private arrive(frame: Uint8Array, gso: GsoInfo | null = null): void {
    if (this.closed) return;
    if (gso !== null && this.nic.acceptsGso?.(gso) !== true) {
      // A NIC that takes only frames: the segments are what arrives.
      if (!this.segmenter().segment(frame, gso, this.arriveOne)) this.counters.rxDropped++;
      return;
    }
    if (frame.length < ETH_HLEN || frame.length > MAX_FRAME_LEN || !this.queue.push(frame, gso)) {
      this.counters.rxDropped++;
      return;
    }
    this.wakeAll();
  }

  private readonly arriveOne = (frame: Uint8Array): void => { this.arrive(frame); };

  /** The oldest queued frame fits in the NIC now (a large packet needs room for all of it). */
  private headFits(): boolean {
    const gso = this.queue.peekGso();
    if (gso === null) return this.nic.canReceive();
    return this.nic.canReceiveGso?.(this.queue.peek()!.length) ?? false;
  }

  // EventSource

  live(): boolean { return !this.closed && this.backend.live; }

  ready(): boolean { return this.queue.length > 0 && this.headFits(); }

  /** A live backend (a TAP) is the real network: its peers keep the host's time. */
  pacesIdle(): boolean { return this.live(); }

  deliver(): void {
    const q = this.queue;
    // Only the frames queued before this call: a NIC whose receive makes more frames arrive cannot keep it looping.
    for (let n = q.length; n > 0 && this.headFits(); n--) {
      const frame = q.peek()!;
      const len = frame.length;
      const gso = q.peekGso();
      if (gso === null ? this.nic.receive(frame) : this.nic.receiveGso!(frame, gso)) {
        this.counters.rxFrames++;
        this.counters.rxBytes += len;
      } else {
        this.counters.rxDropped++;
      }
      q.shift();
    }
  }

  awaitBeforeSkip(): boolean {
    // A frame went out of a live backend and nothing has come back yet: give the reply a moment before idle time
    // is skipped, so a ping's answer does not arrive after a skipped second of guest time. Once per burst sent.
    if (!this.deterministic || !this.sentSinceAwait || this.queue.length > 0 || !this.live() || !this.nic.canReceive()) return false;
    this.sentSinceAwait = false;
    return true;
  }

  onRound(_round: number): void {
    // Frames queued during the last round (another VM's transmit) or between rounds (a TAP read) enter here.
    if (this.queue.length > 0) this.deliver();
  }

  onYield(): void {
    // Nothing: TAP reads complete during the scheduler's turn of the event loop, after this call; onRound takes them.
  }

  wait(ms: number): Promise<void> {
    if (this.queue.length > 0 || !this.live()) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => { clearTimeout(timer); this.waiters.delete(done); resolve(); };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  private wakeAll(): void {
    // Deleting the entry being visited is safe while iterating a Set.
    for (const w of this.waiters) w();
  }

  /** Detaches from the backend (which stays open: its owner closes it) and drops what is queued. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.backend.onFrame !== null) this.backend.onFrame = null;
    this.queue.clear();
    this.wakeAll();
  }
}

/** The backend of `none`: no carrier; whatever the NIC sends is dropped and counted, nothing ever arrives. */
export class NullBackend implements NetBackend {
  onFrame: FrameSink | null = null;
  readonly counters = new PortCounters();
  readonly linkUp = false;
  readonly live = false;
  constructor(readonly name = 'none') {}
  send(_frame: Uint8Array, _gso?: GsoInfo | null): void { this.counters.txDropped++; }
  close(): void {}
}
