// ACLINT MSWI + MTIMER in the SiFive CLINT layout (riscv-aclint spec §2 MTIMER, §3 MSWI; Linux
// drivers/clocksource/timer-clint.c): msip[h] at 0x0 + 4h, mtimecmp[h] at 0x4000 + 8h, mtime at 0xbff8.
// msip is a 32-bit register (an 8-byte access is two of them); mtime and mtimecmp are 64-bit registers that
// 32-bit halves (and smaller pieces) also reach. MSIP/MTIP drive the harts through HartIrq.
//
// Time is exact over all 64 bits: mtime = (clock ticks + offset) mod 2^64 with the offset a bigint, and MTIP is
// high while mtime >= mtimecmp (unsigned, §2.1), which each compare turns into a window of clock time computed
// once per write: [start, wrap) before mtime wraps to 0 and [wrap + mtimecmp, ...) after it. So an mtime written
// above 2^53 reads back exact and a compare above 2^63 still fires.

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

const TWO64 = 1n << 64n;
const U64 = TWO64 - 1n;
const NEVER = 2 ** 63;

export class Aclint implements Resettable {
  /** The guest's view: msip0.., mtimecmp0.., mtime. */
  readonly mmio: RegisterTable;
  private readonly msip: Uint8Array;
  /** mtimecmp per hart, exact. */
  private readonly cmp: bigint[];
  /**
   * Per hart, the clock times between which MTIP is high: from `start` until `wrap` (where mtime wraps to 0),
   * and again from `restart` (= wrap + mtimecmp) on. Numbers are exact below 2^53 ticks (28 years at 10 MHz);
   * a larger one is past any clock time and only needs to compare as such.
   */
  private readonly start: Float64Array;
  private readonly restart: Float64Array;
  private wrap = 2 ** 64;
  private readonly mtip: Uint8Array;
  /** mtime = (clock ticks + offset) mod 2^64; offset in [0, 2^64), set by writes to mtime. */
  private offset = 0n;

  constructor(private readonly harts: readonly HartIrq[], private readonly clock: Clock) {
    if (harts.length < 1 || harts.length > CLINT_MAX_HARTS) {
      throw new RangeError(`ACLINT: ${harts.length} harts; the CLINT layout holds 1..${CLINT_MAX_HARTS}`);
    }
    const n = harts.length;
    this.msip = new Uint8Array(n);
    this.cmp = new Array<bigint>(n).fill(U64); // reset value: all ones
    this.start = new Float64Array(n);
    this.restart = new Float64Array(n);
    this.mtip = new Uint8Array(n);
    for (let h = 0; h < n; h++) this.window(h);
    // Every write raises or drops an interrupt (MSIP, MTIP), so none may be coalesced; reads change nothing.
    this.mmio = new RegisterTable('aclint', [
      { name: 'msip', offset: CLINT_MSIP, width: 4, count: n, sideEffects: 'write', read: (h) => this.msip[h]!, write: (v, h) => this.writeMsip(h, v) },
      {
        name: 'mtimecmp', offset: CLINT_MTIMECMP, width: 8, count: n, narrow: 'extract', sideEffects: 'write',
        read: (h) => this.cmp[h]!,
        write: (v, h) => this.setCmp(h, BigInt.asUintN(64, BigInt(v))),
      },
      {
        name: 'mtime', offset: CLINT_MTIME, width: 8, narrow: 'extract', sideEffects: 'write',
        read: () => this.mtime(this.clock.now()),
        write: (v) => this.setMtime(BigInt.asUintN(64, BigInt(v))),
      },
    ], { wide: 'split' });
  }

  /**
   * Power-on state: msip clear, every mtimecmp all ones, mtime back on the VM clock (the harts' `time` CSR reads
   * that clock, so mtime follows it rather than restarting at 0 as the spec's device reset would); MSIP and MTIP
   * dropped.
   */
  reset(): void {
    this.setOffset(0n);
    for (let h = 0; h < this.msip.length; h++) {
      this.writeMsip(h, 0);
      this.setCmp(h, U64);
    }
  }

  /** mtime at clock time `now` (an integer number of ticks), exact. */
  mtime(now: number): bigint {
    return (BigInt(now) + this.offset) & U64;
  }

  /** Re-evaluates MTIP of every hart at clock time `now` (the scheduler calls this between slices). */
  update(now: number): void {
    for (let h = 0; h < this.cmp.length; h++) this.evalTimer(h, now);
  }

  /**
   * Earliest clock time after now at which a hart's MTIP will rise; Infinity when none will before 2^63 ticks
   * (29,000 years: the reset value, all ones, is "never" at mtime 0).
   */
  nextDeadline(): number {
    const now = this.clock.now();
    let d = Infinity;
    for (let h = 0; h < this.cmp.length; h++) {
      if (this.mtip[h] !== 0) continue; // already raised: nothing new happens for this hart
      const s = this.start[h]!, r = this.restart[h]!;
      const next = s > now ? s : r > now ? r : Infinity;
      if (next < d) d = next;
    }
    return d < NEVER ? d : Infinity;
  }

  private evalTimer(h: number, now: number): void {
    const level = (now >= this.start[h]! && now < this.wrap) || now >= this.restart[h]! ? 1 : 0;
    if (level !== this.mtip[h]) {
      this.mtip[h] = level;
      this.harts[h]!.setPending(IRQ_M_TIMER, level === 1);
    }
  }

  /** Recomputes hart h's MTIP window (clock times) from its compare value and the mtime offset. */
  private window(h: number): void {
    const cmp = this.cmp[h]!;
    this.start[h] = cmp >= this.offset ? Number(cmp - this.offset) : -Infinity;
    this.restart[h] = Number(TWO64 - this.offset + cmp);
  }

  private setOffset(offset: bigint): void {
    this.offset = offset;
    this.wrap = Number(TWO64 - offset);
    for (let h = 0; h < this.cmp.length; h++) this.window(h);
  }

  // guest-controlled: any 64-bit compare value.
  private setCmp(h: number, v: bigint): void {
    this.cmp[h] = v;
    this.window(h);
    this.evalTimer(h, this.clock.now());
  }

  // guest-controlled: any 64-bit time.
  private setMtime(v: bigint): void {
    const now = this.clock.now();
    this.setOffset((v - BigInt(now)) & U64);
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
