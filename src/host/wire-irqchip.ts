// Part of the wiring point (build-vm.ts): the board's interrupt controllers, PLIC or AIA (APLIC + IMSIC), on
// the bus and in the device tree, with the IMSIC's CSRs registered on each hart (Smaia/Ssaia). Only
// build-vm.ts calls this.

import type { Bus, MmioHandler, Width } from '../memory/bus.js';
import type { Metrics } from '../metrics/counters.js';
import type { Hart } from '../cpu/riscv/hart.js';
import { IRQ_M_EXT, IRQ_S_EXT, type WiredIrqChip } from '../board/irq.js';
import { Plic, PLIC_NUM_SOURCES } from '../board/plic.js';
import { VIRT } from '../board/virt-map.js';
import { ImsicFile, ImsicPages, VIRT_IMSIC_NUM_IDS } from '../board/aia/imsic.js';
import { HartAia, AIA_CSRS, type Priv } from '../board/aia/hart-aia.js';
import { Aplic } from '../board/aia/aplic.js';
import { hartIndexBits } from '../board/aia/aplic-msi.js';
import {
  VIRT_APLIC_M_BASE, VIRT_APLIC_NUM_SOURCES, VIRT_APLIC_S_BASE, VIRT_APLIC_SIZE, VIRT_IMSIC_M_BASE, VIRT_IMSIC_S_BASE,
} from '../board/aia/aplic-regs.js';
import { AiaDt } from '../board/aia/dt.js';
import type { VirtDevices, VirtDtHook, WiredIrqParent } from '../board/virt-dt.js';

export type IrqchipKind = 'aia' | 'plic';

export interface WiredIrqchip {
  readonly kind: IrqchipKind;
  readonly chip: WiredIrqChip;
  /** What the device tree needs: board devices (the PLIC), hooks (the AIA nodes), the wired parent. */
  readonly devices: VirtDevices;
  readonly socHooks: VirtDtHook[];
  readonly wiredIrqParent?: WiredIrqParent;
  /** The phandle of the MSI controller for PCIe host bridges (AIA), read when the tree is written. */
  readonly msiParent: (() => number) | null;
  /** ISA extensions the harts gain (Smaia/Ssaia). */
  readonly isaExtensions: string[];
  reset(): void;
}

/** Wraps an IMSIC's pages so every identity set (an MSI from a device, an IPI from a hart) is charged as an injection. */
function chargedPages(pages: ImsicPages, onSet: () => void): MmioHandler {
  return {
    read: (offset: number, width: Width) => pages.read(offset, width),
    write: (offset: number, width: Width, value: number | bigint) => { onSet(); pages.write(offset, width, value); },
  };
}

/** The AIA CSRs of one hart, registered in its CSR table; an access HartAia refuses raises illegal instruction. */
function registerAiaCsrs(h: Hart, aia: HartAia): void {
  for (const [name, num] of Object.entries(AIA_CSRS)) {
    h.registerCsr({
      num, name,
      read: (hh) => aia.readCsr(num, hh.priv as Priv) ?? 0n,
      write: (num >>> 10) === 3 ? undefined : (hh, v) => { aia.writeCsr(num, hh.priv as Priv, v); },
      guard: (hh) => aia.readCsr(num, hh.priv as Priv) !== null,
    });
  }
}

export function wireIrqchip(kind: IrqchipKind, harts: Hart[], bus: Bus, metrics: Metrics, supervisorBoot: boolean): WiredIrqchip {
  if (kind === 'plic') {
    const plic = new Plic(harts, PLIC_NUM_SOURCES);
    bus.addRegion({ name: 'plic', base: VIRT.plic.base, size: VIRT.plic.size, exitClass: 'kernel', handler: plic.mmio, registerName: plic.mmio.registerName });
    return {
      kind, chip: plic, devices: { plic: VIRT.plic }, socHooks: [], msiParent: null, isaExtensions: [],
      reset: () => plic.reset(),
    };
  }
  const n = harts.length;
  const inject = () => { metrics.cost.charge(metrics.cost.directMsi > 0 ? 'interruptDirect' : 'interruptInject'); };
  const sFiles = harts.map((h) => new ImsicFile(h, IRQ_S_EXT, VIRT_IMSIC_NUM_IDS, `imsic-s${h.id}`));
  const mFiles = harts.map((h) => new ImsicFile(h, IRQ_M_EXT, VIRT_IMSIC_NUM_IDS, `imsic-m${h.id}`));
  // M-level files and the APLIC's root domain are mapped (and described) only for M-mode firmware.
  const levels = supervisorBoot ? [['imsic-s', VIRT_IMSIC_S_BASE, sFiles] as const] : [['imsic-m', VIRT_IMSIC_M_BASE, mFiles] as const, ['imsic-s', VIRT_IMSIC_S_BASE, sFiles] as const];
  for (const [name, base, files] of levels) {
    const pages = new ImsicPages(files);
    bus.addRegion({ name, base, size: pages.size, exitClass: 'kernel', handler: chargedPages(pages, inject), registerName: pages.registerName, dmaTarget: true });
  }
  harts.forEach((h, i) => registerAiaCsrs(h, new HartAia(h, mFiles[i]!, sFiles[i]!)));
  const aplic = new Aplic({
    harts: n, sources: VIRT_APLIC_NUM_SOURCES,
    machine: { msi: true }, supervisor: { msi: true },
    sendMsi: (address, data) => { bus.dmaWrite32(address, data); },
    msiAddresses: { mBase: VIRT_IMSIC_M_BASE, sBase: VIRT_IMSIC_S_BASE, lhxw: hartIndexBits(n) },
    name: 'aplic',
  });
  // With the builtin SBI vmio plays the firmware's part: every source is delegated to the S-level domain.
  if (supervisorBoot) aplic.delegateToSupervisor();
  if (!supervisorBoot) bus.addRegion({ name: 'aplic-m', base: VIRT_APLIC_M_BASE, size: VIRT_APLIC_SIZE, exitClass: 'kernel', handler: aplic.rootMmio, registerName: aplic.rootMmio.registerName });
  bus.addRegion({ name: 'aplic-s', base: VIRT_APLIC_S_BASE, size: VIRT_APLIC_SIZE, exitClass: 'kernel', handler: aplic.supervisorMmio!, registerName: aplic.supervisorMmio!.registerName });
  const dt = new AiaDt({ harts: n, mode: 'msi', machineLevel: !supervisorBoot });
  return {
    kind, chip: aplic, devices: {}, socHooks: [dt.hook],
    wiredIrqParent: { allocate: (ctx) => dt.allocate(ctx), phandle: () => dt.aplicPhandle, interrupts: (irq) => AiaDt.interrupts(irq) },
    msiParent: () => dt.imsicPhandle,
    isaExtensions: ['smaia', 'ssaia'],
    reset: () => { aplic.reset(); if (supervisorBoot) aplic.delegateToSupervisor(); for (const f of [...sFiles, ...mFiles]) f.reset(); },
  };
}
