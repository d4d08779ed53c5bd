// The AIA CSRs of one RV64 hart (RISC-V AIA spec, chapters "CSRs Added to Harts" and "Interrupts for Machine
// and Supervisor Levels", Smaia/Ssaia): miselect/mireg, mtopei, mtopi and siselect/sireg, stopei, stopi,
// routed to the hart's two IMSIC interrupt files. The hart registers these CSR numbers in its CSR table and
// calls readCsr/writeCsr; null/false mean "raise an illegal instruction exception".

import type { Resettable } from '../../devices/device.js';
import type { ImsicFile } from './imsic.js';

/** CSR numbers (AIA spec tables "Machine-level CSRs" and "Supervisor-level CSRs"; Linux asm/csr.h). */
export const AIA_CSRS = {
  miselect: 0x350,
  mireg: 0x351,
  mtopei: 0x35c,
  mtopi: 0xfb0,
  siselect: 0x150,
  sireg: 0x151,
  stopei: 0x15c,
  stopi: 0xdb0,
} as const;

/** Every CSR number HartAia serves, for registering into the hart's CSR table. */
export const AIA_CSR_NUMBERS: readonly number[] = Object.values(AIA_CSRS);

/** Privilege levels as the hart encodes them (mstatus.MPP): U = 0, S = 1, M = 3. */
export type Priv = 0 | 1 | 3;
export const PRIV_S: Priv = 1;
export const PRIV_M: Priv = 3;

/** iselect ranges (AIA spec): major interrupt priorities iprio0..iprio15, and the IMSIC's registers. */
export const ISELECT_IPRIO0 = 0x30;
export const ISELECT_IPRIO15 = 0x3f;
export const ISELECT_IMSIC_FIRST = 0x70;
export const ISELECT_IMSIC_LAST = 0xff;
/** *iselect is WARL; 9 bits (0..0x1ff) as recommended for siselect and required for vsiselect. */
export const ISELECT_MASK = 0x1ff;
/** *topi: IID in bits 27:16, IPRIO in bits 7:0. */
export const TOPI_IID_SHIFT = 16;

/** What HartAia reads from its hart for mtopi/stopi; the Hart class satisfies this as it is. */
export interface MajorInterrupts {
  /** The effective mip (bits 0..31 suffice on this hart). */
  mip(): number;
  readonly mie: number;
  readonly mideleg: number;
}

/**
 * Default priority order of major interrupts 0..31, highest first (AIA spec table "The standard major
 * interrupt codes, listed in default priority order", with the planned order of local interrupts 16..23);
 * interrupts the spec does not order (custom 24..31, reserved 0, 4, 8, 14, 15) come last, lowest number first.
 */
export const DEFAULT_PRIORITY_ORDER: readonly number[] = (() => {
  const listed = [23, 22, 21, 20, 11, 3, 7, 9, 1, 5, 12, 10, 2, 6, 13, 19, 18, 17, 16];
  const rest: number[] = [];
  for (let i = 0; i < 32; i++) if (!listed.includes(i)) rest.push(i);
  return [...listed, ...rest];
})();

/**
 * The `*topi` value for a set of pending-and-enabled major interrupts: the highest in default priority order,
 * with the simplified IPRIO the spec allows when the iprio array is all read-only zeros (IPRIO is always 1).
 */
export function topiOf(pendingEnabled: number): number {
  if (pendingEnabled === 0) return 0;
  for (const irq of DEFAULT_PRIORITY_ORDER) {
    if (((pendingEnabled >>> irq) & 1) !== 0) return ((irq << TOPI_IID_SHIFT) | 1) >>> 0;
  }
  return 0;
}

/** One hart's AIA CSR state: the two iselect values and the routing to its machine and supervisor files. */
export class HartAia implements Resettable {
  miselect = 0;
  siselect = 0;

  constructor(
    private readonly hart: MajorInterrupts,
    /** The hart's machine-level IMSIC file, or null on a board without IMSICs (then 0x70..0xff and mtopei trap). */
    readonly mFile: ImsicFile | null,
    /** The supervisor-level file, or null. */
    readonly sFile: ImsicFile | null,
  ) {}

  reset(): void {
    this.miselect = 0;
    this.siselect = 0;
  }

