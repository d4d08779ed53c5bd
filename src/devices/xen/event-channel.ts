// Event channels with the 2-level ABI (event_channel.h; Xen's common/event_channel.c and event_2l.c): ports per
// domain in the states free, unbound, interdomain and virq. Sending on an interdomain port makes the peer port
// pending: for a guest, its bit in shared_info.evtchn_pending; unless the port is masked in evtchn_mask, the port's
// word bit in the target vCPU's evtchn_pending_sel; and on the 0 -> 1 edge of that vCPU's evtchn_upcall_pending,
// the upcall interrupt. Unmasking a pending port re-raises. vmio (domain 0) owns ports too: its "pending bit" runs a
// handler, queued so that handlers never run inside one another. Ops return a port (>= 1), 0, or -errno.

import {
  DOMID_VMIO, EEXIST, EINVAL, ENOENT, ENOSPC, ESRCH, EVTCHN_2L_NR_CHANNELS, EVTCHNSTAT_closed, EVTCHNSTAT_interdomain,
  EVTCHNSTAT_unbound, EVTCHNSTAT_virq, NR_VIRQS, SI_EVTCHN_MASK, SI_EVTCHN_PENDING, VI_PENDING_SEL, VI_UPCALL_PENDING,
} from './abi.js';
import { EventChannelCounters, type CostCharger } from './counters.js';
import type { XenDomain } from './domain.js';
import { testAndClearBit, testAndSetBit, testBit } from './xen-page.js';

/** What vmio runs when one of its ports is notified. */
export type PortHandler = () => void;

interface Channel {
  state: number;
  /** vCPU notified (guests). */
  vcpu: number;
  /** Unbound: the domain allowed to bind; interdomain: the peer domain and port. */
  remoteDom: number;
  remotePort: number;
  virq: number;
  /** vmio's ports: the handler, and whether it is queued. */
  handler: PortHandler | null;
  queued: boolean;
}

export interface ChannelStatus {
  status: number;
  vcpu: number;
  /** unbound: the domain that may bind; interdomain: the peer. */
  dom: number;
  port: number;
  virq: number;
}

/** Ports a domain may allocate (Xen's default max_event_channels is 1023). */
export const DEFAULT_MAX_PORTS = 1024;

export class EventChannels {
  private readonly tables = new Map<number, (Channel | undefined)[]>();
  private readonly domains = new Map<number, XenDomain>();
  private readonly runQueue: Channel[] = [];
  private running = false;

  constructor(
    readonly counters = new EventChannelCounters(),
    private readonly cost: CostCharger | null = null,
    private readonly maxPorts = DEFAULT_MAX_PORTS,
  ) {
    if (!Number.isInteger(maxPorts) || maxPorts < 2 || maxPorts > EVTCHN_2L_NR_CHANNELS) throw new RangeError(`event channel ports ${maxPorts}: use 2..${EVTCHN_2L_NR_CHANNELS}`);
    this.tables.set(DOMID_VMIO, []);
  }

  addDomain(d: XenDomain): void {
    if (this.tables.has(d.id)) throw new Error(`Xen domain ${d.id} already has event channels`);
    this.tables.set(d.id, []);
    this.domains.set(d.id, d);
  }

  private get(dom: number, port: number): Channel | null {
    const t = this.tables.get(dom);
    if (t === undefined || !Number.isInteger(port) || port < 1 || port >= t.length) return null;
    const c = t[port];
    return c !== undefined && c.state !== EVTCHNSTAT_closed ? c : null;
  }

  private alloc(dom: number): number {
    const t = this.tables.get(dom)!;
    for (let p = 1; p < this.maxPorts; p++) {
      const c = t[p];
      if (c === undefined || c.state === EVTCHNSTAT_closed) {
        t[p] = { state: EVTCHNSTAT_unbound, vcpu: 0, remoteDom: 0, remotePort: 0, virq: -1, handler: null, queued: false };
        return p;
      }
    }
    return -ENOSPC;
  }

  /** EVTCHNOP_alloc_unbound: a port of `dom` that `remoteDom` may bind to. */
  allocUnbound(dom: number, remoteDom: number, handler: PortHandler | null = null): number {
    if (!this.tables.has(dom)) return -ESRCH;
    const p = this.alloc(dom);
    if (p < 0) return p;
    const c = this.tables.get(dom)![p]!;
    c.remoteDom = remoteDom;
    c.handler = dom === DOMID_VMIO ? handler : null;
    return p;
  }

