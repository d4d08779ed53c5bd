// The Intel 82576 physical function (82576EB datasheet) as Linux 6.12's stock igb drives it: PCI Express function
// 8086:10C9 with BAR0 (128 KiB of registers, pf-regs.ts) and BAR3 (MSI-X: 10 vectors), MSI and INTA as fallbacks, the
// SR-IOV capability at 0x160 (TotalVFs 8, First VF Offset 0x80, VF Stride 2, VF Device ID 0x10CA, VF BAR0 and BAR3 of
// 16 KiB), the NVM behind EERD, the IGP3 PHY behind MDIC, interrupts (ICR/IMS causes; EICR vectors through IVAR and
// IVAR_MISC in MSI-X mode), and the shared data path (core.ts): queues, the embedded switch and the mailboxes. When the
// PF's driver sets VF Enable the PF creates one IgbVf per VF and tells its listeners, who attach or assign them.

import type { ExitClass } from '../../metrics/counters.js';
import type { NicReceiver } from '../../backends/net/port.js';
import { INTA, type BarSpec, type PciDevice, type PciFunctionContext, type PciIdentity } from '../../pci/device.js';
import { RegisterTable } from '../../memory/register-table.js';
import { SriovCapability } from '../../pci/sriov.js';
import type { DmaSpace } from '../../memory/dma.js';
import { IgbCore, type IgbLink, type PoolFunction } from './core.js';
import {
  E1000_CTRL_EXT_PFRSTD, E1000_CTRL_FD, E1000_CTRL_GIO_MASTER_DISABLE, E1000_CTRL_PHY_RST, E1000_CTRL_RST, E1000_CTRL_SLU,
  E1000_GPIE_EIAME, E1000_GPIE_MSIX_MODE, E1000_ICR_DOUTSYNC, E1000_ICR_INT_ASSERTED, E1000_ICR_LSC, E1000_ICR_RXT0,
  E1000_ICR_TXDW, E1000_ICR_VMMB, E1000_RAH_AV, E1000_STATUS_FD, E1000_STATUS_GIO_MASTER_ENABLE, E1000_STATUS_LU,
  E1000_STATUS_SPEED_1000,
} from './defines.js';
import { ExtInterrupts, pfIvarEntry } from './interrupts.js';
import { Nvm, nvmImage } from './nvm.js';
import { IgpPhy } from './phy.js';
import { pfRegisters } from './pf-regs.js';
import {
  E1000_DEV_ID_82576, E1000_DEV_ID_82576_VF, IGB_82576_REVISION, IGB_CLASS_ETHERNET,
  IGB_MAX_VF_FUNCTIONS, IGB_MMIO_SIZE, IGB_MSIX_BAR_SIZE, IGB_MSIX_PBA, IGB_MSIX_TABLE, IGB_PF_MSIX_VECTORS,
  IGBVF_MMIO_SIZE, PCI_VENDOR_ID_INTEL,
} from './regs.js';
import { TableWithStorage } from './storage.js';
import { IgbVf } from './vf.js';

export interface IgbPfOptions {
  /** The permanent MAC address in the NVM (default 52:54:00:12:34:57). */
  mac?: Uint8Array;
  /** Virtual time in clock ticks, for the rate limiter (default: always 0, which makes a limit never release). */
  now?: () => number;
  /** Clock ticks per second (default 10 MHz, the virt board's timebase). */
  frequency?: number;
  /** TotalVFs (default 8, the 82576's pool count; Linux's igb itself caps at 7). */
  totalVfs?: number;
  /** Exit class of each VF's register BAR (default 'direct': an assigned VF's registers are not VM exits). */
  vfExitClass?: ExitClass | ((vfIndex: number) => ExitClass);
  /**
   * The PCI Express device type (default 'endpoint'). A PF attached directly to the host bridge's root bus must be
   * 'rc-endpoint', as QEMU makes every endpoint on a root bus: Linux reads SR-IOV's Function Dependency Link as a
   * devfn only for root-complex integrated endpoints (drivers/pci/iov.c sriov_init), and otherwise refuses VF Enable
   * with ENOSYS for a PF that is not function 0 of device 0.
   */
  pcieType?: 'endpoint' | 'rc-endpoint';
}

