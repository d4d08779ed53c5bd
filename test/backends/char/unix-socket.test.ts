// The Unix-socket character backend of --console-port unix:PATH: one client at a time, its bytes held until the
// device listens and handed over only in deliver() (the scheduler's points), backpressure, the host end's state
// following the client, a stale socket replaced and any other file refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnixSocketChar, type CharReceiver } from '../../../src/backends/char/unix-socket.js';

class Receiver implements CharReceiver {
  got: number[] = [];
  open = true;
  room = Infinity;
  host: boolean[] = [];
  listening(): boolean { return this.open; }
  input(b: Uint8Array): number { const n = Math.min(this.room, b.length); this.got.push(...b.subarray(0, n)); this.room -= n; return n; }
  setHostConnected(v: boolean): void { this.host.push(v); }
}

function dial(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => { const s = connect(path, () => resolve(s)); s.once('error', reject); });
}
/** Resolves when `cond` holds, checked after each turn of the event loop that brought `source` something. */
async function until(c: UnixSocketChar, cond: () => boolean): Promise<void> {
  while (!cond()) await c.wait(1000);
}

test('a client\'s bytes reach the device only in deliver(), as much as it takes; its output reaches the client', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmio-sock-'));
  const path = join(dir, 'port.sock');
  const c = await UnixSocketChar.listen(path);
  try {
    const r = new Receiver();
    c.attach(r);
    assert.deepEqual(r.host, [false], 'no client yet: the host end is closed');
    assert.equal(c.pacesIdle(), false);
    const s = await dial(path);
    await until(c, () => r.host.length === 2);
    assert.deepEqual(r.host, [false, true]);
    assert.equal(c.pacesIdle(), true, 'a person at the other end: idle time follows the host clock');
    s.write('hello');
    await until(c, () => c.ready());
    assert.deepEqual(r.got, [], 'nothing before deliver()');
    r.room = 3;
    c.deliver();
    assert.equal(Buffer.from(r.got).toString(), 'hel');
    r.room = Infinity;
    r.open = false;
    c.onRound(1);
    assert.equal(Buffer.from(r.got).toString(), 'hel', 'a device not listening takes nothing');
    r.open = true;
    c.onRound(2);
    assert.equal(Buffer.from(r.got).toString(), 'hello');
    const back = new Promise<string>((resolve) => s.once('data', (d) => resolve(d.toString())));
    c.write(new TextEncoder().encode('from the guest'));
    assert.equal(await back, 'from the guest');
    // A second client is refused while the first is connected.
    const other = await dial(path);
    const refusal = await new Promise<string>((resolve) => { let t = ''; other.on('data', (d) => { t += d; }); other.on('close', () => resolve(t)); });
    assert.match(refusal, /another client is connected/);
    assert.equal(c.refused, 1);
    s.destroy();
    await until(c, () => r.host.length === 3);
    assert.deepEqual(r.host, [false, true, false], 'the client left: the host end closes');
    c.write(new Uint8Array(4)); // nobody to write to: dropped, no throw
  } finally {
    c.close();
    assert.equal(existsSync(path), false, 'close removes the socket file');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stale socket is replaced, any other file is refused with one line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmio-sock-'));
  try {
    const path = join(dir, 'port.sock');
    // A socket left behind by a vmio that was killed: the file stays, nobody listens.
    spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
    assert.ok(lstatSync(path).isSocket(), 'the stale socket is there');
    const again = await UnixSocketChar.listen(path);
    const s = await dial(path);
    s.destroy();
    again.close();
    const file = join(dir, 'regular');
    writeFileSync(file, 'x');
    await assert.rejects(UnixSocketChar.listen(file), /--console-port unix:.*regular exists and is not a socket; give a path that does not exist/);
    await assert.rejects(UnixSocketChar.listen(join(dir, 'no', 'dir', 's.sock')), /--console-port unix:.*cannot listen there/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
