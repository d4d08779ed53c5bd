// Frames through the 82540EM with the mock driver: TX and RX descriptor write-back (DD, EOP, lengths with FCS),
// address filters, VLAN stripping, RX checksum offload, TX checksum offload and TSO segmentation checked against an
// independent reference built in the test (RFC 1071 from the backends' test helpers, not the device's code).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  E1000_CTRL, E1000_CTRL_VME, E1000_GPTC, E1000_MTA, E1000_RCTL, E1000_RCTL_MPE, E1000_RCTL_SZ_SHIFT,
  E1000_RCTL_UPE, E1000_RXD_ERR_TCPE, E1000_RXD_STAT_DD, E1000_RXD_STAT_EOP, E1000_RXD_STAT_IXSM,
  E1000_RXD_STAT_TCPCS, E1000_RXD_STAT_VP, E1000_TXD_STAT_DD,
} from '../../../src/devices/e1000/regs.js';
import { upMachine } from '../../../src/devices/e1000/testing/machine.js';
import { checksumsValid, GUEST_IP, GUEST_MAC, PEER_IP, PEER_MAC, payload, rd16, rd32, tcpFrame } from './packets.js';

const toPeer = (seq: number, data: Uint8Array, flags = 0x18, ipId = 0x1234) =>
  tcpFrame(PEER_MAC, GUEST_MAC, GUEST_IP, PEER_IP, { seq, flags, ipId }, data);
const toGuest = (data: Uint8Array, dst = GUEST_MAC) => tcpFrame(dst, PEER_MAC, PEER_IP, GUEST_IP, { seq: 7, flags: 0x18, ipId: 9 }, data);

test('TX: a plain frame goes out unchanged; DD is written back into the EOP descriptor; TXDW interrupts', () => {
  const m = upMachine();
  const f = toPeer(1000, payload(200));
  assert.ok(m.drv.xmit(f));
  assert.equal(m.link.sent.length, 1);
  assert.deepEqual(m.link.sent[0], f);
  assert.equal(m.irq.level, true);
  const r = m.drv.interrupt();
  assert.equal(r.tx, 1, 'e1000_clean_tx_irq found DD on the EOP descriptor');
  const eopStatus = m.ram.read8(m.drv.layout.txRing - m.ram.base + 0 * 16 + 12);
  assert.equal(eopStatus & E1000_TXD_STAT_DD, E1000_TXD_STAT_DD);
  assert.equal(m.drv.er32(E1000_GPTC), 1);
});

test('TX: short frames are padded to 60 bytes (TCTL.PSP); a frame spanning several data descriptors is gathered whole', () => {
  const m = upMachine();
  const arp = new Uint8Array(42); arp.fill(0xff, 0, 6); arp[12] = 0x08; arp[13] = 0x06;
  m.drv.xmit(arp);
  assert.equal(m.link.sent[0]!.length, 60);
  const big = toPeer(5, payload(9000)); // 3 data descriptors of at most 4096 bytes
  m.drv.xmit(big);
  assert.deepEqual(m.link.sent[1], big);
});

test('TX checksum offload (CHECKSUM_PARTIAL): the TCP checksum is filled in over the pseudo-header the stack left', () => {
  const m = upMachine();
  const good = toPeer(77, payload(700));
  const f = good.slice();
  // What the stack leaves for CHECKSUM_PARTIAL: ~csum_tcpudp_magic(...) i.e. the folded pseudo-header sum with length.
  let s = 6 + (f.length - 34);
  for (let i = 26; i < 34; i += 2) s += (f[i]! << 8) | f[i + 1]!;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  f[50] = s >> 8; f[51] = s & 0xff;
  assert.equal(checksumsValid(f), false, 'the oracle rejects the half-done frame');
  m.drv.xmit(f, { csum: { start: 34, offset: 16, tcp: true } });
  assert.equal(checksumsValid(m.link.sent[0]!), true);
  assert.deepEqual(m.link.sent[0], good);
  assert.equal(m.dev.counters.txChecksums, 1);
});

