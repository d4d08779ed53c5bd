// Goldfish RTC ("google,goldfish-rtc", Linux drivers/rtc/rtc-goldfish.c; Android goldfish RTC spec): a 64-bit
// nanosecond wall clock read as TIME_LOW (latches TIME_HIGH) then TIME_HIGH, and a one-shot alarm with an IRQ.

import type { MmioHandler, Width } from '../memory/bus.js';
import type { Clock } from '../host/clock.js';
import type { IrqLine } from './irq.js';
import { join64, lo32 } from './mmio-value.js';

export const TIMER_TIME_LOW = 0x00;
export const TIMER_TIME_HIGH = 0x04;
export const TIMER_ALARM_LOW = 0x08;
export const TIMER_ALARM_HIGH = 0x0c;
export const TIMER_IRQ_ENABLED = 0x10;
export const TIMER_CLEAR_ALARM = 0x14;
export const TIMER_ALARM_STATUS = 0x18;
export const TIMER_CLEAR_INTERRUPT = 0x1c;

export const GOLDFISH_RTC_MMIO_SIZE = 0x1000;

export const goldfishRtcRegisterNames: Readonly<Record<number, string>> = {
  [TIMER_TIME_LOW]: 'TIME_LOW', [TIMER_TIME_HIGH]: 'TIME_HIGH', [TIMER_ALARM_LOW]: 'ALARM_LOW',
  [TIMER_ALARM_HIGH]: 'ALARM_HIGH', [TIMER_IRQ_ENABLED]: 'IRQ_ENABLED', [TIMER_CLEAR_ALARM]: 'CLEAR_ALARM',
  [TIMER_ALARM_STATUS]: 'ALARM_STATUS', [TIMER_CLEAR_INTERRUPT]: 'CLEAR_INTERRUPT',
};

const U64 = (1n << 64n) - 1n;

export class GoldfishRtc implements MmioHandler {
  readonly registerNames = goldfishRtcRegisterNames;
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
  ) {}

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

  // guest-controlled: offset/width from the guest; registers are 32-bit, others read 0.
  read(offset: number, _width: Width): number {
    switch (offset) {
      case TIMER_TIME_LOW: {
        const t = this.nowNs();
        this.latchedHigh = Number(t >> 32n);
        return Number(t & 0xffff_ffffn);
      }
      case TIMER_TIME_HIGH: return this.latchedHigh;
      case TIMER_ALARM_LOW: return this.alarmLow;
      case TIMER_ALARM_HIGH: return this.alarmHigh;
      case TIMER_IRQ_ENABLED: return this.irqEnabled ? 1 : 0;
      case TIMER_ALARM_STATUS: return this.alarmRunning ? 1 : 0;
      default: return 0;
    }
  }

  // guest-controlled: any value; writing ALARM_LOW arms the alarm at ALARM_HIGH:ALARM_LOW.
  write(offset: number, _width: Width, value: number | bigint): void {
    const v = lo32(value);
    switch (offset) {
      case TIMER_TIME_LOW: this.setTimeBits(0n, v); this.update(); return;
      case TIMER_TIME_HIGH: this.setTimeBits(32n, v); this.update(); return;
      case TIMER_ALARM_HIGH: this.alarmHigh = v; return;
      case TIMER_ALARM_LOW:
        this.alarmLow = v;
        this.alarmNs = join64(this.alarmHigh, v);
        this.alarmRunning = true;
        this.update();
        return;
      case TIMER_IRQ_ENABLED: this.irqEnabled = (v & 1) !== 0; this.updateIrq(); return;
      case TIMER_CLEAR_ALARM: this.alarmRunning = false; return;
      case TIMER_CLEAR_INTERRUPT: this.irqPending = false; this.updateIrq(); return;
      default: return;
    }
  }
}
