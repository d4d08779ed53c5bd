// The PF and VF as PCI functions: the VF's config space (8086:10CA, no INTx, exactly 3 MSI-X vectors in BAR3, FLR),
// BAR exit classes (a VF's registers 'direct', its MSI-X table trapped), VF reset by VTCTRL.RST and by FLR reaching
// the PF as VFLRE, VF Enable cleared taking the VFs away, the PF's link change interrupt, and the uplink through a
// NicPort.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as D from '../../../src/devices/igb/defines.js';
import * as R from '../../../src/devices/igb/regs.js';
import { IgbMachine, PF_TAG } from '../../../src/devices/igb/testing/machine.js';
import type { IgbVf } from '../../../src/devices/igb/vf.js';
import { NicPort, PortCounters, type FrameSink, type NetBackend } from '../../../src/backends/net/port.js';
import {
  PCI_CAP_ID_EXP, PCI_CAP_ID_MSIX, PCI_EXP_DEVCAP, PCI_EXP_DEVCAP_FLR, PCI_EXP_DEVCTL, PCI_EXP_DEVCTL_BCR_FLR,
  PCI_INTERRUPT_PIN, PCI_MSIX_FLAGS, PCI_MSIX_PBA, PCI_MSIX_TABLE,
} from '../../../src/pci/regs.js';
import { frame, hex, PEER, PF_MAC, upMachine } from './helpers.js';

test('a VF function: 8086:10CA, no INTx, MSI-X with exactly 3 vectors (table at BAR3+0, PBA at BAR3+0x2000), FLR', () => {
  const m = upMachine(1);
  const f = m.vfBdf(0);
  assert.equal(m.pci.read32(f, 0), 0x10ca_8086);
  assert.equal(m.pci.read32(f, 0x08) >>> 8, 0x02_00_00);
  assert.equal(m.pci.read8(f, PCI_INTERRUPT_PIN), 0);
  const msix = m.pci.findCapability(f, PCI_CAP_ID_MSIX);
  assert.equal((m.pci.read16(f, msix + PCI_MSIX_FLAGS) & 0x7ff) + 1, 3);
  assert.equal(m.pci.read32(f, msix + PCI_MSIX_TABLE), 3);
  assert.equal(m.pci.read32(f, msix + PCI_MSIX_PBA), 0x2000 | 3);
  const exp = m.pci.findCapability(f, PCI_CAP_ID_EXP);
  assert.equal(m.pci.read32(f, exp + PCI_EXP_DEVCAP) & PCI_EXP_DEVCAP_FLR, PCI_EXP_DEVCAP_FLR);
  assert.deepEqual(m.pci.readBases(f).map((b) => [b.index, b.is64, b.prefetchable, Number(b.size)]), [[0, true, true, 0x4000], [3, true, true, 0x4000]]);
});

test('exit classes: VF BAR0 accesses are direct (not VM exits), its MSI-X table stays trapped; the PF\'s BAR0 traps', () => {
  const m = upMachine(1);
  const bar0 = m.vfFns[0]!.region(0)!, bar3 = m.vfFns[0]!.region(3)!;
  const d0 = bar0.counters.byClass.direct, u3 = bar3.counters.byClass.user;
  m.vfDrvs[0]!.r(R.E1000_VTSTATUS);
  m.pci.mmioRead32(bar3.base);
  assert.equal(bar0.counters.byClass.direct, d0 + 1);
  assert.equal(bar0.counters.byClass.user, 0);
  assert.equal(bar3.counters.byClass.user, u3 + 1);
  assert.ok(m.pfFn.region(0)!.counters.byClass.user > 0);
  assert.equal(m.pfFn.region(0)!.counters.byClass.direct, 0);
});

