// Clock: virtual time for a VM (ARCHITECTURE.md "Clock").
// Deterministic mode: time advances one tick per retired instruction
// and jumps to the next deadline when every hart waits in WFI, so the same input gives the same run.
// Realtime mode: time follows the host's monotonic clock.

import { settleFields } from '../util/settle-fields.js';

/** The `timebase-frequency` in the device tree, as on QEMU's virt board. */
export const TIMEBASE_HZ = 10_000_000;

export interface Clock {
  readonly deterministic: boolean;
  readonly frequency: number;
  /** Current time in ticks. `extra` is the number of instructions the calling hart retired in its current slice. */
  now(extra?: number): number;
}

export class DeterministicClock implements Clock {
  readonly deterministic = true;
  readonly frequency = TIMEBASE_HZ;
  /** Time at the start of the current slice, in ticks. */
  ticks = 0;
  constructor() { settleFields(this, ['ticks']); } // it passes 2^30 in a long run (util/settle-fields.ts)
  now(extra = 0): number { return this.ticks + extra; }
  advance(ticks: number): void { this.ticks += ticks; }
}

export class RealtimeClock implements Clock {
  readonly deterministic = false;
  readonly frequency = TIMEBASE_HZ;
  private readonly start = process.hrtime.bigint();
  now(): number { return Number((process.hrtime.bigint() - this.start) / 100n); }
}
