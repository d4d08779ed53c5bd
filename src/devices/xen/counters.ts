// The counters of vmio's Xen machinery (ARCHITECTURE.md "Metrics"): hypercalls by op, event-channel notifications
// each way, grant copies and bytes, xenstore traffic. Each part owns its counter object; reports are plain JSON.
// Costs go to an injected charger (the VM's CostMeter, src/metrics/cost.ts).

import type { CostKind } from '../../metrics/cost.js';

/** Where modelled costs are charged (Metrics.cost). */
export interface CostCharger {
  charge(kind: CostKind, n?: number): number;
}

/** Hypercalls by name ("event_channel_op.send"); names come from fixed tables, so the record stays small. */
export class HypercallCounters {
  readonly byOp: Record<string, number> = {};
  total = 0;
  /** Calls that returned an error (negative errno). */
  errors = 0;
  /** Argument pointers the guest did not own (returned -EFAULT). */
  faults = 0;
  count(name: string): void {
    this.total++;
    this.byOp[name] = (this.byOp[name] ?? 0) + 1;
  }
  toJSON(): object { return { total: this.total, errors: this.errors, faults: this.faults, byOp: this.byOp }; }
}

export class EventChannelCounters {
  /** Sends from a guest to vmio (a backend's port) and from vmio to a guest. */
  toVmio = 0;
  toGuest = 0;
  /** Sends between two guests. */
  guestToGuest = 0;
  /** Upcall interrupts raised (a vCPU's evtchn_upcall_pending went 0 -> 1). */
  upcalls = 0;
  /** Sends that found the port already pending (coalesced), or masked (the guest will poll it). */
  alreadyPending = 0;
  masked = 0;
  /** Sends on an unbound port (dropped, as Xen does). */
  unbound = 0;
  toJSON(): object {
    return {
      toVmio: this.toVmio, toGuest: this.toGuest, guestToGuest: this.guestToGuest, upcalls: this.upcalls,
      alreadyPending: this.alreadyPending, masked: this.masked, unbound: this.unbound,
    };
  }
}

export class GrantCounters {
  copies = 0;
  bytes = 0;
  /** Copies and maps refused, by GNTST status name. */
  readonly refused: Record<string, number> = {};
  maps = 0;
  unmaps = 0;
  /** Grants the guest took away (flags no longer permit access) while vmio still had them mapped. */
  revokedWhileMapped = 0;
  refuse(name: string): void { this.refused[name] = (this.refused[name] ?? 0) + 1; }
  toJSON(): object {
    return { copies: this.copies, bytes: this.bytes, maps: this.maps, unmaps: this.unmaps, revokedWhileMapped: this.revokedWhileMapped, refused: this.refused };
  }
}

export class XenstoreCounters {
  /** Requests by message type name ("READ", "TRANSACTION_END"). */
  readonly requests: Record<string, number> = {};
  /** Error replies by error name ("ENOENT", "EAGAIN"). */
  readonly errors: Record<string, number> = {};
  watchEvents = 0;
  /** Watch events dropped because the connection's output was full. */
  watchEventsDropped = 0;
  /** Transactions committed and failed with EAGAIN. */
  commits = 0;
  conflicts = 0;
  /** Rings abandoned for a protocol or index error. */
  brokenRings = 0;
  countRequest(name: string): void { this.requests[name] = (this.requests[name] ?? 0) + 1; }
  countError(name: string): void { this.errors[name] = (this.errors[name] ?? 0) + 1; }
  toJSON(): object {
    return {
      requests: this.requests, errors: this.errors, watchEvents: this.watchEvents, watchEventsDropped: this.watchEventsDropped,
      commits: this.commits, conflicts: this.conflicts, brokenRings: this.brokenRings,
    };
  }
}
