// Differential check of the PCI host bridge node against the one QEMU's own virt board writes
// (qemu-system-riscv64 -machine virt,dumpdtb=...), with the PLIC and with AIA (APLIC + IMSIC). Phandle cells are
// compared by what they point at. Skipped when QEMU is not installed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildVirtDeviceTree, type VirtDtHook } from '../../src/board/virt-dt.js';
import { VIRT } from '../../src/board/virt-map.js';
import { parseFdt, findNode, propU32s, type FdtNode } from '../../src/board/fdt-reader.js';
import { machine } from './harness.js';

const RAM = 256 << 20;
const QEMU = 'qemu-system-riscv64';

function qemuDtb(machineOpts: string): Uint8Array | null {
  const dir = mkdtempSync(join(tmpdir(), 'vmio-qemu-dt-'));
  try {
    const file = join(dir, 'virt.dtb');
    const r = spawnSync(QEMU, ['-machine', `virt,${machineOpts}dumpdtb=${file}`, '-m', '256M', '-nographic', '-nodefaults'], { encoding: 'utf8', timeout: 30_000 });
    if (r.error !== undefined || r.status !== 0) return null;
    return new Uint8Array(readFileSync(file));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The PCI node's properties, with every interrupt-map parent and msi-parent replaced by "<node name>". */
function describe(blob: Uint8Array, cellsPerEntry: number): Map<string, string> {
  const root = parseFdt(blob).root;
  const byPhandle = new Map<number, string>();
  const walk = (n: FdtNode, path: string) => {
    const ph = propU32s(n, 'phandle');
    if (ph !== null) byPhandle.set(ph[0]!, path.replace(/@.*$/, ''));
    for (const c of n.children) walk(c, c.name);
  };
  walk(root, '/');
  const pci = findNode(root, '/soc/pci@30000000');
  assert.ok(pci, 'no /soc/pci@30000000');
  const out = new Map<string, string>();
  const who = (ph: number) => `<${byPhandle.get(ph) ?? `unknown phandle ${ph}`}>`;
  for (const [name, value] of pci.props) {
    if (name === 'interrupt-map') {
      out.set(name, propU32s(pci, name)!.map((c, i) => (i % cellsPerEntry === 4 ? who(c) : String(c))).join(' '));
    } else if (name === 'msi-parent') out.set(name, who(propU32s(pci, name)![0]!));
    else out.set(name, Buffer.from(value).toString('hex'));
  }
  return out;
}

function ours(hook: (h: ReturnType<typeof machine>['host']) => VirtDtHook, extra: VirtDtHook[] = [], plic = true): Uint8Array {
  const m = machine();
  return buildVirtDeviceTree({
    harts: 1, ramBase: 0x8000_0000, ramSize: RAM, isa: { base: 'rv64imafdc', extensions: [] }, mmuType: 'riscv,sv39',
    timebaseFrequency: 10_000_000, bootargs: '', socHooks: [...extra, hook(m.host)], devices: { plic: plic ? VIRT.plic : null },
  });
}

test('the PCI node matches QEMU virt with the PLIC, property by property', (t) => {
  const theirs = qemuDtb('');
  if (theirs === null) { t.skip(`${QEMU} is not installed or failed to dump its device tree`); return; }
  const want = describe(theirs, 6);
  // The oracle can fail: a node with the 64-bit window marked prefetchable differs in `ranges`.
  const wrong = describe(ours((h) => h.dtHook({ prefetchable64: true })), 6);
  assert.notEqual(wrong.get('ranges'), want.get('ranges'));
  assert.deepEqual(describe(ours((h) => h.dtHook()), 6), want);
});

test('the PCI node matches QEMU virt with AIA: APLIC specifiers of two cells, msi-parent at the S-level IMSIC', (t) => {
  const theirs = qemuDtb('aia=aplic-imsic,');
  if (theirs === null) { t.skip(`${QEMU} is not installed or failed to dump its device tree`); return; }
  const want = describe(theirs, 7);
  // Stand-ins for the AIA hook's nodes, named as QEMU names them, so the phandle cells can be compared by target.
  let aplic = 0, imsic = 0;
  const aia: VirtDtHook = (fdt, ctx) => {
    imsic = ctx.allocPhandle(); aplic = ctx.allocPhandle();
    for (const [name, ph] of [['imsics@28000000', imsic], ['aplic@d000000', aplic]] as const) {
      fdt.beginNode(name); fdt.propU32('phandle', ph); fdt.endNode();
    }
  };
  const got = describe(ours((h) => h.dtHook({ interruptParent: () => aplic, interruptCells: 2, msiParent: () => imsic }), [aia], false), 7);
  assert.equal(want.get('msi-parent'), '<imsics>');
  assert.deepEqual(got, want);
});
