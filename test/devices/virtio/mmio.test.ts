// virtio-mmio version 2 (virtio 1.2 §4.2) driven the way Linux's virtio_mmio.c drives it: probe, the status state
// machine and feature negotiation (refusing what was not offered), queue setup, InterruptStatus/ACK on a level
// line, reset, the notify doorbell's exit class, a device that throws, config space widths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordingLine } from '../../../src/board/testing/recorders.js';
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE as ACK, VIRTIO_CONFIG_S_DRIVER as DRIVER, VIRTIO_CONFIG_S_DRIVER_OK as DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK as FEATURES_OK, VIRTIO_CONFIG_S_NEEDS_RESET as NEEDS_RESET, VIRTIO_F_VERSION_1,
  VIRTIO_ID_RNG, VIRTIO_RING_F_EVENT_IDX, VIRTIO_RING_F_INDIRECT_DESC, feature,
} from '../../../src/devices/virtio/constants.js';
import { ConfigBytes } from '../../../src/devices/virtio/config-space.js';
import type { VirtioDevice, VirtioDeviceContext } from '../../../src/devices/virtio/device.js';
import {
  VIRTIO_MMIO_INT_CONFIG, VIRTIO_MMIO_INT_VRING, VIRTIO_MMIO_NOTIFY_OFFSET, VIRTIO_MMIO_QUEUE_DESC_HIGH,
  VIRTIO_MMIO_QUEUE_DESC_LOW, VIRTIO_MMIO_QUEUE_NUM, VIRTIO_MMIO_QUEUE_NUM_MAX, VIRTIO_MMIO_QUEUE_READY,
  VIRTIO_MMIO_QUEUE_SEL, VIRTIO_MMIO_VENDOR_ID, VirtioMmioTransport, virtioMmioDtNode, virtioMmioRegion,
} from '../../../src/devices/virtio/mmio.js';
import { VirtioRng } from '../../../src/devices/virtio/rng.js';
import { MockDriver } from '../../../src/devices/virtio/testing/mock-driver.js';
import { MockMmioDriver, type MmioPort } from '../../../src/devices/virtio/testing/mmio-driver.js';
import { makeGuest } from '../../../src/devices/virtio/testing/watched-dma.js';

const RAM = 0x8000_0000;
const BASE = 0x1000_1000;

/** A device that records what the transport did to it; config space: a u32 at 0 and a u64 at 8. */
class FakeDevice implements VirtioDevice {
  readonly name = 'fake';
  readonly deviceId = 42;
  readonly deviceFeatures = feature(5);
  readonly config = new ConfigBytes(16, (o, w, v) => { this.configWrites.push([o, w, v]); });
  readonly queueMaxSizes = [16, 8];
  configWrites: [number, number, number][] = [];
  ctx: VirtioDeviceContext | null = null;
  activations = 0;
  resets = 0;
  notified: number[] = [];
  throwOnNotify = false;
  constructor() { this.config.set32(0, 0xa1b2c3d4); this.config.set64(8, 0x1122_3344_5566_7788n); }
  activate(ctx: VirtioDeviceContext): void { this.ctx = ctx; this.activations++; }
  queueNotify(i: number): void { if (this.throwOnNotify) throw new Error('backend exploded'); this.notified.push(i); }
  reset(): void { this.ctx = null; this.resets++; }
}

function setup(device: VirtioDevice = new FakeDevice()) {
  const g = makeGuest(1 << 20, RAM);
  const irq = new RecordingLine();
  const t = new VirtioMmioTransport(device, { irq, dma: g.dma });
  const region = g.bus.addRegion(virtioMmioRegion('virtio0', BASE, t));
  const port: MmioPort = {
    read: (o, w) => g.bus.mmioRead(BASE + o, w) ?? assert.fail('bus error'),
    write: (o, w, v) => { assert.ok(g.bus.mmioWrite(BASE + o, w, v)); },
  };
  const drv = new MockMmioDriver(port);
  const ring = (i: number, size: number) => new MockDriver(g.ram, { base: RAM + i * 0x4000, size, dataBase: RAM + 0x40000 + i * 0x10000, dataSize: 0x10000 });
  return { ...g, irq, t, drv, region, ring };
}

