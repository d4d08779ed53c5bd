// ACLINT MSWI + MTIMER in the SiFive CLINT layout (riscv-aclint spec §2 MTIMER, §3 MSWI; Linux
// drivers/clocksource/timer-clint.c): msip[h] at 0x0 + 4h, mtimecmp[h] at 0x4000 + 8h, mtime at 0xbff8.
// 4- and 8-byte accesses reach mtimecmp/mtime (32-bit halves too); MSIP/MTIP drive the harts through HartIrq.

import type { MmioHandler, Width } from '../memory/bus.js';
import type { Clock } from '../host/clock.js';
import { IRQ_M_SOFT, IRQ_M_TIMER, type HartIrq } from './irq.js';
import { hi32, lo32 } from './mmio-value.js';

export const CLINT_MSIP = 0x0000;
export const CLINT_MTIMECMP = 0x4000;
export const CLINT_MTIME = 0xbff8;
export const CLINT_MMIO_SIZE = 0x10000;
/** The SiFive layout leaves room for 4095 harts. */
export const CLINT_MAX_HARTS = 4095;

const TWO32 = 0x1_0000_0000;

/** Offset -> register name for bus metrics. */
export function aclintRegisterNames(harts: number): Record<number, string> {
  const names: Record<number, string> = { [CLINT_MTIME]: 'mtime', [CLINT_MTIME + 4]: 'mtime_hi' };
  for (let h = 0; h < harts; h++) {
    names[CLINT_MSIP + 4 * h] = `msip${h}`;
    names[CLINT_MTIMECMP + 8 * h] = `mtimecmp${h}`;
    names[CLINT_MTIMECMP + 8 * h + 4] = `mtimecmp${h}_hi`;
  }
  return names;
}

export class Aclint implements MmioHandler {
  readonly registerNames: Readonly<Record<number, string>>;
  private readonly msip: Uint8Array;
  /** mtimecmp per hart as 32-bit halves (exact) and as a number for fast comparison (exact below 2^53). */
  private readonly cmpLo: Uint32Array;
  private readonly cmpHi: Uint32Array;
  private readonly cmp: Float64Array;
  private readonly mtip: Uint8Array;
  /** mtime = clock ticks + offset (set by writes to mtime). */
  private offset = 0;

  constructor(private readonly harts: readonly HartIrq[], private readonly clock: Clock) {
    if (harts.length < 1 || harts.length > CLINT_MAX_HARTS) {
      throw new RangeError(`ACLINT: ${harts.length} harts; the CLINT layout holds 1..${CLINT_MAX_HARTS}`);
    }
    const n = harts.length;
    this.registerNames = aclintRegisterNames(n);
    this.msip = new Uint8Array(n);
    this.cmpLo = new Uint32Array(n).fill(0xffff_ffff);
    this.cmpHi = new Uint32Array(n).fill(0xffff_ffff);
    this.cmp = new Float64Array(n).fill(Number.MAX_VALUE);
    this.mtip = new Uint8Array(n);
  }

  /** mtime at clock time `now`, as a number (exact below 2^53 ticks: 28 years at 10 MHz). */
  mtimeAt(now: number): number {
    const t = now + this.offset;
    return t < 0 ? t + 2 ** 64 : t;
  }

  /** Re-evaluates MTIP of every hart at clock time `now` (the scheduler calls this between slices). */
  update(now: number): void {
    const t = this.mtimeAt(now);
    for (let h = 0; h < this.cmp.length; h++) this.evalTimer(h, t);
  }

  /** Earliest clock time at which a hart's MTIP will rise; Infinity when no compare is armed. */
  nextDeadline(): number {
    let d = Infinity;
    for (let h = 0; h < this.cmp.length; h++) {
      if (this.mtip[h] !== 0) continue; // already raised: nothing new happens for this hart
      const c = this.cmp[h]!;
      if (c >= 2 ** 63) continue; // effectively never (reset value is all ones)
      d = Math.min(d, c - this.offset);
    }
    return d;
  }

