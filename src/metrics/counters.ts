// Metrics: counters per VM, the VM's modelled hypervisor cost (cost.ts), per region, per DMA space and per interrupt line (ARCHITECTURE.md "Metrics").
// Each counted thing owns its counter object, handed out at registration, so two regions (or two functions'
// "bar0") can never merge their counts. Exits are MMIO accesses of an exit class other than 'direct'; direct
// accesses are counted apart because they are not hypervisor work. Reports are plain JSON.

import { settleFields } from '../util/settle-fields.js';
import { CostMeter, COST_OFF, EXIT_COST, type CostProfile } from './cost.js';

/** How an MMIO access is accounted (ARCHITECTURE.md "Bus / regions"). */
export type ExitClass =
  /** A trap into the user-space device model (QEMU-style): the most expensive exit. */
  | 'user'
  /** A trap handled inside the hypervisor (an in-kernel device model, e.g. KVM's irqchip). */
  | 'kernel'
  /** A paravirtual doorbell (ioeventfd-style): an exit that only signals, with no emulation. */
  | 'notify'
  /** Assigned hardware: the access reaches the device without leaving the guest. Not an exit. */
  | 'direct';

export const EXIT_CLASSES: readonly ExitClass[] = ['user', 'kernel', 'notify', 'direct'];

/** Distinct register offsets kept per region before the rest are counted as "other". */
export const MAX_REGISTER_KEYS = 256;

/** Resolves a register offset to its name for reports (a device's register table). */
export type RegisterNamer = (offset: number) => string | undefined;

/** The counters of one MMIO region: accesses by direction, by exit class and by register. */
export class RegionCounters {
  reads = 0;
  writes = 0;
  /** Accesses by exit class (a region may mix classes by sub-range). */
  readonly byClass: Record<ExitClass, number> = { user: 0, kernel: 0, notify: 0, direct: 0 };
  /** Accesses the device did not take (bad width, failed device). */
  refused = 0;
  /** Times the device threw and was marked broken. */
  failures = 0;
  /** 32-bit DMA writes other devices made into this region (MSIs into an interrupt file). Not exits. */
  dmaWrites = 0;
  /** Accesses per register offset (bounded: see MAX_REGISTER_KEYS). */
  private readonly perOffset = new Map<number, number>();
  private otherRegisters = 0;

  /** Modelled cost of the accesses, in guest-instruction equivalents. */
  cost = 0;

  constructor(readonly name: string, readonly exitClass: ExitClass, private readonly namer: RegisterNamer | null, private readonly meter: CostMeter) {}

  /** Counts one access and charges its exit class's cost. */
  count(offset: number, write: boolean, cls: ExitClass): void {
    if (write) this.writes++; else this.reads++;
    this.byClass[cls]++;
    this.cost += this.meter.charge(EXIT_COST[cls]);
    const m = this.perOffset;
    const n = m.get(offset);
    // guest-controlled: a guest probing every offset of a large window cannot grow the report without limit.
    if (n !== undefined) m.set(offset, n + 1);
    else if (m.size < MAX_REGISTER_KEYS) m.set(offset, 1);
    else this.otherRegisters++;
  }

  /** Accesses that were exits (every class but direct). */
  get exits(): number { return this.byClass.user + this.byClass.kernel + this.byClass.notify; }

  /** Accesses per register name (hex offset when the device names none). */
  registers(): Record<string, number> {
    const out: Record<string, number> = {};
    const offsets = [...this.perOffset.keys()].sort((a, b) => a - b);
    for (const off of offsets) {
      const key = this.namer?.(off) ?? `0x${off.toString(16)}`;
      out[key] = (out[key] ?? 0) + this.perOffset.get(off)!;
    }
    if (this.otherRegisters > 0) out['other'] = this.otherRegisters;
    return out;
  }

  toJSON(): RegionReport {
    return {
      kind: this.exitClass, reads: this.reads, writes: this.writes, byClass: this.byClass,
      refused: this.refused, failures: this.failures, dmaWrites: this.dmaWrites, cost: this.cost, registers: this.registers(),
    };
  }
}

/** One region's counters as reported. */
export interface RegionReport {
  kind: ExitClass;
  reads: number;
  writes: number;
  byClass: Record<ExitClass, number>;
  refused: number;
  failures: number;
  dmaWrites: number;
  cost: number;
  registers: Record<string, number>;
}

/** The counters of one DMA space (a device function's view of memory). */
export class DmaCounters {
  reads = 0;
  writes = 0;
  bytesRead = 0;
  bytesWritten = 0;
  /** Accesses refused: outside the space, translation or permission faults, bus mastering off. */
  faults = 0;
  /** Message-signalled interrupts written through this space. */
  msis = 0;
  constructor(readonly name: string) {}
  toJSON(): object {
    return { reads: this.reads, writes: this.writes, bytesRead: this.bytesRead, bytesWritten: this.bytesWritten, faults: this.faults, msis: this.msis };
  }
}

