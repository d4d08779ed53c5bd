// netback (src/devices/xen/netback.ts, netback-tx.ts, netback-rx.ts) with a mock xen-netfront on real rings: the
// xenbus handshake and the toolstack's nodes, transmit (plain, checksum completion, scatter-gather, GSO), receive
// (single and multi-slot, data_validated, no buffers), notification suppression by req_event/rsp_event, closing
// and reconnecting, and the whole path through a NicPort.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NicPort } from '../../../src/backends/net/port.js';
import { ScriptedBackend, inetChecksum } from '../../../src/backends/net/testing/frames.js';
import { GTF_reading, GTF_writing } from '../../../src/devices/xen/abi.js';
import {
  XEN_NETIF_GSO_TYPE_TCPV4, XEN_NETIF_GSO_TYPE_TCPV6, XEN_NETIF_RSP_NULL, XEN_NETIF_RSP_OKAY, XEN_NETRXF_data_validated,
  XEN_NETRXF_more_data, XEN_NETTXF_csum_blank, XEN_NETTXF_data_validated, XEN_NETRXF_csum_blank, XEN_NETRXF_extra_info,
} from '../../../src/devices/xen/netif-abi.js';
import { setupVif } from '../../../src/devices/xen/testing/setup.js';
import { PEER_MAC, pattern, pseudoHeader, tcpFrame, udpFrame } from '../../../src/devices/virtio/net/testing/packets.js';

/** An independent check of a frame's TCP/UDP checksum: the Internet checksum over pseudo-header + segment is 0. */
function l4ChecksumOk(f: Uint8Array): boolean {
  const v6 = ((f[12]! << 8) | f[13]!) === 0x86dd;
  const ip = f.subarray(14);
  const hl = v6 ? 40 : (ip[0]! & 15) * 4;
  const len = v6 ? ((ip[4]! << 8) | ip[5]!) : ((ip[2]! << 8) | ip[3]!) - hl;
  const proto = v6 ? ip[6]! : ip[9]!;
  const seg = ip.subarray(hl, hl + len);
  const all = new Uint8Array((v6 ? 40 : 12) + seg.length);
  all.set(pseudoHeader(v6, v6 ? ip.subarray(8, 24) : ip.subarray(12, 16), v6 ? ip.subarray(24, 40) : ip.subarray(16, 20), proto, seg.length));
  all.set(seg, v6 ? 40 : 12);
  return inetChecksum(all) === 0;
}

test('the checksum oracle can fail: a partial checksum or a flipped payload byte is caught', () => {
  assert.ok(l4ChecksumOk(tcpFrame({ payload: pattern(100) })));
  assert.ok(!l4ChecksumOk(tcpFrame({ payload: pattern(100), csum: 'partial' })));
  const f = udpFrame({ payload: pattern(50), v6: true });
  f[f.length - 1]! ^= 1;
  assert.ok(!l4ChecksumOk(f));
});

test('the toolstack\'s nodes and netback\'s probe: InitWait with its features; each side owns its directory', () => {
  const { xs, vif, host } = setupVif({ connect: false });
  assert.equal(xs.read('device/vif/0/backend'), '/local/domain/0/backend/vif/1/0');
  assert.equal(xs.read('device/vif/0/backend-id'), '0');
  assert.equal(xs.read('device/vif/0/state'), '1');
  assert.equal(xs.read('device/vif/0/mac'), '00:16:3e:00:01:00');
  const b = vif.backendPath;
  assert.equal(xs.read(`${b}/state`), '2');
  for (const k of ['feature-sg', 'feature-gso-tcpv4', 'feature-gso-tcpv6', 'feature-rx-copy', 'feature-ipv6-csum-offload']) assert.equal(xs.read(`${b}/${k}`), '1', k);
  assert.equal(xs.read(`${b}/feature-rx-flip`), '0');
  assert.equal(xs.errorOf(() => xs.write(`${b}/state`, '4')), 'EACCES');
  assert.deepEqual(xs.getPerms('device/vif/0'), ['n1', 'r0']);
  assert.equal(host.xenstore.read(`${b}/frontend`), '/local/domain/1/device/vif/0');
});

test('netfront connects: netback maps both rings (in use), binds the event channel and goes Connected', () => {
  const { front, vif, guest } = setupVif();
  assert.equal(front.backendState(), 4);
  assert.ok(vif.connected);
  for (const ref of [front.txRef, front.rxRef]) assert.ok((guest.grantFlags(ref) & (GTF_reading | GTF_writing)) === (GTF_reading | GTF_writing));
  assert.ok(vif.canReceive(), 'rx buffers are posted');
});

