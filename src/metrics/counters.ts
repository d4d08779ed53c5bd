// Metrics: counters per VM and per device region (ARCHITECTURE.md "Metrics").
// Exits are MMIO accesses to *trap* regions; *direct* accesses are counted apart because they are not
// hypervisor work. Counters are plain numbers keyed by name so reports are JSON as they stand.

import type { Region } from '../memory/bus.js';

export interface RegionCounters {
  kind: string;
  reads: number;
  writes: number;
  /** Accesses per register, keyed by register name or hex offset. */
  registers: Record<string, number>;
}

/** Distinct register keys kept per region before the rest are counted as "other". */
const MAX_REGISTER_KEYS = 256;

export class Metrics {
  /** Accesses per MMIO region name. */
  readonly regions: Record<string, RegionCounters> = {};
  /** SBI calls by extension/function name, e.g. "TIME.set_timer". */
  readonly sbiCalls: Record<string, number> = {};
  /** Interrupts injected, by source name (e.g. "plic:uart0", "mtimer", "stimecmp"). */
  readonly interrupts: Record<string, number> = {};
  exits = 0;
  instructionsRetired = 0;
  /** Virtual time, in timebase ticks, when the VM stopped. */
  virtualTicks = 0;
  /** Ticks skipped forward while every hart waited in WFI. */
  idleTicks = 0;

  countAccess(region: Region, offset: number, write: boolean): void {
    let c = this.regions[region.name];
    if (c === undefined) {
      c = { kind: region.kind, reads: 0, writes: 0, registers: {} };
      this.regions[region.name] = c;
    }
    if (write) c.writes++; else c.reads++;
    if (region.kind === 'trap') this.exits++;
    let key = region.registerNames?.[offset];
    if (key === undefined) {
      // guest-controlled: offsets with no name are keyed by hex only up to a bound, so a guest probing
      // every offset of a large window cannot grow the report without limit.
      key = `0x${offset.toString(16)}`;
      if (c.registers[key] === undefined && Object.keys(c.registers).length >= MAX_REGISTER_KEYS) key = 'other';
    }
    c.registers[key] = (c.registers[key] ?? 0) + 1;
  }

  countSbi(name: string): void { this.sbiCalls[name] = (this.sbiCalls[name] ?? 0) + 1; }
  countInterrupt(source: string): void { this.interrupts[source] = (this.interrupts[source] ?? 0) + 1; }

  toJSON(): object {
    return {
      exits: this.exits,
      instructionsRetired: this.instructionsRetired,
      virtualTicks: this.virtualTicks,
      idleTicks: this.idleTicks,
      sbiCalls: this.sbiCalls,
      interrupts: this.interrupts,
      regions: this.regions,
    };
  }
}
