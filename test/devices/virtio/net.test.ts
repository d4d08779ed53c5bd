// virtio-net (virtio 1.2 §5.1) over virtio-mmio with a mock driver and a scripted backend: features and config
// space, transmit (plain, scattered, checksum offload against an independent checksum), receive into mergeable and
// big buffers, checksum validation for DATA_VALID, link status, the receive filter and the control queue,
// multiqueue pairs and steering, reset, and hostile chains that must be dropped or refused, never thrown on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BROADCAST, arpRequest, ethFrame, inetChecksum, mac } from '../../../src/backends/net/testing/frames.js';
import { VIRTIO_CONFIG_S_NEEDS_RESET, VIRTIO_F_VERSION_1, VIRTIO_ID_NET, feature, hasFeature } from '../../../src/devices/virtio/constants.js';
import {
  NET_CFG_MAC, NET_CFG_MAX_VIRTQUEUE_PAIRS, NET_CFG_SPEED, NET_CFG_STATUS, NET_CFG_DUPLEX, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET,
  VIRTIO_NET_CTRL_MAC_TABLE_SET, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI,
  VIRTIO_NET_CTRL_RX_PROMISC, VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_ERR, VIRTIO_NET_F_CSUM, VIRTIO_NET_F_CTRL_MAC_ADDR, VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6,
  VIRTIO_NET_F_MAC, VIRTIO_NET_F_MQ, VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_SPEED_DUPLEX, VIRTIO_NET_F_STATUS, VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_SIZE, VIRTIO_NET_OK, VIRTIO_NET_S_LINK_UP,
} from '../../../src/devices/virtio/net/constants.js';
import { VirtioNet } from '../../../src/devices/virtio/net/device.js';
import { VIRTIO_MMIO_INT_CONFIG } from '../../../src/devices/virtio/mmio.js';
import { NetHarness, type NetHarnessOptions } from '../../../src/devices/virtio/net/testing/driver.js';
import {
  GUEST_IP4, GUEST_IP6, GUEST_MAC, PEER_IP4, PEER_IP6, PEER_MAC, pattern, pseudoHeader, tcpFrame, udpFrame,
} from '../../../src/devices/virtio/net/testing/packets.js';

const without = (...bits: number[]) => (o: bigint) => bits.reduce((f, b) => f & ~feature(b), o);
const le32 = (n: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n, true); return b; };
const le16 = (n: number) => Uint8Array.of(n & 0xff, n >> 8);
const cat = (parts: Uint8Array[]) => { const o = new Uint8Array(parts.reduce((a, p) => a + p.length, 0)); let at = 0; for (const p of parts) { o.set(p, at); at += p.length; } return o; };
/** VIRTIO_NET_CTRL_MAC_TABLE_SET data as Linux sends it: one buffer per struct virtio_net_ctrl_mac. */
const macTable = (uni: Uint8Array[], multi: Uint8Array[]) => [cat([le32(uni.length), ...uni]), cat([le32(multi.length), ...multi])];

/** An independent check of a frame's TCP/UDP checksum: the Internet checksum over pseudo-header + segment is 0. */
function l4ChecksumOk(f: Uint8Array): boolean {
  const type = (f[12]! << 8) | f[13]!;
  const v6 = type === 0x86dd;
  const ip = f.subarray(14);
  const hl = v6 ? 40 : (ip[0]! & 15) * 4;
  const len = v6 ? ((ip[4]! << 8) | ip[5]!) : ((ip[2]! << 8) | ip[3]!) - hl;
  const proto = v6 ? ip[6]! : ip[9]!;
  const src = v6 ? ip.subarray(8, 24) : ip.subarray(12, 16);
  const dst = v6 ? ip.subarray(24, 40) : ip.subarray(16, 20);
  const seg = ip.subarray(hl, hl + len);
  const all = new Uint8Array((v6 ? 40 : 12) + seg.length);
  all.set(pseudoHeader(v6, src, dst, proto, seg.length));
  all.set(seg, v6 ? 40 : 12);
  return inetChecksum(all) === 0;
}

function harness(opts: NetHarnessOptions = {}) { return new NetHarness(opts); }