  /** EVTCHNOP_bind_interdomain: connects a new port of `dom` to `remoteDom`'s unbound port offered to `dom`. */
  bindInterdomain(dom: number, remoteDom: number, remotePort: number, handler: PortHandler | null = null): number {
    if (!this.tables.has(dom) || !this.tables.has(remoteDom)) return -ESRCH;
    const r = this.get(remoteDom, remotePort);
    if (r === null || r.state !== EVTCHNSTAT_unbound || r.remoteDom !== dom) return -EINVAL;
    const p = this.alloc(dom);
    if (p < 0) return p;
    if (dom === remoteDom && p === remotePort) return -EINVAL; // cannot happen: the remote port is not free
    const c = this.tables.get(dom)![p]!;
    c.state = EVTCHNSTAT_interdomain;
    c.remoteDom = remoteDom;
    c.remotePort = remotePort;
    c.handler = dom === DOMID_VMIO ? handler : null;
    r.state = EVTCHNSTAT_interdomain;
    r.remoteDom = dom;
    r.remotePort = p;
    // Xen sets the new port pending: a notification sent to the unbound port before the bind is not lost.
    this.notify(dom, p, c);
    return p;
  }

  /** EVTCHNOP_bind_virq. */
  bindVirq(dom: number, virq: number, vcpu: number): number {
    const d = this.domains.get(dom);
    if (d === undefined) return -ESRCH;
    if (!Number.isInteger(virq) || virq < 0 || virq >= NR_VIRQS) return -EINVAL;
    if (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= d.vcpus) return -ENOENT;
    if (this.virqPort(dom, virq, vcpu) > 0) return -EEXIST;
    const p = this.alloc(dom);
    if (p < 0) return p;
    const c = this.tables.get(dom)![p]!;
    c.state = EVTCHNSTAT_virq;
    c.virq = virq;
    c.vcpu = vcpu;
    return p;
  }

  private virqPort(dom: number, virq: number, vcpu: number): number {
    const t = this.tables.get(dom) ?? [];
    for (let p = 1; p < t.length; p++) {
      const c = t[p];
      if (c !== undefined && c.state === EVTCHNSTAT_virq && c.virq === virq && c.vcpu === vcpu) return p;
    }
    return 0;
  }

  /** Raises a virtual interrupt bound with bindVirq; false when the guest has not bound it. */
  raiseVirq(dom: number, virq: number, vcpu = 0): boolean {
    const p = this.virqPort(dom, virq, vcpu);
    if (p === 0) return false;
    this.notify(dom, p, this.tables.get(dom)![p]!);
    return true;
  }

  /** EVTCHNOP_close: an interdomain peer falls back to unbound (offered to the closer), as in Xen. */
  close(dom: number, port: number): number {
    const c = this.get(dom, port);
    if (c === null) return -EINVAL;
    if (c.state === EVTCHNSTAT_interdomain) {
      const r = this.get(c.remoteDom, c.remotePort);
      if (r !== null) { r.state = EVTCHNSTAT_unbound; r.remoteDom = dom; r.remotePort = 0; }
    }
    c.state = EVTCHNSTAT_closed;
    c.handler = null;
    c.queued = false;
    const d = this.domains.get(dom);
    if (d !== undefined) testAndClearBit(d.sharedInfo, SI_EVTCHN_PENDING, port);
    return 0;
  }

  /** EVTCHNOP_send. An unbound port drops the notification (returns 0), as Xen does. */
  send(dom: number, port: number): number {
    const c = this.get(dom, port);
    if (c === null) return -EINVAL;
    if (c.state === EVTCHNSTAT_unbound) { this.counters.unbound++; return 0; }
    if (c.state !== EVTCHNSTAT_interdomain) return -EINVAL;
    const r = this.get(c.remoteDom, c.remotePort);
    if (r === null) { this.counters.unbound++; return 0; }
    if (c.remoteDom === DOMID_VMIO) this.counters.toVmio++;
    else if (dom === DOMID_VMIO) this.counters.toGuest++;
    else this.counters.guestToGuest++;
    this.notify(c.remoteDom, c.remotePort, r);
    return 0;
  }

