// netback against a hostile frontend (netback.c's rules): packets that are dropped with error responses (a grant
// out of the table or not for vmio, more slots than XEN_NETIF_NR_SLOTS_MIN, a runt, a slot larger than the packet)
// and protocol violations that disconnect (a slot across a page, a packet past req_prod, req_prod more than a ring
// ahead, too many slots, bad extras, bad keys at connect). Scribbled response indices change nothing; a seeded
// fuzzer of random ring contents never makes netback throw or touch memory the guest did not grant.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  XEN_NETIF_EXTRA_TYPE_GSO, XEN_NETIF_RSP_ERROR, XEN_NETIF_RSP_OKAY, XEN_NETTXF_extra_info, XEN_NETTXF_more_data,
  SRING_RSP_PROD, SRING_REQ_PROD,
} from '../../../src/devices/xen/netif-abi.js';
import { setupVif, type VifSetup } from '../../../src/devices/xen/testing/setup.js';
import { Prng } from '../../../src/devices/virtio/testing/prng.js';
import { pattern, udpFrame } from '../../../src/devices/virtio/net/testing/packets.js';

/** Publishes raw tx requests [gref, offset, flags, id, size] and notifies. */
function raw(s: VifSetup, reqs: number[][]): void {
  for (const r of reqs) s.front.txRequest(s.front.tx.reqProdPvt++, r[0]!, r[1]!, r[2]!, r[3]!, r[4]!);
  s.front.tx.push();
  s.front.notify();
}

/** A granted page with `data`, as netfront's tx path makes it: returns its grant reference. */
function grantData(s: VifSetup, data: Uint8Array, ref: number, domid = 0): number {
  const page = s.guest.allocPage();
  s.guest.ram.load(page, data);
  s.guest.grantAccess(ref, domid, page, true);
  return ref;
}

function disconnected(s: VifSetup, reason: string): void {
  assert.equal(s.vif.connected, false, 'disconnected');
  assert.equal(s.front.backendState(), 5, 'backend Closing');
  assert.equal(s.vif.counters.fatal[reason], 1, JSON.stringify(s.vif.counters.fatal));
  assert.equal(s.host.xenstore.read('/local/domain/0/error/backend/vif/1/0/error'), reason);
}

test('a grant out of the table, or granted to another domain: error responses, the connection stays', () => {
  const s = setupVif();
  raw(s, [[100_000, 0, 0, 7, 60]]);
  const f = udpFrame({ payload: pattern(40) });
  raw(s, [[grantData(s, f, 1500, 5), 0, 0, 8, f.length]]);
  assert.deepEqual(s.front.collectTx(), [{ id: 7, status: XEN_NETIF_RSP_ERROR }, { id: 8, status: XEN_NETIF_RSP_ERROR }]);
  assert.deepEqual(s.vif.counters.txDropped, { grantCopyFailed: 2 });
  assert.equal(s.port.sent.length, 0);
  assert.ok(s.vif.connected);
  s.front.transmit(f);
  assert.equal(s.port.sent.length, 1);
});

test('more slots than XEN_NETIF_NR_SLOTS_MIN: the packet is dropped with an error for every slot', () => {
  const s = setupVif();
  const ref = grantData(s, pattern(4096), 1500);
  const slots = Array.from({ length: 19 }, (_, i) => [ref, 0, i < 18 ? XEN_NETTXF_more_data : 0, i, 100]);
  slots[0]![4] = 1900;
  raw(s, slots);
  const rsp = s.front.collectTx();
  assert.equal(rsp.length, 19);
  assert.ok(rsp.every((r) => r.status === XEN_NETIF_RSP_ERROR));
  assert.deepEqual(s.vif.counters.txDropped, { tooManySlots: 1 });
  assert.ok(s.vif.connected);
  // Exactly 18 slots is fine.
  raw(s, Array.from({ length: 18 }, (_, i) => [ref, 0, i < 17 ? XEN_NETTXF_more_data : 0, i, i === 0 ? 1800 : 100]));
  assert.ok(s.front.collectTx().every((r) => r.status === XEN_NETIF_RSP_OKAY));
  assert.equal(s.port.sent.length, 1);
});