test('the checksum oracle can fail: a corrupted byte or a pseudo-header-only checksum is caught', () => {
  const good = tcpFrame({ payload: pattern(100) });
  assert.equal(l4ChecksumOk(good), true);
  const bad = good.slice(); bad[80]! ^= 1;
  assert.equal(l4ChecksumOk(bad), false);
  assert.equal(l4ChecksumOk(tcpFrame({ payload: pattern(100), csum: 'partial' })), false);
  assert.equal(l4ChecksumOk(udpFrame({ v6: true, payload: pattern(33) })), true);
});

test('features offered as Linux negotiates them; config space: mac, status, max_virtqueue_pairs, speed', () => {
  const one = new VirtioNet();
  const f = one.deviceFeatures;
  for (const b of [VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_MAC, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_HOST_ECN,
    VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_STATUS, VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_CTRL_MAC_ADDR, VIRTIO_NET_F_GUEST_TSO4]) assert.ok(hasFeature(f, b), `bit ${b}`);
  for (const b of [VIRTIO_NET_F_MQ, VIRTIO_NET_F_SPEED_DUPLEX]) assert.ok(!hasFeature(f, b), `bit ${b} not offered`);
  assert.equal(one.queueMaxSizes.length, 3);
  const four = new VirtioNet({ queuePairs: 4, speed: 10000, mac: '02:00:00:00:00:01' });
  assert.ok(hasFeature(four.deviceFeatures, VIRTIO_NET_F_MQ) && hasFeature(four.deviceFeatures, VIRTIO_NET_F_SPEED_DUPLEX));
  assert.equal(four.queueMaxSizes.length, 9, 'rx0 tx0 … rx3 tx3 ctrl');
  assert.equal(four.config.read(NET_CFG_MAX_VIRTQUEUE_PAIRS, 2), 4);
  assert.equal(four.config.read(NET_CFG_SPEED, 4), 10000);
  assert.equal(four.config.read(NET_CFG_DUPLEX, 1), 1);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => four.config.read(NET_CFG_MAC + i, 1)), [2, 0, 0, 0, 0, 1]);
  const h = harness();
  assert.equal(h.mmio.probe(), VIRTIO_ID_NET);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => h.mmio.config(NET_CFG_MAC + i, 1)), [...GUEST_MAC]);
  assert.equal(h.mmio.config(NET_CFG_STATUS, 2), VIRTIO_NET_S_LINK_UP, 'the scripted backend has carrier');
  h.mmio.port.write(0x100 + NET_CFG_MAC, 1, 0x99);
  assert.equal(h.mmio.config(NET_CFG_MAC, 1), GUEST_MAC[0], 'config space is read-only for the driver');
  assert.throws(() => new VirtioNet({ mac: '01:00:5e:00:00:01' }), /group or all-zero address/);
  assert.throws(() => new VirtioNet({ queuePairs: 0 }), /queue pairs 0/);
});

test('feature dependencies (§5.1.3.1): a driver taking TSO without CSUM is refused; features without their requirement are not offered', () => {
  const h = harness({ accept: without(VIRTIO_NET_F_CSUM) });
  assert.equal(h.features & feature(VIRTIO_NET_F_HOST_TSO4), feature(VIRTIO_NET_F_HOST_TSO4));
  assert.equal(h.status & 8, 0, 'FEATURES_OK did not stick');
  assert.match(h.transport.state.refusedFeatures ?? '', /VIRTIO_NET_F_HOST_TSO4 without VIRTIO_NET_F_CSUM/);
  const mq = harness({ net: { queuePairs: 2 }, accept: without(VIRTIO_NET_F_CTRL_VQ) });
  assert.match(mq.transport.state.refusedFeatures ?? '', /without VIRTIO_NET_F_CTRL_VQ/);
  const noCsum = new VirtioNet({ withoutFeatures: [VIRTIO_NET_F_CSUM, VIRTIO_NET_F_CTRL_VQ] });
  for (const b of [VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_CTRL_MAC_ADDR]) {
    assert.ok(!hasFeature(noCsum.deviceFeatures, b), `bit ${b} goes with its requirement`);
  }
  assert.ok(hasFeature(noCsum.deviceFeatures, VIRTIO_NET_F_GUEST_CSUM));
});