  /** EVTCHNOP_unmask: clears the mask bit, and re-raises the upcall when the port is pending. */
  unmask(dom: number, port: number): number {
    const d = this.domains.get(dom);
    if (d === undefined || this.get(dom, port) === null) return -EINVAL;
    const c = this.get(dom, port)!;
    if (testAndClearBit(d.sharedInfo, SI_EVTCHN_MASK, port) && testBit(d.sharedInfo, SI_EVTCHN_PENDING, port)) {
      this.markSelector(d, c.vcpu, port >>> 6);
    }
    return 0;
  }

  /** EVTCHNOP_bind_vcpu: later notifications go to `vcpu`. */
  bindVcpu(dom: number, port: number, vcpu: number): number {
    const d = this.domains.get(dom);
    const c = this.get(dom, port);
    if (d === undefined || c === null) return -EINVAL;
    if (!Number.isInteger(vcpu) || vcpu < 0 || vcpu >= d.vcpus) return -ENOENT;
    c.vcpu = vcpu;
    return 0;
  }

  /** EVTCHNOP_status; -EINVAL for a port that is not allocated. */
  status(dom: number, port: number): ChannelStatus | number {
    if (!this.tables.has(dom)) return -ESRCH;
    const c = this.get(dom, port);
    if (c === null) {
      const t = this.tables.get(dom)!;
      return Number.isInteger(port) && port >= 1 && port < this.maxPorts && t !== undefined
        ? { status: EVTCHNSTAT_closed, vcpu: 0, dom: 0, port: 0, virq: 0 } : -EINVAL;
    }
    return { status: c.state, vcpu: c.vcpu, dom: c.remoteDom, port: c.remotePort, virq: c.virq < 0 ? 0 : c.virq };
  }

  /** Makes port `port` of `dom` pending: a vmio handler is queued, a guest's bitmaps are updated. */
  private notify(dom: number, port: number, c: Channel): void {
    if (dom === DOMID_VMIO) {
      if (c.handler === null) return;
      if (c.queued) { this.counters.alreadyPending++; return; }
      c.queued = true;
      this.runQueue.push(c);
      this.drain();
      return;
    }
    const d = this.domains.get(dom);
    if (d === undefined) return;
    if (testAndSetBit(d.sharedInfo, SI_EVTCHN_PENDING, port)) { this.counters.alreadyPending++; return; }
    if (testBit(d.sharedInfo, SI_EVTCHN_MASK, port)) { this.counters.masked++; return; }
    this.markSelector(d, c.vcpu, port >>> 6);
  }

  private markSelector(d: XenDomain, vcpu: number, word: number): void {
    const vi = d.vcpuInfoOf(vcpu);
    if (vi === null) return; // no vcpu_info yet: the bit waits in the pending bitmap
    const off = d.vcpuInfoOffset(vcpu);
    if (testAndSetBit(vi, off + VI_PENDING_SEL, word)) return;
    this.markUpcall(d, vcpu);
  }

  /** Sets the vCPU's evtchn_upcall_pending and, on its 0 -> 1 edge, raises the upcall interrupt. */
  markUpcall(d: XenDomain, vcpu: number): void {
    const vi = d.vcpuInfoOf(vcpu);
    if (vi === null) return;
    const off = d.vcpuInfoOffset(vcpu) + VI_UPCALL_PENDING;
    if (vi.read8(off) !== 0) return;
    vi.write8(off, 1);
    this.raise(d, vcpu);
  }

  /** Raises the upcall interrupt (counted and charged) whatever the flag says: after VCPUOP_register_vcpu_info. */
  raise(d: XenDomain, vcpu: number): void {
    this.counters.upcalls++;
    this.cost?.charge('interruptInject');
    d.upcall.raise(vcpu);
  }

  private drain(): void {
    if (this.running) return;
    this.running = true;
    try {
      for (let c = this.runQueue.shift(); c !== undefined; c = this.runQueue.shift()) {
        c.queued = false;
        c.handler?.();
      }
    } finally {
      // Only reached with work left if a handler threw (a vmio bug): forget the rest rather than wedge the ports.
      for (const c of this.runQueue) c.queued = false;
      this.runQueue.length = 0;
      this.running = false;
    }
  }
}