test('probe: magic, version 2, device and vendor IDs; features offered include VERSION_1 and the ring features', () => {
  const { drv } = setup();
  assert.equal(drv.probe(), 42);
  assert.equal(drv.r(VIRTIO_MMIO_VENDOR_ID), 0x4f494d56);
  const f = drv.deviceFeatures();
  assert.equal(f, feature(5) | feature(VIRTIO_F_VERSION_1) | feature(VIRTIO_RING_F_EVENT_IDX) | feature(VIRTIO_RING_F_INDIRECT_DESC));
});

test('status: bits accumulate, FEATURES_OK refuses features not offered or a legacy driver, DRIVER_OK needs FEATURES_OK', () => {
  const { drv, t } = setup();
  const dev = t.device as FakeDevice;
  assert.equal(drv.negotiate((o) => o | feature(6)), false, 'bit 6 was not offered');
  assert.equal(drv.status, ACK | DRIVER);
  assert.match(t.state.refusedFeatures ?? '', /0x40 that were not offered/);
  assert.equal(drv.negotiate((o) => o & ~feature(VIRTIO_F_VERSION_1)), false, 'VERSION_1 is required');
  drv.status = ACK | DRIVER | DRIVER_OK;
  assert.equal(drv.status & DRIVER_OK, 0, 'DRIVER_OK without FEATURES_OK is not taken');
  assert.equal(dev.activations, 0);
  assert.equal(drv.negotiate((o) => o & ~feature(VIRTIO_RING_F_EVENT_IDX)), true);
  drv.writeDriverFeatures(0n);
  assert.equal(t.state.negotiated & feature(VIRTIO_F_VERSION_1), feature(VIRTIO_F_VERSION_1), 'features are fixed after FEATURES_OK');
  drv.status = ACK; // the driver must not clear bits: ignored
  assert.equal(drv.status, ACK | DRIVER | FEATURES_OK);
  drv.status = ACK | DRIVER | FEATURES_OK | DRIVER_OK;
  drv.status = ACK | DRIVER | FEATURES_OK | DRIVER_OK;
  assert.equal(dev.activations, 1, 'activated once, at DRIVER_OK');
  assert.equal(dev.ctx?.features, t.state.driverFeatures);
  assert.equal(t.state.queues[0]!.eventIdx, false);
  assert.equal(t.state.queues[0]!.indirectDesc, true);
});

