// Device-context settings the hypervisor's API does not write but the IOMMU decodes: DTF (translation faults not
// reported, directory faults still reported) and a Bare second stage (identity, yet still only the owner's memory);
// and the metrics report.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DMA_FAULT_TRANSLATION, DMA_OK } from '../../src/memory/dma.js';
import { dcAddress } from '../../src/iommu/ddt.js';
import { CAUSE_DDT_ENTRY_INVALID, CAUSE_WRITE_ACCESS_FAULT, DC_TC_DTF, DC_TC_V, encodeIohgatp } from '../../src/iommu/spec.js';
import { RAM_BASE, VF_RID, host } from './harness.js';

test('DC.tc.DTF: translation faults are refused but not logged; "DDT entry not valid" is logged regardless', () => {
  const { iommu, dma } = host();
  const dc = dcAddress(iommu.tables, iommu.ddtRoot, VF_RID);
  iommu.tables.write64(dc, BigInt(DC_TC_V | DC_TC_DTF));
  iommu.iodirInvalDdt(VF_RID);
  assert.equal(dma.write32(RAM_BASE, 1), DMA_FAULT_TRANSLATION);
  assert.deepEqual([iommu.faults.total, iommu.counters.faultsSuppressed, dma.counters.faults], [0, 1, 1]);
  iommu.tables.write64(dc, BigInt(DC_TC_DTF)); // V = 0: the DC cannot be located, so DTF is taken as 0
  iommu.iodirInvalDdt(VF_RID);
  assert.equal(dma.write32(RAM_BASE, 1), DMA_FAULT_TRANSLATION);
  assert.deepEqual(iommu.faults.records().map((r) => r.cause), [CAUSE_DDT_ENTRY_INVALID]);
});

test('a Bare second stage is the identity on host addresses, and still reaches only the owner\'s memory', () => {
  const h = host();
  const { iommu, da, db, dma } = h;
  iommu.tables.write64(dcAddress(iommu.tables, iommu.ddtRoot, VF_RID) + 8, encodeIohgatp(0, 0, 0));
  iommu.iodirInvalDdt(VF_RID);
  assert.equal(dma.write32(da.hostPa(RAM_BASE + 0x80), 0x77), DMA_OK, "IOVA = a's host physical address");
  assert.equal(h.a.ram.read32(0x80), 0x77);
  assert.equal(dma.write32(db.hostPa(RAM_BASE + 0x80), 0x66), DMA_FAULT_TRANSLATION, "b's memory: the bridge cannot route it");
  assert.equal(dma.write32(iommu.tablesRange.hpa, 0x66), DMA_FAULT_TRANSLATION);
  assert.equal(dma.write32(RAM_BASE, 1), DMA_FAULT_TRANSLATION, 'a guest physical address means nothing without a G-stage');
  assert.equal(h.b.ram.read32(0x80), 0);
  assert.deepEqual(iommu.faults.records().map((r) => r.cause), [CAUSE_WRITE_ACCESS_FAULT, CAUSE_WRITE_ACCESS_FAULT, CAUSE_WRITE_ACCESS_FAULT]);
  assert.equal(iommu.iotlb.occupancy, 0, 'Bare translations are not cached');
});

test('the report: counters, IOTLB, fault log, table pages and domains as plain JSON', () => {
  const { iommu, da, dma } = host();
  iommu.applyPolicy(da, { kind: 'whole-ram' });
  dma.read32(RAM_BASE);
  dma.read32(RAM_BASE - 4);
  const j = JSON.parse(JSON.stringify(iommu)) as {
    counters: { translations: number; walks: number; faults: number }; iotlb: { hits: number; misses: number; entries: number };
    faults: { total: number; byDevice: Record<string, number> }; tablePages: { inUse: number; total: number };
    domains: { vm: string; policy: unknown; devices: number[]; leaves: Record<string, number>; iotlbMisses: number }[];
  };
  assert.deepEqual([j.counters.translations, j.counters.walks, j.counters.faults], [2, 2, 1], 'a faulting scalar (which the base class translates twice) reaches the IOMMU once');
  assert.deepEqual([j.iotlb.entries, j.iotlb.misses], [512, 2]);
  assert.deepEqual(j.faults.byDevice, { '0x0090': 1 });
  assert.ok(j.tablePages.inUse > 0 && j.tablePages.total === 256);
  assert.deepEqual(j.domains.map((d) => [d.vm, d.policy, d.devices, d.leaves['2M'], d.iotlbMisses]), [
    ['a', { kind: 'whole-ram' }, [VF_RID], 4, 2], ['b', null, [], 0, 0],
  ]);
});
