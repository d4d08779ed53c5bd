// The cache directory ($VMIO_CACHE, else $XDG_CACHE_HOME/vmio or ~/.cache/vmio), created one level at a time
// and checked writable before a build uses it. (Node's recursive mkdir never returns under /proc: mkdir there
// says ENOENT, the parent exists, and it retries forever.)

import { mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The cache directory cannot be used; the message says which setting to change. */
export class CacheDirError extends Error {}

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e as Error).message;
}

function fail(dir: string, what: string): never {
  const env = process.env['VMIO_CACHE'];
  const where = env ? `VMIO_CACHE=${env}` : `the cache directory ${dir}`;
  const fix = env ? 'set VMIO_CACHE to a directory you can write to, or unset it to use ~/.cache/vmio'
    : 'set VMIO_CACHE to a directory you can write to';
  throw new CacheDirError(`${where}: ${what}; ${fix}`);
}

/** Creates `dir` if needed and checks that files can be created in it; throws CacheDirError otherwise. */
export function prepareCacheDir(dir: string): void {
  // Find the nearest existing ancestor; it must be a directory.
  const missing: string[] = [];
  let p = dir;
  for (;;) {
    let st;
    try {
      st = statSync(p);
    } catch (e) {
      const c = code(e);
      // ENOTDIR: an ancestor is a file, which the walk up finds and names.
      if ((c === 'ENOENT' || c === 'ENOTDIR') && dirname(p) !== p) { missing.push(p); p = dirname(p); continue; }
      fail(dir, `cannot look at ${p} (${c})`);
    }
    if (!st.isDirectory()) fail(dir, p === dir ? 'it is a file, not a directory' : `${p} is a file, not a directory`);
    break;
  }
  for (const m of missing.reverse()) {
    try {
      mkdirSync(m);
    } catch (e) {
      if (code(e) !== 'EEXIST') fail(dir, `cannot create ${m} (${code(e)})`);
    }
  }
  const probe = join(dir, `.write-test-${process.pid}`);
  try {
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (e) {
    fail(dir, `cannot create files in it (${code(e)})`);
  }
}
