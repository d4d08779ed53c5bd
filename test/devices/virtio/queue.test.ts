// Split virtqueue (virtio 1.2 §2.7) with the mock driver: chains in and out, indirect tables, 16-bit wrap-around,
// EVENT_IDX both ways, and each hostile ring ending in its own QueueError — never a throw, never a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SplitQueue } from '../../../src/devices/virtio/queue.js';
import { QueueError } from '../../../src/devices/virtio/queue-error.js';
import { DescriptorChain } from '../../../src/devices/virtio/chain.js';
import { MockDriver } from '../../../src/devices/virtio/testing/mock-driver.js';
import { makeGuest } from '../../../src/devices/virtio/testing/watched-dma.js';
import { VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE } from '../../../src/devices/virtio/constants.js';

const RAM = 0x8000_0000;

function setup(size = 8, opts: { eventIdx?: boolean; indirect?: boolean } = {}) {
  const g = makeGuest(1 << 20, RAM);
  const q = new SplitQueue(0, size);
  q.indirectDesc = opts.indirect ?? true;
  const drv = new MockDriver(g.ram, { base: RAM, size, dataBase: RAM + 0x10000, dataSize: 0x80000, eventIdx: opts.eventIdx ?? false });
  drv.attach(q);
  return { ...g, q, drv };
}

function popChain(q: SplitQueue, dma: Parameters<SplitQueue['pop']>[0]): DescriptorChain {
  const c = q.pop(dma);
  if (!(c instanceof DescriptorChain)) assert.fail(`expected a chain, got ${c === null ? 'null' : c.message}`);
  return c;
}

function popError(q: SplitQueue, dma: Parameters<SplitQueue['pop']>[0]): QueueError {
  const c = q.pop(dma);
  if (!(c instanceof QueueError)) assert.fail(`expected a QueueError, got ${c === null ? 'null' : 'a chain'}`);
  return c;
}

test('a direct chain: readable then writable buffers, copied both ways, returned in the used ring', () => {
  const { q, drv, dma } = setup();
  assert.equal(q.pop(dma), null, 'nothing available yet');
  const m = drv.add([{ data: new Uint8Array([1, 2, 3]) }, { data: new Uint8Array([4, 5]) }, { len: 4 }])!;
  const c = popChain(q, dma);
  assert.equal(c.head, m.head);
  assert.equal(c.count, 3);
  assert.equal(c.readable, 2);
  assert.equal(c.readableBytes, 5);
  assert.equal(c.writableBytes, 4);
  assert.equal(c.addr(2), m.buffers[2]!.addr);
  const got = new Uint8Array(6);
  assert.equal(q.read(dma, c, 1, got), 4, 'reads stop at the end of the readable part');
  assert.deepEqual([...got.subarray(0, 4)], [2, 3, 4, 5]);
  assert.equal(q.write(dma, c, 0, new Uint8Array([9, 8, 7, 6, 5])), 4, 'writes stop at the end of the writable part');
  assert.equal(q.push(dma, c.head, 4), null);
  assert.deepEqual(drv.takeUsed(), [{ id: m.head, len: 4 }]);
  assert.deepEqual([...drv.read(m.buffers[2]!.addr, 4)], [9, 8, 7, 6]);
  assert.equal(q.pop(dma), null);
  assert.equal(q.counters.chains, 1);
  assert.equal(q.counters.descriptors, 3);
  assert.equal(q.counters.bytesRead, 4);
  assert.equal(q.counters.bytesWritten, 4);
});

test('an indirect chain is walked through its table; without the feature it breaks the queue', () => {
  const { q, drv, dma } = setup();
  const m = drv.add([{ data: new Uint8Array([7]) }, { len: 8 }, { len: 8 }], { indirect: true })!;
  const c = popChain(q, dma);
  assert.equal(c.indirect, true);
  assert.equal(c.count, 3);
  assert.equal(c.descriptors, 4, 'the table pointer plus three buffers');
  assert.equal(c.addr(1), m.buffers[1]!.addr);
  q.push(dma, c.head, 0);
  q.indirectDesc = false;
  drv.add([{ len: 8 }], { indirect: true });
  assert.equal(popError(q, dma).code, 'indirect-not-negotiated');
});

test('indices wrap at 2^16 on both rings', () => {
  const { q, drv, dma } = setup(4);
  drv.startAt(0xfffe);
  q.restoreIndices(0xfffe, 0xfffe);
  for (let n = 0; n < 6; n++) {
    const m = drv.add([{ len: 16 }])!;
    const c = popChain(q, dma);
    assert.equal(c.head, m.head);
    q.push(dma, c.head, n);
    assert.deepEqual(drv.takeUsed(), [{ id: m.head, len: n }]);
  }
  assert.equal(q.nextAvail, 4);
  assert.equal(drv.usedIdx, 4);
});