test('more slots than netback\'s fatal count: disconnected', () => {
  const s = setupVif();
  const ref = grantData(s, pattern(4096), 1500);
  raw(s, Array.from({ length: 25 }, (_, i) => [ref, 0, XEN_NETTXF_more_data, i, 10]).concat([[ref, 0, 0, 25, 10]]));
  disconnected(s, 'tx: more than 20 slots in a packet');
});

test('a runt and a slot larger than what is left of the packet: dropped with errors', () => {
  const s = setupVif();
  const ref = grantData(s, pattern(4096), 1500);
  raw(s, [[ref, 0, 0, 1, 10]]);
  raw(s, [[ref, 0, XEN_NETTXF_more_data, 2, 100], [ref, 0, 0, 3, 200]]);
  assert.deepEqual(s.front.collectTx().map((r) => r.status), [XEN_NETIF_RSP_ERROR, XEN_NETIF_RSP_ERROR, XEN_NETIF_RSP_ERROR]);
  assert.deepEqual(s.vif.counters.txDropped, { runt: 1, slotLargerThanPacket: 1 });
  assert.ok(s.vif.connected);
});

test('a continuation slot crossing its page: disconnected', () => {
  const s = setupVif();
  const ref = grantData(s, pattern(4096), 1500);
  raw(s, [[ref, 0, XEN_NETTXF_more_data, 1, 200], [ref, 4000, 0, 2, 150]]);
  disconnected(s, 'tx: slot crosses a page');
});

test('a first slot running past its page: disconnected', () => {
  const s = setupVif();
  raw(s, [[grantData(s, pattern(4096), 1500), 4000, 0, 1, 200]]);
  disconnected(s, 'tx: first slot crosses a page');
});

test('a packet whose more_data runs past req_prod: disconnected', () => {
  const s = setupVif();
  raw(s, [[grantData(s, pattern(4096), 1500), 0, XEN_NETTXF_more_data, 1, 200]]);
  disconnected(s, 'tx: packet continues past req_prod');
});

test('req_prod more than a ring ahead of req_cons (tx and rx): disconnected', () => {
  const s = setupVif();
  s.guest.w32(s.front.tx.page + SRING_REQ_PROD, 257);
  s.front.notify();
  disconnected(s, 'tx: req_prod more than a ring ahead of req_cons');
  const r = setupVif();
  r.guest.w32(r.front.rx.page + SRING_REQ_PROD, r.front.rx.reqProdPvt + 300);
  assert.equal(r.vif.canReceive(), false);
  disconnected(r, 'rx: req_prod more than a ring ahead of req_cons');
});

test('bad extra info: a type of 0, and a GSO size of 0, disconnect', () => {
  for (const [type, size, reason] of [[0, 0, 'tx: invalid extra info type'], [XEN_NETIF_EXTRA_TYPE_GSO, 0, 'tx: GSO size 0']] as const) {
    const s = setupVif();
    const f = udpFrame({ payload: pattern(100) });
    const ref = grantData(s, f, 1500);
    s.front.txRequest(s.front.tx.reqProdPvt++, ref, 0, XEN_NETTXF_extra_info, 1, f.length);
    const e = s.front.tx.slotAddr(s.front.tx.reqProdPvt++);
    s.guest.w8(e, type); s.guest.w8(e + 1, 0); s.guest.w16(e + 2, size); s.guest.w8(e + 4, 1);
    s.front.tx.push();
    s.front.notify();
    disconnected(s, reason);
  }
});

test('responses netfront never asked for: a scribbled rsp_prod changes nothing netback writes', () => {
  const s = setupVif();
  s.front.transmit(udpFrame({ payload: pattern(20) }));
  s.guest.w32(s.front.tx.page + SRING_RSP_PROD, 0xdead_beef);
  s.front.tx.rspCons = 0;
  s.front.transmit(udpFrame({ payload: pattern(21) }));
  assert.equal(s.guest.r32(s.front.tx.page + SRING_RSP_PROD), 2, 'netback publishes its own count');
  assert.deepEqual(s.front.collectTx().map((r) => r.status), [0, 0]);
  // rx: a response slot rewritten by the guest is simply overwritten by the next response.
  assert.ok(s.vif.receive(udpFrame({ payload: pattern(30) })));
  assert.equal(s.front.collectRx().length, 1);
});

