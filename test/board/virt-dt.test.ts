// The virt board device tree: checked with our reader, and decompiled with dtc when it is installed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildVirtDeviceTree, isaStrings, regCells, type VirtBoardDesc } from '../../src/board/virt-dt.js';
import { parseFdt, findNode, propU32s, propU64s, propStrings, propString, type FdtNode } from '../../src/board/fdt-reader.js';
import { FdtError } from '../../src/board/fdt.js';
import { VIRT } from '../../src/board/virt-map.js';

/** Every board device at its virt address (the tree holds only what the wiring point passes). */
const ALL = { uart: VIRT.uart0, rtc: VIRT.rtc, syscon: VIRT.test, plic: VIRT.plic, clint: VIRT.clint };

const EXT = ['i', 'm', 'a', 'f', 'd', 'c', 'zicsr', 'zifencei', 'zicntr', 'zihintpause', 'sstc'];
function desc(over: Partial<VirtBoardDesc> = {}): VirtBoardDesc {
  return {
    harts: 2, ramBase: 0x8000_0000, ramSize: 0x1_0000_0000, isa: { base: 'rv64imafdc', extensions: EXT },
    mmuType: 'riscv,sv48', timebaseFrequency: 10_000_000, bootargs: 'console=ttyS0 earlycon=sbi',
    initrd: { start: 0x8800_0000, end: 0x8812_3456 }, rngSeed: new Uint8Array([1, 2, 3, 4]), devices: ALL, ...over,
  };
}
const node = (root: FdtNode, path: string): FdtNode => {
  const n = findNode(root, path);
  assert.ok(n, `missing node ${path}`);
  return n;
};

test('virt tree: chosen, memory, cpus with intc children', () => {
  const t = parseFdt(buildVirtDeviceTree(desc()));
  const chosen = node(t.root, '/chosen');
  assert.equal(propString(chosen, 'bootargs'), 'console=ttyS0 earlycon=sbi');
  assert.equal(propString(chosen, 'stdout-path'), '/soc/serial@10000000');
  assert.deepEqual(propU64s(chosen, 'linux,initrd-start'), [0x8800_0000n]);
  assert.deepEqual(propU64s(chosen, 'linux,initrd-end'), [0x8812_3456n]);
  assert.deepEqual([...chosen.props.get('rng-seed')!], [1, 2, 3, 4]);
  assert.deepEqual(propU32s(node(t.root, '/memory@80000000'), 'reg'), [0, 0x8000_0000, 1, 0]);
  const cpus = node(t.root, '/cpus');
  assert.deepEqual(propU32s(cpus, 'timebase-frequency'), [10_000_000]);
  for (const h of [0, 1]) {
    const cpu = node(t.root, `/cpus/cpu@${h}`);
    assert.equal(propString(cpu, 'device_type'), 'cpu');
    assert.deepEqual(propU32s(cpu, 'reg'), [h]);
    assert.equal(propString(cpu, 'riscv,isa'), 'rv64imafdc_zicsr_zifencei_zicntr_zihintpause_sstc');
    assert.equal(propString(cpu, 'riscv,isa-base'), 'rv64i');
    assert.deepEqual(propStrings(cpu, 'riscv,isa-extensions'), EXT);
    assert.equal(propString(cpu, 'mmu-type'), 'riscv,sv48');
    const intc = node(cpu, 'interrupt-controller');
    assert.equal(propString(intc, 'compatible'), 'riscv,cpu-intc');
    assert.deepEqual(propU32s(intc, '#interrupt-cells'), [1]);
    assert.ok(intc.props.has('interrupt-controller'));
  }
});

