// Unit tests for the PLIC: priorities, thresholds, claim/complete, level-triggered gateways, contexts per hart.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Plic, CONTEXT_BASE, CONTEXT_SIZE, CONTEXT_CLAIM, CONTEXT_ENABLE_BASE, CONTEXT_ENABLE_SIZE, PENDING_BASE } from '../../src/board/plic.js';
import { IRQ_M_EXT, IRQ_S_EXT } from '../../src/board/irq.js';
import { Metrics } from '../../src/metrics/counters.js';
import { RecordingHart } from '../../src/board/testing/recorders.js';

function make(nHarts = 1) {
  const harts = Array.from({ length: nHarts }, () => new RecordingHart());
  const metrics = new Metrics();
  const p = new Plic(harts, metrics);
  return { p, harts, metrics };
}
const prio = (p: Plic, s: number, v: number) => p.write(4 * s, 4, v);
const enable = (p: Plic, ctx: number, s: number) => {
  const off = CONTEXT_ENABLE_BASE + CONTEXT_ENABLE_SIZE * ctx + 4 * (s >> 5);
  p.write(off, 4, (p.read(off, 4) as number) | (1 << (s & 31)));
};
const threshold = (p: Plic, ctx: number, v: number) => p.write(CONTEXT_BASE + CONTEXT_SIZE * ctx, 4, v);
const claim = (p: Plic, ctx: number) => p.read(CONTEXT_BASE + CONTEXT_SIZE * ctx + CONTEXT_CLAIM, 4) as number;
const complete = (p: Plic, ctx: number, s: number) => p.write(CONTEXT_BASE + CONTEXT_SIZE * ctx + CONTEXT_CLAIM, 4, s);

test('an enabled source with priority above threshold raises SEIP on the S context and is claimed', () => {
  const { p, harts, metrics } = make();
  prio(p, 10, 1);
  enable(p, 1, 10);
  p.irqLine(10).set(true);
  assert.equal(harts[0]!.has(IRQ_S_EXT), true);
  assert.equal(harts[0]!.has(IRQ_M_EXT), false); // not enabled on the M context
  assert.equal((p.read(PENDING_BASE, 4) as number) & (1 << 10), 1 << 10);
  assert.equal(claim(p, 1), 10);
  assert.equal(harts[0]!.has(IRQ_S_EXT), false);
  assert.equal(metrics.interrupts['plic:10'], 1);
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
  assert.equal(p.read(4 * 41, 4), 1);
});

test('priority 0 never interrupts; source 0 cannot be enabled or prioritised', () => {
  const { p, harts } = make();
  enable(p, 1, 9);
  p.irqLine(9).set(true);
  assert.equal(harts[0]!.has(IRQ_S_EXT), false);
  p.write(CONTEXT_ENABLE_BASE + CONTEXT_ENABLE_SIZE, 4, 0xffff_ffff);
  assert.equal((p.read(CONTEXT_ENABLE_BASE + CONTEXT_ENABLE_SIZE, 4) as number) & 1, 0);
  prio(p, 0, 7);
  assert.equal(p.read(0, 4), 0);
  assert.throws(() => p.irqLine(0), RangeError);
  assert.throws(() => p.irqLine(96), RangeError);
});

test('completion is ignored when the source is not enabled for that context', () => {
  const { p } = make();
  prio(p, 4, 1);
  enable(p, 1, 4);
  p.irqLine(4).set(true);
  assert.equal(claim(p, 1), 4);
  p.write(CONTEXT_ENABLE_BASE + CONTEXT_ENABLE_SIZE, 4, 0);
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

test('garbage accesses never throw', () => {
  const { p } = make(2);
  let seed = 5;
  const rnd = () => (seed = (seed * 1664525 + 1013904223) >>> 0);
  const hot = [0, 0x1000, 0x2000, 0x2080, 0x200000, 0x200004, 0x201000, 0x201004, 0x202004];
  for (let i = 0; i < 20000; i++) {
    const off = rnd() & 1 ? hot[rnd() % hot.length]! + (rnd() % 16) : rnd() % 0x600000;
    const width = ([1, 2, 4, 8] as const)[rnd() % 4]!;
    if (off + width > 0x600000) continue;
    if (rnd() & 1) p.write(off, width, rnd() % 5 === 0 ? -1n : rnd());
    else p.read(off, width);
    if (rnd() % 7 === 0) p.irqLine(1 + (rnd() % 95)).set((rnd() & 1) === 1);
  }
  assert.equal(p.read(0x1000 + 4 * 3, 4), 0);
});
