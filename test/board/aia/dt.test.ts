// The AIA device-tree nodes inside the virt tree, checked against what Linux 6.12's riscv,imsics and
// riscv,aplic drivers read, and decompiled with dtc when it is installed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildVirtDeviceTree, type VirtBoardDesc } from '../../../src/board/virt-dt.js';
import { parseFdt, findNode, propU32s, propStrings, type FdtNode } from '../../../src/board/fdt-reader.js';
import { AiaDt, IRQ_TYPE_LEVEL_HIGH, type AiaDtConfig } from '../../../src/board/aia/dt.js';

function tree(cfg: AiaDtConfig): { root: FdtNode; blob: Uint8Array; aia: AiaDt } {
  const aia = new AiaDt(cfg);
  const desc: VirtBoardDesc = {
    harts: cfg.harts, ramBase: 0x8000_0000, ramSize: 0x1000_0000, isa: { base: 'rv64imafdc', extensions: ['zicsr', 'ssaia', 'smaia'] },
    mmuType: 'riscv,sv39', timebaseFrequency: 10_000_000, bootargs: '', devices: { plic: null }, socHooks: [aia.hook],
  };
  const blob = buildVirtDeviceTree(desc);
  return { root: parseFdt(blob).root, blob, aia };
}
const node = (root: FdtNode, path: string): FdtNode => {
  const n = findNode(root, path);
  assert.ok(n, `missing node ${path}`);
  return n;
};
const intc = (root: FdtNode, h: number) => propU32s(node(root, `/cpus/cpu@${h}/interrupt-controller`), 'phandle')![0]!;

test('MSI mode for the builtin SBI: S-level IMSIC and S-level APLIC with msi-parent only', () => {
  const { root, aia } = tree({ harts: 3, mode: 'msi' });
  const imsic = node(root, '/soc/imsics@28000000');
  assert.deepEqual(propStrings(imsic, 'compatible'), ['riscv,imsics']);
  assert.deepEqual(propU32s(imsic, 'reg'), [0, 0x2800_0000, 0, 3 * 0x1000]);
  assert.deepEqual(propU32s(imsic, 'interrupts-extended'), [intc(root, 0), 9, intc(root, 1), 9, intc(root, 2), 9]);
  assert.deepEqual(propU32s(imsic, 'riscv,num-ids'), [255]);
  assert.deepEqual(propU32s(imsic, '#interrupt-cells'), [0]);
  assert.deepEqual(propU32s(imsic, '#msi-cells'), [0]);
  assert.deepEqual(propU32s(imsic, 'riscv,hart-index-bits'), [2]);
  assert.ok(imsic.props.has('interrupt-controller') && imsic.props.has('msi-controller'));
  const aplic = node(root, '/soc/aplic@d000000');
  assert.deepEqual(propStrings(aplic, 'compatible'), ['riscv,aplic']);
  assert.deepEqual(propU32s(aplic, 'reg'), [0, 0x0d00_0000, 0, 0x8000]);
  assert.deepEqual(propU32s(aplic, '#interrupt-cells'), [2]);
  assert.deepEqual(propU32s(aplic, 'riscv,num-sources'), [96]);
  assert.deepEqual(propU32s(aplic, 'msi-parent'), propU32s(imsic, 'phandle'));
  assert.equal(aplic.props.has('interrupts-extended'), false); // msi-parent alone selects MSI mode in Linux
  assert.deepEqual(propU32s(aplic, 'phandle'), [aia.aplicPhandle]);
  assert.deepEqual(propU32s(imsic, 'phandle'), [aia.imsicPhandle]);
  assert.equal(findNode(root, '/soc/imsics@24000000'), null);
  assert.equal(findNode(root, '/soc/aplic@c000000'), null);
  assert.deepEqual(AiaDt.interrupts(10), [10, IRQ_TYPE_LEVEL_HIGH]);
});

test('direct mode: no IMSIC; the APLIC points at each hart\'s SEI', () => {
  const { root, aia } = tree({ harts: 2, mode: 'direct' });
  assert.equal(findNode(root, '/soc/imsics@28000000'), null);
  const aplic = node(root, '/soc/aplic@d000000');
  assert.deepEqual(propU32s(aplic, 'interrupts-extended'), [intc(root, 0), 9, intc(root, 1), 9]);
  assert.equal(aplic.props.has('msi-parent'), false);
  assert.equal(aia.imsicPhandle, 0);
});

test('machine level for OpenSBI: M-level IMSIC and root APLIC delegating every source to the S domain', () => {
  const { root, aia } = tree({ harts: 2, mode: 'msi', machineLevel: true });
  const mImsic = node(root, '/soc/imsics@24000000');
  assert.deepEqual(propU32s(mImsic, 'interrupts-extended'), [intc(root, 0), 11, intc(root, 1), 11]);
  const mAplic = node(root, '/soc/aplic@c000000');
  assert.deepEqual(propU32s(mAplic, 'msi-parent'), propU32s(mImsic, 'phandle'));
  assert.deepEqual(propU32s(mAplic, 'riscv,children'), [aia.aplicPhandle]);
  assert.deepEqual(propU32s(mAplic, 'riscv,delegation'), [aia.aplicPhandle, 1, 96]);
  const direct = tree({ harts: 1, mode: 'direct', machineLevel: true }).root;
  assert.deepEqual(propU32s(node(direct, '/soc/aplic@c000000'), 'interrupts-extended'), [intc(direct, 0), 11]);
});

test('phandles: allocated once, usable before the nodes are written, and an error before allocation', () => {
  const aia = new AiaDt({ harts: 1, mode: 'msi' });
  assert.throws(() => aia.aplicPhandle, /allocate\(ctx\) first/);
  let next = 40;
  aia.allocate({ allocPhandle: () => next++ });
  aia.allocate({ allocPhandle: () => next++ });
  assert.deepEqual([aia.imsicPhandle, aia.aplicPhandle, next], [40, 41, 42]);
  assert.throws(() => new AiaDt({ harts: 0, mode: 'msi' }), /at least 1/);
});

test('dtc decompiles the AIA tree without errors or warnings', (t) => {
  if (spawnSync('dtc', ['--version']).status !== 0) { t.skip('dtc not installed (Debian package device-tree-compiler)'); return; }
  const dir = mkdtempSync(join(tmpdir(), 'vmio-aia-dt-'));
  try {
    const file = join(dir, 'virt.dtb');
    writeFileSync(file, tree({ harts: 2, mode: 'msi', machineLevel: true }).blob);
    const r = spawnSync('dtc', ['-I', 'dtb', '-O', 'dts', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'dtc printed warnings');
    for (const s of ['compatible = "riscv,imsics"', 'compatible = "riscv,aplic"', 'riscv,delegation', 'msi-controller']) {
      assert.ok(r.stdout.includes(s), `dtc output lacks ${s}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
