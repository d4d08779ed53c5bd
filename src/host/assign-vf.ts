// Direct I/O between the VMs of one Host: an SR-IOV VF of a driver domain's igb PF assigned to another VM (the
// "vfs" key of a host file). The VF becomes a PCI function of the guest's host bridge — ordinary emulated config
// space and BARs the guest's Linux assigns, no SR-IOV capability, FLR to the VF's reset — with its DMA translated by
// the Host's IOMMU into the guest's memory only (whole RAM at IOVA = GPA, plus the guest's interrupt files), BAR0
// 'direct' and the MSI-X table trapped, as VFIO does. Part of the wiring point: build-vm.ts and wire-net.ts use it.

import type { Bus, MmioHandler, Region, Width } from '../memory/bus.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import type { Metrics } from '../metrics/counters.js';
import type { PciHostBridge } from '../pci/host-bridge.js';
import type { PciFunction } from '../pci/function.js';
import type { PciDevice } from '../pci/device.js';
import { Iommu, type IommuDomain } from '../iommu/iommu.js';
import type { DmaPolicy } from '../iommu/domain.js';
import { IommuDmaSpace } from '../iommu/dma-space.js';
import type { DmaTargets } from '../memory/dma.js';
import type { DmaCounters } from '../metrics/counters.js';
import type { CostMeter } from '../metrics/cost.js';
import { VIRT_IMSIC_S_BASE } from '../board/aia/aplic-regs.js';

/** What a BAR of a removed function answers: all ones to reads, nothing to writes. */
const MASTER_ABORT: MmioHandler = {
  read: (_offset: number, width: Width) => (width === 8 ? 0xffff_ffff_ffff_ffffn : 2 ** (8 * width) - 1),
  write: () => {},
};

/**
 * How an assigned function's MSIs reach its owner: 'direct' — posted into the owner's interrupt file with no
 * hypervisor on the path (AIA guest interrupt files, posted interrupts), charged interruptDirect; 'hypervisor' — the
 * write is remapped to the host, which injects the interrupt into the guest (an exit each), charged interruptInject.
 */
export type VfIrqDelivery = 'direct' | 'hypervisor';

/** The IOMMU space of an assigned function; its MSIs are priced by how they are delivered. */
export class AssignedDmaSpace extends IommuDmaSpace {
  constructor(targets: DmaTargets, counters: DmaCounters, iommu: Iommu, deviceId: number, owner: IommuDomain, private readonly cost: CostMeter,
    private readonly delivery: VfIrqDelivery = 'direct') {
    super(targets, counters, iommu, deviceId, owner);
  }

  override msi(addr: number, data: number): number {
    if (this.delivery === 'hypervisor') return super.msi(addr, data);
    this.cost.directMsi++;
    try { return super.msi(addr, data); } finally { this.cost.directMsi--; }
  }
}

/** "VF `index` of the igb PF in VM `domain`", and how the guest gets it (a host file's "vfs" entry). */
export interface VfRef {
  readonly domain: string;
  readonly index: number;
  /** 'window': the IOMMU maps only a restricted-dma-pool of `windowMiB` that the guest bounces through. */
  readonly dma?: 'whole-ram' | 'window';
  readonly windowMiB?: number;
  readonly irq?: VfIrqDelivery;
}

/** What a guest VM offers for one VF it was given: where the VF plugs in and whose memory it may reach. */
export interface VfGuestPort {
  readonly vmName: string;
  readonly pci: PciHostBridge;
  /** The guest's bus (its RAM and interrupt files are the DMA targets). */
  readonly bus: Bus;
  readonly ram: GuestMemory;
  readonly metrics: Metrics;
  /** The guest's harts: one S-level interrupt-file page each is mapped for MSI-X. */
  readonly harts: number;
  /** The guest-side PCI device number reserved for this VF (function 0). */
  readonly slot: number;
  /** What the IOMMU maps for the guest's VFs (default whole RAM). One domain per guest: all its VFs share it. */
  readonly dma?: DmaPolicy;
  /** How the VF's interrupts are delivered (default direct). */
  readonly irq?: VfIrqDelivery;
}

/** One VF plugged into a guest; `unplug` is the surprise removal. */
export interface AssignedVf {
  readonly fn: PciFunction;
  readonly routingId: number;
  unplug(): void;
}

