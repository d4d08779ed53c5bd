// The Sv39x4 G-stage walk against hand-built tables: every level, the 16 KiB root's extra index bits, 2 MiB and
// 1 GiB leaves, and each rule of the spec's translation process that turns a PTE into a fault.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { DMA_FAULT_PERMISSION, DMA_FAULT_TRANSLATION } from '../../src/memory/dma.js';
import { newGStageResult, walkSv39x4 } from '../../src/iommu/g-stage.js';
import {
  CAUSE_READ_ACCESS_FAULT, CAUSE_READ_GUEST_PAGE_FAULT, CAUSE_WRITE_ACCESS_FAULT, CAUSE_WRITE_GUEST_PAGE_FAULT,
  PTE_A, PTE_D, PTE_G, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X, encodePte,
} from '../../src/iommu/spec.js';

const T = 2 ** 36; // host physical base of the table memory
const ROOT = T, L1 = T + 0x4000, L0 = T + 0x5000;
const RW = PTE_V | PTE_R | PTE_W | PTE_U | PTE_A | PTE_D;
const PTR = PTE_V;

function tables() {
  const mem = new GuestMemory(T, 0x8000);
  const set = (table: number, index: number, hpa: number, flags: number, hiBits = 0n) =>
    mem.write64(table - T + index * 8, encodePte(hpa / 4096, flags) | (hiBits << 54n));
  return { mem, set };
}

/** GPA 0x8000_1234: VPN[2] = 2, VPN[1] = 0, VPN[0] = 1, mapped by a 4 KiB leaf. */
function threeLevels(leafFlags = RW) {
  const t = tables();
  t.set(ROOT, 2, L1, PTR);
  t.set(L1, 0, L0, PTR);
  t.set(L0, 1, 0x40_0000_7000, leafFlags);
  return t;
}

function walk(mem: GuestMemory, gpa: number, write = false) {
  const out = newGStageResult();
  const ok = walkSv39x4(mem, ROOT, gpa, write, out);
  return { ok, ...out };
}

test('a 4 KiB leaf three levels down translates, keeping the page offset', () => {
  const { mem } = threeLevels();
  const r = walk(mem, 0x8000_1234, true);
  assert.equal(r.ok, true);
  assert.equal(r.hpa, 0x40_0000_7234);
  assert.deepEqual([r.leafGpa, r.leafSize, r.leafHpa, r.perms], [0x8000_1000, 4096, 0x40_0000_7000, PTE_R | PTE_W]);
  assert.equal(walk(mem, 0x8000_2000).ok, false, 'the neighbouring page is not mapped');
});

test('2 MiB and 1 GiB leaves; the root uses GPA bits 40:39 (a 16 KiB root of 2048 entries)', () => {
  const t = tables();
  t.set(ROOT, 2, L1, PTR);
  t.set(L1, 3, 0x40_0020_0000, RW); // GPA 0x8060_0000 (VPN[1] = 3) → a 2 MiB leaf
  t.set(ROOT, 1024 + 5, 0x40_4000_0000, PTE_V | PTE_R | PTE_U | PTE_A); // GPA 2^40 + 5 GiB → a 1 GiB read-only leaf
  const a = walk(t.mem, 0x8060_0000 + 0x1_2345, true);
  assert.deepEqual([a.ok, a.hpa, a.leafGpa, a.leafSize], [true, 0x40_0021_2345, 0x8060_0000, 2 ** 21]);
  const b = walk(t.mem, 2 ** 40 + 5 * 2 ** 30 + 0x3fff_fff0);
  assert.deepEqual([b.ok, b.hpa, b.leafSize, b.perms], [true, 0x40_4000_0000 + 0x3fff_fff0, 2 ** 30, PTE_R]);
  assert.equal(walk(t.mem, 5 * 2 ** 30).ok, false, 'root index 5 is not index 1024 + 5: the two extra bits are used');
});

test('GPAs of 2^41 and more are guest-page faults (bits 63:41 must be zero)', () => {
  const t = tables();
  t.set(ROOT, 2047, 0x40_4000_0000, RW);
  assert.equal(walk(t.mem, 2 ** 41 - 4096).ok, true, 'the last GiB below 2^41 is reachable');
  const r = walk(t.mem, 2 ** 41, true);
  assert.deepEqual([r.ok, r.cause, r.dmaFault], [false, CAUSE_WRITE_GUEST_PAGE_FAULT, DMA_FAULT_TRANSLATION]);
  assert.equal(walk(t.mem, -4096).ok, false);
});

test('an invalid entry at any level is a guest-page fault of the access type', () => {
  for (const [table, index] of [[ROOT, 2], [L1, 0], [L0, 1]] as const) {
    const t = threeLevels();
    t.set(table, index, 0, 0);
    const r = walk(t.mem, 0x8000_1234);
    assert.deepEqual([r.ok, r.cause, r.dmaFault], [false, CAUSE_READ_GUEST_PAGE_FAULT, DMA_FAULT_TRANSLATION], `level of 0x${table.toString(16)}`);
    assert.equal(walk(t.mem, 0x8000_1234, true).cause, CAUSE_WRITE_GUEST_PAGE_FAULT);
  }
});

