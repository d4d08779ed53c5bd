// virtio-blk (virtio 1.2 §5.2) over virtio-mmio with the mock driver: config space and features, write then read
// back, flush reaching the backend, read-only disks, requests past the capacity, GET_ID, discard / write-zeroes,
// malformed requests, backend failures — every refusal a status byte, never a throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordingLine } from '../../../src/board/testing/recorders.js';
import { MemoryBlockBackend, type BlockBackend } from '../../../src/backends/block/backend.js';
import {
  VIRTIO_BLK_F_DISCARD, VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_RO, VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_F_WRITE_ZEROES,
  VIRTIO_BLK_S_IOERR, VIRTIO_BLK_S_OK, VIRTIO_BLK_S_UNSUPP, VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_FLUSH,
  VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_WRITE_ZEROES,
} from '../../../src/devices/virtio/blk-request.js';
import { VirtioBlk } from '../../../src/devices/virtio/blk.js';
import { VIRTIO_CONFIG_S_NEEDS_RESET, VIRTIO_ID_BLOCK, feature } from '../../../src/devices/virtio/constants.js';
import { VirtioMmioTransport } from '../../../src/devices/virtio/mmio.js';
import { MockDriver, type MockChain, type Segment } from '../../../src/devices/virtio/testing/mock-driver.js';
import { MockMmioDriver } from '../../../src/devices/virtio/testing/mmio-driver.js';
import { makeGuest } from '../../../src/devices/virtio/testing/watched-dma.js';

const RAM = 0x8000_0000;

function setup(backend: BlockBackend = new MemoryBlockBackend(64 * 512), opts: ConstructorParameters<typeof VirtioBlk>[1] = {}, indirect = false) {
  const g = makeGuest(1 << 21, RAM);
  const blk = new VirtioBlk(backend, opts);
  const t = new VirtioMmioTransport(blk, { irq: new RecordingLine(), dma: g.dma });
  const drv = new MockMmioDriver(t);
  const ring = new MockDriver(g.ram, { base: RAM, size: 16, dataBase: RAM + 0x10000, dataSize: 0x100000, eventIdx: true });
  assert.equal(drv.probe(), VIRTIO_ID_BLOCK);
  drv.init([ring]);
  /** Sends one request; returns its status byte, used length and chain. */
  const request = (type: number, sector: bigint, data: Segment[] = [], statusLen = 1) => {
    const hdr = new Uint8Array(16);
    const v = new DataView(hdr.buffer);
    v.setUint32(0, type, true);
    v.setBigUint64(8, sector, true);
    const segs: Segment[] = [{ data: hdr }, ...data];
    if (statusLen > 0) segs.push({ len: statusLen });
    const m = ring.add(segs, { indirect })!;
    drv.notify(0);
    const used = ring.takeUsed();
    assert.equal(used.length, 1, 'one request, one used entry');
    const st = m.buffers[m.buffers.length - 1]!;
    return { status: g.ram.slice(st.addr + st.len - 1, 1)[0]!, len: used[0]!.len, chain: m };
  };
  const bytesOf = (m: MockChain, i: number) => g.ram.slice(m.buffers[i]!.addr, m.buffers[i]!.len);
  return { ...g, blk, t, drv, ring, request, bytesOf };
}

const pattern = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

test('config space: capacity from the image size, seg_max, blk_size; features for a writable disk', () => {
  const { drv, blk } = setup(new MemoryBlockBackend(64 * 512 + 100));
  assert.equal(drv.config(0, 4), 64, 'the partial last sector is not exposed');
  assert.equal(drv.config(4, 4), 0);
  assert.equal(drv.config(12, 4), 126, 'seg_max = queue size 128 - 2');
  assert.equal(drv.config(20, 4), 512);
  const f = blk.deviceFeatures;
  for (const b of [VIRTIO_BLK_F_SEG_MAX, VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_DISCARD, VIRTIO_BLK_F_WRITE_ZEROES]) assert.ok((f & feature(b)) !== 0n, `bit ${b}`);
  assert.equal(f & feature(VIRTIO_BLK_F_RO), 0n);
});

for (const indirect of [false, true]) {
  test(`write then read back across several descriptors${indirect ? ' (indirect)' : ''}`, () => {
    const backend = new MemoryBlockBackend(64 * 512);
    const { request, bytesOf } = setup(backend, {}, indirect);
    const a = pattern(512, 1), b = pattern(1024, 2);
    const w = request(VIRTIO_BLK_T_OUT, 3n, [{ data: a }, { data: b }]);
    assert.equal(w.status, VIRTIO_BLK_S_OK);
    assert.equal(w.len, 1, 'only the status byte was written');
    assert.deepEqual(backend.bytes.subarray(3 * 512, 6 * 512), Uint8Array.from([...a, ...b]));
    const r = request(VIRTIO_BLK_T_IN, 4n, [{ len: 256 }, { len: 768 }]);
    assert.equal(r.status, VIRTIO_BLK_S_OK);
    assert.equal(r.len, 1025);
    assert.deepEqual(Uint8Array.from([...bytesOf(r.chain, 1), ...bytesOf(r.chain, 2)]), b);
  });
}

