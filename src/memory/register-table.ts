// Declarative register tables (ARCHITECTURE.md "Register tables"; v86's {offset, size, name, read, write}
// lists): a device declares its registers once, and this transport owns offsets and access widths, so each
// device does not decode widths its own way. The same rows give the metrics their register names and tell
// coalesced MMIO which writes have no side effects.
//
// Width rules, per table and per row, as the device's spec says:
// - an access of the register's width at its offset reaches the register;
// - wider than the register: `wide: 'split'` splits it into consecutive registers (low address first, little
//   endian: an 8-byte access to two 32-bit registers), otherwise it is refused. Each part is an access of its
//   own: a part over a hole, or one that would cover only part of a register, is refused (reads 0, write
//   dropped) while the other parts still reach their registers — also when the access starts at a hole;
// - narrower than the register (or inside it): `narrow: 'extract'` reads the register and returns the addressed
//   bytes, and a write merges the bytes into the current value (only for registers whose read has no side
//   effect); otherwise it is refused. An access that starts inside a register and ends past it is refused;
// - a refused read returns 0 and a refused write is dropped; an access counts once in `refused`, however
//   many of its parts were refused. Register handlers only ever see accesses to their own register.

import type { MmioHandler, Width } from './bus.js';

/** Which accesses change state beyond the register itself (a read that clears bits, a write that starts I/O). */
export type SideEffects = 'none' | 'read' | 'write' | 'both';

interface RegisterBase {
  readonly name: string;
  readonly offset: number;
  /** Register arrays: `count` registers at offset + i*stride (stride defaults to the width). */
  readonly count?: number;
  readonly stride?: number;
  /** The name of element i of an array (default `${name}${i}`). */
  readonly nameOf?: (index: number) => string;
  /** Default 'both': assume the worst unless the row says otherwise. */
  readonly sideEffects?: SideEffects;
  /** Accesses narrower than the register: refused (default) or extracted/merged. */
  readonly narrow?: 'refuse' | 'extract';
}

/** A register of 1, 2 or 4 bytes; values are unsigned numbers. No read: write-only (reads 0); no write: read-only. */
export interface Register32 extends RegisterBase {
  readonly width: 1 | 2 | 4;
  readonly read?: (index: number) => number;
  readonly write?: (value: number, index: number) => void;
}

/** A 64-bit register; values are bigints. */
export interface Register64 extends RegisterBase {
  readonly width: 8;
  readonly read?: (index: number) => bigint;
  readonly write?: (value: bigint, index: number) => void;
}

export type RegisterDef = Register32 | Register64;

export interface TableOptions {
  /** Accesses wider than a register: split into consecutive registers, or refuse (default). */
  wide?: 'split' | 'refuse';
}

interface Entry {
  readonly def: RegisterDef;
  readonly index: number;
  readonly offset: number;
}

/** Value masks by register width (1, 2, 4). */
const MASK = [0, 0xff, 0xffff, 0, 0xffff_ffff] as const;

/** Whether writing the register only stores the value (the default, 'both', assumes it does more). */
function plain(def: RegisterDef): boolean {
  return def.sideEffects === 'none' || def.sideEffects === 'read';
}

/** Whether reading the register changes nothing. */
function plainRead(def: RegisterDef): boolean {
  return def.sideEffects === 'none' || def.sideEffects === 'write';
}

/** A written value as an unsigned 64-bit bigint; a number is taken whole (not cut to 32 bits), NaN/Infinity as 0. */
function toU64(value: number | bigint): bigint {
  if (typeof value === 'bigint') return BigInt.asUintN(64, value);
  return Number.isFinite(value) ? BigInt.asUintN(64, BigInt(Math.trunc(value))) : 0n;
}

export class RegisterTable implements MmioHandler {
  private readonly entries = new Map<number, Entry>();
  private readonly wide: 'split' | 'refuse';
  /** Accesses that matched no register or a width the register does not take (partly or wholly). */
  refused = 0;

  constructor(readonly device: string, defs: readonly RegisterDef[], opts: TableOptions = {}) {
    this.wide = opts.wide ?? 'refuse';
    for (const def of defs) {
      const count = def.count ?? 1;
      const stride = def.stride ?? def.width;
      if (!Number.isSafeInteger(def.offset) || def.offset < 0) throw new RangeError(`${device}: register ${def.name} has a bad offset ${def.offset}`);
      if (!Number.isInteger(count) || count < 1 || !Number.isInteger(stride) || stride < def.width) throw new RangeError(`${device}: register ${def.name} has a bad count or stride`);
      if (def.narrow === 'extract' && !plainRead(def) && def.read !== undefined) {
        throw new RangeError(`${device}: register ${def.name} extracts narrow accesses but its read has side effects`);
      }
      for (let i = 0; i < count; i++) {
        const offset = def.offset + i * stride;
        for (let b = 0; b < def.width; b++) {
          if (this.entries.has(offset + b) || this.containing(offset + b) !== null) throw new RangeError(`${device}: register ${def.name} overlaps another at 0x${(offset + b).toString(16)}`);
        }
        this.entries.set(offset, { def, index: i, offset });
      }
    }
  }

  /** The register whose bytes include `offset`, or null. */
  private containing(offset: number): Entry | null {
    for (let back = 0; back < 8 && back <= offset; back++) {
      const e = this.entries.get(offset - back);
      if (e !== undefined) return back < e.def.width ? e : null;
    }
    return null;
  }

