// A guest domain wired to the hypercall dispatcher, event channels and its grant table, with a recording upcall
// line and platform, for the unit tests of those parts (the whole host, with xenstore and netback, is XenHost).

import type { GsoInfo } from '../../../backends/net/gso.js';
import { GuestMemory } from '../../../memory/guest-memory.js';
import { IdentityDmaSpace } from '../../../memory/dma.js';
import { DmaCounters } from '../../../metrics/counters.js';
import { XenDomain } from '../domain.js';
import { EventChannels } from '../event-channel.js';
import { GrantTable } from '../grant-table.js';
import { Hypercalls, type XenPlatform } from '../hypercall.js';
import { DOMID_SELF, HVM_PARAM_STORE_EVTCHN, HVM_PARAM_STORE_PFN, HVMOP_get_param, __HYPERVISOR_hvm_op } from '../abi.js';
import { XenHost, type XenGuest } from '../host.js';
import { MockGuest, RAM_BASE } from './guest.js';
import { XsClient } from './xs-client.js';
import { MockNetfront } from './mock-frontend.js';
import type { Netback, VifOptions } from '../netback.js';

export class RecordingPlatform implements XenPlatform {
  readonly shutdowns: number[] = [];
  yields = 0;
  shutdown(reason: number): void { this.shutdowns.push(reason); }
  yieldVcpu(): void { this.yields++; }
  nowNs(): bigint { return 123_456_789n; }
}

export interface GuestSetupOptions {
  id?: number;
  ramSize?: number;
  vcpus?: number;
  maxGrantFrames?: number;
  evtchn?: EventChannels;
}

export interface GuestSetup {
  ram: GuestMemory;
  dma: IdentityDmaSpace;
  domain: XenDomain;
  evtchn: EventChannels;
  grants: GrantTable;
  hc: Hypercalls;
  platform: RecordingPlatform;
  guest: MockGuest;
}

/** Layout: RAM at 0x8000_0000; the last 64 pages are the reserved grant region; the heap is the 1 MiB below it. */
export function setupGuest(opts: GuestSetupOptions = {}): GuestSetup {
  const ramSize = opts.ramSize ?? 4 * 1024 * 1024;
  const ram = new GuestMemory(RAM_BASE, ramSize);
  const dma = new IdentityDmaSpace({ ram, dmaWrite32: () => false }, new DmaCounters('xen'));
  const guest = new MockGuest(ram, {
    grantBase: RAM_BASE + ramSize - 64 * 4096, grantFrames: 64, heapBase: RAM_BASE + ramSize - (64 + 256) * 4096, heapSize: 256 * 4096,
  });
  const domain = new XenDomain({
    id: opts.id ?? 1, mem: dma, ramBase: RAM_BASE, ramSize, vcpus: opts.vcpus ?? 1,
    upcall: { raise: (v) => { guest.upcalls[v] = (guest.upcalls[v] ?? 0) + 1; } },
    ...(opts.maxGrantFrames === undefined ? {} : { maxGrantFrames: opts.maxGrantFrames }),
  });
  const evtchn = opts.evtchn ?? new EventChannels();
  evtchn.addDomain(domain);
  const grants = new GrantTable(domain);
  const platform = new RecordingPlatform();
  const hc = new Hypercalls(domain, evtchn, platform);
  guest.hc = hc;
  return { ram, dma, domain, evtchn, grants, hc, platform, guest };
}

export interface HostGuestSetup {
  ram: GuestMemory;
  host: XenHost;
  xen: XenGuest;
  guest: MockGuest;
  xs: XsClient;
  platform: RecordingPlatform;
}

/**
 * A guest on a XenHost, booted as Linux would: shared_info, vcpu_info, grant frames, then xenbus's
 * HVMOP_get_param(STORE_PFN / STORE_EVTCHN) and the client on that ring. RAM layout as setupGuest, with the xenstore
 * page just below the grant region.
 */
export function setupHostGuest(host = new XenHost(), opts: { id?: number; ramSize?: number } = {}): HostGuestSetup {
  const ramSize = opts.ramSize ?? 4 * 1024 * 1024;
  const ram = new GuestMemory(RAM_BASE, ramSize);
  const dma = new IdentityDmaSpace({ ram, dmaWrite32: () => false }, new DmaCounters('xen'));
  const grantBase = RAM_BASE + ramSize - 64 * 4096;
  const guest = new MockGuest(ram, { grantBase, grantFrames: 64, heapBase: grantBase - 513 * 4096, heapSize: 512 * 4096 });
  const platform = new RecordingPlatform();
  const xen = host.createGuest({
    ...(opts.id === undefined ? {} : { id: opts.id }),
    mem: dma, ramBase: RAM_BASE, ramSize, vcpus: 1, platform, storePfn: (grantBase - 4096) / 4096,
    upcall: { raise: (v) => { guest.upcalls[v] = (guest.upcalls[v] ?? 0) + 1; } },
  });
  guest.hc = xen.hypercalls;
  guest.boot(4);
  const s = guest.scratch;
  const param = (index: number): bigint => {
    guest.w16(s, DOMID_SELF); guest.w32(s + 4, index);
    if (guest.hypercall(__HYPERVISOR_hvm_op, HVMOP_get_param, s) !== 0) throw new Error('get_param failed');
    return guest.r64(s + 8);
  };
  const storePfn = param(HVM_PARAM_STORE_PFN);
  const storePort = Number(param(HVM_PARAM_STORE_EVTCHN));
  const xs = new XsClient(guest, Number(storePfn) * 4096, storePort);
  return { ram, host, xen, guest, xs, platform };
}

/** Frames netback sent, kept as copies. */
export class RecordingPort {
  readonly sent: Uint8Array[] = [];
  /** The GSO description each sent frame came with (null: a plain frame). */
  readonly gso: (GsoInfo | null)[] = [];
  linkUp = true;
  /** Carry large packets whole, as a switch port does. */
  acceptsGso = false;
  send(frame: Uint8Array, gso: GsoInfo | null = null): void { this.sent.push(frame.slice()); this.gso.push(gso === null ? null : { ...gso }); }
}

export interface VifSetup extends HostGuestSetup {
  vif: Netback;
  front: MockNetfront;
  port: RecordingPort;
}

/** A guest with one vif, connected the way netfront connects, its frames recorded. */
export function setupVif(opts: VifOptions & { connect?: boolean; rxBuffers?: number } = {}): VifSetup {
  const s = setupHostGuest();
  const vif = s.host.addVif(s.xen, opts);
  const port = new RecordingPort();
  vif.attach(port);
  const front = new MockNetfront(s.guest, s.xs, opts.devid ?? 0);
  if (opts.connect ?? true) front.connect(opts.rxBuffers === undefined ? {} : { rxBuffers: opts.rxBuffers });
  return { ...s, vif, front, port };
}
