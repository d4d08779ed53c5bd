// Unit tests for the PLIC: priorities, thresholds, claim/complete, level-triggered gateways, contexts per hart,
// access widths, register names, reset.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Plic, CONTEXT_BASE, CONTEXT_SIZE, CONTEXT_CLAIM, CONTEXT_ENABLE_BASE, CONTEXT_ENABLE_SIZE, PENDING_BASE } from '../../src/board/plic.js';
import { IRQ_M_EXT, IRQ_S_EXT, type WiredIrqChip } from '../../src/board/irq.js';
import { RecordingHart } from '../../src/board/testing/recorders.js';
import { seededRandom } from '../../src/board/testing/random.js';

function make(nHarts = 1) {
  const harts = Array.from({ length: nHarts }, () => new RecordingHart());
  const p = new Plic(harts);
  return { p, harts };
}
const pending = (p: Plic) => [0, 1, 2].map((w) => p.mmio.read(PENDING_BASE + 4 * w, 4));
const prio = (p: Plic, s: number, v: number) => p.mmio.write(4 * s, 4, v);
const enable = (p: Plic, ctx: number, s: number) => {
  const off = CONTEXT_ENABLE_BASE + CONTEXT_ENABLE_SIZE * ctx + 4 * (s >> 5);
  p.mmio.write(off, 4, (p.mmio.read(off, 4) as number) | (1 << (s & 31)));
};
const threshold = (p: Plic, ctx: number, v: number) => p.mmio.write(CONTEXT_BASE + CONTEXT_SIZE * ctx, 4, v);
const claim = (p: Plic, ctx: number) => p.mmio.read(CONTEXT_BASE + CONTEXT_SIZE * ctx + CONTEXT_CLAIM, 4) as number;
const complete = (p: Plic, ctx: number, s: number) => p.mmio.write(CONTEXT_BASE + CONTEXT_SIZE * ctx + CONTEXT_CLAIM, 4, s);

test('an enabled source with priority above threshold raises SEIP on the S context and is claimed', () => {
  const { p, harts } = make();
  prio(p, 10, 1);
  enable(p, 1, 10);
  p.irqLine(10).set(true);
  assert.equal(harts[0]!.has(IRQ_S_EXT), true);
  assert.equal(harts[0]!.has(IRQ_M_EXT), false); // not enabled on the M context
  assert.equal((p.mmio.read(PENDING_BASE, 4) as number) & (1 << 10), 1 << 10);
  assert.equal(claim(p, 1), 10);
  assert.equal(harts[0]!.has(IRQ_S_EXT), false);
  assert.equal(claim(p, 1), 0); // in service: nothing more to claim
});

test('level-triggered: still high at complete -> pending again; low -> not', () => {
  const { p, harts } = make();
  prio(p, 5, 3);
  enable(p, 1, 5);
  const line = p.irqLine(5);
  line.set(true);
  assert.equal(claim(p, 1), 5);
  complete(p, 1, 5);
  assert.equal(harts[0]!.has(IRQ_S_EXT), true);
  assert.equal(claim(p, 1), 5);
  line.set(false);
  complete(p, 1, 5);
  assert.equal(harts[0]!.has(IRQ_S_EXT), false);
  assert.equal(claim(p, 1), 0);
  // A line that drops before the claim withdraws the request.
  line.set(true); line.set(false);
  assert.equal(claim(p, 1), 0);
});

test('priority order, ties to the lowest id, and threshold masking', () => {
  const { p, harts } = make();
  for (const s of [3, 7, 40, 41]) enable(p, 1, s);
  prio(p, 3, 2); prio(p, 7, 5); prio(p, 40, 5); prio(p, 41, 9 /* masked to 1 */);
  for (const s of [3, 7, 40, 41]) p.irqLine(s).set(true);
  threshold(p, 1, 5);
  assert.equal(harts[0]!.has(IRQ_S_EXT), false);
  assert.equal(claim(p, 1), 0);
  threshold(p, 1, 4);
  assert.equal(harts[0]!.has(IRQ_S_EXT), true);
  assert.equal(claim(p, 1), 7);
  assert.equal(claim(p, 1), 40);
  assert.equal(claim(p, 1), 0);
  threshold(p, 1, 0);
  assert.equal(claim(p, 1), 3);
  assert.equal(claim(p, 1), 41);
  assert.equal(p.mmio.read(4 * 41, 4), 1);
});

