// Tests for adviseHugePages: Linux marks guest RAM's mapping for huge pages (the VMA's `hg` flag in
// /proc/self/smaps), for both kinds of RAM buffer GuestMemory makes, and the advice changes no byte; the buffers
// hugePageBytes makes for files and decode arrays start on a huge page and are marked too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { HUGE_PAGE, adviseHugePages, hugePageBytes } from '../../src/memory/huge-pages.js';
import { GuestMemory } from '../../src/memory/guest-memory.js';

const thp = '/sys/kernel/mm/transparent_hugepage/enabled';
const skip = process.platform !== 'linux' || !existsSync(thp) || readFileSync(thp, 'utf8').includes('[never]')
  ? 'needs Linux with transparent huge pages not set to never' : false;

/** The VmFlags of the mapping that holds the byte at `addr`. */
function vmFlags(addr: bigint): string[] {
  let inside = false;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const range = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (range !== null) inside = BigInt(`0x${range[1]}`) <= addr && addr < BigInt(`0x${range[2]}`);
    else if (inside && line.startsWith('VmFlags:')) return line.slice(8).trim().split(/\s+/);
  }
  throw new Error(`no mapping holds 0x${addr.toString(16)}`);
}

function address(buffer: ArrayBufferLike, at: number): bigint {
  const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  return koffi.address(new Uint8Array(buffer, at, 1));
}

test('RAM in a WebAssembly memory and in an ArrayBuffer is marked for huge pages, its bytes unchanged', { skip }, () => {
  for (const wasm of [true, false]) {
    const ram = new GuestMemory(0x8000_0000, 16 << 20, false, wasm);
    ram.write32(0x10_0000, 0x1234_5678);
    const mid = 8 << 20;
    assert.ok(vmFlags(address(ram.buffer, mid)).includes('hg'), `${wasm ? 'wasm' : 'ArrayBuffer'} RAM is marked hg`);
    assert.equal(adviseHugePages(ram.buffer), true, 'advising again succeeds');
    assert.equal(ram.read32(0x10_0000), 0x1234_5678);
  }
});

test('a buffer smaller than a huge page is left alone', () => {
  assert.equal(adviseHugePages(new ArrayBuffer(1 << 20)), false);
});

test('hugePageBytes: zeroed bytes of the size asked, from a 2 MiB boundary, in a mapping marked for huge pages', { skip }, () => {
  for (const size of [1, 4096 * 3 + 5, HUGE_PAGE, 5 * HUGE_PAGE + 1]) {
    const b = hugePageBytes(size);
    assert.equal(b.length, size);
    assert.ok(b.every((x) => x === 0));
    const at = address(b.buffer, b.byteOffset);
    assert.equal(at % BigInt(HUGE_PAGE), 0n, `${size} bytes start on a huge page`);
    assert.ok(vmFlags(at).includes('hg'), `${size} bytes are marked hg`);
    b[size - 1] = 7;
    assert.equal(b[size - 1], 7);
  }
});
