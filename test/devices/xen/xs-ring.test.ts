// The xenstore ring under a hostile guest (src/devices/xen/xs-ring.ts): indices more than a ring ahead, payloads
// over XENSTORE_PAYLOAD_MAX, a response consumer index past what was produced — each breaks the connection with the
// ring's error field set, counted, never thrown — and a seeded property test: random bytes and indices in the ring
// never make vmio throw, never make it write outside the ring page, and never make it publish more than a ring.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setupHostGuest } from '../../../src/devices/xen/testing/setup.js';
import { Prng } from '../../../src/devices/virtio/testing/prng.js';
import {
  XENSTORE_ERROR_PROTO, XENSTORE_ERROR_RINGIDX, XS_RING_ERROR, XS_RING_REQ_CONS, XS_RING_REQ_PROD, XS_RING_RSP_CONS, XS_RING_RSP_PROD,
} from '../../../src/devices/xen/xs-wire.js';

test('req_prod more than a ring ahead of vmio\'s req_cons breaks the connection (XENSTORE_ERROR_RINGIDX)', () => {
  const { xs, guest, host } = setupHostGuest();
  xs.write('data/a', '1');
  guest.w32(xs.ring + XS_RING_REQ_PROD, guest.r32(xs.ring + XS_RING_REQ_CONS) + 1025);
  guest.send(xs.port);
  assert.equal(guest.r32(xs.ring + XS_RING_ERROR), XENSTORE_ERROR_RINGIDX);
  assert.equal(host.xenstore.counters.brokenRings, 1);
  assert.ok(xs.guest.hc !== null);
  const before = host.xenstore.counters.requests['WRITE'];
  guest.send(xs.port);
  assert.equal(host.xenstore.counters.requests['WRITE'], before, 'a broken ring is not read again');
});

test('a message header announcing more than XENSTORE_PAYLOAD_MAX bytes breaks the connection (XENSTORE_ERROR_PROTO)', () => {
  const { xs, guest, host } = setupHostGuest();
  xs.writeRaw(new Uint8Array([2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x10, 0, 0]));
  assert.equal(guest.r32(xs.ring + XS_RING_ERROR), XENSTORE_ERROR_PROTO);
  assert.equal(host.xenstore.counters.brokenRings, 1);
});

test('a guest that "consumes" responses vmio never produced breaks the connection', () => {
  const { xs, guest } = setupHostGuest();
  xs.write('data/a', '1');
  guest.w32(xs.ring + XS_RING_RSP_CONS, guest.r32(xs.ring + XS_RING_RSP_PROD) + 5000);
  xs.writeRaw(new Uint8Array([2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, ...Buffer.from('data/a\0')]));
  assert.equal(guest.r32(xs.ring + XS_RING_ERROR), XENSTORE_ERROR_RINGIDX);
});

test('vmio keeps its own indices: a guest rewriting req_cons or rsp_prod changes nothing vmio does', () => {
  const { xs, guest } = setupHostGuest();
  xs.write('data/a', '1');
  const cons = guest.r32(xs.ring + XS_RING_REQ_CONS);
  guest.w32(xs.ring + XS_RING_REQ_CONS, 0xdead_beef);
  guest.w32(xs.ring + XS_RING_RSP_PROD, guest.r32(xs.ring + XS_RING_RSP_PROD));
  // The client uses the guest-side indices it owns (req_prod, rsp_cons); restore what it reads for space.
  guest.w32(xs.ring + XS_RING_REQ_CONS, cons);
  assert.equal(xs.read('data/a'), '1');
  assert.equal(guest.r32(xs.ring + XS_RING_ERROR), 0);
});

const TYPES = [1, 2, 3, 4, 5, 6, 7, 10, 11, 11, 11, 12, 13, 14];
const WORDS = ['data', 'device', 'vif', '0', 'state', 'a', '/local/domain/1', '/local/domain/0/backend', '/local/domain/2', '@releaseDomain', 'x y', '..', ''];