/** The Host's assignments: which guest owns which VF, and the one IOMMU every assigned function sits behind. */
export class VfAssignments {
  readonly iommu = new Iommu();
  private readonly ports = new Map<string, VfGuestPort>();
  private readonly domains = new Map<string, IommuDomain>();
  private readonly hostBuses = new Map<string, number>();
  /** The all-ones stand-ins for the BARs of a VF pulled from a guest, until the next VF is plugged there. */
  private readonly removed = new Map<VfGuestPort, Region[]>();

  /** True once some VM was given a VF. */
  get active(): boolean { return this.ports.size > 0; }

  private static key(ref: VfRef): string { return `${ref.domain}:${ref.index}`; }

  /**
   * The IOMMU device ID of VF `vfRid` (its routing ID in its driver domain) of `domain`'s PF: each driver domain's
   * hierarchy is a bus of its own on the host side (1, 2, … in order of first use), so IDs never collide across VMs.
   */
  deviceId(domain: string, vfRid: number): number {
    let bus = this.hostBuses.get(domain);
    if (bus === undefined) { bus = this.hostBuses.size + 1; this.hostBuses.set(domain, bus); }
    return (bus << 8) | (vfRid & 0xff);
  }

  /** The guest `port.vmName` owns VF `ref` (host-config checked that no two VMs claim one VF). */
  register(ref: VfRef, port: VfGuestPort): void {
    const k = VfAssignments.key(ref);
    if (this.ports.has(k)) throw new RangeError(`VF ${k} is assigned to VM '${this.ports.get(k)!.vmName}' already`);
    this.ports.set(k, port);
  }

  /** The guest that owns VF `index` of `domain`'s PF, or null (the VF stays in the driver domain). */
  owner(domain: string, index: number): VfGuestPort | null {
    return this.ports.get(VfAssignments.key({ domain, index })) ?? null;
  }

  /**
   * Plugs `vf` into its owner's host bridge at the reserved slot: its function's DmaSpace is the IOMMU's, attached to
   * the owner's domain (created on first use: whole RAM, and the owner's interrupt files for MSI-X). `routingId` is
   * the VF's host-side requester ID (deviceId()).
   */
  plug(vf: PciDevice, port: VfGuestPort, routingId: number): AssignedVf {
    for (const r of this.removed.get(port) ?? []) port.bus.unmap(r);
    this.removed.delete(port);
    const d = this.domainOf(port);
    this.iommu.attach(routingId, d);
    let fn: PciFunction;
    try {
      fn = port.pci.attach(vf, { device: port.slot }, {
        dmaSpace: (name) => new AssignedDmaSpace(port.bus, port.metrics.dma(name), this.iommu, routingId, d, port.metrics.cost, port.irq ?? 'direct'),
      });
    } catch (e) {
      this.iommu.detach(routingId);
      throw e;
    }
    let plugged = true;
    return {
      fn, routingId,
      unplug: () => {
        if (!plugged) return;
        plugged = false;
        const decoding = [0, 1, 2, 3, 4, 5].flatMap((bar) => { const r = fn.region(bar); return r !== null && r.mapped ? [{ bar, r }] : []; });
        port.pci.detach(fn);
        this.iommu.detach(routingId);
        // A surprise removal: the guest's driver may still touch the BARs; its reads complete with all ones (an
        // Unsupported Request), its writes go nowhere, until the slot is plugged again.
        const aborts = decoding.map(({ bar, r }) => port.bus.addRegion({ name: `${fn.name}/bar${bar}-removed`, base: r.base, size: r.size, exitClass: 'user', handler: MASTER_ABORT }));
        this.removed.set(port, aborts);
      },
    };
  }

  private domainOf(port: VfGuestPort): IommuDomain {
    let d = this.domains.get(port.vmName);
    if (d === undefined) {
      d = this.iommu.createDomain(port.vmName, port.ram, port.metrics.cost);
      this.iommu.applyPolicy(d, port.dma ?? { kind: 'whole-ram' });
      this.iommu.mapMsiPages(d, VIRT_IMSIC_S_BASE, port.harts);
      this.domains.set(port.vmName, d);
    }
    return d;
  }
}
