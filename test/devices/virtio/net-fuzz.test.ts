// The seeded virtio-net fuzzer (hostile transmit chains, control commands, receive buffers and frames): its oracle
// first catches a device that corrupts offloaded checksums, one that throws and one that keeps chains, with the seed
// reproducing the finding; then the real device gives no findings and the run reaches every path it should.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { VirtioDeviceContext } from '../../../src/devices/virtio/device.js';
import { NetControl } from '../../../src/devices/virtio/net/control.js';
import { VirtioNet } from '../../../src/devices/virtio/net/device.js';
import { TxOffload } from '../../../src/devices/virtio/net/offload.js';
import { fuzzNet, fuzzNetRun, type NetFuzzReport } from '../../../src/devices/virtio/net/testing/fuzz.js';

function patched<T extends object, K extends keyof T>(proto: T, key: K, impl: (orig: T[K]) => T[K], run: () => void): void {
  const orig = proto[key];
  proto[key] = impl(orig);
  try { run(); } finally { proto[key] = orig; }
}

const emptyReport = (): NetFuzzReport => ({ runs: 0, refusedFeatures: 0, txChains: 0, framesOut: 0, ctrlCommands: 0, framesIn: 0, offloadChecked: 0, broken: 0, seconds: 0, slowestMs: 0, findings: [] });

test('the oracle catches a device whose offloads corrupt checksums, and the seed reproduces it', () => {
  patched(TxOffload.prototype, 'transmit', (orig) => function (this: TxOffload, hdr, len, out) {
    return orig.call(this, hdr, len, (f: Uint8Array) => { if (f.length > 60) f[f.length - 1]! ^= 0x10; out(f); });
  }, () => {
    const r = fuzzNet(60, 11);
    assert.ok(r.findings.some((f) => /TSO segment fails the independent checksum/.test(f.what)), JSON.stringify(r.findings.slice(0, 2)));
    assert.ok(r.findings.some((f) => /NEEDS_CSUM frame does not check out/.test(f.what)));
    const first = r.findings[0]!;
    const again = fuzzNetRun(first.seed, emptyReport());
    assert.ok(again.some((f) => f.what === first.what), 'reproduced by its seed alone');
  });
});

test('the oracle catches a device that throws and one that keeps transmit chains', () => {
  patched(NetControl.prototype, 'handle', () => () => { throw new Error('boom'); }, () => {
    const r = fuzzNet(40, 12);
    assert.ok(r.findings.some((f) => /an exception escaped: Error: boom/.test(f.what)));
  });
  patched(VirtioNet.prototype, 'queueNotify', (orig) => function (this: VirtioNet, i: number) {
    const ctx = (this as unknown as { ctx: VirtioDeviceContext | null }).ctx;
    if (ctx !== null && i % 2 === 1 && i < ctx.queues.length - 1) { ctx.queues[i]!.pop(ctx.dma); return; }
    orig.call(this, i);
  }, () => {
    const r = fuzzNet(40, 13);
    assert.ok(r.findings.some((f) => /chains taken and never returned/.test(f.what)), JSON.stringify(r.findings.slice(0, 2)));
  });
});

test('a fuzz run of the real device: no findings, and it reached offloads, control, receive and DEVICE_NEEDS_RESET', () => {
  const r = fuzzNet(300, 1);
  assert.deepEqual(r.findings, []);
  // Random feature sets break a requirement now and then (about a third of them, with GUEST_TSO4/6/ECN needing GUEST_CSUM).
  assert.ok(r.runs === 300 && r.refusedFeatures > 0 && r.refusedFeatures < 150, `${r.refusedFeatures} refused feature sets`);
  assert.ok(r.txChains > 1500, `${r.txChains} transmit chains`);
  assert.ok(r.offloadChecked > 1000, `${r.offloadChecked} offloaded frames checked`);
  assert.ok(r.ctrlCommands > 400, `${r.ctrlCommands} control commands`);
  assert.ok(r.framesIn > 200, `${r.framesIn} frames received`);
  assert.ok(r.broken > 0, 'some devices met a buffer outside RAM');
});
