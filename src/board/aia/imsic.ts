// IMSIC interrupt files (RISC-V AIA spec, chapter "Incoming MSI Controller"; Linux
// drivers/irqchip/irq-riscv-imsic-state.c): eip/eie arrays, eidelivery, eithreshold, *topei claim, the
// indirect registers behind *iselect/*ireg (RV64 view) and the 4-KiB MMIO page that receives MSIs.

import type { MmioHandler, Width } from '../../memory/bus.js';
import { RegisterTable } from '../../memory/register-table.js';
import type { Resettable } from '../../devices/device.js';
import type { HartIrq } from '../irq.js';

// Names as in include/linux/irqchip/riscv-imsic.h.
export const IMSIC_MMIO_PAGE_SHIFT = 12;
export const IMSIC_MMIO_PAGE_SZ = 1 << IMSIC_MMIO_PAGE_SHIFT;
export const IMSIC_MMIO_SETIPNUM_LE = 0x00;
export const IMSIC_MMIO_SETIPNUM_BE = 0x04;
export const IMSIC_MIN_ID = 63;
export const IMSIC_MAX_ID = 2047;
export const IMSIC_EIDELIVERY = 0x70;
export const IMSIC_EITHRESHOLD = 0x72;
export const IMSIC_EIP0 = 0x80;
export const IMSIC_EIP63 = 0xbf;
export const IMSIC_EIE0 = 0xc0;
export const IMSIC_EIE63 = 0xff;
/** *topei: identity in bits 26:16, priority (= identity) in bits 10:0. */
export const TOPEI_ID_SHIFT = 16;
export const TOPEI_ID_MASK = 0x7ff;

/** Identities per file on QEMU virt (VIRT_IRQCHIP_NUM_MSIS): the DT's riscv,num-ids. */
export const VIRT_IMSIC_NUM_IDS = 255;

/** eidelivery values (spec "External interrupt delivery enable register"); 0x40000000 is not supported. */
export const EIDELIVERY_DISABLED = 0;
export const EIDELIVERY_ENABLED = 1;

/** Number of identities the spec allows: 64k-1 for k = 1..32 (63, 127, ... 2047). */
export function validNumIds(n: number): boolean {
  return Number.isInteger(n) && n >= IMSIC_MIN_ID && n <= IMSIC_MAX_ID && (n & 63) === 63;
}

