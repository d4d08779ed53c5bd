// The Intel 82540EM gigabit Ethernet controller (8254x Family SDM) as Linux 6.12's stock e1000 driver drives it:
// a conventional PCI function 8086:100E with BAR0 (128 KiB of registers) and BAR1 (the IOADDR/IODATA window the
// driver uses to issue CTRL.RST), INTA, the EEPROM and PHY behind EECD/EERD and MDIC, interrupt causes with ITR
// throttling, and the legacy RX/TX rings with TSO and checksum offload (rx.ts, tx.ts). A pure state machine: guest
// memory only through the function's DmaSpace, frames only through the injected link, time only through `now()`.
//
// The classic emulation optimizations are options, all off by default (README of this folder: "Optimizations"):
// coalesced MMIO (plainWriteRanges), TX batching (txBatching: the TDT doorbell defers the ring walk to update()),
// ITR interrupt moderation (itrModeration), the TDT doorbell as a 'notify' exit (notifyTdt) and the whole BAR as an
// in-kernel device model (inKernel). The device supplies the mechanics; the wiring point declares the exit classes.

import type { ClassRange, Width } from '../../memory/bus.js';
import { RegisterTable, type RegisterDef } from '../../memory/register-table.js';
import type { CostKind } from '../../metrics/cost.js';
import type { ExitClass } from '../../metrics/counters.js';
import { dmaAddr, DMA_MAX_ADDR } from '../../memory/dma.js';
import type { NicReceiver } from '../../backends/net/port.js';
import { INTA, type BarSpec, type PciDevice, type PciFunctionContext, type PciIdentity } from '../../pci/device.js';
import { Eeprom, E1000_SUBSYSTEM_ID, eepromImage } from './eeprom.js';
import { E1000Counters } from './metrics.js';
import { M88Phy } from './phy.js';
import { RxEngine, type RxRing } from './rx.js';
import { TxEngine, type TxPort, type TxRing } from './tx.js';
import {
  E1000_82540EM_REVISION, E1000_CLASS_ETHERNET, E1000_CTRL, E1000_CTRL_DUP, E1000_CTRL_EXT, E1000_CTRL_FD,
  E1000_CTRL_PHY_RST, E1000_CTRL_RST, E1000_CTRL_SLU, E1000_CTRL_VME, E1000_DESC_SIZE, E1000_DEV_ID_82540EM,
  E1000_EECD, E1000_EERD, E1000_EERD_ADDR_MASK, E1000_EERD_ADDR_SHIFT, E1000_EERD_DATA_SHIFT, E1000_EERD_DONE,
  E1000_EERD_START, E1000_FCAH, E1000_FCAL, E1000_FCRTH, E1000_FCRTL, E1000_FCT, E1000_FCTTV, E1000_FLA,
  E1000_ICR, E1000_ICR_INT_ASSERTED, E1000_ICR_LSC, E1000_ICR_MDAC, E1000_ICR_RXDMT0, E1000_ICR_RXO,
  E1000_ICR_RXT0, E1000_ICR_TXDW, E1000_ICR_TXQE, E1000_ICR_VALID, E1000_ICS, E1000_IMC, E1000_IMS, E1000_IOADDR,
  E1000_IODATA, E1000_IO_SIZE, E1000_IP4AT, E1000_IP6AT, E1000_IPAV, E1000_ITR, E1000_ITR_UNIT_NS, E1000_LEDCTL,
  E1000_LEDCTL_DEFAULT, E1000_MANC, E1000_MDIC, E1000_MDIC_DATA_MASK, E1000_MDIC_ERROR, E1000_MDIC_INT_EN,
  E1000_MDIC_OP_READ, E1000_MDIC_OP_WRITE, E1000_MDIC_PHY_MASK, E1000_MDIC_PHY_SHIFT, E1000_MDIC_READY,
  E1000_MDIC_REG_MASK, E1000_MDIC_REG_SHIFT, E1000_MMIO_SIZE, E1000_MTA, E1000_NUM_MTA_REGISTERS, E1000_PBA,
  E1000_PBA_48K, E1000_PHY_ADDRESS, E1000_RA, E1000_RADV, E1000_RAH_AV, E1000_RAR_ENTRIES, E1000_RCTL,
  E1000_RCTL_EN, E1000_RCTL_RDMTS_MASK, E1000_RCTL_RDMTS_SHIFT, E1000_RDBAH, E1000_RDBAL, E1000_RDH, E1000_RDLEN,
  E1000_RDT, E1000_RDTR, E1000_RSRPD, E1000_RXCSUM, E1000_RXCW, E1000_RXDCTL, E1000_STATS, E1000_STATUS,
  E1000_STATUS_FD, E1000_STATUS_LU, E1000_STATUS_SPEED_1000, E1000_TADV, E1000_TCTL, E1000_TCTL_EN,
  E1000_TCTL_PSP, E1000_TDBAH, E1000_TDBAL, E1000_TDFH, E1000_TDFHS, E1000_TDFPC, E1000_TDFT, E1000_TDFTS,
  E1000_TDH, E1000_TDLEN, E1000_TDT, E1000_TIDV, E1000_TIPG, E1000_TSPMT, E1000_TXCW, E1000_TXDCTL,
  E1000_TXDMAC, E1000_VET, E1000_VFTA, E1000_VLAN_FILTER_TBL_SIZE, E1000_WUC, E1000_WUFC, E1000_WUPL, E1000_WUS,
  EEPROM_WORD_SIZE, PCI_VENDOR_ID_INTEL,
} from './regs.js';