test('TSO: a 20000-byte TCP/IPv4 send becomes MSS-sized segments identical to an independent reference', () => {
  const m = upMachine();
  const mss = 1448, data = payload(20000, 3), seq0 = 0xfffff000; // sequence numbers wrap past 2^32
  const whole = toPeer(seq0, data, 0x19, 0x4321); // PSH|FIN|ACK on the super-packet
  m.drv.xmit(whole, { tso: { mss, hdrLen: 54, ipv4: true } });
  const n = Math.ceil(data.length / mss);
  assert.equal(m.link.sent.length, n);
  for (let i = 0; i < n; i++) {
    const chunk = data.subarray(i * mss, Math.min(data.length, (i + 1) * mss));
    const last = i === n - 1;
    const want = toPeer((seq0 + i * mss) >>> 0, chunk, last ? 0x19 : 0x10, 0x4321 + i);
    const got = m.link.sent[i]!;
    assert.equal(checksumsValid(got), true, `segment ${i} checksums`);
    assert.deepEqual(got, want, `segment ${i} byte for byte`);
  }
  // The reference can fail: a segment with one payload byte changed no longer verifies.
  const bad = m.link.sent[0]!.slice(); bad[60]! ^= 0x40;
  assert.equal(checksumsValid(bad), false);
  assert.equal(m.dev.counters.tsoSegments, n);
  assert.equal(m.dev.counters.tsoPackets, 1);
  assert.equal(rd32(m.link.sent[n - 1]!, 38), (seq0 + (n - 1) * mss) >>> 0);
  assert.equal(m.drv.interrupt().tx, 1);
});

test('RX: descriptor write-back — DD|EOP, length with the 4-byte FCS, TCPCS for a good TCP frame, TCPE for a bad one', () => {
  const m = upMachine();
  const f = toGuest(payload(300));
  assert.equal(m.dev.canReceive(), true);
  assert.equal(m.dev.receive(f), true);
  const bad = f.slice(); bad[100]! ^= 1;
  assert.equal(m.dev.receive(bad), true);
  assert.equal(m.irq.level, true, 'RXT0');
  const r = m.drv.cleanRx();
  assert.deepEqual(r.frames[0], f);
  const ds = m.drv.layout.rxRing - m.ram.base;
  assert.equal(m.ram.read16(ds + 8), 0, 'cleaned descriptors are reset by the driver');
  assert.equal(r.status[0]! & (E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP | E1000_RXD_STAT_TCPCS), E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP | E1000_RXD_STAT_TCPCS);
  assert.equal(r.errors[0], 0);
  assert.equal(r.errors[1]! & E1000_RXD_ERR_TCPE, E1000_RXD_ERR_TCPE);
  assert.equal(m.dev.counters.rxChecksumsBad, 1);
});

test('RX: the FCS appended is the frame\'s real CRC-32; short frames arrive padded to 60 bytes', () => {
  const m = upMachine();
  const f = new Uint8Array(42); f.set(GUEST_MAC, 0); f[12] = 0x08; f[13] = 0x06;
  m.dev.receive(f);
  const len = m.ram.read16(m.drv.layout.rxRing - m.ram.base + 8);
  assert.equal(len, 64);
  const buf = m.ram.slice(m.drv.rxBuffer(0), 64);
  let c = 0xffff_ffff;
  for (let i = 0; i < 60; i++) { c ^= buf[i]!; for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ 0xedb8_8320 : c >>> 1; }
  c = (c ^ 0xffff_ffff) >>> 0;
  assert.equal(new DataView(buf.buffer, buf.byteOffset).getUint32(60, true), c);
  assert.equal(m.drv.cleanRx().status[0]! & E1000_RXD_STAT_IXSM, E1000_RXD_STAT_IXSM, 'not IP: checksum not evaluated');
});