test('transmit: a plain frame leaves unchanged, from one buffer, from scattered buffers and through an indirect table', () => {
  const h = harness();
  const arp = arpRequest(GUEST_MAC, GUEST_IP4, PEER_IP4);
  const big = tcpFrame({ payload: pattern(1400) });
  assert.deepEqual(h.send(arp).map((u) => u.len), [0], 'used length 0: nothing written back');
  h.send(big, {}, { split: [VIRTIO_NET_HDR_SIZE, 40, 700] });
  h.send(big, {}, { split: [5, 500], indirect: true });
  assert.equal(h.backend.sent.length, 3);
  assert.deepEqual(h.backend.sent[0], arp);
  assert.deepEqual(h.backend.sent[1], big);
  assert.deepEqual(h.backend.sent[2], big);
  const c = h.net.counters;
  assert.equal(c.txPackets, 3);
  assert.equal(c.txFrames, 3);
  assert.equal(c.txBytes, arp.length + 2 * big.length);
  assert.equal(h.port.counters.txFrames, 3);
  assert.ok(h.queue(1).counters.interrupts >= 1);
  assert.equal(h.queue(1).counters.bytesRead, 3 * VIRTIO_NET_HDR_SIZE + arp.length + 2 * big.length, 'each byte copied once');
  assert.equal(h.guest.dma.outside.length, 0);
});

test('transmit with NEEDS_CSUM: the device completes TCP/IPv4 and UDP/IPv6 checksums, checked independently', () => {
  const h = harness();
  const cases = [
    { partial: tcpFrame({ payload: pattern(999), csum: 'partial' }), full: tcpFrame({ payload: pattern(999) }), start: 34, off: 16 },
    { partial: udpFrame({ v6: true, payload: pattern(501), csum: 'partial' }), full: udpFrame({ v6: true, payload: pattern(501) }), start: 54, off: 6 },
    { partial: tcpFrame({ v6: true, payload: pattern(1), csum: 'partial' }), full: tcpFrame({ v6: true, payload: pattern(1) }), start: 54, off: 16 },
  ];
  for (const { partial, start, off } of cases) {
    assert.equal(l4ChecksumOk(partial), false, 'the driver left only the pseudo-header sum');
    h.send(partial, { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: start, csumOffset: off });
  }
  cases.forEach(({ full }, i) => {
    assert.equal(l4ChecksumOk(h.backend.sent[i]!), true, `case ${i}`);
    assert.deepEqual(h.backend.sent[i], full, `case ${i}: identical to a frame checksummed by the reference`);
  });
  assert.equal(h.net.counters.txCsumComputed, 3);
});

test('transmit NEEDS_CSUM: a UDP checksum that folds to zero goes out as 0xffff (RFC 768, Linux CSUM_MANGLED_0)', () => {
  // Find a payload whose correct UDP checksum is 0 by the reference implementation.
  let payload: Uint8Array | null = null;
  for (let w = 0; w < 0x10000 && payload === null; w++) {
    const p = Uint8Array.of(w >> 8, w & 0xff);
    if (new DataView(udpFrame({ payload: p }).buffer).getUint16(14 + 20 + 6) === 0) payload = p;
  }
  assert.ok(payload !== null);
  const h = harness();
  h.send(udpFrame({ payload, csum: 'partial' }), { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: 34, csumOffset: 6 });
  const out = h.backend.sent[0]!;
  assert.equal(new DataView(out.buffer).getUint16(14 + 20 + 6), 0xffff);
  assert.equal(l4ChecksumOk(out), true);
});

test('transmit: NEEDS_CSUM means nothing to a device whose driver did not take VIRTIO_NET_F_CSUM', () => {
  const h = harness({ accept: without(VIRTIO_NET_F_CSUM, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_HOST_ECN) });
  const partial = tcpFrame({ payload: pattern(50), csum: 'partial' });
  h.send(partial, { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: 34, csumOffset: 16 });
  assert.deepEqual(h.backend.sent[0], partial);
  assert.equal(h.net.counters.txCsumComputed, 0);
});

