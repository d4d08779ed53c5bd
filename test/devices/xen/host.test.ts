// The wiring surface of vmio's Xen (src/devices/xen/host.ts, dt.ts): the device tree a guest port needs, the region
// carved for grant frames and the xenstore page, a guest created on that layout, and the modelled costs charged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findNode, parseFdt, propStrings, propU32s } from '../../../src/board/fdt-reader.js';
import { buildVirtDeviceTree, type VirtBoardDesc } from '../../../src/board/virt-dt.js';
import { xenDtHook, xenRegion } from '../../../src/devices/xen/dt.js';
import { XenHost } from '../../../src/devices/xen/host.js';
import { CostMeter } from '../../../src/metrics/cost.js';
import { MockNetfront } from '../../../src/devices/xen/testing/mock-frontend.js';
import { setupHostGuest } from '../../../src/devices/xen/testing/setup.js';
import { pattern, udpFrame } from '../../../src/devices/virtio/net/testing/packets.js';

const BOARD: VirtBoardDesc = {
  harts: 2, ramBase: 0x8000_0000, ramSize: 0x1000_0000, isa: { base: 'rv64imafdc', extensions: ['i', 'm', 'a', 'f', 'd', 'c', 'zicsr'] },
  mmuType: 'riscv,sv39', timebaseFrequency: 10_000_000, bootargs: 'console=hvc0',
};

test('the device tree: /hypervisor (xen,xen-4.19, xen,xen) with the grant region and a per-hart upcall; the region is reserved', () => {
  const region = xenRegion(BOARD.ramBase, BOARD.ramSize);
  assert.equal(region.base + region.size, BOARD.ramBase + BOARD.ramSize);
  assert.equal(region.storePfn * 4096, region.grantBase + 32 * 4096);
  const tree = parseFdt(buildVirtDeviceTree({ ...BOARD, rootHooks: [xenDtHook(region, { kind: 'local', hwirq: 20 })] })).root;
  const hv = findNode(tree, '/hypervisor')!;
  assert.deepEqual(propStrings(hv, 'compatible'), ['xen,xen-4.19', 'xen,xen']);
  assert.deepEqual(propU32s(hv, 'reg'), [0, 0x8fff_f000 - 32 * 4096, 0, 32 * 4096]);
  const ie = propU32s(hv, 'interrupts-extended')!;
  assert.equal(ie.length, 4);
  assert.deepEqual([ie[1], ie[3]], [20, 20]);
  const intc0 = findNode(tree, '/cpus/cpu@0/interrupt-controller')!;
  assert.equal(ie[0], propU32s(intc0, 'phandle')![0]);
  const rsv = findNode(tree, `/reserved-memory/xen@${region.base.toString(16)}`)!;
  assert.ok(rsv.props.has('no-map'));
  assert.deepEqual(propU32s(rsv, 'reg'), [0, region.base, 0, region.size]);
  // A wired upcall on the PLIC instead.
  const t2 = parseFdt(buildVirtDeviceTree({ ...BOARD, devices: { plic: { base: 0x0c00_0000, size: 0x60_0000 } }, rootHooks: [xenDtHook(region, { kind: 'wired', irq: 9 })] })).root;
  assert.deepEqual(propU32s(findNode(t2, '/hypervisor')!, 'interrupts'), [9]);
  assert.throws(() => buildVirtDeviceTree({ ...BOARD, rootHooks: [xenDtHook(region, { kind: 'local', hwirq: 9 })] }), /16\.\.63/);
});

test('createGuest refuses a xenstore page outside the guest\'s RAM and a duplicate domain id', () => {
  const s = setupHostGuest();
  assert.throws(() => s.host.createGuest({
    id: 2, mem: s.xen.domain.mem, ramBase: s.ram.base, ramSize: s.ram.size, vcpus: 1, platform: s.platform, storePfn: 5,
    upcall: { raise() {} },
  }), /not in the guest's RAM/);
  assert.throws(() => s.host.createGuest({
    id: 1, mem: s.xen.domain.mem, ramBase: s.ram.base, ramSize: s.ram.size, vcpus: 1, platform: s.platform, storePfn: s.ram.base / 4096,
    upcall: { raise() {} },
  }), /already exists/);
});

test('modelled costs: hypercalls, upcall injections, per-packet work and per-byte grant copies are charged', () => {
  const meter = new CostMeter({ name: 'test', costs: {
    exitUser: 0, exitKernel: 0, notify: 0, direct: 0, interruptInject: 1000, interruptDirect: 0, eoi: 0, hypercall: 100,
    copyPerByte: 1, iotlbMiss: 0, perRequest: 10,
  } });
  const host = new XenHost({ cost: meter });
  const g = setupHostGuest(host);
  const vif = host.addVif(g.xen);
  const front = new MockNetfront(g.guest, g.xs);
  front.connect();
  const before = { ...meter.events };
  const f = udpFrame({ payload: pattern(100) });
  front.transmit(f);
  assert.equal(meter.events.perRequest - before.perRequest, 1);
  assert.equal(meter.events.copyPerByte - before.copyPerByte, f.length);
  assert.ok(meter.events.hypercall - before.hypercall >= 1, 'the notify is a hypercall');
  const up = meter.events.interruptInject;
  g.guest.takeEvents();
  vif.receive(f);
  assert.equal(meter.events.interruptInject, up + 1);
  assert.ok(host.toJSON() !== null);
  assert.equal(JSON.parse(JSON.stringify(host)).vifs['/local/domain/1/device/vif/0'].txPackets, 1);
});
