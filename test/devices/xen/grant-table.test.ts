// Grant tables v1 (src/devices/xen/grant-table.ts): GNTTABOP_copy semantics both ways with per-page bounds,
// per-domain permissions (the entry's domid, read-only grants, frames the granter owns), mapping with the in-use
// bits that stop the guest from revoking a grant vmio still uses, and a grant taken away while mapped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  GNTST_bad_copy_arg, GNTST_bad_gntref, GNTST_bad_handle, GNTST_bad_page, GNTST_general_error, GNTST_no_space, GNTST_okay,
  GTF_permit_access, GTF_reading, GTF_writing,
} from '../../../src/devices/xen/abi.js';
import { MAX_MAPS } from '../../../src/devices/xen/grant-table.js';
import { setupGuest } from '../../../src/devices/xen/testing/setup.js';

function booted() {
  const s = setupGuest();
  s.guest.boot(2);
  return s;
}

test('copyFrom a read-only grant and copyTo a writable one move the bytes and are counted', () => {
  const { guest, grants, ram } = booted();
  const page = guest.allocPage();
  ram.load(page + 100, Uint8Array.of(1, 2, 3, 4, 5));
  guest.grantAccess(10, 0, page, true);
  const dst = new Uint8Array(5);
  assert.equal(grants.copyFrom(10, 100, dst), GNTST_okay);
  assert.deepEqual([...dst], [1, 2, 3, 4, 5]);
  assert.equal(grants.copyTo(10, 0, dst), GNTST_general_error, 'read-only grant');
  const rx = guest.allocPage();
  guest.grantAccess(600, 0, rx, false); // a ref in the second grant frame
  assert.equal(grants.copyTo(600, 4090, Uint8Array.of(9, 8, 7, 6, 5, 4)), GNTST_okay);
  assert.deepEqual([...ram.slice(rx + 4090, 6)], [9, 8, 7, 6, 5, 4]);
  assert.equal(grants.counters.copies, 2);
  assert.equal(grants.counters.bytes, 11);
  assert.equal(guest.grantFlags(10), GTF_permit_access | 4, 'in-use bits are clear after a copy');
  assert.equal(guest.grantFlags(600), GTF_permit_access);
});

test('refusals: bad references, the wrong domain, a page overrun, frames the guest does not own', () => {
  const { guest, grants, ram } = booted();
  const page = guest.allocPage();
  const b = new Uint8Array(8);
  assert.equal(grants.copyFrom(1024, 0, b), GNTST_bad_gntref, 'past the two mapped frames');
  assert.equal(grants.copyFrom(-1, 0, b), GNTST_bad_gntref);
  assert.equal(grants.copyFrom(11, 0, b), GNTST_general_error, 'an invalid entry');
  guest.grantAccess(11, 3, page, true);
  assert.equal(grants.copyFrom(11, 0, b), GNTST_general_error, 'granted to domain 3, not vmio');
  assert.equal(grants.copyFrom(11, 0, b, 3), GNTST_okay, 'domain 3 may');
  guest.grantAccess(12, 0, page, false);
  assert.equal(grants.copyFrom(12, 4089, b), GNTST_bad_copy_arg);
  assert.equal(grants.copyTo(12, -1, b), GNTST_bad_copy_arg);
  guest.grantAccess(13, 0, 0x1000, false);
  assert.equal(grants.copyTo(13, 0, b), GNTST_bad_page, 'a frame outside RAM');
  guest.grantAccess(14, 0, guest.layout.grantBase, false);
  assert.equal(grants.copyTo(14, 0, b), GNTST_bad_page, 'the grant table itself');
  guest.grantAccess(15, 0, guest.sharedInfo, false);
  assert.equal(grants.copyTo(15, 0, b), GNTST_bad_page, 'shared_info');
  // A 33-bit frame number (the entry is u32 frames, but check the top of the range too).
  const e = guest.grantAddr(16);
  guest.w32(e + 4, 0xffff_ffff); guest.w16(e + 2, 0); guest.w16(e, GTF_permit_access);
  assert.equal(grants.copyTo(16, 0, b), GNTST_bad_page);
  assert.deepEqual(grants.counters.refused, { bad_gntref: 2, general_error: 2, bad_copy_arg: 2, bad_page: 4 });
  assert.deepEqual([...ram.slice(guest.layout.grantBase, 8)], [0, 0, 0, 0, 0, 0, 0, 0], 'the table was not written through a grant');
});