/** What the device sends frames to and reads carrier from (a NicPort, or a test double). */
export interface E1000Link {
  /** Sends one frame; the buffer is reused as soon as the call returns. */
  send(frame: Uint8Array): void;
  readonly linkUp: boolean;
}

/** What the device charges backend work to (the VM's CostMeter). */
export interface E1000CostCharger {
  charge(kind: CostKind, n?: number): number;
}

export interface E1000Options {
  /** The station address in the EEPROM (default 52:54:00:12:34:56). */
  mac?: Uint8Array;
  /** Coalesced MMIO: writes to side-effect-free registers are buffered (the wiring declares plainWriteRanges()). */
  coalesceMmio?: boolean;
  /** Packet combining: a TDT write only records the tail; the ring is walked by update() (or at txBatchDescriptors). */
  txBatching?: boolean;
  /** With txBatching: walk the ring at once when this many descriptors are pending (default 32). */
  txBatchDescriptors?: number;
  /** With txBatching: the longest a doorbell waits for update(), in clock ticks (default 100 = 10 us at 10 MHz). */
  txBatchTicks?: number;
  /** Interrupt moderation: at most one interrupt per ITR interval (ITR in 256 ns units); off: ITR is stored only. */
  itrModeration?: boolean;
  /** The TDT doorbell as a 'notify' (ioeventfd-style) exit instead of a full exit. */
  notifyTdt?: boolean;
  /** The whole BAR handled by an in-kernel device model ('kernel' exits instead of 'user'). */
  inKernel?: boolean;
  /** Virtual time in clock ticks (default: always 0, which makes ITR moderation and batching never wait). */
  now?: () => number;
  /** Clock ticks per second (default 10 MHz, the virt board's timebase). */
  frequency?: number;
  /** Charged per packet (perRequest) and per byte copied (copyPerByte). */
  cost?: E1000CostCharger;
}

export const E1000_DEFAULT_MAC = Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x34, 0x56);
const DEFAULT_BATCH_DESCRIPTORS = 32;
const DEFAULT_BATCH_TICKS = 100;
/** Writable bits of RDLEN/TDLEN: the length is a multiple of 128 bytes, at most 2^20 - 128 (SDM §13.4.27). */
const DLEN_MASK = 0x000f_ff80;
const VET_DEFAULT = 0x8100;

// Statistics slots: (offset - 0x4000) >> 2.
const STAT = (off: number): number => (off - 0x4000) >> 2;
const S = Object.fromEntries(E1000_STATS.map(([n, o]) => [n, STAT(o)])) as Record<string, number>;
/** Low halves of the 64-bit counters (the value lives in the low slot; reading the high half clears it). */
const STAT64_LOW = new Set([S['GORCL']!, S['GOTCL']!, S['TORL']!, S['TOTL']!]);

export class E1000 implements PciDevice, NicReceiver {
  readonly identity: PciIdentity = {
    vendorId: PCI_VENDOR_ID_INTEL, deviceId: E1000_DEV_ID_82540EM, classCode: E1000_CLASS_ETHERNET,
    revision: E1000_82540EM_REVISION, subsystemVendorId: PCI_VENDOR_ID_INTEL, subsystemId: E1000_SUBSYSTEM_ID,
  };
  readonly interruptPin = INTA;
  readonly pcie = false as const;
  readonly powerManagement = true;
  readonly bars: readonly (BarSpec | null)[];
  /** BAR 0's register table (also the source of the coalescable ranges and the metrics' register names). */
  readonly regs: RegisterTable;
  /** BAR 1: IOADDR selects a register, IODATA reads or writes it. */
  readonly io: RegisterTable;
  readonly counters = new E1000Counters();
  readonly eeprom: Eeprom;
  readonly phy = new M88Phy();