test('priority 0 never interrupts; source 0 cannot be enabled or prioritised', () => {
  const { p, harts } = make();
  enable(p, 1, 9);
  p.irqLine(9).set(true);
  assert.equal(harts[0]!.has(IRQ_S_EXT), false);
  p.mmio.write(CONTEXT_ENABLE_BASE + CONTEXT_ENABLE_SIZE, 4, 0xffff_ffff);
  assert.equal((p.mmio.read(CONTEXT_ENABLE_BASE + CONTEXT_ENABLE_SIZE, 4) as number) & 1, 0);
  prio(p, 0, 7);
  assert.equal(p.mmio.read(0, 4), 0);
  assert.throws(() => p.irqLine(0), RangeError);
  assert.throws(() => p.irqLine(96), RangeError);
});

test('completion is ignored when the source is not enabled for that context', () => {
  const { p } = make();
  prio(p, 4, 1);
  enable(p, 1, 4);
  p.irqLine(4).set(true);
  assert.equal(claim(p, 1), 4);
  p.mmio.write(CONTEXT_ENABLE_BASE + CONTEXT_ENABLE_SIZE, 4, 0);
  complete(p, 1, 4);          // ignored: not enabled
  enable(p, 1, 4);
  assert.equal(claim(p, 1), 0); // still in service
  complete(p, 1, 4);
  assert.equal(claim(p, 1), 4);
});

test('contexts map to M/S external interrupts of each hart', () => {
  const { p, harts } = make(2);
  prio(p, 1, 1);
  enable(p, 2, 1); // hart 1, M-mode
  p.irqLine(1).set(true);
  assert.equal(harts[1]!.has(IRQ_M_EXT), true);
  assert.equal(harts[1]!.has(IRQ_S_EXT), false);
  assert.equal(harts[0]!.mip, 0);
  enable(p, 3, 1);
  assert.equal(harts[1]!.has(IRQ_S_EXT), true);
  assert.equal(claim(p, 3), 1); // the claim by one context takes it from the other too
  assert.equal(harts[1]!.mip, 0);
});

test('widths: an 8-byte access is two 32-bit registers; narrower accesses are refused', () => {
  const { p } = make();
  p.mmio.write(CONTEXT_BASE + CONTEXT_SIZE, 8, 0x0000_0000_0000_0003n); // threshold1 = 3, then complete(0): ignored
  assert.equal(p.mmio.read(CONTEXT_BASE + CONTEXT_SIZE, 4), 3);
  p.mmio.write(4 * 1, 8, 0x0000_0005_0000_0006n);                      // priority1 = 6, priority2 = 5
  assert.equal(p.mmio.read(4 * 1, 4), 6);
  assert.equal(p.mmio.read(4 * 2, 4), 5);
  assert.equal(p.mmio.read(0, 8), 0x6_0000_0000n);                    // priority0 does not exist: the low half reads 0
  assert.equal(p.mmio.refused, 1);
  enable(p, 1, 2);
  p.irqLine(2).set(true);
  assert.equal(p.mmio.read(CONTEXT_BASE + CONTEXT_SIZE, 8), 0x2_0000_0003n); // threshold1, then claim1
  assert.equal(claim(p, 1), 0);                                        // that 8-byte read claimed it
  assert.equal(p.mmio.read(PENDING_BASE, 2), 0);                       // narrow: refused
  assert.equal(p.mmio.read(4 * 2, 1), 0);
  p.mmio.write(4 * 2, 1, 1);
  assert.equal(p.mmio.read(4 * 2, 4), 5);
  p.mmio.write(PENDING_BASE, 4, 0xffff_ffff);                          // pending is read-only (not a refusal)
  assert.equal(p.mmio.read(PENDING_BASE, 4), 0);
  assert.equal(p.mmio.refused, 4);
});

