// Property tests with a seeded PRNG, through the bus, the virtio-mmio transport and an echo device:
// well-formed random chains (direct and indirect, wrap-around, EVENT_IDX on and off, random used_event) are all
// used with the right data, interrupts match an independent model of the suppression rules, no kick is lost, and
// the device writes only the used ring and writable buffers. Hostile rings never throw, never hang, never reach
// outside RAM, and the mutations the walk must catch leave the device DEVICE_NEEDS_RESET; a reset recovers it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordingLine } from '../../../src/board/testing/recorders.js';
import { VIRTIO_CONFIG_S_NEEDS_RESET, VIRTIO_RING_F_EVENT_IDX, feature, virtqUsedBytes } from '../../../src/devices/virtio/constants.js';
import { VIRTIO_MMIO_INT_VRING, VirtioMmioTransport, virtioMmioRegion } from '../../../src/devices/virtio/mmio.js';
import { EchoDevice } from '../../../src/devices/virtio/testing/echo-device.js';
import { MUTATIONS, mutate, randomChain } from '../../../src/devices/virtio/testing/hostile.js';
import { MockDriver, type MockChain } from '../../../src/devices/virtio/testing/mock-driver.js';
import { MockMmioDriver } from '../../../src/devices/virtio/testing/mmio-driver.js';
import { Prng } from '../../../src/devices/virtio/testing/prng.js';
import { makeGuest } from '../../../src/devices/virtio/testing/watched-dma.js';

const RAM = 0x8000_0000;
const RAM_SIZE = 1 << 21;
const BASE = 0x1000_1000;

function setup(rng: Prng, eventIdx: boolean) {
  const g = makeGuest(RAM_SIZE, RAM);
  const size = 1 << rng.range(0, 8);
  const dev = new EchoDevice([256]);
  const t = new VirtioMmioTransport(dev, { irq: new RecordingLine(), dma: g.dma });
  g.bus.addRegion(virtioMmioRegion('virtio0', BASE, t));
  const mmio = new MockMmioDriver({ read: (o, w) => g.bus.mmioRead(BASE + o, w)!, write: (o, w, v) => { g.bus.mmioWrite(BASE + o, w, v); } });
  const newRing = () => new MockDriver(g.ram, { base: RAM, size, dataBase: RAM + 0x100000, dataSize: 0x100000, eventIdx });
  const accept = (o: bigint) => (eventIdx ? o : o & ~feature(VIRTIO_RING_F_EVENT_IDX));
  const ring = newRing();
  mmio.init([ring], accept);
  return { ...g, t, mmio, ring, size, newRing, accept };
}

/** Whether used.idx moving from `old` to `now` passed `event`, by walking the indices (not vring_need_event). */
function crossed(event: number, now: number, old: number): boolean {
  for (let i = old; i !== now; i = (i + 1) & 0xffff) if (i === event) return true;
  return false;
}

