// The hypervisor's IOMMU API: device contexts in the spec's format, ownership validation, IOTLB semantics as the
// spec states them (new mappings seen at once, stale ones gone after an invalidation), the directory's fault
// causes, superpage splitting, table memory accounting.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DMA_FAULT_TRANSLATION, DMA_OK } from '../../src/memory/dma.js';
import { IommuMapError } from '../../src/iommu/iommu.js';
import { IommuDmaSpace } from '../../src/iommu/dma-space.js';
import { dcAddress, locateDc, newDeviceContext } from '../../src/iommu/ddt.js';
import { IommuOutOfTableMemory } from '../../src/iommu/table-memory.js';
import {
  CAUSE_DDT_ENTRY_INVALID, CAUSE_DDT_ENTRY_MISCONFIGURED, CAUSE_READ_GUEST_PAGE_FAULT, CAUSE_TRANSACTION_TYPE_DISALLOWED,
  DC_TC_EN_ATS, IOHGATP_MODE_SV39X4,
} from '../../src/iommu/spec.js';
import { RAM_BASE, RAM_SIZE, VF_RID, host } from './harness.js';

const P = 4096;

test('attach writes a base-format DC: tc.V, iohgatp = Sv39x4 | GSCID | 16 KiB-aligned root PPN, ta = fsc = 0', () => {
  const { iommu, da, db } = host();
  assert.notEqual(da.gscid, db.gscid, 'each domain has its own GSCID');
  const dc = dcAddress(iommu.tables, iommu.ddtRoot, VF_RID);
  assert.ok(iommu.tables.mem.contains(dc, 32), 'the DC is in the host-private table memory');
  const dw = (k: number) => iommu.tables.read64(dc + 8 * k);
  assert.equal(dw(0), 1n);
  assert.equal(dw(1), (8n << 60n) | (BigInt(da.gscid) << 44n) | BigInt(da.table.root / P));
  assert.deepEqual([dw(2), dw(3)], [0n, 0n]);
  assert.equal(da.table.root % 16384, 0);
  const ctx = newDeviceContext();
  assert.equal(locateDc(iommu.tables.mem, iommu.ddtRoot, VF_RID, ctx), 0);
  assert.deepEqual(ctx, { dtf: false, mode: IOHGATP_MODE_SV39X4, gscid: da.gscid, root: da.table.root });
});