test('receive into mergeable buffers: num_buffers, every buffer but the last filled, the frame put back together', () => {
  const h = harness();
  h.postRx(8, 1536);
  const arp = arpRequest(PEER_MAC, PEER_IP4, GUEST_IP4);
  const jumbo = ethFrame(GUEST_MAC, PEER_MAC, 0x88b5, pattern(4000 - 14));
  h.inject(arp, jumbo);
  const used = h.rxRing().takeUsed();
  assert.equal(used.length, 4, '1 + 3 buffers');
  assert.deepEqual(used.map((u) => u.len), [VIRTIO_NET_HDR_SIZE + arp.length, 1536, 1536, VIRTIO_NET_HDR_SIZE + 4000 - 2 * 1536]);
  const h2 = harness();
  h2.postRx(8, 1536);
  h2.inject(arp, jumbo);
  const got = h2.takeRx();
  assert.equal(got.length, 2);
  assert.deepEqual(got[0]!.frame, arp);
  assert.deepEqual({ ...got[0]!.hdr, numBuffers: 0 }, { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0, numBuffers: 0 });
  assert.equal(got[0]!.hdr.numBuffers, 1);
  assert.equal(got[1]!.hdr.numBuffers, 3);
  assert.deepEqual(got[1]!.frame, jumbo);
  const c = h2.net.counters;
  assert.deepEqual([c.rxFrames, c.rxBytes, c.rxBuffers], [2, arp.length + jumbo.length, 4]);
  assert.equal(h2.port.counters.rxFrames, 2);
  assert.ok(h2.queue(0).counters.interrupts >= 1);
});

test('receive without mergeable buffers: Linux big-packet chains (header + pages) take a 9000-byte frame in one', () => {
  const h = harness({ accept: without(VIRTIO_NET_F_MRG_RXBUF) });
  h.postRx(2, VIRTIO_NET_HDR_SIZE + 65550, { pieces: 17 });
  const f = ethFrame(GUEST_MAC, PEER_MAC, 0x88b5, pattern(9000 - 14, 3));
  h.inject(f);
  const got = h.takeRx();
  assert.equal(got.length, 1);
  assert.equal(got[0]!.hdr.numBuffers, 1, '§5.1.6.4: num_buffers is 1 without MRG_RXBUF');
  assert.deepEqual(got[0]!.frame, f);
});

test('receive without mergeable buffers into small buffers: a frame too big for the next buffer is dropped, the buffer kept', () => {
  const h = harness({ accept: without(VIRTIO_NET_F_MRG_RXBUF) });
  h.postRx(1, 1526);
  const big = ethFrame(GUEST_MAC, PEER_MAC, 0x88b5, pattern(2000));
  const arp = arpRequest(PEER_MAC, PEER_IP4, GUEST_IP4);
  h.inject(big, arp);
  const got = h.takeRx();
  assert.equal(got.length, 1);
  assert.deepEqual(got[0]!.frame, arp);
  assert.equal(h.net.counters.drops.rxTooBig, 1);
  assert.equal(h.port.counters.rxDropped, 1);
});

test('receive with no buffers: the port holds the frame until the driver posts some, and the device asked to be told', () => {
  const h = harness();
  const arp = arpRequest(PEER_MAC, PEER_IP4, GUEST_IP4);
  h.postRx(2, 1536);
  h.inject(arp, arp);
  assert.equal(h.takeRx().length, 2);
  h.inject(arp);
  assert.equal(h.port.queued, 1, 'canReceive() said no: the frame waits in the port');
  assert.equal(h.net.canReceive(), false);
  assert.equal(h.rxRing().availEvent, 2, 'avail_event published: notify me when entry 2 is made available');
  const before = h.queue(0).counters.notifications;
  h.postRx(2, 1536);
  assert.equal(h.queue(0).counters.notifications, before + 1, 'the refill was notified');
  h.port.deliver();
  assert.deepEqual(h.takeRx()[0]!.frame, arp);
  assert.equal(h.port.queued, 0);
});

