// Unit tests for the ACLINT (CLINT layout): MSIP, mtimecmp compare with 64-bit and 32-bit accesses, mtime writes,
// access widths, register names, reset.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Aclint, CLINT_MSIP, CLINT_MTIME, CLINT_MTIMECMP } from '../../src/board/aclint.js';
import { IRQ_M_SOFT, IRQ_M_TIMER } from '../../src/board/irq.js';
import { ManualClock, RecordingHart } from '../../src/board/testing/recorders.js';
import { seededRandom } from '../../src/board/testing/random.js';

function make(n = 2) {
  const harts = Array.from({ length: n }, () => new RecordingHart());
  const clock = new ManualClock();
  return { a: new Aclint(harts, clock), harts, clock };
}

test('msip drives MSIP per hart; only bit 0 is kept', () => {
  const { a, harts } = make();
  a.mmio.write(CLINT_MSIP + 4, 4, 0xffff_ffff);
  assert.equal(harts[1]!.has(IRQ_M_SOFT), true);
  assert.equal(harts[0]!.has(IRQ_M_SOFT), false);
  assert.equal(a.mmio.read(CLINT_MSIP + 4, 4), 1);
  a.mmio.write(CLINT_MSIP + 4, 4, 2);
  assert.equal(harts[1]!.has(IRQ_M_SOFT), false);
  a.mmio.write(CLINT_MSIP + 4 * 7, 4, 1); // no hart 7: ignored
  assert.equal(a.mmio.read(CLINT_MSIP + 4 * 7, 4), 0);
});

test('mtimecmp resets to all ones; 64-bit compare raises and clears MTIP', () => {
  const { a, harts, clock } = make();
  assert.equal(a.mmio.read(CLINT_MTIMECMP, 8), 0xffff_ffff_ffff_ffffn);
  assert.equal(a.nextDeadline(), Infinity);
  a.mmio.write(CLINT_MTIMECMP, 8, 1000n);
  assert.equal(a.nextDeadline(), 1000);
  clock.ticks = 999; a.update(999);
  assert.equal(harts[0]!.has(IRQ_M_TIMER), false);
  clock.ticks = 1000; a.update(1000);
  assert.equal(harts[0]!.has(IRQ_M_TIMER), true);
  assert.equal(harts[1]!.has(IRQ_M_TIMER), false);
  assert.equal(a.nextDeadline(), Infinity); // hart 0 already fired, hart 1 unarmed
  a.mmio.write(CLINT_MTIMECMP, 8, 5000n); // writing a later compare clears MTIP at once
  assert.equal(harts[0]!.has(IRQ_M_TIMER), false);
  assert.equal(a.nextDeadline(), 5000);
});

test('32-bit halves of mtimecmp (the RV32 sequence: hi=~0, lo, hi)', () => {
  const { a, harts, clock } = make(1);
  clock.ticks = 0x1_0000_0010;
  a.mmio.write(CLINT_MTIMECMP + 4, 4, 0xffff_ffff);
  a.mmio.write(CLINT_MTIMECMP, 4, 0x20);
  assert.equal(harts[0]!.has(IRQ_M_TIMER), false);
  a.mmio.write(CLINT_MTIMECMP + 4, 4, 1);
  assert.equal(a.mmio.read(CLINT_MTIMECMP, 8), 0x1_0000_0020n);
  assert.equal(a.mmio.read(CLINT_MTIMECMP + 4, 4), 1);
  assert.equal(a.mmio.read(CLINT_MTIMECMP, 4), 0x20);
  assert.equal(a.nextDeadline(), 0x1_0000_0020);
  a.mmio.write(CLINT_MTIMECMP, 4, 0x10);
  assert.equal(harts[0]!.has(IRQ_M_TIMER), true);
});

test('mtime reads the clock; writes set an offset that moves compares and deadlines', () => {
  const { a, harts, clock } = make(1);
  clock.ticks = 12345;
  assert.equal(a.mmio.read(CLINT_MTIME, 8), 12345n);
  assert.equal(a.mmio.read(CLINT_MTIME, 4), 12345);
  assert.equal(a.mmio.read(CLINT_MTIME + 4, 4), 0);
  a.mmio.write(CLINT_MTIME, 8, 0x2_0000_0000n);
  assert.equal(a.mmio.read(CLINT_MTIME + 4, 4), 2);
  clock.ticks = 12445;
  assert.equal(a.mmio.read(CLINT_MTIME, 8), 0x2_0000_0064n);
  a.mmio.write(CLINT_MTIMECMP, 8, 0x2_0000_0100n);
  assert.equal(a.nextDeadline(), 12345 + 0x100);
  a.update(12345 + 0x100);
  assert.equal(harts[0]!.has(IRQ_M_TIMER), true);
});

