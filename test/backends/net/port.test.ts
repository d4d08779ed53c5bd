// The NIC's port: frames from a backend reach the NIC only through the EventSource calls the scheduler makes
// (deliver, onRound), only while the NIC can take them, through a bounded queue whose overflow is counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NicPort, NullBackend } from '../../../src/backends/net/port.js';
import { RecordingNic, ScriptedBackend, ethFrame, mac } from '../../../src/backends/net/testing/frames.js';

const A = mac('52:54:00:00:00:0a');
const B = mac('52:54:00:00:00:0b');
const f = (n: number, len = 60): Uint8Array => { const p = new Uint8Array(len - 14); p[0] = n; return ethFrame(A, B, 0x88b5, p); };

function setup(opts: { queueFrames?: number; deterministic?: boolean } = {}) {
  const backend = new ScriptedBackend();
  const nic = new RecordingNic();
  const port = new NicPort(backend, nic, { deterministic: opts.deterministic ?? true, ...(opts.queueFrames === undefined ? {} : { queueFrames: opts.queueFrames }) });
  return { backend, nic, port };
}

test('a frame from outside waits in the queue until the scheduler delivers it', () => {
  const { backend, nic, port } = setup();
  backend.inject(f(1));
  assert.equal(nic.frames.length, 0, 'not handed over when it arrived');
  assert.equal(port.queued, 1);
  assert.ok(port.ready());
  port.deliver();
  assert.equal(nic.frames.length, 1);
  assert.deepEqual(nic.frames[0], f(1), 'a copy of the frame, not the backend\'s reused buffer');
  backend.inject(f(2));
  port.onRound(7);
  assert.equal(nic.frames.length, 2, 'onRound delivers too');
  assert.deepEqual(port.counters.toJSON(), { txFrames: 0, txBytes: 0, txDropped: 0, rxFrames: 2, rxBytes: 120, rxDropped: 0 });
});

test('backpressure: nothing is handed to a NIC that cannot take it; frames wait in order', () => {
  const { backend, nic, port } = setup();
  nic.accepting = false;
  for (let i = 0; i < 5; i++) backend.inject(f(i));
  assert.equal(port.ready(), false, 'not ready while the NIC has no buffers');
  port.deliver();
  port.onRound(1);
  assert.equal(nic.frames.length, 0);
  nic.accepting = true;
  nic.capacity = 2;
  port.deliver();
  assert.deepEqual(nic.frames.map((x) => x[14]), [0, 1], 'stops when the NIC is full');
  nic.capacity = Infinity;
  port.deliver();
  assert.deepEqual(nic.frames.map((x) => x[14]), [0, 1, 2, 3, 4]);
});

test('the queue is bounded; overflow, runts, giants and frames the NIC refuses are counted as rx drops', () => {
  const { backend, nic, port } = setup({ queueFrames: 4 });
  nic.accepting = false;
  for (let i = 0; i < 10; i++) backend.inject(f(i));
  assert.equal(port.queued, 4);
  assert.equal(port.counters.rxDropped, 6);
  backend.inject(new Uint8Array(13));
  backend.inject(new Uint8Array(65536));
  assert.equal(port.counters.rxDropped, 8);
  nic.accepting = true;
  nic.maxLength = 59;
  port.deliver();
  assert.equal(nic.frames.length, 0);
  assert.equal(port.counters.rxDropped, 12, 'refused by the NIC');
  assert.equal(port.queued, 0, 'a refused frame is consumed, not retried forever');
});

test('what the NIC sends goes to the backend at once and is counted; link down drops it', () => {
  const { backend, port } = setup();
  port.send(f(1, 100));
  assert.equal(backend.sent.length, 1);
  assert.equal(port.counters.txFrames, 1);
  assert.equal(port.counters.txBytes, 100);
  backend.linkUp = false;
  assert.equal(port.linkUp, false);
  port.send(f(2));
  port.send(new Uint8Array(10));
  assert.equal(backend.sent.length, 1);
  assert.equal(port.counters.txDropped, 2);
});

test('one backend serves one NIC', () => {
  const { backend } = setup();
  assert.throws(() => new NicPort(backend, new RecordingNic(), { deterministic: true }), /already has a receiver/);
});

test('wait() resolves when a frame arrives, and after its timeout otherwise', async () => {
  const { backend, port } = setup();
  await port.wait(30); // resolves by its timeout: nothing arrived
  assert.equal(port.queued, 0);
  const w1 = port.wait(60_000);
  const w2 = port.wait(60_000);
  setImmediate(() => backend.inject(f(1)));
  await Promise.all([w1, w2]);
  assert.equal(port.queued, 1);
  await port.wait(60_000); // resolves at once: something is queued
});

test('awaitBeforeSkip: once after the NIC sent through a live backend, never for a backend nothing comes from', () => {
  const { backend, port } = setup();
  assert.equal(port.awaitBeforeSkip(), false, 'nothing sent yet');
  port.send(f(1));
  assert.equal(port.awaitBeforeSkip(), true);
  assert.equal(port.awaitBeforeSkip(), false, 'once per burst');
  port.send(f(2));
  backend.live = false;
  assert.equal(port.awaitBeforeSkip(), false, 'nothing can come back');
  const realtime = setup({ deterministic: false });
  realtime.port.send(f(1));
  assert.equal(realtime.port.awaitBeforeSkip(), false, 'the realtime scheduler does not skip time');
});

test('close detaches: later frames are not queued, waiters are released, the backend can take another NIC', async () => {
  const { backend, port } = setup();
  const w = port.wait(60_000);
  port.close();
  await w;
  assert.equal(backend.onFrame, null);
  assert.equal(port.live(), false);
  const again = new NicPort(backend, new RecordingNic(), { deterministic: true });
  backend.inject(f(1));
  assert.equal(again.queued, 1);
});

test('none: no carrier, sends dropped and counted, nothing live', () => {
  const nic = new RecordingNic();
  const port = new NicPort(new NullBackend(), nic, { deterministic: true });
  assert.equal(port.linkUp, false);
  assert.equal(port.live(), false);
  port.send(f(1));
  assert.equal(port.counters.txDropped, 1);
});

test('deliver hands over only the frames queued before it was called', () => {
  const { backend, nic, port } = setup();
  backend.inject(f(1));
  // A NIC whose receive makes another frame arrive (a reflector): each deliver() must still end.
  const reflect = nic.receive.bind(nic);
  nic.receive = (frame) => { backend.inject(f(frame[14]! + 1)); return reflect(frame); };
  port.deliver();
  assert.equal(nic.frames.length, 1);
  assert.equal(port.queued, 1);
  port.deliver();
  assert.deepEqual(nic.frames.map((x) => x[14]), [1, 2]);
});