test('transmit: a frame in one slot reaches the port unchanged and its slot is answered OKAY', () => {
  const { front, port, vif } = setupVif();
  const f = udpFrame({ payload: pattern(200) });
  const [id] = front.transmit(f, { flags: XEN_NETTXF_data_validated });
  assert.deepEqual(port.sent, [f]);
  assert.deepEqual(front.collectTx(), [{ id, status: XEN_NETIF_RSP_OKAY }]);
  assert.equal(vif.counters.txPackets, 1);
  assert.equal(vif.counters.txBytes, f.length);
});

test('transmit with csum_blank: netback completes TCP/IPv4 and UDP/IPv6 checksums before the frame leaves', () => {
  const { front, port, vif } = setupVif();
  const tcp = tcpFrame({ payload: pattern(500), csum: 'partial' });
  const udp = udpFrame({ payload: pattern(300), v6: true, csum: 'partial' });
  const udpz = udpFrame({ payload: pattern(40), csum: 'zero' });
  for (const f of [tcp, udp, udpz]) front.transmit(f, { flags: XEN_NETTXF_csum_blank | XEN_NETTXF_data_validated });
  assert.equal(port.sent.length, 3);
  for (const f of port.sent) assert.ok(l4ChecksumOk(f));
  assert.deepEqual(port.sent[0]!.subarray(0, 50), tcpFrame({ payload: pattern(500) }).subarray(0, 50));
  assert.equal(vif.counters.txCsumCompleted, 3);
});

test('scatter-gather: a packet in several slots, the first at an offset, is put back together in order', () => {
  const { front, port } = setupVif();
  const f = tcpFrame({ payload: pattern(7000) });
  const ids = front.transmit(f, { offset: 3000 });
  assert.equal(ids.length, 3);
  assert.deepEqual(port.sent, [f]);
  assert.deepEqual(front.collectTx().map((r) => r.id), ids);
  const g = udpFrame({ payload: pattern(90) });
  front.transmit(g, { slots: [20, 30, 0, 82] });
  assert.deepEqual(port.sent[1], g);
});

test('GSO: a 20 000-byte TCPv4 packet with a GSO extra becomes MSS-sized segments with correct headers and checksums', () => {
  const { front, port, vif } = setupVif();
  const payload = pattern(20000);
  const f = tcpFrame({ payload, csum: 'partial', ipLenOverride: 0, seq: 5000 });
  const ids = front.transmit(f, { flags: XEN_NETTXF_csum_blank, gso: { type: XEN_NETIF_GSO_TYPE_TCPV4, size: 1448 } });
  assert.equal(port.sent.length, Math.ceil(20000 / 1448));
  let off = 0;
  for (const [i, s] of port.sent.entries()) {
    assert.ok(l4ChecksumOk(s), `segment ${i}`);
    const ip = s.subarray(14);
    assert.equal((ip[2]! << 8) | ip[3]!, s.length - 14);
    assert.equal(inetChecksum(ip.subarray(0, 20)), 0);
    const seq = new DataView(s.buffer, s.byteOffset).getUint32(14 + 20 + 4);
    assert.equal(seq, 5000 + off);
    assert.deepEqual(s.subarray(54), payload.subarray(off, off + s.length - 54));
    off += s.length - 54;
  }
  assert.equal(off, 20000);
  const rsp = front.collectTx();
  assert.equal(rsp.length, ids.length + 1, 'one response per slot, the extra one included');
  assert.deepEqual(rsp[0], { id: ids[0], status: XEN_NETIF_RSP_OKAY });
  assert.equal(rsp[1]!.status, XEN_NETIF_RSP_NULL);
  assert.equal(vif.counters.txGsoSegments, port.sent.length);
  front.transmit(tcpFrame({ payload: pattern(3000), v6: true, csum: 'partial' }), { flags: XEN_NETTXF_csum_blank, gso: { type: XEN_NETIF_GSO_TYPE_TCPV6, size: 1000 } });
  assert.equal(port.sent.length, 14 + 3);
  for (const s of port.sent.slice(14)) assert.ok(l4ChecksumOk(s));
});

