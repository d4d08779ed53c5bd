// virtio-net TCP segmentation offload (VIRTIO_NET_F_HOST_TSO4/6, HOST_ECN; virtio 1.2 §5.1.6.2): a GSO packet as
// Linux's virtio_net hands it over is cut into gso_size segments. Every segment is checked by an independent parser
// written here (lengths, IPv4 IDs and header checksum, sequence numbers, flags, TCP checksum via the backends'
// inetChecksum); the checker is first shown to catch a corrupted segment. Hostile GSO headers are dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inetChecksum } from '../../../src/backends/net/testing/frames.js';
import { feature, hasFeature } from '../../../src/devices/virtio/constants.js';
import { NetSwitch } from '../../../src/backends/net/switch.js';
import { ScriptedBackend } from '../../../src/backends/net/testing/frames.js';
import type { GsoInfo } from '../../../src/backends/net/gso.js';
import {
  VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_HOST_TSO6,
  VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_SIZE, VIRTIO_NET_HDR_GSO_ECN, VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6, VIRTIO_NET_HDR_GSO_UDP, VIRTIO_NET_HDR_GSO_UDP_L4,
} from '../../../src/devices/virtio/net/constants.js';
import { NetHarness, type NetHdr } from '../../../src/devices/virtio/net/testing/driver.js';
import { TCP_ACK, TCP_CWR, TCP_FIN, TCP_PSH, pattern, pseudoHeader, tcpFrame } from '../../../src/devices/virtio/net/testing/packets.js';

interface Segment { ipId: number; seq: number; flags: number; payload: Uint8Array; tcpHeader: Uint8Array }

/** Parses one TCP segment (IPv4, or IPv6 with optional hop-by-hop header) and throws unless every length and checksum is right. */
function checkSegment(f: Uint8Array): Segment {
  const v = new DataView(f.buffer, f.byteOffset, f.length);
  const type = v.getUint16(12);
  let l4: number, ipId = -1, src: Uint8Array, dst: Uint8Array, v6: boolean;
  if (type === 0x0800) {
    v6 = false;
    const ihl = (f[14]! & 15) * 4;
    if (v.getUint16(16) !== f.length - 14) throw new Error(`IPv4 total length ${v.getUint16(16)}, frame carries ${f.length - 14}`);
    if (inetChecksum(f.subarray(14, 14 + ihl)) !== 0) throw new Error('IPv4 header checksum');
    if (f[23] !== 6) throw new Error('not TCP');
    ipId = v.getUint16(18);
    src = f.subarray(26, 30); dst = f.subarray(30, 34);
    l4 = 14 + ihl;
  } else if (type === 0x86dd) {
    v6 = true;
    if (v.getUint16(18) !== f.length - 54) throw new Error(`IPv6 payload length ${v.getUint16(18)}, frame carries ${f.length - 54}`);
    src = f.subarray(22, 38); dst = f.subarray(38, 54);
    let next = f[20]!;
    l4 = 54;
    if (next === 0) { next = f[l4]!; l4 += (f[l4 + 1]! + 1) * 8; }
    if (next !== 6) throw new Error('not TCP');
  } else throw new Error(`EtherType 0x${type.toString(16)}`);
  const seg = f.subarray(l4);
  const all = new Uint8Array((v6 ? 40 : 12) + seg.length);
  all.set(pseudoHeader(v6, src, dst, 6, seg.length));
  all.set(seg, v6 ? 40 : 12);
  if (inetChecksum(all) !== 0) throw new Error('TCP checksum');
  const doff = (seg[12]! >> 4) * 4;
  return { ipId, seq: v.getUint32(l4 + 4), flags: seg[13]!, payload: seg.slice(doff), tcpHeader: seg.slice(0, doff) };
}

