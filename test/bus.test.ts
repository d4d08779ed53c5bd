// Tests for the bus: region lookup, overlap checks, access accounting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bus } from '../src/memory/bus.js';
import { GuestMemory } from '../src/memory/guest-memory.js';
import { Metrics } from '../src/metrics/counters.js';

function makeBus(): { bus: Bus; metrics: Metrics; writes: Array<[number, number | bigint]> } {
  const metrics = new Metrics();
  const bus = new Bus(new GuestMemory(0x8000_0000, 1 << 20), metrics);
  const writes: Array<[number, number | bigint]> = [];
  bus.addRegion({
    name: 'dev', base: 0x1000_0000, size: 0x100, exitClass: 'user', registerNames: { 0: 'DATA' },
    handler: { read: (off) => off + 0x11223344, write: (off, _w, v) => { writes.push([off, v]); } },
  });
  return { bus, metrics, writes };
}

test('mmio reads are truncated to the access width and counted as exits per register', () => {
  const { bus, metrics } = makeBus();
  assert.equal(bus.mmioRead(0x1000_0000, 1), 0x44);
  assert.equal(bus.mmioRead(0x1000_0000, 2), 0x3344);
  assert.equal(bus.mmioRead(0x1000_0004, 8), 0x11223348n);
  assert.equal(metrics.exits, 3);
  assert.equal(metrics.regions['dev']?.registers['DATA'], 2);
  assert.equal(metrics.regions['dev']?.registers['0x4'], 1);
});

test('accesses outside every region return null/false', () => {
  const { bus, writes } = makeBus();
  assert.equal(bus.mmioRead(0x2000_0000, 4), null);
  assert.equal(bus.mmioWrite(0x1000_00fe, 4, 1), false, 'straddles the region end');
  assert.equal(writes.length, 0);
});

test('overlapping regions and regions over RAM are refused', () => {
  const { bus } = makeBus();
  const handler = { read: () => 0, write: () => {} };
  assert.throws(() => bus.addRegion({ name: 'x', base: 0x1000_0080, size: 0x100, exitClass: 'user', handler }), /overlaps dev/);
  assert.throws(() => bus.addRegion({ name: 'y', base: 0x8000_1000, size: 0x100, exitClass: 'user', handler }), /overlaps RAM/);
});