test('flush reaches the backend', () => {
  const backend = new MemoryBlockBackend(64 * 512);
  const { request } = setup(backend);
  assert.equal(request(VIRTIO_BLK_T_FLUSH, 0n).status, VIRTIO_BLK_S_OK);
  assert.equal(backend.flushes, 1);
});

test('a read-only disk offers VIRTIO_BLK_F_RO, refuses writes with IOERR and never touches the backend', () => {
  const backend = new MemoryBlockBackend(8 * 512);
  backend.bytes.fill(0x5a);
  const { request, blk } = setup(backend, { readOnly: true });
  assert.ok((blk.deviceFeatures & feature(VIRTIO_BLK_F_RO)) !== 0n);
  assert.equal(blk.deviceFeatures & feature(VIRTIO_BLK_F_DISCARD), 0n);
  assert.equal(request(VIRTIO_BLK_T_OUT, 0n, [{ data: new Uint8Array(512) }]).status, VIRTIO_BLK_S_IOERR);
  assert.ok(backend.bytes.every((x) => x === 0x5a));
  assert.equal(request(VIRTIO_BLK_T_WRITE_ZEROES, 0n, [{ data: new Uint8Array(16) }]).status, VIRTIO_BLK_S_UNSUPP, 'not negotiated');
  assert.equal(request(VIRTIO_BLK_T_IN, 0n, [{ len: 512 }]).status, VIRTIO_BLK_S_OK);
});

test('requests past the capacity or of partial sectors answer IOERR without I/O', () => {
  const backend = new MemoryBlockBackend(64 * 512);
  const { request, blk } = setup(backend);
  assert.equal(request(VIRTIO_BLK_T_IN, 63n, [{ len: 1024 }]).status, VIRTIO_BLK_S_IOERR, 'last sector + 1');
  assert.equal(request(VIRTIO_BLK_T_IN, 63n, [{ len: 512 }]).status, VIRTIO_BLK_S_OK, 'the last sector');
  assert.equal(request(VIRTIO_BLK_T_OUT, 1n << 63n, [{ data: new Uint8Array(512) }]).status, VIRTIO_BLK_S_IOERR);
  assert.equal(request(VIRTIO_BLK_T_OUT, (1n << 64n) - 1n, [{ data: new Uint8Array(512) }]).status, VIRTIO_BLK_S_IOERR);
  assert.equal(request(VIRTIO_BLK_T_IN, 0n, [{ len: 100 }]).status, VIRTIO_BLK_S_IOERR, 'not whole sectors');
  assert.equal(blk.stats.ioerr, 4);
  assert.match(blk.lastError, /multiple of 512/);
  assert.ok(backend.bytes.every((x) => x === 0));
});

test('GET_ID returns the NUL-padded serial; unknown types answer UNSUPP', () => {
  const { request, bytesOf } = setup(undefined, { serial: 'disk-0' });
  const r = request(VIRTIO_BLK_T_GET_ID, 0n, [{ len: 20 }]);
  assert.equal(r.status, VIRTIO_BLK_S_OK);
  assert.equal(r.len, 21);
  assert.deepEqual(bytesOf(r.chain, 1), Uint8Array.from([...new TextEncoder().encode('disk-0'), ...new Uint8Array(14)]));
  assert.equal(request(77, 0n).status, VIRTIO_BLK_S_UNSUPP);
  assert.throws(() => new VirtioBlk(new MemoryBlockBackend(512), { serial: 'x'.repeat(21) }), /at most 20/);
});

function segment(sector: bigint, num: number, flags: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, sector, true);
  v.setUint32(8, num, true);
  v.setUint32(12, flags, true);
  return b;
}

