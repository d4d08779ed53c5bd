// The host bridge's device-tree node, as pci-host-ecam-generic and of_irq_parse_raw read it; decompiled with dtc
// when it is installed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildVirtDeviceTree, type VirtBoardDesc } from '../../src/board/virt-dt.js';
import { parseFdt, findNode, propU32s, propString, type FdtNode } from '../../src/board/fdt-reader.js';
import { VIRT } from '../../src/board/virt-map.js';
import { pciInterruptMap } from '../../src/pci/host-dt.js';
import { swizzle } from '../../src/pci/intx.js';
import { machine } from './harness.js';

const desc = (over: Partial<VirtBoardDesc>): VirtBoardDesc => ({
  harts: 1, ramBase: 0x8000_0000, ramSize: 1 << 20, isa: { base: 'rv64imafdc', extensions: ['zicsr'] },
  mmuType: 'riscv,sv39', timebaseFrequency: 10_000_000, bootargs: '', devices: { plic: VIRT.plic }, ...over,
});

function pciNode(blob: Uint8Array): FdtNode {
  const n = findNode(parseFdt(blob).root, '/soc/pci@30000000');
  assert.ok(n, 'no /soc/pci@30000000');
  return n;
}

test('the node carries what pci-host-ecam-generic needs, with QEMU virt windows', () => {
  const m = machine();
  const blob = buildVirtDeviceTree(desc({ socHooks: [m.host.dtHook()] }));
  const n = pciNode(blob);
  const plic = propU32s(findNode(parseFdt(blob).root, '/soc/plic@c000000')!, 'phandle')![0]!;
  assert.equal(propString(n, 'compatible'), 'pci-host-ecam-generic');
  assert.equal(propString(n, 'device_type'), 'pci');
  assert.deepEqual(propU32s(n, '#address-cells'), [3]);
  assert.deepEqual(propU32s(n, '#size-cells'), [2]);
  assert.deepEqual(propU32s(n, '#interrupt-cells'), [1]);
  assert.deepEqual(propU32s(n, 'bus-range'), [0, 255]);
  assert.deepEqual(propU32s(n, 'linux,pci-domain'), [0]);
  assert.ok(n.props.has('dma-coherent'));
  assert.equal(n.props.has('msi-parent'), false);
  assert.deepEqual(propU32s(n, 'reg'), [0, 0x3000_0000, 0, 0x1000_0000]);
  assert.deepEqual(propU32s(n, 'ranges'), [
    0x0100_0000, 0, 0, 0, 0x0300_0000, 0, 0x1_0000,
    0x0200_0000, 0, 0x4000_0000, 0, 0x4000_0000, 0, 0x4000_0000,
    0x0300_0000, 4, 0, 4, 0, 4, 0,
  ]);
  assert.deepEqual(propU32s(n, 'interrupt-map-mask'), [0x1800, 0, 0, 7]);
  const map = propU32s(n, 'interrupt-map')!;
  assert.equal(map.length, 16 * 6);
  // Slot 1 INTA (entry 4) -> source 0x21; slot 3 INTD (entry 15) -> (3 + 3) % 4 = 2 -> 0x22.
  assert.deepEqual(map.slice(4 * 6, 5 * 6), [1 << 11, 0, 0, 1, plic, 0x21]);
  assert.deepEqual(map.slice(15 * 6, 16 * 6), [3 << 11, 0, 0, 4, plic, 0x22]);
});

test('the interrupt map agrees with the lines the host bridge drives, for every slot and pin', () => {
  const map = pciInterruptMap(7, VIRT.pcieIrq, 1);
  for (let slot = 0; slot < 32; slot++) {
    for (let pin = 1; pin <= 4; pin++) {
      const key = (slot << 11) & 0x1800; // interrupt-map-mask
      const e = map.findIndex((_, i) => i % 6 === 0 && map[i] === key && map[i + 3] === pin);
      assert.equal(map[e + 5], VIRT.pcieIrq + swizzle(slot, pin as 1 | 2 | 3 | 4), `slot ${slot} pin ${pin}`);
    }
  }
});

test('with AIA: an APLIC parent with two-cell specifiers, msi-parent at the IMSIC, phandles resolved while building', () => {
  const m = machine();
  let aplic = 0, imsic = 0;
  const aia = (_f: unknown, ctx: { allocPhandle(): number }) => { imsic = ctx.allocPhandle(); aplic = ctx.allocPhandle(); };
  const blob = buildVirtDeviceTree(desc({
    devices: { plic: null },
    socHooks: [aia, m.host.dtHook({ interruptParent: () => aplic, interruptCells: 2, msiParent: () => imsic, prefetchable64: true })],
  }));
  const n = pciNode(blob);
  assert.deepEqual(propU32s(n, 'msi-parent'), [imsic]);
  const map = propU32s(n, 'interrupt-map')!;
  assert.deepEqual(map.slice(0, 7), [0, 0, 0, 1, aplic, 0x20, 4]);
  assert.equal(map.length, 16 * 7);
  assert.equal(propU32s(n, 'ranges')![14], 0x4300_0000, '64-bit window marked prefetchable');
});

test('no wired controller and no INTx wiring: the node has no interrupt-map', () => {
  const m = machine();
  const n = pciNode(buildVirtDeviceTree(desc({ devices: { plic: null }, socHooks: [m.host.dtHook({ msiParent: 9 })] })));
  assert.equal(n.props.has('interrupt-map'), false);
  assert.deepEqual(propU32s(n, 'msi-parent'), [9]);
});

test('dtc decompiles the tree with the PCI node', (t) => {
  const probe = spawnSync('dtc', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) { t.skip('dtc is not installed (apt install device-tree-compiler)'); return; }
  const m = machine();
  const dir = mkdtempSync(join(tmpdir(), 'vmio-pci-dt-'));
  try {
    const file = join(dir, 'virt.dtb');
    writeFileSync(file, buildVirtDeviceTree(desc({ socHooks: [m.host.dtHook()] })));
    const r = spawnSync('dtc', ['-I', 'dtb', '-O', 'dts', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /pci@30000000 \{/);
    assert.match(r.stdout, /compatible = "pci-host-ecam-generic";/);
    assert.match(r.stdout, /interrupt-map-mask = <0x1800 0x00 0x00 0x07>;/);
    assert.doesNotMatch(r.stderr, /pci@30000000/, `dtc warned about the PCI node:\n${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