test('register names come from the table; no write is plain but a pending write, which does nothing', () => {
  const { p } = make(2);
  const at = [4, 4 * 95, 4 * 96, PENDING_BASE, PENDING_BASE + 8, PENDING_BASE + 12, CONTEXT_ENABLE_BASE + 4, CONTEXT_ENABLE_BASE + CONTEXT_ENABLE_SIZE * 3 + 8,
    CONTEXT_BASE, CONTEXT_BASE + CONTEXT_SIZE * 3 + CONTEXT_CLAIM, CONTEXT_BASE + CONTEXT_SIZE * 4];
  assert.deepEqual(at.map((o) => p.mmio.registerName(o)),
    ['priority1', 'priority95', undefined, 'pending0', 'pending2', undefined, 'enable0_1', 'enable3_2', 'threshold0', 'claim3', undefined]);
  assert.deepEqual([4, PENDING_BASE, CONTEXT_ENABLE_BASE, CONTEXT_BASE, CONTEXT_BASE + CONTEXT_CLAIM].map((o) => p.mmio.writeIsPlain(o)),
    [false, true, false, false, false]);
});

test('the PLIC is a WiredIrqChip; reset drops the harts\' interrupts and keeps line levels', () => {
  const { p, harts } = make(2);
  const chip: WiredIrqChip = p;
  assert.equal(chip.sources, 96);
  for (const s of [3, 33, 65]) { prio(p, s, 2); enable(p, 1, s); enable(p, 2, s); chip.irqLine(s).set(true); }
  threshold(p, 1, 1);
  assert.equal(claim(p, 1), 3);
  assert.equal(harts[0]!.has(IRQ_S_EXT), true);
  assert.equal(harts[1]!.has(IRQ_M_EXT), true);
  chip.irqLine(65).set(false);
  p.reset();
  assert.equal(harts[0]!.mip, 0);
  assert.equal(harts[1]!.mip, 0);
  assert.equal(p.mmio.read(4 * 3, 4), 0);
  assert.equal(p.mmio.read(CONTEXT_ENABLE_BASE + CONTEXT_ENABLE_SIZE, 4), 0);
  assert.equal(p.mmio.read(CONTEXT_ENABLE_BASE + CONTEXT_ENABLE_SIZE * 2 + 4, 4), 0);
  assert.equal(p.mmio.read(CONTEXT_BASE + CONTEXT_SIZE, 4), 0);
  // Lines 3 and 33 are still high: pending again (3 was in service before the reset), 65 is low.
  assert.deepEqual(pending(p), [1 << 3, 1 << 1, 0]);
  prio(p, 3, 1);
  enable(p, 0, 3);
  assert.equal(harts[0]!.has(IRQ_M_EXT), true);
  assert.equal(claim(p, 0), 3);
});

test('garbage accesses never throw; afterwards the gateways, pending bits and claims still work', () => {
  const { p, harts } = make(2);
  const rnd = seededRandom(5);
  const hot = [0, 0x1000, 0x2000, 0x2080, 0x200000, 0x200004, 0x201000, 0x201004, 0x202004];
  for (let i = 0; i < 20000; i++) {
    const off = rnd() & 1 ? hot[rnd() % hot.length]! + (rnd() % 16) : rnd() % 0x600000;
    const width = ([1, 2, 4, 8] as const)[rnd() % 4]!;
    if (off + width > 0x600000) continue;
    if (rnd() & 1) p.mmio.write(off, width, rnd() % 5 === 0 ? -1n : rnd());
    else p.mmio.read(off, width);
    if (rnd() % 7 === 0) p.irqLine(1 + (rnd() % 95)).set((rnd() & 1) === 1);
  }
  assert.ok(p.mmio.refused > 1000);
  // Take every source out of service on context 0 (completion needs the source enabled), then drop every line.
  for (let w = 0; w < 3; w++) p.mmio.write(CONTEXT_ENABLE_BASE + 4 * w, 4, 0xffff_ffff);
  for (let s = 1; s < 96; s++) complete(p, 0, s);
  for (let s = 1; s < 96; s++) p.irqLine(s).set(false);
  assert.deepEqual(pending(p), [0, 0, 0]);
  for (const s of [5, 40, 70]) p.irqLine(s).set(true);
  assert.deepEqual(pending(p), [1 << 5, 1 << 8, 1 << 6]);
  for (let c = 0; c < 4; c++) threshold(p, c, 0);
  for (let s = 1; s < 96; s++) prio(p, s, 0);
  prio(p, 70, 7);
  assert.equal(harts[0]!.has(IRQ_M_EXT), true);
  assert.equal(claim(p, 0), 70);
  assert.deepEqual(pending(p), [1 << 5, 1 << 8, 0]);
});
