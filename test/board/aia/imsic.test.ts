// Unit tests for an IMSIC interrupt file: seteipnum, eie/eithreshold/eidelivery gating, *topei claims, the
// indirect registers (RV64 view, illegal odd selects), the MMIO page and its neighbours.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ImsicFile, ImsicPages, IMSIC_EIDELIVERY, IMSIC_EIE0, IMSIC_EIP0, IMSIC_EITHRESHOLD, IMSIC_MMIO_PAGE_SZ, validNumIds,
} from '../../../src/board/aia/imsic.js';
import { IRQ_M_EXT, IRQ_S_EXT } from '../../../src/board/irq.js';
import { RecordingHart } from '../../../src/board/testing/recorders.js';

function make(numIds = 255) {
  const hart = new RecordingHart();
  const f = new ImsicFile(hart, IRQ_S_EXT, numIds, 'imsic-s0');
  return { hart, f };
}
/** Enables delivery and identity `id` the way Linux does (eidelivery = 1, eithreshold = 0, eie bit set). */
function enable(f: ImsicFile, ...ids: number[]): void {
  assert.equal(f.iselectWrite(IMSIC_EIDELIVERY, 1n), true);
  assert.equal(f.iselectWrite(IMSIC_EITHRESHOLD, 0n), true);
  for (const id of ids) {
    const sel = IMSIC_EIE0 + 2 * Math.floor(id / 64);
    f.iselectWrite(sel, f.iselectRead(sel)! | (1n << BigInt(id % 64)));
  }
}

test('number of identities: 64k-1 between 63 and 2047', () => {
  for (const n of [63, 127, 255, 2047]) assert.equal(validNumIds(n), true, String(n));
  for (const n of [0, 62, 64, 100, 256, 2048, 4095]) assert.equal(validNumIds(n), false, String(n));
  assert.throws(() => make(64), /63\.\.2047/);
});

test('seteipnum_le sets the pending bit; invalid identities are ignored; reads return 0', () => {
  const { f } = make();
  f.page.write(0x0, 4, 5);
  assert.equal(f.isPending(5), true);
  assert.equal(f.iselectRead(IMSIC_EIP0), 1n << 5n);
  for (const bad of [0, 256, 0xffff_ffff, 2047]) f.page.write(0x0, 4, bad);
  assert.equal(f.iselectRead(IMSIC_EIP0), 1n << 5n);
  assert.equal(f.iselectRead(IMSIC_EIP0 + 6), 0n); // identities 192..255
  assert.equal(f.msis, 1);
  assert.equal(f.page.read(0x0, 4), 0);
  assert.equal(f.page.read(0x4, 4), 0);
});

test('seteipnum_be takes the identity in big-endian byte order', () => {
  const { f } = make();
  f.page.write(0x4, 4, 0x0700_0000); // identity 7, big-endian
  assert.equal(f.isPending(7), true);
  f.page.write(0x4, 4, 7); // as big-endian this is 0x07000000: not an identity
  assert.equal(f.iselectRead(IMSIC_EIP0), 1n << 7n);
});

test('the rest of the page reads 0 and ignores writes; narrow and wide accesses are refused', () => {
  const { f } = make();
  for (const off of [0x8, 0x100, 0xffc]) { f.page.write(off, 4, 9); assert.equal(f.page.read(off, 4), 0); }
  f.page.write(0x0, 2, 9);
  f.page.write(0x0, 1, 9);
  f.page.write(0x0, 8, 9n);
  assert.equal(f.isPending(9), false);
  assert.ok(f.page.refused >= 6);
});

test('SEIP follows eidelivery, eie and eithreshold; only on changes', () => {
  const { hart, f } = make();
  f.setPending(10);
  assert.equal(hart.has(IRQ_S_EXT), false); // delivery off, not enabled
  enable(f, 10);
  assert.equal(hart.has(IRQ_S_EXT), true);
  assert.equal(hart.has(IRQ_M_EXT), false);
  f.iselectWrite(IMSIC_EITHRESHOLD, 10n); // identities 10 and up are masked
  assert.equal(hart.has(IRQ_S_EXT), false);
  f.iselectWrite(IMSIC_EITHRESHOLD, 11n);
  assert.equal(hart.has(IRQ_S_EXT), true);
  f.iselectWrite(IMSIC_EIDELIVERY, 0n);
  assert.equal(hart.has(IRQ_S_EXT), false);
  assert.equal(f.topei(), (10 << 16) | 10); // *topei ignores eidelivery
  f.iselectWrite(IMSIC_EIDELIVERY, 0x4000_0000n); // APLIC-direct delivery is not supported: WARL to 0
  assert.equal(f.iselectRead(IMSIC_EIDELIVERY), 0n);
});

