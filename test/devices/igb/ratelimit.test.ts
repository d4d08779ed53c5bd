// Per-VF transmit rate limiting as `ip link set PF vf N max_tx_rate R` programs it (igb_set_vf_rate_limit: RTTDQSEL
// selects VF N's queue, RTTBCNRC holds link speed / rate as RF_INT + RF_DEC/2^14), paced in virtual time: the device
// holds the queue's next packet until its time, reports that time as its deadline, and resumes in update().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WIRE_OVERHEAD } from '../../../src/devices/igb/ratelimit.js';
import { frame, PEER, upMachine, VF_MACS } from './helpers.js';

const FRAME = 1000; // payload bytes; frame() adds the 14-byte header

test('RTTBCNRC decodes to link speed / rate factor: 300 Mb/s, 1 Mb/s, and RS_ENA off means unlimited', () => {
  const m = upMachine(2);
  m.pfDrv.setVfRate(1, 300);
  assert.ok(Math.abs(m.pf.core.rate.bitsPerSecond(1) - 300e6) / 300e6 < 1e-4);
  m.pfDrv.setVfRate(1, 1);
  assert.ok(Math.abs(m.pf.core.rate.bitsPerSecond(1) - 1e6) / 1e6 < 1e-4);
  m.pfDrv.setVfRate(1, 0);
  assert.equal(m.pf.core.rate.bitsPerSecond(1), 0);
  assert.equal(m.pf.core.rate.bitsPerSecond(0), 0, 'VF 0 was never limited');
});

test('a VF limited to 100 Mb/s sends one frame per frame-time of virtual time; an unlimited VF sends at once', () => {
  const m = upMachine(2);
  m.pfDrv.setVfRate(0, 100);
  const bytes = 14 + FRAME;
  const ticks = ((bytes + WIRE_OVERHEAD) * 8 * m.clock.frequency) / 100e6;
  for (let i = 0; i < 5; i++) m.vfDrvs[1]!.xmit(frame(PEER, VF_MACS[1]!, i, FRAME));
  assert.equal(m.link.sent.length, 5, 'VF 1 is not limited');
  for (let i = 0; i < 5; i++) m.vfDrvs[0]!.xmit(frame(PEER, VF_MACS[0]!, i, FRAME));
  assert.equal(m.link.sent.length, 6, 'VF 0: the first frame goes, the rest wait');
  assert.equal(m.pf.core.counters.rateDeferred > 0, true);
  const times: number[] = [0];
  while (m.link.sent.length < 10) {
    const t = m.pf.nextDeadline();
    assert.ok(Number.isFinite(t), 'a waiting queue reports when it may go on');
    const before: number = m.link.sent.length;
    m.clock.ticks = Math.ceil(t) - 1;
    m.pf.update(m.clock.ticks);
    assert.equal(m.link.sent.length, before, 'nothing early');
    m.clock.ticks = Math.ceil(t);
    m.pf.update(m.clock.ticks);
    assert.equal(m.link.sent.length, before + 1, 'one frame on time');
    times.push(m.clock.ticks);
  }
  const span = times[4]! - times[0]!;
  const rate = (4 * (bytes + WIRE_OVERHEAD) * 8) / (span / m.clock.frequency);
  assert.ok(Math.abs(rate - 100e6) / 100e6 < 0.01, `achieved ${rate / 1e6} Mb/s`);
  assert.ok(Math.abs(span - 4 * ticks) <= 4);
  assert.equal(m.pf.nextDeadline(), Infinity, 'nothing left to pace');
  assert.equal(m.vfDrvs[0]!.tx!.reap(), 5);
});

test('lifting the limit lets the waiting frames go at the next update', () => {
  const m = upMachine(1);
  m.pfDrv.setVfRate(0, 10);
  for (let i = 0; i < 3; i++) m.vfDrvs[0]!.xmit(frame(PEER, VF_MACS[0]!, i, FRAME));
  assert.equal(m.link.sent.length, 1);
  m.pfDrv.setVfRate(0, 0);
  m.pf.update(m.clock.ticks);
  assert.equal(m.link.sent.length, 3);
});
