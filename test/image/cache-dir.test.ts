// Tests for prepareCacheDir: missing levels are created, and a cache that cannot be used is a CacheDirError
// naming the setting to change (never a hang under /proc, never a bare ENOTDIR).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheDirError, prepareCacheDir } from '../../src/image/cache-dir.js';

const tmp = mkdtempSync(join(tmpdir(), 'vmio-cachedir-'));
const isRoot = process.getuid?.() === 0;

function withCacheEnv<T>(value: string | undefined, fn: () => T): T {
  const old = process.env['VMIO_CACHE'];
  if (value === undefined) delete process.env['VMIO_CACHE']; else process.env['VMIO_CACHE'] = value;
  try { return fn(); } finally { if (old === undefined) delete process.env['VMIO_CACHE']; else process.env['VMIO_CACHE'] = old; }
}

test('missing levels are created and the directory is left empty', () => {
  const dir = join(tmp, 'a', 'b', 'c');
  prepareCacheDir(dir);
  assert.ok(statSync(dir).isDirectory());
  assert.deepEqual(readdirSync(dir), []);
  prepareCacheDir(dir); // and again, when it exists
});

test('a cache under /proc is refused at once', () => {
  withCacheEnv('/proc/vmio', () => assert.throws(() => prepareCacheDir('/proc/vmio'),
    (e: Error) => e instanceof CacheDirError && e.message === 'VMIO_CACHE=/proc/vmio: cannot create /proc/vmio (ENOENT); ' +
      'set VMIO_CACHE to a directory you can write to, or unset it to use ~/.cache/vmio'));
});

test('a file, or a path through a file, is named as the file', () => {
  const file = join(tmp, 'plain-file');
  writeFileSync(file, 'x');
  withCacheEnv(file, () => assert.throws(() => prepareCacheDir(file), /: it is a file, not a directory; set VMIO_CACHE/));
  withCacheEnv(undefined, () => assert.throws(() => prepareCacheDir(join(file, 'vmio')),
    (e: Error) => e instanceof CacheDirError && e.message.startsWith(`the cache directory ${join(file, 'vmio')}: ${file} is a file, not a directory; set VMIO_CACHE`)));
});

test('a directory nobody can create files in is refused', () => {
  withCacheEnv('/proc', () => assert.throws(() => prepareCacheDir('/proc'), /VMIO_CACHE=\/proc: cannot create files in it \(\w+\)/));
});

test('a read-only directory is refused (as a user other than root)', { skip: isRoot ? 'root can write to a mode 0555 directory' : false }, () => {
  const ro = join(tmp, 'read-only');
  prepareCacheDir(ro);
  chmodSync(ro, 0o555);
  withCacheEnv(ro, () => assert.throws(() => prepareCacheDir(join(ro, 'vmio')), /cannot create .*read-only\/vmio \(EACCES\)/));
  withCacheEnv(ro, () => assert.throws(() => prepareCacheDir(ro), /cannot create files in it \(EACCES\)/));
});
