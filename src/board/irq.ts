// Small injected interrupt interfaces (ARCHITECTURE.md "Interrupts"): a device raises an IrqLine and never
// sees the controller; a controller drives a hart's interrupt-pending bits through HartIrq.

/** A wired interrupt line from a device to a controller input (level-triggered). */
export interface IrqLine {
  set(level: boolean): void;
}

/** mip bit numbers (RISC-V privileged spec §3.1.9). */
export const IRQ_S_SOFT = 1;
export const IRQ_M_SOFT = 3;
export const IRQ_S_TIMER = 5;
export const IRQ_M_TIMER = 7;
export const IRQ_S_EXT = 9;
export const IRQ_M_EXT = 11;

/** What an interrupt controller needs from a hart: drive one of its mip bits from outside. */
export interface HartIrq {
  setPending(bit: number, level: boolean): void;
}

/** A controller of wired interrupt lines (the PLIC, or the APLIC): interchangeable at the wiring point. */
export interface WiredIrqChip {
  /** Number of sources including the reserved source 0. */
  readonly sources: number;
  /** The input line of `source` (1..sources-1), to hand to a device. */
  irqLine(source: number): IrqLine;
}

/** Something that counts events (an InterruptCounter from the metrics). */
export interface EventCounter {
  count: number;
}

/** Wraps a line so each assertion (rising edge) is counted: interrupt counting is done once, at the wiring point. */
export function countedLine(line: IrqLine, counter: EventCounter, onAssert: (() => void) | null = null): IrqLine {
  let level = false;
  return {
    set(l: boolean): void {
      if (l && !level) { counter.count++; onAssert?.(); }
      level = l;
      line.set(l);
    },
  };
}

/** Wraps a hart's interrupt input so assertions of the given mip bits are counted (e.g. MTIP, MSIP from the ACLINT). */
export function countedHartIrq(hart: HartIrq, counters: Readonly<Partial<Record<number, EventCounter>>>): HartIrq {
  let levels = 0;
  return {
    setPending(bit: number, level: boolean): void {
      const m = 1 << bit;
      if (level && (levels & m) === 0) { const c = counters[bit]; if (c !== undefined) c.count++; }
      levels = level ? levels | m : levels & ~m;
      hart.setPending(bit, level);
    },
  };
}
