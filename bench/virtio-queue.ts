// Benchmark: the split virtqueue's hot path and a virtio-blk request path, on the host CPU (no guest).
// 1. pop + push of chains built by the mock driver (1 and 3 descriptors, direct and indirect) through an
//    IdentityDmaSpace: chains per second and nanoseconds per descriptor.
// 2. 4 KiB virtio-blk reads through the bus, the virtio-mmio transport and a memory image, batches of 8 per
//    notification, with and without EVENT_IDX: requests per second, and notifications and interrupts per request.
// Run: vmio bench virtio-queue [--runs N]   (or node dist/bench/virtio-queue.js)

import { pathToFileURL } from 'node:url';
import { MemoryBlockBackend } from '../src/backends/block/backend.js';
import { RecordingLine } from '../src/board/testing/recorders.js';
import { VirtioBlk } from '../src/devices/virtio/blk.js';
import { VIRTIO_BLK_T_IN } from '../src/devices/virtio/blk-request.js';
import { DescriptorChain } from '../src/devices/virtio/chain.js';
import { VIRTIO_RING_F_EVENT_IDX, feature } from '../src/devices/virtio/constants.js';
import { VirtioMmioTransport, virtioMmioRegion } from '../src/devices/virtio/mmio.js';
import { SplitQueue } from '../src/devices/virtio/queue.js';
import { MockDriver } from '../src/devices/virtio/testing/mock-driver.js';
import { MockMmioDriver } from '../src/devices/virtio/testing/mmio-driver.js';
import { makeGuest } from '../src/devices/virtio/testing/watched-dma.js';
import { IdentityDmaSpace } from '../src/memory/dma.js';

const RAM = 0x8000_0000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function queueRun(segs: number, indirect: boolean, chains: number): { perSec: number; nsPerDesc: number } {
  const g = makeGuest(1 << 22, RAM);
  const dma = new IdentityDmaSpace(g.bus, g.metrics.dma('bench')); // unwatched: the production space
  const size = 256;
  const q = new SplitQueue(0, size);
  q.indirectDesc = true;
  const drv = new MockDriver(g.ram, { base: RAM, size, dataBase: RAM + 0x100000, dataSize: 0x200000 });
  drv.attach(q);
  // Fill the ring once; each used chain is re-offered by re-publishing the same head (the descriptors stay).
  const heads: number[] = [];
  while (heads.length < size / (indirect ? 1 : segs)) {
    const c = drv.add(Array.from({ length: segs }, (_, i) => (i === segs - 1 ? { len: 64 } : { data: new Uint8Array(64) })), { indirect, defer: true });
    if (c === null) break;
    heads.push(c.head);
  }
  let avail = drv.availIdx;
  drv.publish();
  let descs = 0;
  const t0 = process.hrtime.bigint();
  for (let n = 0; n < chains; n++) {
    const c = q.pop(dma);
    if (!(c instanceof DescriptorChain)) throw new Error(`bench: pop gave ${c === null ? 'nothing' : c.message}`);
    descs += c.descriptors;
    q.push(dma, c.head, 0);
    drv.putAvail(c.head);
    avail = (avail + 1) & 0xffff;
    drv.setAvailIdx(avail);
  }
  const ns = Number(process.hrtime.bigint() - t0);
  return { perSec: chains / (ns / 1e9), nsPerDesc: ns / descs };
}

function blkRun(eventIdx: boolean, requests: number): { perSec: number; notifies: number; interrupts: number } {
  const g = makeGuest(1 << 22, RAM);
  const base = 0x1000_1000;
  const t = new VirtioMmioTransport(new VirtioBlk(new MemoryBlockBackend(1 << 20)), { irq: new RecordingLine(), dma: new IdentityDmaSpace(g.bus, g.metrics.dma('blk')) });
  g.bus.addRegion(virtioMmioRegion('blk', base, t));
  const mmio = new MockMmioDriver({ read: (o, w) => g.bus.mmioRead(base + o, w)!, write: (o, w, v) => { g.bus.mmioWrite(base + o, w, v); } });
  const ring = new MockDriver(g.ram, { base: RAM, size: 128, dataBase: RAM + 0x100000, dataSize: 0x200000, eventIdx });
  mmio.init([ring], (o) => (eventIdx ? o : o & ~feature(VIRTIO_RING_F_EVENT_IDX)));
  const hdr = new Uint8Array(16);
  new DataView(hdr.buffer).setUint32(0, VIRTIO_BLK_T_IN, true);
  let notifies = 0, interrupts = 0;
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < requests; done += 8) {
    let kick = false;
    for (let i = 0; i < 8; i++) {
      ring.add([{ data: hdr }, { len: 4096 }, { len: 1 }], { defer: true });
      kick = ring.publish() || kick;
    }
    if (kick) { mmio.notify(0); notifies++; }
    if (mmio.ack() !== 0) interrupts++;
    ring.takeUsed();
    if (eventIdx) ring.usedEvent = ring.lastUsed + 7; // like virtqueue_enable_cb_delayed: wake me after the next batch
  }
  const ns = Number(process.hrtime.bigint() - t0);
  return { perSec: requests / (ns / 1e9), notifies: notifies / requests, interrupts: interrupts / requests };
}

export async function main(args: string[]): Promise<void> {
  const i = args.indexOf('--runs');
  const runs = i >= 0 ? Number(args[i + 1]) : 5;
  console.log(`command: node dist/bench/virtio-queue.js --runs ${runs}  (node ${process.version}, ${process.platform}/${process.arch})`);
  let main1 = 0;
  for (const [segs, indirect] of [[1, false], [3, false], [3, true]] as const) {
    const r = Array.from({ length: runs }, () => queueRun(segs, indirect, 200_000));
    const perSec = median(r.map((x) => x.perSec));
    if (segs === 1) main1 = perSec;
    console.log(`queue pop+push, ${segs} descriptor${segs > 1 ? 's' : ''}${indirect ? ' (indirect)' : ''}: ${(perSec / 1e6).toFixed(2)} M chains/s, ${median(r.map((x) => x.nsPerDesc)).toFixed(0)} ns/descriptor (median of ${runs})`);
  }
  for (const eventIdx of [false, true]) {
    const r = Array.from({ length: runs }, () => blkRun(eventIdx, 40_000));
    console.log(`virtio-blk 4 KiB reads over mmio, batches of 8, EVENT_IDX ${eventIdx ? 'on ' : 'off'}: ${(median(r.map((x) => x.perSec)) / 1e3).toFixed(0)} k requests/s, ${r[0]!.notifies.toFixed(3)} notifications and ${r[0]!.interrupts.toFixed(3)} interrupts per request`);
  }
  console.log(`virtio-queue: ${(main1 / 1e6).toFixed(2)} M chains/s`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => { console.error(`bench virtio-queue: ${e instanceof Error ? e.message : String(e)}`); process.exitCode = 1; });
}
