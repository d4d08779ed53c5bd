// Tests for the bus: lookup, regions that move and own their counters, exit classes per sub-range, failure
// containment, and exact 8-byte values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bus, type MmioHandler } from '../../src/memory/bus.js';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { Metrics } from '../../src/metrics/counters.js';

const DATA = (off: number) => (off === 0 ? 'DATA' : undefined);

function makeBus(): { bus: Bus; metrics: Metrics; writes: Array<[number, number | bigint]> } {
  const metrics = new Metrics();
  const bus = new Bus(new GuestMemory(0x8000_0000, 1 << 20), metrics);
  const writes: Array<[number, number | bigint]> = [];
  bus.addRegion({
    name: 'dev', base: 0x1000_0000, size: 0x100, exitClass: 'user', registerName: DATA,
    handler: { read: (off) => off + 0x11223344, write: (off, _w, v) => { writes.push([off, v]); } },
  });
  return { bus, metrics, writes };
}

const nop: MmioHandler = { read: () => 0, write: () => {} };

test('mmio reads are truncated to the access width and counted as exits per register', () => {
  const { bus, metrics } = makeBus();
  assert.equal(bus.mmioRead(0x1000_0000, 1), 0x44);
  assert.equal(bus.mmioRead(0x1000_0000, 2), 0x3344);
  assert.equal(bus.mmioRead(0x1000_0004, 8), 0x11223348n);
  assert.equal(metrics.exits, 3);
  assert.equal(metrics.regions['dev']?.registers['DATA'], 2);
  assert.equal(metrics.regions['dev']?.registers['0x4'], 1);
  assert.equal(metrics.regions['dev']?.byClass.user, 3);
});

test('an 8-byte read returned as a number wider than 32 bits keeps its high bits', () => {
  const metrics = new Metrics();
  const bus = new Bus(new GuestMemory(0x8000_0000, 1 << 20), metrics);
  bus.addRegion({ name: 'wide', base: 0x1000_0000, size: 8, exitClass: 'user', handler: { read: () => 0x1_2345_6789, write: () => {} } });
  assert.equal(bus.mmioRead(0x1000_0000, 8), 0x1_2345_6789n);
});

test('accesses outside every region return null/false', () => {
  const { bus, writes } = makeBus();
  assert.equal(bus.mmioRead(0x2000_0000, 4), null);
  assert.equal(bus.mmioWrite(0x1000_00fe, 4, 1), false, 'straddles the region end');
  assert.equal(writes.length, 0);
});

test('overlapping regions, regions over RAM and duplicate names are refused at wiring', () => {
  const { bus } = makeBus();
  assert.throws(() => bus.addRegion({ name: 'x', base: 0x1000_0080, size: 0x100, exitClass: 'user', handler: nop }), /overlaps dev/);
  assert.throws(() => bus.addRegion({ name: 'y', base: 0x8000_1000, size: 0x100, exitClass: 'user', handler: nop }), /overlaps RAM/);
  assert.throws(() => bus.addRegion({ name: 'dev', base: 0x2000_0000, size: 0x100, exitClass: 'user', handler: nop }), /already registered/);
});

test('two regions keep separate counters even when their devices name registers alike', () => {
  const { bus, metrics } = makeBus();
  bus.addRegion({ name: '00:03.0/bar0', base: 0x4000_0000, size: 0x1000, exitClass: 'user', handler: nop, registerName: DATA });
  bus.addRegion({ name: '00:04.0/bar0', base: 0x4000_1000, size: 0x1000, exitClass: 'user', handler: nop, registerName: DATA });
  bus.mmioRead(0x4000_0000, 4);
  bus.mmioRead(0x4000_0000, 4);
  bus.mmioRead(0x4000_1000, 4);
  assert.equal(metrics.regions['00:03.0/bar0']?.registers['DATA'], 2);
  assert.equal(metrics.regions['00:04.0/bar0']?.registers['DATA'], 1);
});

test('a region moves: lookups follow it (the lookup cache is invalidated), its counters stay', () => {
  const { bus, metrics } = makeBus();
  const r = bus.addRegion({ name: 'bar', base: 0x4000_0000, size: 0x1000, exitClass: 'user', handler: { read: (o) => o, write: () => {} } });
  assert.equal(bus.mmioRead(0x4000_0010, 4), 0x10); // primes the last-hit cache
  assert.equal(bus.move(r, 0x5000_0000), true);
  assert.equal(bus.mmioRead(0x4000_0010, 4), null, 'old place no longer decodes');
  assert.equal(bus.mmioRead(0x5000_0020, 4), 0x20);
  assert.equal(metrics.regions['bar']?.reads, 2);
});

