// Part of the wiring point (build-vm.ts): the VM's network interfaces — an emulated e1000, an 82576 SR-IOV PF or a
// virtio-net — on PCI (or a virtio-mmio slot), each joined to its backend (TAP, switch, pcap, none) through a NicPort,
// the EventSource that lets frames from outside in only at deterministic points. Only build-vm.ts calls this.

import type { Clock } from './clock.js';
import type { Metrics } from '../metrics/counters.js';
import type { PciHostBridge } from '../pci/host-bridge.js';
import type { PciFunction } from '../pci/function.js';
import type { PciDevice } from '../pci/device.js';
import type { EventSource } from './event-source.js';
import type { NamedTimedDevice } from './vm.js';
import { NicPort, type NetBackend } from '../backends/net/port.js';
import { openNetBackend, type NetEnv } from '../backends/net/open.js';
import { E1000 } from '../devices/e1000/device.js';
import { IgbPf } from '../devices/igb/pf.js';
import type { NicSpec } from '../cli/device-options.js';
import type { VirtioAttachment } from './wire-virtio.js';
import type { AssignedVf, VfAssignments } from './assign-vf.js';
import type { XenVm } from './wire-xen.js';

export class NetConfigError extends Error {}

export interface NetWiring {
  clock: Clock;
  metrics: Metrics;
  pci: PciHostBridge;
  net: NetEnv;
  /** The VM's harts: virtio-net gets a queue pair per vCPU unless --nic queues=N says otherwise. */
  smp: number;
  /** The VM's name: MACs default to an address derived from it, so the VMs of one host differ. */
  vmName: string;
  /** The next free PCI device number. */
  pciSlot(): number;
  onClose(fn: () => void): void;
  sources: EventSource[];
  timed: NamedTimedDevice[];
  /** The Host's VF assignments (a host file's "vfs" keys), or null: every VF stays in this VM. */
  assignments: VfAssignments | null;
  /** The VM as a Xen guest (wire-xen.ts) when it has a model=xen-net NIC, else null. */
  xen: XenVm | null;
}

/** A locally administered MAC 52:54:00:xx:yy:nn from the VM name and the NIC index (QEMU's OUI prefix). */
export function defaultMac(vmName: string, index: number): Uint8Array {
  let h = 2166136261;
  for (let i = 0; i < vmName.length; i++) h = Math.imul(h ^ vmName.charCodeAt(i), 16777619) >>> 0;
  return Uint8Array.from([0x52, 0x54, 0x00, (h >>> 8) & 0xff, h & 0xff, (0x10 + index) & 0xff]);
}

/** A virtio-net device factory (from src/devices/virtio/net*.ts), given the backend port once it exists. */
export type VirtioNetFactory = (spec: NicSpec, mac: Uint8Array, w: NetWiring) => { device: VirtioAttachment['device']; receiver: ConstructorParameters<typeof NicPort>[1]; connect(port: NicPort): void };

/**
 * Creates each NIC and its backend. e1000s are attached to PCI here; virtio-net devices are returned for the
 * virtio wiring (they share its transports).
 */