test('ownership: the hypervisor may map only the target VM\'s RAM; refusals say why and map nothing', () => {
  const { iommu, da, db, dma } = host();
  const mine = da.hostPa(RAM_BASE);
  assert.throws(() => iommu.map(da, RAM_BASE, db.hostPa(RAM_BASE), P, 'rw'), (e: Error) =>
    e instanceof IommuMapError && /RAM of VM 'b'/.test(e.message) && /not all RAM of VM 'a'/.test(e.message));
  assert.throws(() => iommu.map(da, RAM_BASE, iommu.tablesRange.hpa, P, 'rw'), /IOMMU's own table memory/);
  assert.throws(() => iommu.map(da, RAM_BASE, mine + RAM_SIZE - P, 2 * P, 'rw'), /not all RAM of VM 'a'/, 'straddling the end of RAM');
  assert.throws(() => iommu.map(da, RAM_BASE, mine - P, P, 'rw'), /nothing/);
  assert.throws(() => iommu.map(da, RAM_BASE + 1, mine, P, 'rw'), /4 KiB-aligned/);
  assert.throws(() => iommu.map(da, RAM_BASE, mine, 0, 'rw'), /length 0/);
  assert.throws(() => iommu.map(da, 2 ** 41 - P, mine, 2 * P, 'rw'), /2\^41/);
  assert.throws(() => iommu.map(da, RAM_BASE, mine, P, 'w' as 'rw'), /write-only/);
  assert.throws(() => db.hostPa(RAM_BASE + RAM_SIZE), /not in VM 'b'/);
  assert.equal(dma.read32(RAM_BASE), -DMA_FAULT_TRANSLATION, 'nothing was mapped');
  iommu.map(da, RAM_BASE, mine, P, 'r');
  assert.throws(() => iommu.map(da, RAM_BASE, mine + P, P, 'rw'), /already mapped.*unmap it first/);
  assert.equal(da.table.mappedBytes, P);
});

test('a new mapping is used at once (invalid entries are never cached); an unmap is seen at once (it invalidates)', () => {
  const { iommu, da, dma, a } = host();
  assert.equal(dma.write32(RAM_BASE + 0x10, 1), DMA_FAULT_TRANSLATION);
  iommu.map(da, RAM_BASE, da.hostPa(RAM_BASE + 0x5000), P, 'rw');
  assert.equal(dma.write32(RAM_BASE + 0x10, 0xabcd), DMA_OK, 'no invalidation was needed');
  assert.equal(a.ram.read32(0x5010), 0xabcd, 'IOVA RAM_BASE + 0x10 → guest physical RAM_BASE + 0x5010');
  assert.equal(dma.read32(RAM_BASE + 0x10), 0xabcd);
  assert.equal(iommu.unmap(da, RAM_BASE, P), P);
  assert.equal(dma.read32(RAM_BASE + 0x10), -DMA_FAULT_TRANSLATION);
});

test('IOTLB: hits and misses counted, each miss charged; a stale entry may be used until IOTINVAL.GVMA, never after', () => {
  const { iommu, da, dma, cost } = host();
  iommu.map(da, RAM_BASE, da.hostPa(RAM_BASE), 16 * P, 'rw');
  for (let i = 0; i < 4; i++) assert.equal(dma.read32(RAM_BASE + 8 * i), 0);
  assert.deepEqual([iommu.iotlb.counters.misses, iommu.iotlb.counters.hits], [1, 3]);
  assert.equal(da.stats.iotlbMisses, 1);
  assert.deepEqual([cost.events.iotlbMiss, cost.charged.iotlbMiss], [1, 100]);
  // Clear the leaf behind the IOMMU's back, without the invalidation the spec requires.
  const leafAt = findLeaf(iommu, da, RAM_BASE);
  iommu.tables.write64(leafAt, 0n);
  assert.equal(dma.read32(RAM_BASE), 0, 'the cached translation may still be used: the oracle below can fail');
  iommu.iotinvalGvma(da.gscid, RAM_BASE);
  assert.equal(dma.read32(RAM_BASE), -DMA_FAULT_TRANSLATION, 'not after IOTINVAL.GVMA by address');
  assert.equal(dma.read32(RAM_BASE + P), 0, 'other pages are untouched');
  iommu.tables.write64(findLeaf(iommu, da, RAM_BASE + P), 0n);
  iommu.iotinvalGvma(da.gscid);
  assert.equal(dma.read32(RAM_BASE + P), -DMA_FAULT_TRANSLATION, 'nor after IOTINVAL.GVMA for the GSCID');
  iommu.tables.write64(findLeaf(iommu, da, RAM_BASE + 2 * P), 0n);
  dma.read32(RAM_BASE + 2 * P);
  iommu.iotinvalGvma();
  assert.equal(dma.read32(RAM_BASE + 2 * P), -DMA_FAULT_TRANSLATION, 'nor after a global IOTINVAL.GVMA');
});

/** The host physical address of the 4 KiB leaf PTE mapping `gpa` in domain d (walks the table by hand). */
function findLeaf(iommu: ReturnType<typeof host>['iommu'], d: ReturnType<typeof host>['da'], gpa: number): number {
  let table = d.table.root;
  for (const [shift, mask] of [[30, 0x7ff], [21, 0x1ff]] as const) {
    const pte = iommu.tables.read64(table + (Math.floor(gpa / 2 ** shift) & mask) * 8);
    table = Number(pte >> 10n) * P;
  }
  return table + (Math.floor(gpa / P) & 0x1ff) * 8;
}

test('the directory: a detached device faults with "DDT entry not valid", a 17-bit ID is disallowed, a bad DC is misconfigured', () => {
  const { iommu, da, a } = host();
  iommu.map(da, RAM_BASE, da.hostPa(RAM_BASE), P, 'rw');
  const wide = new IommuDmaSpace(a.bus, a.metrics.dma('wide'), iommu, 0x1_0000, da);
  assert.equal(wide.read8(RAM_BASE), -DMA_FAULT_TRANSLATION);
  assert.equal(iommu.detach(VF_RID), true);
  assert.equal(iommu.detach(VF_RID), false);
  const dma = new IommuDmaSpace(a.bus, a.metrics.dma('vf-again'), iommu, VF_RID, da);
  assert.equal(dma.read8(RAM_BASE), -DMA_FAULT_TRANSLATION, 'detached: the cached DC was invalidated');
  iommu.attach(VF_RID, da);
  assert.equal(dma.read8(RAM_BASE), 0);
  const tc = dcAddress(iommu.tables, iommu.ddtRoot, VF_RID);
  iommu.tables.write64(tc, BigInt(1 | DC_TC_EN_ATS)); // ATS without the capability
  assert.equal(dma.read8(RAM_BASE), 0, 'the cached DC is used until IODIR.INVAL_DDT');
  iommu.iodirInvalDdt(VF_RID);
  assert.equal(dma.read8(RAM_BASE), -DMA_FAULT_TRANSLATION);
  assert.deepEqual(iommu.faults.records().map((r) => [r.did, r.cause]), [
    [0x1_0000 & 0xffffff, CAUSE_TRANSACTION_TYPE_DISALLOWED], [VF_RID, CAUSE_DDT_ENTRY_INVALID], [VF_RID, CAUSE_DDT_ENTRY_MISCONFIGURED],
  ]);
  assert.throws(() => iommu.attach(0x1_0000, da), /16 bits/);
  iommu.tables.write64(tc, 1n);
  iommu.iodirInvalDdt();
  assert.equal(dma.read8(RAM_BASE), 0);
  const nl = iommu.ddtRoot + (VF_RID >> 7) * 8;
  iommu.tables.write64(nl, iommu.tables.read64(nl) | 2n); // a reserved bit of the non-leaf entry
  iommu.iodirInvalDdt();
  assert.equal(dma.read8(RAM_BASE), -DMA_FAULT_TRANSLATION);
  assert.equal(iommu.faults.records().at(-1)?.cause, CAUSE_DDT_ENTRY_MISCONFIGURED);
  assert.throws(() => iommu.attach(VF_RID, host().db), /not a live domain/);
});

test('unmapping part of a superpage splits it: the rest stays mapped, the hole faults', () => {
  const { iommu, da, dma } = host();
  iommu.map(da, RAM_BASE, da.hostPa(RAM_BASE), 2 << 20, 'rw');
  assert.deepEqual(da.table.leavesByLevel, [0, 1, 0], 'one 2 MiB leaf');
  assert.equal(dma.write32(RAM_BASE + 0x3000, 7), DMA_OK);
  assert.equal(iommu.unmap(da, RAM_BASE + 0x3000, P), P);
  assert.deepEqual(da.table.leavesByLevel, [511, 0, 0]);
  assert.equal(dma.read32(RAM_BASE + 0x3000), -DMA_FAULT_TRANSLATION, 'the cached 2 MiB leaf was invalidated');
  assert.equal(dma.read32(RAM_BASE + 0x2ffc), 0);
  assert.equal(dma.read32(RAM_BASE + 0x4000), 0);
  assert.equal(iommu.faults.records().at(-1)?.cause, CAUSE_READ_GUEST_PAGE_FAULT);
  assert.equal(iommu.unmap(da, RAM_BASE, 2 << 20), (2 << 20) - P);
  assert.deepEqual([da.table.leavesByLevel, da.table.pages], [[0, 0, 0], 4], 'emptied tables are freed');
});

test('table memory: domains own their pages, destroy returns them, exhaustion is a clear error', () => {
  const { iommu, da, db } = host({ tableBytes: 64 * 1024 });
  const base = iommu.tables.pagesInUse;
  iommu.map(db, RAM_BASE, db.hostPa(RAM_BASE), P, 'rw');
  assert.equal(iommu.tables.pagesInUse, base + 2, 'one level-1 and one level-0 table');
  iommu.destroyDomain(db);
  assert.equal(iommu.tables.pagesInUse, base - 4, 'and the 16 KiB root');
  assert.throws(() => iommu.destroyDomain(da), /detach them first/);
  assert.throws(() => {
    for (let i = 0; i < 64; i++) iommu.map(da, RAM_BASE + i * (2 << 20) + P, da.hostPa(RAM_BASE) + P, P, 'r');
  }, (e: Error) => e instanceof IommuOutOfTableMemory && /larger tableBytes/.test(e.message));
});
