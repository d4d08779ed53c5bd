// Transparent huge pages for guest RAM: vmio asks Linux to back the RAM buffer with 2 MiB pages
// (madvise(MADV_HUGEPAGE), as QEMU does for every RAM block), so a guest touching a new 2 MiB of RAM costs the
// host one page fault instead of up to 512. Where faults are dear (a host that is itself a VM) they were a tenth
// of a boot: 5,100 faults on RAM, about 12 µs each, against 11 huge ones. Where the host's THP setting is `never`,
// or Linux is not the host, the advice is simply not taken; the guest sees no difference either way.

import { createRequire } from 'node:module';

/** Linux's MADV_HUGEPAGE (asm-generic/mman-common.h). */
const MADV_HUGEPAGE = 14;
const HUGE_PAGE = 2 * 1024 * 1024;

type Koffi = typeof import('koffi');

/**
 * Advises huge pages for the whole 2 MiB-aligned part of `buffer`; true when Linux took the advice. Best effort:
 * false (and nothing done) off Linux, for a buffer too small to hold an aligned huge page, or when libc's madvise
 * cannot be reached.
 */
export function adviseHugePages(buffer: ArrayBuffer | SharedArrayBuffer): boolean {
  if (process.platform !== 'linux' || buffer.byteLength < HUGE_PAGE) return false;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as Koffi;
    const madvise = koffi.load('libc.so.6').func('int madvise(void *addr, unsigned long len, int advice)');
    const all = new Uint8Array(buffer);
    const huge = BigInt(HUGE_PAGE);
    const skip = Number((huge - (koffi.address(all) % huge)) % huge);
    const len = Math.floor((buffer.byteLength - skip) / HUGE_PAGE) * HUGE_PAGE;
    return len > 0 && madvise(all.subarray(skip, skip + len), len, MADV_HUGEPAGE) === 0;
  } catch {
    return false;
  }
}
