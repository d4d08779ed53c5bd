// A hostile assigned function: every descriptor address a device could use to escape its VM — outside the VM's
// RAM, at another VM's memory (by guest or host address), at the IOMMU's own tables, absurd lengths, addresses
// that are not addresses — is refused and logged, and nothing outside the owner's memory changes. The VMM carries on.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DMA_FAULT_PERMISSION, DMA_FAULT_RANGE, DMA_FAULT_TRANSLATION, DMA_OK } from '../../src/memory/dma.js';
import { IommuDmaSpace } from '../../src/iommu/dma-space.js';
import { CAUSE_READ_GUEST_PAGE_FAULT, CAUSE_WRITE_ACCESS_FAULT, CAUSE_WRITE_GUEST_PAGE_FAULT } from '../../src/iommu/spec.js';
import { IMSIC, RAM_BASE, RAM_SIZE, VF_RID, differences, host, snapshot } from './harness.js';

const P = 4096;

test('hostile DMA is refused, logged with its IOVA and cause, and changes nothing outside the owner\'s memory', () => {
  const h = host();
  const { iommu, da, db, dma } = h;
  iommu.applyPolicy(da, { kind: 'whole-ram' });
  iommu.applyPolicy(db, { kind: 'whole-ram' });
  h.b.ram.fill(RAM_BASE, RAM_SIZE, 0x5b);
  h.a.ram.fill(RAM_BASE, RAM_SIZE, 0xa1);
  const before = snapshot(h);
  const junk = (n: number) => new Uint8Array(n).fill(0xee);
  const attacks: [string, () => number, number, number][] = [
    // [what, the access, expected result, expected fault cause (0: refused before the IOMMU)]
    ['below RAM', () => dma.write(RAM_BASE - P, junk(64)), DMA_FAULT_TRANSLATION, CAUSE_WRITE_GUEST_PAGE_FAULT],
    ['address 0', () => dma.write64(0, -1n), DMA_FAULT_TRANSLATION, CAUSE_WRITE_GUEST_PAGE_FAULT],
    ['just past RAM', () => dma.write32(RAM_BASE + RAM_SIZE, 1), DMA_FAULT_TRANSLATION, CAUSE_WRITE_GUEST_PAGE_FAULT],
    ['straddling the end of RAM', () => dma.write(RAM_BASE + RAM_SIZE - 8, junk(16)), DMA_FAULT_TRANSLATION, CAUSE_WRITE_GUEST_PAGE_FAULT],
    ['a scalar straddling the end', () => dma.write64(RAM_BASE + RAM_SIZE - 4, 0n), DMA_FAULT_TRANSLATION, CAUSE_WRITE_GUEST_PAGE_FAULT],
    ["VM b's RAM by host address", () => dma.write(db.hostPa(RAM_BASE + 0x1000), junk(256)), DMA_FAULT_TRANSLATION, CAUSE_WRITE_GUEST_PAGE_FAULT],
    ["VM b's RAM read by host address", () => dma.read(db.hostPa(RAM_BASE), junk(8)), DMA_FAULT_TRANSLATION, CAUSE_READ_GUEST_PAGE_FAULT],
    ["the IOMMU's tables by host address", () => dma.write(iommu.tablesRange.hpa, junk(P)), DMA_FAULT_TRANSLATION, CAUSE_WRITE_GUEST_PAGE_FAULT],
    ["the device directory", () => dma.write64(iommu.ddtRoot, -1n), DMA_FAULT_TRANSLATION, CAUSE_WRITE_GUEST_PAGE_FAULT],
    ["a's own root table", () => dma.write64(da.table.root, -1n), DMA_FAULT_TRANSLATION, CAUSE_WRITE_GUEST_PAGE_FAULT],
    ['an absurd length from inside RAM', () => dma.write(RAM_BASE + P, junk(RAM_SIZE + P)), DMA_FAULT_TRANSLATION, CAUSE_WRITE_GUEST_PAGE_FAULT],
    ['an absurd read length', () => dma.read(RAM_BASE, junk(RAM_SIZE * 2)), DMA_FAULT_TRANSLATION, CAUSE_READ_GUEST_PAGE_FAULT],
    ['2^41 (past Sv39x4)', () => dma.write32(2 ** 41, 1), DMA_FAULT_TRANSLATION, CAUSE_WRITE_GUEST_PAGE_FAULT],
    ['2^53 - 8', () => dma.write64(2 ** 53 - 8, 1n), DMA_FAULT_TRANSLATION, CAUSE_WRITE_GUEST_PAGE_FAULT],
    ['2^60', () => dma.write32(2 ** 60, 1), DMA_FAULT_RANGE, 0],
    ['-1', () => dma.write8(-1, 1), DMA_FAULT_RANGE, 0],
    ['1.5', () => dma.write8(1.5, 1), DMA_FAULT_RANGE, 0],
    ['an unmapped interrupt file', () => dma.msi(IMSIC, 1), DMA_FAULT_TRANSLATION, CAUSE_WRITE_GUEST_PAGE_FAULT],
  ];
  let logged = 0;
  for (const [what, access, code, cause] of attacks) {
    let r = 0;
    assert.doesNotThrow(() => { r = access(); }, what);
    assert.equal(r, code, what);
    if (cause !== 0) {
      logged++;
      const rec = iommu.faults.records().at(-1)!;
      assert.equal(iommu.faults.total, logged, `${what}: exactly one record per refused access`);
      assert.deepEqual([rec.did, rec.cause], [VF_RID, cause], what);
    }
  }
  const after = snapshot(h);
  assert.deepEqual(differences(before[0]!, after[0]!), [], "VM a's RAM unchanged (every attack was refused before writing)");
  assert.deepEqual(differences(before[1]!, after[1]!), [], "VM b's RAM unchanged");
  assert.deepEqual(differences(before[2]!, after[2]!), [], "the IOMMU's tables unchanged");
  assert.deepEqual([h.a.msis, h.b.msis], [[], []]);
  assert.equal(iommu.faults.byDevice(VF_RID), logged);
  assert.equal(dma.counters.faults, attacks.length, 'every refusal counted on the function too');
  assert.equal(da.stats.faults, logged);
  // The VMM carries on: legitimate DMA still works.
  assert.equal(dma.write32(RAM_BASE + 0x100, 0x1234_5678), DMA_OK);
  assert.equal(h.a.ram.read32(0x100), 0x1234_5678);
});

