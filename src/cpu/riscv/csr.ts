// The CSR file as a table (RISC-V privileged spec §2.1 "CSR Address Mapping Conventions", unprivileged spec §7
// Zicsr): one row per implemented CSR in a dense array indexed by CSR number, so dispatch is one array load.
// The hart fills its table with the standard rows (csr-standard.ts); an extension (the AIA's IMSIC: siselect,
// sireg, stopei, stopi, ...) registers its own rows on a hart with hart.registerCsr() without editing the hart.
//
// Access rules a CSR instruction applies, in this order, any failure being an illegal-instruction exception:
// the row exists; the privilege is at least minPriv (number bits [9:8] by default); a write needs a `write`
// (numbers with bits [11:10] = 3 are read-only and may not have one); the row's `guard` allows it.

import type { Hart } from './hart.js';

/** CSR numbers are 12 bits. */
export const CSR_COUNT = 4096;

/** The lowest privilege that may access CSR `num` by its encoding (bits [9:8]; 2 = hypervisor, i.e. M here). */
export const csrEncodedPriv = (num: number): number => (num >>> 8) & 3;
/** Whether CSR `num` is read-only by its encoding (bits [11:10] = 3). */
export const csrEncodedReadOnly = (num: number): boolean => (num >>> 10) === 3;

/** What an implementer supplies for one CSR. */
export interface CsrDef {
  /** CSR number, 0..4095. */
  readonly num: number;
  /** The spec's name (e.g. 'stopei'), for error messages and debuggers. */
  readonly name: string;
  /** Lowest privilege allowed (0 U, 1 S, 3 M). Defaults to the encoding; may raise it, never lower it. */
  readonly minPriv?: number;
  /** The current value; only its low 64 bits count (a negative bigint is fine). Must not trap or have effects. */
  readonly read: (h: Hart) => bigint;
  /** Applies a write with the CSR's WARL rules; `v` is already in 0..2^64-1. Absent: every write is illegal. */
  readonly write?: (h: Hart, v: bigint) => void;
  /**
   * A further rule for CSR instructions only (raw readCsr/writeCsr skip it): false raises illegal instruction.
   * For mstatus.FS, counteren, TVM, Sstc today; e.g. a reserved *iselect value for sireg/mireg.
   */
  readonly guard?: (h: Hart, writes: boolean) => boolean;
  /** Runs after a CSR instruction (not a raw writeCsr) wrote the CSR: F/D CSRs mark mstatus.FS dirty. */
  readonly afterInsnWrite?: (h: Hart) => void;
  /** Runs on hart.reset(), for state the row's owner keeps outside the hart (e.g. siselect). */
  readonly reset?: (h: Hart) => void;
}

/** A registered CSR, every field present so the CSR instruction path sees one object shape. */
export interface CsrRow {
  readonly num: number;
  readonly name: string;
  readonly minPriv: number;
  readonly read: (h: Hart) => bigint;
  /** null: not writable (read-only by encoding, or the implementer gave no write). */
  readonly write: ((h: Hart, v: bigint) => void) | null;
  readonly guard: ((h: Hart, writes: boolean) => boolean) | null;
  readonly afterInsnWrite: ((h: Hart) => void) | null;
}

const hex = (num: number): string => `0x${num.toString(16).padStart(3, '0')}`;

/** One hart's CSRs. */
export class CsrTable {
  /** rows[num] is the row of CSR `num`, or undefined when this hart does not implement it. Dense: 4096 slots. */
  readonly rows: (CsrRow | undefined)[] = new Array<CsrRow | undefined>(CSR_COUNT).fill(undefined);
  private readonly resets: ((h: Hart) => void)[] = [];

  /** Adds CSR `def.num`; throws when the number is taken or the definition contradicts the number's encoding. */
  register(def: CsrDef): void {
    const { num, name } = def;
    if (!Number.isInteger(num) || num < 0 || num >= CSR_COUNT) {
      throw new RangeError(`CSR ${name}: number ${num} is not a 12-bit CSR number (0..4095)`);
    }
    const taken = this.rows[num];
    if (taken !== undefined) {
      throw new Error(`CSR ${hex(num)} (${name}) is already implemented by this hart as ${taken.name}; pick another number or drop the duplicate registration`);
    }
    const encoded = csrEncodedPriv(num);
    const minPriv = def.minPriv ?? encoded;
    if (minPriv !== 0 && minPriv !== 1 && minPriv !== 3) {
      throw new RangeError(`CSR ${hex(num)} (${name}): minPriv ${minPriv} is not a privilege level (0 U, 1 S, 3 M)`);
    }
    if (minPriv < encoded) {
      throw new RangeError(`CSR ${hex(num)} (${name}): minPriv ${minPriv} is below the level its number encodes (${encoded}); the spec fixes the lowest level by bits [9:8]`);
    }
    if (def.write !== undefined && csrEncodedReadOnly(num)) {
      throw new RangeError(`CSR ${hex(num)} (${name}) is read-only by its number (bits [11:10] = 3) and cannot have a write; drop the write or use a read/write number`);
    }
    this.rows[num] = {
      num, name, minPriv, read: def.read, write: def.write ?? null, guard: def.guard ?? null,
      afterInsnWrite: def.afterInsnWrite ?? null,
    };
    if (def.reset !== undefined) this.resets.push(def.reset);
  }

  /** Raw read (tests, debuggers, the VMM): no privilege or guard check. null when not implemented. */
  read(h: Hart, num: number): bigint | null {
    const row = this.rows[num];
    return row === undefined ? null : row.read(h);
  }

  /** Raw write with the CSR's WARL rules: no privilege or guard check. false when not implemented or not writable. */
  write(h: Hart, num: number, v: bigint): boolean {
    const row = this.rows[num];
    if (row === undefined || row.write === null) return false;
    row.write(h, BigInt.asUintN(64, v));
    return true;
  }

  /** Runs every registered reset hook (hart.reset()). */
  reset(h: Hart): void {
    for (const r of this.resets) r(h);
  }
}