  /** The 32-bit register file by offset >> 2 (registers whose value is plain storage live here). */
  private readonly r = new Uint32Array(E1000_MMIO_SIZE >> 2);
  private readonly stats = new Float64Array(64);
  private readonly tx = new TxEngine();
  private readonly rx = new RxEngine();
  private readonly txPort: TxPort;
  private readonly opts: Required<Pick<E1000Options, 'txBatchDescriptors' | 'txBatchTicks' | 'frequency'>> & E1000Options;
  private readonly now: () => number;
  private readonly cost: E1000CostCharger | null;
  private ctx: PciFunctionContext | null = null;
  private link: E1000Link | null = null;
  private carrier = false;
  private macLink = false;
  private icr = 0;
  private ims = 0;
  private line = false;
  private ioaddr = 0;
  /** ITR moderation: no assertion before this time; a postponed one fires at irqDeadline. */
  private irqAllowedAt = 0;
  private irqDeadline = Infinity;
  /** TX batching: the deferred ring walk is due at txDeadline. */
  private txDeadline = Infinity;
  private readonly vlanFrame = new Uint8Array(0x4000 + 8);

  constructor(options: E1000Options = {}) {
    this.opts = { txBatchDescriptors: DEFAULT_BATCH_DESCRIPTORS, txBatchTicks: DEFAULT_BATCH_TICKS, frequency: 10_000_000, ...options };
    const mac = options.mac ?? E1000_DEFAULT_MAC;
    this.eeprom = new Eeprom(eepromImage(mac));
    this.now = options.now ?? (() => 0);
    this.cost = options.cost ?? null;
    const o = this.counters.optimizations;
    o.coalesceMmio = options.coalesceMmio === true ? 1 : 0;
    o.txBatching = options.txBatching === true ? 1 : 0;
    o.itrModeration = options.itrModeration === true ? 1 : 0;
    o.notifyTdt = options.notifyTdt === true ? 1 : 0;
    o.inKernel = options.inKernel === true ? 1 : 0;
    const self = this;
    this.txPort = {
      get dma() { return self.dma(); },
      counters: this.counters,
      charge: (k, n) => { this.cost?.charge(k, n); },
      emit: (f, len, tci) => this.emit(f, len, tci),
    };
    this.regs = new RegisterTable('e1000', this.registers());
    this.io = new RegisterTable('e1000-io', [
      { name: 'IOADDR', offset: E1000_IOADDR, width: 4, sideEffects: 'none', read: () => this.ioaddr, write: (v) => { this.ioaddr = v & 0x1_fffc; } },
      {
        name: 'IODATA', offset: E1000_IODATA, width: 4, sideEffects: 'both',
        read: () => Number(this.regs.read(this.ioaddr, 4)), write: (v) => this.regs.write(this.ioaddr, 4, v),
      },
    ]);
    this.bars = [
      {
        size: E1000_MMIO_SIZE, exitClass: this.barExitClass(), classes: this.barClasses(),
        handler: this.regs, registerName: this.regs.registerName,
      },
      { size: E1000_IO_SIZE, kind: 'io', exitClass: this.barExitClass(), handler: this.io, registerName: this.io.registerName },
    ];
    this.resetRegisters();
  }

  // --- what the wiring declares --------------------------------------------------------------------------------

  /** The BAR's exit class: 'kernel' with inKernel, else 'user'. */
  barExitClass(): ExitClass { return this.opts.inKernel === true ? 'kernel' : 'user'; }

  /** Sub-ranges of BAR 0 of another class: the TDT doorbell as 'notify' with notifyTdt. */
  barClasses(): ClassRange[] {
    const out: ClassRange[] = this.opts.notifyTdt === true ? [{ offset: E1000_TDT, size: 4, exitClass: 'notify' }] : [];
    // Coalesced MMIO: plain writes still exit, but only into the hypervisor's ring (charged as in-kernel exits).
    if (this.opts.coalesceMmio === true) for (const r of this.plainWriteRanges()) out.push({ ...r, exitClass: 'kernel', writesOnly: true });
    return out;
  }

  /** BAR 0 offset of the TDT doorbell (the sub-range notifyTdt declares 'notify'). */
  static readonly TDT_OFFSET = E1000_TDT;

  /**
   * The BAR 0 ranges whose 32-bit writes only store a value (the register table's sideEffects 'none'/'read' rows):
   * what coalesced MMIO may buffer and replay at the next real exit. Reads in these ranges still exit.
   */
  plainWriteRanges(): { offset: number; size: number }[] {
    const out: { offset: number; size: number }[] = [];
    for (let off = 0; off < E1000_MMIO_SIZE; off += 4) {
      if (!this.regs.writeIsPlain(off, 4)) continue;
      const last = out[out.length - 1];
      if (last !== undefined && last.offset + last.size === off) last.size += 4;
      else out.push({ offset: off, size: 4 });
    }
    return out;
  }