  /** Whether `num` is one of the CSRs served here. */
  static serves(num: number): boolean { return AIA_CSR_NUMBERS.includes(num); }

  /** mtopi: the highest-priority interrupt pending, enabled and not delegated (trapping to M). */
  mtopi(): number { return topiOf(this.hart.mip() & this.hart.mie & ~this.hart.mideleg); }

  /** stopi: the highest-priority interrupt pending in sip and enabled in sie (mvien is zero on this hart). */
  stopi(): number { return topiOf(this.hart.mip() & this.hart.mie & this.hart.mideleg); }

  /** The register *ireg reaches at `sel` for the file `file`: null when the access must trap. */
  private iregRead(sel: number, file: ImsicFile | null): bigint | null {
    if (sel >= ISELECT_IPRIO0 && sel <= ISELECT_IPRIO15) return (sel & 1) !== 0 ? null : 0n; // iprio: read-only 0
    if (sel >= ISELECT_IMSIC_FIRST && sel <= ISELECT_IMSIC_LAST) return file === null ? null : file.iselectRead(sel);
    return null;
  }

  private iregWrite(sel: number, file: ImsicFile | null, v: bigint): boolean {
    if (sel >= ISELECT_IPRIO0 && sel <= ISELECT_IPRIO15) return (sel & 1) === 0; // iprio: writes ignored
    if (sel >= ISELECT_IMSIC_FIRST && sel <= ISELECT_IMSIC_LAST) return file !== null && file.iselectWrite(sel, v);
    return false;
  }

  /** Reads CSR `num` at privilege `priv`; null means illegal instruction (unknown CSR, too little privilege). */
  readCsr(num: number, priv: Priv): bigint | null {
    switch (num) {
      case AIA_CSRS.miselect: return priv === PRIV_M ? BigInt(this.miselect) : null;
      case AIA_CSRS.mireg: return priv === PRIV_M ? this.iregRead(this.miselect, this.mFile) : null;
      case AIA_CSRS.mtopei: return priv === PRIV_M && this.mFile !== null ? BigInt(this.mFile.topei()) : null;
      case AIA_CSRS.mtopi: return priv === PRIV_M ? BigInt(this.mtopi()) : null;
      case AIA_CSRS.siselect: return priv >= PRIV_S ? BigInt(this.siselect) : null;
      case AIA_CSRS.sireg: return priv >= PRIV_S ? this.iregRead(this.siselect, this.sFile) : null;
      case AIA_CSRS.stopei: return priv >= PRIV_S && this.sFile !== null ? BigInt(this.sFile.topei()) : null;
      case AIA_CSRS.stopi: return priv >= PRIV_S ? BigInt(this.stopi()) : null;
      default: return null;
    }
  }

  // guest-controlled: any value from a CSR instruction. A csrrw/csrrs/csrrc is a readCsr then a writeCsr with
  // nothing in between, so a write to *topei claims exactly the identity the same instruction read.
  /** Writes CSR `num`; false means illegal instruction (unknown or read-only CSR, too little privilege). */
  writeCsr(num: number, priv: Priv, value: bigint): boolean {
    const v = BigInt.asUintN(64, value);
    switch (num) {
      case AIA_CSRS.miselect:
        if (priv !== PRIV_M) return false;
        this.miselect = Number(v & BigInt(ISELECT_MASK));
        return true;
      case AIA_CSRS.mireg: return priv === PRIV_M && this.iregWrite(this.miselect, this.mFile, v);
      case AIA_CSRS.mtopei:
        if (priv !== PRIV_M || this.mFile === null) return false;
        this.mFile.claimTopei(); // the value written is ignored
        return true;
      case AIA_CSRS.siselect:
        if (priv < PRIV_S) return false;
        this.siselect = Number(v & BigInt(ISELECT_MASK));
        return true;
      case AIA_CSRS.sireg: return priv >= PRIV_S && this.iregWrite(this.siselect, this.sFile, v);
      case AIA_CSRS.stopei:
        if (priv < PRIV_S || this.sFile === null) return false;
        this.sFile.claimTopei();
        return true;
      default: return false; // mtopi and stopi are read-only
    }
  }
}
