// Benchmark: virtio-net's transmit and receive paths on the host CPU (no guest), with the mock net driver over the
// virtio-mmio transport and the production IdentityDmaSpace, EVENT_IDX on and off.
// 1. Transmit: 1514-byte TCP/IPv4 frames with NEEDS_CSUM (Linux offloads every checksum), one descriptor each
//    (header + packet, as Linux's any_header_sg lays them out), bursts of 8 per publish; after each burst the
//    driver reaps used buffers and re-arms the interrupt (EVENT_IDX: used_event after the next burst).
// 2. Transmit TSO: 64000-byte TCPv4 GSO packets, gso_size 1448, segments per second.
// 3. Receive: 1514-byte TCP frames (checksum verified, DATA_VALID) from the backend, 8 per delivery, into 1536-byte
//    mergeable buffers; after each delivery the driver takes the packets, refills the buffers and notifies when the
//    ring says so, and re-arms (EVENT_IDX: used_event = next entry).
// "Interrupts" are the guest interrupts of the level-triggered MMIO line (signals while it is high are one interrupt;
// the driver acknowledges once per burst, like a NAPI poll); "signals" are the device's used-buffer notifications.
// Timings include the mock driver's own work (writing packets, reading used rings).
// Run: vmio bench virtio-net [--runs N]   (or node dist/bench/virtio-net.js)

import { pathToFileURL } from 'node:url';
import { ETH_P_IP } from '../src/backends/net/ethernet.js';
import { VIRTIO_RING_F_EVENT_IDX, feature } from '../src/devices/virtio/constants.js';
import { VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_SIZE } from '../src/devices/virtio/net/constants.js';
import { NetHarness, encodeHdr } from '../src/devices/virtio/net/testing/driver.js';
import { GUEST_IP4, GUEST_MAC, PEER_IP4, PEER_MAC, pattern, tcpFrame } from '../src/devices/virtio/net/testing/packets.js';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const BURST = 8;
const RING = 256;

interface Run { perSec: number; notifies: number; signals: number; interrupts: number }

function harness(eventIdx: boolean): NetHarness {
  return new NetHarness({ ringSize: RING, eventIdx, plainDma: true, dataPerRing: 8 << 20, accept: (o) => (eventIdx ? o : o & ~feature(VIRTIO_RING_F_EVENT_IDX)) });
}

function txRun(eventIdx: boolean, packets: number, gso: boolean): Run & { segments: number } {
  const h = harness(eventIdx);
  let frames = 0;
  h.backend.send = () => { frames++; };
  const payload = pattern(gso ? 64000 : 1514 - 54);
  const frame = tcpFrame({ payload, csum: 'partial', ipLenOverride: gso ? 0 : undefined });
  const hdr = encodeHdr(gso
    ? { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: VIRTIO_NET_HDR_GSO_TCPV4, gsoSize: 1448, hdrLen: 54, csumStart: 34, csumOffset: 16 }
    : { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, csumStart: 34, csumOffset: 16 });
  const chain = new Uint8Array(VIRTIO_NET_HDR_SIZE + frame.length);
  chain.set(hdr);
  chain.set(frame, VIRTIO_NET_HDR_SIZE);
  const ring = h.txRing();
  const q = h.queue(1);
  let notifies = 0, interrupts = 0;
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < packets; done += BURST) {
    for (let i = 0; i < BURST; i++) ring.add([{ data: chain }], { defer: true });
    if (ring.publish()) { h.mmio.notify(1); notifies++; }
    if (h.mmio.ack() !== 0) interrupts++;
    ring.takeUsed();
    if (eventIdx) ring.usedEvent = ring.lastUsed + BURST - 1;
  }
  const ns = Number(process.hrtime.bigint() - t0);
  if (h.net.counters.txPackets !== packets) throw new Error(`bench: ${h.net.counters.txPackets} packets transmitted of ${packets}`);
  return { perSec: packets / (ns / 1e9), notifies: notifies / packets, signals: q.counters.interrupts / packets, interrupts: interrupts / packets, segments: frames / (ns / 1e9) };
}

