// The optimizations that act in virtual time: ITR interrupt moderation (at most one interrupt per ITR interval, the
// postponed one delivered by update() at nextDeadline()) and TX batching (TDT doorbells gathered into one ring walk).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { E1000_ITR } from '../../../src/devices/e1000/regs.js';
import { upMachine } from '../../../src/devices/e1000/testing/machine.js';
import { GUEST_MAC } from './packets.js';

const frame = () => { const f = new Uint8Array(200); f.set(GUEST_MAC, 0); f[12] = 0x08; return f; };

function clocked(opts: { itrModeration?: boolean; txBatching?: boolean }) {
  const clock = { t: 0 };
  const m = upMachine({ ...opts, now: () => clock.t });
  return { m, clock };
}

test('ITR moderation: interrupts at most once per interval; the held-back one fires at nextDeadline(); off: one per event', () => {
  const { m, clock } = clocked({ itrModeration: true });
  m.drv.ew32(E1000_ITR, 1000); // 256 us = 2560 ticks at 10 MHz
  m.drv.er32(0xc0);
  clock.t = 100_000;
  m.dev.receive(frame());
  assert.equal(m.irq.level, true, 'the first interrupt is not delayed');
  m.drv.interrupt();
  clock.t += 100;
  m.dev.receive(frame());
  m.dev.receive(frame());
  assert.equal(m.irq.level, false, 'inside the interval the interrupt waits');
  assert.equal(m.dev.nextDeadline(), 100_000 + 2560);
  assert.equal(m.dev.counters.itrDeferred, 1);
  assert.equal(m.dev.counters.itrMerged, 1);
  m.dev.update(100_000 + 2559);
  assert.equal(m.irq.level, false);
  clock.t = 100_000 + 2560;
  m.dev.update(clock.t);
  assert.equal(m.irq.level, true, 'delivered at the end of the interval');
  assert.equal(m.drv.interrupt().rx.length, 2);
  assert.equal(m.dev.nextDeadline(), Infinity);

  const off = clocked({});
  off.m.drv.ew32(E1000_ITR, 1000);
  let raised = 0;
  for (let i = 0; i < 5; i++) { off.m.dev.receive(frame()); if (off.m.irq.level) raised++; off.m.drv.interrupt(); off.clock.t += 10; }
  assert.equal(raised, 5, 'without moderation ITR is stored but every event interrupts');
});

test('ITR moderation in a burst: 50 frames 10 us apart with ITR 256 us give a handful of interrupts, not 50', () => {
  const { m, clock } = clocked({ itrModeration: true });
  m.drv.ew32(E1000_ITR, 1000);
  const before = m.dev.counters.interrupts;
  for (let i = 0; i < 50; i++) {
    clock.t += 100;
    m.dev.update(clock.t);
    m.dev.receive(frame());
    if (m.irq.level) m.drv.interrupt();
  }
  clock.t += 10_000; m.dev.update(clock.t); if (m.irq.level) m.drv.interrupt();
  const n = m.dev.counters.interrupts - before;
  assert.ok(n >= 2 && n <= 3, `${n} interrupts for 5000 us / 256 us`);
  assert.equal(m.dev.counters.rxPackets, 50);
});

test('TX batching: doorbells only record the tail; update() walks the ring once for all of them; the threshold walks at once', () => {
  const { m, clock } = clocked({ txBatching: true });
  const f = new Uint8Array(100); f[0] = 2; f[12] = 0x08;
  for (let i = 0; i < 5; i++) m.drv.xmit(f);
  assert.equal(m.link.sent.length, 0, 'nothing sent at the doorbells');
  assert.equal(m.dev.nextDeadline(), 100);
  m.dev.update(99);
  assert.equal(m.link.sent.length, 0);
  clock.t = 100;
  m.dev.update(100);
  assert.equal(m.link.sent.length, 5);
  assert.equal(m.dev.counters.txPasses, 1);
  assert.equal(m.drv.interrupt().tx, 5);
  for (let i = 0; i < 40; i++) m.drv.xmit(f);
  assert.equal(m.link.sent.length, 5 + 32, 'the 32nd pending descriptor walks the ring without waiting');
  clock.t = 1000; m.dev.update(clock.t);
  assert.equal(m.link.sent.length, 45);
});
