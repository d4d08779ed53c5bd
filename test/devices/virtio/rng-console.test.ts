// virtio-rng (§5.4) and the single-port virtio-console (§5.3) over virtio-mmio with the mock driver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingLine } from '../../../src/board/testing/recorders.js';
import { VIRTIO_ID_CONSOLE } from '../../../src/devices/virtio/constants.js';
import { VirtioConsole, openConsolePort } from '../../../src/devices/virtio/console.js';
import type { VirtioDevice } from '../../../src/devices/virtio/device.js';
import { VIRTIO_MMIO_INT_VRING, VirtioMmioTransport } from '../../../src/devices/virtio/mmio.js';
import { VirtioRng } from '../../../src/devices/virtio/rng.js';
import { MockDriver } from '../../../src/devices/virtio/testing/mock-driver.js';
import { MockMmioDriver } from '../../../src/devices/virtio/testing/mmio-driver.js';
import { makeGuest } from '../../../src/devices/virtio/testing/watched-dma.js';

const RAM = 0x8000_0000;

function setup(dev: VirtioDevice, queues: number, init = true) {
  const g = makeGuest(1 << 20, RAM);
  const irq = new RecordingLine();
  const t = new VirtioMmioTransport(dev, { irq, dma: g.dma });
  const drv = new MockMmioDriver(t);
  const rings = Array.from({ length: queues }, (_, i) => new MockDriver(g.ram, { base: RAM + i * 0x2000, size: 8, dataBase: RAM + 0x10000 + i * 0x10000, dataSize: 0x10000 }));
  if (init) drv.init(rings);
  return { ...g, t, drv, rings, irq };
}

test('rng fills every device-writable buffer through the DmaSpace and ignores readable ones', () => {
  let calls = 0;
  const rng = new VirtioRng({ fill: (b) => { calls++; b.fill(0x3c); } });
  const { drv, rings: [r], dma } = setup(rng, 1);
  const m = r!.add([{ data: new Uint8Array(8).fill(1) }, { len: 10 }, { len: 5000 }])!;
  dma.clear();
  drv.notify(0);
  assert.deepEqual(r!.takeUsed(), [{ id: m.head, len: 5010 }]);
  assert.ok(r!.read(m.buffers[1]!.addr, 10).every((b) => b === 0x3c));
  assert.ok(r!.read(m.buffers[2]!.addr, 5000).every((b) => b === 0x3c));
  assert.ok(r!.read(m.buffers[0]!.addr, 8).every((b) => b === 1), 'the readable buffer is untouched');
  assert.ok(calls >= 2, 'entropy is drawn in chunks');
  const inWritable = (a: { addr: number; len: number }) => m.buffers.slice(1).some((b) => a.addr >= b.addr && a.addr + a.len <= b.addr + b.len) || (a.addr >= r!.used && a.addr < r!.end);
  assert.ok(dma.writes.every(inWritable));
  assert.equal(rng.bytes, 5010);
});

test('rng gives at most maxPerRequest bytes per request, and real entropy by default', () => {
  const { drv, rings: [r] } = setup(new VirtioRng({ maxPerRequest: 100 }), 1);
  const m = r!.add([{ len: 4096 }])!;
  drv.notify(0);
  assert.deepEqual(r!.takeUsed(), [{ id: m.head, len: 100 }]);
  const got = r!.read(m.buffers[0]!.addr, 100);
  assert.ok(new Set(got).size > 30, 'crypto.randomFillSync, not zeros');
});

test('console output: the transmit queue goes to the sink, with nothing written back', () => {
  const out: number[] = [];
  const con = new VirtioConsole({ sink: { write: (b) => out.push(...b) } });
  const { drv, rings: [, tx], irq } = setup(con, 2);
  assert.equal(drv.probe(), VIRTIO_ID_CONSOLE);
  const m = tx!.add([{ data: new TextEncoder().encode('hello, ') }, { data: new TextEncoder().encode('world\n') }])!;
  drv.notify(1);
  assert.equal(new TextDecoder().decode(Uint8Array.from(out)), 'hello, world\n');
  assert.deepEqual(tx!.takeUsed(), [{ id: m.head, len: 0 }]);
  assert.equal(irq.level, true);
  assert.equal(drv.ack(), VIRTIO_MMIO_INT_VRING);
  assert.equal(con.bytesOut, 13);
});

test('console input waits for receive buffers, fills them in order, and pushes back when full', () => {
  const con = new VirtioConsole({ sink: { write: () => {} }, inputLimit: 8 });
  const { drv, rings: [rx], t } = setup(con, 2, false);
  assert.equal(con.listening(), false, 'no driver yet');
  assert.equal(con.input(new TextEncoder().encode('hello')), 5);
  drv.init(t.state.queues.map((_, i) => (i === 0 ? rx! : new MockDriver(rx!.mem, { base: RAM + 0x2000, size: 8, dataBase: RAM + 0x30000, dataSize: 0x1000 }))));
  assert.equal(con.listening(), true);
  assert.equal(con.queued, 5, 'delivered only once the driver posts buffers');
  const a = rx!.add([{ len: 3 }])!, b = rx!.add([{ len: 8 }])!;
  drv.notify(0);
  assert.deepEqual(rx!.takeUsed(), [{ id: a.head, len: 3 }, { id: b.head, len: 2 }]);
  assert.equal(new TextDecoder().decode(rx!.read(a.buffers[0]!.addr, 3)), 'hel');
  assert.equal(new TextDecoder().decode(rx!.read(b.buffers[0]!.addr, 2)), 'lo');
  assert.equal(con.input(new Uint8Array(20)), 8, 'backpressure: the rest is refused');
  assert.equal(con.canReceive(), false);
  const c = rx!.add([{ len: 16 }])!;
  drv.notify(0);
  assert.deepEqual(rx!.takeUsed(), [{ id: c.head, len: 8 }]);
  assert.equal(con.receive(0x41), true, 'the ConsoleInput shape');
  const d = rx!.add([{ len: 4 }])!;
  drv.notify(0);
  assert.deepEqual(rx!.takeUsed(), [{ id: d.head, len: 1 }]);
  assert.equal(con.bytesIn, 14);
});

test('openConsolePort appends guest output to a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmio-con-'));
  try {
    const p = join(dir, 'console.log');
    const port = openConsolePort(p);
    port.sink.write(new TextEncoder().encode('abc'));
    port.close();
    const again = openConsolePort(p);
    again.sink.write(new TextEncoder().encode('def'));
    again.close();
    assert.equal(readFileSync(p, 'utf8'), 'abcdef');
    assert.throws(() => openConsolePort(join(dir, 'no', 'such', 'file')), /--console-port .*cannot open/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