/** Told when the PF's driver creates or removes its VFs. */
export interface VfListener {
  /** VF Enable: attach each VF at PF routing ID + pf.sriov.vfRoutingOffset(vf.index), or assign it to a guest. */
  vfsCreated?(vfs: readonly IgbVf[]): void;
  /** VF Enable cleared (or the PF reset): these VF objects are dead. */
  vfsRemoved?(vfs: readonly IgbVf[]): void;
}

export const IGB_DEFAULT_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x57);
/** The 82576's SR-IOV capability offset and VF routing (lspci of real parts: PF 82:00.1 → VF 82:10.1, 82:10.3, …). */
export const IGB_SRIOV_OFFSET = 0x160;
export const IGB_VF_OFFSET = 0x80;
export const IGB_VF_STRIDE = 2;

export class IgbPf implements PciDevice, NicReceiver, PoolFunction {
  readonly identity: PciIdentity = {
    vendorId: PCI_VENDOR_ID_INTEL, deviceId: E1000_DEV_ID_82576, classCode: IGB_CLASS_ETHERNET,
    revision: IGB_82576_REVISION, subsystemVendorId: PCI_VENDOR_ID_INTEL, subsystemId: 0,
  };
  readonly interruptPin = INTA;
  readonly pcie: { flr: boolean; type: 'endpoint' | 'rc-endpoint' };
  readonly powerManagement = true;
  readonly msi = { perVectorMask: true };
  readonly msix = { vectors: IGB_PF_MSIX_VECTORS, tableBar: 3, tableOffset: IGB_MSIX_TABLE, pbaBar: 3, pbaOffset: IGB_MSIX_PBA };
  readonly bars: readonly (BarSpec | null)[];
  readonly sriov: SriovCapability;
  readonly extCapabilities;
  readonly core: IgbCore;
  readonly regs: RegisterTable;
  readonly bar0: TableWithStorage;
  readonly nvm: Nvm;
  readonly phy = new IgpPhy();
  readonly ext: ExtInterrupts;
  /** Register state the rows in pf-regs.ts keep (public for them; not an API). */
  readonly r = { ctrl: 0, ctrlExt: 0, icr: 0, ims: 0, iam: 0, gpie: 0, mdic: 0, itr: 0, swsm: 0, swFwSync: 0, rxcsum: 0, qde: 0, dtxctl: 0, rplolr: 0 };
  readonly ivar = new Uint32Array(8);
  ivarMisc = 0;
  readonly eitr = new Uint32Array(25);
  private ctx: PciFunctionContext | null = null;
  private macLink = false;
  private line = false;
  private vfList: IgbVf[] = [];
  private readonly listeners: VfListener[] = [];
  private readonly vfExitClass: ExitClass | ((vfIndex: number) => ExitClass);

  constructor(options: IgbPfOptions = {}) {
    this.nvm = new Nvm(nvmImage(options.mac ?? IGB_DEFAULT_MAC));
    this.vfExitClass = options.vfExitClass ?? 'direct';
    this.pcie = { flr: true, type: options.pcieType ?? 'endpoint' };
    const now = options.now ?? (() => 0);
    this.core = new IgbCore(now, options.frequency ?? 10_000_000, {
      toPf: () => this.cause(E1000_ICR_VMMB),
      toVf: (vf) => this.vfList[vf]?.mailboxInterrupt(),
    });
    this.core.setPf(this);
    this.core.onSpoof = () => this.cause(E1000_ICR_DOUTSYNC);
    this.ext = new ExtInterrupts(IGB_PF_MSIX_VECTORS, () => this.ctx?.msix ?? null, () => (this.r.gpie & E1000_GPIE_EIAME) !== 0);
    this.sriov = new SriovCapability({
      offset: IGB_SRIOV_OFFSET, totalVfs: options.totalVfs ?? IGB_MAX_VF_FUNCTIONS, firstVfOffset: IGB_VF_OFFSET,
      vfStride: IGB_VF_STRIDE, vfDeviceId: E1000_DEV_ID_82576_VF,
      vfBars: [{ size: IGBVF_MMIO_SIZE, is64: true, prefetchable: true }, null, null, { size: IGB_MSIX_BAR_SIZE, is64: true, prefetchable: true }],
    });
    this.sriov.listen({ vfEnable: (n) => this.createVfs(n), vfDisable: () => this.removeVfs() });
    this.extCapabilities = [this.sriov.capability];
    this.regs = new RegisterTable('igb', pfRegisters(this), { wide: 'split' });
    this.bar0 = new TableWithStorage(this.regs, IGB_MMIO_SIZE);
    this.bars = [
      { size: IGB_MMIO_SIZE, handler: this.bar0, registerName: this.bar0.registerName },
      null, null,
      { size: IGB_MSIX_BAR_SIZE },
    ];
    this.softReset(false);
  }

