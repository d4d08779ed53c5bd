// vmio as a Xen host: the wiring of the hypervisor half for one or more guest domains. vmio is domain 0 — the
// toolstack, xenstored and the backends. createGuest does what xl/libxl and Xen do for an HVM-style Arm guest: the
// domain with its grant table and hypercall dispatcher, its xenstore home, the xenstore ring page initialised at
// HVM_PARAM_STORE_PFN and an event channel for it at HVM_PARAM_STORE_EVTCHN (an unbound guest port that
// xenstored binds). addVif (netback.ts) adds a NIC the toolstack way.

import type { SbiHandler } from '../../cpu/riscv/sbi-types.js';
import type { DmaSpace } from '../../memory/dma.js';
import { DOMID_VMIO, HVM_PARAM_STORE_EVTCHN, HVM_PARAM_STORE_PFN, XEN_PAGE_SIZE } from './abi.js';
import { EventChannelCounters, HypercallCounters, XenstoreCounters, type CostCharger } from './counters.js';
import { XenDomain, type UpcallSink } from './domain.js';
import { EventChannels } from './event-channel.js';
import { GrantTable } from './grant-table.js';
import { Hypercalls, type XenPlatform } from './hypercall.js';
import { Netback, type VifOptions } from './netback.js';
import { XenSbi, type TranslatorFor } from './sbi-xen.js';
import { Xenstore } from './xenstore.js';
import { XsRingConnection } from './xs-ring.js';

export interface XenGuestConfig {
  /** Domain id; by default the next free one from 1. */
  readonly id?: number;
  /** The VM's RAM, as vmio's backends see it (an identity DmaSpace over its GuestMemory). */
  readonly mem: DmaSpace;
  readonly ramBase: number;
  readonly ramSize: number;
  readonly vcpus: number;
  /** Raises a vCPU's event upcall (the "xen,xen" node's interrupt). */
  readonly upcall: UpcallSink;
  readonly platform: XenPlatform;
  /** Guest frame of the xenstore ring: a RAM page the guest's device tree reserves (dt.ts). */
  readonly storePfn: number;
  readonly maxGrantFrames?: number;
}

/** One guest domain and what vmio keeps for it. */
export class XenGuest {
  constructor(
    readonly domain: XenDomain,
    readonly grants: GrantTable,
    readonly hypercalls: Hypercalls,
    readonly store: XsRingConnection,
    /** The guest's end of the xenstore event channel (HVM_PARAM_STORE_EVTCHN). */
    readonly storePort: number,
  ) {}

  get id(): number { return this.domain.id; }

  /** The SBI handler for this guest's harts: Xen hypercalls here, everything else to vmio's own SBI. */
  sbi(inner: SbiHandler, translatorFor?: TranslatorFor): XenSbi { return new XenSbi(inner, this.hypercalls, translatorFor); }
}

export interface XenHostOptions {
  /** Where modelled costs are charged (the VM's Metrics.cost); none by default. */
  readonly cost?: CostCharger | null;
}

export class XenHost {
  readonly evtchn: EventChannels;
  readonly xenstore: Xenstore;
  readonly guests = new Map<number, XenGuest>();
  readonly vifs: Netback[] = [];
  readonly cost: CostCharger | null;

  constructor(opts: XenHostOptions = {}) {
    this.cost = opts.cost ?? null;
    this.evtchn = new EventChannels(new EventChannelCounters(), this.cost);
    this.xenstore = new Xenstore(new XenstoreCounters());
    this.xenstore.mkdir('/local/domain/0/backend');
    this.xenstore.write('/local/domain/0/name', 'vmio');
    this.xenstore.write('/local/domain/0/domid', '0');
  }

  createGuest(cfg: XenGuestConfig): XenGuest {
    let id = cfg.id ?? 1;
    if (cfg.id === undefined) while (this.guests.has(id)) id++;
    if (this.guests.has(id) || id === DOMID_VMIO) throw new RangeError(`Xen domain ${id} already exists`);
    const domain = new XenDomain({
      id, mem: cfg.mem, ramBase: cfg.ramBase, ramSize: cfg.ramSize, vcpus: cfg.vcpus, upcall: cfg.upcall,
      ...(cfg.maxGrantFrames === undefined ? {} : { maxGrantFrames: cfg.maxGrantFrames }),
    });
    if (domain.ramFrame(cfg.storePfn) < 0) {
      throw new RangeError(`Xen domain ${id}: xenstore page frame 0x${cfg.storePfn.toString(16)} is not in the guest's RAM; reserve a RAM page for it`);
    }
    this.evtchn.addDomain(domain);
    const grants = new GrantTable(domain, undefined, this.cost);
    const hypercalls = new Hypercalls(domain, this.evtchn, cfg.platform, new HypercallCounters(), this.cost);
    this.xenstore.introduceDomain(id);
    let vmioPort = 0;
    const ring = new XsRingConnection(id, cfg.mem, cfg.storePfn * XEN_PAGE_SIZE, this.xenstore, () => this.evtchn.send(DOMID_VMIO, vmioPort), this.xenstore.counters);
    ring.reset();
    const port = this.evtchn.allocUnbound(id, DOMID_VMIO);
    vmioPort = this.evtchn.bindInterdomain(DOMID_VMIO, id, port, () => ring.process());
    if (port < 0 || vmioPort < 0) throw new Error(`Xen domain ${id}: no event channel for xenstore (${port}, ${vmioPort})`);
    domain.params.set(HVM_PARAM_STORE_PFN, BigInt(cfg.storePfn));
    domain.params.set(HVM_PARAM_STORE_EVTCHN, BigInt(port));
    const guest = new XenGuest(domain, grants, hypercalls, ring, port);
    this.guests.set(id, guest);
    return guest;
  }

  /**
   * Adds a vif to a guest as the toolstack does (device/vif/N and backend/vif/DOMID/N) with vmio's netback behind it.
   * Attach the netback to a NicPort: `const port = new NicPort(backend, vif, opts); vif.attach(port)`.
   */
  addVif(guest: XenGuest, opts: VifOptions = {}): Netback {
    const vif = new Netback(this, guest, opts);
    this.vifs.push(vif);
    return vif;
  }

  /** Counters of the whole host, for reports. */
  toJSON(): object {
    const guests: Record<string, object> = {};
    for (const [id, g] of this.guests) guests[id] = { hypercalls: g.hypercalls.counters, grants: g.grants.counters };
    const vifs: Record<string, object> = {};
    for (const v of this.vifs) vifs[`${v.frontendPath}`] = v.counters;
    return { evtchn: this.evtchn.counters, xenstore: this.xenstore.counters, guests, vifs };
  }
}