test('VF reset by VTCTRL.RST and by FLR: its queues stop, its enables clear, the PF sees VFLRE and a mailbox interrupt', () => {
  const m = upMachine(2);
  const t = m.pf.core.tables;
  assert.equal(t.vfte & 3, 3);
  for (const how of ['ctrl', 'flr'] as const) {
    const before = m.msis.length;
    if (how === 'ctrl') m.vfDrvs[1]!.w(R.E1000_VTCTRL, D.E1000_CTRL_RST);
    else {
      // pcie_flr with pci_save_state / pci_restore_state around it, as Linux does.
      const f = m.vfBdf(1), exp = m.pci.findCapability(f, PCI_CAP_ID_EXP);
      const saved = Array.from({ length: 16 }, (_, i) => m.pci.read32(f, 4 * i));
      m.pci.write16(f, exp + PCI_EXP_DEVCTL, PCI_EXP_DEVCTL_BCR_FLR);
      for (let i = 15; i >= 1; i--) m.pci.write32(f, 4 * i, saved[i]!);
      const bar3 = m.pci.readBases(f).find((b) => b.index === 3)!.address;
      m.enableMsix(f, bar3, 3, 2);
    }
    assert.equal(t.vfte & 3, 1, `${how}: VF 1 may no longer send`);
    assert.equal(t.vfre & 3, 1);
    assert.equal(m.pf.core.txq.enabled(R.vfQueue(1, 0)), false);
    assert.equal(m.pf.core.mailbox.vflre, 2);
    assert.deepEqual(m.vectorsOf(PF_TAG, before), [0], 'the PF\'s "other" vector');
    m.pump();
    assert.ok(m.pfDrv.log.includes('1:reset-event'));
    assert.equal(m.pf.core.mailbox.vflre, 0);
    m.pfDrv.log.length = 0;
    assert.equal(m.vfDrvs[1]!.resetHw(), 'ack', 'and the VF can come back');
    m.pump(); // the PF handles the VF's final ACK and re-enables its vector
  }
});

test('clearing VF Enable removes the VFs: listeners are told, the dead VF reads 0 and never masters the bus', () => {
  const m = upMachine(2);
  const removed: IgbVf[] = [];
  m.pf.onVfs({ vfsRemoved: (vfs) => removed.push(...vfs) });
  const vf0 = m.pf.vfs[0]!;
  m.iov.disable();
  assert.deepEqual(removed.map((v) => v.index), [0, 1]);
  assert.equal(m.pf.vfs.length, 0);
  assert.equal(vf0.live, false);
  assert.equal(vf0.dma(), null);
  assert.equal(m.vfDrvs[0]!.r(R.E1000_VTSTATUS), 0);
  assert.equal(m.pf.core.tables.numVfs, 0);
});

test('link: carrier loss and return raise ICR.LSC through the PF\'s "other" vector; STATUS.LU follows, and so does each VF\'s', () => {
  const m = upMachine(1);
  assert.equal(m.vfDrvs[0]!.r(R.E1000_VTSTATUS) & D.E1000_STATUS_LU, D.E1000_STATUS_LU);
  const before = m.msis.length;
  m.link.linkUp = false;
  m.pf.update(0);
  assert.equal(m.pfDrv.r(R.E1000_STATUS) & D.E1000_STATUS_LU, 0);
  assert.equal(m.vfDrvs[0]!.r(R.E1000_VTSTATUS) & D.E1000_STATUS_LU, 0);
  assert.deepEqual(m.vectorsOf(PF_TAG, before), [0]);
  assert.equal(m.pfDrv.r(R.E1000_ICR) & D.E1000_ICR_LSC, D.E1000_ICR_LSC);
  assert.equal(m.pfDrv.r(R.E1000_ICR), 0, 'read to clear');
});

test('the uplink through a NicPort: frames the backend brings are delivered between rounds; frames sent reach it', () => {
  const m = new IgbMachine();
  const sent: string[] = [];
  const backend: NetBackend = {
    name: 'wire', onFrame: null as FrameSink | null, counters: new PortCounters(), linkUp: true, live: false,
    send: (f) => { sent.push(hex(f)); }, close: () => {},
  };
  const port = new NicPort(backend, m.pf, { deterministic: true });
  m.pf.connect(port);
  m.bringUp(0);
  const f = frame(PF_MAC, PEER, 1);
  backend.onFrame!(f);
  assert.equal(port.queued, 1);
  port.onRound(1);
  assert.deepEqual(m.pfDrv.receive().map(hex), [hex(f)]);
  const o = frame(PEER, PF_MAC, 2);
  m.pfDrv.xmit(o);
  assert.deepEqual(sent, [hex(o)]);
  assert.equal(port.counters.txFrames, 1);
});