/** Checks the segments against the original packet: payload in order, seq advancing by the payload, IDs, flags. */
function checkSegments(sent: Uint8Array[], opts: { payload: Uint8Array; mss: number; seq: number; ipId?: number; flags: number }): Segment[] {
  const segs = sent.map(checkSegment);
  const n = Math.ceil(opts.payload.length / opts.mss);
  assert.equal(segs.length, n, `${n} segments`);
  let at = 0;
  segs.forEach((s, i) => {
    const last = i === n - 1;
    assert.equal(s.payload.length, last ? opts.payload.length - opts.mss * (n - 1) : opts.mss, `segment ${i} length`);
    assert.deepEqual(s.payload, opts.payload.subarray(at, at + s.payload.length), `segment ${i} payload`);
    assert.equal(s.seq, (opts.seq + at) >>> 0, `segment ${i} seq`);
    if (opts.ipId !== undefined) assert.equal(s.ipId, (opts.ipId + i) & 0xffff, `segment ${i} IP ID`);
    let want = opts.flags;
    if (!last) want &= ~(TCP_FIN | TCP_PSH);
    if (i > 0) want &= ~TCP_CWR;
    assert.equal(s.flags, want, `segment ${i} flags`);
    at += s.payload.length;
  });
  return segs;
}

const TS_OPTION = Uint8Array.of(1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2); // NOP NOP timestamps, as Linux sends
const tso4 = (h: NetHarness, frame: Uint8Array, gso: Partial<NetHdr>) => h.send(frame, { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: VIRTIO_NET_HDR_GSO_TCPV4, csumStart: 34, csumOffset: 16, hdrLen: 66, ...gso });

test('the segment checker can fail: a flipped payload byte, a wrong IP length and a stale checksum are caught', () => {
  const good = tcpFrame({ payload: pattern(200) });
  assert.doesNotThrow(() => checkSegment(good));
  const flipped = good.slice(); flipped[100]! ^= 4;
  assert.throws(() => checkSegment(flipped), /TCP checksum/);
  const longer = good.slice(); new DataView(longer.buffer).setUint16(16, 300);
  assert.throws(() => checkSegment(longer), /IPv4 total length/);
  assert.throws(() => checkSegment(tcpFrame({ payload: pattern(200), csum: 'partial' })), /TCP checksum/);
  assert.throws(() => checkSegments([good, good], { payload: pattern(400), mss: 200, seq: 1000, flags: TCP_ACK | TCP_PSH }), /seq|flags|payload/);
});

test('TSO4: a 64000-byte GSO packet becomes MSS-sized segments with right lengths, IDs, seq, flags and checksums', () => {
  const h = new NetHarness();
  const payload = pattern(64000, 5);
  const flags = TCP_ACK | TCP_PSH | TCP_FIN | TCP_CWR;
  const gso = tcpFrame({ payload, options: TS_OPTION, seq: 0xffff_f000, ipId: 0xfffe, flags, csum: 'partial', ipLenOverride: 0 });
  const used = tso4(h, gso, { gsoSize: 1448, gsoType: VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN });
  assert.deepEqual(used.map((u) => u.len), [0]);
  const segs = checkSegments(h.backend.sent, { payload, mss: 1448, seq: 0xffff_f000, ipId: 0xfffe, flags });
  assert.equal(segs.length, 45);
  assert.ok(segs.every((s) => s.tcpHeader.length === 32), 'the timestamp option is in every segment');
  assert.ok(h.backend.sent.every((f) => f.length <= 14 + 20 + 32 + 1448));
  const c = h.net.counters;
  assert.deepEqual([c.txPackets, c.tsoPackets, c.tsoSegments, c.txFrames], [1, 1, 45, 45]);
});

test('TSO6: segments with the IPv6 payload length and checksums, also behind a hop-by-hop header', () => {
  const h = new NetHarness();
  const payload = pattern(5000, 9);
  const plain = tcpFrame({ v6: true, payload, seq: 77, flags: TCP_ACK | TCP_PSH, csum: 'partial' });
  h.send(plain, { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: VIRTIO_NET_HDR_GSO_TCPV6, gsoSize: 1220, csumStart: 54, csumOffset: 16, hdrLen: 74 });
  checkSegments(h.backend.sent, { payload, mss: 1220, seq: 77, flags: TCP_ACK | TCP_PSH });
  // Insert a hop-by-hop options header (PadN) between the IPv6 and TCP headers.
  const hop = Uint8Array.of(6, 0, 1, 4, 0, 0, 0, 0);
  const ext = new Uint8Array(plain.length + 8);
  ext.set(plain.subarray(0, 54));
  ext.set(hop, 54);
  ext.set(plain.subarray(54), 62);
  ext[20] = 0;
  new DataView(ext.buffer).setUint16(18, plain.length - 54 + 8);
  h.backend.sent.length = 0;
  h.send(ext, { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: VIRTIO_NET_HDR_GSO_TCPV6, gsoSize: 1000, csumStart: 62, csumOffset: 16 });
  checkSegments(h.backend.sent, { payload, mss: 1000, seq: 77, flags: TCP_ACK | TCP_PSH });
  assert.ok(h.backend.sent.every((f) => f[20] === 0 && f[54] === 6), 'each segment keeps the extension header');
});

