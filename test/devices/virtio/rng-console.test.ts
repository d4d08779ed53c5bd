// virtio-rng (§5.4) and virtio-console (§5.3: the single console port, and MULTIPORT's control protocol) over
// virtio-mmio with the mock driver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingLine } from '../../../src/board/testing/recorders.js';
import { VIRTIO_ID_CONSOLE } from '../../../src/devices/virtio/constants.js';
import {
  VIRTIO_CONSOLE_CONSOLE_PORT, VIRTIO_CONSOLE_DEVICE_ADD, VIRTIO_CONSOLE_DEVICE_READY, VIRTIO_CONSOLE_F_MULTIPORT, VIRTIO_CONSOLE_PORT_NAME,
  VIRTIO_CONSOLE_PORT_OPEN, VIRTIO_CONSOLE_PORT_READY, VirtioConsole, openConsolePort, readConsoleInput,
} from '../../../src/devices/virtio/console.js';
import type { VirtioDevice } from '../../../src/devices/virtio/device.js';
import { VIRTIO_MMIO_INT_VRING, VirtioMmioTransport } from '../../../src/devices/virtio/mmio.js';
import { VirtioRng } from '../../../src/devices/virtio/rng.js';
import { MockDriver } from '../../../src/devices/virtio/testing/mock-driver.js';
import { MockMmioDriver } from '../../../src/devices/virtio/testing/mmio-driver.js';
import { makeGuest } from '../../../src/devices/virtio/testing/watched-dma.js';

const RAM = 0x8000_0000;
/** A driver that does not accept VIRTIO_CONSOLE_F_MULTIPORT: port 0 is the console port from the start (§5.3.6). */
const noMultiport = (o: bigint): bigint => o & ~(1n << BigInt(VIRTIO_CONSOLE_F_MULTIPORT));

