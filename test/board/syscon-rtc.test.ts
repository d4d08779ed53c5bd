// Unit tests for the SiFive test finisher (poweroff/reboot/fail codes, access widths) and the goldfish RTC (time,
// alarm, IRQ, 32-bit-only registers, reset).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SifiveTest, type SysconExit } from '../../src/board/syscon.js';
import {
  GoldfishRtc, TIMER_TIME_LOW, TIMER_TIME_HIGH, TIMER_ALARM_LOW, TIMER_ALARM_HIGH, TIMER_IRQ_ENABLED,
  TIMER_CLEAR_ALARM, TIMER_ALARM_STATUS, TIMER_CLEAR_INTERRUPT,
} from '../../src/board/goldfish-rtc.js';
import { ManualClock, RecordingLine } from '../../src/board/testing/recorders.js';
import type { Width } from '../../src/memory/bus.js';

test('syscon: 0x5555 powers off, 0x7777 reboots, (code<<16)|0x3333 fails with the code, others do nothing', () => {
  const exits: SysconExit[] = [];
  const s = new SifiveTest((e) => exits.push(e));
  s.mmio.write(0, 4, 0x5555);
  s.mmio.write(0, 4, 0x7777);
  s.mmio.write(0, 4, (42 << 16) | 0x3333);
  s.mmio.write(0, 8, 0xffff_0000_0001_3333n);
  s.mmio.write(0, 4, 0x1234);
  s.mmio.write(4, 4, 0x5555);
  assert.deepEqual(exits, [
    { kind: 'poweroff', code: 0 }, { kind: 'reboot', code: 0 }, { kind: 'fail', code: 42 }, { kind: 'fail', code: 1 },
  ]);
  assert.equal(s.mmio.read(0, 4), 0);
  assert.equal(s.mmio.refused, 2); // the 8-byte write's upper half (no register), and offset 4
});

test('syscon widths: OpenSBI\'s 16-bit PASS/RESET stores work; bytes and other offsets never form a command', () => {
  const exits: SysconExit[] = [];
  const s = new SifiveTest((e) => exits.push(e));
  s.mmio.write(0, 2, 0x7777);
  s.mmio.write(0, 2, 0x5555);
  s.mmio.write(0, 2, 0x3333);            // a 16-bit FAIL carries no code
  assert.deepEqual(exits, [{ kind: 'reboot', code: 0 }, { kind: 'poweroff', code: 0 }, { kind: 'fail', code: 0 }]);
  exits.length = 0;
  for (const [off, width, v] of [[0, 1, 0x55], [1, 1, 0x55], [1, 2, 0x5555], [2, 2, 0x5555], [3, 1, 0x77], [4, 4, 0x5555], [8, 8, 0x5555]] as const) {
    s.mmio.write(off, width as Width, v);
  }
  assert.deepEqual(exits, []);
  s.reset();
  s.mmio.write(0, 4, 0x5555);
  assert.deepEqual(exits, [{ kind: 'poweroff', code: 0 }]);
});

function rtc(startNs = 1_700_000_000_000_000_000n) {
  const clock = new ManualClock();
  const line = new RecordingLine();
  // 100 ns per 10 MHz tick, as the VM derives epochNs from virtual time.
  const r = new GoldfishRtc(line, () => startNs + BigInt(clock.ticks) * 100n, clock);
  return { r, clock, line };
}
const readTime = (r: GoldfishRtc) => {
  const lo = r.mmio.read(TIMER_TIME_LOW, 4);
  const hi = r.mmio.read(TIMER_TIME_HIGH, 4);
  return (BigInt(hi) << 32n) | BigInt(lo);
};

test('RTC time: TIME_LOW latches TIME_HIGH; setting HIGH then LOW moves the clock', () => {
  const { r, clock } = rtc();
  assert.equal(readTime(r), 1_700_000_000_000_000_000n);
  clock.ticks = 10;
  assert.equal(readTime(r), 1_700_000_000_000_001_000n);
  const target = 0x1234_5678_9abc_def0n;
  r.mmio.write(TIMER_TIME_HIGH, 4, Number(target >> 32n));
  r.mmio.write(TIMER_TIME_LOW, 4, Number(target & 0xffff_ffffn));
  assert.equal(readTime(r), target);
  clock.ticks = 20;
  assert.equal(readTime(r), target + 1000n);
});

test('RTC alarm: fires at its time, raises the line only when enabled, cleared by CLEAR_INTERRUPT', () => {
  const start = 5_000_000_000n;
  const { r, clock, line } = rtc(start);
  const alarm = start + 1_000_000n; // 1 ms = 10000 ticks
  r.mmio.write(TIMER_ALARM_HIGH, 4, Number(alarm >> 32n));
  r.mmio.write(TIMER_ALARM_LOW, 4, Number(alarm & 0xffff_ffffn));
  assert.equal(r.mmio.read(TIMER_ALARM_STATUS, 4), 1);
  assert.equal(r.nextDeadline(), 10000);
  clock.ticks = 9999; r.update();
  assert.equal(r.mmio.read(TIMER_ALARM_STATUS, 4), 1);
  clock.ticks = 10000; r.update();
  assert.equal(r.mmio.read(TIMER_ALARM_STATUS, 4), 0);
  assert.equal(line.level, false); // IRQ not enabled yet
  r.mmio.write(TIMER_IRQ_ENABLED, 4, 1);
  assert.equal(line.level, true);
  assert.equal(r.nextDeadline(), Infinity);
  r.mmio.write(TIMER_CLEAR_INTERRUPT, 4, 1);
  assert.equal(line.level, false);
});