test('queue setup: QueueNumMax per queue, 64-bit areas, ready; registers frozen while ready; QueueSel past the queues', () => {
  const { drv, t, ring } = setup();
  drv.negotiate();
  const r = ring(0, 16);
  assert.equal(drv.setupQueue(0, r), true);
  const q = t.state.queues[0]!;
  assert.equal(q.desc, BigInt(r.desc));
  assert.equal(q.size, 16);
  drv.w(VIRTIO_MMIO_QUEUE_NUM, 4);
  assert.equal(q.size, 16, 'QueueNum is ignored while the queue is ready');
  drv.w(VIRTIO_MMIO_QUEUE_SEL, 1);
  assert.equal(drv.r(VIRTIO_MMIO_QUEUE_NUM_MAX), 8);
  drv.w(VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
  drv.w(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x12);
  assert.equal(t.state.queues[1]!.desc, 0x12_0000_1000n, 'both halves kept exactly');
  drv.w(VIRTIO_MMIO_QUEUE_SEL, 2);
  assert.equal(drv.r(VIRTIO_MMIO_QUEUE_NUM_MAX), 0, 'no queue 2');
  drv.w(VIRTIO_MMIO_QUEUE_READY, 1);
  assert.equal(drv.r(VIRTIO_MMIO_QUEUE_READY), 0);
});

test('a queue made ready with a bad size sets DEVICE_NEEDS_RESET and stays not ready', () => {
  const { drv, irq, ring } = setup();
  drv.negotiate();
  const r = ring(0, 16);
  drv.setupQueue(0, r);
  drv.w(VIRTIO_MMIO_QUEUE_SEL, 1);
  drv.w(VIRTIO_MMIO_QUEUE_NUM, 6);
  drv.w(VIRTIO_MMIO_QUEUE_READY, 1);
  assert.equal(drv.r(VIRTIO_MMIO_QUEUE_READY), 0);
  assert.equal(drv.status & NEEDS_RESET, NEEDS_RESET);
  assert.equal(irq.level, false, 'no configuration interrupt before DRIVER_OK');
});

test('rng over mmio: used-buffer interrupt on a level line, InterruptACK lowers it', () => {
  const { drv, irq, ring, t } = setup(new VirtioRng({ fill: (b) => b.fill(0xab) }));
  assert.equal(drv.probe(), VIRTIO_ID_RNG);
  const r = ring(0, 8);
  drv.init([r]);
  const m = r.add([{ len: 32 }])!;
  assert.equal(irq.level, false);
  drv.notify(0);
  assert.equal(irq.level, true);
  assert.equal(drv.ack(), VIRTIO_MMIO_INT_VRING);
  assert.equal(irq.level, false);
  assert.deepEqual(r.takeUsed(), [{ id: m.head, len: 32 }]);
  assert.ok(r.read(m.buffers[0]!.addr, 32).every((b) => b === 0xab));
  assert.equal(t.state.queues[0]!.counters.notifications, 1);
  assert.equal(t.state.queues[0]!.counters.interrupts, 1);
});

test('a broken ring after DRIVER_OK: DEVICE_NEEDS_RESET with a configuration interrupt; reset clears everything', () => {
  const { drv, irq, ring, t } = setup(new VirtioRng());
  const r = ring(0, 8);
  drv.init([r]);
  r.putAvail(9); // a head past the table
  r.publish();
  drv.notify(0);
  assert.equal(drv.status & NEEDS_RESET, NEEDS_RESET);
  assert.match(t.state.failure ?? '', /head-out-of-range/);
  assert.equal(irq.level, true);
  assert.equal(drv.r(0x60), VIRTIO_MMIO_INT_CONFIG);
  drv.status = 0;
  assert.equal(drv.status, 0);
  assert.equal(irq.level, false, 'reset clears InterruptStatus');
  assert.equal(drv.r(0x60), 0);
  drv.w(VIRTIO_MMIO_QUEUE_SEL, 0);
  assert.equal(drv.r(VIRTIO_MMIO_QUEUE_READY), 0, 'reset clears every QueueReady');
  assert.equal(t.state.queues[0]!.error, null);
  // And the device works again after a fresh bring-up.
  const r2 = ring(1, 8);
  drv.init([r2]);
  r2.add([{ len: 4 }]);
  drv.notify(0);
  assert.equal(r2.takeUsed().length, 1);
});

test('the notify doorbell is exit class notify; the rest of the window traps to the user-space model', () => {
  const { drv, metrics, ring } = setup();
  drv.init([ring(0, 16)]);
  drv.notify(0);
  drv.notify(1);
  const c = metrics.regionCountersOf('virtio0')!;
  assert.equal(c.byClass.notify, 2);
  assert.ok(c.byClass.user > 10);
  assert.deepEqual(Object.keys(c.registers()).filter((k) => k.startsWith('Queue')).sort().slice(0, 2), ['QueueDescHigh', 'QueueDescLow']);
  assert.equal(virtioMmioRegion('x', BASE, setup().t).classes?.[0]?.offset, VIRTIO_MMIO_NOTIFY_OFFSET);
});

test('a device that throws is marked DEVICE_NEEDS_RESET and keeps serving its status register', () => {
  const dev = new FakeDevice();
  const { drv, ring, region, irq } = setup(dev);
  drv.init([ring(0, 16)]);
  dev.throwOnNotify = true;
  const resets = dev.resets;
  drv.notify(0);
  assert.equal(region.broken, null, 'not fenced off by the bus');
  assert.equal(drv.status & NEEDS_RESET, NEEDS_RESET);
  assert.equal(irq.level, true, 'configuration change interrupt');
  drv.status = 0;
  assert.equal(dev.resets, resets + 1);
  assert.equal(drv.status, 0);
});

test('config space at 0x100: byte, half and word reads, 8-byte access as two words, writes reach the device', () => {
  const dev = new FakeDevice();
  const { drv, t } = setup(dev);
  assert.equal(drv.config(0, 4), 0xa1b2c3d4);
  assert.equal(drv.config(1, 1), 0xc3);
  assert.equal(drv.config(2, 2), 0xa1b2);
  assert.equal(t.read(0x108, 8), 0x1122_3344_5566_7788n);
  assert.equal(drv.config(16, 4), 0, 'past the end reads 0');
  t.write(0x104, 2, 0xbeef);
  t.write(0x200, 4, 1);
  assert.deepEqual(dev.configWrites, [[4, 2, 0xbeef]]);
});

test('device-tree node info for the board', () => {
  const n = virtioMmioDtNode(BASE, 0x1000, 1);
  assert.equal(n.compatible, 'virtio,mmio');
  assert.equal(n.nodeName, 'virtio_mmio@10001000');
  assert.deepEqual(n.window, { base: BASE, size: 0x1000, irq: 1 });
});
