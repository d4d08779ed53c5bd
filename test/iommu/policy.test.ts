// The two DMA policies (whole RAM at IOVA = GPA; the restricted-dma-pool window), switching between them with the
// invalidations that makes necessary, what each costs in tables and IOTLB misses, and the device-tree nodes that
// make stock Linux bounce a function's DMA through the window.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DMA_FAULT_TRANSLATION, DMA_OK } from '../../src/memory/dma.js';
import { FdtBuilder } from '../../src/board/fdt.js';
import { findNode, parseFdt, propString, propU32s } from '../../src/board/fdt-reader.js';
import {
  RESTRICTED_POOL_MIN_BYTES, requesterId, restrictedDmaPool, writePciFunctionNode, writeReservedMemory,
} from '../../src/iommu/restricted-dma.js';
import { RAM_BASE, RAM_SIZE, host } from './harness.js';

const P = 4096;
const WIN = RAM_BASE + 0x60_0000;
const WIN_SIZE = 0x10_0000;

/** Reads a word from every page of [base, base+len) through the function's DMA space. */
function sweep(dma: ReturnType<typeof host>['dma'], base: number, len: number): void {
  for (let a = base; a < base + len; a += P) assert.ok(dma.read32(a) >= 0, `0x${a.toString(16)}`);
}

test('whole-RAM policy: all of the VM\'s RAM at IOVA = GPA in superpages; one byte outside faults', () => {
  const { iommu, da, dma, a } = host();
  iommu.applyPolicy(da, { kind: 'whole-ram' });
  assert.deepEqual([da.table.leavesByLevel, da.table.pages, da.table.mappedBytes], [[0, 4, 0], 5, RAM_SIZE]);
  assert.equal(dma.write8(RAM_BASE, 1), DMA_OK);
  assert.equal(dma.write8(RAM_BASE + RAM_SIZE - 1, 2), DMA_OK);
  assert.deepEqual([a.ram.read8(0), a.ram.read8(RAM_SIZE - 1)], [1, 2]);
  assert.equal(dma.read8(RAM_BASE - 1), -DMA_FAULT_TRANSLATION);
  assert.equal(dma.read8(RAM_BASE + RAM_SIZE), -DMA_FAULT_TRANSLATION);
  sweep(dma, RAM_BASE, 1 << 20);
  assert.equal(da.stats.iotlbMisses, 4, 'a miss for each of the two 2 MiB leaves touched and each faulting walk; the sweep only hits');
});

