// The fuzzer's oracle can fail: a device that throws, or one that takes chains and never returns them, is
// reported as a finding with the seed that reproduces it; the real devices give none on a short run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz, fuzzRing, type FuzzReport } from '../../../src/devices/virtio/testing/fuzz.js';
import { EchoDevice } from '../../../src/devices/virtio/testing/echo-device.js';
import type { VirtioDeviceContext } from '../../../src/devices/virtio/device.js';

class Thrower extends EchoDevice {
  override queueNotify(): void { throw new Error('boom'); }
}

class Hoarder extends EchoDevice {
  override queueNotify(i: number): void { const ctx = this.ctx as VirtioDeviceContext | null; ctx?.queues[i]?.pop(ctx.dma); }
}

test('the fuzzer reports a device that throws, and one that never returns what it took', () => {
  const thrown = fuzz(40, 7, 0, () => {}, { thrower: () => new Thrower() });
  assert.ok(thrown.findings.some((f) => /the device threw: .*boom/.test(f.what)), JSON.stringify(thrown.findings.slice(0, 2)));
  const hoarded = fuzz(40, 7, 0, () => {}, { hoarder: () => new Hoarder() });
  assert.ok(hoarded.findings.some((f) => /never returned/.test(f.what)));
  const f = hoarded.findings[0]!;
  const again: FuzzReport = { rings: 0, hostileRings: 0, chainsOffered: 0, chainsUsed: 0, descriptors: 0, broken: {}, seconds: 0, slowestRingMs: 0, slowRetried: 0, findings: [] };
  assert.deepEqual(fuzzRing(f.seed, 0, again, { hoarder: () => new Hoarder() }), [f], 'a finding is reproduced by its seed');
});

test('a short fuzz run of the real devices has no findings and breaks devices only through the ring checks', () => {
  const r = fuzz(300, 1);
  assert.deepEqual(r.findings, []);
  assert.equal(r.rings, 300);
  assert.ok(Object.keys(r.broken).length > 5, JSON.stringify(r.broken));
  assert.equal(r.broken['other'], undefined, JSON.stringify(r.broken));
});
