// The frame ring: FIFO order and contents survive wrapping, bounds in frames and bytes hold, and a frame is only
// refused when the ring really has no contiguous room for it (checked against a model on random traffic).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameQueue } from '../../../src/backends/net/frame-queue.js';

function frame(len: number, seed: number): Uint8Array {
  const f = new Uint8Array(len);
  for (let i = 0; i < len; i++) f[i] = (seed * 31 + i * 7) & 0xff;
  return f;
}

test('frames come out in order, as copies of what went in', () => {
  const q = new FrameQueue(1000, 8);
  const a = frame(100, 1);
  assert.ok(q.push(a));
  a.fill(0); // the caller reuses its buffer
  assert.ok(q.push(frame(200, 2)));
  assert.equal(q.length, 2);
  assert.equal(q.bytes, 300);
  assert.deepEqual(q.peek(), frame(100, 1));
  q.shift();
  assert.deepEqual(q.peek(), frame(200, 2));
  q.shift();
  assert.equal(q.peek(), null);
  assert.equal(q.bytes, 0);
});

test('bounded in frames and in bytes; a frame larger than the ring is refused', () => {
  const q = new FrameQueue(1000, 3);
  assert.ok(q.push(frame(10, 1)) && q.push(frame(10, 2)) && q.push(frame(10, 3)));
  assert.equal(q.push(frame(10, 4)), false, 'fourth frame over the frame bound');
  const b = new FrameQueue(100, 10);
  assert.equal(b.push(frame(101, 1)), false);
  assert.ok(b.push(frame(60, 1)));
  assert.equal(b.push(frame(41, 2)), false, 'over the byte bound');
  assert.ok(b.push(frame(40, 3)));
});

test('wraps to the start of the ring when the oldest frame has left room there', () => {
  const q = new FrameQueue(100, 10);
  assert.ok(q.push(frame(40, 1)));
  assert.ok(q.push(frame(40, 2)));
  q.shift(); // room 0..40 at the start, 20 at the end
  assert.ok(q.push(frame(30, 3)), 'placed at the start');
  assert.equal(q.push(frame(15, 4)), false, 'only 10 free between the wrapped frame and the oldest');
  assert.ok(q.push(frame(10, 5)));
  assert.deepEqual([q.peek()], [frame(40, 2)]);
  q.shift();
  assert.deepEqual(q.peek(), frame(30, 3));
  q.shift();
  assert.deepEqual(q.peek(), frame(10, 5));
  q.shift();
  assert.equal(q.length, 0);
});

test('random traffic: contents and order match a model; refusals only when room is really short', () => {
  let seed = 12345;
  const rnd = (n: number): number => { seed = (seed * 1103515245 + 12345) >>> 0; return (seed >>> 8) % n; };
  const cap = 4096;
  const maxLen = 600;
  const q = new FrameQueue(cap, 32);
  const model: Uint8Array[] = [];
  let held = 0;
  for (let step = 0; step < 20000; step++) {
    if (rnd(3) !== 0) {
      const len = 1 + rnd(maxLen);
      const f = frame(len, step);
      const ok = q.push(f);
      if (ok) { model.push(f); held += len; }
      else {
        // The free space is in at most two runs plus a skipped tail shorter than the largest frame.
        assert.ok(model.length === 32 || 2 * len + maxLen > cap - held, `refused ${len} bytes with ${held} held, ${model.length} frames`);
      }
    } else if (model.length > 0) {
      assert.deepEqual(q.peek(), model[0]);
      q.shift();
      held -= model.shift()!.length;
    }
    assert.equal(q.length, model.length);
    assert.equal(q.bytes, held);
  }
});
