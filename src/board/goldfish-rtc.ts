// Goldfish RTC ("google,goldfish-rtc", Linux drivers/rtc/rtc-goldfish.c; Android goldfish RTC spec): a 64-bit
// nanosecond wall clock read as TIME_LOW (latches TIME_HIGH) then TIME_HIGH, and a one-shot alarm with an IRQ.
// Registers are 32-bit and only 32-bit accesses reach them (as QEMU's model: readl/writel in the driver); an 8-byte
// access is refused rather than split, since a split ALARM_LOW/ALARM_HIGH write would arm the alarm before its high
// half is set.

import { RegisterTable } from '../memory/register-table.js';
import type { Resettable } from '../devices/device.js';
import type { Clock } from '../host/clock.js';
import type { IrqLine } from './irq.js';

export const TIMER_TIME_LOW = 0x00;
export const TIMER_TIME_HIGH = 0x04;
export const TIMER_ALARM_LOW = 0x08;
export const TIMER_ALARM_HIGH = 0x0c;
export const TIMER_IRQ_ENABLED = 0x10;
export const TIMER_CLEAR_ALARM = 0x14;
export const TIMER_ALARM_STATUS = 0x18;
export const TIMER_CLEAR_INTERRUPT = 0x1c;

export const GOLDFISH_RTC_MMIO_SIZE = 0x1000;

const U64 = (1n << 64n) - 1n;

export class GoldfishRtc implements Resettable {
  /** The guest's view: the eight registers, named as in the goldfish RTC spec. */
  readonly mmio: RegisterTable;
  /** Guest-set time minus host-supplied time, in ns (mod 2^64). */
  private offset = 0n;
  private latchedHigh = 0;
  private alarmHigh = 0;
  private alarmLow = 0;
  private alarmNs = 0n;
  private alarmRunning = false;
  private irqEnabled = false;
  private irqPending = false;
  private irqLevel = false;

  /**
   * `epochNs` is the wall clock in ns since the Unix epoch; `clock` converts an alarm into a scheduler deadline
   * (both must advance together: the VM derives epochNs from the clock plus a start time).
   */
  constructor(
    private readonly irq: IrqLine,
    private readonly epochNs: () => bigint,
    private readonly clock: Clock,
  ) {
    // Writes that move the time, arm or cancel the alarm or change the IRQ are not plain; TIME_LOW's read latches.
    this.mmio = new RegisterTable('goldfish-rtc', [
      { name: 'TIME_LOW', offset: TIMER_TIME_LOW, width: 4, sideEffects: 'both', read: () => this.readTimeLow(), write: (v) => { this.setTimeBits(0n, v); this.update(); } },
      { name: 'TIME_HIGH', offset: TIMER_TIME_HIGH, width: 4, sideEffects: 'write', read: () => this.latchedHigh, write: (v) => { this.setTimeBits(32n, v); this.update(); } },
      { name: 'ALARM_LOW', offset: TIMER_ALARM_LOW, width: 4, sideEffects: 'write', read: () => this.alarmLow, write: (v) => this.armAlarm(v) },
      { name: 'ALARM_HIGH', offset: TIMER_ALARM_HIGH, width: 4, sideEffects: 'none', read: () => this.alarmHigh, write: (v) => { this.alarmHigh = v; } },
      { name: 'IRQ_ENABLED', offset: TIMER_IRQ_ENABLED, width: 4, sideEffects: 'write', read: () => this.irqEnabled ? 1 : 0, write: (v) => { this.irqEnabled = (v & 1) !== 0; this.updateIrq(); } },
      { name: 'CLEAR_ALARM', offset: TIMER_CLEAR_ALARM, width: 4, sideEffects: 'write', write: () => { this.alarmRunning = false; } },
      { name: 'ALARM_STATUS', offset: TIMER_ALARM_STATUS, width: 4, sideEffects: 'none', read: () => this.alarmRunning ? 1 : 0 },
      { name: 'CLEAR_INTERRUPT', offset: TIMER_CLEAR_INTERRUPT, width: 4, sideEffects: 'write', write: () => { this.irqPending = false; this.updateIrq(); } },
    ]);
  }

  /**
   * Power-on state of the registers: alarm disarmed and zero, IRQ disabled and not pending (line dropped), no
   * latched TIME_HIGH. The time the guest set is kept, as a battery-backed RTC (and QEMU's reset) keeps it.
   */
  reset(): void {
    this.latchedHigh = 0;
    this.alarmHigh = 0;
    this.alarmLow = 0;
    this.alarmNs = 0n;
    this.alarmRunning = false;
    this.irqEnabled = false;
    this.irqPending = false;
    this.updateIrq();
  }

  /** The guest's RTC time in ns. */
  nowNs(): bigint { return (this.epochNs() + this.offset) & U64; }

  /** Fires the alarm when its time has come (the scheduler calls this between slices; time comes from epochNs). */
  update(_now?: number): void {
    if (this.alarmRunning && this.nowNs() >= this.alarmNs) {
      this.alarmRunning = false;
      this.irqPending = true;
      this.updateIrq();
    }
  }

  /** Clock time at which the armed alarm fires; Infinity when none is armed. */
  nextDeadline(): number {
    if (!this.alarmRunning) return Infinity;
    const remainingNs = this.alarmNs - this.nowNs();
    const now = this.clock.now();
    if (remainingNs <= 0n) return now;
    return now + Math.ceil(Number(remainingNs) * this.clock.frequency / 1e9);
  }

  private updateIrq(): void {
    const level = this.irqPending && this.irqEnabled;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq.set(level);
    }
  }

  /** Replaces bits [shift+31:shift] of the RTC time by `v`, keeping the rest running. */
  private setTimeBits(shift: bigint, v: number): void {
    const cur = this.nowNs();
    const mask = 0xffff_ffffn << shift;
    const next = (cur & ~mask) | (BigInt(v >>> 0) << shift);
    this.offset = (this.offset + next - cur) & U64;
  }

  private readTimeLow(): number {
    const t = this.nowNs();
    this.latchedHigh = Number(t >> 32n);
    return Number(t & 0xffff_ffffn);
  }

  // guest-controlled: any 32-bit value; writing ALARM_LOW arms the alarm at ALARM_HIGH:ALARM_LOW.
  private armAlarm(low: number): void {
    this.alarmLow = low;
    this.alarmNs = (BigInt(this.alarmHigh) << 32n) | BigInt(low);
    this.alarmRunning = true;
    this.update();
  }
}
