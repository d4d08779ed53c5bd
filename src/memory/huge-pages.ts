// Transparent huge pages for guest RAM and the VMM's big buffers: vmio asks Linux to back them with 2 MiB pages
// (madvise(MADV_HUGEPAGE), as QEMU does for every RAM block), so touching a new 2 MiB costs the host one page
// fault instead of up to 512. Where faults are dear (a host that is itself a VM: ~12 µs each) they were a tenth
// of a boot's main thread, 5,100 of them on guest RAM, which then took 11 huge ones. Where the host's THP setting
// is `never`, or Linux is not the host, the advice is simply not taken; the guest sees no difference either way.

import { createRequire } from 'node:module';

/** Linux's MADV_HUGEPAGE (asm-generic/mman-common.h). */
const MADV_HUGEPAGE = 14;
export const HUGE_PAGE = 2 * 1024 * 1024;

type Koffi = typeof import('koffi');
interface Madvise { koffi: Koffi; madvise: (addr: Uint8Array, len: number, advice: number) => number }

/** libc's madvise through koffi, loaded on first use; null off Linux or where it cannot be reached. */
let libc: Madvise | null | undefined;
function madviseFn(): Madvise | null {
  if (libc !== undefined) return libc;
  libc = null;
  if (process.platform !== 'linux') return libc;
  try {
    const koffi = createRequire(import.meta.url)('koffi') as Koffi;
    const madvise = koffi.load('libc.so.6').func('int madvise(void *addr, unsigned long len, int advice)') as Madvise['madvise'];
    libc = { koffi, madvise };
  } catch {
    // no koffi binary for this platform, or no glibc: no advice
  }
  return libc;
}

/** How many bytes from the start of `bytes` to its first 2 MiB boundary (0 when it cannot be known). */
function toBoundary(m: Madvise, bytes: Uint8Array): number {
  const huge = BigInt(HUGE_PAGE);
  return Number((huge - (m.koffi.address(bytes) % huge)) % huge);
}

/**
 * Advises huge pages for the whole 2 MiB-aligned part of `buffer`; true when Linux took the advice. Best effort:
 * false (and nothing done) off Linux, for a buffer too small to hold an aligned huge page, or when libc's madvise
 * cannot be reached.
 */
export function adviseHugePages(buffer: ArrayBuffer | SharedArrayBuffer): boolean {
  if (buffer.byteLength < HUGE_PAGE) return false;
  const m = madviseFn();
  if (m === null) return false;
  const all = new Uint8Array(buffer);
  const skip = toBoundary(m, all);
  const len = Math.floor((buffer.byteLength - skip) / HUGE_PAGE) * HUGE_PAGE;
  return len > 0 && m.madvise(all.subarray(skip, skip + len), len, MADV_HUGEPAGE) === 0;
}

/**
 * `bytes` zeroed bytes that start on a 2 MiB boundary and are advised huge pages (whole ones: the rest of the
 * last is reserved too, untouched); a plain Uint8Array where the advice cannot be given.
 */
export function hugePageBytes(bytes: number): Uint8Array {
  const m = madviseFn();
  if (m === null) return new Uint8Array(bytes);
  const span = Math.ceil(bytes / HUGE_PAGE) * HUGE_PAGE;
  // One huge page more than the span, for the way to the first boundary. Not more: V8 counts every byte of an
  // ArrayBuffer as external memory, and 34 MiB apiece (to be sure of a mapping of their own) cost full GCs.
  const all = new Uint8Array(span + HUGE_PAGE);
  const skip = toBoundary(m, all);
  m.madvise(all.subarray(skip, skip + span), span, MADV_HUGEPAGE);
  return all.subarray(skip, skip + bytes);
}
