// Tests for the ELF64 reader and the kernel Image header reader: valid files load, damaged ones fail cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseElf, ElfError } from '../../src/boot/elf.js';
import { parseKernelImage } from '../../src/boot/kernel-image.js';
import { makeElf as makeElfWords } from '../../src/testing/elf-writer.js';

function makeElf(addr: number, code: Uint8Array, bss = 0): Uint8Array {
  const words: number[] = [];
  const v = new DataView(code.buffer, code.byteOffset, code.byteLength);
  for (let i = 0; i + 4 <= code.length; i += 4) words.push(v.getUint32(i, true));
  return makeElfWords(addr, words, bss);
}


test('a valid ELF gives its entry point and segment', () => {
  const elf = parseElf(makeElf(0x8000_0000, new Uint8Array([0x13, 0, 0, 0]), 16));
  assert.equal(elf.entry, 0x8000_0000);
  assert.equal(elf.segments.length, 1);
  assert.equal(elf.segments[0]!.paddr, 0x8000_0000);
  assert.deepEqual([...elf.segments[0]!.data], [0x13, 0, 0, 0]);
  assert.equal(elf.segments[0]!.memSize, 20);
});

test('wrong class, machine and truncated headers are refused with a reason', () => {
  const good = makeElf(0x8000_0000, new Uint8Array(8));
  const bad32 = good.slice(); bad32[4] = 1;
  assert.throws(() => parseElf(bad32), /not a 64-bit ELF/);
  const x86 = good.slice(); new DataView(x86.buffer).setUint16(18, 62, true);
  assert.throws(() => parseElf(x86), /not RISC-V/);
  assert.throws(() => parseElf(good.slice(0, 100)), /program headers run past/);
  assert.throws(() => parseElf(new Uint8Array([1, 2, 3, 4])), /bad magic/);
});

test('random corruption of a valid ELF never throws anything but ElfError (property)', () => {
  const good = makeElf(0x8000_0000, new Uint8Array(64).fill(0x13));
  let seed = 12345;
  const rnd = (n: number) => { seed = (seed * 1103515245 + 12345) >>> 0; return seed % n; };
  for (let i = 0; i < 2000; i++) {
    const b = good.slice(0, rnd(3) === 0 ? rnd(good.length) : good.length);
    for (let k = 0, n = 1 + rnd(8); k < n && b.length > 0; k++) b[rnd(b.length)] = rnd(256);
    try {
      const elf = parseElf(b);
      for (const s of elf.segments) assert.ok(s.data.length <= s.memSize && s.data.byteOffset + s.data.length <= b.byteOffset + b.length);
    } catch (e) {
      assert.ok(e instanceof ElfError, `unexpected ${(e as Error).name}: ${(e as Error).message}`);
    }
  }
});

test('the kernel Image header gives text offset and image size, and rejects other data', () => {
  const hdr = new Uint8Array(64);
  const v = new DataView(hdr.buffer);
  v.setBigUint64(8, 0x200000n, true);
  v.setBigUint64(16, 0x1234000n, true);
  v.setUint32(0x28, 0x00000002, true);
  v.setUint32(0x38, 0x05435352, true);
  const info = parseKernelImage(hdr);
  assert.deepEqual(info, { textOffset: 0x200000, imageSize: 0x1234000, version: { major: 0, minor: 2 } });
  v.setUint32(0x38, 0, true);
  assert.equal(parseKernelImage(hdr), null);
  assert.equal(parseKernelImage(new Uint8Array(10)), null);
});