test('reserved encodings and bits fault: W without R, N/PBMT/bits 60:54, A/D/U on a pointer, a pointer at level 0', () => {
  const cases: [string, (t: ReturnType<typeof tables>) => void][] = [
    ['W without R', (t) => t.set(L0, 1, 0x40_0000_7000, PTE_V | PTE_W | PTE_U | PTE_A | PTE_D)],
    ['W+X without R', (t) => t.set(L0, 1, 0x40_0000_7000, PTE_V | PTE_W | PTE_X | PTE_U | PTE_A | PTE_D)],
    ['bit 54 (reserved)', (t) => t.set(L0, 1, 0x40_0000_7000, RW, 1n)],
    ['PBMT', (t) => t.set(L0, 1, 0x40_0000_7000, RW, 0x80n)],
    ['N (NAPOT)', (t) => t.set(L0, 1, 0x40_0000_7000, RW, 0x200n)],
    ['A on a pointer', (t) => t.set(L1, 0, L0, PTR | PTE_A)],
    ['D on a pointer', (t) => t.set(ROOT, 2, L1, PTR | PTE_D)],
    ['U on a pointer', (t) => t.set(L1, 0, L0, PTR | PTE_U)],
    ['a pointer at level 0', (t) => t.set(L0, 1, L0, PTR)],
  ];
  for (const [name, edit] of cases) {
    const t = threeLevels();
    edit(t);
    const r = walk(t.mem, 0x8000_1234);
    assert.deepEqual([r.ok, r.cause], [false, CAUSE_READ_GUEST_PAGE_FAULT], name);
  }
});

test('misaligned superpages fault (step 5), aligned ones do not', () => {
  const t = tables();
  t.set(ROOT, 2, L1, PTR);
  t.set(L1, 3, 0x40_0020_1000, RW); // 2 MiB leaf whose PPN[0] ≠ 0
  t.set(ROOT, 3, 0x40_0020_0000, RW); // 1 GiB leaf whose PPN[1] ≠ 0
  assert.deepEqual([walk(t.mem, 0x8060_0000).ok, walk(t.mem, 0x8060_0000).cause], [false, CAUSE_READ_GUEST_PAGE_FAULT]);
  assert.equal(walk(t.mem, 0xc000_0000).ok, false);
  t.set(ROOT, 3, 0x40_4000_0000, RW);
  assert.equal(walk(t.mem, 0xc000_0000).ok, true);
});

test('permissions: U is required (G-stage accesses are user-level), R for reads, W for writes, X never suffices', () => {
  const noU = threeLevels(RW & ~PTE_U);
  const r = walk(noU.mem, 0x8000_1234);
  assert.deepEqual([r.ok, r.cause, r.dmaFault], [false, CAUSE_READ_GUEST_PAGE_FAULT, DMA_FAULT_PERMISSION]);
  const ro = threeLevels(PTE_V | PTE_R | PTE_U | PTE_A | PTE_D);
  assert.equal(walk(ro.mem, 0x8000_1234).ok, true);
  const w = walk(ro.mem, 0x8000_1234, true);
  assert.deepEqual([w.ok, w.cause, w.dmaFault], [false, CAUSE_WRITE_GUEST_PAGE_FAULT, DMA_FAULT_PERMISSION]);
  const xo = threeLevels(PTE_V | PTE_X | PTE_U | PTE_A);
  assert.deepEqual([walk(xo.mem, 0x8000_1234).ok, walk(xo.mem, 0x8000_1234).dmaFault], [false, DMA_FAULT_PERMISSION]);
  const g = threeLevels(RW | PTE_G);
  assert.equal(walk(g.mem, 0x8000_1234, true).ok, true, 'G is ignored in G-stage PTEs');
});

test('no hardware A/D updating (GADE = 0): A clear faults every access, D clear faults writes only', () => {
  const noA = threeLevels(RW & ~PTE_A);
  assert.deepEqual([walk(noA.mem, 0x8000_1234).ok, walk(noA.mem, 0x8000_1234).dmaFault], [false, DMA_FAULT_PERMISSION]);
  const noD = threeLevels(RW & ~PTE_D);
  const r = walk(noD.mem, 0x8000_1234);
  assert.deepEqual([r.ok, r.perms], [true, PTE_R], 'a read succeeds, and the leaf is not writable as cached');
  assert.equal(walk(noD.mem, 0x8000_1234, true).cause, CAUSE_WRITE_GUEST_PAGE_FAULT);
  assert.equal(noD.mem.read32(L0 - T + 8) & PTE_D, 0, 'the walk wrote nothing');
});

test('a pointer out of the table memory is an access fault: page tables are never read from elsewhere', () => {
  const t = threeLevels();
  t.set(L1, 0, 0x8000_0000, PTR); // a "table" in guest RAM
  const r = walk(t.mem, 0x8000_1234, true);
  assert.deepEqual([r.ok, r.cause, r.dmaFault], [false, CAUSE_WRITE_ACCESS_FAULT, DMA_FAULT_TRANSLATION]);
  const out = newGStageResult();
  assert.equal(walkSv39x4(t.mem, T + 0x10_0000, 0x8000_1234, false, out), false, 'a root outside the table memory');
  assert.equal(out.cause, CAUSE_READ_ACCESS_FAULT);
});
