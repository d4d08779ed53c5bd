// A guest domain wired to the hypercall dispatcher, event channels and its grant table, with a recording upcall
// line and platform, for the unit tests of those parts (the whole host, with xenstore and netback, is XenHost).

import { GuestMemory } from '../../../memory/guest-memory.js';
import { IdentityDmaSpace } from '../../../memory/dma.js';
import { DmaCounters } from '../../../metrics/counters.js';
import { XenDomain } from '../domain.js';
import { EventChannels } from '../event-channel.js';
import { GrantTable } from '../grant-table.js';
import { Hypercalls, type XenPlatform } from '../hypercall.js';
import { MockGuest, RAM_BASE } from './guest.js';

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