const bswap32 = (v: number): number =>
  (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;

/**
 * One interrupt file (machine or supervisor level of one hart). Drives `bit` (IRQ_M_EXT or IRQ_S_EXT) of its
 * hart, only on changes, when eidelivery = 1 and a pending-and-enabled identity passes eithreshold.
 */
export class ImsicFile implements Resettable {
  /** Pending and enable bits of identities 0..numIds (bit 0 of word 0 never set), 32 per word. */
  private readonly eip: Uint32Array;
  private readonly eie: Uint32Array;
  private eidelivery = EIDELIVERY_DISABLED;
  private eithreshold = 0;
  private signalled = false;
  /** Valid MSIs received through the page (or setPending), and claims through *topei. */
  msis = 0;
  claims = 0;
  /** The file's 4-KiB MMIO page (seteipnum_le, seteipnum_be; everything else reads 0). */
  readonly page: RegisterTable;

  constructor(
    private readonly hart: HartIrq,
    /** The mip bit this file drives: IRQ_M_EXT (machine level) or IRQ_S_EXT (supervisor level). */
    readonly bit: number,
    readonly numIds = VIRT_IMSIC_NUM_IDS,
    readonly name = 'imsic',
  ) {
    if (!validNumIds(numIds)) throw new RangeError(`${name}: ${numIds} identities; an IMSIC file has 64k-1 of them, 63..2047`);
    const words = (numIds + 1) >>> 5;
    this.eip = new Uint32Array(words);
    this.eie = new Uint32Array(words);
    this.page = new RegisterTable(name, [
      { name: 'seteipnum_le', offset: IMSIC_MMIO_SETIPNUM_LE, width: 4, sideEffects: 'write', write: (v) => this.setPending(v) },
      { name: 'seteipnum_be', offset: IMSIC_MMIO_SETIPNUM_BE, width: 4, sideEffects: 'write', write: (v) => this.setPending(bswap32(v)) },
    ]);
  }

  reset(): void {
    this.eip.fill(0);
    this.eie.fill(0);
    this.eidelivery = EIDELIVERY_DISABLED;
    this.eithreshold = 0;
    this.update();
  }

  // guest-controlled: any 32-bit value (an MSI's data, or a store to the page); invalid identities are ignored.
  /** seteipnum: sets the pending bit of identity `id` when 1 <= id <= numIds. */
  setPending(id: number): void {
    if (!Number.isInteger(id) || id < 1 || id > this.numIds) return;
    this.eip[id >>> 5]! |= 1 << (id & 31);
    this.msis++;
    this.update();
  }

  isPending(id: number): boolean { return id >= 1 && id <= this.numIds && (this.eip[id >>> 5]! & (1 << (id & 31))) !== 0; }
  isEnabled(id: number): boolean { return id >= 1 && id <= this.numIds && (this.eie[id >>> 5]! & (1 << (id & 31))) !== 0; }

  /** The lowest pending-and-enabled identity below eithreshold (when nonzero), or 0. */
  topId(): number {
    const limit = this.eithreshold !== 0 ? Math.min(this.eithreshold, this.numIds + 1) : this.numIds + 1;
    for (let w = 0; w < this.eip.length; w++) {
      const bits = this.eip[w]! & this.eie[w]!;
      if (bits === 0) continue;
      const id = w * 32 + (31 - Math.clz32(bits & -bits));
      return id < limit ? id : 0;
    }
    return 0;
  }

  /** *topei value: (identity << 16) | identity, or 0. Not affected by eidelivery. */
  topei(): number {
    const id = this.topId();
    return id === 0 ? 0 : ((id << TOPEI_ID_SHIFT) | id) >>> 0;
  }

  /** A write to *topei: clears the pending bit of the identity *topei reports; returns that *topei value. */
  claimTopei(): number {
    const v = this.topei();
    if (v === 0) return 0;
    const id = v >>> TOPEI_ID_SHIFT;
    this.eip[id >>> 5]! &= ~(1 << (id & 31));
    this.claims++;
    this.update();
    return v;
  }

  /** Whether the file currently asserts its hart's external interrupt. */
  get asserted(): boolean { return this.signalled; }

  private update(): void {
    const lvl = this.eidelivery === EIDELIVERY_ENABLED && this.topId() !== 0;
    if (lvl === this.signalled) return;
    this.signalled = lvl;
    this.hart.setPending(this.bit, lvl);
  }

  /** The 64-bit eip/eie register k (even) of `arr`: identities 32k..32k+63. */
  private read64(arr: Uint32Array, k: number): bigint {
    const lo = arr[k] ?? 0;
    const hi = arr[k + 1] ?? 0;
    return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  }

  private write64(arr: Uint32Array, k: number, v: bigint): void {
    if (k < arr.length) arr[k] = Number(v & 0xffff_ffffn) & (k === 0 ? ~1 : ~0); // identity 0 does not exist
    if (k + 1 < arr.length) arr[k + 1] = Number((v >> 32n) & 0xffff_ffffn);
  }

  /**
   * Indirect read through *ireg with *iselect = `sel` (RV64). Returns null when the access must raise an illegal
   * instruction exception (odd eip/eie numbers, selects outside 0x70..0xff); reserved 0x71, 0x73..0x7f read 0.
   */
  iselectRead(sel: number): bigint | null {
    if (sel === IMSIC_EIDELIVERY) return BigInt(this.eidelivery);
    if (sel === IMSIC_EITHRESHOLD) return BigInt(this.eithreshold);
    if (sel >= IMSIC_EIDELIVERY && sel < IMSIC_EIP0) return 0n;
    if (sel >= IMSIC_EIP0 && sel <= IMSIC_EIE63) {
      if ((sel & 1) !== 0) return null;
      return sel <= IMSIC_EIP63 ? this.read64(this.eip, sel - IMSIC_EIP0) : this.read64(this.eie, sel - IMSIC_EIE0);
    }
    return null;
  }

  // guest-controlled: any select and value from the hart's CSR instruction.
  /** Indirect write; false when the access must raise an illegal instruction exception. */
  iselectWrite(sel: number, value: bigint): boolean {
    const v = BigInt.asUintN(64, value);
    if (sel === IMSIC_EIDELIVERY) {
      this.eidelivery = Number(v & 1n); // WARL: only 0 and 1 are supported
    } else if (sel === IMSIC_EITHRESHOLD) {
      this.eithreshold = Number(v & BigInt(TOPEI_ID_MASK)); // WLRL: holds 0..2047, which covers 0..numIds
    } else if (sel >= IMSIC_EIDELIVERY && sel < IMSIC_EIP0) {
      return true; // reserved: writes ignored
    } else if (sel >= IMSIC_EIP0 && sel <= IMSIC_EIE63) {
      if ((sel & 1) !== 0) return false;
      if (sel <= IMSIC_EIP63) this.write64(this.eip, sel - IMSIC_EIP0, v);
      else this.write64(this.eie, sel - IMSIC_EIE0, v);
    } else {
      return false;
    }
    this.update();
    return true;
  }
}

/**
 * The MMIO pages of several interrupt files laid out one per 4 KiB (QEMU virt: hart h's supervisor file at
 * 0x2800_0000 + h * 4 KiB), as one region handler. Pages past the last file read 0 and ignore writes.
 */
export class ImsicPages implements MmioHandler {
  constructor(readonly files: readonly ImsicFile[]) {}

  get size(): number { return this.files.length * IMSIC_MMIO_PAGE_SZ; }

  // guest-controlled: any offset and width; the file's register table refuses all but aligned 32-bit accesses.
  read(offset: number, width: Width): number | bigint {
    const f = this.files[Math.floor(offset / IMSIC_MMIO_PAGE_SZ)];
    if (f === undefined) return width === 8 ? 0n : 0;
    return f.page.read(offset % IMSIC_MMIO_PAGE_SZ, width);
  }

  write(offset: number, width: Width, value: number | bigint): void {
    this.files[Math.floor(offset / IMSIC_MMIO_PAGE_SZ)]?.page.write(offset % IMSIC_MMIO_PAGE_SZ, width, value);
  }

  /** Register names for the metrics ("imsic-s.1:seteipnum_le"). */
  readonly registerName = (offset: number): string | undefined => {
    const i = Math.floor(offset / IMSIC_MMIO_PAGE_SZ);
    const n = this.files[i]?.page.nameAt(offset % IMSIC_MMIO_PAGE_SZ);
    return n === undefined ? undefined : `${i}:${n}`;
  };
}