test('receive checksum: DATA_VALID for verified TCP/UDP (Ethernet padding left out), nothing for bad, absent or non-IP', () => {
  const h = harness();
  h.postRx(16, 1536);
  const good = tcpFrame({ srcMac: PEER_MAC, dstMac: GUEST_MAC, src: PEER_IP4, dst: GUEST_IP4, payload: pattern(300) });
  const bad = good.slice(); bad[100]! ^= 0x40;
  const short = tcpFrame({ srcMac: PEER_MAC, dstMac: GUEST_MAC, src: PEER_IP4, dst: GUEST_IP4, payload: pattern(2) });
  const padded = new Uint8Array(60); padded.set(short);
  const udp6 = udpFrame({ v6: true, srcMac: PEER_MAC, dstMac: GUEST_MAC, src: PEER_IP6, dst: GUEST_IP6, payload: pattern(77) });
  const udpNoCsum = udpFrame({ srcMac: PEER_MAC, dstMac: GUEST_MAC, payload: pattern(10), csum: 'zero' });
  h.inject(good, bad, padded, udp6, udpNoCsum, arpRequest(PEER_MAC, PEER_IP4, GUEST_IP4));
  const flags = h.takeRx().map((p) => p.hdr.flags);
  assert.deepEqual(flags, [VIRTIO_NET_HDR_F_DATA_VALID, 0, VIRTIO_NET_HDR_F_DATA_VALID, VIRTIO_NET_HDR_F_DATA_VALID, 0, 0]);
  assert.deepEqual([h.net.counters.rxCsumValid, h.net.counters.rxCsumBad], [3, 1]);
  // GUEST_TSO needs GUEST_CSUM (§5.1.3.1): a driver dropping one drops them all.
  const plain = harness({ accept: without(VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_ECN) });
  plain.postRx(2, 1536);
  plain.inject(good);
  assert.equal(plain.takeRx()[0]!.hdr.flags, 0, 'flags stay 0 without GUEST_CSUM (§5.1.6.4)');
});

test('link status follows the backend: config status, a configuration change interrupt, frames refused while down', () => {
  const h = harness();
  h.postRx(4, 1536);
  h.mmio.ack();
  const gen = h.transport.state.configGeneration;
  h.backend.linkUp = false;
  assert.equal(h.net.updateLink(), true);
  assert.equal(h.mmio.config(NET_CFG_STATUS, 2), 0);
  assert.ok(h.transport.state.configGeneration > gen);
  assert.equal(h.mmio.ack() & VIRTIO_MMIO_INT_CONFIG, VIRTIO_MMIO_INT_CONFIG);
  h.send(arpRequest(GUEST_MAC, GUEST_IP4, PEER_IP4));
  assert.equal(h.backend.sent.length, 0);
  assert.equal(h.net.counters.drops.txLinkDown, 1);
  assert.equal(h.net.canReceive(), false);
  h.backend.linkUp = true;
  h.send(arpRequest(GUEST_MAC, GUEST_IP4, PEER_IP4));
  assert.equal(h.backend.sent.length, 1, 'the notification noticed the carrier is back');
  assert.equal(h.mmio.config(NET_CFG_STATUS, 2), VIRTIO_NET_S_LINK_UP);
  assert.equal(h.mmio.ack() & VIRTIO_MMIO_INT_CONFIG, VIRTIO_MMIO_INT_CONFIG);
  assert.equal(h.net.counters.linkChanges, 2);
  const quiet = harness({ accept: without(VIRTIO_NET_F_STATUS) });
  quiet.mmio.ack();
  quiet.backend.linkUp = false;
  quiet.net.updateLink();
  assert.equal(quiet.mmio.ack() & VIRTIO_MMIO_INT_CONFIG, 0, 'no config interrupt for a driver without VIRTIO_NET_F_STATUS');
});