  /**
   * How an access to BAR 0 is accounted under this device's options (what the bus would charge once the wiring
   * declares the classes; 'coalesced' is the proposed class of a buffered write — see the folder README).
   */
  classify(offset: number, write: boolean, width: Width = 4): ExitClass | 'coalesced' {
    if (this.opts.notifyTdt === true && offset === E1000_TDT) return 'notify';
    if (write && this.opts.coalesceMmio === true && this.regs.writeIsPlain(offset, width)) return 'coalesced';
    return this.barExitClass();
  }

  // --- PciDevice ---------------------------------------------------------------------------------------------------

  attach(ctx: PciFunctionContext): void { this.ctx = ctx; }

  /** Connects the network side (after the NicPort was built with this device as its receiver). */
  connect(link: E1000Link | null): void {
    this.link = link;
    this.pollCarrier();
  }

  /** Power-on / function-level reset: registers, EEPROM interface, PHY, rings, pending interrupts. */
  reset(): void {
    this.phy.reset();
    this.resetRegisters();
  }

  private dma() {
    if (this.ctx === null) throw new Error('e1000: DMA before the device was attached to its PCI function');
    return this.ctx.dma;
  }

  // --- timed-device hooks ---------------------------------------------------------------------------------------

  /** The earliest clock time at which update() has work (a postponed interrupt or a batched TX walk); Infinity if none. */
  nextDeadline(): number { return Math.min(this.irqDeadline, this.txDeadline); }

  /** Runs what is due at `now`: batched TX, postponed interrupts; and notices carrier changes of the backend. */
  update(now: number = this.now()): void {
    this.pollCarrier();
    if (now >= this.txDeadline) { this.txDeadline = Infinity; this.runTx(); }
    if (now >= this.irqDeadline) { this.irqDeadline = Infinity; this.irqAllowedAt = 0; this.evaluate(); }
  }

  /** The backend's carrier may have changed (the wiring may call this; update() and the RX path also poll). */
  pollCarrier(): void {
    const c = this.link?.linkUp ?? false;
    if (c === this.carrier) return;
    this.carrier = c;
    this.phy.setCarrier(c);
    this.checkLink();
  }

  // --- registers -----------------------------------------------------------------------------------------------

  private reg(off: number): number { return this.r[off >> 2]!; }
  private set(off: number, v: number): void { this.r[off >> 2] = v >>> 0; }

