// An 82576 virtual function as Linux 6.12's stock igbvf drives it (82576EB datasheet: virtual function registers;
// igbvf/regs.h): PCI Express function 8086:10CA without INTx, exactly three MSI-X vectors (igbvf asks for three and
// has no fallback), BAR0 16 KiB of registers — VTCTRL (RST), VTSTATUS (the PF's link), VTEICS/EIMS/EIMC/EIAC/EIAM/EICR
// and VTEITR, VTIVAR (the VF's two RX/TX queues) and VTIVAR_MISC (the mailbox vector), the VF's queue registers
// (its queues 0 and 1 are NIC queues n and n+8), VMBMEM and V2PMAILBOX — and BAR3 for the MSI-X table and PBA. A VF
// reset (VTCTRL.RST or an FLR) stops its queues, clears its enables and tells the PF through VFLRE. Every DMA of the
// VF's queues goes through this function's DmaSpace (the IOMMU's, when the VF is assigned).

import type { ExitClass } from '../../metrics/counters.js';
import type { DmaSpace } from '../../memory/dma.js';
import { RegisterTable, type RegisterDef } from '../../memory/register-table.js';
import type { BarSpec, PciDevice, PciFunctionContext, PciIdentity } from '../../pci/device.js';
import type { IgbCore, PoolFunction } from './core.js';
import { E1000_CTRL_RST, E1000_STATUS_FD, E1000_STATUS_LU, E1000_STATUS_SPEED_1000 } from './defines.js';
import { ExtInterrupts, vfIvarEntry } from './interrupts.js';
import { queueRows } from './queue-regs.js';
import {
  ALIAS_STRIDE, E1000_DEV_ID_82576_VF, E1000_V2PMAILBOX, E1000_VFMAILBOX_SIZE, E1000_VTCTRL, E1000_VTEIAC, E1000_VTEIAM,
  E1000_VTEICR, E1000_VTEICS, E1000_VTEIMC, E1000_VTEIMS, E1000_VTEITR0, E1000_VTFRTIMER, E1000_VTIVAR,
  E1000_VTIVAR_MISC, E1000_VTSTATUS, E1000_VTVMBMEM, IGB_82576_REVISION, IGB_CLASS_ETHERNET, IGB_MSIX_BAR_SIZE,
  IGB_MSIX_PBA, IGB_MSIX_TABLE, IGBVF_MMIO_SIZE, IGBVF_MSIX_VECTORS, PCI_VENDOR_ID_INTEL, RXQ_ALIAS, TXQ_ALIAS, VF_STATS,
  vfQueue,
} from './regs.js';
import { TableWithStorage } from './storage.js';

export class IgbVf implements PciDevice, PoolFunction {
  readonly identity: PciIdentity = {
    vendorId: PCI_VENDOR_ID_INTEL, deviceId: E1000_DEV_ID_82576_VF, classCode: IGB_CLASS_ETHERNET,
    revision: IGB_82576_REVISION, subsystemVendorId: PCI_VENDOR_ID_INTEL, subsystemId: 0,
  };
  readonly interruptPin = 0 as const;
  readonly pcie = { flr: true };
  /** The table and PBA stay trapped even when BAR0 is directly assigned, as VFIO traps them. */
  readonly msix = { vectors: IGBVF_MSIX_VECTORS, tableBar: 3, tableOffset: IGB_MSIX_TABLE, pbaBar: 3, pbaOffset: IGB_MSIX_PBA, exitClass: 'user' as const };
  readonly bars: readonly (BarSpec | null)[];
  readonly regs: RegisterTable;
  readonly bar0: TableWithStorage;
  readonly ext: ExtInterrupts;
  vtivar = 0;
  vtivarMisc = 0;
  readonly vteitr = new Uint32Array(IGBVF_MSIX_VECTORS);
  /** VF resets seen (VTCTRL.RST and FLR). */
  resets = 0;
  private ctx: PciFunctionContext | null = null;
  private alive = true;

  constructor(private readonly core: IgbCore, readonly index: number, exitClass: ExitClass, private readonly pfStatus: () => number) {
    this.ext = new ExtInterrupts(IGBVF_MSIX_VECTORS, () => (this.alive ? this.ctx?.msix ?? null : null), () => true);
    this.regs = new RegisterTable(`igbvf${index}`, this.registers(), { wide: 'split' });
    this.bar0 = new TableWithStorage(this.regs, IGBVF_MMIO_SIZE);
    this.bars = [
      { size: IGBVF_MMIO_SIZE, is64: true, prefetchable: true, handler: this.bar0, exitClass, registerName: this.bar0.registerName },
      null, null,
      { size: IGB_MSIX_BAR_SIZE, is64: true, prefetchable: true },
    ];
  }