export function wireNics(nics: readonly NicSpec[], w: NetWiring, virtioNet: VirtioNetFactory | null): VirtioAttachment[] {
  const out: VirtioAttachment[] = [];
  nics.forEach((spec, i) => {
    const name = `${w.vmName}.eth${i}`;
    const mac = spec.mac ?? defaultMac(w.vmName, i);
    let backend: NetBackend;
    try {
      backend = openNetBackend(spec.backend, w.net, name);
    } catch (e) {
      throw new NetConfigError(`--nic ${i}: ${(e as Error).message}`);
    }
    w.onClose(() => backend.close());
    const deterministic = w.clock.deterministic;
    if (spec.model === 'e1000') {
      const s = spec.e1000;
      const dev = new E1000({
        mac, now: () => w.clock.now(), frequency: w.clock.frequency, cost: w.metrics.cost,
        coalesceMmio: s.coalesce, txBatching: s.txbatch, itrModeration: s.itr, notifyTdt: s.notify, inKernel: s.inkernel,
      });
      w.pci.attach(dev, { device: w.pciSlot() });
      const port = new NicPort(backend, dev, { name, deterministic });
      dev.connect(port);
      w.metrics.device(`eth${i} e1000`, () => ({ device: dev.counters, port: port.counters.toJSON() }));
      w.sources.push(port);
      w.timed.push({ name: `e1000.${i}`, device: dev });
      w.onClose(() => port.close());
      return;
    }
    if (spec.model === 'xen-net') {
      // A Xen vif: device/vif/N in the guest's xenstore home and vmio's netback behind it; Linux's xen-netfront finds
      // it through xenbus. Its frames go through the same NicPort as every other NIC's.
      if (w.xen === null) throw new NetConfigError(`--nic ${i}: model=xen-net needs the VM to be a Xen guest`);
      const devid = nics.slice(0, i).filter((n) => n.model === 'xen-net').length;
      const vif = w.xen.host.addVif(w.xen.guest, { devid, mac });
      const port = new NicPort(backend, vif, { name, deterministic });
      vif.attach(port);
      w.metrics.device(`eth${i} xen-net`, () => ({ vif: vif.counters, port: port.counters.toJSON() }));
      w.sources.push(port);
      w.onClose(() => port.close());
      return;
    }
    if (spec.model === 'igb') {
      // The 82576 PF of the driver domain: stock igb drives it; its uplink is this NIC's backend. A VF assigned to
      // another VM goes there with a 'direct' BAR0; the others appear in this same VM (igbvf may drive them here),
      // their registers trapping to vmio like the PF's ('user').
      const assigned = w.assignments;
      const owner = (vf: number) => assigned?.owner(w.vmName, vf) ?? null;
      const pf = new IgbPf({
        mac, now: () => w.clock.now(), frequency: w.clock.frequency, pcieType: 'rc-endpoint',
        vfExitClass: (vf) => (owner(vf) !== null ? 'direct' : 'user'),
      });
      const pfFn = w.pci.attach(pf, { device: w.pciSlot() });
      wireVfs(pf, pfFn, w.pci, assigned, w.vmName);
      const port = new NicPort(backend, pf, { name, deterministic });
      pf.connect(port);
      w.metrics.device(`eth${i} igb`, () => ({ device: pf.core.counters.toJSON(), port: port.counters.toJSON() }));
      w.sources.push(port);
      w.timed.push({ name: `igb.${i}`, device: pf });
      w.onClose(() => port.close());
      return;
    }
    if (virtioNet === null) throw new NetConfigError(`--nic ${i}: model=virtio-net is not available in this build`);
    const made = virtioNet(spec, mac, w);
    const port = new NicPort(backend, made.receiver, { name, deterministic });
    made.connect(port);
    w.metrics.device(`eth${i} port`, () => port.counters.toJSON());
    w.sources.push(port);
    w.onClose(() => port.close());
    out.push({ name: `virtio-net${i}`, device: made.device, transport: spec.transport, doorbell: spec.where === 'kernel' ? 'notify' : 'user', eventIdx: spec.eventIdx });
  });
  return out;
}

/**
 * The PF's VFs while VF Enable is set. A VF assigned to another VM is plugged into that VM's host bridge
 * (assign-vf.ts) and surprise-removed when VF Enable clears or the PF resets. The others are PCI functions of the
 * PF's own VM (the driver domain): VF i at the PF's routing ID + First VF Offset + i × VF Stride, its BARs where the
 * PF's VF BARs put them (VF BARn + i × size) while VF MSE is set.
 */
function wireVfs(pf: IgbPf, pfFn: PciFunction, pci: PciHostBridge, assignments: VfAssignments | null, vmName: string): void {
  const attached = new Map<number, PciFunction>();
  const plugged = new Map<number, AssignedVf>();
  const pfRid = pfFn.routingId;
  pf.onVfs({
    vfsCreated(vfs) {
      for (const vf of vfs) {
        const rid = pfRid + pf.sriov.vfRoutingOffset(vf.index);
        const port = assignments?.owner(vmName, vf.index) ?? null;
        const slot = { bus: rid >> 8, device: (rid >> 3) & 0x1f, fn: rid & 7 };
        if (assignments !== null && port !== null) {
          plugged.set(vf.index, assignments.plug(vf, port, assignments.deviceId(vmName, rid)));
          // The driver domain's Linux still enumerates the VF (pci_iov_add_virtfn fails VF Enable on an empty
          // function): it sees a stand-in with the VF's identity, no BARs, no interrupts, that never masters the bus
          // — the host's view of a VF handed to VFIO. Set sriov_drivers_autoprobe to 0 there so igbvf leaves it alone.
          attached.set(vf.index, pci.attach(assignedVfStandIn(vf), slot));
          continue;
        }
        const placement = (bar: number) => (pf.sriov.memoryEnabled ? pf.sriov.vfBarAddress(vf.index, bar) : null);
        attached.set(vf.index, pci.attach(vf, slot, { barPlacement: placement }));
      }
    },
    vfsRemoved(vfs) {
      for (const vf of vfs) {
        plugged.get(vf.index)?.unplug();
        plugged.delete(vf.index);
        const f = attached.get(vf.index);
        if (f !== undefined) { pci.detach(f); attached.delete(vf.index); }
      }
    },
  });
  pf.sriov.listen({ vfMemory: () => pci.relayout(), vfBars: () => pci.relayout() });
}

/** An assigned VF as its driver domain sees it: config space with the VF's identity, nothing behind it. */
function assignedVfStandIn(vf: PciDevice): PciDevice {
  return { identity: vf.identity, pcie: { flr: false }, interruptPin: 0, reset: () => {} };
}
