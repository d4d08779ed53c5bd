// The disk-image interface a block device frontend calls (kvmtool's disk_image habit: frontend and backend
// apart). Offsets and lengths reach a backend already checked against its size by the frontend's request
// parser; a backend throws only for host I/O failures, which the frontend reports as an I/O error to the guest.

export interface BlockBackend {
  /** Size of the image in bytes. */
  readonly size: number;
  readonly readOnly: boolean;
  /** Fills `dst` from the image at byte `offset`. */
  read(offset: number, dst: Uint8Array): void;
  /** Writes `src` to the image at `offset` (never called on a read-only backend). */
  write(offset: number, src: Uint8Array): void;
  /** Makes every completed write durable (fsync). */
  flush(): void;
  /** After this, `len` bytes at `offset` read back as zeros. */
  writeZeroes(offset: number, len: number): void;
  /** The guest no longer needs `len` bytes at `offset`; what they read back as afterwards is unspecified. */
  discard(offset: number, len: number): void;
  /** Releases the image (and its lock). */
  close(): void;
}

/** A backend held in memory (tests, benchmarks, the fuzzer). */
export class MemoryBlockBackend implements BlockBackend {
  readonly bytes: Uint8Array;
  flushes = 0;
  constructor(size: number, readonly readOnly = false) { this.bytes = new Uint8Array(size); }
  get size(): number { return this.bytes.length; }
  read(offset: number, dst: Uint8Array): void { dst.set(this.bytes.subarray(offset, offset + dst.length)); }
  write(offset: number, src: Uint8Array): void {
    if (this.readOnly) throw new Error('write to a read-only image');
    this.bytes.set(src, offset);
  }
  flush(): void { this.flushes++; }
  writeZeroes(offset: number, len: number): void { this.bytes.fill(0, offset, offset + len); }
  discard(): void {}
  close(): void {}
}
