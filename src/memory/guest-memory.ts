// GuestMemory: the VM's RAM as one buffer (ARCHITECTURE.md "Core abstractions"). Owned by the VM; only the
// VMM's own machinery touches it: the harts (which build their own views over `buffer` for the hot loop), the
// boot loaders and tests. Devices never see it: they read and write guest memory through a DmaSpace
// (dma.ts), which checks every address and returns a fault instead of throwing.
//
// Accessors take RAM offsets (guest physical address − base) and throw RangeError outside RAM: a throw here
// is a VMM bug, never something a guest can cause, because every guest-controlled address is checked before.

import { adviseHugePages } from './huge-pages.js';

/**
 * The VMM area after RAM when GuestMemory is made for WebAssembly (see GuestMemory.wasm): 64 MiB, enough for 8 harts,
 * and for each of them a byte per CODE_LINE bytes of RAM (its decoded-code line marks, decode-cache.ts).
 */
export const VMM_AREA_BYTES = 64 * 1024 * 1024;
/** The bytes of RAM one decoded-code line mark stands for (decode-cache.ts lineMarks). */
export const CODE_LINE = 64;
const MAX_HARTS = 8;
const WASM_PAGE = 65536;

export class GuestMemory {
  readonly base: number;
  readonly size: number;
  /** RAM at offset 0, then (with `wasm`) the VMM area. */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /**
   * With `wasm`: the WebAssembly.Memory whose buffer this is, so translated code (jit/wasm-gen.ts) reads guest RAM at
   * the same offsets, and after RAM a VMM area (VMM_AREA_BYTES) where the harts keep what that code also reads:
   * registers, TLB, decoded-code marks (vmmAlloc). Else null and the buffer is RAM alone.
   */
  readonly wasm: WebAssembly.Memory | null;
  private vmmNext: number;
  private readonly u8: Uint8Array;
  private readonly view: DataView;

  constructor(base: number, size: number, shared = false, wasm = false) {
    if (!Number.isSafeInteger(base) || base < 0) throw new RangeError(`RAM base ${base} is not a valid address`);
    if (!Number.isSafeInteger(size) || size <= 0 || size % 4096 !== 0) {
      throw new RangeError(`RAM size ${size} must be a positive multiple of 4096 bytes`);
    }
    this.base = base;
    this.size = size;
    if (wasm) {
      const pages = Math.ceil((size + this.vmmBytes(size)) / WASM_PAGE);
      this.wasm = new WebAssembly.Memory({ initial: pages, maximum: pages, shared });
      this.buffer = this.wasm.buffer;
    } else {
      this.wasm = null;
      this.buffer = shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size);
    }
    adviseHugePages(this.buffer);
    this.vmmNext = size;
    this.u8 = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
  }

  /**
   * `bytes` of the VMM area (8-byte aligned, zeroed), as an offset into `buffer`; null without one (not `wasm`).
   * Throws when the area is used up (a VMM bug: its size is fixed for 8 harts).
   */
  vmmAlloc(bytes: number): number | null {
    if (this.wasm === null) return null;
    const at = this.vmmNext;
    const end = at + Math.ceil(bytes / 8) * 8;
    if (end > this.size + this.vmmBytes(this.size)) throw new RangeError(`the VMM area after RAM is full (${bytes} more bytes asked for)`);
    this.vmmNext = end;
    return at;
  }

  private vmmBytes(size: number): number { return VMM_AREA_BYTES + MAX_HARTS * Math.ceil(size / CODE_LINE); }

  /** True when [paddr, paddr+len) lies wholly inside RAM (false for non-integers and negative lengths). */
  contains(paddr: number, len: number): boolean {
    return Number.isSafeInteger(paddr) && Number.isSafeInteger(len) && paddr >= this.base && len >= 0 && paddr - this.base + len <= this.size;
  }

  private check(off: number, len: number): void {
    if (!Number.isSafeInteger(off) || off < 0 || off + len > this.size) {
      throw new RangeError(`RAM offset ${off}+${len} is outside the ${this.size}-byte RAM`);
    }
  }

  read8(off: number): number { this.check(off, 1); return this.u8[off]!; }
  read16(off: number): number { this.check(off, 2); return this.view.getUint16(off, true); }
  read32(off: number): number { this.check(off, 4); return this.view.getUint32(off, true); }
  read64(off: number): bigint { this.check(off, 8); return this.view.getBigUint64(off, true); }
  write8(off: number, v: number): void { this.check(off, 1); this.u8[off] = v; }
  write16(off: number, v: number): void { this.check(off, 2); this.view.setUint16(off, v, true); }
  write32(off: number, v: number): void { this.check(off, 4); this.view.setUint32(off, v >>> 0, true); }
  write64(off: number, v: bigint): void { this.check(off, 8); this.view.setBigUint64(off, BigInt.asUintN(64, v), true); }

  /** Copies RAM at offset `off` into `dst` (all of it). */
  readBytes(off: number, dst: Uint8Array): void {
    this.check(off, dst.length);
    dst.set(this.u8.subarray(off, off + dst.length));
  }

  /** Copies `src` into RAM at offset `off`. */
  writeBytes(off: number, src: Uint8Array): void {
    this.check(off, src.length);
    this.u8.set(src, off);
  }

  /** Fills `len` bytes at guest physical address `paddr` with `value`. */
  fill(paddr: number, len: number, value = 0): void {
    if (!this.contains(paddr, len)) throw new RangeError(`0x${paddr.toString(16)}+${len} is outside RAM`);
    this.u8.fill(value, paddr - this.base, paddr - this.base + len);
  }

  /** Copies bytes into RAM at guest physical address `paddr`; throws if they do not fit. */
  load(paddr: number, bytes: Uint8Array): void {
    if (!this.contains(paddr, bytes.length)) {
      throw new RangeError(
        `cannot place ${bytes.length} bytes at 0x${paddr.toString(16)}: RAM is 0x${this.base.toString(16)}+${this.size} bytes`,
      );
    }
    this.u8.set(bytes, paddr - this.base);
  }

  /** A copy of guest bytes at `paddr` (for tests and loaders); throws outside RAM. */
  slice(paddr: number, len: number): Uint8Array {
    if (!this.contains(paddr, len)) throw new RangeError(`0x${paddr.toString(16)}+${len} is outside RAM`);
    return this.u8.slice(paddr - this.base, paddr - this.base + len);
  }
}