/** A plausible payload: a few NUL-separated strings from the vocabulary, or random bytes. */
function payload(rng: Prng): Uint8Array {
  if (rng.chance(0.2)) { const b = new Uint8Array(rng.below(80)); rng.fill(b); return b; }
  const parts: string[] = [];
  for (let i = rng.range(1, 3); i > 0; i--) {
    let p = rng.chance(0.6) ? rng.pick(['data', 'device']) : rng.pick(WORDS);
    for (let j = rng.below(3); j > 0; j--) p += '/' + rng.pick(WORDS);
    parts.push(rng.chance(0.1) ? rng.pick(['T', 'F', 'n1', 'r0', 'b2']) : p);
  }
  return Buffer.from(parts.join('\0') + (rng.chance(0.8) ? '\0' : ''), 'latin1');
}

test('property: random messages, bytes and indices in the ring never throw or touch memory outside the ring page', () => {
  let replies = 0;
  const errs: Record<string, number> = {};
  for (let seed = 1; seed <= 60; seed++) {
    const rng = new Prng(seed);
    const { xs, guest, host, ram } = setupHostGuest();
    const before = ram.slice(ram.base, ram.size);
    const ringOff = xs.ring - ram.base;
    let consForged = false;
    for (let step = 0; step < 60 && !xen(host, 1).store.broken; step++) {
      const k = rng.below(40);
      if (k < 34) {
        // A well-framed message of a real type, with plausible or random strings, sometimes in a random transaction.
        const body = payload(rng);
        const m = new Uint8Array(16 + body.length);
        const v = new DataView(m.buffer);
        v.setUint32(0, rng.chance(0.9) ? rng.pick(TYPES) : rng.below(30), true);
        v.setUint32(4, step, true);
        v.setUint32(8, rng.chance(0.9) ? 0 : rng.range(0, 3), true);
        v.setUint32(12, body.length, true);
        m.set(body, 16);
        try { xs.writeRaw(m); xs.drain(); } catch { /* a ring vmio stopped reading */ }
      } else if (k === 34) {
        const b = new Uint8Array(rng.range(1, 300));
        rng.fill(b);
        const prod = guest.r32(xs.ring + XS_RING_REQ_PROD);
        for (let i = 0; i < b.length; i++) guest.w8(xs.ring + ((prod + i) & 1023), b[i]!);
        guest.w32(xs.ring + XS_RING_REQ_PROD, prod + b.length);
      } else if (k === 35) {
        guest.w32(xs.ring + XS_RING_REQ_PROD, rng.chance(0.5) ? rng.u32() : guest.r32(xs.ring + XS_RING_REQ_PROD) + rng.range(0, 1100));
      } else if (k === 36) {
        consForged = rng.chance(0.5);
        guest.w32(xs.ring + XS_RING_RSP_CONS, consForged ? rng.u32() : guest.r32(xs.ring + XS_RING_RSP_PROD));
      } else {
        xs.drain();
      }
      guest.send(xs.port);
      if (!xen(host, 1).store.broken && !consForged) {
        const used = (guest.r32(xs.ring + XS_RING_RSP_PROD) - guest.r32(xs.ring + XS_RING_RSP_CONS)) >>> 0;
        assert.ok(used <= 1024, `seed ${seed} step ${step}: ${used} bytes published`);
      }
    }
    const c = host.xenstore.counters;
    const total = Object.values(c.requests).reduce((a, b) => a + b, 0);
    const errors = Object.values(c.errors).reduce((a, b) => a + b, 0);
    replies += total - errors;
    for (const [e, n] of Object.entries(c.errors)) errs[e] = (errs[e] ?? 0) + n;
    // Only the ring page, the shared pages the guest mapped, and the pages the guest itself wrote may differ.
    const after = ram.slice(ram.base, ram.size);
    for (let off = 0; off < ram.size; off += 4096) {
      if (off === ringOff || off >= ram.size - 64 * 4096 || off >= guest.layout.heapBase - ram.base) continue;
      assert.deepEqual(after.subarray(off, off + 4096), before.subarray(off, off + 4096), `seed ${seed}: page at 0x${off.toString(16)} changed`);
    }
  }
  assert.ok(replies > 80, `the generator reaches the store's semantics (${replies} successful requests; errors ${JSON.stringify(errs)})`);
});

function xen(host: ReturnType<typeof setupHostGuest>['host'], id: number) { return host.guests.get(id)!; }
