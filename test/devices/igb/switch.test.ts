// The embedded switch with the PF and two VFs configured by the mock drivers: receive pool selection by destination
// MAC, the default pool, broadcast and multicast replication, VLAN membership and stripping, VM-to-VM loopback, and
// anti-spoofing (MAC and VLAN) reported to the PF through WVBR and ICR.DOUTSYNC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as D from '../../../src/devices/igb/defines.js';
import { mac } from '../../../src/backends/net/testing/frames.js';
import { BCAST, frame, hex, PEER, PF_MAC, tagged, upMachine, VF_MACS } from './helpers.js';

const got = (m: ReturnType<typeof upMachine>) => ({
  pf: m.pfDrv.receive().map(hex),
  vf0: m.vfDrvs[0]!.receive().map((r) => hex(r.frame)),
  vf1: m.vfDrvs[1]!.receive().map((r) => hex(r.frame)),
});

test('from the wire: a VF\'s MAC reaches only that VF, through its own DmaSpace and MSI-X; the PF\'s MAC and unknown unicast reach the PF', () => {
  const m = upMachine(2);
  const dmaVf0 = m.vfFns[0]!.dma.counters.bytesWritten, dmaVf1 = m.vfFns[1]!.dma.counters.bytesWritten, dmaPf = m.pfFn.dma.counters.bytesWritten;
  const before = m.msis.length;
  const f0 = frame(VF_MACS[0]!, PEER, 1), f1 = frame(VF_MACS[1]!, PEER, 2), fp = frame(PF_MAC, PEER, 3), fu = frame(mac('02:bb:00:00:00:09'), PEER, 4);
  for (const f of [f0, f1, fp, fu]) assert.ok(m.pf.receive(f));
  assert.deepEqual(got(m), { pf: [hex(fp), hex(fu)], vf0: [hex(f0)], vf1: [hex(f1)] });
  // Each frame, its 16-byte descriptor write-back and the 4-byte MSI-X message, through the space of the function
  // that owns the queue (the PF's second frame found its vector auto-masked: one message).
  assert.equal(m.vfFns[0]!.dma.counters.bytesWritten - dmaVf0, f0.length + 16 + 4, 'VF 0\'s frame went through VF 0\'s DmaSpace only');
  assert.equal(m.vfFns[1]!.dma.counters.bytesWritten - dmaVf1, f1.length + 16 + 4);
  assert.equal(m.pfFn.dma.counters.bytesWritten - dmaPf, fp.length + fu.length + 32 + 4);
  assert.deepEqual(m.vectorsOf(1, before), [1], 'VF 0\'s RX vector');
  assert.deepEqual(m.vectorsOf(2, before), [1], 'VF 1\'s RX vector');
});

test('broadcast is replicated to every pool with VMOLR.BAM; multicast to pools with ROMPE whose MTA hash matches', () => {
  const m = upMachine(2);
  const b = frame(BCAST, PEER, 5);
  assert.ok(m.pf.receive(b));
  assert.deepEqual(got(m), { pf: [hex(b)], vf0: [hex(b)], vf1: [hex(b)] });
  const group = mac('01:00:5e:00:00:fb');
  m.vfDrvs[0]!.setMulticast([group]);
  const g = frame(group, PEER, 6);
  assert.ok(m.pf.receive(g));
  const r = got(m);
  assert.deepEqual(r.vf0, [hex(g)]);
  assert.deepEqual(r.vf1, [], 'VF 1 asked for no multicast');
});

test('VLANs: a tagged frame reaches the VLVF members with the tag stripped (VP); a VLAN nobody joined stops at VFTA', () => {
  const m = upMachine(2);
  assert.equal(m.vfDrvs[0]!.setVlan(100, true), (D.E1000_VF_SET_VLAN | (1 << 16) | D.E1000_VT_MSGTYPE_ACK) >>> 0);
  const plain = frame(BCAST, PEER, 7);
  assert.ok(m.pf.receive(tagged(plain, 100)));
  const r0 = m.vfDrvs[0]!.receive();
  assert.equal(r0.length, 1);
  assert.equal(hex(r0[0]!.frame), hex(plain), 'stripped');
  assert.equal(r0[0]!.vlan, 100);
  assert.equal(r0[0]!.status & D.E1000_RXD_STAT_VP, D.E1000_RXD_STAT_VP);
  assert.deepEqual(m.vfDrvs[1]!.receive(), []);
  assert.deepEqual(m.pfDrv.receive(), []);
  assert.equal(m.pf.receive(tagged(plain, 200)), false);
  assert.equal(m.pf.core.counters.drops['rx-filtered'], 1);
});

