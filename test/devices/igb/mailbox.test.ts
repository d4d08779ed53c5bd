// The PF↔VF mailbox as hardware: the bit semantics of P2VMAILBOX/V2PMAILBOX (locks, read-to-clear status, who is
// interrupted), then the whole igbvf bring-up against the mock igb PF driver — VF reset, VFLRE, VF_RESET answered
// with ACK + MAC (or NACK), SET_MAC_ADDR / SET_MULTICAST / SET_LPE / SET_VLAN, CTS and link — and the PF's own reset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MailboxBank } from '../../../src/devices/igb/mailbox.js';
import * as D from '../../../src/devices/igb/defines.js';
import * as R from '../../../src/devices/igb/regs.js';
import { IgbMachine, PF_TAG } from '../../../src/devices/igb/testing/machine.js';

function bank() {
  const ev: string[] = [];
  const b = new MailboxBank({ toPf: () => ev.push('pf'), toVf: (v) => ev.push(`vf${v}`) });
  return { b, ev };
}

test('locks: PFU only while VFU is clear and the other way round; written 0 releases; RVFU frees a stuck VF lock', () => {
  const { b } = bank();
  b.writeV2p(1, D.E1000_V2PMAILBOX_VFU);
  b.writeP2v(1, D.E1000_P2VMAILBOX_PFU);
  assert.equal(b.readP2v(1), D.E1000_P2VMAILBOX_VFU, 'the PF did not get the lock; it sees the VF holding it');
  assert.equal(b.counters.lockRefused, 1);
  b.writeP2v(1, D.E1000_P2VMAILBOX_RVFU);
  b.writeP2v(1, D.E1000_P2VMAILBOX_PFU);
  assert.equal(b.readP2v(1), D.E1000_P2VMAILBOX_PFU);
  b.writeV2p(1, D.E1000_V2PMAILBOX_VFU);
  assert.equal(b.peekV2p(1) & (D.E1000_V2PMAILBOX_VFU | D.E1000_V2PMAILBOX_PFU), D.E1000_V2PMAILBOX_PFU);
  b.writeP2v(1, 0);
  assert.equal(b.readP2v(1), 0);
});

test('REQ and ACK reach MBVFICR and interrupt the PF only for VFs MBVFIMR enables; STS/ACK set PFSTS/PFACK and interrupt the VF', () => {
  const { b, ev } = bank();
  b.pfResetDone(8);
  ev.length = 0;
  b.writeV2p(2, D.E1000_V2PMAILBOX_REQ);
  assert.equal(b.mbvficr, D.E1000_MBVFICR_VFREQ_VF1 << 2);
  assert.deepEqual(ev, [], 'masked: no PF interrupt');
  b.writeMbvfimr(0xff);
  b.writeV2p(2, D.E1000_V2PMAILBOX_ACK);
  assert.equal(b.mbvficr, (D.E1000_MBVFICR_VFREQ_VF1 | D.E1000_MBVFICR_VFACK_VF1) << 2);
  assert.deepEqual(ev, ['pf']);
  b.writeMbvficr(D.E1000_MBVFICR_VFREQ_VF1 << 2);
  assert.equal(b.mbvficr, D.E1000_MBVFICR_VFACK_VF1 << 2, 'write-1-to-clear');
  b.writeP2v(2, D.E1000_P2VMAILBOX_STS);
  assert.deepEqual(ev, ['pf', 'vf2']);
  const first = b.readV2p(2);
  assert.equal(first & (D.E1000_V2PMAILBOX_PFSTS | D.E1000_V2PMAILBOX_RSTD), D.E1000_V2PMAILBOX_PFSTS | D.E1000_V2PMAILBOX_RSTD);
  assert.equal(b.readV2p(2) & D.E1000_V2PMAILBOX_R2C_BITS, 0, 'PFSTS, PFACK, RSTD clear on read');
});