test('EVENT_IDX: the device interrupts only when used.idx passes used_event, and publishes avail_event', () => {
  const { q, drv, dma } = setup(8, { eventIdx: true });
  drv.usedEvent = 2; // interrupt me when the third buffer is used
  for (let n = 0; n < 3; n++) drv.add([{ len: 1 }]);
  const wants: boolean[] = [];
  for (let n = 0; n < 3; n++) { const c = popChain(q, dma); q.push(dma, c.head, 1); wants.push(q.needsInterrupt(dma)); }
  assert.deepEqual(wants, [false, false, true]);
  assert.equal(q.counters.interrupts, 1);
  assert.equal(q.counters.interruptsSuppressed, 2);
  assert.equal(q.needsInterrupt(dma), false, 'nothing new since the last decision');
  // Two chains arrived with one notification: the second did not need one of its own.
  assert.equal(q.counters.notifySuppressed, 2);
  assert.equal(q.enableNotification(dma), false);
  assert.equal(drv.availEvent, 3, 'avail_event: notify me when you make entry 3 available');
  assert.equal(drv.add([{ len: 1 }], { defer: true }) !== null, true);
  assert.equal(drv.publish(), true, 'crossing avail_event needs a notification');
  drv.add([{ len: 1 }], { defer: true });
  assert.equal(drv.publish(), false, 'the device has not caught up: no notification needed');
  assert.equal(q.enableNotification(dma), true, 'the re-check sees the new chains');
});

test('without EVENT_IDX, VIRTQ_AVAIL_F_NO_INTERRUPT suppresses interrupts', () => {
  const { q, drv, dma } = setup();
  drv.noInterrupt = true;
  drv.add([{ len: 1 }]);
  q.push(dma, popChain(q, dma).head, 0);
  assert.equal(q.needsInterrupt(dma), false);
  drv.noInterrupt = false;
  drv.add([{ len: 1 }]);
  q.push(dma, popChain(q, dma).head, 0);
  assert.equal(q.needsInterrupt(dma), true);
});

test('enable() refuses sizes that are not powers of two or too large, and misaligned rings', () => {
  const q = new SplitQueue(0, 256);
  q.size = 100;
  assert.equal(q.enable()?.code, 'bad-size');
  const q2 = new SplitQueue(0, 256);
  q2.size = 512;
  assert.equal(q2.enable()?.code, 'bad-size');
  const q3 = new SplitQueue(0, 256);
  q3.desc = 0x8000_0008n;
  assert.equal(q3.enable()?.code, 'bad-address');
  const q4 = new SplitQueue(0, 256);
  q4.device = 1n << 60n;
  assert.equal(q4.enable()?.code, 'bad-address', 'not an exact bus address');
  assert.throws(() => new SplitQueue(0, 3), /power of two/);
});

// Hostile rings: each ends in its own error, the queue stays broken, nothing is written to the used ring.
const hostile: { name: string; code: string; ring: (d: MockDriver) => void }[] = [
  { name: 'a cyclic chain', code: 'chain-too-long', ring: (d) => { d.writeDesc(d.desc, 0, RAM + 0x10000, 4, VIRTQ_DESC_F_NEXT, 1); d.writeDesc(d.desc, 1, RAM + 0x10000, 4, VIRTQ_DESC_F_NEXT, 0); } },
  { name: 'a self loop', code: 'chain-too-long', ring: (d) => d.writeDesc(d.desc, 0, RAM + 0x10000, 0, VIRTQ_DESC_F_NEXT, 0) },
  { name: 'a cycle inside an indirect table', code: 'chain-too-long', ring: (d) => { const t = RAM + 0x20000; d.writeDesc(t, 0, RAM, 1, VIRTQ_DESC_F_NEXT, 1); d.writeDesc(t, 1, RAM, 1, VIRTQ_DESC_F_NEXT, 0); d.writeDesc(d.desc, 0, t, 32, VIRTQ_DESC_F_INDIRECT, 0); } },
  { name: 'next past the table', code: 'next-out-of-range', ring: (d) => d.writeDesc(d.desc, 0, RAM, 4, VIRTQ_DESC_F_NEXT, 8) },
  { name: 'next past an indirect table', code: 'next-out-of-range', ring: (d) => { const t = RAM + 0x20000; d.writeDesc(t, 0, RAM, 1, VIRTQ_DESC_F_NEXT, 2); d.writeDesc(d.desc, 0, t, 32, VIRTQ_DESC_F_INDIRECT, 0); } },
  { name: 'a buffer outside any bus address', code: 'descriptor-address', ring: (d) => d.writeDesc(d.desc, 0, 1n << 60n, 4, 0, 0) },
  { name: 'a buffer whose end wraps', code: 'descriptor-address', ring: (d) => d.writeDesc(d.desc, 0, 2 ** 53 - 2, 16, 0, 0) },
  { name: 'lengths adding up to 2^32', code: 'chain-length-overflow', ring: (d) => { d.writeDesc(d.desc, 0, RAM, 0xffff_fff0, VIRTQ_DESC_F_NEXT, 1); d.writeDesc(d.desc, 1, RAM, 0x10, 0, 0); } },
  { name: 'an empty indirect table', code: 'indirect-empty', ring: (d) => d.writeDesc(d.desc, 0, RAM + 0x20000, 0, VIRTQ_DESC_F_INDIRECT, 0) },
  { name: 'an indirect table of 17 bytes', code: 'indirect-bad-length', ring: (d) => d.writeDesc(d.desc, 0, RAM + 0x20000, 17, VIRTQ_DESC_F_INDIRECT, 0) },
  { name: 'indirect within indirect', code: 'indirect-in-indirect', ring: (d) => { const t = RAM + 0x20000; d.writeDesc(t, 0, t, 16, VIRTQ_DESC_F_INDIRECT, 0); d.writeDesc(d.desc, 0, t, 16, VIRTQ_DESC_F_INDIRECT, 0); } },
  { name: 'INDIRECT with NEXT', code: 'indirect-with-next', ring: (d) => d.writeDesc(d.desc, 0, RAM + 0x20000, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1) },
  { name: 'an indirect table outside RAM', code: 'descriptor-fault', ring: (d) => d.writeDesc(d.desc, 0, 0x1000, 16, VIRTQ_DESC_F_INDIRECT, 0) },
  { name: 'readable after writable', code: 'readable-after-writable', ring: (d) => { d.writeDesc(d.desc, 0, RAM, 4, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1); d.writeDesc(d.desc, 1, RAM, 4, 0, 0); } },
];

