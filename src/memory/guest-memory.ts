// GuestMemory: the VM's RAM as one buffer with little-endian accessors (ARCHITECTURE.md "Core abstractions").
// Memory is passed to devices and harts, never owned by them. Offsets here are RAM offsets, not guest
// physical addresses: callers subtract `base` after checking `contains`.

export class GuestMemory {
  readonly base: number;
  readonly size: number;
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly u8: Uint8Array;
  readonly view: DataView;

  constructor(base: number, size: number, shared = false) {
    if (!Number.isSafeInteger(base) || base < 0) throw new RangeError(`RAM base ${base} is not a valid address`);
    if (!Number.isSafeInteger(size) || size <= 0 || size % 4096 !== 0) {
      throw new RangeError(`RAM size ${size} must be a positive multiple of 4096 bytes`);
    }
    this.base = base;
    this.size = size;
    this.buffer = shared ? new SharedArrayBuffer(size) : new ArrayBuffer(size);
    this.u8 = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
  }

  /** True when [paddr, paddr+len) lies wholly inside RAM. */
  contains(paddr: number, len: number): boolean {
    return paddr >= this.base && len >= 0 && paddr - this.base + len <= this.size;
  }

  // Accessors take RAM offsets (paddr - base); they do not re-check bounds (DataView throws if out of range).
  read8(off: number): number { return this.u8[off]!; }
  read16(off: number): number { return this.view.getUint16(off, true); }
  read32(off: number): number { return this.view.getUint32(off, true); }
  read64(off: number): bigint { return this.view.getBigUint64(off, true); }
  write8(off: number, v: number): void { this.u8[off] = v; }
  write16(off: number, v: number): void { this.view.setUint16(off, v, true); }
  write32(off: number, v: number): void { this.view.setUint32(off, v >>> 0, true); }
  write64(off: number, v: bigint): void { this.view.setBigUint64(off, BigInt.asUintN(64, v), true); }

  /** Copies bytes into RAM at guest physical address `paddr`; throws if they do not fit. */
  load(paddr: number, bytes: Uint8Array): void {
    if (!this.contains(paddr, bytes.length)) {
      throw new RangeError(
        `cannot place ${bytes.length} bytes at 0x${paddr.toString(16)}: RAM is 0x${this.base.toString(16)}+${this.size} bytes`,
      );
    }
    this.u8.set(bytes, paddr - this.base);
  }

  /** A copy of guest bytes at `paddr` (for tests and DMA reads); throws outside RAM. */
  slice(paddr: number, len: number): Uint8Array {
    if (!this.contains(paddr, len)) throw new RangeError(`0x${paddr.toString(16)}+${len} is outside RAM`);
    return this.u8.slice(paddr - this.base, paddr - this.base + len);
  }
}
