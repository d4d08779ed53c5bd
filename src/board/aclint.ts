// ACLINT MSWI + MTIMER in the SiFive CLINT layout (riscv-aclint spec §2 MTIMER, §3 MSWI; Linux
// drivers/clocksource/timer-clint.c): msip[h] at 0x0 + 4h, mtimecmp[h] at 0x4000 + 8h, mtime at 0xbff8.
// msip is a 32-bit register (an 8-byte access is two of them); mtime and mtimecmp are 64-bit registers that
// 32-bit halves (and smaller pieces) also reach. MSIP/MTIP drive the harts through HartIrq.

import { RegisterTable } from '../memory/register-table.js';
import type { Resettable } from '../devices/device.js';
import type { Clock } from '../host/clock.js';
import { IRQ_M_SOFT, IRQ_M_TIMER, type HartIrq } from './irq.js';

export const CLINT_MSIP = 0x0000;
export const CLINT_MTIMECMP = 0x4000;
export const CLINT_MTIME = 0xbff8;
export const CLINT_MMIO_SIZE = 0x10000;
/** The SiFive layout leaves room for 4095 harts. */
export const CLINT_MAX_HARTS = 4095;

const TWO32 = 0x1_0000_0000;

export class Aclint implements Resettable {
  /** The guest's view: msip0.., mtimecmp0.., mtime. */
  readonly mmio: RegisterTable;
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
    this.msip = new Uint8Array(n);
    this.cmpLo = new Uint32Array(n).fill(0xffff_ffff); // reset value: never
    this.cmpHi = new Uint32Array(n).fill(0xffff_ffff);
    this.cmp = new Float64Array(n).fill(Number.MAX_VALUE);
    this.mtip = new Uint8Array(n);
    // Every write raises or drops an interrupt (MSIP, MTIP), so none may be coalesced; reads change nothing.
    this.mmio = new RegisterTable('aclint', [
      { name: 'msip', offset: CLINT_MSIP, width: 4, count: n, sideEffects: 'write', read: (h) => this.msip[h]!, write: (v, h) => this.writeMsip(h, v) },
      {
        name: 'mtimecmp', offset: CLINT_MTIMECMP, width: 8, count: n, narrow: 'extract', sideEffects: 'write',
        read: (h) => (BigInt(this.cmpHi[h]!) << 32n) | BigInt(this.cmpLo[h]!),
        write: (v, h) => this.setCmp(h, Number(v >> 32n), Number(v & 0xffff_ffffn)),
      },
      {
        name: 'mtime', offset: CLINT_MTIME, width: 8, narrow: 'extract', sideEffects: 'write',
        read: () => { const [hi, lo] = this.mtimeHalves(); return (BigInt(hi) << 32n) | BigInt(lo); },
        write: (v) => this.setMtime(Number(v >> 32n), Number(v & 0xffff_ffffn)),
      },
    ], { wide: 'split' });
  }

  /**
   * Power-on state: msip clear, every mtimecmp all ones, mtime back on the VM clock (the harts' `time` CSR reads
   * that clock, so mtime follows it rather than restarting at 0 as the spec's device reset would); MSIP and MTIP
   * dropped.
   */
  reset(): void {
    this.offset = 0;
    for (let h = 0; h < this.msip.length; h++) {
      this.writeMsip(h, 0);
      this.setCmp(h, 0xffff_ffff, 0xffff_ffff);
    }
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

  // guest-controlled: v is any 32-bit value; only bit 0 is kept.
  private writeMsip(h: number, v: number): void {
    const bit = v & 1;
    if (bit !== this.msip[h]) {
      this.msip[h] = bit;
      this.harts[h]!.setPending(IRQ_M_SOFT, bit === 1);
    }
  }
}