test('widths: msip is 32-bit (8 bytes split over two harts, narrower refused); mtime/mtimecmp also in pieces', () => {
  const { a, harts, clock } = make(3);
  a.mmio.write(CLINT_MSIP, 8, 0x1_0000_0000n);         // msip0 = 0, msip1 = 1
  assert.equal(harts[0]!.has(IRQ_M_SOFT), false);
  assert.equal(harts[1]!.has(IRQ_M_SOFT), true);
  assert.equal(a.mmio.read(CLINT_MSIP, 8), 0x1_0000_0000n);
  assert.equal(a.mmio.refused, 0);
  assert.equal(a.mmio.read(CLINT_MSIP + 4, 1), 0);      // msip1 is 1, but a byte read is refused
  assert.equal(a.mmio.read(CLINT_MSIP + 4, 2), 0);
  a.mmio.write(CLINT_MSIP + 4, 1, 0);                    // and a byte write does not clear it
  assert.equal(harts[1]!.has(IRQ_M_SOFT), true);
  assert.equal(a.mmio.read(CLINT_MSIP + 2, 4), 0);      // misaligned
  assert.equal(a.mmio.read(CLINT_MSIP + 4 * 3, 4), 0);  // no hart 3
  a.mmio.write(CLINT_MSIP + 4 * 3, 4, 1);
  assert.equal(a.mmio.refused, 6);

  a.mmio.write(CLINT_MTIMECMP + 8, 8, 0x1122_3344_5566_7788n);
  assert.equal(a.mmio.read(CLINT_MTIMECMP + 8, 1), 0x88);
  assert.equal(a.mmio.read(CLINT_MTIMECMP + 8 + 2, 2), 0x5566);
  assert.equal(a.mmio.read(CLINT_MTIMECMP + 8 + 7, 1), 0x11);
  a.mmio.write(CLINT_MTIMECMP + 8 + 7, 1, 0);           // a byte merges into the compare value
  assert.equal(a.mmio.read(CLINT_MTIMECMP + 8, 8), 0x0022_3344_5566_7788n);
  assert.equal(a.nextDeadline(), 0x0022_3344_5566_7788);
  assert.equal(a.mmio.read(CLINT_MTIMECMP + 4, 8), 0n);  // from inside mtimecmp0 into mtimecmp1: refused
  assert.equal(a.mmio.refused, 7);

  clock.ticks = 0x1234_5678_9a;
  assert.equal(a.mmio.read(CLINT_MTIME + 4, 1), 0x12);
  assert.equal(a.mmio.read(CLINT_MTIME, 2), 0x789a);
  assert.equal(a.mmio.refused, 7);
});

test('register names come from the table', () => {
  const { a } = make(2);
  assert.deepEqual([CLINT_MSIP, CLINT_MSIP + 4, CLINT_MSIP + 8, CLINT_MTIMECMP, CLINT_MTIMECMP + 12, CLINT_MTIME, CLINT_MTIME + 4].map((o) => a.mmio.registerName(o)),
    ['msip0', 'msip1', undefined, 'mtimecmp0', 'mtimecmp1+4', 'mtime', 'mtime+4']);
  assert.equal(make(1).a.mmio.registerName(CLINT_MTIMECMP), 'mtimecmp0');
  // Every write raises or drops an interrupt: nothing may be coalesced.
  assert.equal([CLINT_MSIP, CLINT_MTIMECMP, CLINT_MTIME].some((o) => a.mmio.writeIsPlain(o)), false);
});

test('reset: msip clear, mtimecmp all ones, mtime back on the clock, MSIP and MTIP dropped', () => {
  const { a, harts, clock } = make(2);
  clock.ticks = 5000;
  a.mmio.write(CLINT_MSIP + 4, 4, 1);
  a.mmio.write(CLINT_MTIME, 8, 0x10_0000n);
  a.mmio.write(CLINT_MTIMECMP, 8, 100n);
  assert.equal(harts[0]!.has(IRQ_M_TIMER), true);
  assert.equal(harts[1]!.has(IRQ_M_SOFT), true);
  a.reset();
  assert.equal(harts[0]!.mip, 0);
  assert.equal(harts[1]!.mip, 0);
  assert.equal(a.mmio.read(CLINT_MSIP + 4, 4), 0);
  assert.equal(a.mmio.read(CLINT_MTIMECMP, 8), 0xffff_ffff_ffff_ffffn);
  assert.equal(a.mmio.read(CLINT_MTIMECMP + 8, 8), 0xffff_ffff_ffff_ffffn);
  assert.equal(a.mmio.read(CLINT_MTIME, 8), 5000n);
  assert.equal(a.nextDeadline(), Infinity);
  a.mmio.write(CLINT_MTIMECMP + 8, 8, 6000n);            // and it works again
  assert.equal(a.nextDeadline(), 6000);
});

