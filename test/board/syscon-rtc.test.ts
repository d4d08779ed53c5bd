// Unit tests for the SiFive test finisher (poweroff/reboot/fail codes) and the goldfish RTC (time, alarm, IRQ).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SifiveTest, type SysconExit } from '../../src/board/syscon.js';
import {
  GoldfishRtc, TIMER_TIME_LOW, TIMER_TIME_HIGH, TIMER_ALARM_LOW, TIMER_ALARM_HIGH, TIMER_IRQ_ENABLED,
  TIMER_CLEAR_ALARM, TIMER_ALARM_STATUS, TIMER_CLEAR_INTERRUPT,
} from '../../src/board/goldfish-rtc.js';
import { ManualClock, RecordingLine } from '../../src/board/testing/recorders.js';

test('syscon: 0x5555 powers off, 0x7777 reboots, (code<<16)|0x3333 fails with the code, others do nothing', () => {
  const exits: SysconExit[] = [];
  const s = new SifiveTest((e) => exits.push(e));
  s.write(0, 4, 0x5555);
  s.write(0, 4, 0x7777);
  s.write(0, 4, (42 << 16) | 0x3333);
  s.write(0, 8, 0xffff_0000_0001_3333n);
  s.write(0, 4, 0x1234);
  s.write(4, 4, 0x5555);
  assert.deepEqual(exits, [
    { kind: 'poweroff', code: 0 }, { kind: 'reboot', code: 0 }, { kind: 'fail', code: 42 }, { kind: 'fail', code: 1 },
  ]);
  assert.equal(s.read(0, 4), 0);
});

function rtc(startNs = 1_700_000_000_000_000_000n) {
  const clock = new ManualClock();
  const line = new RecordingLine();
  // 100 ns per 10 MHz tick, as the VM derives epochNs from virtual time.
  const r = new GoldfishRtc(line, () => startNs + BigInt(clock.ticks) * 100n, clock);
  return { r, clock, line };
}
const readTime = (r: GoldfishRtc) => {
  const lo = r.read(TIMER_TIME_LOW, 4);
  const hi = r.read(TIMER_TIME_HIGH, 4);
  return (BigInt(hi) << 32n) | BigInt(lo);
};

test('RTC time: TIME_LOW latches TIME_HIGH; setting HIGH then LOW moves the clock', () => {
  const { r, clock } = rtc();
  assert.equal(readTime(r), 1_700_000_000_000_000_000n);
  clock.ticks = 10;
  assert.equal(readTime(r), 1_700_000_000_000_001_000n);
  const target = 0x1234_5678_9abc_def0n;
  r.write(TIMER_TIME_HIGH, 4, Number(target >> 32n));
  r.write(TIMER_TIME_LOW, 4, Number(target & 0xffff_ffffn));
  assert.equal(readTime(r), target);
  clock.ticks = 20;
  assert.equal(readTime(r), target + 1000n);
});

test('RTC alarm: fires at its time, raises the line only when enabled, cleared by CLEAR_INTERRUPT', () => {
  const start = 5_000_000_000n;
  const { r, clock, line } = rtc(start);
  const alarm = start + 1_000_000n; // 1 ms = 10000 ticks
  r.write(TIMER_ALARM_HIGH, 4, Number(alarm >> 32n));
  r.write(TIMER_ALARM_LOW, 4, Number(alarm & 0xffff_ffffn));
  assert.equal(r.read(TIMER_ALARM_STATUS, 4), 1);
  assert.equal(r.nextDeadline(), 10000);
  clock.ticks = 9999; r.update();
  assert.equal(r.read(TIMER_ALARM_STATUS, 4), 1);
  clock.ticks = 10000; r.update();
  assert.equal(r.read(TIMER_ALARM_STATUS, 4), 0);
  assert.equal(line.level, false); // IRQ not enabled yet
  r.write(TIMER_IRQ_ENABLED, 4, 1);
  assert.equal(line.level, true);
  assert.equal(r.nextDeadline(), Infinity);
  r.write(TIMER_CLEAR_INTERRUPT, 4, 1);
  assert.equal(line.level, false);
});

test('RTC alarm in the past fires at once; CLEAR_ALARM cancels', () => {
  const { r, line, clock } = rtc(1000n);
  r.write(TIMER_IRQ_ENABLED, 4, 1);
  r.write(TIMER_ALARM_HIGH, 4, 0);
  r.write(TIMER_ALARM_LOW, 4, 500);
  assert.equal(line.level, true);
  r.write(TIMER_CLEAR_INTERRUPT, 4, 1);
  r.write(TIMER_ALARM_LOW, 4, 1_000_000);
  r.write(TIMER_CLEAR_ALARM, 4, 1);
  clock.ticks = 1_000_000; r.update();
  assert.equal(line.level, false);
  assert.equal(r.read(TIMER_ALARM_LOW, 4), 1_000_000);
  for (let off = 0; off < 0x1000; off += 1) { r.write(off, 4, 0xffff_ffff); r.read(off, 8); }
});
