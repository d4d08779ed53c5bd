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

/** One vif's netback counters: packets each way, what the offloads did, drops by reason, fatal errors. */
export class NetbackCounters {
  txPackets = 0;
  txBytes = 0;
  txSlots = 0;
  /** Frames handed to the port (a GSO packet becomes several). */
  txFrames = 0;
  txGsoSegments = 0;
  /** GSO packets passed on whole to a port that carries large packets (not cut into segments). */
  txGsoWhole = 0;
  txCsumCompleted = 0;
  rxPackets = 0;
  rxBytes = 0;
  rxSlots = 0;
  rxDataValidated = 0;
  /** Large TCP packets given to the frontend whole, with a GSO extra-info slot (it offered feature-gso-tcpv4/6). */
  rxGso = 0;
  /** Notifications from the frontend (event channel kicks). */
  kicks = 0;
  /** Response pushes that notified the frontend, and those its rsp_event suppressed, per ring. */
  readonly txRing = { notified: 0, suppressed: 0 };
  readonly rxRing = { notified: 0, suppressed: 0 };
  /** Packets dropped (answered with an error, or not delivered), by reason. */
  readonly txDropped: Record<string, number> = {};
  readonly rxDropped: Record<string, number> = {};
  /** Disconnections for a protocol violation, by reason (netback's xenvif_fatal_tx_err). */
  readonly fatal: Record<string, number> = {};
  dropTx(reason: string): void { this.txDropped[reason] = (this.txDropped[reason] ?? 0) + 1; }
  dropRx(reason: string): void { this.rxDropped[reason] = (this.rxDropped[reason] ?? 0) + 1; }
  toJSON(): object {
    return {
      txPackets: this.txPackets, txBytes: this.txBytes, txSlots: this.txSlots, txFrames: this.txFrames, txGsoSegments: this.txGsoSegments,
      txGsoWhole: this.txGsoWhole, rxGso: this.rxGso, txCsumCompleted: this.txCsumCompleted, rxPackets: this.rxPackets, rxBytes: this.rxBytes, rxSlots: this.rxSlots,
      rxDataValidated: this.rxDataValidated, kicks: this.kicks, txRing: this.txRing, rxRing: this.rxRing, txDropped: this.txDropped, rxDropped: this.rxDropped, fatal: this.fatal,
    };
  }
}