test('garbage accesses never throw; the ACLINT still works afterwards', () => {
  const { a, harts, clock } = make(3);
  const rnd = seededRandom(99);
  for (let i = 0; i < 5000; i++) {
    const off = rnd() % 2 === 0 ? rnd() % 0x10000 : [CLINT_MSIP, CLINT_MTIMECMP, CLINT_MTIME][rnd() % 3]! + (rnd() % 24);
    const width = ([1, 2, 4, 8] as const)[rnd() % 4]!;
    if (off + width > 0x10000) continue;
    if (rnd() & 1) a.mmio.write(off, width, (BigInt(rnd()) << 32n) | BigInt(rnd()));
    else a.mmio.read(off, width);
  }
  assert.ok(a.mmio.refused > 1000);
  a.reset();
  clock.ticks = 10;
  a.mmio.write(CLINT_MTIMECMP + 16, 8, 10n);
  assert.equal(harts[2]!.has(IRQ_M_TIMER), true);
  a.mmio.write(CLINT_MSIP, 4, 1);
  assert.equal(harts[0]!.has(IRQ_M_SOFT), true);
  assert.throws(() => new Aclint([], new ManualClock()), RangeError);
});

test('mtime is exact over 64 bits: a value above 2^53 reads back to the last bit and keeps counting', () => {
  const { a, clock } = make(1);
  clock.ticks = 1000;
  const big = 0x0123_4567_89ab_cdefn;
  assert.notEqual(BigInt(Number(big)), big, 'the oracle can fail: the value rounds as a double');
  a.mmio.write(CLINT_MTIME, 8, big);
  assert.equal(a.mmio.read(CLINT_MTIME, 8), big);
  clock.ticks = 1003;
  assert.equal(a.mmio.read(CLINT_MTIME, 8), big + 3n);
  assert.equal(a.mmio.read(CLINT_MTIME, 4), Number((big + 3n) & 0xffff_ffffn));
  // The halves written separately (hi then lo) land exactly too.
  a.mmio.write(CLINT_MTIME + 4, 4, 0xfedc_ba98);
  a.mmio.write(CLINT_MTIME, 4, 0x7654_3211);
  assert.equal(a.mmio.read(CLINT_MTIME, 8), 0xfedc_ba98_7654_3211n);
});

test('the timer fires when mtime >= mtimecmp above 2^63 (unsigned), and after mtime wraps', () => {
  const { a, harts, clock } = make(1);
  clock.ticks = 50;
  a.mmio.write(CLINT_MTIME, 8, 1n << 63n);
  a.mmio.write(CLINT_MTIMECMP, 8, (1n << 63n) + 100n);
  assert.equal(harts[0]!.has(IRQ_M_TIMER), false);
  assert.equal(a.nextDeadline(), 150);
  clock.ticks = 149; a.update(149);
  assert.equal(harts[0]!.has(IRQ_M_TIMER), false);
  clock.ticks = 150; a.update(150);
  assert.equal(harts[0]!.has(IRQ_M_TIMER), true, 'mtime = 2^63 + 100 >= mtimecmp');
  // A compare below mtime's value (unsigned) fires at once, even with bit 63 set on mtime only.
  a.mmio.write(CLINT_MTIMECMP, 8, 5n);
  assert.equal(harts[0]!.has(IRQ_M_TIMER), true);
  // mtime = all ones - 9: MTIP is high (cmp all ones - 5 passes after 4 ticks), drops when mtime wraps to 0,
  // and rises again once the wrapped mtime reaches a small compare.
  a.mmio.write(CLINT_MTIMECMP, 8, 0xffff_ffff_ffff_fffan);
  a.mmio.write(CLINT_MTIME, 8, 0xffff_ffff_ffff_fff6n);
  assert.equal(harts[0]!.has(IRQ_M_TIMER), false);
  assert.equal(a.nextDeadline(), clock.ticks + 4);
  a.update(clock.ticks + 4);
  assert.equal(harts[0]!.has(IRQ_M_TIMER), true);
  a.update(clock.ticks + 10); // mtime wrapped to 0
  assert.equal(harts[0]!.has(IRQ_M_TIMER), false);
  clock.ticks += 10;
  a.mmio.write(CLINT_MTIMECMP, 8, 3n);
  assert.equal(a.mmio.read(CLINT_MTIME, 8), 0n);
  assert.equal(harts[0]!.has(IRQ_M_TIMER), false);
  assert.equal(a.nextDeadline(), clock.ticks + 3);
  a.update(clock.ticks + 3);
  assert.equal(harts[0]!.has(IRQ_M_TIMER), true);
});
