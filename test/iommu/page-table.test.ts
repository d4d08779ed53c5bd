// The hypervisor's Sv39x4 table builder, checked by the IOMMU's own walk: leaf sizes chosen by alignment, splitting
// a 1 GiB leaf down to 4 KiB, freeing emptied tables, and tearing everything down.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GStageTable, IommuMapError } from '../../src/iommu/page-table.js';
import { TableMemory } from '../../src/iommu/table-memory.js';
import { newGStageResult, walkSv39x4 } from '../../src/iommu/g-stage.js';
import { PTE_R, PTE_W } from '../../src/iommu/spec.js';

const GIB = 2 ** 30, MIB2 = 2 ** 21, P = 4096;
const HPA = 2 ** 39; // any host address: the builder does not check ownership (Iommu.map does)

function setup() {
  const tm = new TableMemory(2 ** 36, 1 << 20);
  const t = new GStageTable(tm, 'test');
  const out = newGStageResult();
  const at = (gpa: number, write = false): number => (walkSv39x4(tm.mem, t.root, gpa, write, out) ? out.hpa : -out.cause);
  return { tm, t, out, at };
}

test('leaves are as large as alignment allows: 1 GiB, 2 MiB, else 4 KiB', () => {
  const { t, at, out } = setup();
  t.map(GIB, HPA, GIB, true);
  t.map(2 * GIB, HPA + GIB + MIB2, MIB2 + P, false);
  t.map(3 * GIB, HPA + 2 * GIB + P, MIB2, true); // GPA aligned, host address not: 4 KiB leaves
  assert.deepEqual(t.leavesByLevel, [1 + 512, 1, 1]);
  assert.equal(at(GIB + 0x1234_5678, true), HPA + 0x1234_5678);
  assert.equal(out.leafSize, GIB);
  assert.equal(at(2 * GIB + MIB2 + 0x10), HPA + GIB + 2 * MIB2 + 0x10);
  assert.equal(out.perms, PTE_R, 'read-only');
  assert.equal(at(3 * GIB + MIB2 - 1, true), HPA + 2 * GIB + P + MIB2 - 1);
  assert.equal(out.perms, PTE_R | PTE_W);
  assert.equal(t.mappedBytes, GIB + 2 * MIB2 + P);
});

test('unmapping one page of a 1 GiB leaf splits it twice; every other page keeps its exact host address', () => {
  const { t, at } = setup();
  t.map(GIB, HPA, GIB, true);
  const hole = GIB + 0x30_5000;
  const r = t.unmap(hole, P);
  assert.deepEqual([r.bytes, r.leaves, r.nonLeafChanged], [P, [hole], true]);
  assert.deepEqual(t.leavesByLevel, [511, 511, 0]);
  assert.ok(at(hole) < 0, 'the hole faults');
  for (const off of [0, 0x30_4000, 0x30_6000, 0x20_0000, 0x3fe0_0123, GIB - 1]) {
    assert.equal(at(GIB + off), HPA + off, `offset 0x${off.toString(16)}`);
  }
  assert.equal(t.mappedBytes, GIB - P);
});

test('emptied tables are freed; unmapping nothing unmaps nothing; destroy returns every page', () => {
  const { tm, t, at } = setup();
  const base = tm.pagesInUse;
  t.map(5 * GIB + 7 * P, HPA, 3 * P, true);
  assert.equal(tm.pagesInUse, base + 2);
  assert.deepEqual(t.unmap(5 * GIB, MIB2), { bytes: 3 * P, leaves: [5 * GIB + 7 * P, 5 * GIB + 8 * P, 5 * GIB + 9 * P], nonLeafChanged: true });
  assert.equal(tm.pagesInUse, base, 'the level-1 and level-0 tables went');
  assert.deepEqual(t.unmap(0, GIB), { bytes: 0, leaves: [], nonLeafChanged: false });
  t.map(0, HPA, GIB + MIB2 + P, true);
  assert.equal(at(GIB + MIB2), HPA + GIB + MIB2);
  t.destroy();
  assert.equal(tm.pagesInUse, 0, 'every page returned, the 16 KiB root included');
});

test('checkFree names the mapped IOVA and the leaf that maps it', () => {
  const { t } = setup();
  t.map(GIB, HPA, MIB2, true);
  assert.throws(() => t.checkFree(GIB + MIB2 - P, 2 * P), (e: Error) => e instanceof IommuMapError && /0x401ff000 is already mapped \(by a 2048 KiB leaf at 0x40000000\)/.test(e.message));
  assert.doesNotThrow(() => t.checkFree(GIB + MIB2, GIB - MIB2));
});