test('receive filter: promiscuous after reset, then the MAC, broadcast, the multicast table and allmulti', () => {
  const h = harness();
  h.postRx(32, 1536);
  const to = (dst: Uint8Array) => ethFrame(dst, PEER_MAC, 0x88b5, pattern(50));
  const other = mac('52:54:00:00:00:99'), group = mac('33:33:00:00:00:01'), group2 = mac('01:00:5e:00:00:fb');
  h.inject(to(other));
  assert.equal(h.takeRx().length, 1, 'promiscuous until the driver says otherwise');
  assert.equal(h.command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, [Uint8Array.of(0)]), VIRTIO_NET_OK);
  h.inject(to(other), to(GUEST_MAC), to(BROADCAST), to(group));
  assert.deepEqual(h.takeRx().map((p) => p.frame.subarray(0, 6)), [GUEST_MAC, BROADCAST]);
  assert.equal(h.net.counters.drops.rxFiltered, 2);
  assert.equal(h.command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, macTable([other], [group])), VIRTIO_NET_OK);
  h.inject(to(other), to(group), to(group2));
  assert.deepEqual(h.takeRx().map((p) => p.frame.subarray(0, 6)), [other, group]);
  assert.equal(h.command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, [Uint8Array.of(1)]), VIRTIO_NET_OK);
  h.inject(to(group2));
  assert.equal(h.takeRx().length, 1);
  const many = Array.from({ length: 65 }, (_, i) => Uint8Array.of(0x01, 0, 0x5e, 0, 1, i));
  assert.equal(h.command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, [Uint8Array.of(0)]), VIRTIO_NET_OK);
  assert.equal(h.command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, macTable([], many)), VIRTIO_NET_OK);
  h.inject(to(group2), to(other));
  assert.deepEqual(h.takeRx().map((p) => p.frame.subarray(0, 6)), [group2], 'an overflowing multicast table accepts all multicast; the unicast table was replaced');
  const newMac = mac('52:54:00:11:22:33');
  assert.equal(h.command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, [newMac]), VIRTIO_NET_OK);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => h.mmio.config(NET_CFG_MAC + i, 1)), [...newMac], 'config mac follows MAC_ADDR_SET');
  h.inject(to(GUEST_MAC), to(newMac));
  assert.deepEqual(h.takeRx().map((p) => p.frame.subarray(0, 6)), [newMac]);
});

test('control queue: malformed, unknown and unnegotiated commands answer VIRTIO_NET_ERR and change nothing', () => {
  const h = harness({ net: { queuePairs: 2 } });
  const ERR = VIRTIO_NET_ERR;
  assert.equal(h.rawCommand(Uint8Array.of(VIRTIO_NET_CTRL_RX), 1).ack, ERR, 'one byte: no command');
  assert.equal(h.rawCommand(new Uint8Array(0), 1).ack, ERR, 'nothing readable');
  const noAck = h.rawCommand(Uint8Array.of(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, 0), 0);
  assert.deepEqual(noAck.used.map((u) => u.len), [0], 'no byte for the ack: returned unanswered');
  assert.equal(h.net.filter.promisc, true, 'and not carried out');
  assert.equal(h.net.counters.ctrlNoAck, 1);
  assert.equal(h.command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, [Uint8Array.of(2)]), ERR);
  assert.equal(h.command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, [Uint8Array.of(0, 0)]), ERR);
  assert.equal(h.command(VIRTIO_NET_CTRL_RX, 2 /* ALLUNI: CTRL_RX_EXTRA */, [Uint8Array.of(1)]), ERR);
  assert.equal(h.command(VIRTIO_NET_CTRL_VLAN, 0, [le16(5)]), ERR);
  assert.equal(h.command(77, 0), ERR);
  assert.equal(h.command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, [mac('01:02:03:04:05:06')]), ERR, 'a group address');
  assert.equal(h.command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, [new Uint8Array(5)]), ERR);
  assert.equal(h.net.filter.promisc, true);
  // MAC_TABLE_SET whose counts do not match its bytes: refused whole, the table untouched.
  assert.equal(h.command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, macTable([], [mac('33:33:00:00:00:01')])), VIRTIO_NET_OK);
  assert.equal(h.command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, [le32(0), le32(0xffff_ffff), new Uint8Array(12)]), ERR);
  assert.match(h.net.lastControlError, /4294967295 multicast entries but 12 bytes follow/);
  assert.equal(h.command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, [...macTable([], []), Uint8Array.of(0)]), ERR, 'a byte after the tables');
  assert.equal(h.command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, [le32(1), new Uint8Array(6)]), ERR, 'no multicast count');
  assert.equal(h.net.filter.multi.count, 1);
  assert.ok(h.net.counters.ctrlErr >= 12);
  assert.equal(h.transport.state.failure, null, 'a bad command is the command\'s failure, not the device\'s');
  const plain = harness({ accept: without(VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_CTRL_MAC_ADDR) });
  assert.equal(plain.command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, [Uint8Array.of(0)]), ERR, 'CTRL_RX not negotiated');
  assert.equal(plain.command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, [mac('52:54:00:11:22:33')]), ERR);
  assert.equal(plain.command(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, [le16(1)]), ERR, 'MQ not offered for one pair');
});