test('write-zeroes zeroes its range; discard keeps data; bad flags answer UNSUPP, bad ranges IOERR', () => {
  const backend = new MemoryBlockBackend(64 * 512);
  const { request } = setup(backend);
  backend.bytes.fill(0xee);
  assert.equal(request(VIRTIO_BLK_T_WRITE_ZEROES, 0n, [{ data: segment(2n, 3, 1) }]).status, VIRTIO_BLK_S_OK);
  assert.ok(backend.bytes.subarray(1024, 2560).every((x) => x === 0));
  assert.equal(backend.bytes[1023], 0xee);
  assert.equal(backend.bytes[2560], 0xee);
  assert.equal(request(VIRTIO_BLK_T_DISCARD, 0n, [{ data: segment(10n, 2, 0) }]).status, VIRTIO_BLK_S_OK);
  assert.equal(backend.bytes[10 * 512], 0xee, 'discard is a no-op on this backend');
  assert.equal(request(VIRTIO_BLK_T_DISCARD, 0n, [{ data: segment(10n, 2, 1) }]).status, VIRTIO_BLK_S_UNSUPP, 'unmap on discard');
  assert.equal(request(VIRTIO_BLK_T_WRITE_ZEROES, 0n, [{ data: segment(10n, 2, 4) }]).status, VIRTIO_BLK_S_UNSUPP, 'unknown flag');
  assert.equal(request(VIRTIO_BLK_T_WRITE_ZEROES, 0n, [{ data: segment(63n, 2, 0) }]).status, VIRTIO_BLK_S_IOERR);
  assert.equal(request(VIRTIO_BLK_T_WRITE_ZEROES, 0n, [{ data: new Uint8Array(32) }]).status, VIRTIO_BLK_S_IOERR, 'two segments; one allowed');
});

test('a request with no status byte is completed with used length 0 and the device goes on', () => {
  const { request, blk } = setup();
  const r = request(VIRTIO_BLK_T_FLUSH, 0n, [], 0);
  assert.equal(r.len, 0);
  assert.equal(blk.stats.noStatus, 1);
  assert.equal(request(VIRTIO_BLK_T_FLUSH, 0n).status, VIRTIO_BLK_S_OK);
});

test('a backend failure answers IOERR and the VMM keeps running', () => {
  const backend = new MemoryBlockBackend(8 * 512);
  backend.flush = () => { throw new Error('EIO: the disk is on fire'); };
  const { request, blk } = setup(backend);
  assert.equal(request(VIRTIO_BLK_T_FLUSH, 0n).status, VIRTIO_BLK_S_IOERR);
  assert.equal(blk.stats.backendErrors, 1);
  assert.match(blk.lastError, /on fire/);
  assert.equal(request(VIRTIO_BLK_T_IN, 0n, [{ len: 512 }]).status, VIRTIO_BLK_S_OK);
});

test('a write whose data lies outside RAM breaks the device before anything reaches the disk', () => {
  const backend = new MemoryBlockBackend(64 * 512);
  const { ring, drv, t, dma } = setup(backend);
  const hdr = new Uint8Array(16);
  new DataView(hdr.buffer).setUint32(0, VIRTIO_BLK_T_OUT, true);
  const m = ring.add([{ data: hdr }, { data: new Uint8Array(1024).fill(1) }, { len: 1 }])!;
  // Point the data descriptor's second half past the end of RAM: the first page is fine, the last is not.
  const d = m.buffers[1]!;
  ring.writeDesc(ring.desc, m.head + 1, RAM + (1 << 21) - 512, 1024, 1, m.head + 2);
  assert.equal(d.len, 1024);
  drv.notify(0);
  assert.equal(drv.status & VIRTIO_CONFIG_S_NEEDS_RESET, VIRTIO_CONFIG_S_NEEDS_RESET);
  assert.match(t.state.failure ?? '', /buffer-fault/);
  assert.ok(backend.bytes.every((x) => x === 0), 'nothing was written');
  assert.equal(dma.outside.length, 0);
});

test('on a file image: a guest write is in the file, and FLUSH is an fsync of it', async () => {
  const { mkdtempSync, readFileSync, rmSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { FileBlockBackend } = await import('../../../src/backends/block/file.js');
  const dir = mkdtempSync(join(tmpdir(), 'vmio-blk-'));
  try {
    const path = join(dir, 'disk.img');
    writeFileSync(path, new Uint8Array(16 * 512));
    let fsyncs = 0;
    const backend = FileBlockBackend.open(path, { io: { fsyncSync: () => { fsyncs++; } } });
    const { request } = setup(backend);
    assert.equal(request(VIRTIO_BLK_T_OUT, 2n, [{ data: pattern(512, 9) }]).status, VIRTIO_BLK_S_OK);
    assert.equal(fsyncs, 0);
    assert.equal(request(VIRTIO_BLK_T_FLUSH, 0n).status, VIRTIO_BLK_S_OK);
    assert.equal(fsyncs, 1);
    backend.close();
    assert.deepEqual(readFileSync(path).subarray(1024, 1536), Buffer.from(pattern(512, 9)));
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a header in a device-writable buffer (where the device must read) answers IOERR; the ring is fine', () => {
  const { ring, drv, blk } = setup();
  const m = ring.add([{ len: 16 }, { len: 1 }])!;
  drv.notify(0);
  assert.deepEqual(ring.takeUsed(), [{ id: m.head, len: 1 }]);
  assert.equal(blk.stats.ioerr, 1);
  assert.match(blk.lastError, /header of 0 bytes/);
  assert.equal(drv.status & VIRTIO_CONFIG_S_NEEDS_RESET, 0);
});
