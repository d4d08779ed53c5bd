// xenstore watches (docs/misc/xenstore.txt "WATCH"): a watch on a path fires for a change at or below it, and for
// the removal of one of its ancestors (then the event names the watched path). A guest only hears of nodes it may
// read. Relative watches get relative event paths. vmio's own watchers are callbacks, run after the request that
// caused them, one after another, never inside a tree operation.

import type { XenstoreCounters } from './counters.js';
import { isUnder, permFor, type XsChange } from './xs-tree.js';
import { XS_PERM_READ } from './xs-wire.js';

/** Where a domain's watch events go; false when its output is full (the event is dropped and counted). */
export interface WatchSink {
  event(path: string, token: string): boolean;
}

interface GuestWatch {
  readonly dom: number;
  /** Absolute path, or a special "@..." name. */
  readonly path: string;
  /** As the guest gave it (relative or absolute). */
  readonly given: string;
  readonly token: string;
  readonly sink: WatchSink;
}

interface VmioWatch {
  readonly path: string;
  readonly fn: (path: string) => void;
}

/** Watches a domain may hold (xenstored's quota). */
export const QUOTA_WATCHES = 128;
/** vmio callbacks run per drain before the rest are dropped (watchers that keep re-triggering each other). */
const MAX_CALLBACKS = 10_000;

export class XsWatches {
  private readonly guest: GuestWatch[] = [];
  private readonly vmio: VmioWatch[] = [];
  private readonly queue: { fn: (path: string) => void; path: string }[] = [];
  private draining = false;

  constructor(private readonly counters: XenstoreCounters) {}

  count(dom: number): number { return this.guest.filter((w) => w.dom === dom).length; }

  /** Adds a guest watch; false if the same path and token are already watched by that domain. */
  add(dom: number, path: string, given: string, token: string, sink: WatchSink): boolean {
    if (this.guest.some((w) => w.dom === dom && w.given === given && w.token === token)) return false;
    this.guest.push({ dom, path, given, token, sink });
    return true;
  }

  remove(dom: number, given: string, token: string): boolean {
    const i = this.guest.findIndex((w) => w.dom === dom && w.given === given && w.token === token);
    if (i < 0) return false;
    this.guest.splice(i, 1);
    return true;
  }

  removeDomain(dom: number): void {
    for (let i = this.guest.length - 1; i >= 0; i--) if (this.guest[i]!.dom === dom) this.guest.splice(i, 1);
  }

  /** A vmio watcher; returns its removal. */
  addVmio(path: string, fn: (path: string) => void): () => void {
    const w = { path, fn };
    this.vmio.push(w);
    return () => { const i = this.vmio.indexOf(w); if (i >= 0) this.vmio.splice(i, 1); };
  }

  /** Fires the watches a change concerns. */
  fire(c: XsChange): void {
    for (const w of this.guest) {
      const path = this.matches(w.path, c);
      if (path === null || (permFor(c.perms, w.dom) & XS_PERM_READ) === 0) continue;
      this.send(w, path);
    }
    for (const w of this.vmio) {
      const path = this.matches(w.path, c);
      if (path !== null) this.queue.push({ fn: w.fn, path });
    }
  }

  private matches(watched: string, c: XsChange): string | null {
    if (isUnder(c.path, watched)) return c.path;
    if (c.removed && isUnder(watched, c.path)) return watched;
    return null;
  }

  /** Sends one event to a guest watch, with its path made relative if the watch was. */
  send(w: { dom: number; given: string; path: string; token: string; sink: WatchSink }, absolute: string): void {
    let path = absolute;
    if (!w.given.startsWith('/') && !w.given.startsWith('@')) {
      const home = `/local/domain/${w.dom}/`;
      if (absolute.startsWith(home)) path = absolute.slice(home.length);
    }
    if (w.sink.event(path, w.token)) this.counters.watchEvents++;
    else this.counters.watchEventsDropped++;
  }

  /** Runs the queued vmio callbacks (and those they cause), unless already running. */
  drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let n = 0; this.queue.length > 0 && n < MAX_CALLBACKS; n++) {
        const e = this.queue.shift()!;
        e.fn(e.path);
      }
    } finally {
      // Left over only when vmio's watchers kept re-triggering each other (or one threw): dropped, counted.
      this.counters.watchEventsDropped += this.queue.length;
      this.queue.length = 0;
      this.draining = false;
    }
  }
}