test('multiqueue: VQ_PAIRS_SET checks its range; receive uses only enabled queues and follows the flow a queue transmitted', () => {
  const h = harness({ net: { queuePairs: 2 } });
  assert.ok(hasFeature(h.features, VIRTIO_NET_F_MQ));
  assert.equal(h.rings.length, 5);
  h.postRx(16, 1536, { pair: 0 });
  h.postRx(8, 1536, { pair: 1 });
  const reply = (sport: number) => tcpFrame({ srcMac: PEER_MAC, dstMac: GUEST_MAC, src: PEER_IP4, dst: GUEST_IP4, sport: 5201, dport: sport, payload: pattern(20) });
  const out = (sport: number) => tcpFrame({ sport, payload: pattern(20) });
  h.inject(reply(1), reply(2), reply(3), reply(4));
  assert.equal(h.takeRx(0).length, 4, 'only receiveq1 before VQ_PAIRS_SET');
  assert.equal(h.takeRx(1).length, 0);
  assert.equal(h.command(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, [le16(0)]), VIRTIO_NET_ERR);
  assert.equal(h.command(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, [le16(3)]), VIRTIO_NET_ERR);
  assert.equal(h.command(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, [Uint8Array.of(2)]), VIRTIO_NET_ERR, 'one byte of a le16');
  assert.equal(h.net.queuePairs, 1);
  assert.equal(h.command(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, [le16(2)]), VIRTIO_NET_OK);
  assert.equal(h.net.queuePairs, 2);
  for (let sport = 100; sport < 108; sport++) h.send(out(sport), {}, { pair: sport % 2 });
  assert.equal(h.backend.sent.length, 8, 'both transmit queues work');
  for (let sport = 100; sport < 108; sport++) h.inject(reply(sport));
  const ports = (pair: number) => h.takeRx(pair).map((p) => (p.frame[36]! << 8) | p.frame[37]!);
  assert.deepEqual(ports(0), [100, 102, 104, 106], 'each flow comes back on the pair it was sent from');
  assert.deepEqual(ports(1), [101, 103, 105, 107]);
  assert.equal(h.command(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, [le16(1)]), VIRTIO_NET_OK);
  h.inject(reply(101));
  assert.equal(h.takeRx(0).length, 1, 'back to one pair: nothing goes to receiveq2');
});

test('without MQ negotiated the control queue is queue 2 even when the device has more pairs', () => {
  const h = harness({ net: { queuePairs: 4 }, accept: without(VIRTIO_NET_F_MQ) });
  assert.equal(h.rings.length, 3);
  assert.equal(h.ctrlIndex, 2);
  assert.equal(h.command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, [Uint8Array.of(0)]), VIRTIO_NET_OK);
  assert.equal(h.net.filter.promisc, false);
});

test('reset: filter, pairs, MAC and held receive buffers back to power-on', () => {
  const h = harness({ net: { queuePairs: 2 } });
  h.postRx(4, 1536);
  assert.equal(h.net.canReceive(), true);
  assert.equal(h.net.heldRxBuffers(0), 1, 'one buffer is enough for a full-size frame');
  h.command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, [Uint8Array.of(0)]);
  h.command(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, [le16(2)]);
  h.command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, [mac('52:54:00:11:22:33')]);
  h.mmio.status = 0;
  assert.deepEqual([h.net.filter.promisc, h.net.queuePairs, h.net.heldRxBuffers(0)], [true, 1, 0]);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => h.mmio.config(NET_CFG_MAC + i, 1)), [...GUEST_MAC]);
  assert.equal(h.net.canReceive(), false);
});

