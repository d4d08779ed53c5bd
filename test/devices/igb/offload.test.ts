// Transmit offloads a VF's igbvf asks for with advanced context descriptors: TCP segmentation (TSE) and checksum
// insertion (TXSM), and VLAN insertion (VLE); the oracle is the independent RFC 1071 checker of the e1000 tests, which
// first proves it can say no.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as D from '../../../src/devices/igb/defines.js';
import { fold, onesSum } from '../../../src/devices/e1000/checksum.js';
import { checksumsValid, payload, rd16, rd32, tcpFrame } from '../e1000/packets.js';
import { frame, hex, PEER, tagged, upMachine, VF_MACS } from './helpers.js';

const SRC_IP = Uint8Array.of(10, 0, 0, 1), DST_IP = Uint8Array.of(10, 0, 0, 2);
/** Context for Ethernet + 20-byte IPv4 + TCP (igbvf_tso / igbvf_tx_csum). */
const CTX_LENS = 20 | (14 << D.E1000_ADVTXD_MACLEN_SHIFT);
const TUCMD = D.E1000_ADVTXD_TUCMD_IPV4 | D.E1000_ADVTXD_TUCMD_L4T_TCP;

test('the oracle can fail: a corrupted TCP segment does not verify', () => {
  const f = tcpFrame(PEER, VF_MACS[0]!, SRC_IP, DST_IP, { seq: 1, flags: 0x18, ipId: 7 }, payload(100));
  assert.ok(checksumsValid(f));
  f[60] = f[60]! ^ 1;
  assert.equal(checksumsValid(f), false);
});

test('TSO: a 3000-byte TCP payload with MSS 1000 leaves as three valid segments with advancing sequence numbers and IDs', () => {
  const m = upMachine(1);
  const data = payload(3000, 3);
  const f = tcpFrame(PEER, VF_MACS[0]!, SRC_IP, DST_IP, { seq: 0x1000, flags: 0x19 /* FIN|PSH|ACK */, ipId: 0x40 }, data);
  m.vfDrvs[0]!.xmit(f, {
    context: [CTX_LENS, TUCMD, (1000 << D.E1000_ADVTXD_MSS_SHIFT) | (20 << D.E1000_ADVTXD_L4LEN_SHIFT)],
    cmd: D.E1000_ADVTXD_DCMD_TSE, olinfo: D.E1000_ADVTXD_POPTS_TXSM | D.E1000_ADVTXD_POPTS_IXSM,
  });
  const segs = m.link.sent;
  assert.equal(segs.length, 3);
  segs.forEach((s, i) => {
    assert.ok(checksumsValid(s), `segment ${i} checksums`);
    assert.equal(rd16(s, 16), 40 + 1000, 'IP total length');
    assert.equal(rd16(s, 18), 0x40 + i, 'IP ID');
    assert.equal(rd32(s, 38), 0x1000 + 1000 * i, 'TCP sequence');
    assert.equal(s[47]! & 0x09, i === 2 ? 0x09 : 0, 'FIN and PSH only on the last');
    assert.equal(hex(s.subarray(54)), hex(data.subarray(1000 * i, 1000 * (i + 1))));
  });
  assert.equal(m.vfDrvs[0]!.tx!.reap(), 1);
});

test('checksum offload: the pseudo-header sum the stack leaves in the TCP field becomes the full checksum', () => {
  const m = upMachine(1);
  const f = tcpFrame(PEER, VF_MACS[0]!, SRC_IP, DST_IP, { seq: 5, flags: 0x18, ipId: 9 }, payload(333));
  const ph = new Uint8Array(12);
  ph.set(SRC_IP, 0); ph.set(DST_IP, 4); ph[9] = 6; ph[10] = (f.length - 34) >> 8; ph[11] = (f.length - 34) & 0xff;
  const seed = fold(onesSum(ph, 0, 12));
  f[50] = seed >> 8; f[51] = seed & 0xff;
  assert.equal(checksumsValid(f), false, 'as the stack hands it over, the checksum is not yet valid');
  m.vfDrvs[0]!.xmit(f, { context: [CTX_LENS, TUCMD, 0], olinfo: D.E1000_ADVTXD_POPTS_TXSM });
  assert.equal(m.link.sent.length, 1);
  assert.ok(checksumsValid(m.link.sent[0]!));
});

test('VLAN insertion: VLE takes the tag from the context; the port VLAN (VMVIR) overrides it', () => {
  const m = upMachine(1);
  m.vfDrvs[0]!.setVlan(100, true);
  const f = frame(PEER, VF_MACS[0]!, 1);
  m.vfDrvs[0]!.xmit(f, { context: [CTX_LENS | (100 << 16), 0, 0], cmd: D.E1000_ADVTXD_DCMD_VLE });
  assert.deepEqual(m.link.sent.map(hex), [hex(tagged(f, 100))]);
  m.pfDrv.w(0x3700 /* VMVIR(0) */, D.E1000_VMVIR_VLANA_DEFAULT | 100);
  m.vfDrvs[0]!.xmit(f);
  assert.equal(hex(m.link.sent[1]!), hex(tagged(f, 100)), 'an untagged frame gets the port VLAN');
});
