// The APLIC (RISC-V AIA spec, "Advanced Platform-Level Interrupt Controller"; Linux
// drivers/irqchip/irq-riscv-aplic-{main,direct,msi}.c): the incoming wires, a machine-level root domain and an
// optional supervisor-level child domain, each with its own control region, delivering directly to harts
// through IDCs or forwarding MSIs to IMSIC interrupt files through an injected sink.

import type { Resettable } from '../../devices/device.js';
import type { RegisterTable } from '../../memory/register-table.js';
import { IRQ_M_EXT, IRQ_S_EXT, type HartIrq, type IrqLine, type WiredIrqChip } from '../irq.js';
import { AplicDomain, type AplicShared } from './aplic-domain.js';
import { aplicRegisterTable } from './aplic-mmio.js';
import { AplicMsiConfig, type AplicMsiAddresses } from './aplic-msi.js';
import { APLIC_MAX_IDC, APLIC_MAX_SOURCE, APLIC_SOURCECFG_D, VIRT_APLIC_IPRIO_BITS, VIRT_APLIC_NUM_SOURCES } from './aplic-regs.js';

/** How one domain delivers interrupts; give at least one of the two. */
export interface AplicDomainSpec {
  /** Direct delivery mode: the external-interrupt input (MEIP/SEIP) of the hart with each hart index. */
  readonly direct?: readonly HartIrq[] | null;
  /** MSI delivery mode (needs AplicConfig.sendMsi). */
  readonly msi?: boolean;
}

/** An outgoing MSI: a 32-bit little-endian write of `data` at guest physical `address`, not through an IOMMU. */
export type AplicMsiSink = (address: number, data: number) => void;

export interface AplicConfig {
  /** Hart indexes 0..harts-1 (the hart ids on virt); also the number of IDCs in direct mode. */
  readonly harts: number;
  /** Sources 1..sources (riscv,num-sources; default 96 as on QEMU virt). */
  readonly sources?: number;
  /** IPRIOLEN, 1..8 (default 3 as on QEMU virt). */
  readonly iprioBits?: number;
  /** The machine-level root domain. */
  readonly machine: AplicDomainSpec;
  /** The supervisor-level child domain (child index 0), or none. */
  readonly supervisor?: AplicDomainSpec | null;
  readonly sendMsi?: AplicMsiSink | null;
  /** Hardwired (locked) IMSIC addresses; without them the root's msiaddrcfg registers are writable. */
  readonly msiAddresses?: AplicMsiAddresses | null;
  /** Name prefix of the register tables (metrics). */
  readonly name?: string;
}

export class Aplic implements WiredIrqChip, Resettable {
  /** Sources including the reserved source 0 (WiredIrqChip). */
  readonly sources: number;
  readonly root: AplicDomain;
  readonly supervisor: AplicDomain | null;
  /** Control region of the root (M-level) domain and of the S-level domain, VIRT_APLIC_SIZE each on virt. */
  readonly rootMmio: RegisterTable;
  readonly supervisorMmio: RegisterTable | null;
  readonly msiConfig: AplicMsiConfig;
  /** MSIs sent, and MSIs dropped because no sink exists or the address is past 2^53. */
  msisSent = 0;
  msisDropped = 0;
  private readonly wires: Uint8Array;
  private readonly lines: IrqLine[] = [];
  private readonly sink: AplicMsiSink | null;

  constructor(cfg: AplicConfig) {
    const n = cfg.sources ?? VIRT_APLIC_NUM_SOURCES;
    if (!Number.isInteger(n) || n < 1 || n > APLIC_MAX_SOURCE) throw new RangeError(`APLIC: ${n} sources; expected 1..${APLIC_MAX_SOURCE}`);
    if (!Number.isInteger(cfg.harts) || cfg.harts < 1 || cfg.harts > APLIC_MAX_IDC) throw new RangeError(`APLIC: ${cfg.harts} harts; expected 1..${APLIC_MAX_IDC}`);
    const bits = cfg.iprioBits ?? VIRT_APLIC_IPRIO_BITS;
    if (!Number.isInteger(bits) || bits < 1 || bits > 8) throw new RangeError(`APLIC: IPRIOLEN ${bits}; expected 1..8`);
    const wantsMsi = cfg.machine.msi === true || cfg.supervisor?.msi === true;
    if (wantsMsi && (cfg.sendMsi ?? null) === null) throw new RangeError('APLIC: a domain delivers by MSI but no sendMsi sink was given');
    this.sources = n + 1;
    this.sink = cfg.sendMsi ?? null;
    this.wires = new Uint8Array(n + 1);
    this.msiConfig = new AplicMsiConfig(cfg.msiAddresses ?? null);
    const shared: AplicShared = {
      numSources: n,
      harts: cfg.harts,
      iprioMask: (1 << bits) - 1,
      wire: (i) => this.wires[i] === 1,
      sendMsi: (level, hart, guest, eiid) => this.sendMsi(level, hart, guest, eiid),
    };
    const name = cfg.name ?? 'aplic';
    this.root = new AplicDomain(shared, 'M', null, cfg.machine.direct ?? null, cfg.machine.msi === true, IRQ_M_EXT);
    this.rootMmio = aplicRegisterTable(`${name}-m`, this.root, n, this.msiConfig);
    const s = cfg.supervisor ?? null;
    this.supervisor = s === null ? null : new AplicDomain(shared, 'S', this.root, s.direct ?? null, s.msi === true, IRQ_S_EXT);
    this.supervisorMmio = this.supervisor === null ? null : aplicRegisterTable(`${name}-s`, this.supervisor, n, null);
    for (let i = 0; i <= n; i++) this.lines.push({ set: (level: boolean) => this.setWire(i, level) });
  }

  /** The input line of `source` (1..sources-1), to hand to a device. */
  irqLine(source: number): IrqLine {
    if (!Number.isInteger(source) || source < 1 || source >= this.sources) {
      throw new RangeError(`APLIC source ${source} does not exist; valid sources are 1..${this.sources - 1}`);
    }
    return this.lines[source]!;
  }

  /** Whether the wire of source i is high. */
  wire(i: number): boolean { return this.wires[i] === 1; }

  private setWire(i: number, high: boolean): void {
    const v = high ? 1 : 0;
    if (this.wires[i] === v) return;
    const d = this.root.owner(i);
    const before = d.rectified(i);
    this.wires[i] = v;
    d.inputChanged(i, before);
  }

  private sendMsi(level: 'M' | 'S', hart: number, guest: number, eiid: number): void {
    const addr = this.msiConfig.address(level, hart, guest);
    if (this.sink === null || addr > BigInt(Number.MAX_SAFE_INTEGER)) { this.msisDropped++; return; }
    this.msisSent++;
    this.sink(Number(addr), eiid);
  }

  /**
   * What M-mode firmware does before starting an S-mode kernel (OpenSBI's APLIC init): delegates sources
   * first..last of the root domain to the supervisor domain. The VMM's builtin SBI calls this at boot.
   */
  delegateToSupervisor(first = 1, last = this.sources - 1): void {
    if (this.supervisor === null) throw new Error('APLIC: no supervisor-level domain to delegate to; configure `supervisor`');
    for (let i = Math.max(1, first); i <= Math.min(last, this.sources - 1); i++) {
      this.root.writeSourcecfg(i, APLIC_SOURCECFG_D | this.supervisor.childIndex);
    }
  }

  /** System reset: domains to their reset state, writable MSI address registers to 0; wires keep their levels. */
  reset(): void {
    this.msiConfig.reset();
    this.supervisor?.reset();
    this.root.reset();
  }
}
