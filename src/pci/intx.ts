// Legacy INTx routing (PCI 3.0 §2.2.6, PCI-to-PCI Bridge 1.2 §9.1): the virt board wires INTA..INTD of the root bus
// to four consecutive interrupt sources, swizzled by slot, and functions that share a source are wire-ORed (a line
// drops only when every function driving it has deasserted).

import type { IrqLine } from '../board/irq.js';
import type { InterruptPin } from './device.js';

/** Number of INTx lines (INTA..INTD). */
export const PCI_NUM_PINS = 4;

/** Which of the host bridge's lines (0..3) a function's pin (1..4 = INTA..INTD) reaches: the standard swizzle. */
export function swizzle(slot: number, pin: InterruptPin): number {
  if (pin === 0) throw new RangeError('interrupt pin 0 means the function has no INTx');
  return (pin - 1 + slot) % PCI_NUM_PINS;
}

/** A level line driven by several inputs; the output is asserted while any input is. */
export class WiredOr {
  private asserted = 0;
  constructor(private readonly out: IrqLine) {}

  /** A new input, initially deasserted. */
  input(): IrqLine {
    let level = false;
    return {
      set: (l: boolean) => {
        if (l === level) return;
        level = l;
        const before = this.asserted > 0;
        this.asserted += l ? 1 : -1;
        const after = this.asserted > 0;
        if (before !== after) this.out.set(after);
      },
    };
  }

  get level(): boolean { return this.asserted > 0; }
}

/** A line that goes nowhere (a board without wired interrupts for PCI). */
export const NO_LINE: IrqLine = { set: () => {} };