test('virt tree: soc devices point at the right interrupt controllers', () => {
  const t = parseFdt(buildVirtDeviceTree(desc()));
  const intc = [0, 1].map((h) => propU32s(node(t.root, `/cpus/cpu@${h}/interrupt-controller`), 'phandle')![0]!);
  const clint = node(t.root, '/soc/clint@2000000');
  assert.deepEqual(propStrings(clint, 'compatible'), ['sifive,clint0', 'riscv,clint0']);
  assert.deepEqual(propU32s(clint, 'interrupts-extended'), [intc[0], 3, intc[0], 7, intc[1], 3, intc[1], 7]);
  const plic = node(t.root, '/soc/plic@c000000');
  assert.deepEqual(propU32s(plic, 'interrupts-extended'), [intc[0], 11, intc[0], 9, intc[1], 11, intc[1], 9]);
  assert.deepEqual(propU32s(plic, 'riscv,ndev'), [95]);
  assert.deepEqual(propU32s(plic, 'reg'), regCells(0x0c00_0000, 0x60_0000));
  const plicPh = propU32s(plic, 'phandle')![0];
  const uart = node(t.root, '/soc/serial@10000000');
  assert.equal(propString(uart, 'compatible'), 'ns16550a');
  assert.deepEqual(propU32s(uart, 'clock-frequency'), [0x384000]);
  assert.deepEqual(propU32s(uart, 'interrupts'), [10]);
  assert.deepEqual(propU32s(uart, 'interrupt-parent'), [plicPh]);
  assert.deepEqual(propU32s(node(t.root, '/soc/rtc@101000'), 'interrupts'), [11]);
  const testPh = propU32s(node(t.root, '/soc/test@100000'), 'phandle')![0];
  assert.deepEqual(propU32s(node(t.root, '/poweroff'), 'regmap'), [testPh]);
  assert.deepEqual(propU32s(node(t.root, '/poweroff'), 'value'), [0x5555]);
  assert.deepEqual(propU32s(node(t.root, '/reboot'), 'value'), [0x7777]);
  // phandles are unique
  const all: number[] = [];
  const walk = (n: FdtNode) => { const p = propU32s(n, 'phandle'); if (p) all.push(p[0]!); n.children.forEach(walk); };
  walk(t.root);
  assert.equal(new Set(all).size, all.length);
});

test('virt tree: devices can be left out, virtio slots and hooks added', () => {
  const t = parseFdt(buildVirtDeviceTree(desc({
    harts: 1,
    initrd: undefined,
    devices: { ...ALL, rtc: null, syscon: null, virtio: [{ base: 0x1000_1000, size: 0x1000, irq: 1 }] },
    socHooks: [(fdt, ctx) => { fdt.beginNode('extra@0'); fdt.propU32('phandle', ctx.allocPhandle()); fdt.endNode(); }],
  })));
  assert.equal(findNode(t.root, '/soc/rtc@101000'), null);
  assert.equal(findNode(t.root, '/poweroff'), null);
  assert.equal(node(t.root, '/chosen').props.has('linux,initrd-start'), false);
  assert.deepEqual(propU32s(node(t.root, '/soc/virtio_mmio@10001000'), 'interrupts'), [1]);
  assert.ok(findNode(t.root, '/soc/extra@0'));
});

test('ISA strings: base letters, extra single letters and multi-letter extensions', () => {
  assert.deepEqual(isaStrings({ base: 'rv64imac', extensions: ['h', 'zba', 'm'] }),
    { isa: 'rv64imach_zba', base: 'rv64i', extensions: ['i', 'm', 'a', 'c', 'h', 'zba'] });
  assert.throws(() => isaStrings({ base: 'x86', extensions: [] }), FdtError);
  assert.throws(() => isaStrings({ base: 'rv64i', extensions: ['Z B'] }), FdtError);
});

test('dtc decompiles the virt tree without errors or warnings', (t) => {
  const which = spawnSync('dtc', ['--version'], { encoding: 'utf8' });
  if (which.error !== undefined || which.status !== 0) {
    t.skip('dtc not installed (Debian package device-tree-compiler)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'vmio-dt-'));
  try {
    const file = join(dir, 'virt.dtb');
    writeFileSync(file, buildVirtDeviceTree(desc({ harts: 4, devices: { ...ALL, virtio: [{ base: 0x1000_1000, size: 0x1000, irq: 1 }] } })));
    const r = spawnSync('dtc', ['-I', 'dtb', '-O', 'dts', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'dtc printed warnings');
    for (const s of ['serial@10000000 {', 'compatible = "ns16550a";', 'plic@c000000 {', 'riscv,ndev = <0x5f>;',
      'clint@2000000 {', 'cpu@3 {', 'compatible = "riscv,cpu-intc";', 'stdout-path = "/soc/serial@10000000";',
      'compatible = "syscon-poweroff";', 'virtio_mmio@10001000 {', 'compatible = "google,goldfish-rtc";']) {
      assert.ok(r.stdout.includes(s), `dtc output lacks ${s}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
