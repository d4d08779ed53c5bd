// cpio "newc" (SVR4 portable, no CRC) archive writer for the initramfs (Linux Documentation/driver-api/early-userspace/buffer-format.rst).

import { gzipSync } from 'node:zlib';

/** Mode bits of the file type (octal S_IFMT values from <sys/stat.h>). */
export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

/** The newc magic; the header is this plus 13 eight-digit hex fields (110 bytes). */
export const NEWC_MAGIC = '070701';
export const NEWC_HEADER_SIZE = 110;
export const TRAILER_NAME = 'TRAILER!!!';

export interface CpioEntryOptions {
  /** Permission bits (the file-type bits are added by the writer). */
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
}

const MAX_U32 = 0xffff_ffff;

function hex8(n: number, field: string): string {
  if (!Number.isInteger(n) || n < 0 || n > MAX_U32) throw new RangeError(`cpio: ${field} ${n} does not fit the 8-hex-digit newc field`);
  return n.toString(16).padStart(8, '0');
}

function pad4(n: number): number { return (4 - (n % 4)) % 4; }

/**
 * Builds a newc archive in memory. Paths are written without a leading slash (as the kernel's
 * gen_init_cpio does); parents must be added before their children. Entries get inode numbers in
 * order of addition, nlink 2 for directories and 1 otherwise.
 */
export class CpioWriter {
  private readonly chunks: Buffer[] = [];
  private readonly names = new Set<string>();
  private ino = 1;
  private finished = false;

  constructor(private readonly defaults: { mtime?: number } = {}) {}

  dir(path: string, opts: CpioEntryOptions = {}): this {
    return this.entry(path, S_IFDIR | (opts.mode ?? 0o755), Buffer.alloc(0), opts, 2, 0, 0);
  }

  file(path: string, data: Uint8Array | string, opts: CpioEntryOptions = {}): this {
    const body = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return this.entry(path, S_IFREG | (opts.mode ?? 0o644), body, opts, 1, 0, 0);
  }

  symlink(path: string, target: string, opts: CpioEntryOptions = {}): this {
    return this.entry(path, S_IFLNK | (opts.mode ?? 0o777), Buffer.from(target, 'utf8'), opts, 1, 0, 0);
  }

  /** A device node: 'c' (character) or 'b' (block), e.g. /dev/console c 5 1. */
  node(path: string, type: 'c' | 'b', major: number, minor: number, opts: CpioEntryOptions = {}): this {
    const fmt = type === 'c' ? S_IFCHR : S_IFBLK;
    return this.entry(path, fmt | (opts.mode ?? 0o600), Buffer.alloc(0), opts, 1, major, minor);
  }

  has(path: string): boolean { return this.names.has(normalize(path)); }

  /** Appends the trailer and returns the whole archive (the writer cannot be used after this). */
  finish(): Buffer {
    if (this.finished) throw new Error('cpio: finish() called twice');
    this.header(TRAILER_NAME, 0, 0, 0, 0, 1, 0, 0, 0, 0);
    this.finished = true;
    return Buffer.concat(this.chunks);
  }

  /** finish() then gzip: the form the kernel unpacks with CONFIG_RD_GZIP. */
  finishGzip(level = 9): Buffer {
    return CpioWriter.gzip(this.finish(), level);
  }

  static gzip(archive: Uint8Array, level = 9): Buffer {
    return gzipSync(archive, { level });
  }

  private entry(path: string, mode: number, body: Buffer, opts: CpioEntryOptions, nlink: number, rmajor: number, rminor: number): this {
    if (this.finished) throw new Error('cpio: entry added after finish()');
    const name = normalize(path);
    if (name === '' || name === TRAILER_NAME) throw new Error(`cpio: bad entry name '${path}'`);
    if (this.names.has(name)) throw new Error(`cpio: duplicate entry '${name}'`);
    const slash = name.lastIndexOf('/');
    if (slash > 0 && !this.names.has(name.slice(0, slash))) {
      throw new Error(`cpio: parent directory '${name.slice(0, slash)}' of '${name}' must be added first`);
    }
    this.names.add(name);
    const mtime = opts.mtime ?? this.defaults.mtime ?? 0;
    this.header(name, this.ino++, mode, opts.uid ?? 0, opts.gid ?? 0, nlink, mtime, body.length, rmajor, rminor);
    if (body.length > 0) {
      this.chunks.push(body);
      const p = pad4(body.length);
      if (p) this.chunks.push(Buffer.alloc(p));
    }
    return this;
  }

  private header(name: string, ino: number, mode: number, uid: number, gid: number, nlink: number,
    mtime: number, filesize: number, rmajor: number, rminor: number): void {
    const nameBytes = Buffer.from(name + '\0', 'utf8');
    const fields = [ino, mode, uid, gid, nlink, mtime, filesize, 0, 0, rmajor, rminor, nameBytes.length, 0];
    const labels = ['ino', 'mode', 'uid', 'gid', 'nlink', 'mtime', 'filesize', 'devmajor', 'devminor', 'rdevmajor', 'rdevminor', 'namesize', 'check'];
    const text = NEWC_MAGIC + fields.map((v, i) => hex8(v, labels[i] ?? '?')).join('');
    this.chunks.push(Buffer.from(text, 'ascii'), nameBytes);
    const p = pad4(NEWC_HEADER_SIZE + nameBytes.length);
    if (p) this.chunks.push(Buffer.alloc(p));
  }
}

function normalize(path: string): string {
  return path.replace(/^\/+/, '').replace(/\/+$/, '');
}
