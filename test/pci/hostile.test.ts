// A hostile or buggy guest: BARs placed onto RAM, onto other BARs, outside the host windows or past 2^53; random
// config and BAR traffic. Nothing may throw, nothing may decode where it must not, and moving back must work.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestDevice, TD_MAGIC, TD_MAGIC_VALUE, TD_SCRATCH } from '../../src/pci/test-device.js';
import { PCI_COMMAND, PCI_VENDOR_ID } from '../../src/pci/regs.js';
import { machine, RAM_BASE } from './harness.js';

const A = { bus: 0, device: 2, fn: 0 };
const B = { bus: 0, device: 3, fn: 0 };

function two() {
  const m = machine();
  const fa = m.host.attach(new TestDevice(), { device: 2 });
  const fb = m.host.attach(new TestDevice(), { device: 3 });
  const a = m.guest.enable(A)[0]!.address, b = m.guest.enable(B)[0]!.address;
  const place = (f: typeof A, addr: bigint) => {
    m.guest.write32(f, 0x10, Number(addr & 0xffff_fff0n) | 0x4);
    m.guest.write32(f, 0x14, Number(addr >> 32n));
  };
  return { m, fa, fb, a, b, place };
}

test('a BAR moved onto RAM stops decoding, RAM stays RAM, and moving it back works', () => {
  const { m, fa, a, place } = two();
  m.ram.load(RAM_BASE, new Uint8Array([1, 2, 3, 4]));
  place(A, BigInt(RAM_BASE));
  assert.equal(fa.region(0)!.mapped, false);
  assert.equal(m.bus.find(RAM_BASE), null, 'no region shadows RAM');
  assert.deepEqual([...m.ram.slice(RAM_BASE, 4)], [1, 2, 3, 4]);
  assert.equal(m.guest.mmioRead32(a), null);
  place(A, a);
  assert.equal(fa.region(0)!.mapped, true);
  assert.equal(m.guest.mmioRead32(a + BigInt(TD_MAGIC)), TD_MAGIC_VALUE);
});

test('a BAR moved onto another BAR stays unmapped; the other keeps decoding; it maps once the overlap is gone', () => {
  const { m, fa, fb, a, b, place } = two();
  m.guest.mmioWrite32(a + BigInt(TD_SCRATCH), 0xaaaa);
  m.guest.mmioWrite32(b + BigInt(TD_SCRATCH), 0xbbbb);
  place(B, a);
  assert.equal(fb.region(0)!.mapped, false);
  assert.equal(m.guest.mmioRead32(a + BigInt(TD_SCRATCH)), 0xaaaa, 'A still answers at its address');
  place(B, b);
  assert.equal(m.guest.mmioRead32(b + BigInt(TD_SCRATCH)), 0xbbbb, 'moving back works');
  place(B, a); // overlap again, then A leaves: B's programmed address is now free and decodes
  place(A, b);
  assert.equal(fa.region(0)!.mapped, true);
  assert.equal(fb.region(0)!.mapped, true);
  assert.equal(m.guest.mmioRead32(a + BigInt(TD_SCRATCH)), 0xbbbb);
  assert.equal(m.guest.mmioRead32(b + BigInt(TD_SCRATCH)), 0xaaaa);
});

test('BARs outside the host windows do not decode: ECAM, free space between the windows, 2^53 and beyond, 0', () => {
  const { m, fa, place } = two();
  const w = m.host.windows;
  // 0x2_0000_0000 is above RAM and below the high window: nothing else is there, only the window rule refuses it.
  for (const addr of [BigInt(w.ecam.base), 0x2_0000_0000n, BigInt(w.mmio64.base + w.mmio64.size), 0xffff_ffff_ffff_c000n, 1n << 53n, 0n]) {
    place(A, addr);
    assert.equal(fa.region(0)!.mapped, false, `0x${addr.toString(16)}`);
  }
  assert.equal(m.guest.read32(A, PCI_VENDOR_ID), 0x0005_1b36, 'ECAM still answers');
  place(A, BigInt(w.mmio32.base + w.mmio32.size - 0x4000)); // the last 16 KiB of the 32-bit window
  assert.equal(fa.region(0)!.mapped, true);
  place(A, BigInt(w.mmio32.base));
  assert.equal(fa.region(0)!.mapped, true);
  assert.equal(fa.region(0)!.base, w.mmio32.base);
});

test('memory space disable makes every BAR access miss (the hart takes an access fault)', () => {
  const { m, a } = two();
  m.guest.write16(A, PCI_COMMAND, 0);
  assert.equal(m.bus.mmioRead(Number(a), 4), null);
  assert.equal(m.bus.mmioRead(Number(a) + 0x2000, 8), null, 'the MSI-X table too');
  assert.equal(m.bus.mmioWrite(Number(a) + 0x2000, 4, 0), false);
});

/** A deterministic generator (xorshift32), so a failure repeats. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s; };
}

test('random config and BAR traffic never throws, never fails a device, never maps a BAR over RAM', () => {
  const { m, fa } = two();
  const next = rng(0x5eed);
  const widths = [1, 2, 4, 8] as const;
  for (let i = 0; i < 20_000; i++) {
    const r = next();
    const width = widths[r & 3]!;
    const device = 1 + ((r >>> 2) & 3); // devices 2 and 3 exist, 1 and 4 do not
    const addr = m.host.windows.ecam.base + (device << 15) + (next() & 0xfff);
    const v = next();
    if ((r >>> 4) & 1) m.bus.mmioWrite(addr, width, width === 8 ? BigInt(v) << 32n | BigInt(next()) : v);
    else m.bus.mmioRead(addr, width);
    if ((r >>> 5 & 7) === 0) { // poke whatever BAR0 of 00:02.0 decodes now
      const reg0 = fa.region(0)!;
      if (reg0.mapped) m.bus.mmioWrite(reg0.base + (next() % reg0.size), widths[next() & 3]!, next());
    }
  }
  assert.deepEqual(m.metrics.failures, []);
  for (const f of m.host.functions) {
    const r = f.region(0)!;
    if (r.mapped) assert.equal(m.host.place(false, BigInt(r.base), r.size), r.base, 'decodes only inside a host window');
    assert.equal(f.config.read(PCI_VENDOR_ID, 4), 0x0005_1b36, 'identity is read-only');
  }
  assert.equal(m.bus.find(RAM_BASE), null);
});
