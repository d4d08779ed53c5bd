// The interrupt delivery control structures of an APLIC domain in direct delivery mode (RISC-V AIA spec,
// "Interrupt delivery directly by the APLIC"): idelivery, iforce, ithreshold, topi and claimi per hart index,
// and the external-interrupt signal each hart gets from them.

import type { HartIrq } from '../irq.js';
import { APLIC_IDC_TOPI_ID_SHIFT, APLIC_TARGET_HART_IDX_SHIFT } from './aplic-regs.js';

/** What the IDCs read from their domain's sources. */
export interface IdcSources {
  readonly numSources: number;
  /** domaincfg.DM = 0 (direct delivery) and domaincfg.IE. */
  directMode(): boolean;
  enabled(): boolean;
  /** Pending and enabled (and active). */
  ready(i: number): boolean;
  /** The source's target register (hart index in bits 31:18, IPRIO in the low bits). */
  target(i: number): number;
  /** A claim of source i: clears its pending bit if its mode allows. */
  claim(i: number): void;
}

export type IdcRegister = 'idelivery' | 'iforce' | 'ithreshold';

export class AplicIdcs {
  private readonly idelivery: Uint8Array;
  private readonly iforce: Uint8Array;
  private readonly ithreshold: Uint8Array;
  /** The level each hart's input was last driven to. */
  private readonly out: Uint8Array;

  constructor(
    private readonly src: IdcSources,
    /** IDCs for hart indexes 0..count-1. */
    readonly count: number,
    private readonly iprioMask: number,
    /** The external-interrupt input of each hart index (a missing entry reaches no hart). */
    private readonly outputs: readonly HartIrq[],
    private readonly extBit: number,
  ) {
    this.idelivery = new Uint8Array(count);
    this.iforce = new Uint8Array(count);
    this.ithreshold = new Uint8Array(count);
    this.out = new Uint8Array(count);
  }

  reset(): void {
    this.idelivery.fill(0); this.iforce.fill(0); this.ithreshold.fill(0);
    this.update();
  }

  has(h: number): boolean { return Number.isInteger(h) && h >= 0 && h < this.count; }

  /** topi: (source << 16) | IPRIO of the best pending-enabled source targeting hart h under its threshold, or 0. */
  topi(h: number): number {
    if (!this.src.directMode() || !this.has(h)) return 0;
    const th = this.ithreshold[h]!;
    let best = 0;
    let bestPrio = th !== 0 ? th : this.iprioMask + 1;
    for (let i = 1; i <= this.src.numSources; i++) {
      if (!this.src.ready(i)) continue;
      const t = this.src.target(i);
      if (t >>> APLIC_TARGET_HART_IDX_SHIFT !== h) continue;
      const p = t & this.iprioMask;
      if (p < bestPrio) { bestPrio = p; best = i; } // ties: the lowest source number
    }
    return best === 0 ? 0 : ((best << APLIC_IDC_TOPI_ID_SHIFT) | bestPrio) >>> 0;
  }

  /** A read of claimi: topi, claiming that source; a zero result clears iforce. */
  claimi(h: number): number {
    if (!this.has(h)) return 0;
    const v = this.topi(h);
    if (v === 0) this.iforce[h] = 0;
    else this.src.claim(v >>> APLIC_IDC_TOPI_ID_SHIFT);
    this.update();
    return v;
  }

  read(h: number, reg: IdcRegister): number { return this.has(h) ? this[reg][h]! : 0; }

  // guest-controlled: values are masked to the implemented bits (idelivery/iforce: 0 or 1; ithreshold: IPRIOLEN).
  write(h: number, reg: IdcRegister, v: number): void {
    if (!this.has(h)) return;
    this[reg][h] = reg === 'ithreshold' ? v & this.iprioMask : v & 1;
    this.update();
  }

  /** Drives each hart: asserted when IE, idelivery, and iforce or a nonzero topi (direct mode only). */
  update(): void {
    const on = this.src.directMode() && this.src.enabled();
    for (let h = 0; h < this.count; h++) {
      const lvl = on && this.idelivery[h] === 1 && (this.iforce[h] === 1 || this.topi(h) !== 0) ? 1 : 0;
      if (lvl === this.out[h]) continue;
      this.out[h] = lvl;
      this.outputs[h]?.setPending(this.extBit, lvl === 1);
    }
  }
}