test('TSO: hdr_len is only a hint, a small payload gives one segment, a tiny gso_size is raised to 8', () => {
  const h = new NetHarness();
  const payload = pattern(100);
  tso4(h, tcpFrame({ payload, csum: 'partial' }), { gsoSize: 1448, hdrLen: 0xffff });
  checkSegments(h.backend.sent, { payload, mss: 1448, seq: 1000, ipId: 0x1234, flags: TCP_ACK | TCP_PSH });
  h.backend.sent.length = 0;
  tso4(h, tcpFrame({ payload, csum: 'partial' }), { gsoSize: 1, hdrLen: 3 });
  checkSegments(h.backend.sent, { payload, mss: 8, seq: 1000, ipId: 0x1234, flags: TCP_ACK | TCP_PSH });
  assert.equal(h.backend.sent.length, 13);
});

test('hostile GSO headers are dropped and counted: gso_size 0, wrong family, unsupported or unnegotiated types, bad csum fields, fragments, oversize segments', () => {
  const h = new NetHarness({ accept: (o) => o & ~feature(VIRTIO_NET_F_HOST_TSO6) & ~feature(VIRTIO_NET_F_HOST_ECN) });
  const v4 = tcpFrame({ payload: pattern(3000), csum: 'partial' });
  const v6 = tcpFrame({ v6: true, payload: pattern(3000), csum: 'partial' });
  const frag = v4.slice(); new DataView(frag.buffer).setUint16(20, 0x2000); // MF
  const notTcp = v4.slice(); notTcp[23] = 17;
  const huge = tcpFrame({ payload: pattern(65536 + 64 - 54), csum: 'partial', ipLenOverride: 0 });
  tso4(h, v4, { gsoSize: 0 });
  tso4(h, v6, { gsoSize: 1000 }); // TCPV4 on an IPv6 packet
  h.send(v6, { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: VIRTIO_NET_HDR_GSO_TCPV6, gsoSize: 1000, csumStart: 54, csumOffset: 16 });
  tso4(h, v4, { gsoSize: 1000, gsoType: VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN });
  tso4(h, v4, { gsoSize: 1000, gsoType: VIRTIO_NET_HDR_GSO_UDP });
  tso4(h, v4, { gsoSize: 1000, gsoType: VIRTIO_NET_HDR_GSO_UDP_L4 });
  tso4(h, v4, { gsoSize: 1000, gsoType: 0x7f });
  tso4(h, v4, { gsoSize: 1000, csumOffset: 6 });
  tso4(h, v4, { gsoSize: 1000, csumStart: 14 });
  tso4(h, frag, { gsoSize: 1000 });
  tso4(h, notTcp, { gsoSize: 1000 });
  tso4(h, huge, { gsoSize: 0xffff });
  tso4(h, v4.subarray(0, 40), { gsoSize: 1000 }); // the TCP header is cut off
  const d = h.net.counters.drops;
  assert.deepEqual({ bad: d.txBadGso, notNeg: d.txGsoNotNegotiated }, { bad: 8, notNeg: 5 });
  assert.equal(h.backend.sent.length, 0);
  assert.equal(h.transport.state.failure, null);
  tso4(h, v4, { gsoSize: 1000 });
  assert.equal(h.backend.sent.length, 3, 'and a good one still goes out');
});

// ---- large packets carried whole (src/backends/net/gso.ts): HOST_TSO out, GUEST_TSO in ----------------------------

const bigPacket = () => tcpFrame({ payload: pattern(64000, 9), options: TS_OPTION, seq: 5000, ipId: 77, flags: TCP_ACK | TCP_PSH, csum: 'partial', ipLenOverride: 0 });
const BIG_GSO = { v6: false, ecn: false, size: 1448, csumStart: 34, hdrLen: 66, csumOffset: 16 };
const withoutGuestTso = (o: bigint) => o & ~(feature(VIRTIO_NET_F_GUEST_TSO4) | feature(VIRTIO_NET_F_GUEST_TSO6) | feature(VIRTIO_NET_F_GUEST_ECN));

