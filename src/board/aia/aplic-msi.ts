// APLIC MSI address configuration (RISC-V AIA spec, "Machine MSI address configuration", "Supervisor MSI
// address configuration" and "Addresses and data for outgoing MSIs"): the root domain's mmsiaddrcfg(h) and
// smsiaddrcfg(h), and the address formula that turns a hart index (and guest index) into an IMSIC page address.

import {
  APLIC_xMSICFGADDRH_BAPPN_MASK, APLIC_xMSICFGADDRH_HHXS_MASK, APLIC_xMSICFGADDRH_HHXS_SHIFT, APLIC_xMSICFGADDRH_HHXW_MASK,
  APLIC_xMSICFGADDRH_HHXW_SHIFT, APLIC_xMSICFGADDRH_L, APLIC_xMSICFGADDRH_LHXS_MASK, APLIC_xMSICFGADDRH_LHXS_SHIFT,
  APLIC_xMSICFGADDRH_LHXW_MASK, APLIC_xMSICFGADDRH_LHXW_SHIFT, APLIC_xMSICFGADDR_PPN_SHIFT,
} from './aplic-regs.js';

/** The IMSIC layout an APLIC targets, in the spec's terms (fields of mmsiaddrcfgh / smsiaddrcfgh). */
export interface AplicMsiAddresses {
  /** Address of hart index 0's machine-level interrupt file (4-KiB aligned). */
  readonly mBase: number;
  /** Address of hart index 0's supervisor-level interrupt file (4-KiB aligned). */
  readonly sBase: number;
  /** LHXW: hart index bits within a group (ceil(log2(harts)) for one group). */
  readonly lhxw: number;
  /** HHXW, HHXS: group index width and position (HHXS = group shift - 24); 0 for one group. */
  readonly hhxw?: number;
  readonly hhxs?: number;
  /** LHXS of each level: log2 of the pages per hart (guest index bits); 0 without guest files. */
  readonly mLhxs?: number;
  readonly sLhxs?: number;
}

/** Hart index bits for `harts` harts in one group: ceil(log2(harts)), as Linux's IMSIC driver computes it. */
export function hartIndexBits(harts: number): number {
  let bits = 0;
  while ((1 << bits) < harts) bits++;
  return bits;
}

const ppnLo = (addr: number): number => (Math.floor(addr / 0x1000) % 0x1_0000_0000) >>> 0;
const ppnHi = (addr: number): number => Math.floor(addr / 0x1000 / 0x1_0000_0000) & APLIC_xMSICFGADDRH_BAPPN_MASK;

/** mmsiaddrcfgh's writable fields, and smsiaddrcfgh's. */
const MH_MASK = (APLIC_xMSICFGADDRH_HHXS_MASK << APLIC_xMSICFGADDRH_HHXS_SHIFT) |
  (APLIC_xMSICFGADDRH_LHXS_MASK << APLIC_xMSICFGADDRH_LHXS_SHIFT) | (APLIC_xMSICFGADDRH_HHXW_MASK << APLIC_xMSICFGADDRH_HHXW_SHIFT) |
  (APLIC_xMSICFGADDRH_LHXW_MASK << APLIC_xMSICFGADDRH_LHXW_SHIFT) | APLIC_xMSICFGADDRH_BAPPN_MASK;
const SH_MASK = (APLIC_xMSICFGADDRH_LHXS_MASK << APLIC_xMSICFGADDRH_LHXS_SHIFT) | APLIC_xMSICFGADDRH_BAPPN_MASK;

/**
 * The four MSI address registers of the root domain. Given `hardwired` addresses they are preset and locked
 * (L = 1, still readable), as the spec recommends; otherwise they reset to 0 and are writable until software
 * sets L (OpenSBI programs them from the IMSIC nodes of the device tree).
 */
export class AplicMsiConfig {
  mcfg = 0;
  mcfgh = 0;
  scfg = 0;
  scfgh = 0;