/** A named counter of interrupt assertions (rising edges of a wired line, MSIs, timer interrupts). */
export class InterruptCounter {
  count = 0;
  constructor(readonly name: string) {}
}

/** A device marked broken after it failed (threw, or found its guest-visible state unrecoverable). */
export interface DeviceFailure {
  device: string;
  reason: string;
  /** Virtual time of the failure in ticks, or -1 when unknown. */
  at: number;
}

function uniqueName<T>(map: Map<string, T>, name: string, what: string): void {
  if (map.has(name)) throw new RangeError(`${what} '${name}' is already registered in this VM; names must be unique`);
}

export class Metrics {
  /** The VM's modelled hypervisor cost, under the profile the wiring point picked (default: off). */
  readonly cost: CostMeter;

  constructor(profile: CostProfile = COST_OFF) {
    this.cost = new CostMeter(profile);
    settleFields(this, ['instructionsRetired', 'virtualTicks', 'idleTicks']); // counts that pass 2^30 (util/settle-fields.ts)
  }
  /** SBI calls by extension/function name, e.g. "TIME.set_timer". */
  readonly sbiCalls: Record<string, number> = {};
  instructionsRetired = 0;
  /** Virtual time, in timebase ticks, when the VM stopped. */
  virtualTicks = 0;
  /** Ticks skipped forward while every hart waited in WFI. */
  idleTicks = 0;
  readonly failures: DeviceFailure[] = [];
  private readonly regionCounters = new Map<string, RegionCounters>();
  private readonly dmaCounters = new Map<string, DmaCounters>();
  private readonly irqCounters = new Map<string, InterruptCounter>();
  /** Device-level reports (per-queue virtio counters, NIC counters, backend ports), read when metrics are written. */
  private readonly deviceReports = new Map<string, () => unknown>();

  /** A fresh counter object for a region; the name must be unique in this VM. */
  region(name: string, exitClass: ExitClass, namer: RegisterNamer | null): RegionCounters {
    uniqueName(this.regionCounters, name, 'MMIO region');
    const c = new RegionCounters(name, exitClass, namer, this.cost);
    this.regionCounters.set(name, c);
    return c;
  }

  dma(name: string): DmaCounters {
    uniqueName(this.dmaCounters, name, 'DMA space');
    const c = new DmaCounters(name);
    this.dmaCounters.set(name, c);
    return c;
  }

  /** The counter of interrupt source `name` (shared by everyone who asks for the same name). */
  interrupt(name: string): InterruptCounter {
    let c = this.irqCounters.get(name);
    if (c === undefined) { c = new InterruptCounter(name); this.irqCounters.set(name, c); }
    return c;
  }

  /** Counts an SBI call (the RISC-V hypercall) and charges it. */
  /** Registers a device's own counters under `name` (unique per VM); `report` is called when metrics are written. */
  device(name: string, report: () => unknown): void {
    uniqueName(this.deviceReports, name, 'device report');
    this.deviceReports.set(name, report);
  }

  countSbi(name: string): void { this.sbiCalls[name] = (this.sbiCalls[name] ?? 0) + 1; this.cost.charge('hypercall'); }
  countInterrupt(source: string): void { this.interrupt(source).count++; }

  recordFailure(f: DeviceFailure): void {
    if (this.failures.length < 1000) this.failures.push(f);
  }

  /** Exits of every region (MMIO accesses of a class other than direct). */
  get exits(): number {
    let n = 0;
    for (const c of this.regionCounters.values()) n += c.exits;
    return n;
  }

  regionCountersOf(name: string): RegionCounters | undefined { return this.regionCounters.get(name); }

  /** Region counters by name, as reported. */
  get regions(): Record<string, RegionReport> {
    const out: Record<string, RegionReport> = {};
    for (const [k, c] of this.regionCounters) out[k] = c.toJSON();
    return out;
  }

  get interrupts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, c] of this.irqCounters) if (c.count > 0) out[k] = c.count;
    return out;
  }

  toJSON(): object {
    const dma: Record<string, object> = {};
    for (const [k, c] of this.dmaCounters) dma[k] = c.toJSON();
    const devices: Record<string, unknown> = {};
    for (const [k, r] of this.deviceReports) devices[k] = r();
    return {
      exits: this.exits,
      instructionsRetired: this.instructionsRetired,
      virtualTicks: this.virtualTicks,
      idleTicks: this.idleTicks,
      sbiCalls: this.sbiCalls,
      interrupts: this.interrupts,
      regions: this.regions,
      dma,
      devices,
      failures: this.failures,
      cost: this.cost,
    };
  }
}
