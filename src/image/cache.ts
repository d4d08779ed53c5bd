// Atomic cache entries: an artifact directory is filled under a temporary name and renamed into place.

import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Returns `dir` when it already exists (a cache hit). Otherwise calls `fill` with a fresh temporary
 * directory beside it and renames that to `dir`, so an interrupted build never leaves a half-written entry.
 */
export async function publishDir(dir: string, fill: (tmp: string) => Promise<void>): Promise<string> {
  if (existsSync(dir)) return dir;
  mkdirSync(dirname(dir), { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    await fill(tmp);
    try {
      renameSync(tmp, dir);
    } catch (e) {
      if (!existsSync(dir)) throw e; // another build finished the same entry first: keep theirs
      rmSync(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return dir;
}

/** A fresh, empty work directory for a build (sources are extracted here). */
export function freshDir(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}