test('rx: a posted buffer whose grant is bad gets an error status and the frame is dropped', () => {
  const s = setupVif({ rxBuffers: 0 });
  const a = s.front.rx.slotAddr(s.front.rx.reqProdPvt++);
  s.guest.w16(a, 0); s.guest.w32(a + 4, 99_999);
  s.guest.w32(s.front.rx.page + SRING_REQ_PROD, s.front.rx.reqProdPvt);
  assert.ok(s.vif.canReceive());
  assert.equal(s.vif.receive(udpFrame({ payload: pattern(30) })), false);
  assert.deepEqual(s.vif.counters.rxDropped, { grantCopyFailed: 1 });
  const st = (s.guest.r16(a + 6) << 16) >> 16;
  assert.ok(st < 0, `status ${st}`);
  assert.ok(s.vif.connected);
});

test('bad keys at connect: no rx-copy, an unknown ring grant, a port that is not offered — each is fatal', () => {
  const cases: [Record<string, string | null>, string][] = [
    [{ 'request-rx-copy': null }, 'frontend does not request rx-copy'],
    [{ 'tx-ring-ref': '99999' }, 'mapping the rings'],
    [{ 'rx-ring-ref': '12abc' }, 'reading tx-ring-ref/rx-ring-ref'],
    [{ 'event-channel': '777' }, 'binding the event channel'],
    [{ 'multi-queue-num-queues': '4' }, 'multi-queue not offered'],
  ];
  for (const [keys, reason] of cases) {
    const s = setupVif({ connect: false });
    s.front.connect({ keys });
    disconnected(s, reason);
    assert.ok(s.guest.endForeignAccess(s.front.txRef) && s.guest.endForeignAccess(s.front.rxRef), 'nothing left mapped');
  }
});

test('fuzz: random tx requests never throw; netback answers or disconnects, and never writes outside granted pages', () => {
  let answered = 0, fatal = 0;
  const reasons: Record<string, number> = {};
  for (let seed = 1; seed <= 40; seed++) {
    const rng = new Prng(seed);
    const s = setupVif();
    const data = grantData(s, pattern(4096, seed), 1500);
    const before = s.ram.slice(s.ram.base, s.guest.layout.heapBase - s.ram.base);
    for (let step = 0; step < 30 && s.vif.connected; step++) {
      const n = rng.range(1, 4);
      const reqs: number[][] = [];
      for (let i = 0; i < n; i++) {
        // Mostly coherent chains (more_data on all but the last), with every field sometimes wild.
        let flags = rng.below(4) | (i < n - 1 ? XEN_NETTXF_more_data : 0);
        if (rng.chance(0.03)) flags ^= XEN_NETTXF_more_data;
        if (rng.chance(0.02)) flags |= XEN_NETTXF_extra_info;
        reqs.push([
          rng.chance(0.8) ? data : rng.chance(0.5) ? rng.below(3000) : rng.u32(),
          rng.chance(0.9) ? 0 : rng.below(4200),
          flags,
          rng.below(65536),
          rng.chance(0.9) ? rng.range(i === 0 ? 0 : 1, 1600) : rng.below(65536),
        ]);
      }
      raw(s, reqs);
      answered += s.front.collectTx().length;
      if (rng.chance(0.2)) s.vif.receive(udpFrame({ payload: pattern(rng.range(1, 5000)) }));
      s.front.collectRx();
    }
    if (!s.vif.connected) fatal++;
    for (const [r, k] of Object.entries(s.vif.counters.fatal)) reasons[r] = (reasons[r] ?? 0) + k;
    assert.deepEqual(s.ram.slice(s.ram.base, s.guest.layout.heapBase - s.ram.base), before, `seed ${seed}: memory below the guest heap changed`);
  }
  assert.ok(answered > 150 && fatal > 5, `answered ${answered}, disconnected ${fatal}: ${JSON.stringify(reasons)}`);
});
