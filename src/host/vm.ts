// A VM: its harts, bus, timed devices, console and metrics (ARCHITECTURE.md "Host and scheduler"). Built only
// by build-vm.ts and stepped by a Host (host.ts), which may run several VMs on one virtual timeline. A VM runs
// in rounds: each runnable hart executes one slice; the Host advances time between rounds.

import type { Hart } from '../cpu/riscv/hart.js';
import type { Clock } from './clock.js';
import { DeterministicClock } from './clock.js';
import type { Metrics } from '../metrics/counters.js';
import type { HostConsole } from './console.js';
import type { EventSource } from './event-source.js';
import type { Bus } from '../memory/bus.js';
import { settleFields } from '../util/settle-fields.js';

/** A device with its own notion of time (timer compare registers, RTC alarms). */
export interface TimedDevice {
  update(now: number): void;
  nextDeadline(): number;
}

export interface NamedTimedDevice {
  readonly name: string;
  readonly device: TimedDevice;
}

export type VmExit =
  | { kind: 'poweroff' }
  | { kind: 'reboot' }
  | { kind: 'fail'; code: number; why: string }
  | { kind: 'panic' }
  | { kind: 'timeout' }
  | { kind: 'quit' }
  | { kind: 'error'; error: Error };

/** Instructions per hart per round; also the deterministic clock's step in ticks. */
export const SLICE = 2048;
/** Timer compare values from here up mean "no timer" (Linux writes ULONG_MAX to stop its clock event). */
export const TIMER_OFF = 2 ** 62;

export interface VmParts {
  name: string;
  harts: Hart[];
  clock: Clock;
  metrics: Metrics;
  bus: Bus;
  timed: NamedTimedDevice[];
  console: HostConsole;
  sources: EventSource[];
  /** The flattened device tree the guest was given. */
  deviceTree: Uint8Array;
  /** Releases host resources (disk locks, TAP devices, files) when the VM stops. */
  closers?: (() => void)[];
}

export class Vm {
  readonly name: string;
  readonly harts: Hart[];
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly bus: Bus;
  readonly console: HostConsole;
  /** Host events for this VM (its console input, its NICs' backends). */
  readonly sources: EventSource[];
  readonly deviceTree: Uint8Array;
  private readonly closers: (() => void)[];
  exit: VmExit | null = null;
  /** Virtual time (ticks) at which the VM stopped, or -1 while it runs. */
  stoppedAt = -1;
  private timed: NamedTimedDevice[];
  private readonly sliceStart: number[];
  /** The clock when it is deterministic (advanced by the scheduler), else null. */
  private readonly det: DeterministicClock | null;
  /** Index of the hart inside run(), or -1 between slices. */
  private running = -1;
  /**
   * Modelled hypervisor cost (cost.ts) each hart still owes, in ticks: it runs that much less in its next
   * slices, and its clock reads that much later, so charged work takes guest time as it would on hardware.
   */
  private readonly owed: number[];
  /** The running hart's debt at the start of its slice, and what was charged to it during the slice. */
  private sliceOwed = 0;
  private sliceCharged = 0;
  private chargeRemainder = 0;
  /** Virtual time at which the guest printed "Kernel panic", or null. */
  private panicAt: number | null = null;
  /** Told once per device failure outside the bus (a timed device that threw). */
  onDeviceFailure: ((device: string, error: Error) => void) | null = null;

  constructor(parts: VmParts) {
    this.name = parts.name;
    this.harts = parts.harts;
    this.clock = parts.clock;
    this.metrics = parts.metrics;
    this.bus = parts.bus;
    this.timed = parts.timed;
    this.console = parts.console;
    this.sources = parts.sources;
    this.deviceTree = parts.deviceTree;
    this.closers = parts.closers ?? [];
    this.sliceStart = parts.harts.map(() => 0);
    this.owed = parts.harts.map(() => 0);
    this.det = parts.clock instanceof DeterministicClock ? parts.clock : null;
    settleFields(this, ['chargeRemainder', 'sliceCharged'], ['running', 'sliceOwed']); // util/settle-fields.ts
  }

  /** The `time` value a hart sees: deterministic time advances with the running hart's own instructions. */
  timeFor(hartIndex: number, instret: number): number {
    if (this.det !== null && hartIndex === this.running) {
      return this.det.now(this.sliceOwed + instret - this.sliceStart[hartIndex]! + this.sliceCharged);
    }
    return this.clock.now();
  }

  /**
   * Charges modelled hypervisor work of `ticks` to the running hart (or, between slices, to the first hart
   * that runs): in deterministic mode it advances that hart's virtual time. In realtime mode it is only counted.
   */
  charge(cost: number): void {
    if (this.det === null) return;
    // Costs may be fractional (a per-byte copy): whole ticks are charged, the remainder carried.
    this.chargeRemainder += cost;
    const ticks = Math.floor(this.chargeRemainder);
    if (ticks === 0) return;
    this.chargeRemainder -= ticks;
    if (this.running >= 0) { this.sliceCharged += ticks; return; }
    const i = this.harts.findIndex((h) => !h.stopped);
    if (i >= 0) this.owed[i]! += ticks;
  }

