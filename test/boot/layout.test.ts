// Tests for boot image placement: kernel at its text offset, initrd and device tree at the top of RAM,
// fw_dynamic info for OpenSBI, and clear errors when RAM is too small.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { placeImages, BootError } from '../../src/boot/layout.js';
import { makeElf } from '../../src/testing/elf-writer.js';

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
    () => placeImages(ram, { kernel: new Uint8Array(15 * MiB), kernelName: 'big.bin', initrd: null, firmware: null, firmwareName: '', mode: 'builtin' }),
    /the kernel big\.bin needs 19 MiB of RAM but the guest has 16 MiB; raise --memory/,
  );
});

function raw(size: number): Uint8Array {
  const b = new Uint8Array(size).fill(0x13); // neither ELF magic nor an Image header
  b[size - 1] = 0xbb;
  return b;
}

test('a raw binary goes where QEMU virt puts a kernel: RAM base + 2 MiB in S-mode with the builtin SBI', () => {
  const ram = new GuestMemory(0x8000_0000, 64 * MiB);
  const plan = placeImages(ram, { kernel: raw(1000), kernelName: 'prog.bin', initrd: null, firmware: null, firmwareName: '', mode: 'builtin' });
  assert.equal(plan.entry, 0x8020_0000);
  assert.equal(plan.priv, 1);
  assert.equal(ram.read8(0x20_0000), 0x13);
  assert.equal(ram.read8(0x20_0000 + 999), 0xbb);
});

test('a raw binary after firmware: fw_dynamic info points the firmware at RAM base + 2 MiB', () => {
  const ram = new GuestMemory(0x8000_0000, 64 * MiB);
  const plan = placeImages(ram, { kernel: raw(1000), kernelName: 'prog.bin', initrd: null, firmware: new Uint8Array(5000), firmwareName: 'fw.bin', mode: 'firmware' });
  assert.equal(plan.entry, 0x8000_0000);
  assert.equal(ram.read64(plan.a2 - ram.base + 16), 0x8020_0000n);
  assert.equal(ram.read8(0x20_0000 + 999), 0xbb);
});

test('a raw binary with --bios none starts at RAM base in M-mode, as with QEMU -bios none', () => {
  const ram = new GuestMemory(0x8000_0000, 64 * MiB);
  const plan = placeImages(ram, { kernel: raw(1000), kernelName: 'prog.bin', initrd: null, firmware: null, firmwareName: '', mode: 'bare' });
  assert.equal(plan.entry, 0x8000_0000);
  assert.equal(plan.priv, 3);
  assert.equal(plan.allHartsStart, true);
  assert.equal(ram.read8(999), 0xbb);
});

test('a gzip-compressed kernel is refused by name with the way out', () => {
  const ram = new GuestMemory(0x8000_0000, 64 * MiB);
  const gz = new Uint8Array(100);
  gz.set([0x1f, 0x8b, 8]);
  assert.throws(
    () => placeImages(ram, { kernel: gz, kernelName: 'Image.gz', initrd: null, firmware: null, firmwareName: '', mode: 'builtin' }),
    (e: Error) => e instanceof BootError && /^Image\.gz is gzip-compressed.*gunzip/.test(e.message),
  );
});

test('an ELF segment below RAM says so and how to fix the link, not to raise --memory', () => {
  const ram = new GuestMemory(0x8000_0000, 64 * MiB);
  // A build-id note linked at 0x10000, before -Ttext=0x80000000, lands in a PT_LOAD of its own.
  const elf = makeElf(0x1_0000, [0x13]);
  assert.throws(
    () => placeImages(ram, { kernel: elf, kernelName: 'hello.elf', initrd: null, firmware: null, firmwareName: '', mode: 'bare' }),
    (e: Error) => e instanceof BootError && /^hello\.elf: segment at 0x10000 \(4 bytes\) is below guest RAM, which starts at 0x80000000; link every segment at 0x80000000 or above/.test(e.message) &&
      /-Wl,--build-id=none,-n/.test(e.message) && !/--memory/.test(e.message),
  );
  const high = makeElf(0x8000_0000 + 64 * MiB, [0x13]);
  assert.throws(
    () => placeImages(ram, { kernel: high, kernelName: 'high.elf', initrd: null, firmware: null, firmwareName: '', mode: 'bare' }),
    /: high\.elf: segment at 0x84000000 \(4 bytes\) ends past guest RAM 0x80000000\.\.0x84000000; raise --memory/,
  );
});

test('ELF errors name the file, for the kernel and for the firmware', () => {
  const ram = new GuestMemory(0x8000_0000, 64 * MiB);
  const x86 = makeElf(0x8000_0000, [0x13]);
  new DataView(x86.buffer).setUint16(18, 62, true);
  assert.throws(
    () => placeImages(ram, { kernel: x86, kernelName: 'x86.elf', initrd: null, firmware: null, firmwareName: '', mode: 'bare' }),
    (e: Error) => e instanceof BootError && /^x86\.elf: ELF machine is 62, not RISC-V/.test(e.message),
  );
  assert.throws(
    () => placeImages(ram, { kernel: fakeImage(4096), kernelName: 'Image', initrd: null, firmware: x86, firmwareName: 'fw.elf', mode: 'firmware' }),
    /: fw\.elf: ELF machine is 62/,
  );
});
