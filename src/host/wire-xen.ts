// Part of the wiring point (build-vm.ts): a VM as a Xen guest domain of the host's XenHost (src/devices/xen/README.md).
// The domain's hypercalls ride vmio's own SBI (a7 = XEN_SBI_EID), its pointer arguments are translated through the
// calling hart's page tables without faulting, its event upcall is the hart's PV event interrupt (local interrupt
// 24, IRQ_PV_EVENT), and the device tree gets the /hypervisor node with the grant-frame and xenstore region.

import type { Hart } from '../cpu/riscv/hart.js';
import type { SbiCaller, SbiHandler } from '../cpu/riscv/sbi-types.js';
import { ACC_LOAD, ACC_STORE, IRQ_PV_EVENT, PRV_S, SATP_MODE_BARE } from '../cpu/riscv/csr-defs.js';
import { walk, type WalkContext } from '../cpu/riscv/mmu.js';
import type { GuestMemory } from '../memory/guest-memory.js';
import { IdentityDmaSpace } from '../memory/dma.js';
import { DmaCounters } from '../metrics/counters.js';
import type { CostCharger } from '../devices/xen/counters.js';
import type { AddressTranslator } from '../devices/xen/guest-args.js';
import { XenHost, type XenGuest } from '../devices/xen/host.js';
import { xenDtHook, xenRegion } from '../devices/xen/dt.js';
import type { VirtDtHook } from '../board/virt-dt.js';
import type { VmExit } from './vm.js';

/** A fault inside a probing walk (never escapes this file). */
const PROBE_FAULT: unique symbol = Symbol('probe fault');

/**
 * The hart's Sv39/Sv48 walk as a hypervisor's "translate guest virtual" (Xen's copy_from_guest): S-mode permissions
 * under the hart's current satp and mstatus.SUM/MXR, A/D bits set as the hart's own walk sets them, and -1 instead of
 * a trap. One per hart; allocates nothing per call.
 */
export class HartTranslator implements AddressTranslator, WalkContext {
  walkGlobal = 0;
  walkSpBase = 0;
  walkSpPages = 0;

  constructor(private readonly hart: Hart) {}

  get ram(): GuestMemory { return this.hart.ram; }
  get ramView(): DataView { return this.hart.ramView; }
  get pmp(): Hart['pmp'] { return this.hart.pmp; }
  get satpMode(): number { return this.hart.satpMode; }
  get satpRoot(): number { return this.hart.satpRoot; }
  get mstatus(): number { return this.hart.mstatus; }

  fault(): never { throw PROBE_FAULT; }
  noteStore(off: number, size: number): void { this.hart.noteStore(off, size); }

  translate(va: number, write: boolean): number {
    if (this.hart.satpMode === SATP_MODE_BARE) return va;
    try {
      return walk(this, va, write ? ACC_STORE : ACC_LOAD, PRV_S);
    } catch (e) {
      if (e === PROBE_FAULT) return -1;
      throw e;
    }
  }
}

export interface XenVmWiring {
  /** The host's Xen (one per Host: its xenstore and event channels join its guests). */
  xen: XenHost;
  ram: GuestMemory;
  /** The VM's harts, filled in after this is called (the upcall and translators look them up by id). */
  harts: readonly Hart[];
  cost: CostCharger;
  vmName: string;
  /** Counts one upcall injected into vCPU `vcpu` (the metrics' interrupt counters). */
  countUpcall(vcpu: number): void;
  /** Guest time in ns (runstate). */
  nowNs(): bigint;
  stop(exit: VmExit): void;
}

export interface XenVm {
  host: XenHost;
  guest: XenGuest;
  /** The SBI handler for the VM's harts: Xen hypercalls, then vmio's own SBI. */
  sbi: SbiHandler;
  /** /hypervisor and /reserved-memory for buildVirtDeviceTree's root hooks. */
  dtHook: VirtDtHook;
}

/** Makes the VM a Xen guest of `w.xen`; `inner` is vmio's own SBI. */
export function wireXenGuest(w: XenVmWiring, inner: SbiHandler, vcpus: number): XenVm {
  const region = xenRegion(w.ram.base, w.ram.size);
  const mem = new IdentityDmaSpace({ ram: w.ram, dmaWrite32: () => false }, new DmaCounters(`${w.vmName}.xen`));
  const guest = w.xen.createGuest({
    mem, ramBase: w.ram.base, ramSize: w.ram.size, vcpus, storePfn: region.storePfn,
    upcall: { raise: (vcpu) => { const h = w.harts[vcpu]; if (h === undefined) return; w.countUpcall(vcpu); h.injectPending(IRQ_PV_EVENT); } },
    platform: {
      shutdown: (reason) => w.stop(reason === 1 ? { kind: 'reboot' } : reason === 0 ? { kind: 'poweroff' } : { kind: 'panic' }),
      yieldVcpu: () => {},
      nowNs: () => w.nowNs(),
    },
  });
  const translators = new Map<number, HartTranslator>();
  const translatorFor = (caller: SbiCaller): AddressTranslator | null => {
    const hart = w.harts[caller.id];
    if (hart === undefined) return null;
    let t = translators.get(caller.id);
    if (t === undefined) { t = new HartTranslator(hart); translators.set(caller.id, t); }
    return t;
  };
  return { host: w.xen, guest, sbi: guest.sbi(inner, translatorFor), dtHook: xenDtHook(region, { kind: 'local', hwirq: IRQ_PV_EVENT }) };
}