test('VM-to-VM loopback: unicast between VFs stays inside the NIC (LB status); broadcast goes to the other pools and the wire', () => {
  const m = upMachine(2);
  const u = frame(VF_MACS[1]!, VF_MACS[0]!, 8);
  m.vfDrvs[0]!.xmit(u);
  const r1 = m.vfDrvs[1]!.receive();
  assert.deepEqual(r1.map((r) => hex(r.frame)), [hex(u)]);
  assert.equal(r1[0]!.status & D.E1000_RXDEXT_STATERR_LB, D.E1000_RXDEXT_STATERR_LB);
  assert.equal(m.link.sent.length, 0, 'nothing on the wire');
  assert.equal(m.vfDrvs[0]!.tx!.reap(), 1, 'DD written back to the sender');
  const toPf = frame(PF_MAC, VF_MACS[0]!, 9);
  m.vfDrvs[0]!.xmit(toPf);
  assert.deepEqual(m.pfDrv.receive().map(hex), [hex(toPf)]);
  const out = frame(PEER, VF_MACS[0]!, 10);
  m.vfDrvs[0]!.xmit(out);
  assert.deepEqual(m.link.sent.map(hex), [hex(out)]);
  const b = frame(BCAST, VF_MACS[0]!, 11);
  m.vfDrvs[0]!.xmit(b);
  assert.deepEqual(got(m), { pf: [hex(b)], vf0: [], vf1: [hex(b)] });
  assert.equal(hex(m.link.sent[1]!), hex(b));
  assert.equal(m.pf.core.counters.loopback, 3);
});

test('anti-spoofing: a VF sending with another source MAC or an unjoined VLAN is dropped; the PF learns it from WVBR on DOUTSYNC', () => {
  const m = upMachine(2);
  const spoof = frame(PEER, VF_MACS[1]!, 12);
  m.vfDrvs[0]!.xmit(spoof);
  assert.equal(m.link.sent.length, 0);
  assert.equal(m.pf.core.counters.drops['spoof-mac'], 1);
  m.pump();
  assert.ok(m.pfDrv.log.includes('wvbr:1'), `the PF saw VF 0's queue in WVBR (log: ${m.pfDrv.log.join(' ')})`);
  assert.equal(m.vfDrvs[0]!.tx!.reap(), 1, 'the descriptor still completes: the VF is not wedged');
  m.vfDrvs[1]!.xmit(tagged(frame(PEER, VF_MACS[1]!, 13), 100));
  assert.equal(m.pf.core.counters.drops['spoof-vlan'], 1);
  m.pfDrv.xmit(frame(PEER, VF_MACS[1]!, 14));
  assert.equal(m.link.sent.length, 1, 'the PF\'s pool is exempt (igb clears its bits: it may speak for emulated NICs)');
});

test('without VFs the PF is a plain NIC: queue 0, RCTL filters, frames out of the uplink', () => {
  const m = upMachine(0);
  const f = frame(PF_MAC, PEER, 15);
  assert.ok(m.pf.receive(f));
  assert.equal(m.pf.receive(frame(mac('02:bb:00:00:00:09'), PEER, 16)), false, 'unknown unicast is filtered');
  assert.deepEqual(m.pfDrv.receive().map(hex), [hex(f)]);
  const o = frame(PEER, PF_MAC, 17);
  m.pfDrv.xmit(o);
  assert.deepEqual(m.link.sent.map(hex), [hex(o)]);
  assert.equal(m.pfDrv.tx!.reap(), 1);
});