  // --- PciDevice, PoolFunction --------------------------------------------------------------------------------------

  attach(ctx: PciFunctionContext): void { this.ctx = ctx; }
  dma(): DmaSpace | null { return this.ctx?.dma ?? null; }

  /** Power-on, FLR or VM reset: registers, PHY, queues; the SR-IOV capability was reset with config space. */
  reset(): void {
    this.phy.reset();
    this.bar0.reset();
    this.softReset(false);
    this.sriov.reset();
  }

  /** CTRL.RST: the MAC, the queues of the PF and of every VF, and RSTI to the VFs (their PCI functions stay). */
  softReset(countIt = true): void {
    const r = this.r;
    r.ctrl = E1000_CTRL_FD;
    r.ctrlExt = r.icr = r.ims = r.iam = r.gpie = r.mdic = r.itr = r.swsm = r.swFwSync = r.rxcsum = r.qde = r.dtxctl = r.rplolr = 0;
    this.ivar.fill(0); this.ivarMisc = 0; this.eitr.fill(0);
    this.ext.reset();
    this.nvm.reset();
    this.core.reset();
    const t = this.core.tables;
    const mac = this.nvm.mac();
    t.rar[0] = (mac[0]! | (mac[1]! << 8) | (mac[2]! << 16) | (mac[3]! << 24)) >>> 0;
    t.rar[1] = (mac[4]! | (mac[5]! << 8) | E1000_RAH_AV) >>> 0;
    for (const vf of this.vfList) vf.pfReset();
    this.core.mailbox.pfReset(this.vfList.length);
    if (countIt) this.core.counters.resets++;
    this.setLine(false);
    this.macLink = false;
    this.checkLink();
  }

  // --- uplink ---------------------------------------------------------------------------------------------------

  /** Connects the uplink (a NicPort built with this PF as its receiver), or disconnects it. */
  connect(link: IgbLink | null): void { this.core.link = link; this.pollCarrier(); }

  pollCarrier(): void {
    const c = this.core.link?.linkUp ?? false;
    this.phy.setCarrier(c);
    this.checkLink();
  }

  canReceive(): boolean { this.pollCarrier(); return this.ctx !== null && this.core.canReceive(); }
  receive(frame: Uint8Array): boolean { return this.core.receive(frame); }

  /** The earliest clock time update() has work (a rate-limited queue), or Infinity. */
  nextDeadline(): number { return this.core.nextDeadline(); }
  update(now: number): void { this.pollCarrier(); this.core.update(now); }

  // --- VFs ------------------------------------------------------------------------------------------------------

  onVfs(l: VfListener): void { this.listeners.push(l); }
  get vfs(): readonly IgbVf[] { return this.vfList; }

  private createVfs(n: number): void {
    const count = Math.min(n, IGB_MAX_VF_FUNCTIONS);
    this.vfList = Array.from({ length: count }, (_, i) => new IgbVf(this.core, i, typeof this.vfExitClass === 'function' ? this.vfExitClass(i) : this.vfExitClass, () => this.status()));
    for (const vf of this.vfList) { this.core.setVf(vf.index, vf); this.core.mailbox.vfCreated(vf.index); }
    for (const l of this.listeners) l.vfsCreated?.(this.vfList);
  }

  private removeVfs(): void {
    const gone = this.vfList;
    this.vfList = [];
    for (const vf of gone) { this.core.resetVfQueues(vf.index); this.core.setVf(vf.index, null); vf.detach(); }
    if (gone.length > 0) for (const l of this.listeners) l.vfsRemoved?.(gone);
  }