test('the fault record names the IOVA and, for guest-page faults, the guest physical address in iotval2', () => {
  const { iommu, dma } = host();
  dma.read32(RAM_BASE + 0x1236);
  const r = iommu.faults.records()[0]!;
  assert.deepEqual([r.ttyp, r.iotval, r.iotval2], [2, RAM_BASE + 0x1236, RAM_BASE + 0x1234], 'TTYP 2: untranslated read; iotval2 bits 1:0 clear');
});

test("B's guest physical addresses are A's own: a device of A writing 'B's address' reaches only A", () => {
  const h = host();
  h.iommu.applyPolicy(h.da, { kind: 'whole-ram' });
  const b = h.b.ram.slice(RAM_BASE, RAM_SIZE);
  assert.equal(h.dma.write32(RAM_BASE + 0x40, 9), DMA_OK);
  assert.equal(h.a.ram.read32(0x40), 9);
  assert.deepEqual(differences(b, h.b.ram.slice(RAM_BASE, RAM_SIZE)), []);
});

test('read-only mappings refuse writes with a permission fault', () => {
  const { iommu, da, dma, a } = host();
  iommu.map(da, RAM_BASE, da.hostPa(RAM_BASE), P, 'r');
  a.ram.write32(0, 77);
  assert.equal(dma.read32(RAM_BASE), 77);
  assert.equal(dma.write32(RAM_BASE, 1), DMA_FAULT_PERMISSION, 'refused from the IOTLB entry');
  iommu.iotinvalGvma();
  assert.equal(dma.write32(RAM_BASE, 1), DMA_FAULT_PERMISSION, 'and by a fresh walk');
  assert.equal(a.ram.read32(0), 77);
  assert.deepEqual(iommu.faults.records().map((r) => r.cause), [CAUSE_WRITE_GUEST_PAGE_FAULT, CAUSE_WRITE_GUEST_PAGE_FAULT]);
});

test("MSI-X writes reach the owner's interrupt file only through the doorbell pages the hypervisor mapped", () => {
  const h = host();
  const { iommu, da, dma } = h;
  iommu.mapMsiPages(da, IMSIC, 2);
  assert.equal(dma.msi(IMSIC, 5), DMA_OK);
  assert.equal(dma.msi(IMSIC + P, 6), DMA_OK, "hart 1's file");
  assert.equal(dma.msi(IMSIC + 2 * P, 7), DMA_FAULT_TRANSLATION, 'a page not mapped');
  assert.deepEqual(h.a.msis, [[0, 5], [P, 6]]);
  assert.deepEqual(h.b.msis, []);
  assert.equal(dma.counters.msis, 2);
  assert.ok(dma.read32(IMSIC) < 0, 'a read of a doorbell is not RAM: a master abort');
  assert.throws(() => iommu.mapMsiPages(da, RAM_BASE, 1), /overlap .*RAM/);
  assert.equal(iommu.unmap(da, IMSIC, 2 * P), 2 * P);
  assert.equal(dma.msi(IMSIC, 5), DMA_FAULT_TRANSLATION);
});

test("a function bound to VM a whose DC names VM b's domain is refused: DMA never leaves its owner", () => {
  const h = host();
  const { iommu, db } = h;
  iommu.applyPolicy(db, { kind: 'whole-ram' });
  iommu.attach(0x0098, db); // wrongly attached: the function belongs to a
  const vf = new IommuDmaSpace(h.a.bus, h.a.metrics.dma('vf1'), iommu, 0x0098, h.da);
  assert.equal(vf.write32(RAM_BASE, 1), DMA_FAULT_TRANSLATION);
  assert.equal(iommu.faults.records().at(-1)?.cause, CAUSE_WRITE_ACCESS_FAULT);
  assert.equal(h.a.ram.read32(0) + h.b.ram.read32(0), 0);
  assert.throws(() => new IommuDmaSpace(h.b.bus, h.b.metrics.dma('x'), iommu, 0x0098, h.da), /pass the owner VM's bus/);
});