  private registers(): RegisterDef[] {
    const plain = (name: string, offset: number, mask = 0xffff_ffff): RegisterDef => ({
      name, offset, width: 4, sideEffects: 'none', read: () => this.reg(offset), write: (v) => this.set(offset, v & mask),
    });
    const array = (name: string, offset: number, count: number, nameOf?: (i: number) => string, write?: (v: number, i: number) => void): RegisterDef => ({
      name, offset, width: 4, count, sideEffects: 'none', ...(nameOf !== undefined ? { nameOf } : {}),
      read: (i) => this.r[(offset >> 2) + i]!, write: write ?? ((v, i) => { this.r[(offset >> 2) + i] = v; }),
    });
    const stats: RegisterDef[] = E1000_STATS.map(([name, offset]) => {
      const slot = STAT(offset);
      if (STAT64_LOW.has(slot)) return { name, offset, width: 4, sideEffects: 'none', read: () => this.stats[slot]! % 0x1_0000_0000 };
      if (STAT64_LOW.has(slot - 1)) {
        return {
          name, offset, width: 4, sideEffects: 'read',
          read: () => { const v = Math.floor(this.stats[slot - 1]! / 0x1_0000_0000); this.stats[slot - 1] = 0; return v >>> 0; },
        };
      }
      return { name, offset, width: 4, sideEffects: 'read', read: () => { const v = this.stats[slot]!; this.stats[slot] = 0; return Math.min(v, 0xffff_ffff); } };
    });
    return [
      { name: 'CTRL', offset: E1000_CTRL, width: 4, sideEffects: 'write', read: () => this.reg(E1000_CTRL), write: (v) => this.writeCtrl(v) },
      { name: 'CTRL_DUP', offset: E1000_CTRL_DUP, width: 4, sideEffects: 'write', read: () => this.reg(E1000_CTRL), write: (v) => this.writeCtrl(v) },
      { name: 'STATUS', offset: E1000_STATUS, width: 4, sideEffects: 'none', read: () => this.status() },
      { name: 'EECD', offset: E1000_EECD, width: 4, sideEffects: 'write', read: () => this.eeprom.read(), write: (v) => this.eeprom.write(v) },
      { name: 'EERD', offset: E1000_EERD, width: 4, sideEffects: 'write', read: () => this.reg(E1000_EERD), write: (v) => this.writeEerd(v) },
      plain('CTRL_EXT', E1000_CTRL_EXT),
      plain('FLA', E1000_FLA),
      { name: 'MDIC', offset: E1000_MDIC, width: 4, sideEffects: 'write', read: () => this.reg(E1000_MDIC), write: (v) => this.writeMdic(v) },
      plain('FCAL', E1000_FCAL), plain('FCAH', E1000_FCAH, 0xffff), plain('FCT', E1000_FCT, 0xffff), plain('VET', E1000_VET, 0xffff),
      { name: 'ICR', offset: E1000_ICR, width: 4, sideEffects: 'both', read: () => this.readIcr(), write: (v) => { this.icr &= ~v; this.evaluate(); } },
      plain('ITR', E1000_ITR, 0xffff),
      { name: 'ICS', offset: E1000_ICS, width: 4, sideEffects: 'write', write: (v) => this.cause(v & E1000_ICR_VALID) },
      { name: 'IMS', offset: E1000_IMS, width: 4, sideEffects: 'write', read: () => this.ims, write: (v) => { this.ims = (this.ims | v) & E1000_ICR_VALID; this.evaluate(); } },
      { name: 'IMC', offset: E1000_IMC, width: 4, sideEffects: 'write', write: (v) => { this.ims &= ~v; this.evaluate(); } },
      { name: 'RCTL', offset: E1000_RCTL, width: 4, sideEffects: 'write', read: () => this.reg(E1000_RCTL), write: (v) => this.set(E1000_RCTL, v) },
      plain('FCTTV', E1000_FCTTV, 0xffff), plain('TXCW', E1000_TXCW), plain('RXCW', E1000_RXCW),
      { name: 'TCTL', offset: E1000_TCTL, width: 4, sideEffects: 'write', read: () => this.reg(E1000_TCTL), write: (v) => this.writeTctl(v) },
      plain('TIPG', E1000_TIPG), plain('LEDCTL', E1000_LEDCTL), plain('PBA', E1000_PBA, 0xffff),
      plain('FCRTL', E1000_FCRTL), plain('FCRTH', E1000_FCRTH),
      plain('RDBAL', E1000_RDBAL, 0xffff_fff0), plain('RDBAH', E1000_RDBAH), plain('RDLEN', E1000_RDLEN, DLEN_MASK),
      plain('RDH', E1000_RDH, 0xffff),
      { name: 'RDT', offset: E1000_RDT, width: 4, sideEffects: 'write', read: () => this.reg(E1000_RDT), write: (v) => this.set(E1000_RDT, v & 0xffff) },
      plain('RDTR', E1000_RDTR, 0xffff), plain('RXDCTL', E1000_RXDCTL), plain('RADV', E1000_RADV, 0xffff), plain('RSRPD', E1000_RSRPD),
      plain('TXDMAC', E1000_TXDMAC), plain('TDFH', E1000_TDFH), plain('TDFT', E1000_TDFT), plain('TDFHS', E1000_TDFHS),
      plain('TDFTS', E1000_TDFTS), plain('TDFPC', E1000_TDFPC),
      plain('TDBAL', E1000_TDBAL, 0xffff_fff0), plain('TDBAH', E1000_TDBAH), plain('TDLEN', E1000_TDLEN, DLEN_MASK),
      plain('TDH', E1000_TDH, 0xffff),
      { name: 'TDT', offset: E1000_TDT, width: 4, sideEffects: 'write', read: () => this.reg(E1000_TDT), write: (v) => this.writeTdt(v) },
      plain('TIDV', E1000_TIDV, 0xffff), plain('TXDCTL', E1000_TXDCTL), plain('TADV', E1000_TADV, 0xffff), plain('TSPMT', E1000_TSPMT),
      ...stats,
      plain('RXCSUM', E1000_RXCSUM, 0x7ff),
      array('MTA', E1000_MTA, E1000_NUM_MTA_REGISTERS),
      array('RA', E1000_RA, 2 * E1000_RAR_ENTRIES, (i) => `${(i & 1) === 0 ? 'RAL' : 'RAH'}${i >> 1}`,
        (v, i) => { this.r[(E1000_RA >> 2) + i] = (i & 1) === 0 ? v : v & (E1000_RAH_AV | 0x3_ffff); }),
      array('VFTA', E1000_VFTA, E1000_VLAN_FILTER_TBL_SIZE),
      plain('WUC', E1000_WUC), plain('WUFC', E1000_WUFC), plain('WUS', E1000_WUS), plain('MANC', E1000_MANC),
      plain('IPAV', E1000_IPAV), array('IP4AT', E1000_IP4AT, 8), array('IP6AT', E1000_IP6AT, 4),
      array('WUPL', E1000_WUPL, 1),
    ];
  }