function rxRun(eventIdx: boolean, frames: number): Run {
  const h = harness(eventIdx);
  const ring = h.rxRing();
  h.postRx(RING, 1536);
  const frame = tcpFrame({ srcMac: PEER_MAC, dstMac: GUEST_MAC, src: PEER_IP4, dst: GUEST_IP4, payload: pattern(1514 - 54) });
  if (((frame[12]! << 8) | frame[13]!) !== ETH_P_IP) throw new Error('bench: not an IPv4 frame');
  const sink = h.backend.onFrame!;
  const q = h.queue(0);
  const notesBefore = q.counters.notifications;
  let interrupts = 0;
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < frames; done += BURST) {
    for (let i = 0; i < BURST; i++) sink(frame);
    h.port.deliver();
    if (h.mmio.ack() !== 0) interrupts++;
    const used = ring.takeUsed();
    for (let i = 0; i < used.length; i++) ring.add([{ len: 1536 }], { defer: true });
    if (ring.publish()) h.mmio.notify(0);
    if (eventIdx) ring.usedEvent = ring.lastUsed;
  }
  const ns = Number(process.hrtime.bigint() - t0);
  if (h.net.counters.rxFrames !== frames) throw new Error(`bench: ${h.net.counters.rxFrames} frames received of ${frames} (drops ${JSON.stringify(h.net.counters.drops)})`);
  return { perSec: frames / (ns / 1e9), notifies: (q.counters.notifications - notesBefore) / frames, signals: q.counters.interrupts / frames, interrupts: interrupts / frames };
}

const fmt = (r: Run[], what: string): string => {
  const f = r[0]!;
  return `${(median(r.map((x) => x.perSec)) / 1e3).toFixed(0)} k ${what}/s, ${f.notifies.toFixed(3)} notifications, ${f.signals.toFixed(3)} signals, ${f.interrupts.toFixed(3)} interrupts per packet`;
};

export async function main(args: string[]): Promise<void> {
  const i = args.indexOf('--runs');
  const runs = i >= 0 ? Number(args[i + 1]) : 5;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs ${args[i + 1]}: a whole number of runs, at least 1`);
  console.log(`command: node dist/bench/virtio-net.js --runs ${runs}  (node ${process.version}, ${process.platform}/${process.arch})`);
  let headline = 0;
  for (const eventIdx of [false, true]) {
    const r = Array.from({ length: runs }, () => txRun(eventIdx, 80_000, false));
    if (eventIdx) headline = median(r.map((x) => x.perSec));
    console.log(`tx 1514-byte frames, NEEDS_CSUM, bursts of ${BURST}, EVENT_IDX ${eventIdx ? 'on ' : 'off'}: ${fmt(r, 'frames')}`);
  }
  const tso = Array.from({ length: runs }, () => txRun(true, 2_000, true));
  const segs = median(tso.map((x) => x.segments));
  console.log(`tx TSO 64000-byte packets, gso_size 1448, EVENT_IDX on: ${(median(tso.map((x) => x.perSec)) / 1e3).toFixed(1)} k packets/s = ${(segs / 1e3).toFixed(0)} k segments/s (${(segs * 1448 * 8 / 1e9).toFixed(2)} Gb/s of payload)`);
  for (const eventIdx of [false, true]) {
    const r = Array.from({ length: runs }, () => rxRun(eventIdx, 80_000));
    console.log(`rx 1514-byte frames into mergeable buffers, ${BURST} per delivery, EVENT_IDX ${eventIdx ? 'on ' : 'off'}: ${fmt(r, 'frames')}`);
  }
  console.log(`virtio-net: ${(headline / 1e3).toFixed(0)} k frames/s`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e: unknown) => { console.error(`bench virtio-net: ${e instanceof Error ? e.message : String(e)}`); process.exitCode = 1; });
}
