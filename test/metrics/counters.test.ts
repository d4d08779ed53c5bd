// Metrics: per-region counters are bounded against a guest probing every offset, and names stay unique.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Metrics, MAX_REGISTER_KEYS } from '../../src/metrics/counters.js';

test('a guest probing every offset of a large window cannot grow the report without bound', () => {
  const m = new Metrics();
  const c = m.region('bar0', 'user', (off) => (off === 0 ? 'CTRL' : undefined));
  for (let off = 0; off < 10_000; off += 4) c.count(off, false, 'user');
  c.count(0, true, 'user');
  const regs = c.registers();
  assert.equal(Object.keys(regs).length, MAX_REGISTER_KEYS + 1, 'bounded keys plus "other"');
  assert.equal(regs['CTRL'], 2);
  assert.equal(regs['other'], 2500 - MAX_REGISTER_KEYS);
  assert.equal(c.reads + c.writes, 2501);
  assert.equal(m.exits, 2501);
});

test('region and DMA names are unique per VM; interrupt counters are shared by name', () => {
  const m = new Metrics();
  m.region('uart0', 'user', null);
  assert.throws(() => m.region('uart0', 'user', null), /already registered/);
  m.dma('00:02.0');
  assert.throws(() => m.dma('00:02.0'), /already registered/);
  m.interrupt('uart0@plic:10').count++;
  m.countInterrupt('uart0@plic:10');
  assert.deepEqual(m.interrupts, { 'uart0@plic:10': 2 });
});

test('direct accesses are counted but are not exits', () => {
  const m = new Metrics();
  const c = m.region('vf0/bar0', 'direct', null);
  c.count(0, true, 'direct');
  assert.equal(m.exits, 0);
  assert.equal((m.toJSON() as { regions: Record<string, { writes: number }> }).regions['vf0/bar0']?.writes, 1);
});