test('property: random well-formed chains are used exactly, interrupts follow the suppression rules, no kick is lost', () => {
  for (let seed = 1; seed <= 60; seed++) {
    const rng = new Prng(seed);
    const eventIdx = rng.chance(0.5);
    const { ring, mmio, dma, ram, size, metrics, t } = setup(rng, eventIdx);
    const q = t.state.queues[0]!;
    if (rng.chance(0.5)) { const start = (0x10000 - rng.range(0, 2 * size)) & 0xffff; ring.startAt(start); q.restoreIndices(start, start); }
    for (let round = 0; round < 20; round++) {
      dma.clear();
      const chains: MockChain[] = [];
      let kick = false;
      const n = rng.range(1, Math.max(1, ring.freeDescriptors));
      for (let i = 0; i < n; i++) {
        const c = randomChain(rng, ring, { maxSegs: Math.min(4, size), maxLen: 300, indirect: 0.3 }, true);
        if (c === null) break;
        chains.push(c);
        if (rng.chance(0.5)) kick = ring.publish() || kick;
      }
      kick = ring.publish() || kick;
      const old = ring.usedIdx;
      const usedEvent = (old + rng.range(0, chains.length + 1)) & 0xffff;
      const noInterrupt = rng.chance(0.2);
      if (eventIdx) ring.usedEvent = usedEvent; else ring.noInterrupt = noInterrupt;
      if (kick) mmio.notify(0);
      const tag = `seed ${seed} round ${round}`;
      assert.equal(ring.usedIdx, ring.availIdx, `${tag}: every published chain was used (no lost notification)`);
      const used = ring.takeUsed();
      assert.deepEqual(used.map((u) => u.id), chains.map((c) => c.head), tag);
      for (const [k, c] of chains.entries()) {
        const r = c.buffers.filter((b) => !b.write), w = c.buffers.filter((b) => b.write);
        const input = Uint8Array.from(r.flatMap((b) => [...ram.slice(b.addr, b.len)]));
        const output = Uint8Array.from(w.flatMap((b) => [...ram.slice(b.addr, b.len)]));
        const len = Math.min(input.length, output.length);
        assert.equal(used[k]!.len, len, tag);
        assert.deepEqual(output.subarray(0, len), input.subarray(0, len), `${tag}: echoed data`);
      }
      const want = eventIdx ? crossed(usedEvent, ring.usedIdx, old) : !noInterrupt && chains.length > 0;
      assert.equal((mmio.ack() & VIRTIO_MMIO_INT_VRING) !== 0, want, `${tag}: interrupt`);
      const allowed = [{ addr: ring.used, len: virtqUsedBytes(size) }, ...chains.flatMap((c) => c.buffers.filter((b) => b.write))];
      for (const a of dma.writes) {
        assert.ok(allowed.some((b) => a.addr >= b.addr && a.addr + a.len <= b.addr + b.len), `${tag}: a write at 0x${a.addr.toString(16)}+${a.len} outside the used ring and writable buffers`);
      }
    }
    assert.equal(mmio.status & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
    assert.equal(dma.outside.length, 0);
    assert.deepEqual(metrics.failures, []);
  }
});

test('property: hostile rings never throw, never hang, never reach outside RAM, and the walk\'s catches reset the device', () => {
  const seen = new Map<string, number>();
  for (let seed = 1000; seed < 1400; seed++) {
    const rng = new Prng(seed);
    const { ring, mmio, dma, metrics, t, newRing, accept } = setup(rng, rng.chance(0.5));
    const chains: MockChain[] = [];
    const n = rng.range(1, Math.min(4, ring.size));
    for (let i = 0; i < n; i++) { const c = randomChain(rng, ring, { maxSegs: Math.min(4, ring.size), maxLen: 64, indirect: 0.4 }); if (c !== null) chains.push(c); }
    const m = rng.pick(MUTATIONS);
    const mustBreak = mutate(rng, ring, chains[chains.length - 1]!, m, RAM + RAM_SIZE);
    if (mustBreak === null) continue;
    const reads0 = dma.counters.reads;
    mmio.notify(0);
    // Bounded work, not bounded time: at most 4 chains, each walked within its TTL (queue size or table length).
    const reads = dma.counters.reads - reads0;
    assert.ok(reads <= 64 * (ring.size + 16), `seed ${seed} ${m}: ${reads} guest-memory reads for one doorbell`);
    const broken = (mmio.status & VIRTIO_CONFIG_S_NEEDS_RESET) !== 0;
    if (mustBreak) assert.ok(broken, `seed ${seed}: ${m} must leave the device DEVICE_NEEDS_RESET`);
    if (broken) seen.set(m, (seen.get(m) ?? 0) + 1);
    assert.deepEqual(metrics.failures, [], `seed ${seed} ${m}: the device threw`);
    assert.equal(dma.outside.length, 0, `seed ${seed} ${m}`);
    // A reset and a fresh bring-up recover the device.
    const fresh = newRing();
    mmio.init([fresh], accept);
    assert.equal(t.state.failure, null);
    // (A queue of size 1 takes chains of one buffer: §2.7.5.3.1, a chain is at most the queue size.)
    const two = fresh.size >= 2;
    const c = fresh.add(two ? [{ data: Uint8Array.of(1, 2, 3) }, { len: 3 }] : [{ len: 3 }])!;
    mmio.notify(0);
    assert.deepEqual(fresh.takeUsed(), [{ id: c.head, len: two ? 3 : 0 }], `seed ${seed}: recovered after ${m}`);
  }
  for (const m of MUTATIONS) if (m !== 'outside-ram' && m !== 'spray') assert.ok((seen.get(m) ?? 0) > 0, `mutation ${m} was exercised`);
});
