// The IOTLB on its own (tags, superpage leaves, the three IOTINVAL.GVMA scopes, eviction) and the fault log
// (the spec's 32-byte record layout, ordering, overflow dropping the oldest, per-device counts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Iotlb } from '../../src/iommu/iotlb.js';
import { FaultLog, decodeFaultRecord, encodeFaultRecord } from '../../src/iommu/fault-log.js';
import { PTE_R, PTE_W, TTYP_NONE, TTYP_UNTRANSLATED_WRITE } from '../../src/iommu/spec.js';

test('IOTLB: hits need the same GSCID and guest page; misses and hits are counted', () => {
  const t = new Iotlb(512);
  assert.equal(t.lookup(1, 0x80001), -1);
  t.fill(1, 0x8000_1000, 4096, 0x8000_1000, PTE_R | PTE_W);
  const i = t.lookup(1, 0x80001);
  assert.ok(i >= 0);
  assert.deepEqual([t.entryLeafGpa(i), t.entryLeafSize(i), t.entryLocal(i), t.entryPerms(i)], [0x8000_1000, 4096, 0x8000_1000, PTE_R | PTE_W]);
  assert.equal(t.lookup(2, 0x80001), -1, 'another GSCID');
  assert.equal(t.lookup(1, 0x80002), -1, 'another page');
  assert.deepEqual(t.counters, { hits: 1, misses: 3, evictions: 0, invalidated: 0 });
});

test('IOTLB: one entry per leaf — every page of a 2 MiB leaf hits it; invalidation by address, by GSCID, of everything', () => {
  const t = new Iotlb(512);
  t.fill(1, 0x8020_0000, 2 ** 21, 0x9020_0000, PTE_R); // a 2 MiB leaf of GSCID 1
  t.fill(1, 0x8000_0000, 4096, 0x8000_0000, PTE_R); // a 4 KiB leaf of GSCID 1
  t.fill(2, 0x8020_0000, 4096, 0x9000_0000, PTE_R); // GSCID 2's 4 KiB leaf at the same address
  assert.equal(t.occupancy, 3);
  for (const vpn of [0x80200, 0x80201, 0x803ff]) {
    const i = t.lookup(1, vpn);
    assert.ok(i >= 0, `page 0x${vpn.toString(16)} of the superpage`);
    assert.deepEqual([t.entryLeafGpa(i), t.entryLeafSize(i), t.entryLocal(i)], [0x8020_0000, 2 ** 21, 0x9020_0000]);
  }
  assert.equal(t.lookup(2, 0x80201), -1, "GSCID 2's leaf is 4 KiB: its next page is not covered");
  assert.equal(t.lookup(1, 0x80400), -1, 'past the superpage');
  assert.equal(t.invalidate(1, 0x803f_f000), 1, 'an address at the end of the 2 MiB leaf drops it');
  assert.equal(t.lookup(1, 0x80200), -1);
  assert.ok(t.lookup(1, 0x80000) >= 0, 'the other leaf stays');
  assert.ok(t.lookup(2, 0x80200) >= 0, 'the other GSCID stays');
  t.fill(1, 0x8020_0000, 2 ** 21, 0x9020_0000, PTE_R);
  assert.equal(t.invalidate(1), 2, 'GV=1, AV=0: all of GSCID 1');
  assert.ok(t.lookup(2, 0x80200) >= 0);
  assert.equal(t.invalidate(null), 1, 'GV=0: everything');
  assert.equal(t.occupancy, 0);
  assert.equal(t.counters.invalidated, 4);
});

test('IOTLB: bounded, 4-way sets with LRU replacement; an eviction is counted', () => {
  const t = new Iotlb(4); // one set of four ways
  for (let p = 1; p <= 4; p++) t.fill(1, p * 4096, 4096, p * 4096, PTE_R);
  assert.ok(t.lookup(1, 1) >= 0, 'page 1 is now the most recently used');
  t.fill(1, 5 * 4096, 4096, 5 * 4096, PTE_R);
  assert.equal(t.counters.evictions, 1);
  assert.equal(t.lookup(1, 2), -1, 'the least recently used entry went');
  for (const p of [1, 3, 4, 5]) assert.ok(t.lookup(1, p) >= 0, `page ${p} stays`);
  t.fill(1, 5 * 4096, 4096, 5 * 4096, PTE_R | PTE_W);
  assert.equal(t.counters.evictions, 1, 'refilling the same tag is not an eviction');
  const big = new Iotlb(512);
  for (let p = 0; p < 4096; p++) big.fill(1, p * 4096, 4096, p * 4096, PTE_R);
  assert.equal(big.occupancy, 512, 'never more than its size');
  assert.throws(() => new Iotlb(500), /power of two/);
});

test('fault record: the spec layout (CAUSE 11:0, TTYP 39:34, DID 63:40; iotval at 16, iotval2 at 24)', () => {
  const b = encodeFaultRecord({ cause: 23, ttyp: TTYP_UNTRANSLATED_WRITE, did: 0x0310, iotval: 0x8000_1234, iotval2: 0x8000_1234 });
  assert.equal(b.length, 32);
  const v = new DataView(b.buffer);
  assert.equal(v.getBigUint64(0, true), 23n | (3n << 34n) | (0x0310n << 40n));
  assert.equal(v.getBigUint64(8, true), 0n, 'custom and reserved bits are zero');
  assert.equal(v.getBigUint64(16, true), 0x8000_1234n);
  assert.equal(v.getBigUint64(24, true), 0x8000_1234n);
  assert.deepEqual(decodeFaultRecord(b), { seq: 0, cause: 23, ttyp: 3, did: 0x310, iotval: 0x8000_1234, iotval2: 0x8000_1234 });
  const none = decodeFaultRecord(encodeFaultRecord({ cause: 256, ttyp: TTYP_NONE, did: 0x310, iotval: 0, iotval2: 0 }));
  assert.equal(none.did, 0, 'DID is 0 when TTYP is 0');
});

test('fault log: oldest first; when full the oldest are dropped and counted; counts per device keep everything', () => {
  const log = new FaultLog(3);
  for (let k = 0; k < 5; k++) log.record(k % 2 === 0 ? 0x10 : 0x18, 21, 2, 0x1000 * k, 0x1000 * k);
  assert.deepEqual(log.records().map((r) => [r.seq, r.did, r.iotval]), [[2, 0x10, 0x2000], [3, 0x18, 0x3000], [4, 0x10, 0x4000]]);
  assert.deepEqual([log.total, log.overflows, log.length], [5, 2, 3]);
  assert.deepEqual([log.byDevice(0x10), log.byDevice(0x18), log.byDevice(0x20)], [3, 2, 0]);
  assert.deepEqual(log.toJSON(), { total: 5, held: 3, overflows: 2, byDevice: { '0x0010': 3, '0x0018': 2 }, byCause: { 21: 5 } });
  assert.equal(log.drain().length, 3);
  assert.equal(log.length, 0);
  log.record(0x10, 23, 3, 0x5000, 0x5000);
  assert.deepEqual(log.records().map((r) => r.seq), [5], 'sequence numbers continue after a drain');
});
