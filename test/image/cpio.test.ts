// Tests the cpio newc writer by parsing its output back (header fields, 4-byte alignment, trailer) and the initramfs layout.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { CpioWriter, NEWC_HEADER_SIZE, NEWC_MAGIC, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, TRAILER_NAME } from '../../src/image/cpio.js';
import { buildInitramfsCpio } from '../../src/image/initramfs.js';

interface Entry { name: string; ino: number; mode: number; nlink: number; mtime: number; rdevmajor: number; rdevminor: number; data: Buffer; headerOffset: number; dataOffset: number }

/** An independent newc reader: checks magic and alignment as it goes. */
function parse(buf: Buffer): Entry[] {
  const out: Entry[] = [];
  let off = 0;
  for (;;) {
    assert.equal(off % 4, 0, `header at ${off} is not 4-byte aligned`);
    assert.equal(buf.toString('ascii', off, off + 6), NEWC_MAGIC, `bad magic at ${off}`);
    const field = (i: number): number => Number.parseInt(buf.toString('ascii', off + 6 + i * 8, off + 14 + i * 8), 16);
    const namesize = field(11);
    const filesize = field(6);
    const nameStart = off + NEWC_HEADER_SIZE;
    assert.equal(buf[nameStart + namesize - 1], 0, 'name is NUL-terminated');
    const name = buf.toString('utf8', nameStart, nameStart + namesize - 1);
    const dataOffset = Math.ceil((nameStart + namesize) / 4) * 4;
    const e: Entry = { name, ino: field(0), mode: field(1), nlink: field(4), mtime: field(5), rdevmajor: field(9), rdevminor: field(10),
      data: buf.subarray(dataOffset, dataOffset + filesize), headerOffset: off, dataOffset };
    assert.equal(field(12), 0, 'check field is 0 for newc');
    out.push(e);
    off = Math.ceil((dataOffset + filesize) / 4) * 4;
    if (name === TRAILER_NAME) break;
    assert.ok(off < buf.length, 'archive ends without a trailer');
  }
  assert.equal(off, buf.length, 'nothing after the trailer');
  return out;
}