for (const h of hostile) {
  test(`hostile ring: ${h.name} → ${h.code}`, () => {
    const { q, drv, dma } = setup();
    h.ring(drv);
    drv.putAvail(0);
    drv.publish();
    const err = popError(q, dma);
    assert.equal(err.code, h.code, err.message);
    assert.match(err.message, /needs a reset/);
    assert.equal(q.pop(dma), err, 'the queue stays broken');
    assert.equal(q.push(dma, 0, 0), err);
    assert.equal(drv.usedIdx, 0, 'nothing was returned');
    assert.equal(dma.writes.length, 0, 'the device wrote nothing');
    assert.equal(dma.outside.length, 0);
  });
}

test('hostile ring: a head past the table, and avail.idx jumping more than the queue size', () => {
  const a = setup();
  a.drv.putAvail(8);
  a.drv.publish();
  assert.equal(popError(a.q, a.dma).code, 'head-out-of-range');
  const b = setup();
  b.drv.setAvailIdx(9);
  assert.equal(popError(b.q, b.dma).code, 'avail-idx-jump');
});

test('a chain longer than the queue size is refused even through an indirect table', () => {
  const { q, drv, dma } = setup(4);
  const t = RAM + 0x20000;
  for (let i = 0; i < 5; i++) drv.writeDesc(t, i, RAM + 0x10000, 1, i < 4 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
  drv.writeDesc(drv.desc, 0, t, 5 * 16, VIRTQ_DESC_F_INDIRECT, 0);
  drv.putAvail(0);
  drv.publish();
  assert.equal(popError(q, dma).code, 'chain-too-long');
});

test('a buffer address the DmaSpace refuses breaks the queue when the device copies', () => {
  const { q, drv, dma } = setup();
  drv.writeDesc(drv.desc, 0, 0x1000, 4, VIRTQ_DESC_F_WRITE, 0);
  drv.putAvail(0);
  drv.publish();
  const c = popChain(q, dma);
  assert.ok(q.write(dma, c, 0, new Uint8Array(4)) < 0);
  assert.equal(q.error?.code, 'buffer-fault');
  assert.equal(dma.outside.length, 0);
});

test('pushing more than was popped is refused', () => {
  const { q, dma } = setup();
  assert.equal(q.push(dma, 0, 0)?.code, 'used-without-pop');
});

test('copies in chunks resume where the last one ended, and an offset going back starts over', () => {
  const { q, drv, dma } = setup(16);
  const parts = [5, 1, 0, 17, 3, 40].map((n, k) => Uint8Array.from({ length: n }, (_, i) => (k * 50 + i) & 0xff));
  const all = Uint8Array.from(parts.flatMap((p) => [...p]));
  const m = drv.add([...parts.map((data) => ({ data })), { len: 7 }, { len: 9 }])!;
  const c = popChain(q, dma);
  for (const chunk of [1, 2, 3, 7, 11]) {
    const got: number[] = [];
    for (let off = 0; off < all.length; off += chunk) {
      const b = new Uint8Array(Math.min(chunk, all.length - off));
      assert.equal(q.read(dma, c, off, b), b.length);
      got.push(...b);
    }
    assert.deepEqual(Uint8Array.from(got), all, `chunks of ${chunk}`);
  }
  const back = new Uint8Array(4);
  q.read(dma, c, 3, back);
  assert.deepEqual(back, all.subarray(3, 7));
  const w = Uint8Array.from({ length: 16 }, (_, i) => 100 + i);
  for (let off = 0; off < 16; off += 5) assert.equal(q.write(dma, c, off, w.subarray(off, Math.min(16, off + 5))), Math.min(5, 16 - off));
  assert.equal(q.counters.bytesWritten, 16);
  assert.deepEqual([...drv.read(m.buffers[6]!.addr, 7), ...drv.read(m.buffers[7]!.addr, 9)], [...w]);
});