test('topei reports the lowest pending-and-enabled identity; a claim clears exactly that one', () => {
  const { hart, f } = make();
  enable(f, 3, 40, 70, 200);
  for (const id of [200, 70, 40]) f.setPending(id);
  f.setPending(4); // pending but not enabled
  assert.equal(f.topei(), (40 << 16) | 40);
  assert.equal(f.claimTopei(), (40 << 16) | 40);
  assert.equal(f.isPending(40), false);
  assert.equal(f.isPending(4), true);
  assert.equal(f.claimTopei() >>> 16, 70);
  assert.equal(f.claimTopei() >>> 16, 200);
  assert.equal(hart.has(IRQ_S_EXT), false);
  assert.equal(f.claimTopei(), 0); // nothing to claim: no effect
  assert.equal(f.isPending(4), true);
  assert.equal(f.claims, 3);
});

test('threshold: nothing below it means topei 0', () => {
  const { f } = make();
  enable(f, 50);
  f.setPending(50);
  f.iselectWrite(IMSIC_EITHRESHOLD, 50n);
  assert.equal(f.topei(), 0);
  assert.equal(f.claimTopei(), 0);
  assert.equal(f.isPending(50), true);
});

test('indirect registers: 64-bit eip/eie pairs, odd selects illegal, reserved selects read 0', () => {
  const { f } = make();
  assert.equal(f.iselectWrite(IMSIC_EIE0 + 2, 0xffff_ffff_ffff_ffffn), true); // identities 64..127
  assert.equal(f.iselectRead(IMSIC_EIE0 + 2), 0xffff_ffff_ffff_ffffn);
  assert.equal(f.iselectWrite(IMSIC_EIE0, 0xffn), true);
  assert.equal(f.iselectRead(IMSIC_EIE0), 0xfen); // identity 0 is read-only zero
  assert.equal(f.iselectWrite(IMSIC_EIP0 + 62, 0xffn), true); // identities beyond 255: read-only zero
  assert.equal(f.iselectRead(IMSIC_EIP0 + 62), 0n);
  for (const odd of [IMSIC_EIP0 + 1, IMSIC_EIP0 + 63, IMSIC_EIE0 + 1, IMSIC_EIE0 + 63]) {
    assert.equal(f.iselectRead(odd), null, odd.toString(16));
    assert.equal(f.iselectWrite(odd, 1n), false);
  }
  for (const reserved of [0x71, 0x73, 0x7f]) {
    assert.equal(f.iselectWrite(reserved, 5n), true);
    assert.equal(f.iselectRead(reserved), 0n);
  }
  for (const outside of [0, 0x30, 0x6f, 0x100, -1, 0x1ff]) {
    assert.equal(f.iselectRead(outside), null);
    assert.equal(f.iselectWrite(outside, 1n), false);
  }
  // A pending bit written through eip raises the interrupt like an MSI.
  f.iselectWrite(IMSIC_EIDELIVERY, 1n);
  f.iselectWrite(IMSIC_EIP0 + 2, 1n << 3n); // identity 67
  assert.equal(f.topei() >>> 16, 67);
});

test('reset clears the file and drops the interrupt', () => {
  const { hart, f } = make(63);
  enable(f, 1);
  f.setPending(1);
  assert.equal(hart.has(IRQ_S_EXT), true);
  f.reset();
  assert.equal(hart.has(IRQ_S_EXT), false);
  assert.equal(f.iselectRead(IMSIC_EIE0), 0n);
  f.setPending(64); // 63 identities: 64 is not implemented
  assert.equal(f.isPending(64), false);
});

test('ImsicPages routes each 4-KiB page to its file', () => {
  const files = [0, 1, 2].map(() => make().f);
  const pages = new ImsicPages(files);
  assert.equal(pages.size, 3 * IMSIC_MMIO_PAGE_SZ);
  pages.write(IMSIC_MMIO_PAGE_SZ * 2, 4, 9);
  pages.write(IMSIC_MMIO_PAGE_SZ * 1 + 0x4, 4, 0x0b00_0000);
  pages.write(IMSIC_MMIO_PAGE_SZ * 7, 4, 9); // past the last file: ignored
  assert.deepEqual(files.map((f) => [f.isPending(9), f.isPending(11)]), [[false, false], [false, true], [true, false]]);
  assert.equal(pages.read(IMSIC_MMIO_PAGE_SZ * 7, 4), 0);
  assert.equal(pages.registerName(IMSIC_MMIO_PAGE_SZ * 2), '2:seteipnum_le');
});
