// Extended interrupts of the 82576 in MSI-X mode (82576EB datasheet: interrupts, registers EICR..EIAM): one EICR bit
// per MSI-X vector. A cause (a queue's write-back routed through IVAR, the "other" causes through IVAR_MISC, or
// software through EICS) sets its vector's EICR bit; while EIMS enables it, the bit's rising edge sends the vector's
// MSI-X message, after which EIAC clears the EICR bit and, with auto-mask enabled (GPIE.EIAME on the PF, always on a
// VF), EIAM clears the EIMS bit — the driver re-enables the vector by writing EIMS when it is done (igb_ring_irq_enable,
// igbvf_poll). The PF and every VF own one of these; the VF's has three vectors.

import { MSI_DISABLED, MSI_NO_VECTOR } from '../../pci/msix.js';
import { E1000_IVAR_VALID } from './defines.js';

/** Where vectors go: the function's MSI-X (Msix.notify: MSI_* or a DMA fault code). */
export interface VectorSink {
  notify(vector: number): number;
}

export class InterruptCounters {
  /** Messages handed to MSI-X (sent or left pending in the PBA). */
  messages = 0;
  /** Vectors that could not be sent: MSI-X disabled, or the message write faulted. */
  undelivered = 0;
}

export class ExtInterrupts {
  readonly counters = new InterruptCounters();
  eicr = 0;
  eims = 0;
  eiac = 0;
  eiam = 0;
  /** EICR & EIMS as of the last evaluation: messages go out on its rising edges. */
  private level = 0;
  private readonly mask: number;

  constructor(readonly vectors: number, private readonly sink: () => VectorSink | null, private readonly autoMask: () => boolean) {
    this.mask = vectors >= 32 ? 0xffff_ffff : (1 << vectors) - 1;
  }

  /** Sets EICR bits (causes) and sends what they newly enable. */
  raise(bits: number): void {
    const b = bits & this.mask;
    if (b === 0) return;
    this.eicr |= b;
    this.evaluate();
  }

  /** Sets the EICR bit of the vector an IVAR entry names, if the entry is valid. */
  raiseEntry(entry: number): void {
    if ((entry & E1000_IVAR_VALID) === 0) return;
    const v = entry & 0x1f;
    if (v < this.vectors) this.raise(1 << v);
  }

  // guest-controlled: the register writes, masked to the implemented vectors.
  writeEics(v: number): void { this.raise(v); }
  writeEims(v: number): void { this.eims = (this.eims | v) & this.mask; this.evaluate(); }
  writeEimc(v: number): void { this.eims = this.eims & ~v & this.mask; this.evaluate(); }
  writeEiac(v: number): void { this.eiac = v & this.mask; }
  writeEiam(v: number): void { this.eiam = v & this.mask; }
  /** EICR is write-1-to-clear. */
  writeEicr(v: number): void { this.eicr = this.eicr & ~v & this.mask; this.evaluate(); }

  /** Reading EICR clears it (MSI-X mode). */
  readEicr(): number {
    const v = this.eicr;
    this.eicr = 0;
    this.evaluate();
    return v;
  }

  private evaluate(): void {
    const now = this.eicr & this.eims;
    let rising = now & ~this.level;
    this.level = now;
    if (rising === 0) return;
    const sink = this.sink();
    for (let v = 0; rising !== 0; v++, rising >>>= 1) {
      if ((rising & 1) === 0) continue;
      const bit = 1 << v;
      const r = sink === null ? MSI_DISABLED : sink.notify(v);
      if (r === MSI_DISABLED || r === MSI_NO_VECTOR || r > 0) { this.counters.undelivered++; continue; }
      this.counters.messages++;
      this.eicr &= ~(this.eiac & bit);
      if (this.autoMask()) this.eims &= ~(this.eiam & bit);
    }
    this.level = this.eicr & this.eims;
  }

  /** Whether any enabled cause is pending (INTx/MSI fallback on the PF). */
  get pending(): boolean { return (this.eicr & this.eims) !== 0; }

  reset(): void {
    this.eicr = this.eims = this.eiac = this.eiam = this.level = 0;
  }
}

/** The IVAR byte of RX (tx=false) or TX queue `q` in an 82576 PF IVAR table: column-major, 8 rows (igb_assign_vector). */
export function pfIvarEntry(ivar: Uint32Array, q: number, tx: boolean): number {
  const row = q & 7;
  const shift = ((q & 8) << 1) + (tx ? 8 : 0);
  return (ivar[row]! >>> shift) & 0xff;
}

/** The VTIVAR byte of a VF's RX or TX queue q (0 or 1): RX0 [7:0], TX0 [15:8], RX1 [23:16], TX1 [31:24] (igbvf_assign_vector). */
export function vfIvarEntry(vtivar: number, q: number, tx: boolean): number {
  return (vtivar >>> ((q & 1) * 16 + (tx ? 8 : 0))) & 0xff;
}