  constructor(private readonly hardwired: AplicMsiAddresses | null = null) {
    this.reset();
  }

  reset(): void {
    const h = this.hardwired;
    if (h === null) { this.mcfg = this.mcfgh = this.scfg = this.scfgh = 0; return; }
    const f = (v: number | undefined, mask: number, shift: number): number => ((v ?? 0) & mask) << shift;
    this.mcfg = ppnLo(h.mBase);
    this.mcfgh = (APLIC_xMSICFGADDRH_L | f(h.hhxs, APLIC_xMSICFGADDRH_HHXS_MASK, APLIC_xMSICFGADDRH_HHXS_SHIFT) |
      f(h.mLhxs, APLIC_xMSICFGADDRH_LHXS_MASK, APLIC_xMSICFGADDRH_LHXS_SHIFT) |
      f(h.hhxw, APLIC_xMSICFGADDRH_HHXW_MASK, APLIC_xMSICFGADDRH_HHXW_SHIFT) |
      f(h.lhxw, APLIC_xMSICFGADDRH_LHXW_MASK, APLIC_xMSICFGADDRH_LHXW_SHIFT) | ppnHi(h.mBase)) >>> 0;
    this.scfg = ppnLo(h.sBase);
    this.scfgh = (f(h.sLhxs, APLIC_xMSICFGADDRH_LHXS_MASK, APLIC_xMSICFGADDRH_LHXS_SHIFT) | ppnHi(h.sBase)) >>> 0;
  }

  get locked(): boolean { return (this.mcfgh & APLIC_xMSICFGADDRH_L) !== 0; }

  // guest-controlled: 32-bit register values; every field is WARL and fully writable until L is set.
  writeMcfg(v: number): void { if (!this.locked) this.mcfg = v >>> 0; }
  writeMcfgh(v: number): void { if (!this.locked) this.mcfgh = ((v & MH_MASK) | (v & APLIC_xMSICFGADDRH_L)) >>> 0; }
  writeScfg(v: number): void { if (!this.locked) this.scfg = v >>> 0; }
  writeScfgh(v: number): void { if (!this.locked) this.scfgh = (v & SH_MASK) >>> 0; }

  /**
   * The MSI address for `hartIndex` at machine level (`guest` ignored) or supervisor level (machine-level
   * hart index = supervisor-level hart index on this APLIC), per the spec's formula; a bigint since Base PPN has
   * 44 bits.
   */
  address(level: 'M' | 'S', hartIndex: number, guest: number): bigint {
    const field = (shift: number, mask: number): number => (this.mcfgh >>> shift) & mask;
    const lhxw = field(APLIC_xMSICFGADDRH_LHXW_SHIFT, APLIC_xMSICFGADDRH_LHXW_MASK);
    const hhxw = field(APLIC_xMSICFGADDRH_HHXW_SHIFT, APLIC_xMSICFGADDRH_HHXW_MASK);
    const hhxs = field(APLIC_xMSICFGADDRH_HHXS_SHIFT, APLIC_xMSICFGADDRH_HHXS_MASK);
    const hi = level === 'M' ? this.mcfgh : this.scfgh;
    const lhxs = (hi >>> APLIC_xMSICFGADDRH_LHXS_SHIFT) & APLIC_xMSICFGADDRH_LHXS_MASK;
    const basePpn = (BigInt(hi & APLIC_xMSICFGADDRH_BAPPN_MASK) << 32n) | BigInt((level === 'M' ? this.mcfg : this.scfg) >>> 0);
    const g = BigInt((hartIndex >>> lhxw) & ((1 << hhxw) - 1));
    const h = BigInt(hartIndex & ((1 << lhxw) - 1));
    let ppn = basePpn | (g << BigInt(hhxs + 12)) | (h << BigInt(lhxs));
    if (level === 'S') ppn |= BigInt(guest);
    return ppn << BigInt(APLIC_xMSICFGADDR_PPN_SHIFT);
  }
}