test('buffer writes need the other side not to hold it; a VF reset raises VFLRE and interrupts the PF regardless of MBVFIMR', () => {
  const { b, ev } = bank();
  b.writeP2v(0, D.E1000_P2VMAILBOX_PFU);
  b.writePfBuffer(0, 0, 0x1234);
  b.writeVfBuffer(0, 0, 0xdead);
  assert.equal(b.readVfBuffer(0, 0), 0x1234, 'a VF cannot rewrite a message the PF is composing');
  assert.equal(b.counters.writesRefused, 1);
  b.writeV2p(0, D.E1000_V2PMAILBOX_VFU);
  b.vfReset(0);
  assert.equal(b.vflre, 1);
  assert.deepEqual(ev, ['pf']);
  b.writeVflre(1);
  assert.equal(b.vflre, 0);
});

test('PF and VFs come up: identity, NVM checksum and MAC over EERD, IGP3 PHY, 2 VFs at 00:12.0 and 00:12.2', () => {
  const m = new IgbMachine();
  assert.equal(m.pci.read32({ bus: 0, device: 2, fn: 0 }, 0), 0x10c9_8086);
  assert.equal(m.pfDrv.probe(), D.IGP03E1000_E_PHY_ID);
  assert.deepEqual([...m.pfDrv.mac], [0x52, 0x54, 0x00, 0x12, 0x34, 0x57]);
  m.iov.enable(2);
  assert.equal(m.pf.vfs.length, 2);
  assert.deepEqual([m.vfBdf(0), m.vfBdf(1)], [{ bus: 0, device: 0x12, fn: 0 }, { bus: 0, device: 0x12, fn: 2 }]);
  assert.equal(m.pci.read32(m.vfBdf(1), 0), 0x10ca_8086);
  assert.equal(m.pci.read8(m.vfBdf(1), 0x3d), 0, 'no INTx pin');
});

test('a VF before its PF driver is up sees RSTI and gives up, as igbvf does ("PF still in reset state")', () => {
  const m = new IgbMachine();
  m.pfDrv.probe();
  m.iov.enable(1);
  assert.equal(m.vfDrvs[0]!.resetHw(), 'pf-in-reset');
  assert.equal(m.vfDrvs[0]!.pumps, 200);
});

test('igbvf reset handshake: VFLRE, VF_RESET answered with ACK and the MAC the PF set; RAR 23-vf carries the pool; enables set', () => {
  const m = new IgbMachine();
  m.bringUp(2);
  const mac = Uint8Array.of(0x02, 0x00, 0x00, 0x00, 0x01, 0x01);
  m.pfDrv.setVfMacAdmin(1, mac);
  const vf = m.vfDrvs[1]!;
  assert.equal(vf.resetHw(), 'ack');
  assert.deepEqual([...vf.permAddr], [...mac]);
  m.pump(); // the VF's ACK of the reply is an interrupt the PF has not handled yet
  assert.deepEqual(m.pfDrv.log, ['1:reset-event', '1:VF_RESET', '1:ack']);
  const rar = m.pf.rar(R.E1000_RAR_ENTRIES_82576 - 2);
  assert.deepEqual([...rar.mac], [...mac]);
  assert.equal(rar.rah & D.E1000_RAH_POOL_MASK, 1 << (D.E1000_RAH_POOL_SHIFT + 1));
  assert.equal(m.pf.core.tables.vfte & 2, 2);
  assert.equal(m.pf.core.tables.vfre & 2, 2);
  assert.deepEqual(m.vectorsOf(2), [], 'igbvf programs its vectors only in open(): nothing fired yet');
  const opened = m.msis.length;
  vf.open();
  assert.deepEqual(m.vectorsOf(2, opened), [2], 'the reply to SET_LPE was pending until open() enabled the vectors');
  vf.otherInterrupt();
  const since = m.msis.length;
  m.pfDrv.writeMbx(1, [D.E1000_PF_CONTROL_MSG | D.E1000_VT_MSGTYPE_CTS]);
  assert.deepEqual(m.vectorsOf(2, since), [2], 'a PF message raises the VF\'s mailbox vector');
  assert.equal(m.vfDrvs[0]!.resetHw(), 'nack', 'no MAC set for VF 0: NACK (igbvf then picks a random one)');
});