  /** The MAC registers after CTRL.RST or power-on (SDM Table 13-2 initial values); RAR0 reloaded from the EEPROM. */
  private resetRegisters(): void {
    this.r.fill(0);
    this.stats.fill(0);
    this.set(E1000_CTRL, E1000_CTRL_FD);
    this.set(E1000_LEDCTL, E1000_LEDCTL_DEFAULT);
    this.set(E1000_PBA, E1000_PBA_48K);
    this.set(E1000_VET, VET_DEFAULT);
    const w = this.eeprom.words;
    this.set(E1000_RA, (w[0]! | (w[1]! << 16)) >>> 0);
    this.set(E1000_RA + 4, w[2]! | E1000_RAH_AV);
    this.eeprom.reset();
    this.tx.reset();
    this.icr = 0;
    this.ims = 0;
    this.ioaddr = 0;
    this.irqAllowedAt = 0;
    this.irqDeadline = Infinity;
    this.txDeadline = Infinity;
    this.setLine(false);
    this.macLink = false;
    this.checkLink();
  }

  // guest-controlled: any value; RST and PHY_RST self-clear.
  private writeCtrl(v: number): void {
    if ((v & E1000_CTRL_RST) !== 0) {
      this.counters.resets++;
      this.resetRegisters();
      return;
    }
    if ((v & E1000_CTRL_PHY_RST) !== 0) this.phy.reset();
    this.set(E1000_CTRL, v & ~(E1000_CTRL_RST | E1000_CTRL_PHY_RST));
    this.checkLink();
  }

  private status(): number {
    return (this.macLink ? E1000_STATUS_LU : 0) | E1000_STATUS_FD | E1000_STATUS_SPEED_1000;
  }

  // guest-controlled: the word address (bits 15:8); a read completes at once.
  private writeEerd(v: number): void {
    if ((v & E1000_EERD_START) === 0) { this.set(E1000_EERD, v & E1000_EERD_ADDR_MASK); return; }
    const addr = (v & E1000_EERD_ADDR_MASK) >>> E1000_EERD_ADDR_SHIFT;
    const data = addr < EEPROM_WORD_SIZE ? this.eeprom.word(addr) : 0xffff;
    this.set(E1000_EERD, (data << E1000_EERD_DATA_SHIFT) | (v & E1000_EERD_ADDR_MASK) | E1000_EERD_DONE);
  }

  // guest-controlled: PHY address, register and data; the operation completes at once (READY).
  private writeMdic(v: number): void {
    const phyAddr = (v & E1000_MDIC_PHY_MASK) >>> E1000_MDIC_PHY_SHIFT;
    const reg = (v & E1000_MDIC_REG_MASK) >>> E1000_MDIC_REG_SHIFT;
    let out = (v & ~(E1000_MDIC_READY | E1000_MDIC_ERROR)) >>> 0;
    if (phyAddr !== E1000_PHY_ADDRESS) {
      out |= E1000_MDIC_ERROR; // nothing answers at that address
    } else if ((v & E1000_MDIC_OP_READ) !== 0) {
      out = ((out & ~E1000_MDIC_DATA_MASK) | this.phy.read(reg)) >>> 0;
    } else if ((v & E1000_MDIC_OP_WRITE) !== 0) {
      this.phy.write(reg, v & E1000_MDIC_DATA_MASK);
      this.checkLink();
    } else {
      out |= E1000_MDIC_ERROR;
    }
    this.set(E1000_MDIC, out | E1000_MDIC_READY);
    if ((v & E1000_MDIC_INT_EN) !== 0) this.cause(E1000_ICR_MDAC);
  }

  private checkLink(): void {
    const up = this.phy.linkUp && (this.reg(E1000_CTRL) & E1000_CTRL_SLU) !== 0;
    if (up === this.macLink) return;
    this.macLink = up;
    this.counters.linkChanges++;
    this.cause(E1000_ICR_LSC);
  }

  // --- interrupts (SDM §13.4.17-21; ITR §13.4.18) ------------------------------------------------------------------

  private readIcr(): number {
    const v = this.icr;
    const asserted = (v & this.ims) !== 0 ? E1000_ICR_INT_ASSERTED : 0;
    this.icr = 0; // read to clear, and the line drops
    this.evaluate();
    return (v | asserted) >>> 0;
  }