test('receive: a frame is copied into a posted buffer, marked data_validated, and the guest is interrupted', () => {
  const { front, vif, guest } = setupVif();
  guest.takeEvents();
  const f = tcpFrame({ payload: pattern(1000), dstMac: Uint8Array.of(0, 0x16, 0x3e, 0, 1, 0), srcMac: PEER_MAC });
  assert.ok(vif.receive(f));
  assert.deepEqual(guest.takeEvents(), [front.port]);
  const [p] = front.collectRx();
  assert.deepEqual(p!.frame, f);
  assert.equal(p!.flags & XEN_NETRXF_data_validated, XEN_NETRXF_data_validated);
  const bad = f.slice();
  bad[bad.length - 1]! ^= 0xff;
  assert.ok(vif.receive(bad));
  assert.equal(front.collectRx()[0]!.flags & XEN_NETRXF_data_validated, 0, 'a bad checksum is not validated');
  assert.equal(vif.counters.rxPackets, 2);
  assert.equal(vif.counters.rxDataValidated, 1);
});

test('receive: a 9000-byte frame spans three slots (more_data); without feature-sg it is dropped', () => {
  const { front, vif } = setupVif();
  const f = udpFrame({ payload: pattern(9000 - 42) });
  assert.ok(vif.receive(f));
  const [p] = front.collectRx();
  assert.deepEqual(p!.frame, f);
  assert.deepEqual(p!.statuses, [4096, 4096, 808]);
  assert.equal(p!.flags & XEN_NETRXF_more_data, XEN_NETRXF_more_data);
  const n = setupVif({ connect: false });
  n.front.connect({ keys: { 'feature-sg': '0' } });
  assert.equal(n.vif.receive(f), false);
  assert.deepEqual(n.vif.counters.rxDropped, { tooBigWithoutSg: 1 });
});

test('receive without posted buffers: the frame is dropped and req_event asks netfront to notify when it posts more', () => {
  const { front, vif } = setupVif({ rxBuffers: 1 });
  const f = udpFrame({ payload: pattern(100) });
  assert.ok(vif.receive(f));
  assert.equal(vif.canReceive(), false);
  assert.equal(vif.receive(f), false);
  assert.deepEqual(vif.counters.rxDropped, { noBuffers: 1 });
  assert.equal(front.guest.r32(front.rx.page + 4), front.rx.reqProdPvt + 1, 'req_event = req_prod + 1');
  const kicks = vif.counters.kicks;
  front.collectRx();
  front.postRx(2);
  assert.equal(vif.counters.kicks, kicks + 1, 'posting buffers notified netback');
  assert.ok(vif.canReceive());
});

test('notifications follow req_event and rsp_event: batched requests notify once; unread responses suppress more', () => {
  const { front, vif } = setupVif();
  const kicks = vif.counters.kicks;
  for (let i = 0; i < 3; i++) front.transmit(udpFrame({ payload: pattern(60 + i) }), {}, false);
  assert.ok(front.tx.push());
  front.notify();
  assert.equal(vif.counters.kicks, kicks + 1);
  assert.equal(vif.counters.txPackets, 3);
  // netfront has not read the responses: rsp_event still points at the first, so further pushes are suppressed.
  const before = { ...vif.counters.txRing };
  front.transmit(udpFrame({ payload: pattern(70) }));
  front.transmit(udpFrame({ payload: pattern(71) }));
  assert.equal(vif.counters.txRing.notified, before.notified);
  assert.equal(vif.counters.txRing.suppressed, before.suppressed + 2);
  assert.equal(front.collectTx().length, 5);
  front.transmit(udpFrame({ payload: pattern(72) }));
  assert.equal(vif.counters.txRing.notified, before.notified + 1, 're-armed by RING_FINAL_CHECK_FOR_RESPONSES');
});

test('closing: netback unmaps the rings and closes the channel; a reinitialising frontend can connect again', () => {
  const { front, vif, xs, guest, host } = setupVif();
  xs.switchState('device/vif/0', 5);
  assert.equal(front.backendState(), 5);
  assert.equal(vif.connected, false);
  assert.ok(guest.endForeignAccess(front.txRef), 'the ring grant is no longer in use');
  xs.switchState('device/vif/0', 6);
  assert.equal(front.backendState(), 6);
  xs.switchState('device/vif/0', 1);
  assert.equal(front.backendState(), 2);
  const again = new (front.constructor as typeof import('../../../src/devices/xen/testing/mock-frontend.js').MockNetfront)(guest, xs);
  again.connect();
  assert.ok(vif.connected);
  again.transmit(udpFrame({ payload: pattern(10) }));
  assert.equal(vif.counters.txPackets, 1);
  assert.ok(host.evtchn.counters.toVmio > 0);
});