test('HOST_TSO to a port that carries large packets: the packet leaves whole, checksum still partial, with its GsoInfo', () => {
  const h = new NetHarness();
  h.backend.acceptsGso = true;
  const gso = bigPacket();
  tso4(h, gso, { gsoSize: 1448 });
  assert.equal(h.backend.sent.length, 1);
  assert.deepEqual(h.backend.sent[0], gso, 'unchanged: segmenting and the TCP checksum are left to the receiver');
  assert.deepEqual(h.backend.sentGso[0], BIG_GSO);
  const c = h.net.counters;
  assert.deepEqual([c.txPackets, c.tsoWhole, c.tsoPackets, c.txFrames], [1, 1, 0, 1]);
  // A hostile header is checked as for cutting: a csum_start that is not the TCP header is dropped, never passed on.
  tso4(h, gso, { gsoSize: 1448, csumStart: 30 });
  assert.equal(h.backend.sent.length, 1);
  assert.equal(c.drops.txBadGso, 1);
});

test('GUEST_TSO: a large packet is written whole across mergeable buffers with NEEDS_CSUM and gso fields; it waits for room', () => {
  const h = new NetHarness();
  assert.ok(hasFeature(h.features, VIRTIO_NET_F_GUEST_TSO4) && hasFeature(h.features, VIRTIO_NET_F_GUEST_TSO6));
  const gso = bigPacket();
  h.postRx(4, 1526);
  h.backend.inject(gso, BIG_GSO);
  h.port.deliver();
  assert.deepEqual(h.takeRx(), [], 'four buffers cannot hold it');
  assert.equal(h.port.queued, 1, 'held by the port, not dropped');
  assert.equal(h.net.counters.drops.rxNoBuffers, 0);
  h.postRx(60, 1526);
  h.port.deliver();
  const [p, ...rest] = h.takeRx();
  assert.equal(rest.length, 0);
  assert.deepEqual(p!.frame, gso);
  assert.equal(p!.buffers, Math.ceil((VIRTIO_NET_HDR_SIZE + gso.length) / 1526));
  const { numBuffers: _n, ...hdr } = p!.hdr;
  assert.deepEqual(hdr, { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: VIRTIO_NET_HDR_GSO_TCPV4, hdrLen: 66, gsoSize: 1448, csumStart: 34, csumOffset: 16 });
  assert.equal(h.net.counters.rxGso, 1);
});

test('a driver without GUEST_TSO gets the segments, each complete and checksummed', () => {
  const h = new NetHarness({ accept: withoutGuestTso });
  const gso = bigPacket();
  h.postRx(64, 1526);
  h.backend.inject(gso, BIG_GSO);
  h.port.deliver();
  const got = h.takeRx();
  checkSegments(got.map((p) => p.frame), { payload: pattern(64000, 9), mss: 1448, seq: 5000, ipId: 77, flags: TCP_ACK | TCP_PSH });
  assert.ok(got.every((p) => p.hdr.gsoType === 0 && (p.hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) === 0));
  assert.equal(h.net.counters.rxGso, 0);
});

test('the switch carries a large packet whole to a port and cuts it for an uplink that takes only frames', () => {
  const sw = new NetSwitch('lan');
  const a = sw.addPort('a'), b = sw.addPort('b');
  const uplink = new ScriptedBackend('tap');
  sw.addUplink(uplink);
  const atB: [Uint8Array, GsoInfo | null][] = [];
  b.onFrame = (f, g) => { atB.push([f.slice(), g === undefined || g === null ? null : { ...g }]); };
  const gso = bigPacket();
  a.send(gso, BIG_GSO); // unknown destination: flooded to b and the uplink
  assert.equal(atB.length, 1);
  assert.deepEqual(atB[0], [gso, BIG_GSO]);
  checkSegments(uplink.sent, { payload: pattern(64000, 9), mss: 1448, seq: 5000, ipId: 77, flags: TCP_ACK | TCP_PSH });
  assert.ok(uplink.sentGso.every((g) => g === null));
  assert.equal(sw.segmenter.segments, 45);
});