test('round trip: directories, files, symlinks, device nodes and the trailer', () => {
  const w = new CpioWriter({ mtime: 1234 });
  w.dir('/dev').dir('bin').dir('tmp', { mode: 0o1777 });
  w.node('/dev/console', 'c', 5, 1);
  w.node('dev/null', 'c', 1, 3, { mode: 0o666 });
  w.file('bin/hello', 'abc', { mode: 0o755 });
  w.file('init', new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
  w.symlink('bin/sh', '/bin/busybox');
  const entries = parse(w.finish());
  assert.deepEqual(entries.map((e) => e.name), ['dev', 'bin', 'tmp', 'dev/console', 'dev/null', 'bin/hello', 'init', 'bin/sh', TRAILER_NAME]);
  const by = new Map(entries.map((e) => [e.name, e]));
  assert.equal(by.get('dev')?.mode, S_IFDIR | 0o755);
  assert.equal(by.get('dev')?.nlink, 2);
  assert.equal(by.get('tmp')?.mode, S_IFDIR | 0o1777);
  const console = by.get('dev/console');
  assert.equal((console?.mode ?? 0) & S_IFMT, S_IFCHR);
  assert.deepEqual([console?.rdevmajor, console?.rdevminor], [5, 1]);
  assert.equal(console?.data.length, 0);
  assert.deepEqual([by.get('dev/null')?.rdevmajor, by.get('dev/null')?.rdevminor, by.get('dev/null')?.mode], [1, 3, S_IFCHR | 0o666]);
  assert.equal(by.get('bin/hello')?.mode, S_IFREG | 0o755);
  assert.equal(by.get('bin/hello')?.data.toString(), 'abc');
  assert.deepEqual([...(by.get('init')?.data ?? [])], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(by.get('bin/sh')?.mode, S_IFLNK | 0o777);
  assert.equal(by.get('bin/sh')?.data.toString(), '/bin/busybox');
  assert.equal(by.get('init')?.mtime, 1234);
  const inos = entries.slice(0, -1).map((e) => e.ino);
  assert.equal(new Set(inos).size, inos.length, 'inode numbers are unique');
  const trailer = entries[entries.length - 1];
  assert.deepEqual([trailer?.mode, trailer?.data.length, trailer?.nlink], [0, 0, 1]);
});

test('file data starts 4-byte aligned for every name length and is padded after', () => {
  const w = new CpioWriter();
  for (let n = 1; n <= 9; n++) w.file('f'.repeat(n), 'x'.repeat(n));
  const entries = parse(w.finish());
  for (const e of entries.slice(0, -1)) {
    assert.equal(e.dataOffset % 4, 0, `${e.name}: data at ${e.dataOffset}`);
    assert.equal(e.data.toString(), 'x'.repeat(e.name.length));
  }
});

test('gzip output unpacks to the same archive', () => {
  const a = new CpioWriter();
  a.dir('etc').file('etc/hostname', 'vmio-guest\n');
  const b = new CpioWriter();
  b.dir('etc').file('etc/hostname', 'vmio-guest\n');
  const gz = a.finishGzip();
  assert.deepEqual([gz[0], gz[1]], [0x1f, 0x8b]);
  assert.deepEqual(gunzipSync(gz), b.finish());
});

test('rejects duplicates, missing parents, bad names, and use after finish', () => {
  const w = new CpioWriter();
  w.dir('a');
  assert.throws(() => w.dir('/a/'), /duplicate/);
  assert.throws(() => w.file('b/c', 'x'), /parent directory 'b'/);
  assert.throws(() => w.file('/', 'x'), /bad entry name/);
  assert.throws(() => w.file(TRAILER_NAME, 'x'), /bad entry name/);
  assert.throws(() => new CpioWriter({ mtime: 2 ** 32 }).dir('x'), /does not fit/);
  w.finish();
  assert.throws(() => w.dir('z'), /after finish/);
  assert.throws(() => w.finish(), /twice/);
});

test('initramfs layout: /init, device nodes, busybox applet links, iperf, iproute2\'s ip in place of the applet', () => {
  const cpio = buildInitramfsCpio({
    init: '#!/bin/sh\necho hi\n', profile: 'PS1=x\n',
    busybox: new Uint8Array([0x7f, 0x45, 0x4c, 0x46]),
    busyboxLinks: '/bin/sh\n/sbin/poweroff\n/usr/bin/awk\n/usr/sbin/brctl\n/sbin/ip\n/bin/busybox\n\n',
    iperf: new Uint8Array([9, 9]),
    ip: new Uint8Array([7, 7, 7]),
  });
  const by = new Map(parse(cpio).map((e) => [e.name, e]));
  assert.equal(by.get('init')?.mode, S_IFREG | 0o755);
  assert.equal(by.get('init')?.data.toString(), '#!/bin/sh\necho hi\n');
  assert.deepEqual([by.get('dev/console')?.mode, by.get('dev/console')?.rdevmajor, by.get('dev/console')?.rdevminor], [S_IFCHR | 0o600, 5, 1]);
  assert.deepEqual([by.get('dev/null')?.rdevmajor, by.get('dev/null')?.rdevminor], [1, 3]);
  for (const l of ['bin/sh', 'sbin/poweroff', 'usr/bin/awk', 'usr/sbin/brctl']) {
    assert.equal(by.get(l)?.mode, S_IFLNK | 0o777, l);
    assert.equal(by.get(l)?.data.toString(), '/bin/busybox', l);
  }
  assert.equal(by.get('bin/busybox')?.mode, S_IFREG | 0o755);
  assert.equal(by.get('usr/bin/iperf')?.data.length, 2);
  assert.equal(by.get('sbin/ip')?.mode, S_IFREG | 0o755, 'iproute2, not the busybox applet');
  assert.equal(by.get('sbin/ip')?.data.length, 3);
  assert.equal(by.get('tmp')?.mode, S_IFDIR | 0o1777);
  for (const d of ['proc', 'sys', 'dev', 'etc']) assert.equal(by.get(d)?.mode, S_IFDIR | 0o755, d);
  assert.equal(by.get('etc/profile')?.data.toString(), 'PS1=x\n');
});