  /** Stops the VM after the current instruction (devices and SBI call this). */
  stop(exit: VmExit): void {
    if (this.exit === null) { this.exit = exit; this.stoppedAt = this.clock.now(); }
    for (const h of this.harts) h.requestExit();
  }

  /** Runs every runnable hart for one slice; returns whether any ran. */
  runRound(): boolean {
    let ran = false;
    for (let i = 0; i < this.harts.length; i++) {
      const h = this.harts[i]!;
      if (h.stopped) continue;
      if (h.waiting) {
        if (!h.wakeable()) continue; // wakeable() re-evaluates the hart's timers at the current time
        h.waiting = false;
      }
      ran = true;
      const owed = this.owed[i]!;
      if (owed >= SLICE) { this.owed[i] = owed - SLICE; continue; } // the whole slice goes to hypervisor work
      this.sliceStart[i] = h.instret;
      this.sliceOwed = owed;
      this.sliceCharged = 0;
      this.running = i;
      let retired = 0;
      try {
        retired = h.run(SLICE - owed);
      } finally {
        this.running = -1;
        // What this slice used beyond its SLICE ticks is owed by the next ones (a hart that went idle early
        // has spent its idle remainder on the charges first).
        this.owed[i] = Math.max(0, owed + retired + this.sliceCharged - SLICE);
        this.sliceOwed = 0;
        this.sliceCharged = 0;
      }
      if (this.exit !== null) break;
    }
    return ran;
  }

  /**
   * How many rounds from now cannot run an instruction of this VM: every hart is stopped, waits for an interrupt
   * it cannot take now, or owes a whole slice or more (then the fewest whole slices owed; Infinity when no hart
   * owes one). The scheduler bounds it by the next deadline (Host payOwedRounds).
   */
  owedRounds(): number {
    let k = Infinity;
    for (let i = 0; i < this.harts.length; i++) {
      const h = this.harts[i]!;
      if (h.stopped) continue;
      if (h.waiting) {
        if (h.wakeable()) return 0;
        continue;
      }
      const r = Math.floor(this.owed[i]! / SLICE);
      if (r < k) k = r;
    }
    return k;
  }

  /** Pays `rounds` whole slices of what every hart that can run owes (owedRounds() of them at most). */
  payOwed(rounds: number): void {
    for (let i = 0; i < this.harts.length; i++) {
      const h = this.harts[i]!;
      if (!h.stopped && !h.waiting) this.owed[i]! -= rounds * SLICE;
    }
  }

  /** Brings every timed device to time `now`; a device that throws is contained and dropped from the list. */
  updateDevices(now: number): void {
    for (const t of this.timed) {
      try {
        t.device.update(now);
      } catch (e) {
        this.timedFailed(t, e);
      }
    }
  }

  private timedFailed(t: NamedTimedDevice, e: unknown): void {
    const error = e instanceof Error ? e : new Error(String(e));
    this.timed = this.timed.filter((o) => o !== t);
    this.metrics.recordFailure({ device: t.name, reason: error.message, at: this.clock.now() });
    this.onDeviceFailure?.(t.name, error);
  }

  /** The earliest timer deadline after `now`; Infinity when none is armed (values from TIMER_OFF up mean "off"). */
  nextDeadline(now: number): number {
    let t = Infinity;
    const consider = (d: number) => { if (d > now && d < TIMER_OFF && d < t) t = d; };
    for (const d of this.timed) consider(d.device.nextDeadline());
    for (const h of this.harts) if (!h.stopped) consider(h.nextDeadline());
    return t;
  }

  /** After "Kernel panic" the VM runs on until the kernel's end-of-panic line (or 1 s of guest time) so the backtrace is printed. */
  panicOver(): boolean {
    if (!this.console.panicked) return false;
    const now = this.clock.now();
    this.panicAt ??= now;
    return this.console.panicEnded || now - this.panicAt >= this.clock.frequency;
  }

  /** Releases the VM's host resources (each once; errors are reported, not thrown). */
  close(): void {
    for (const c of this.closers.splice(0)) {
      try { c(); } catch (e) { process.stderr.write(`vmio: closing ${this.name}: ${(e as Error).message}\n`); }
    }
  }

  /** Runs this VM alone on a Host until it stops. */
  async run(timeoutSeconds: number | null): Promise<VmExit> {
    const { Host } = await import('./host.js');
    await new Host(this.clock, [this]).run(timeoutSeconds);
    return this.exit ?? { kind: 'error', error: new Error('run loop ended without a reason') };
  }
}
