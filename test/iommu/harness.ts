// A small host for IOMMU tests: two VMs ('a' and 'b'), each with its RAM, its bus and a stand-in for its IMSIC
// supervisor files (two 4 KiB doorbell pages recording what lands there), one Iommu, and helpers to snapshot memory.

import { Bus } from '../../src/memory/bus.js';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { Metrics } from '../../src/metrics/counters.js';
import { CostMeter, COST_OFF } from '../../src/metrics/cost.js';
import { Iommu, type IommuOptions } from '../../src/iommu/iommu.js';
import { IommuDmaSpace } from '../../src/iommu/dma-space.js';
import type { IommuDomain } from '../../src/iommu/domain.js';

export const RAM_BASE = 0x8000_0000;
export const RAM_SIZE = 8 << 20;
/** QEMU virt's S-level IMSIC: hart h's file at 0x2800_0000 + h × 4 KiB. */
export const IMSIC = 0x2800_0000;
/** The VF's requester ID: 00:12.0 (bus 0, devfn 0x90: the first VF at PF devfn 0x10 + offset 0x80). */
export const VF_RID = 0x0090;

export interface Vm {
  name: string;
  metrics: Metrics;
  ram: GuestMemory;
  bus: Bus;
  /** [offset in the IMSIC region, value] of every 32-bit DMA write into it. */
  msis: [number, number][];
}

export function vm(name: string): Vm {
  const metrics = new Metrics();
  const ram = new GuestMemory(RAM_BASE, RAM_SIZE);
  const bus = new Bus(ram, metrics);
  const msis: [number, number][] = [];
  bus.addRegion({
    name: 'imsic-s', base: IMSIC, size: 0x2000, exitClass: 'kernel', dmaTarget: true,
    handler: { read: () => 0, write: (off, _w, v) => { msis.push([off, Number(v)]); } },
  });
  return { name, metrics, ram, bus, msis };
}

/** A meter that charges 100 instruction equivalents per IOTLB miss. */
export function missMeter(): CostMeter {
  return new CostMeter({ name: 'test', costs: { ...COST_OFF.costs, iotlbMiss: 100 } });
}

export interface Host {
  iommu: Iommu;
  a: Vm;
  b: Vm;
  da: IommuDomain;
  db: IommuDomain;
  cost: CostMeter;
  /** The VF of VM a: requester ID VF_RID, attached to a's domain. */
  dma: IommuDmaSpace;
}

export function host(opts: IommuOptions = {}): Host {
  const iommu = new Iommu({ tableBytes: 1 << 20, ...opts });
  const a = vm('a');
  const b = vm('b');
  const cost = missMeter();
  const da = iommu.createDomain('a', a.ram, cost);
  const db = iommu.createDomain('b', b.ram);
  iommu.attach(VF_RID, da);
  const dma = new IommuDmaSpace(a.bus, a.metrics.dma('vf0'), iommu, VF_RID, da);
  return { iommu, a, b, da, db, cost, dma };
}

/** Everything a device could possibly corrupt: both VMs' RAM and the IOMMU's table memory. */
export function snapshot(h: Host): Uint8Array[] {
  const t = h.iommu.tables.mem;
  return [h.a.ram.slice(RAM_BASE, RAM_SIZE), h.b.ram.slice(RAM_BASE, RAM_SIZE), t.slice(t.base, t.size)];
}

/** Offsets at which two snapshots' buffers differ (first few only). */
export function differences(before: Uint8Array, after: Uint8Array, limit = 8): number[] {
  const out: number[] = [];
  for (let i = 0; i < before.length && out.length < limit; i++) if (before[i] !== after[i]) out.push(i);
  return out;
}