function setup(dev: VirtioDevice, queues: number, init = true, accept?: (offered: bigint) => bigint) {
  const g = makeGuest(1 << 20, RAM);
  const irq = new RecordingLine();
  const t = new VirtioMmioTransport(dev, { irq, dma: g.dma });
  const drv = new MockMmioDriver(t);
  const rings = Array.from({ length: queues }, (_, i) => new MockDriver(g.ram, { base: RAM + i * 0x2000, size: 8, dataBase: RAM + 0x10000 + i * 0x10000, dataSize: 0x10000 }));
  if (init) drv.init(rings, accept);
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
  const { drv, rings: [, tx], irq } = setup(con, 2, true, noMultiport);
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
  drv.init(t.state.queues.map((_, i) => (i === 0 ? rx! : new MockDriver(rx!.mem, { base: RAM + 0x2000 * i, size: 8, dataBase: RAM + 0x30000 + 0x1000 * i, dataSize: 0x1000 }))), noMultiport);
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

/** struct virtio_console_control as bytes. */
function ctl(id: number, event: number, value: number): Uint8Array {
  const m = new Uint8Array(8);
  const v = new DataView(m.buffer);
  v.setUint32(0, id, true); v.setUint16(4, event, true); v.setUint16(6, value, true);
  return m;
}

/** What Linux's virtcons_probe does with MULTIPORT: control receive buffers first, then DEVICE_READY. */
function multiportSetup(con: VirtioConsole) {
  const s = setup(con, 4);
  const [, , crx, ctx] = s.rings;
  const posted = Array.from({ length: 4 }, () => crx!.add([{ len: 64 }])!);
  s.drv.notify(2);
  const sendCtl = (id: number, event: number, value: number) => { ctx!.add([{ data: ctl(id, event, value) }]); s.drv.notify(3); ctx!.takeUsed(); };
  /** The control messages the device sent since the last call, as [id, event, value, extra text]. */
  const received = (): [number, number, number, string][] => crx!.takeUsed().map((u) => {
    const chain = posted.find((p) => p.head === u.id)!;
    const b = crx!.read(chain.buffers[0]!.addr, u.len);
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    posted.push(crx!.add([{ len: 64 }])!);
    s.drv.notify(2);
    return [v.getUint32(0, true), v.getUint16(4, true), v.getUint16(6, true), new TextDecoder().decode(b.subarray(8))];
  });
  return { ...s, sendCtl, received };
}

test('multiport: the control handshake adds port 0 as the console port, and input flows once it is set up', () => {
  const con = new VirtioConsole({ sink: { write: () => {} } });
  const { rings: [rx], drv, sendCtl, received } = multiportSetup(con);
  assert.equal(drv.config(4, 4), 1, 'max_nr_ports');
  assert.equal(con.input(new TextEncoder().encode('early')), 5);
  const r = rx!.add([{ len: 16 }])!;
  drv.notify(0);
  assert.deepEqual(rx!.takeUsed(), [], 'nothing before the port exists');
  sendCtl(0xffff_ffff, VIRTIO_CONSOLE_DEVICE_READY, 1);
  assert.deepEqual(received(), [[0, VIRTIO_CONSOLE_DEVICE_ADD, 0, '']]);
  sendCtl(0, VIRTIO_CONSOLE_PORT_READY, 1);
  assert.deepEqual(received(), [[0, VIRTIO_CONSOLE_CONSOLE_PORT, 1, ''], [0, VIRTIO_CONSOLE_PORT_OPEN, 1, '']]);
  sendCtl(0, VIRTIO_CONSOLE_PORT_OPEN, 1); // init_port_console() opens it
  assert.deepEqual(rx!.takeUsed(), [{ id: r.head, len: 5 }]);
  assert.equal(new TextDecoder().decode(rx!.read(r.buffers[0]!.addr, 5)), 'early');
  assert.deepEqual(con.report(), { bytesOut: 0, bytesIn: 5, guestOpen: true, hostOpen: true, controlIn: 3, controlOut: 3, controlIgnored: 0 });
});

test('multiport: a named port gets its name, holds input until the guest opens it, and closes the host end after a finite input', () => {
  const con = new VirtioConsole({ sink: { write: () => {} }, portName: 'org.vmio.data', input: new TextEncoder().encode('0123456789'), closeAfterInput: true });
  const { rings: [rx], drv, sendCtl, received } = multiportSetup(con);
  sendCtl(0xffff_ffff, VIRTIO_CONSOLE_DEVICE_READY, 1);
  sendCtl(0, VIRTIO_CONSOLE_PORT_READY, 1);
  assert.deepEqual(received(), [[0, VIRTIO_CONSOLE_DEVICE_ADD, 0, ''], [0, VIRTIO_CONSOLE_PORT_NAME, 0, 'org.vmio.data'], [0, VIRTIO_CONSOLE_PORT_OPEN, 1, '']]);
  const a = rx!.add([{ len: 4 }])!;
  drv.notify(0);
  assert.deepEqual(rx!.takeUsed(), [], 'Linux discards what reaches a generic port nobody has open: hold it');
  assert.equal(con.listening(), false);
  sendCtl(0, VIRTIO_CONSOLE_PORT_OPEN, 1);
  assert.deepEqual(rx!.takeUsed(), [{ id: a.head, len: 4 }]);
  assert.deepEqual(received(), [], 'input left: the host end stays open');
  const b = rx!.add([{ len: 64 }])!;
  drv.notify(0);
  assert.deepEqual(rx!.takeUsed(), [{ id: b.head, len: 6 }]);
  assert.equal(new TextDecoder().decode(rx!.read(b.buffers[0]!.addr, 6)), '456789');
  assert.deepEqual(received(), [[0, VIRTIO_CONSOLE_PORT_OPEN, 0, '']], 'all delivered: the host end closes (the reader sees EOF)');
  assert.equal(con.queued, 0);
  sendCtl(0, VIRTIO_CONSOLE_PORT_OPEN, 0);
  assert.equal(con.guestOpen, false);
});

test('multiport: a hostile driver — short, unknown and out-of-range control messages are counted, a tiny control buffer breaks the device', () => {
  const con = new VirtioConsole({ sink: { write: () => {} } });
  const { rings: [, , crx, ctx], drv, t, sendCtl, received } = multiportSetup(con);
  ctx!.add([{ data: new Uint8Array(3) }]);
  drv.notify(3);
  sendCtl(7, VIRTIO_CONSOLE_PORT_READY, 1); // no such port
  sendCtl(0, 0x7777, 1);
  sendCtl(0, VIRTIO_CONSOLE_PORT_OPEN, 1); // before the port is ready
  assert.equal(con.controlIgnored, 4);
  assert.equal(con.guestOpen, false);
  assert.deepEqual(received(), []);
  for (let i = 0; i < 40; i++) sendCtl(0xffff_ffff, VIRTIO_CONSOLE_DEVICE_READY, 1);
  assert.ok(received().length <= 40, 'the replies are bounded by the buffers posted and the outbox');
  assert.equal(t.state.failure, null);
  crx!.takeUsed();
  // Linux posts PAGE_SIZE buffers; one shorter than a control header cannot hold a message.
  crx!.add([{ len: 4 }]);
  drv.notify(2);
  sendCtl(0xffff_ffff, VIRTIO_CONSOLE_DEVICE_READY, 1);
  assert.match(t.state.failure ?? '', /smaller than a control message/);
});

test('readConsoleInput: a missing file is one line naming it', () => {
  assert.throws(() => readConsoleInput('/no/such/input.txt'), /^Error: --console-port in=\/no\/such\/input.txt: cannot read it/);
});
