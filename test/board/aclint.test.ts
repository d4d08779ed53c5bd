// Unit tests for the ACLINT (CLINT layout): MSIP, mtimecmp compare with 64-bit and 32-bit accesses, mtime writes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Aclint, CLINT_MSIP, CLINT_MTIME, CLINT_MTIMECMP } from '../../src/board/aclint.js';
import { IRQ_M_SOFT, IRQ_M_TIMER } from '../../src/board/irq.js';
import { ManualClock, RecordingHart } from '../../src/board/testing/recorders.js';

function make(n = 2) {
  const harts = Array.from({ length: n }, () => new RecordingHart());
  const clock = new ManualClock();
  return { a: new Aclint(harts, clock), harts, clock };
}

test('msip drives MSIP per hart; only bit 0 is kept', () => {
  const { a, harts } = make();
  a.write(CLINT_MSIP + 4, 4, 0xffff_ffff);
  assert.equal(harts[1]!.has(IRQ_M_SOFT), true);
  assert.equal(harts[0]!.has(IRQ_M_SOFT), false);
  assert.equal(a.read(CLINT_MSIP + 4, 4), 1);
  a.write(CLINT_MSIP + 4, 4, 2);
  assert.equal(harts[1]!.has(IRQ_M_SOFT), false);
  a.write(CLINT_MSIP + 4 * 7, 4, 1); // no hart 7: ignored
  assert.equal(a.read(CLINT_MSIP + 4 * 7, 4), 0);
});

test('mtimecmp resets to all ones; 64-bit compare raises and clears MTIP', () => {
  const { a, harts, clock } = make();
  assert.equal(a.read(CLINT_MTIMECMP, 8), 0xffff_ffff_ffff_ffffn);
  assert.equal(a.nextDeadline(), Infinity);
  a.write(CLINT_MTIMECMP, 8, 1000n);
  assert.equal(a.nextDeadline(), 1000);
  clock.ticks = 999; a.update(999);
  assert.equal(harts[0]!.has(IRQ_M_TIMER), false);
  clock.ticks = 1000; a.update(1000);
  assert.equal(harts[0]!.has(IRQ_M_TIMER), true);
  assert.equal(harts[1]!.has(IRQ_M_TIMER), false);
  assert.equal(a.nextDeadline(), Infinity); // hart 0 already fired, hart 1 unarmed
  a.write(CLINT_MTIMECMP, 8, 5000n); // writing a later compare clears MTIP at once
  assert.equal(harts[0]!.has(IRQ_M_TIMER), false);
  assert.equal(a.nextDeadline(), 5000);
});

test('32-bit halves of mtimecmp (the RV32 sequence: hi=~0, lo, hi)', () => {
  const { a, harts, clock } = make(1);
  clock.ticks = 0x1_0000_0010;
  a.write(CLINT_MTIMECMP + 4, 4, 0xffff_ffff);
  a.write(CLINT_MTIMECMP, 4, 0x20);
  assert.equal(harts[0]!.has(IRQ_M_TIMER), false);
  a.write(CLINT_MTIMECMP + 4, 4, 1);
  assert.equal(a.read(CLINT_MTIMECMP, 8), 0x1_0000_0020n);
  assert.equal(a.read(CLINT_MTIMECMP + 4, 4), 1);
  assert.equal(a.read(CLINT_MTIMECMP, 4), 0x20);
  assert.equal(a.nextDeadline(), 0x1_0000_0020);
  a.write(CLINT_MTIMECMP, 4, 0x10);
  assert.equal(harts[0]!.has(IRQ_M_TIMER), true);
});

test('mtime reads the clock; writes set an offset that moves compares and deadlines', () => {
  const { a, harts, clock } = make(1);
  clock.ticks = 12345;
  assert.equal(a.read(CLINT_MTIME, 8), 12345n);
  assert.equal(a.read(CLINT_MTIME, 4), 12345);
  assert.equal(a.read(CLINT_MTIME + 4, 4), 0);
  a.write(CLINT_MTIME, 8, 0x2_0000_0000n);
  assert.equal(a.read(CLINT_MTIME + 4, 4), 2);
  clock.ticks = 12445;
  assert.equal(a.read(CLINT_MTIME, 8), 0x2_0000_0064n);
  a.write(CLINT_MTIMECMP, 8, 0x2_0000_0100n);
  assert.equal(a.nextDeadline(), 12345 + 0x100);
  a.update(12345 + 0x100);
  assert.equal(harts[0]!.has(IRQ_M_TIMER), true);
});

test('garbage accesses never throw and narrow accesses read 0', () => {
  const { a } = make(3);
  let seed = 99;
  const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0);
  for (let i = 0; i < 5000; i++) {
    const off = rnd() % 0x10000;
    const width = ([1, 2, 4, 8] as const)[rnd() % 4]!;
    if (off + width > 0x10000) continue;
    if (rnd() & 1) a.write(off, width, (BigInt(rnd()) << 32n) | BigInt(rnd()));
    else a.read(off, width);
  }
  assert.equal(a.read(CLINT_MSIP, 1), 0);
  assert.throws(() => new Aclint([], new ManualClock()), RangeError);
});