test('RX filters: other unicast dropped, broadcast taken, multicast by the MTA hash, UPE/MPE promiscuous', () => {
  const m = upMachine();
  const other = Uint8Array.of(0x02, 0, 0, 0, 0, 0x99);
  const mcast = Uint8Array.of(0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb);
  assert.equal(m.dev.receive(toGuest(payload(10), other)), false);
  assert.equal(m.dev.counters.drops['rx-filtered'], 1);
  assert.equal(m.dev.receive(toGuest(payload(10), Uint8Array.of(255, 255, 255, 255, 255, 255))), true, 'BAM');
  assert.equal(m.dev.receive(toGuest(payload(10), mcast)), false, 'MTA is empty');
  const hash = ((mcast[4]! >> 4) | (mcast[5]! << 4)) & 0xfff; // e1000_hash_mc_addr, mc_filter_type 0
  m.drv.ew32(E1000_MTA + 4 * (hash >>> 5), 1 << (hash & 31));
  assert.equal(m.dev.receive(toGuest(payload(10), mcast)), true);
  m.drv.ew32(E1000_MTA + 4 * (hash >>> 5), 0);
  m.drv.ew32(E1000_RCTL, m.drv.er32(E1000_RCTL) | E1000_RCTL_MPE);
  assert.equal(m.dev.receive(toGuest(payload(10), mcast)), true, 'MPE');
  m.drv.ew32(E1000_RCTL, m.drv.er32(E1000_RCTL) | E1000_RCTL_UPE);
  assert.equal(m.dev.receive(toGuest(payload(10), other)), true, 'UPE');
});

test('RX: a frame larger than the buffer spans descriptors, EOP only on the last; VLAN tags are stripped with CTRL.VME', () => {
  const m = upMachine();
  m.drv.ew32(E1000_RCTL, (m.drv.er32(E1000_RCTL) & ~0x30000) | (1 << E1000_RCTL_SZ_SHIFT)); // 1024-byte buffers
  const f = toGuest(payload(1400));
  assert.equal(m.dev.receive(f), true);
  const ds = m.drv.layout.rxRing - m.ram.base;
  assert.equal(m.ram.read8(ds + 12) & E1000_RXD_STAT_EOP, 0);
  assert.equal(m.ram.read8(ds + 16 + 12) & E1000_RXD_STAT_EOP, E1000_RXD_STAT_EOP);
  assert.equal(m.ram.read16(ds + 8) + m.ram.read16(ds + 16 + 8), f.length + 4);
  m.drv.cleanRx();
  m.drv.ew32(E1000_CTRL, m.drv.er32(E1000_CTRL) | E1000_CTRL_VME);
  const tagged = new Uint8Array(f.length + 4);
  tagged.set(f.subarray(0, 12), 0); tagged[12] = 0x81; tagged[13] = 0x00; tagged[14] = 0x20; tagged[15] = 0x05;
  tagged.set(f.subarray(12), 16);
  assert.equal(m.dev.receive(tagged), true);
  const r = m.drv.cleanRx();
  assert.deepEqual(r.frames[0], f, 'the tag is gone from the data');
  assert.equal(r.status[0]! & E1000_RXD_STAT_VP, E1000_RXD_STAT_VP);
  assert.equal(r.special[0], 0x2005);
  assert.equal(rd16(r.frames[0]!, 12), 0x0800);
});

test('TX VLAN insertion: VLE with CTRL.VME puts the 802.1Q tag from the descriptor on the wire', () => {
  const m = upMachine();
  m.drv.ew32(E1000_CTRL, m.drv.er32(E1000_CTRL) | E1000_CTRL_VME);
  const f = toPeer(1, payload(64));
  m.drv.xmit(f);
  const at = m.drv.layout.txRing - m.ram.base + 16;
  // A second packet by hand: one legacy descriptor with VLE and special = 0x0064.
  const buf = m.drv.layout.buffers + 0x80_0000;
  m.ram.writeBytes(buf - m.ram.base, f);
  m.ram.write64(at, BigInt(buf));
  m.ram.write32(at + 8, f.length | 0x4b00_0000); // EOP | IFCS | RS | VLE
  m.ram.write32(at + 12, 0x0064 << 16);
  m.drv.ew32(0x3818, 2);
  const out = m.link.sent[1]!;
  assert.equal(out.length, f.length + 4);
  assert.deepEqual([...out.subarray(12, 16)], [0x81, 0x00, 0x00, 0x64]);
  assert.deepEqual(out.subarray(16), f.subarray(12));
});