  private evalTimer(h: number, mtime: number): void {
    const level = mtime >= this.cmp[h]! ? 1 : 0;
    if (level !== this.mtip[h]) {
      this.mtip[h] = level;
      this.harts[h]!.setPending(IRQ_M_TIMER, level === 1);
    }
  }

  private setCmp(h: number, hi: number, lo: number): void {
    this.cmpHi[h] = hi;
    this.cmpLo[h] = lo;
    const v = hi * TWO32 + lo;
    this.cmp[h] = hi === 0xffff_ffff && lo === 0xffff_ffff ? Number.MAX_VALUE : v;
    this.evalTimer(h, this.mtimeAt(this.clock.now()));
  }

  private mtimeHalves(): [number, number] {
    const t = this.mtimeAt(this.clock.now());
    const hi = Math.floor(t / TWO32);
    return [hi >>> 0, (t - hi * TWO32) >>> 0];
  }

  private setMtime(hi: number, lo: number): void {
    const now = this.clock.now();
    this.offset = hi * TWO32 + lo - now;
    this.update(now);
  }

  // guest-controlled: offset/width from the guest; 1/2-byte and misaligned accesses read 0 and are ignored.
  read(offset: number, width: Width): number | bigint {
    if (width < 4 || (offset & 3) !== 0) return 0;
    let lo: number;
    let hi = 0;
    if (offset < CLINT_MTIMECMP) {
      const h = (offset - CLINT_MSIP) >> 2;
      if (h >= this.msip.length) return 0;
      lo = this.msip[h]!;
      if (width === 8) hi = h + 1 < this.msip.length ? this.msip[h + 1]! : 0;
    } else if (offset === CLINT_MTIME || offset === CLINT_MTIME + 4) {
      const [mhi, mlo] = this.mtimeHalves();
      if (offset === CLINT_MTIME) { lo = mlo; hi = mhi; } else { lo = mhi; }
    } else if (offset < CLINT_MTIMECMP + 8 * this.cmp.length) {
      const h = (offset - CLINT_MTIMECMP) >> 3;
      if ((offset & 4) === 0) { lo = this.cmpLo[h]!; hi = this.cmpHi[h]!; } else { lo = this.cmpHi[h]!; }
    } else {
      return 0;
    }
    return width === 8 ? (BigInt(hi) << 32n) | BigInt(lo) : lo;
  }

  // guest-controlled: any value and width; 8-byte writes to a 4-byte register also hit the next one.
  write(offset: number, width: Width, value: number | bigint): void {
    if (width < 4 || (offset & 3) !== 0) return;
    const lo = lo32(value);
    const hi = hi32(value);
    if (offset < CLINT_MTIMECMP) {
      const h = (offset - CLINT_MSIP) >> 2;
      this.writeMsip(h, lo);
      if (width === 8) this.writeMsip(h + 1, hi);
    } else if (offset === CLINT_MTIME || offset === CLINT_MTIME + 4) {
      const [mhi, mlo] = this.mtimeHalves();
      if (offset === CLINT_MTIME) this.setMtime(width === 8 ? hi : mhi, lo);
      else this.setMtime(lo, mlo);
    } else if (offset < CLINT_MTIMECMP + 8 * this.cmp.length) {
      const h = (offset - CLINT_MTIMECMP) >> 3;
      if ((offset & 4) !== 0) this.setCmp(h, lo, this.cmpLo[h]!);
      else if (width === 8) this.setCmp(h, hi, lo);
      else this.setCmp(h, this.cmpHi[h]!, lo);
    }
  }

  private writeMsip(h: number, v: number): void {
    if (h < 0 || h >= this.msip.length) return;
    const bit = v & 1;
    if (bit !== this.msip[h]) {
      this.msip[h] = bit;
      this.harts[h]!.setPending(IRQ_M_SOFT, bit === 1);
    }
  }
}