  // --- registers with side effects (used by pf-regs.ts) ---------------------------------------------------------------

  writeCtrl(v: number): void {
    if ((v & E1000_CTRL_RST) !== 0) { this.softReset(); return; }
    if ((v & E1000_CTRL_PHY_RST) !== 0) this.phy.reset();
    this.r.ctrl = v & ~(E1000_CTRL_RST | E1000_CTRL_PHY_RST);
    this.core.ctrl = this.r.ctrl;
    this.checkLink();
  }

  writeCtrlExt(v: number): void {
    const rising = v & ~this.r.ctrlExt & E1000_CTRL_EXT_PFRSTD;
    this.r.ctrlExt = v >>> 0;
    if (rising !== 0) this.core.mailbox.pfResetDone(this.vfList.length);
  }

  status(): number {
    return (this.macLink ? E1000_STATUS_LU : 0) | E1000_STATUS_FD | E1000_STATUS_SPEED_1000
      | ((this.r.ctrl & E1000_CTRL_GIO_MASTER_DISABLE) === 0 ? E1000_STATUS_GIO_MASTER_ENABLE : 0);
  }

  checkLink(): void {
    const up = this.phy.linkUp && (this.r.ctrl & E1000_CTRL_SLU) !== 0;
    this.core.macLinkUp = up;
    if (up === this.macLink) return;
    this.macLink = up;
    this.cause(E1000_ICR_LSC);
  }

  get msixMode(): boolean { return (this.r.gpie & E1000_GPIE_MSIX_MODE) !== 0 && (this.ctx?.msix?.enabled ?? false); }

  /** Sets ICR causes; an enabled new cause raises the "other" vector (MSI-X) or the INTx/MSI interrupt. */
  cause(bits: number): void {
    this.r.icr = (this.r.icr | bits) >>> 0;
    if ((bits & this.r.ims) !== 0) this.interruptNew();
  }

  writeIms(v: number): void {
    const newly = v & ~this.r.ims;
    this.r.ims = (this.r.ims | v) >>> 0;
    if ((newly & this.r.icr) !== 0) this.interruptNew(); else this.evaluateLine();
  }

  writeImc(v: number): void { this.r.ims = (this.r.ims & ~v) >>> 0; this.evaluateLine(); }

  readIcr(): number {
    const v = this.r.icr;
    this.r.icr = 0;
    this.evaluateLine();
    return (v | ((v & this.r.ims) !== 0 ? E1000_ICR_INT_ASSERTED : 0)) >>> 0;
  }

  private interruptNew(): void {
    if (this.msixMode) this.ext.raiseEntry((this.ivarMisc >>> 8) & 0xff);
    else if (this.ctx?.msi?.enabled === true) this.ctx.msi.notify();
    this.evaluateLine();
  }

  /** INTA follows ICR & IMS while neither MSI-X nor MSI is in use. */
  evaluateLine(): void {
    const msi = this.msixMode || this.ctx?.msi?.enabled === true;
    this.setLine(!msi && (this.r.icr & this.r.ims) !== 0);
  }

  private setLine(level: boolean): void {
    if (level === this.line) return;
    this.line = level;
    this.ctx?.intx.set(level);
  }

  get interruptLine(): boolean { return this.line; }

  queueEvent(q: number, tx: boolean): void {
    if (this.msixMode) this.ext.raiseEntry(pfIvarEntry(this.ivar, q, tx));
    else this.cause(tx ? E1000_ICR_TXDW : E1000_ICR_RXT0);
  }

  /** RAL/RAH(i) as a MAC address (tests, reports). */
  rar(i: number): { mac: Uint8Array; rah: number } {
    const t = this.core.tables;
    const lo = t.rar[2 * i]!, hi = t.rar[2 * i + 1]!;
    return { mac: Uint8Array.of(lo & 0xff, (lo >>> 8) & 0xff, (lo >>> 16) & 0xff, lo >>> 24, hi & 0xff, (hi >>> 8) & 0xff), rah: hi };
  }
}
