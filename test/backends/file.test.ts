// The raw-image file backend: reads and writes at offsets, flush is an fsync, write-zeroes zeros, and the
// image lock: a second read-write open (or a read-only one) of an image a live VM holds is refused, a stale
// lock whose process is gone is taken over, and close releases it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBlockBackend } from '../../src/backends/block/file.js';
import { ImageLock, ImageLockedError, lockPath } from '../../src/backends/block/lock.js';

function image(size = 8192): { path: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'vmio-blk-'));
  const path = join(dir, 'disk.img');
  writeFileSync(path, new Uint8Array(size));
  return { path, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

test('write, read back, flush through fsync, write-zeroes, close', () => {
  const { path, done } = image();
  try {
    const fsyncs: number[] = [];
    const b = FileBlockBackend.open(path, { io: { fsyncSync: (fd) => { fsyncs.push(fd); } } });
    assert.equal(b.size, 8192);
    b.write(1000, Uint8Array.of(1, 2, 3, 4));
    const got = new Uint8Array(6);
    b.read(999, got);
    assert.deepEqual([...got], [0, 1, 2, 3, 4, 0]);
    b.flush();
    assert.equal(fsyncs.length, 1, 'flush is an fsync of the image');
    b.writeZeroes(1001, 2);
    b.read(999, got);
    assert.deepEqual([...got], [0, 1, 0, 0, 4, 0]);
    b.close();
    b.close();
    assert.deepEqual([...readFileSync(path).subarray(1000, 1004)], [1, 0, 0, 4], 'the data is in the file');
    assert.throws(() => b.read(0, got), /closed/);
  } finally { done(); }
});

test('a real flush calls fsync without error; reads past a shrunk file give zeros', () => {
  const { path, done } = image();
  try {
    const b = FileBlockBackend.open(path);
    b.write(0, new Uint8Array(8192).fill(7));
    b.flush();
    assert.equal(b.fsyncs, 1);
    truncateSync(path, 4096);
    const tail = new Uint8Array(16);
    b.read(4090, tail);
    assert.deepEqual([...tail], [7, 7, 7, 7, 7, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    b.close();
  } finally { done(); }
});

test('the image lock: a second read-write or read-only open is refused while held, and allowed after close', () => {
  const { path, done } = image();
  try {
    const a = FileBlockBackend.open(path);
    assert.equal(readFileSync(lockPath(path), 'utf8').split('\n')[0], String(process.pid));
    assert.throws(() => FileBlockBackend.open(path), (e: unknown) => e instanceof ImageLockedError && /in use by process \d+/.test((e as Error).message));
    assert.throws(() => FileBlockBackend.open(path, { readOnly: true }), ImageLockedError);
    a.close();
    assert.equal(existsSync(lockPath(path)), false, 'close removes the lock');
    const ro = FileBlockBackend.open(path, { readOnly: true });
    assert.equal(ro.readOnly, true);
    assert.throws(() => ro.write(0, new Uint8Array(1)), /read-only/);
    assert.equal(existsSync(lockPath(path)), false, 'read-only opens take no lock');
    ro.close();
    FileBlockBackend.open(path).close();
  } finally { done(); }
});

test('a stale lock (its process is gone) is taken over; a live or foreign one is not', () => {
  const { path, done } = image();
  try {
    writeFileSync(lockPath(path), `${deadPid()}\n${hostname()}\nstale\n`);
    const b = FileBlockBackend.open(path);
    assert.match(readFileSync(lockPath(path), 'utf8'), new RegExp(`^${process.pid}\\n`));
    b.close();
    writeFileSync(lockPath(path), `${process.ppid}\n${hostname()}\nparent\n`);
    assert.throws(() => FileBlockBackend.open(path), /in use by process/);
    writeFileSync(lockPath(path), `${deadPid()}\nsome-other-host\nx\n`);
    assert.throws(() => FileBlockBackend.open(path), /on host some-other-host/);
    writeFileSync(lockPath(path), 'garbage');
    assert.throws(() => FileBlockBackend.open(path), /cannot read/);
  } finally { done(); }
});

test('a lock is released only by its owner', () => {
  const { path, done } = image();
  try {
    const l = ImageLock.acquire(path);
    writeFileSync(lockPath(path), `${process.pid}\n${hostname()}\nsomeone-else\n`);
    l.release();
    assert.equal(existsSync(lockPath(path)), true, 'not ours any more: left alone');
  } finally { done(); }
});

test('opening a missing image says which one', () => {
  assert.throws(() => FileBlockBackend.open('/nonexistent/disk.img', { readOnly: true }), /cannot open disk image \/nonexistent\/disk.img read-only/);
});