  /** Sets interrupt causes. */
  private cause(bits: number): void {
    if (bits === 0) return;
    this.icr |= bits;
    this.evaluate();
  }

  private itrTicks(): number {
    const itr = this.reg(E1000_ITR) & 0xffff;
    return Math.ceil(itr * E1000_ITR_UNIT_NS * this.opts.frequency / 1e9);
  }

  /** Drives INTA from ICR & IMS, postponing an assertion inside the ITR interval when moderation is on. */
  private evaluate(): void {
    const want = (this.icr & this.ims) !== 0;
    if (!want) {
      this.setLine(false);
      this.irqDeadline = Infinity;
      return;
    }
    if (this.line) return;
    if (this.opts.itrModeration === true && this.itrTicks() > 0) {
      const now = this.now();
      if (now < this.irqAllowedAt) {
        if (this.irqDeadline === Infinity) { this.irqDeadline = this.irqAllowedAt; this.counters.itrDeferred++; }
        else this.counters.itrMerged++;
        return;
      }
      this.irqAllowedAt = now + this.itrTicks();
    }
    this.irqDeadline = Infinity;
    this.counters.interrupts++;
    this.setLine(true);
  }

  private setLine(level: boolean): void {
    if (level === this.line) return;
    this.line = level;
    this.ctx?.intx.set(level);
  }

  /** INTA's level (for tests). */
  get interruptLine(): boolean { return this.line; }

  // --- transmit ------------------------------------------------------------------------------------------------

  private writeTctl(v: number): void {
    const was = this.reg(E1000_TCTL);
    this.set(E1000_TCTL, v);
    if ((v & E1000_TCTL_EN) !== 0 && (was & E1000_TCTL_EN) === 0) this.runTx();
  }

  // guest-controlled: any 16-bit tail; checked against the ring when the ring is walked.
  private writeTdt(v: number): void {
    this.set(E1000_TDT, v & 0xffff);
    if (this.opts.txBatching !== true) { this.runTx(); return; }
    const count = this.reg(E1000_TDLEN) / E1000_DESC_SIZE;
    const pending = count > 0 ? ((v & 0xffff) - this.reg(E1000_TDH) + count) % count : 0;
    if (pending >= this.opts.txBatchDescriptors) { this.txDeadline = Infinity; this.runTx(); return; }
    if (this.txDeadline === Infinity) this.txDeadline = this.now() + this.opts.txBatchTicks;
  }

  /** The transmit ring, or null when its registers describe no usable ring. */
  private txRing(): TxRing | null {
    return this.ring(E1000_TDBAL, E1000_TDBAH, E1000_TDLEN, E1000_TDH, E1000_TDT);
  }

  private ring(bal: number, bah: number, dlen: number, dh: number, dt: number): (TxRing & RxRing) | null {
    const len = this.reg(dlen);
    const count = len / E1000_DESC_SIZE;
    const head = this.reg(dh), tail = this.reg(dt);
    const base = dmaAddr((BigInt(this.reg(bah)) << 32n) | BigInt(this.reg(bal)));
    if (count === 0 || head >= count || tail >= count || base < 0 || base + len - 1 > DMA_MAX_ADDR) return null;
    return { base, count, head, tail };
  }

  private runTx(): void {
    if ((this.reg(E1000_TCTL) & E1000_TCTL_EN) === 0) return;
    this.pollCarrier();
    const ring = this.txRing();
    if (ring === null) { this.counters.drop('tx-bad-ring'); return; }
    if (ring.head === ring.tail) return;
    this.counters.txPasses++;
    const { head, wroteBack } = this.tx.run(this.txPort, ring);
    this.set(E1000_TDH, head);
    this.cause((wroteBack ? E1000_ICR_TXDW : 0) | (head === ring.tail ? E1000_ICR_TXQE : 0));
  }

  /** A frame leaves: VLAN tag inserted, short frames padded (TCTL.PSP), counted, charged, and sent. */
  private emit(frame: Uint8Array, len: number, vlanTci: number): void {
    const c = this.counters;
    if (len < 14) { c.drop('tx-runt'); return; }
    let out = frame.subarray(0, len);
    if (vlanTci >= 0 && (this.reg(E1000_CTRL) & E1000_CTRL_VME) !== 0) {
      const v = this.vlanFrame;
      v.set(frame.subarray(0, 12), 0);
      const vet = this.reg(E1000_VET);
      v[12] = vet >>> 8; v[13] = vet & 0xff; v[14] = vlanTci >>> 8; v[15] = vlanTci & 0xff;
      v.set(frame.subarray(12, len), 16);
      out = v.subarray(0, len + 4);
    }
    if (out.length < 60 && (this.reg(E1000_TCTL) & E1000_TCTL_PSP) !== 0) {
      const v = this.vlanFrame;
      if (out.buffer !== v.buffer) v.set(out, 0);
      v.fill(0, out.length, 60);
      out = v.subarray(0, 60);
    }
    if (!this.macLink || this.link === null) { c.drop('tx-link-down'); return; }
    c.txPackets++;
    c.txBytes += out.length;
    this.cost?.charge('perRequest');
    this.countFrame(out, out.length + 4, true);
    this.link.send(out);
  }

