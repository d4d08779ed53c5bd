// A raw disk image in a host file, the backend of virtio-blk. I/O is synchronous (readSync/writeSync/fsyncSync):
// a request completes before the device returns to the guest, so runs are deterministic and the VMM holds no
// request in flight; a slow disk stalls the VM while it works. A read-write open takes the image's exclusive
// lock (lock.ts); a read-only open refuses an image a live VM holds read-write but takes no lock itself.
//
// WRITE_ZEROES writes zeros (Node has no fallocate(PUNCH_HOLE)), so the range reads back as zeros; DISCARD is a
// no-op: the range keeps its old contents, which virtio 1.2 §5.2.6.1 allows (only write-zeroes promises zeros).

import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import type { BlockBackend } from './backend.js';
import { ImageLock, ImageLockedError, liveOwner } from './lock.js';

/** The file operations the backend uses, injectable so tests can watch fsync or make I/O fail. */
export interface FileIo {
  readSync(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  writeSync(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number;
  fsyncSync(fd: number): void;
}

const NODE_IO: FileIo = { readSync, writeSync, fsyncSync };

export interface FileBackendOptions {
  readOnly?: boolean;
  /** Take the image's exclusive lock (default true for read-write opens). */
  lock?: boolean;
  io?: Partial<FileIo>;
}

const ZERO_CHUNK = 1 << 20;

export class FileBlockBackend implements BlockBackend {
  private fd: number;
  private readonly io: FileIo;
  private zeros: Uint8Array | null = null;
  /** fsync calls made (flushes). */
  fsyncs = 0;

  private constructor(readonly path: string, fd: number, readonly size: number, readonly readOnly: boolean, private readonly lock: ImageLock | null, io: FileIo) {
    this.fd = fd;
    this.io = io;
  }

  /**
   * Opens `path` as a raw image. Throws ImageLockedError when another live VM holds it read-write, and the
   * usual fs errors (ENOENT, EACCES) otherwise; the message says which image and what to do.
   */
  static open(path: string, opts: FileBackendOptions = {}): FileBlockBackend {
    const readOnly = opts.readOnly ?? false;
    let fd: number;
    try {
      fd = openSync(path, readOnly ? 'r' : 'r+');
    } catch (e) {
      throw new Error(`cannot open disk image ${path}${readOnly ? ' read-only' : ''}: ${(e as Error).message}`);
    }
    let lock: ImageLock | null = null;
    try {
      if (!fstatSync(fd).isFile()) throw new Error(`disk image ${path} is not a regular file`);
      if (!readOnly && (opts.lock ?? true)) lock = ImageLock.acquire(path);
      else if (readOnly) {
        const why = liveOwner(path);
        if (why !== null) throw new ImageLockedError(`cannot open ${path} read-only: ${why}`);
      }
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    const st = fstatSync(fd);
    return new FileBlockBackend(path, fd, st.size, readOnly, lock, { ...NODE_IO, ...opts.io });
  }

  private check(): number {
    if (this.fd < 0) throw new Error(`disk image ${this.path} is closed`);
    return this.fd;
  }

  read(offset: number, dst: Uint8Array): void {
    const fd = this.check();
    let done = 0;
    while (done < dst.length) {
      const n = this.io.readSync(fd, dst, done, dst.length - done, offset + done);
      if (n <= 0) { dst.fill(0, done); return; } // the file shrank under us: past its end reads as zeros
      done += n;
    }
  }

  write(offset: number, src: Uint8Array): void {
    const fd = this.check();
    if (this.readOnly) throw new Error(`disk image ${this.path} is open read-only`);
    let done = 0;
    while (done < src.length) {
      const n = this.io.writeSync(fd, src, done, src.length - done, offset + done);
      if (n <= 0) throw new Error(`disk image ${this.path}: a write at ${offset + done} made no progress`);
      done += n;
    }
  }

  flush(): void {
    this.io.fsyncSync(this.check());
    this.fsyncs++;
  }

  writeZeroes(offset: number, len: number): void {
    this.zeros ??= new Uint8Array(ZERO_CHUNK);
    for (let done = 0; done < len; done += ZERO_CHUNK) {
      const n = Math.min(ZERO_CHUNK, len - done);
      this.write(offset + done, n === ZERO_CHUNK ? this.zeros : this.zeros.subarray(0, n));
    }
  }

  discard(): void { this.check(); }

  /** Closes the file and releases the lock; idempotent. */
  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
    this.lock?.release();
  }
}