test('hostile transmit chains are dropped and counted; the device keeps working', () => {
  const h = harness();
  const ring = h.txRing();
  h.post(ring, [{ len: 64 }], 1); // write-only: no header to read
  h.post(ring, [{ data: new Uint8Array(5) }], 1); // short header
  const used = ring.takeUsed();
  h.send(new Uint8Array(10)); // runt
  h.send(tcpFrame({ payload: pattern(10), csum: 'partial' }), { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: 60, csumOffset: 16 });
  h.send(tcpFrame({ payload: pattern(10), csum: 'partial' }), { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: 0xffff, csumOffset: 0xffff });
  h.send(new Uint8Array(65536 + 65), {}, {});
  assert.deepEqual(used.map((u) => u.len), [0, 0], 'the two raw chains went back with length 0');
  const d = h.net.counters.drops;
  assert.deepEqual([d.txShortHeader, d.txRunt, d.txBadCsum, d.txTooLong], [2, 1, 2, 1]);
  assert.equal(h.backend.sent.length, 0);
  assert.equal(h.transport.state.failure, null);
  assert.equal(ring.freeDescriptors, ring.size, 'every chain came back');
  h.send(arpRequest(GUEST_MAC, GUEST_IP4, PEER_IP4));
  assert.equal(h.backend.sent.length, 1);
});

test('hostile receive buffers: a chain too small for a header goes back empty; a buffer outside RAM sets DEVICE_NEEDS_RESET', () => {
  const h = harness();
  h.post(h.rxRing(), [{ data: new Uint8Array(64) }], 0); // device-readable only
  h.postRx(1, 8);
  h.postRx(1, 1536);
  h.inject(arpRequest(PEER_MAC, PEER_IP4, GUEST_IP4));
  const used = h.rxRing().takeUsed();
  assert.deepEqual(used.map((u) => u.len), [0, 0, VIRTIO_NET_HDR_SIZE + 60]);
  assert.equal(h.net.counters.drops.rxBadBuffer, 2);
  const g = harness();
  g.rxRing().writeDesc(g.rxRing().desc, 0, 0x1000, 2048, 2, 0);
  g.rxRing().putAvail(0);
  g.rxRing().publish();
  g.inject(arpRequest(PEER_MAC, PEER_IP4, GUEST_IP4));
  assert.equal(g.status & VIRTIO_CONFIG_S_NEEDS_RESET, VIRTIO_CONFIG_S_NEEDS_RESET);
  assert.match(g.transport.state.failure ?? '', /buffer-fault/);
  assert.equal(g.net.canReceive(), false);
  assert.equal(g.guest.dma.outside.length, 0);
  assert.equal(g.guest.metrics.failures.length, 0, 'nothing threw');
});

test('a frame spread over buffers, one of them outside RAM: DEVICE_NEEDS_RESET before any of its buffers is used', () => {
  const h = harness();
  const ring = h.rxRing();
  h.postRx(1, 1536);
  const bad = ring.add([{ len: 1536 }], { defer: true })!;
  ring.writeDesc(ring.desc, bad.ids[0]!, 0x1000, 1536, 2, 0);
  h.postRx(1, 1536);
  h.inject(ethFrame(GUEST_MAC, PEER_MAC, 0x88b5, pattern(4000)));
  assert.equal(h.status & VIRTIO_CONFIG_S_NEEDS_RESET, VIRTIO_CONFIG_S_NEEDS_RESET);
  assert.equal(ring.usedIdx, 0, 'no buffer of the frame reached the used ring');
});

test('VERSION_1 is always offered: the 12-byte header with num_buffers is the only one', () => {
  const h = harness();
  assert.ok(hasFeature(h.features, VIRTIO_F_VERSION_1));
});