test('before any grant frame is mapped every reference is out of the table', () => {
  const s = setupGuest();
  assert.equal(s.grants.copyFrom(0, 0, new Uint8Array(1)), GNTST_bad_gntref);
});

test('a mapped grant is in use: the guest cannot end access until vmio unmaps it', () => {
  const { guest, grants } = booted();
  const ring = guest.allocPage();
  guest.grantAccess(20, 0, ring, false);
  const h = grants.map(20, false);
  assert.ok(h > 0);
  assert.equal(grants.mapping(h)!.addr, ring);
  assert.equal(guest.grantFlags(20), GTF_permit_access | GTF_reading | GTF_writing);
  assert.equal(guest.endForeignAccess(20), false, 'gnttab_end_foreign_access sees it in use');
  // A copy while mapped pins and unpins without clearing the mapping's bits.
  assert.equal(grants.copyFrom(20, 0, new Uint8Array(4)), GNTST_okay);
  assert.equal(guest.grantFlags(20), GTF_permit_access | GTF_reading | GTF_writing);
  assert.equal(grants.unmap(h), GNTST_okay);
  assert.equal(guest.grantFlags(20), GTF_permit_access);
  assert.equal(guest.endForeignAccess(20), true);
  assert.equal(grants.unmap(h), GNTST_bad_handle);
  // A read-only mapping sets only GTF_reading; a read-only grant cannot be mapped writable.
  guest.grantAccess(21, 0, ring, true);
  assert.equal(grants.map(21, false), GNTST_general_error);
  const r = grants.map(21, true);
  assert.equal(guest.grantFlags(21), GTF_permit_access | 4 | GTF_reading);
  grants.unmap(r);
});

test('a grant the guest takes away while mapped: the mapping keeps its frame, unmap counts it and leaves the entry revoked', () => {
  const { guest, grants } = booted();
  const ring = guest.allocPage();
  const other = guest.allocPage();
  guest.grantAccess(30, 0, ring, false);
  const h = grants.map(30, false);
  // A hostile guest ignores the in-use bits: clears the entry, then re-grants the ref to another frame.
  guest.w16(guest.grantAddr(30), 0);
  assert.equal(grants.mapping(h)!.addr, ring);
  guest.grantAccess(30, 0, other, false);
  const b = Uint8Array.of(0xaa);
  assert.equal(grants.copyTo(30, 0, b), GNTST_okay);
  assert.equal(guest.r8(ring), 0xaa, 'the pinned frame is used while the grant stays pinned');
  assert.equal(guest.r8(other), 0);
  guest.w16(guest.grantAddr(30), 0);
  assert.equal(grants.unmap(h), GNTST_okay);
  assert.equal(grants.counters.revokedWhileMapped, 1);
  assert.equal(guest.grantFlags(30), 0);
  assert.equal(grants.copyTo(30, 0, b), GNTST_general_error, 'unpinned: the entry is read again');
});

test('vmio holds at most MAX_MAPS mappings per domain', () => {
  const { guest, grants } = booted();
  guest.grantAccess(40, 0, guest.allocPage(), true);
  for (let i = 0; i < MAX_MAPS; i++) assert.ok(grants.map(40, true) > 0);
  assert.equal(grants.map(40, true), GNTST_no_space);
  grants.unmapAll();
  assert.equal(guest.grantFlags(40), GTF_permit_access | 4);
});

test('a grant naming a frame of another VM\'s RAM is refused: each domain\'s frames are its own', () => {
  const a = setupGuest({ id: 1 });
  const b = setupGuest({ id: 2, ramSize: 8 * 1024 * 1024 });
  a.guest.boot(1);
  // Frames above A's 4 MiB exist only in B.
  a.guest.grantAccess(8, 0, b.guest.allocPage() + 6 * 1024 * 1024, false);
  assert.equal(a.grants.copyTo(8, 0, new Uint8Array(1)), GNTST_bad_page);
});