test('a region moved onto RAM or another region is left unmapped; moving it back works', () => {
  const { bus } = makeBus();
  const r = bus.addRegion({ name: 'bar', base: 0x4000_0000, size: 0x1000, exitClass: 'user', handler: { read: () => 7, write: () => {} } });
  assert.equal(bus.move(r, 0x8000_0000), false);
  assert.equal(r.mapped, false);
  assert.equal(bus.move(r, 0x1000_0000), false, 'onto dev');
  assert.equal(bus.mmioRead(0x1000_0000, 4), 0x11223344, 'dev still answers');
  assert.equal(bus.move(r, 0x4000_2000), true);
  assert.equal(bus.mmioRead(0x4000_2000, 4), 7);
  bus.unmap(r);
  assert.equal(bus.mmioRead(0x4000_2000, 4), null);
  assert.equal(bus.remap(r), true);
  assert.equal(bus.mmioRead(0x4000_2000, 4), 7);
});

test('sub-ranges declare their own exit class (notify doorbells inside a trapping BAR; direct BARs are not exits)', () => {
  const { bus, metrics } = makeBus();
  bus.addRegion({ name: 'vbar', base: 0x4000_0000, size: 0x4000, exitClass: 'user', handler: nop, classes: [{ offset: 0x3000, size: 0x1000, exitClass: 'notify' }] });
  bus.addRegion({ name: 'vf', base: 0x4001_0000, size: 0x4000, exitClass: 'direct', handler: nop });
  const before = metrics.exits;
  bus.mmioWrite(0x4000_0000, 4, 1);
  bus.mmioWrite(0x4000_3000, 2, 0);
  bus.mmioWrite(0x4001_0000, 4, 0);
  assert.deepEqual(metrics.regions['vbar']?.byClass, { user: 1, kernel: 0, notify: 1, direct: 0 });
  assert.equal(metrics.regions['vf']?.byClass.direct, 1);
  assert.equal(metrics.exits - before, 2, 'the direct access is no exit');
});

test('a device that throws is contained: counted, fenced off (reads all-ones), the VM carries on; repair() restores it', () => {
  const { bus, metrics } = makeBus();
  let bad = true;
  const failures: string[] = [];
  bus.onDeviceFailure = (r, e) => failures.push(`${r.name}: ${e.message}`);
  const r = bus.addRegion({ name: 'flaky', base: 0x4000_0000, size: 0x100, exitClass: 'user', handler: {
    read: () => { if (bad) throw new Error('model bug'); return 5; }, write: () => { throw new Error('write bug'); },
  } });
  assert.equal(bus.mmioRead(0x4000_0000, 4), 0xffff_ffff);
  assert.equal(bus.mmioRead(0x4000_0000, 8), 0xffff_ffff_ffff_ffffn);
  assert.equal(bus.mmioWrite(0x4000_0000, 4, 1), true, 'the access is taken (no access fault)');
  assert.deepEqual(failures, ['flaky: model bug']);
  assert.equal(metrics.regions['flaky']?.failures, 1);
  assert.equal(metrics.regions['flaky']?.refused, 2);
  assert.equal(metrics.failures[0]?.device, 'flaky');
  bad = false;
  r.repair();
  assert.equal(bus.mmioRead(0x4000_0000, 4), 5);
});

test('a device with its own failure handling keeps serving (e.g. virtio DEVICE_NEEDS_RESET)', () => {
  const { bus } = makeBus();
  let status = 0;
  bus.addRegion({
    name: 'virtio', base: 0x4000_0000, size: 0x100, exitClass: 'user',
    handler: { read: () => status, write: () => { throw new Error('ring broken'); } },
    onFailure: () => { status = 0x40; return true; },
  });
  bus.mmioWrite(0x4000_0000, 4, 1);
  assert.equal(bus.mmioRead(0x4000_0000, 4), 0x40);
});

test('DMA writes reach only regions that accept DMA, and are not exits', () => {
  const { bus, metrics } = makeBus();
  const got: number[] = [];
  bus.addRegion({ name: 'imsic', base: 0x2800_0000, size: 0x1000, exitClass: 'kernel', dmaTarget: true, handler: { read: () => 0, write: (_o, _w, v) => { got.push(Number(v)); } } });
  const exits = metrics.exits;
  assert.equal(bus.dmaWrite32(0x2800_0000, 33), true);
  assert.equal(bus.dmaWrite32(0x1000_0000, 1), false, 'dev does not take DMA');
  assert.deepEqual(got, [33]);
  assert.equal(metrics.exits, exits);
  assert.equal(metrics.regions['imsic']?.dmaWrites, 1);
});
