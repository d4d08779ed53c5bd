// The wiring point: what the guest's device tree describes is exactly what is mapped on the bus, and the
// realtime scheduler runs a guest to its end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildVm, rngSeed } from '../../src/host/build-vm.js';
import { VfAssignments } from '../../src/host/assign-vf.js';
import { HostConsole } from '../../src/host/console.js';
import { parseRunOptions, type RunConfig } from '../../src/cli/run-options.js';
import { makeElf } from '../../src/testing/elf-writer.js';
import { parseFdt, findNode, propU32s, type FdtNode } from '../../src/board/fdt-reader.js';

const tmp = mkdtempSync(join(tmpdir(), 'vmio-wiring-'));
const POWEROFF = [0x001002b7, 0x00005337, 0x55530313, 0x0062a023, 0x0000006f];

async function vmFor(args: string[]) {
  const elf = join(tmp, 'p.elf');
  writeFileSync(elf, makeElf(0x8000_0000, POWEROFF));
  const config = parseRunOptions(['--bios', 'none', '--kernel', elf, '--memory', '16', ...args]) as RunConfig;
  return buildVm(config, new HostConsole(null, { write: () => true }));
}

/** Every (base, size) pair of a node's reg with 2 address and 2 size cells. */
function regs(n: FdtNode): Array<[number, number]> {
  const c = propU32s(n, 'reg') ?? [];
  const out: Array<[number, number]> = [];
  for (let i = 0; i + 3 < c.length; i += 4) out.push([c[i]! * 2 ** 32 + c[i + 1]!, c[i + 2]! * 2 ** 32 + c[i + 3]!]);
  return out;
}

test('the device tree and the bus agree: every /soc reg window is a mapped region and every region is in the tree', async () => {
  for (const smp of ['1', '3']) {
    const vm = await vmFor(['--smp', smp]);
    const soc = findNode(parseFdt(vm.deviceTree).root, '/soc');
    assert.ok(soc);
    const inTree = soc.children.flatMap(regs).map(([b, s]) => `${b.toString(16)}+${s.toString(16)}`).sort();
    const onBus = vm.bus.allRegions.filter((r) => r.mapped).map((r) => `${r.base.toString(16)}+${r.size.toString(16)}`).sort();
    assert.deepEqual(inTree, onBus);
  }
});

test('the realtime scheduler runs a guest to its poweroff', async () => {
  const vm = await vmFor(['--realtime']);
  const exit = await vm.run(30);
  assert.equal(exit.kind, 'poweroff');
  assert.equal(vm.clock.deterministic, false);
  assert.ok(vm.metrics.instructionsRetired >= 4);
});

test('a VF given with dma=window: a restricted-dma-pool below the images, the VF slot\'s node names it, the IOMMU maps only it', async () => {
  const elf = join(tmp, 'p.elf');
  writeFileSync(elf, makeElf(0x8000_0000, POWEROFF));
  const config = parseRunOptions(['--bios', 'none', '--kernel', elf, '--memory', '64']) as RunConfig;
  for (const dma of ['window', 'whole-ram'] as const) {
    const assignments = new VfAssignments();
    const vm = await buildVm(config, new HostConsole(null, { write: () => true }), {
      name: 'g', assignments, vfs: [{ domain: 'dd', index: 0, dma, windowMiB: 4, irq: 'hypervisor' }],
    });
    const root = parseFdt(vm.deviceTree).root;
    const port = assignments.owner('dd', 0)!;
    assert.equal(port.irq, 'hypervisor');
    const pci = findNode(root, '/soc')!.children.find((c) => c.name.startsWith('pci@'))!;
    const vfNode = pci.children.find((c) => c.name === `ethernet@${port.slot.toString(16)}`);
    if (dma === 'whole-ram') {
      assert.deepEqual(port.dma, { kind: 'whole-ram' });
      assert.equal(findNode(root, '/reserved-memory'), null);
      assert.equal(vfNode, undefined);
      continue;
    }
    assert.equal(port.dma?.kind, 'window');
    const w = port.dma as { base: number; size: number };
    assert.equal(w.size, 4 << 20);
    assert.ok(w.base >= 0x8000_0000 + (8 << 20) && w.base + w.size <= 0x8000_0000 + (62 << 20), `window 0x${w.base.toString(16)} lies between the kernel and the device tree`);
    const pool = findNode(root, `/reserved-memory/restricted-dma@${w.base.toString(16)}`)!;
    assert.ok(pool, 'the pool node');
    assert.deepEqual(regs(pool), [[w.base, w.size]]);
    assert.ok(vfNode, 'the VF slot has a node under the host bridge');
    assert.deepEqual(propU32s(vfNode, 'memory-region'), propU32s(pool, 'phandle'));
    assert.deepEqual(propU32s(vfNode, 'reg'), [port.slot << 11, 0, 0, 0, 0]);
  }
});

