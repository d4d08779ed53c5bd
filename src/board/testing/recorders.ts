// Test doubles for the board's injected interfaces: an IrqLine and a HartIrq that record what they were told.

import type { HartIrq, IrqLine } from '../irq.js';

export class RecordingLine implements IrqLine {
  level = false;
  edges = 0;
  set(level: boolean): void {
    if (level !== this.level) this.edges++;
    this.level = level;
  }
}

export class RecordingHart implements HartIrq {
  /** mip as the controller drove it. */
  mip = 0;
  setPending(bit: number, level: boolean): void {
    if (level) this.mip |= 1 << bit; else this.mip &= ~(1 << bit);
  }
  has(bit: number): boolean { return (this.mip & (1 << bit)) !== 0; }
}

/** A Clock whose time a test sets by hand. */
export class ManualClock {
  readonly deterministic = true;
  readonly frequency = 10_000_000;
  ticks = 0;
  now(): number { return this.ticks; }
}