test('after reset the VF configures itself through the PF: SET_MAC_ADDR, SET_MULTICAST, SET_LPE, SET_VLAN; link needs CTS', () => {
  const m = new IgbMachine();
  m.bringUp(1);
  const vf = m.vfDrvs[0]!;
  assert.equal(vf.resetHw(), 'nack');
  const mac = Uint8Array.of(0x02, 0, 0, 0, 0, 0x42);
  assert.equal(vf.setMac(mac), (D.E1000_VF_SET_MAC_ADDR | D.E1000_VT_MSGTYPE_ACK) >>> 0);
  assert.deepEqual([...m.pf.rar(R.E1000_RAR_ENTRIES_82576 - 1).mac], [...mac]);
  const mc = Uint8Array.of(0x01, 0x00, 0x5e, 0x00, 0x00, 0x01);
  assert.equal(vf.setMulticast([mc]), (D.E1000_VF_SET_MULTICAST | (1 << 16) | D.E1000_VT_MSGTYPE_ACK) >>> 0);
  assert.equal(m.pf.core.tables.vmolr[0]! & D.E1000_VMOLR_ROMPE, D.E1000_VMOLR_ROMPE);
  assert.equal(vf.setLpe(1518), (D.E1000_VF_SET_LPE | D.E1000_VT_MSGTYPE_ACK) >>> 0);
  assert.equal(vf.setVlan(100, true), (D.E1000_VF_SET_VLAN | (1 << 16) | D.E1000_VT_MSGTYPE_ACK) >>> 0);
  assert.equal(m.pf.core.sw.vlanPools(100), 1);
  assert.deepEqual(m.pfDrv.log.filter((l) => !l.endsWith(':ack')), ['0:reset-event', '0:VF_RESET', '0:SET_MAC_ADDR', '0:SET_MULTICAST', '0:SET_LPE', '0:SET_VLAN']);
  m.pfDrv.writeMbx(0, [D.E1000_PF_CONTROL_MSG | D.E1000_VT_MSGTYPE_CTS]);
  assert.ok(vf.checkLink(), 'STATUS.LU and a CTS word from the PF');
});

test('a PF software reset stops the VFs and shows RSTI until PFRSTD, then RSTD; the VF redoes its handshake', () => {
  const m = new IgbMachine();
  m.bringUp(1);
  const vf = m.vfDrvs[0]!;
  assert.equal(vf.resetHw(), 'nack');
  const before = m.msis.length;
  m.pfDrv.w(R.E1000_CTRL, m.pfDrv.r(R.E1000_CTRL) | D.E1000_CTRL_RST);
  assert.equal(m.pf.core.mailbox.peekV2p(0) & D.E1000_V2PMAILBOX_RSTI, D.E1000_V2PMAILBOX_RSTI);
  assert.equal(m.pf.core.tables.vfte, 0, 'the PF reset took the VF enables away');
  assert.equal(vf.checkLink(), false);
  m.pfDrv.open(1);
  assert.equal(m.pf.core.mailbox.peekV2p(0) & (D.E1000_V2PMAILBOX_RSTI | D.E1000_V2PMAILBOX_RSTD), D.E1000_V2PMAILBOX_RSTD);
  assert.deepEqual(m.vectorsOf(1, before), [], 'the reset also cleared the VF\'s vector registers: igbvf notices by polling');
  assert.equal(vf.resetHw(), 'nack', 'and can redo its handshake');
  assert.ok(m.vectorsOf(PF_TAG, before).includes(0));
});