test('--nic none,model=xen-net: a Xen guest — /hypervisor with the per-hart upcall 24, the reserved region, hart delegation, its vif in xenstore', async () => {
  // Any kernel carrying the port's mark passes the variant check; this one is a raw binary that is never run.
  const kernel = join(tmp, 'xen-marked.bin');
  writeFileSync(kernel, Buffer.concat([Buffer.from(Uint32Array.from(POWEROFF).buffer), Buffer.from('riscv/xen:online\0')]));
  const config = parseRunOptions(['--kernel', kernel, '--memory', '64', '--smp', '2', '--nic', 'none,model=xen-net']) as RunConfig;
  const vm = await buildVm(config, new HostConsole(null, { write: () => true }));
  const root = parseFdt(vm.deviceTree).root;
  const hyp = findNode(root, '/hypervisor');
  assert.ok(hyp, 'the /hypervisor node');
  const intcs = [0, 1].map((h) => propU32s(findNode(root, `/cpus/cpu@${h}/interrupt-controller`)!, 'phandle')![0]!);
  assert.deepEqual(propU32s(hyp, 'interrupts-extended'), [intcs[0], 24, intcs[1], 24], 'local interrupt 24 of each hart\'s intc');
  const [grantBase, grantSize] = regs(hyp)[0]!;
  const reserved = findNode(root, '/reserved-memory')!.children.flatMap(regs);
  assert.ok(reserved.some(([b, s]) => b === grantBase && s > grantSize), 'the grant frames (and the xenstore page after them) are reserved');
  assert.equal(grantBase + reserved[0]![1], 0x8000_0000 + 64 * 2 ** 20, 'carved from the top of RAM');
  for (const h of vm.harts) assert.equal(h.readCsr(0x303) & (1n << 24n), 1n << 24n, `hart ${h.id} delegates the PV event interrupt`);
  const xen = (vm.metrics.toJSON() as { devices: Record<string, { guests: Record<string, unknown>; vifs: Record<string, unknown> }> }).devices['xen']!;
  assert.deepEqual(Object.keys(xen.guests), ['1']);
  assert.deepEqual(Object.keys(xen.vifs), ['/local/domain/1/device/vif/0']);
  vm.close();
});

test('/chosen/rng-seed: 64 bytes, from the VM name in deterministic mode (repeatable, distinct per VM), random with --realtime', async () => {
  const vm = await vmFor([]);
  try {
    const seed = findNode(parseFdt(vm.deviceTree).root, '/chosen')!.props.get('rng-seed');
    assert.ok(seed !== undefined && seed.length === 64);
    assert.deepEqual([...seed], [...rngSeed(false, '')]);
  } finally { vm.close(); }
  assert.deepEqual(rngSeed(false, 'g1'), rngSeed(false, 'g1'));
  assert.notDeepEqual(rngSeed(false, 'g1'), rngSeed(false, 'g2'));
  assert.notDeepEqual(rngSeed(true, 'g1'), rngSeed(true, 'g1'));
});