test('RTC alarm in the past fires at once; CLEAR_ALARM cancels', () => {
  const { r, line, clock } = rtc(1000n);
  r.mmio.write(TIMER_IRQ_ENABLED, 4, 1);
  r.mmio.write(TIMER_ALARM_HIGH, 4, 0);
  r.mmio.write(TIMER_ALARM_LOW, 4, 500);
  assert.equal(line.level, true);
  r.mmio.write(TIMER_CLEAR_INTERRUPT, 4, 1);
  r.mmio.write(TIMER_ALARM_LOW, 4, 1_000_000);
  r.mmio.write(TIMER_CLEAR_ALARM, 4, 1);
  clock.ticks = 1_000_000; r.update();
  assert.equal(line.level, false);
  assert.equal(r.mmio.read(TIMER_ALARM_LOW, 4), 1_000_000);
});

test('RTC registers take only 32-bit accesses: every other access is refused and changes nothing', () => {
  const start = 1_700_000_000_000_000_000n;
  const { r, line, clock } = rtc(start);
  r.mmio.write(TIMER_IRQ_ENABLED, 4, 1);
  r.mmio.write(TIMER_ALARM_HIGH, 4, Number((start + 5000n) >> 32n));
  r.mmio.write(TIMER_ALARM_LOW, 4, Number((start + 5000n) & 0xffff_ffffn));
  const state = () => [readTime(r), r.mmio.read(TIMER_ALARM_LOW, 4), r.mmio.read(TIMER_ALARM_HIGH, 4), r.mmio.read(TIMER_IRQ_ENABLED, 4),
    r.mmio.read(TIMER_ALARM_STATUS, 4), r.nextDeadline(), line.level];
  const before = state();
  let n = 0;
  for (let off = 0; off < 0x1000; off++) {
    for (const width of [1, 2, 4, 8] as const) {
      if (width === 4 && off % 4 === 0 && off <= TIMER_CLEAR_INTERRUPT) continue; // the registers themselves
      r.mmio.write(off, width, 0xffff_ffff_ffff_ffffn);
      assert.equal(r.mmio.read(off, width), width === 8 ? 0n : 0);
      n += 2;
    }
  }
  assert.equal(r.mmio.refused, n);
  assert.deepEqual(state(), before);
  clock.ticks = 50; r.update(); // 5000 ns later: the alarm still fires
  assert.equal(line.level, true);
});

test('RTC reset: alarm off and zero, IRQ disabled and dropped; the guest-set time is kept', () => {
  const { r, line, clock } = rtc(1000n);
  r.mmio.write(TIMER_TIME_HIGH, 4, 7);
  r.mmio.write(TIMER_TIME_LOW, 4, 0);
  r.mmio.write(TIMER_IRQ_ENABLED, 4, 1);
  r.mmio.write(TIMER_ALARM_HIGH, 4, 7);
  r.mmio.write(TIMER_ALARM_LOW, 4, 0);
  assert.equal(line.level, true);
  r.mmio.write(TIMER_ALARM_LOW, 4, 0xffff_0000);
  assert.equal(r.mmio.read(TIMER_ALARM_STATUS, 4), 1);
  r.reset();
  assert.equal(line.level, false);
  assert.deepEqual([TIMER_ALARM_LOW, TIMER_ALARM_HIGH, TIMER_IRQ_ENABLED, TIMER_ALARM_STATUS, TIMER_TIME_HIGH].map((o) => r.mmio.read(o, 4)), [0, 0, 0, 0, 0]);
  assert.equal(r.nextDeadline(), Infinity);
  clock.ticks = 10;
  assert.equal(readTime(r), (7n << 32n) + 1000n);
  r.mmio.write(TIMER_IRQ_ENABLED, 4, 1); // nothing was left pending
  assert.equal(line.level, false);
});

test('RTC register names come from the table; only ALARM_HIGH and the read-only ALARM_STATUS writes are plain', () => {
  const { r } = rtc();
  const offs = [0, 4, 8, 12, 16, 20, 24, 28, 32];
  assert.deepEqual(offs.map((o) => r.mmio.registerName(o)),
    ['TIME_LOW', 'TIME_HIGH', 'ALARM_LOW', 'ALARM_HIGH', 'IRQ_ENABLED', 'CLEAR_ALARM', 'ALARM_STATUS', 'CLEAR_INTERRUPT', undefined]);
  assert.deepEqual(offs.map((o) => r.mmio.writeIsPlain(o)), [false, false, false, true, false, false, true, false, false]);
});
