// Tests for boot image placement: kernel at its text offset, initrd and device tree at the top of RAM,
// fw_dynamic info for OpenSBI, and clear errors when RAM is too small.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { placeImages, BootError } from '../../src/boot/layout.js';

const MiB = 1 << 20;

function fakeImage(size: number, imageSize = size): Uint8Array {
  const b = new Uint8Array(size);
  const v = new DataView(b.buffer);
  v.setBigUint64(8, 0x200000n, true);
  v.setBigUint64(16, BigInt(imageSize), true);
  v.setUint32(0x38, 0x05435352, true);
  b[size - 1] = 0xaa;
  return b;
}

test('builtin SBI: the Image starts in S-mode at RAM base + text offset; initrd sits below the device tree', () => {
  const ram = new GuestMemory(0x8000_0000, 64 * MiB);
  const plan = placeImages(ram, { kernel: fakeImage(4096, 8 * MiB), kernelName: 'Image', initrd: new Uint8Array(5000).fill(7), firmware: null, firmwareName: '', mode: 'builtin' });
  assert.equal(plan.entry, 0x8020_0000);
  assert.equal(plan.priv, 1);
  assert.equal(plan.allHartsStart, false);
  assert.equal(ram.read8(0x20_0000 + 4095), 0xaa);
  assert.ok(plan.initrd !== null);
  assert.equal(plan.initrd!.start % 4096, 0);
  assert.ok(plan.initrd!.end <= plan.fdtAddr);
  assert.ok(plan.initrd!.start >= 0x8020_0000 + 8 * MiB);
  assert.equal(ram.read8(plan.initrd!.start - ram.base), 7);
});

test('firmware: fw_dynamic info tells OpenSBI to enter the kernel in S-mode', () => {
  const ram = new GuestMemory(0x8000_0000, 64 * MiB);
  const fw = new Uint8Array(1000).fill(0x13);
  const plan = placeImages(ram, { kernel: fakeImage(4096), kernelName: 'Image', initrd: null, firmware: fw, firmwareName: 'fw_dynamic.bin', mode: 'firmware' });
  assert.equal(plan.entry, 0x8000_0000);
  assert.equal(plan.priv, 3);
  assert.equal(plan.allHartsStart, true);
  const off = plan.a2 - ram.base;
  assert.equal(ram.read64(off), 0x4942534fn);
  assert.equal(ram.read64(off + 8), 2n);
  assert.equal(ram.read64(off + 16), 0x8020_0000n);
  assert.equal(ram.read64(off + 24), 1n);
  assert.equal(ram.read8(0), 0x13);
});

test('too little memory for kernel and initrd is a BootError that says to raise --memory', () => {
  const ram = new GuestMemory(0x8000_0000, 16 * MiB);
  assert.throws(
    () => placeImages(ram, { kernel: fakeImage(4096, 8 * MiB), kernelName: 'Image', initrd: new Uint8Array(6 * MiB), firmware: null, firmwareName: '', mode: 'builtin' }),
    (e: Error) => e instanceof BootError && /raise --memory/.test(e.message),
  );
  assert.throws(
    () => placeImages(ram, { kernel: new Uint8Array(100), kernelName: 'junk', initrd: null, firmware: null, firmwareName: '', mode: 'builtin' }),
    /neither a RISC-V Linux Image/,
  );
});