  /** The register name at `offset` (for metrics), or undefined. Array elements are always indexed, even of 1. */
  nameAt(offset: number): string | undefined {
    const e = this.containing(offset);
    if (e === null) return undefined;
    const d = e.def;
    const base = d.nameOf !== undefined ? d.nameOf(e.index) : d.count !== undefined ? `${d.name}${e.index}` : d.name;
    return e.offset === offset ? base : `${base}+${offset - e.offset}`;
  }

  /** For the metrics: a bound namer. */
  readonly registerName = (offset: number): string | undefined => this.nameAt(offset);

  /**
   * Whether a write at `offset` has no side effect beyond storing the value (may be coalesced). With `width`,
   * the write as this table would carry it out: every register it reaches must be plain, and no part of it may
   * be refused (a refused part is counted, so it is not deferred either).
   */
  writeIsPlain(offset: number, width?: Width): boolean {
    const e = this.containing(offset);
    if (width === undefined) return e !== null && plain(e.def);
    if (e !== null && offset + width <= e.offset + e.def.width) {
      return plain(e.def) && ((e.offset === offset && e.def.width === width) || e.def.narrow === 'extract');
    }
    if ((e !== null && e.offset !== offset) || this.wide !== 'split') return false;
    for (let at = 0; at < width; ) {
      const p = this.containing(offset + at);
      if (p === null || p.offset !== offset + at || at + p.def.width > width || !plain(p.def)) return false;
      at += p.def.width;
    }
    return true;
  }

  private readEntry(e: Entry): bigint {
    const d = e.def;
    if (d.read === undefined) return 0n;
    return d.width === 8 ? BigInt.asUintN(64, d.read(e.index)) : BigInt((d.read(e.index) & MASK[d.width]) >>> 0);
  }

  /** `v` must already fit the register. */
  private writeEntry(e: Entry, v: bigint): void {
    const d = e.def;
    if (d.write === undefined) return;
    if (d.width === 8) d.write(v, e.index);
    else d.write(Number(v), e.index);
  }

  // guest-controlled: any offset and width.
  read(offset: number, width: Width): number | bigint {
    const e = this.entries.get(offset);
    if (e !== undefined && e.def.width === width) { // the common case, without bigint work
      const d = e.def;
      if (d.read === undefined) return d.width === 8 ? 0n : 0;
      return d.width === 8 ? BigInt.asUintN(64, d.read(e.index)) : (d.read(e.index) & MASK[d.width]) >>> 0;
    }
    const v = this.readSlow(offset, width);
    return width === 8 ? v : Number(v);
  }

  private readSlow(offset: number, width: Width): bigint {
    const e = this.containing(offset);
    if (e !== null) {
      const w = e.def.width;
      if (offset + width <= e.offset + w) { // inside one register
        if (e.offset === offset && w === width) return this.readEntry(e);
        if (e.def.narrow !== 'extract') { this.refused++; return 0n; }
        const shift = BigInt((offset - e.offset) * 8);
        return (this.readEntry(e) >> shift) & ((1n << BigInt(width * 8)) - 1n);
      }
      if (e.offset !== offset) { this.refused++; return 0n; } // from inside a register to past its end
    }
    if (this.wide !== 'split') { this.refused++; return 0n; }
    let v = 0n;
    let refused = false;
    for (let at = 0; at < width; ) {
      const p = this.containing(offset + at);
      if (p === null) { refused = true; at++; continue; } // a hole reads 0
      const pw = p.def.width;
      if (p.offset !== offset + at || at + pw > width) { refused = true; at = Math.min(width, p.offset + pw - offset); continue; }
      v |= this.readEntry(p) << BigInt(at * 8);
      at += pw;
    }
    if (refused) this.refused++;
    return v;
  }

  // guest-controlled: any offset, width and value.
  write(offset: number, width: Width, value: number | bigint): void {
    const f = this.entries.get(offset);
    if (f !== undefined && f.def.width === width && width !== 8) { // the common case, without bigint work
      const d = f.def as Register32;
      const v = typeof value === 'bigint' ? Number(BigInt.asUintN(32, value)) : value >>> 0;
      d.write?.((v & MASK[width]) >>> 0, f.index);
      return;
    }
    const v = toU64(value);
    const e = this.containing(offset);
    if (e !== null) {
      const w = e.def.width;
      if (offset + width <= e.offset + w) { // inside one register
        const mask = (1n << BigInt(width * 8)) - 1n;
        if (e.offset === offset && w === width) { this.writeEntry(e, v & mask); return; }
        if (e.def.narrow !== 'extract') { this.refused++; return; }
        const shift = BigInt((offset - e.offset) * 8);
        this.writeEntry(e, (this.readEntry(e) & ~(mask << shift)) | ((v & mask) << shift));
        return;
      }
      if (e.offset !== offset) { this.refused++; return; }
    }
    if (this.wide !== 'split') { this.refused++; return; }
    let refused = false;
    for (let at = 0; at < width; ) {
      const p = this.containing(offset + at);
      if (p === null) { refused = true; at++; continue; }
      const pw = p.def.width;
      if (p.offset !== offset + at || at + pw > width) { refused = true; at = Math.min(width, p.offset + pw - offset); continue; }
      this.writeEntry(p, (v >> BigInt(at * 8)) & ((1n << BigInt(pw * 8)) - 1n));
      at += pw;
    }
    if (refused) this.refused++;
  }
}