test('window policy: only the restricted-dma-pool is reachable; the bytes just outside it fault', () => {
  const { iommu, da, dma, a } = host();
  iommu.applyPolicy(da, { kind: 'window', base: WIN, size: WIN_SIZE });
  assert.deepEqual([da.table.leavesByLevel, da.table.pages, da.table.mappedBytes], [[256, 0, 0], 6, WIN_SIZE]);
  assert.equal(dma.write32(WIN, 0x11), DMA_OK);
  assert.equal(dma.write32(WIN + WIN_SIZE - 4, 0x22), DMA_OK);
  assert.deepEqual([a.ram.read32(WIN - RAM_BASE), a.ram.read32(WIN + WIN_SIZE - 4 - RAM_BASE)], [0x11, 0x22]);
  assert.equal(dma.write32(WIN + WIN_SIZE, 1), DMA_FAULT_TRANSLATION, 'just past the window');
  assert.equal(dma.write8(WIN - 1, 1), DMA_FAULT_TRANSLATION, 'just before it');
  assert.equal(dma.write32(WIN + WIN_SIZE - 2, 1), DMA_FAULT_TRANSLATION, 'straddling its end');
  assert.equal(dma.read32(RAM_BASE), -DMA_FAULT_TRANSLATION, 'the rest of RAM (the kernel, other buffers)');
  assert.deepEqual([a.ram.read32(WIN - RAM_BASE - 4), a.ram.read32(WIN + WIN_SIZE - RAM_BASE)], [0, 0]);
  sweep(dma, WIN, WIN_SIZE);
  assert.equal(da.stats.iotlbMisses, 256 + 4, '4 KiB leaves: a miss per page (plus the four faulting walks)');
  assert.throws(() => iommu.applyPolicy(da, { kind: 'window', base: RAM_BASE + RAM_SIZE - P, size: 2 * P }), /not inside VM 'a''s RAM/);
  assert.throws(() => iommu.applyPolicy(da, { kind: 'window', base: WIN + 1, size: P }), /4 KiB-aligned/);
  assert.equal(dma.read32(WIN), 0x11, 'a refused switch leaves the policy in force');
});

test('switching policies invalidates what the previous one let the IOTLB cache', () => {
  const { iommu, da, dma } = host();
  iommu.applyPolicy(da, { kind: 'whole-ram' });
  assert.equal(dma.read32(RAM_BASE), 0, 'cached: a 2 MiB leaf');
  iommu.applyPolicy(da, { kind: 'window', base: WIN, size: WIN_SIZE });
  assert.equal(dma.read32(RAM_BASE), -DMA_FAULT_TRANSLATION, 'the whole-RAM leaf did not survive the switch');
  assert.equal(dma.read32(WIN), 0);
  iommu.applyPolicy(da, { kind: 'whole-ram' });
  assert.equal(dma.read32(RAM_BASE), 0);
  assert.deepEqual(da.policy, { kind: 'whole-ram' });
  assert.equal(da.table.pages, 5, 'the window\'s level-0 table was freed');
  assert.equal(da.stats.invalidations, 2);
});

test('the device tree: /reserved-memory/restricted-dma@… and the function\'s node pointing at it', () => {
  const fdt = new FdtBuilder();
  const pool = restrictedDmaPool(WIN, WIN_SIZE, fdt.allocPhandle());
  assert.deepEqual(pool.memoryRegion, [pool.phandle]);
  fdt.beginNode('');
  fdt.propU32('#address-cells', 2);
  fdt.propU32('#size-cells', 2);
  writeReservedMemory(fdt, [pool]);
  fdt.beginNode('pci@30000000');
  fdt.propU32('#address-cells', 3);
  fdt.propU32('#size-cells', 2);
  writePciFunctionNode(fdt, { bus: 0, device: 0x12, fn: 0 }, pool);
  writePciFunctionNode(fdt, { bus: 0, device: 0x12, fn: 2 }, pool);
  fdt.endNode();
  fdt.endNode();
  const root = parseFdt(fdt.finish()).root;
  const rm = findNode(root, '/reserved-memory')!;
  assert.deepEqual([propU32s(rm, '#address-cells'), propU32s(rm, '#size-cells'), propU32s(rm, 'ranges')], [[2], [2], []]);
  const node = findNode(root, `/reserved-memory/restricted-dma@${WIN.toString(16)}`)!;
  assert.equal(propString(node, 'compatible'), 'restricted-dma-pool');
  assert.deepEqual(propU32s(node, 'reg'), [0, WIN, 0, WIN_SIZE]);
  assert.deepEqual(propU32s(node, 'phandle'), [pool.phandle]);
  assert.equal(node.props.has('no-map') || node.props.has('reusable'), false, 'Linux refuses a restricted pool with either');
  const vf = findNode(root, '/pci@30000000/ethernet@12')!;
  assert.deepEqual(propU32s(vf, 'reg'), [0x90 << 8, 0, 0, 0, 0], 'phys.hi = bus << 16 | devfn << 8');
  assert.deepEqual(propU32s(vf, 'memory-region'), [pool.phandle]);
  assert.ok(findNode(root, '/pci@30000000/ethernet@12,2'));
  assert.equal(requesterId({ bus: 1, device: 0x12, fn: 2 }), 0x192);
  assert.throws(() => restrictedDmaPool(WIN, RESTRICTED_POOL_MIN_BYTES - P, 1), /swiotlb segment/);
  assert.throws(() => restrictedDmaPool(WIN + 8, WIN_SIZE, 1), /4 KiB aligned/);
  assert.throws(() => requesterId({ bus: 0, device: 32, fn: 0 }), /device 0-31/);
});