  private registers(): RegisterDef[] {
    const mb = this.core.mailbox, ext = this.ext, vf = this.index;
    const live = <T>(fn: () => T, dead: T) => (): T => (this.alive ? fn() : dead);
    return [
      { name: 'VTCTRL', offset: E1000_VTCTRL, width: 4, sideEffects: 'write', read: () => 0, write: (v) => { if (this.alive && (v & E1000_CTRL_RST) !== 0) this.functionReset(); } },
      { name: 'VTSTATUS', offset: E1000_VTSTATUS, width: 4, sideEffects: 'none', read: live(() => this.pfStatus() & (E1000_STATUS_LU | E1000_STATUS_FD | E1000_STATUS_SPEED_1000), 0) },
      { name: 'VTFRTIMER', offset: E1000_VTFRTIMER, width: 4, sideEffects: 'none', read: () => 0 },
      { name: 'VTEICS', offset: E1000_VTEICS, width: 4, sideEffects: 'write', write: (v) => ext.writeEics(v) },
      { name: 'VTEIMS', offset: E1000_VTEIMS, width: 4, sideEffects: 'write', read: () => ext.eims, write: (v) => ext.writeEims(v) },
      { name: 'VTEIMC', offset: E1000_VTEIMC, width: 4, sideEffects: 'write', write: (v) => ext.writeEimc(v) },
      { name: 'VTEIAC', offset: E1000_VTEIAC, width: 4, sideEffects: 'none', read: () => ext.eiac, write: (v) => ext.writeEiac(v) },
      { name: 'VTEIAM', offset: E1000_VTEIAM, width: 4, sideEffects: 'none', read: () => ext.eiam, write: (v) => ext.writeEiam(v) },
      { name: 'VTEICR', offset: E1000_VTEICR, width: 4, sideEffects: 'both', read: () => ext.readEicr(), write: (v) => ext.writeEicr(v) },
      { name: 'VTEITR', offset: E1000_VTEITR0, width: 4, count: IGBVF_MSIX_VECTORS, sideEffects: 'none', read: (i) => this.vteitr[i]!, write: (v, i) => { this.vteitr[i] = v & 0x7ffc; } },
      { name: 'VTIVAR', offset: E1000_VTIVAR, width: 4, sideEffects: 'none', read: () => this.vtivar, write: (v) => { this.vtivar = v & 0x8383_8383; } },
      { name: 'VTIVAR_MISC', offset: E1000_VTIVAR_MISC, width: 4, sideEffects: 'none', read: () => this.vtivarMisc, write: (v) => { this.vtivarMisc = v & 0x83; } },
      {
        name: 'VMBMEM', offset: E1000_VTVMBMEM, width: 4, count: E1000_VFMAILBOX_SIZE, sideEffects: 'none',
        read: (i) => (this.alive ? mb.readVfBuffer(vf, i) : 0), write: (v, i) => { if (this.alive) mb.writeVfBuffer(vf, i, v); },
      },
      {
        name: 'V2PMAILBOX', offset: E1000_V2PMAILBOX, width: 4, sideEffects: 'both',
        read: () => (this.alive ? mb.readV2p(vf) : 0), write: (v) => { if (this.alive) mb.writeV2p(vf, v); },
      },
      ...VF_STATS.map((offset): RegisterDef => ({ name: `VFSTAT_0x${offset.toString(16)}`, offset, width: 4, sideEffects: 'none', read: () => 0 })),
      ...queueRows(this.core, false, RXQ_ALIAS, ALIAS_STRIDE, 2, (i) => vfQueue(vf, i)),
      ...queueRows(this.core, true, TXQ_ALIAS, ALIAS_STRIDE, 2, (i) => vfQueue(vf, i)),
    ];
  }

  // --- PciDevice, PoolFunction --------------------------------------------------------------------------------------

  attach(ctx: PciFunctionContext): void { this.ctx = ctx; }

  dma(): DmaSpace | null { return this.alive ? this.ctx?.dma ?? null : null; }

  /** FLR (or VM reset) of this function: the same as a VF software reset. */
  reset(): void { if (this.alive) this.functionReset(); }

  /** VTCTRL.RST / FLR: the VF's queues stop, its pool's enables clear, its interrupt state resets, VFLRE tells the PF. */
  functionReset(): void {
    this.resets++;
    this.core.resetVfQueues(this.index);
    this.clearInterrupts();
    this.core.mailbox.vfReset(this.index);
  }

  /** The PF was software-reset: the VF's registers return to their reset values (the PF reset its queues). */
  pfReset(): void { this.clearInterrupts(); }

  private clearInterrupts(): void {
    this.ext.reset();
    this.vtivar = this.vtivarMisc = 0;
    this.vteitr.fill(0);
  }

  queueEvent(q: number, tx: boolean): void { this.ext.raiseEntry(vfIvarEntry(this.vtivar, q >> 3, tx)); }

  /** The PF wrote STS or ACK to this VF's mailbox, or its reset state changed: the mailbox ("other") vector. */
  mailboxInterrupt(): void { this.ext.raiseEntry(this.vtivarMisc & 0xff); }

  /** VF Enable was cleared: the VF no longer exists; its registers read 0 and it never masters the bus again. */
  detach(): void { this.alive = false; this.clearInterrupts(); }

  get live(): boolean { return this.alive; }
}
