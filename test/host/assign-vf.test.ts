// Isolation of an assigned VF: the real 82576 VF model, its DMA through the Host's IOMMU into guest A's domain
// (as assign-vf.ts wires it), driven by a hostile guest-A driver whose descriptors point at guest B's memory. Every
// such access is refused and logged in the IOMMU's fault log under the VF's device ID; B's memory is unchanged; the
// VF keeps working inside A.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as D from '../../src/devices/igb/defines.js';
import * as R from '../../src/devices/igb/regs.js';
import { DOORBELL, RAM_BASE, RAM_SIZE } from '../../src/devices/igb/testing/machine.js';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { Bus } from '../../src/memory/bus.js';
import { DMA_OK } from '../../src/memory/dma.js';
import { Metrics } from '../../src/metrics/counters.js';
import { PciHostBridge } from '../../src/pci/host-bridge.js';
import { virtPciWindows } from '../../src/pci/windows.js';
import { CostMeter, COST_OFF } from '../../src/metrics/cost.js';
import { AssignedDmaSpace, VfAssignments } from '../../src/host/assign-vf.js';
import type { IommuDomain } from '../../src/iommu/iommu.js';
import { frame, hex, PEER, upMachine, VF_MACS } from '../devices/igb/helpers.js';

/** VF 0 of the test machine's PF (00:02.0 + 0x80): 00:12.0. */
const VF0_RID = 0x90;

function assignedMachine() {
  const assignments = new VfAssignments();
  const iommu = assignments.iommu;
  const cost = new CostMeter({ name: 'test', costs: { ...COST_OFF.costs } });
  // Guest B: its own RAM, full of a pattern, with a domain of its own (as if it had a VF too).
  const bRam = new GuestMemory(RAM_BASE, RAM_SIZE);
  bRam.fill(RAM_BASE, RAM_SIZE, 0x5b);
  const db = iommu.createDomain('b', bRam);
  iommu.applyPolicy(db, { kind: 'whole-ram' });
  let da: IommuDomain | null = null;
  // Guest A is the test machine itself: the VF's function space is A's IOMMU space.
  const m = upMachine(1, {
    dmaSpace: (name, targets, counters) => {
      if (name !== '00:12.0') return undefined;
      if (da === null) {
        da = iommu.createDomain('a', targets.ram, cost);
        iommu.applyPolicy(da, { kind: 'whole-ram' });
        iommu.mapMsiPages(da, DOORBELL, 1);
        iommu.attach(VF0_RID, da);
      }
      return new AssignedDmaSpace(targets, counters, iommu, VF0_RID, da, cost);
    },
  });
  return { m, iommu, db, bRam, cost };
}

test('a guest-A driver pointing the assigned VF at guest B\'s memory: refused, logged under the VF\'s ID, B unchanged', () => {
  const { m, iommu, db, bRam, cost } = assignedMachine();
  const before = bRam.slice(RAM_BASE, RAM_SIZE);
  assert.ok(m.vectorsOf(1).length > 0, 'the VF\'s MSI-X messages (mailbox) reached A\'s interrupt file through the IOMMU');
  assert.equal(cost.directMsi, 0, 'direct delivery is flagged only while a message is written');
  const vf = m.vfDrvs[0]!;
  // The oracle can fail: inside A the VF transmits.
  const ok = frame(PEER, VF_MACS[0]!, 1);
  vf.xmit(ok);
  assert.deepEqual(m.link.sent.map(hex), [hex(ok)]);
  const faultsBefore = iommu.faults.byDevice(VF0_RID);
  // TX from B's RAM by host physical address: a read of B's secrets.
  const bHost = db.hostPa(RAM_BASE + 0x1000);
  vf.xmit(frame(PEER, VF_MACS[0]!, 2), { addr: bHost });
  assert.equal(m.link.sent.length, 1, 'nothing of B left the wire');
  // RX into B: the next receive descriptor names B's host address.
  const ring = vf.rx!;
  m.ram.write64(ring.base - RAM_BASE + ring.next * D.ADV_DESC_SIZE, BigInt(bHost));
  assert.equal(m.pf.receive(frame(VF_MACS[0]!, PEER, 3)), false);
  // The whole RX ring moved onto B's host address.
  vf.w(R.RXQ_ALIAS + R.Q_DBAL, bHost >>> 0);
  vf.w(R.RXQ_ALIAS + R.Q_DBAH, Math.floor(bHost / 2 ** 32));
  assert.equal(m.pf.receive(frame(VF_MACS[0]!, PEER, 4)), false);
  const logged = iommu.faults.byDevice(VF0_RID) - faultsBefore;
  assert.ok(logged >= 3, `each refused access is in the fault log under device 0x${VF0_RID.toString(16)} (${logged})`);
  const recs = iommu.faults.records().filter((r) => r.did === VF0_RID);
  assert.ok(recs.some((r) => r.iotval === bHost), `a record names B's address as the IOVA: ${JSON.stringify(recs)}`);
  const after = bRam.slice(RAM_BASE, RAM_SIZE);
  assert.ok(Buffer.compare(Buffer.from(before), Buffer.from(after)) === 0, 'not one byte of B changed');
  assert.equal(db.stats.faults, 0, 'B\'s domain saw nothing: the faults are A\'s device\'s');
});

test('plug: the function appears at the guest\'s reserved slot behind the guest\'s IOMMU domain; unplug removes both', () => {
  const assignments = new VfAssignments();
  const metrics = new Metrics();
  const ram = new GuestMemory(RAM_BASE, RAM_SIZE);
  const bus = new Bus(ram, metrics);
  const pci = new PciHostBridge({ bus, metrics, windows: virtPciWindows(RAM_BASE, RAM_SIZE) });
  const port = { vmName: 'g', pci, bus, ram, metrics, harts: 2, slot: 3 };
  const device = { identity: { vendorId: 0x8086, deviceId: 0x10ca, classCode: 0x020000 }, reset: () => {} };
  assignments.register({ domain: 'dd', index: 0 }, port);
  assert.equal(assignments.owner('dd', 0), port);
  assert.equal(assignments.owner('dd', 1), null, 'an unassigned VF stays in its driver domain');
  assert.throws(() => assignments.register({ domain: 'dd', index: 0 }, port), /VF dd:0 is assigned to VM 'g' already/);
  const id0 = assignments.deviceId('dd', 0x90), idOther = assignments.deviceId('dd2', 0x90);
  assert.notEqual(id0, idOther, 'two driver domains\' VFs get distinct IOMMU device IDs');
  const a = assignments.plug(device, port, id0);
  assert.equal(pci.find(0, 3, 0), a.fn);
  assert.ok(a.fn.dma instanceof AssignedDmaSpace);
  const d = assignments.iommu.domainOf(id0)!;
  assert.equal(d.vmName, 'g');
  assert.deepEqual(d.policy, { kind: 'whole-ram' });
  assert.equal(d.msiPages.length, 2, 'one interrupt-file page per hart');
  a.fn.dma.enabled = true; // what the guest's Bus Master Enable does
  assert.equal(a.fn.dma.write32(RAM_BASE + 0x100, 0x1234_5678), DMA_OK);
  assert.equal(ram.read32(0x100), 0x1234_5678, 'IOVA = GPA reaches the guest\'s own RAM');
  a.unplug();
  assert.equal(pci.find(0, 3, 0), null);
  assert.equal(assignments.iommu.domainOf(id0), null);
  a.unplug();
  const b = assignments.plug(device, port, id0);
  assert.equal(assignments.iommu.domainOf(id0), d, 'plugged again: the guest\'s one domain');
  b.unplug();
});
