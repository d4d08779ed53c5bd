// Declarative register tables (ARCHITECTURE.md "Register tables"; v86's {offset, size, name, read, write}
// lists): a device declares its registers once, and this transport owns offsets and access widths, so each
// device does not decode widths its own way. The same rows give the metrics their register names and tell
// coalesced MMIO which writes have no side effects.
//
// Width rules, per table and per row, as the device's spec says:
// - an access of the register's width at its offset reaches the register;
// - wider than the register: `wide: 'split'` splits it into consecutive registers (low address first, little
//   endian: an 8-byte access to two 32-bit registers), otherwise it is refused;
// - narrower than the register (or inside it): `narrow: 'extract'` reads the register and returns the addressed
//   bytes, and a write merges the bytes into the current value (only for registers whose read has no side
//   effect); otherwise it is refused;
// - a refused read returns 0 and a refused write is dropped; both are counted in `refused`.

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

const MASK: Record<number, number> = { 1: 0xff, 2: 0xffff, 4: 0xffff_ffff };

export class RegisterTable implements MmioHandler {
  private readonly entries = new Map<number, Entry>();
  private readonly wide: 'split' | 'refuse';
  /** Accesses that matched no register or a width the register does not take. */
  refused = 0;

  constructor(readonly device: string, defs: readonly RegisterDef[], opts: TableOptions = {}) {
    this.wide = opts.wide ?? 'refuse';
    for (const def of defs) {
      const count = def.count ?? 1;
      const stride = def.stride ?? def.width;
      if (!Number.isInteger(count) || count < 1 || stride < def.width) throw new RangeError(`${device}: register ${def.name} has a bad count or stride`);
      if (def.narrow === 'extract' && (def.sideEffects === 'read' || def.sideEffects === 'both' || def.sideEffects === undefined) && def.read !== undefined) {
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

  /** The register name at `offset` (for metrics), or undefined. */
  nameAt(offset: number): string | undefined {
    const e = this.containing(offset);
    if (e === null) return undefined;
    const base = (e.def.count ?? 1) > 1 ? (e.def.nameOf?.(e.index) ?? `${e.def.name}${e.index}`) : e.def.name;
    return e.offset === offset ? base : `${base}+${offset - e.offset}`;
  }

  /** For the metrics: a bound namer. */
  readonly registerName = (offset: number): string | undefined => this.nameAt(offset);

  /** Whether a write at `offset` has no side effect beyond storing the value (may be coalesced). */
  writeIsPlain(offset: number): boolean {
    const e = this.containing(offset);
    return e !== null && (e.def.sideEffects === 'none' || e.def.sideEffects === 'read');
  }

  private readEntry(e: Entry): bigint | number {
    const d = e.def;
    if (d.read === undefined) return d.width === 8 ? 0n : 0;
    return d.width === 8 ? d.read(e.index) : d.read(e.index) >>> 0;
  }

  private writeEntry(e: Entry, v: bigint): void {
    const d = e.def;
    if (d.write === undefined) return;
    if (d.width === 8) d.write(BigInt.asUintN(64, v), e.index);
    else d.write(Number(v & BigInt(MASK[d.width]!)), e.index);
  }

  // guest-controlled: any offset and width.
  read(offset: number, width: Width): number | bigint {
    const e = this.entries.get(offset);
    if (e !== undefined && e.def.width === width) { // the common case, without bigint work
      const d = e.def;
      if (d.read === undefined) return d.width === 8 ? 0n : 0;
      return d.width === 8 ? d.read(e.index) : d.read(e.index) >>> 0;
    }
    const v = this.read64(offset, width);
    return width === 8 ? v : Number(v);
  }

  private read64(offset: number, width: Width): bigint {
    const e = this.containing(offset);
    if (e === null) { this.refused++; return 0n; }
    const w = e.def.width;
    if (e.offset === offset && w === width) return BigInt(this.readEntry(e));
    if (width > w && e.offset === offset) {
      if (this.wide !== 'split') { this.refused++; return 0n; }
      let v = 0n;
      for (let at = 0; at < width; ) {
        const part = this.containing(offset + at);
        let pw: number;
        if (part === null || part.offset !== offset + at) { this.refused++; pw = 1; } // a hole reads 0
        else { pw = part.def.width; if (at + pw > width) { this.refused++; break; } v |= BigInt(this.readEntry(part)) << BigInt(at * 8); }
        at += pw;
      }
      return v;
    }
    if (offset + width <= e.offset + w && e.def.narrow === 'extract') {
      const shift = BigInt((offset - e.offset) * 8);
      return (BigInt(this.readEntry(e)) >> shift) & ((1n << BigInt(width * 8)) - 1n);
    }
    this.refused++;
    return 0n;
  }

  // guest-controlled: any offset, width and value.
  write(offset: number, width: Width, value: number | bigint): void {
    const f = this.entries.get(offset);
    if (f !== undefined && f.def.width === width && width !== 8) {
      const d = f.def as Register32;
      d.write?.((typeof value === 'bigint' ? Number(BigInt.asUintN(32, value)) : value >>> 0) & MASK[width]!, f.index);
      return;
    }
    const v = typeof value === 'bigint' ? BigInt.asUintN(64, value) : BigInt(Math.trunc(value) >>> 0);
    const e = this.containing(offset);
    if (e === null) { this.refused++; return; }
    const w = e.def.width;
    if (e.offset === offset && w === width) { this.writeEntry(e, v); return; }
    if (width > w && e.offset === offset) {
      if (this.wide !== 'split') { this.refused++; return; }
      for (let at = 0; at < width; ) {
        const part = this.containing(offset + at);
        if (part === null || part.offset !== offset + at) { this.refused++; at++; continue; }
        const pw = part.def.width;
        if (at + pw > width) { this.refused++; return; }
        this.writeEntry(part, (v >> BigInt(at * 8)) & ((1n << BigInt(pw * 8)) - 1n));
        at += pw;
      }
      return;
    }
    if (offset + width <= e.offset + w && e.def.narrow === 'extract') {
      const shift = BigInt((offset - e.offset) * 8);
      const mask = ((1n << BigInt(width * 8)) - 1n) << shift;
      const cur = BigInt(this.readEntry(e));
      this.writeEntry(e, (cur & ~mask) | ((v << shift) & mask));
      return;
    }
    this.refused++;
  }
}
