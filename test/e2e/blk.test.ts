// End-to-end: a guest mounts an ext4 image made on the host (mke2fs) over virtio-blk, writes a file, syncs; the
// host reads it back with debugfs — after a clean poweroff, and after vmio was killed with SIGKILL right after the
// guest's sync returned (no acknowledged write is lost).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVmio, VMIO_BIN } from '../../src/testing/run-vmio.js';

const tmp = mkdtempSync(join(tmpdir(), 'vmio-blk-e2e-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
const tools = spawnSync('mke2fs', ['-V']).error === undefined && spawnSync('debugfs', ['-V']).error === undefined;
const skip = tools ? false : 'needs mke2fs and debugfs (Debian package e2fsprogs)';

function ext4(name: string): string {
  const img = join(tmp, name);
  const r = spawnSync('mke2fs', ['-q', '-F', '-t', 'ext4', img, '16M'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return img;
}

function hostRead(img: string, path: string): string {
  const r = spawnSync('debugfs', ['-R', `cat ${path}`, img], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('the guest writes a file on an ext4 image; the host reads it back', { skip }, async () => {
  // The oracle can fail: a file that was never written is not found.
  const img = ext4('clean.img');
  assert.equal(hostRead(img, '/hello.txt'), '');
  const r = await runVmio(['run', '--drive', img, '--timeout', '300'],
    'mount /dev/vda /mnt && echo written-by-the-guest > /mnt/hello.txt && sync && umount /mnt && echo DONE\npoweroff\n');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\nDONE/);
  assert.equal(hostRead(img, '/hello.txt'), 'written-by-the-guest\n');
});

test('SIGKILL right after the guest\'s sync: the synced file is in the image', { skip }, async () => {
  const img = ext4('killed.img');
  const child = spawn(process.execPath, [VMIO_BIN, 'run', '--drive', img, '--timeout', '300'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const synced = new Promise<void>((resolve) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; if (/\nSYNCED/.test(out)) resolve(); });
  });
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  // `SYN""CED` in the command: the shell's echo of the typed line (which line editing may redraw from any column
  // on a long line) never reads SYNCED; only the echo command's output, after sync returned, does.
  child.stdin.write('mount /dev/vda /mnt && echo survives-sigkill > /mnt/kept.txt && sync && echo SYN""CED\nsleep 100\n');
  await Promise.race([synced, closed]);
  assert.match(out, /\nSYNCED/, out);
  child.kill('SIGKILL');
  await closed;
  assert.equal(hostRead(img, '/kept.txt'), 'survives-sigkill\n');
});