test('through a NicPort: the guest\'s frames reach the backend, the backend\'s reach the guest', () => {
  const s = setupVif();
  const backend = new ScriptedBackend();
  const port = new NicPort(backend, s.vif, { deterministic: true });
  s.vif.attach(port);
  const out = udpFrame({ payload: pattern(64) });
  s.front.transmit(out);
  assert.deepEqual(backend.sent, [out]);
  const inbound = tcpFrame({ payload: pattern(300) });
  backend.inject(inbound);
  port.deliver();
  assert.deepEqual(s.front.collectRx().map((p) => p.frame), [inbound]);
  assert.equal(port.counters.rxFrames, 1);
  assert.equal(port.counters.txFrames, 1);
});

test('GSO both ways through a port that carries large packets: transmitted whole (NEEDS_CSUM), received whole with a GSO extra slot', () => {
  const { front, port, vif } = setupVif();
  port.acceptsGso = true;
  const payload = pattern(20000);
  const f = tcpFrame({ payload, csum: 'partial', seq: 5000 });
  front.transmit(f, { flags: XEN_NETTXF_csum_blank, gso: { type: XEN_NETIF_GSO_TYPE_TCPV4, size: 1448 } });
  assert.equal(port.sent.length, 1, 'one large packet, not segments');
  assert.deepEqual(port.sent[0], f, 'unchanged: the TCP check still holds the pseudo-header sum');
  assert.deepEqual(port.gso[0], { v6: false, ecn: false, size: 1448, csumStart: 34, hdrLen: 54, csumOffset: 16 });
  assert.equal(vif.counters.txGsoWhole, 1);
  assert.equal(vif.counters.txGsoSegments, 0);
  // Without csum_blank the packet is cut here (its checksum is not partial).
  front.transmit(tcpFrame({ payload: pattern(3000), csum: 'partial' }), { gso: { type: XEN_NETIF_GSO_TYPE_TCPV4, size: 1448 } });
  assert.equal(port.sent.length, 1 + 3);

  const gso = { v6: false, ecn: false, size: 1448, csumStart: 34, hdrLen: 54, csumOffset: 16 };
  assert.equal(vif.acceptsGso(gso), true, 'netfront offered feature-gso-tcpv4');
  assert.equal(vif.acceptsGso({ ...gso, ecn: true }), false, 'Xen has no ECN GSO type');
  assert.equal(vif.canReceiveGso(f.length), true);
  assert.equal(vif.receiveGso(f, gso), true);
  const small = tcpFrame({ payload: pattern(2500), csum: 'partial' });
  assert.equal(vif.receiveGso(small, gso), true, 'a large packet in one page: data slot, then the extra slot');
  const [big, one] = front.collectRx();
  assert.deepEqual(big!.frame, f);
  assert.deepEqual(big!.gso, { size: 1448, type: XEN_NETIF_GSO_TYPE_TCPV4 });
  const want = XEN_NETRXF_extra_info | XEN_NETRXF_csum_blank | XEN_NETRXF_data_validated;
  assert.equal(big!.flags & want, want, 'CHECKSUM_PARTIAL and an extra slot');
  assert.equal(big!.statuses.length, Math.ceil(f.length / 4096), 'data slots only; the extra slot is not data');
  assert.deepEqual(one!.frame, small);
  assert.deepEqual(one!.gso, { size: 1448, type: XEN_NETIF_GSO_TYPE_TCPV4 });
  assert.equal(vif.counters.rxGso, 2);
  assert.equal(vif.counters.rxSlots, Math.ceil(f.length / 4096) + 1 + 2);
});

test('GSO receive needs the frontend\'s feature-gso-tcpv4/6 and feature-sg; too few buffers drop it and ask for an event', () => {
  const s = setupVif({ connect: false });
  s.front.connect({ keys: { 'feature-gso-tcpv4': null, 'feature-gso-tcpv6': null }, rxBuffers: 3 });
  const gso = { v6: false, ecn: false, size: 1448, csumStart: 34, hdrLen: 54, csumOffset: 16 };
  assert.equal(s.vif.acceptsGso(gso), false);
  assert.equal(s.vif.receiveGso(tcpFrame({ payload: pattern(9000), csum: 'partial' }), gso), false);
  assert.equal(s.vif.counters.rxDropped['gsoNotOffered'], 1);
  const t = setupVif({ rxBuffers: 3 });
  const f = tcpFrame({ payload: pattern(9000), csum: 'partial' });
  assert.equal(t.vif.canReceiveGso(f.length), false, 'three pages and the extra slot need four requests');
  assert.equal(t.vif.receiveGso(f, gso), false);
  assert.equal(t.vif.counters.rxDropped['noBuffers'], 1);
  t.front.postRx(1);
  assert.equal(t.vif.canReceiveGso(f.length), true);
});
