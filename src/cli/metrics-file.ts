// `vmio run --metrics FILE`: the file is opened before the guest boots, so a path that cannot be written is a
// usage error up front (exit 2) instead of lost counters after the run; the JSON is written when the VM stops.

import { closeSync, fstatSync, ftruncateSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from './run-options.js';

function isDirectory(path: string): boolean {
  try { return statSync(path).isDirectory(); } catch { return false; }
}

export class MetricsFile {
  private constructor(readonly path: string, private fd: number | null, private readonly created: boolean) {}

  /**
   * Opens (creating if needed, without truncating) `path` for the counters (or what `option` writes, e.g.
   * --profile); throws UsageError if that fails.
   */
  static open(path: string, option = '--metrics', example = 'metrics.json'): MetricsFile {
    let existed = true;
    try {
      if (statSync(path).isDirectory()) {
        throw new UsageError(`${option} ${path} is a directory; give a file name, e.g. ${path.replace(/\/+$/, '')}/${example}`);
      }
    } catch (e) {
      if (e instanceof UsageError) throw e;
      existed = false;
    }
    try {
      // 'a': writability is checked now, but an existing file keeps its contents until the run has counters.
      return new MetricsFile(path, openSync(path, 'a'), !existed);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      const dir = dirname(path);
      const why = code !== 'ENOENT' ? `cannot open it for writing (${code})`
        : isDirectory(dir) ? `cannot create a file in ${dir}` : `the directory ${dir} does not exist`;
      throw new UsageError(`${option} ${path}: ${why}; give a file in a directory you can write to`);
    }
  }

  /** Replaces the file's contents with `json`; throws the system error if the write fails. */
  write(json: string): void {
    const fd = this.take();
    try {
      if (fstatSync(fd).isFile()) ftruncateSync(fd, 0); // not for /dev/stdout and other streams
      const bytes = Buffer.from(json);
      for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off);
    } finally {
      closeSync(fd);
    }
  }

  /** Closes the file without writing; removes it if open() created it (the run never started). */
  discard(): void {
    if (this.fd === null) return;
    closeSync(this.take());
    if (this.created) { try { unlinkSync(this.path); } catch { /* already gone */ } }
  }

  private take(): number {
    if (this.fd === null) throw new Error(`metrics file ${this.path} was already written or discarded`);
    const fd = this.fd;
    this.fd = null;
    return fd;
  }
}