  /** The statistics registers for one good frame of `wireLen` bytes (with FCS). */
  private countFrame(f: Uint8Array, wireLen: number, tx: boolean): void {
    const st = this.stats;
    const [good, total, octets, totOctets, bcast, mcast, b64] = tx
      ? [S['GPTC']!, S['TPT']!, S['GOTCL']!, S['TOTL']!, S['BPTC']!, S['MPTC']!, S['PTC64']!]
      : [S['GPRC']!, S['TPR']!, S['GORCL']!, S['TORL']!, S['BPRC']!, S['MPRC']!, S['PRC64']!];
    st[good]!++; st[total]!++;
    st[octets] = st[octets]! + wireLen; st[totOctets] = st[totOctets]! + wireLen;
    if ((f[0]! & 1) !== 0) { if (f[0] === 0xff && f[1] === 0xff && f[2] === 0xff) st[bcast]!++; else st[mcast]!++; }
    const bucket = wireLen <= 64 ? 0 : wireLen <= 127 ? 1 : wireLen <= 255 ? 2 : wireLen <= 511 ? 3 : wireLen <= 1023 ? 4 : 5;
    st[b64 + bucket]!++;
  }

  // --- receive (NicReceiver) -------------------------------------------------------------------------------------

  private rxRing(): RxRing | null {
    return this.ring(E1000_RDBAL, E1000_RDBAH, E1000_RDLEN, E1000_RDH, E1000_RDT);
  }

  canReceive(): boolean {
    this.pollCarrier();
    if ((this.reg(E1000_RCTL) & E1000_RCTL_EN) === 0 || !this.macLink || this.ctx === null) return false;
    const ring = this.rxRing();
    return ring !== null && ring.head !== ring.tail;
  }

  // guest-controlled (through the ring and filters) and backend-controlled (the frame): never throws.
  receive(frame: Uint8Array): boolean {
    const c = this.counters;
    const rctl = this.reg(E1000_RCTL), ctrl = this.reg(E1000_CTRL), vet = this.reg(E1000_VET);
    if ((rctl & E1000_RCTL_EN) === 0 || !this.macLink || this.ctx === null) { c.drop('rx-disabled'); return false; }
    if (frame.length < 14 || !RxEngine.accepts(this.r, rctl, ctrl, vet, frame)) { c.drop('rx-filtered'); return false; }
    const ring = this.rxRing();
    if (ring === null) { c.drop('rx-bad-ring'); return false; }
    const res = this.rx.receive(this.ctx.dma, this.r, c, ring, frame, rctl, ctrl, vet, this.reg(E1000_RXCSUM));
    if (res.copied > 0) this.cost?.charge('copyPerByte', res.copied);
    if (res.drop !== null) {
      c.drop(res.drop);
      if (res.drop === 'rx-no-buffers') { this.stats[S['RNBC']!]!++; this.stats[S['MPC']!]!++; this.cause(E1000_ICR_RXO); }
      if (res.drop === 'rx-oversize') this.stats[S['ROC']!]!++;
      return false;
    }
    this.set(E1000_RDH, res.head);
    c.rxPackets++;
    c.rxBytes += frame.length;
    this.cost?.charge('perRequest');
    this.countFrame(frame, Math.max(frame.length, 60) + 4, false);
    const free = (ring.tail - res.head + ring.count) % ring.count;
    const rdmts = (rctl & E1000_RCTL_RDMTS_MASK) >>> E1000_RCTL_RDMTS_SHIFT;
    this.cause(E1000_ICR_RXT0 | (free <= ring.count >> (rdmts + 1) ? E1000_ICR_RXDMT0 : 0));
    return true;
  }

  // --- test and report helpers ---------------------------------------------------------------------------------

  /** The current value of a register by offset without side effects (tests, reports). */
  peek(offset: number): number {
    if (offset === E1000_ICR) return this.icr;
    if (offset === E1000_IMS) return this.ims;
    if (offset === E1000_STATUS) return this.status();
    return this.reg(offset);
  }
}
