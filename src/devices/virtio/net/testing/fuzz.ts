// The virtio-net fuzzer: N seeded runs, each a fresh guest and device with random features, pairs and ring sizes,
// driven by a mostly hostile driver — transmit chains with random headers (flags, gso_type, gso_size, hdr_len,
// csum_start/offset), mangled or random packets, odd descriptor layouts; control commands of every class with
// random lengths and values; receive buffers of any size (some unusable) and random frames from the backend.
//
// The oracle: nothing throws, nothing outside guest RAM is touched, every transmit and control chain comes back
// (unless the device marked itself DEVICE_NEEDS_RESET), transmit used lengths are 0 and acks are OK/ERR, every frame
// an offload produced checks out by an independent checksum, every received packet is a frame that was injected,
// the counters add up, and no run takes a second. A finding names the seed that reproduces it.
//
// Run: node dist/src/devices/virtio/net/testing/fuzz.js --count N --seed S [--verbose]

import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { arpRequest, ethFrame, inetChecksum } from '../../../../backends/net/testing/frames.js';
import { GsoSegmenter, type GsoInfo } from '../../../../backends/net/gso.js';
import { VIRTIO_CONFIG_S_FEATURES_OK, VIRTIO_CONFIG_S_NEEDS_RESET, feature } from '../../constants.js';
import { Prng } from '../../testing/prng.js';
import type { Segment } from '../../testing/mock-driver.js';
import {
  VIRTIO_NET_F_CSUM, VIRTIO_NET_F_CTRL_MAC_ADDR, VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_ECN,
  VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_HOST_ECN,
  VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_MQ, VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_STATUS,
  VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_ECN, VIRTIO_NET_HDR_GSO_NONE, VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6,
} from '../constants.js';
import { NetHarness, encodeHdr, type NetHdr } from './driver.js';
import { GUEST_MAC, PEER_MAC, pattern, pseudoHeader, tcpFrame, udpFrame } from './packets.js';

export interface NetFuzzFinding { seed: number; what: string }

export interface NetFuzzReport {
  runs: number;
  refusedFeatures: number;
  txChains: number;
  framesOut: number;
  ctrlCommands: number;
  framesIn: number;
  /** Frames an offload produced that the independent checksum oracle checked. */
  offloadChecked: number;
  broken: number;
  seconds: number;
  slowestMs: number;
  /** Runs that took over a second and were timed again (a second slow run is a finding). */
  slowRetried: number;
  findings: NetFuzzFinding[];
}

const MAYBE = [VIRTIO_NET_F_CSUM, VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_HOST_ECN,
  VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_ECN,
  VIRTIO_NET_F_MRG_RXBUF, VIRTIO_NET_F_STATUS, VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_CTRL_MAC_ADDR, VIRTIO_NET_F_MQ];

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** An independent check: the Internet checksum of the frame's TCP/UDP segment with its pseudo-header is 0. */
export function l4ChecksumOk(f: Uint8Array): boolean {
  if (f.length < 14) return false;
  const type = (f[12]! << 8) | f[13]!;
  if (type !== 0x0800 && type !== 0x86dd) return false;
  const v6 = type === 0x86dd;
  const ip = f.subarray(14);
  if (ip.length < (v6 ? 40 : 20)) return false;
  const hl = v6 ? 40 : (ip[0]! & 15) * 4;
  const len = v6 ? ((ip[4]! << 8) | ip[5]!) : ((ip[2]! << 8) | ip[3]!) - hl;
  const proto = v6 ? ip[6]! : ip[9]!;
  if (len < 0 || hl + len > ip.length || (proto !== 6 && proto !== 17)) return false;
  const all = new Uint8Array((v6 ? 40 : 12) + len);
  all.set(pseudoHeader(v6, v6 ? ip.subarray(8, 24) : ip.subarray(12, 16), v6 ? ip.subarray(24, 40) : ip.subarray(16, 20), proto, len));
  all.set(ip.subarray(hl, hl + len), v6 ? 40 : 12);
  return inetChecksum(all) === 0;
}

function pick16(rng: Prng, plausible: readonly number[]): number { return rng.chance(0.7) ? rng.pick(plausible) : rng.below(0x10000); }

/** A packet the driver might send: well-formed TCP/UDP/ARP, mangled, truncated or random. */
function txPacket(rng: Prng): { frame: Uint8Array; kind: 'tcp4' | 'tcp6' | 'other' } {
  const v6 = rng.chance(0.4);
  const r = rng.below(10);
  let frame: Uint8Array;
  let kind: 'tcp4' | 'tcp6' | 'other' = 'other';
  if (r < 5) {
    frame = tcpFrame({ v6, payload: pattern(rng.chance(0.3) ? rng.range(0, 64000) : rng.range(0, 3000), rng.u32()), csum: 'partial', seq: rng.u32(), flags: rng.below(256), ipId: rng.below(0x10000), options: rng.chance(0.5) ? new Uint8Array(4 * rng.range(0, 10)) : new Uint8Array(0) });
    kind = v6 ? 'tcp6' : 'tcp4';
  } else if (r < 7) {
    frame = udpFrame({ v6, payload: pattern(rng.range(0, 2000)), csum: rng.pick(['partial', 'full', 'zero'] as const) });
  } else if (r < 8) {
    frame = arpRequest(GUEST_MAC, Uint8Array.of(10, 0, 2, 15), Uint8Array.of(10, 0, 2, 2));
  } else {
    frame = new Uint8Array(rng.chance(0.05) ? rng.range(65000, 66000) : rng.range(0, 200));
    rng.fill(frame);
  }
  if (rng.chance(0.3) && frame.length > 14) for (let m = rng.range(1, 4); m > 0; m--) frame[rng.range(12, Math.min(frame.length - 1, 80))] = rng.below(256);
  if (rng.chance(0.1)) frame = frame.subarray(0, rng.range(0, frame.length));
  return { frame, kind };
}

function txHeader(rng: Prng, kind: string, frameLen: number): Partial<NetHdr> {
  const tso = (kind === 'tcp4' || kind === 'tcp6') && rng.chance(0.5);
  const l4 = kind === 'tcp6' ? 54 : 34;
  return {
    flags: rng.chance(0.7) ? VIRTIO_NET_HDR_F_NEEDS_CSUM : rng.below(256),
    gsoType: tso ? (kind === 'tcp6' ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4) | (rng.chance(0.1) ? VIRTIO_NET_HDR_GSO_ECN : 0)
      : rng.chance(0.8) ? VIRTIO_NET_HDR_GSO_NONE : rng.below(256),
    gsoSize: pick16(rng, [0, 1, 7, 8, 536, 1448, 9000, 65535]),
    hdrLen: pick16(rng, [0, 54, 66, frameLen, 65535]),
    csumStart: pick16(rng, [l4, 0, frameLen, frameLen - 1, 65535]),
    csumOffset: pick16(rng, [16, 6, 0, 65535]),
    numBuffers: rng.below(3),
  };
}

/** Cuts header + packet into readable segments (some empty), sometimes adding writable ones or dropping the packet. */
function txSegments(rng: Prng, hdr: Uint8Array, frame: Uint8Array, maxSegs: number): Segment[] {
  const all = new Uint8Array(hdr.length + frame.length);
  all.set(hdr);
  all.set(frame, hdr.length);
  const shape = rng.below(10);
  if (shape === 0) return [{ len: rng.range(0, 100) }];
  if (shape === 1) return [{ data: all.slice(0, rng.range(0, 11)) }];
  const n = rng.range(1, Math.max(1, Math.min(4, maxSegs - 1)));
  const cuts = [0, ...Array.from({ length: n - 1 }, () => rng.range(0, all.length)).sort((a, b) => a - b), all.length];
  const segs: Segment[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) segs.push({ data: all.slice(cuts[i], cuts[i + 1]) });
  if (shape === 2) segs.push({ len: rng.range(1, 64) });
  return segs;
}

function ctrlCommand(rng: Prng): { readable: Uint8Array; ackLen: number } {
  const cls = rng.chance(0.8) ? rng.range(0, 6) : rng.below(256);
  const cmd = rng.chance(0.8) ? rng.range(0, 3) : rng.below(256);
  let data: Uint8Array;
  if (cls === 1 && cmd === 0 && rng.chance(0.6)) {
    const uni = rng.chance(0.8) ? rng.range(0, 3) : rng.u32(), multi = rng.chance(0.8) ? rng.range(0, 70) : rng.u32();
    const body = 6 * Math.min(uni, 4) + 6 * Math.min(multi, 70) + rng.range(-3, 3);
    data = new Uint8Array(Math.max(0, 8 + body));
    const v = new DataView(data.buffer);
    v.setUint32(0, uni, true);
    if (data.length >= 4 + 6 * Math.min(uni, 4) + 4) v.setUint32(4 + 6 * Math.min(uni, 4), multi, true);
  } else {
    data = new Uint8Array(rng.chance(0.7) ? rng.pick([0, 1, 2, 6]) : rng.range(0, 40));
    rng.fill(data);
    if (data.length >= 1 && rng.chance(0.5)) data[0] = rng.below(3);
    if (data.length === 2 && rng.chance(0.5)) data[1] = 0;
  }
  const readable = new Uint8Array(2 + data.length);
  readable[0] = cls; readable[1] = cmd;
  readable.set(data, 2);
  return { readable: rng.chance(0.05) ? readable.subarray(0, rng.range(0, 1)) : readable, ackLen: rng.chance(0.9) ? 1 : rng.pick([0, 2, 5]) };
}

/** One run: its findings (empty when all is well), added to the report. */
export function fuzzNetRun(seed: number, report: NetFuzzReport, retry = false): NetFuzzFinding[] {
  const rng = new Prng(seed);
  const findings: NetFuzzFinding[] = [];
  const find = (what: string): void => { findings.push({ seed, what }); };
  const pairs = rng.range(1, 3);
  const t0 = performance.now();
  let h: NetHarness;
  try {
    h = new NetHarness({
      net: { queuePairs: pairs, queueSize: 64 },
      ringSize: 1 << rng.range(3, 6),
      eventIdx: rng.chance(0.5),
      dataPerRing: 0x18_0000,
      accept: (o) => {
        let f = o;
        for (const b of MAYBE) if (rng.chance(0.25)) f &= ~feature(b);
        // Mostly a driver that keeps §5.1.3.1's dependencies (Linux does); sometimes one that breaks them.
        if (rng.chance(0.85)) {
          if ((f & feature(VIRTIO_NET_F_CSUM)) === 0n) f &= ~(feature(VIRTIO_NET_F_HOST_TSO4) | feature(VIRTIO_NET_F_HOST_TSO6));
          if ((f & (feature(VIRTIO_NET_F_HOST_TSO4) | feature(VIRTIO_NET_F_HOST_TSO6))) === 0n) f &= ~feature(VIRTIO_NET_F_HOST_ECN);
          if ((f & feature(VIRTIO_NET_F_CTRL_VQ)) === 0n) f &= ~(feature(VIRTIO_NET_F_CTRL_RX) | feature(VIRTIO_NET_F_CTRL_MAC_ADDR) | feature(VIRTIO_NET_F_MQ));
          if ((f & feature(VIRTIO_NET_F_GUEST_CSUM)) === 0n) f &= ~(feature(VIRTIO_NET_F_GUEST_TSO4) | feature(VIRTIO_NET_F_GUEST_TSO6));
          if ((f & (feature(VIRTIO_NET_F_GUEST_TSO4) | feature(VIRTIO_NET_F_GUEST_TSO6))) === 0n) f &= ~feature(VIRTIO_NET_F_GUEST_ECN);
        }
        return f;
      },
    });
  } catch (e) {
    find(`the harness could not start: ${(e as Error).stack ?? String(e)}`);
    report.findings.push(...findings);
    return findings;
  }
  report.runs++;
  if ((h.status & VIRTIO_CONFIG_S_FEATURES_OK) === 0) { report.refusedFeatures++; return findings; }
  // Sometimes the port is a switch's: TSO packets may leave whole (the device checks them as for cutting).
  h.backend.acceptsGso = rng.chance(0.3);
  const injected = new Set<string>();
  const segmenter = new GsoSegmenter();
  try {
    for (let step = rng.range(5, 40); step > 0; step--) {
      const what = rng.below(20);
      if (what < 8 && h.rings.length >= 2) {
        const pair = rng.below(Math.floor(h.rings.length / 2));
        const ring = h.txRing(pair);
        const { frame, kind } = txPacket(rng);
        const hdr = txHeader(rng, kind, frame.length);
        const segs = txSegments(rng, encodeHdr(hdr), frame, ring.size);
        if (ring.freeDescriptors < segs.length) continue;
        const before = h.backend.sent.length;
        const csumBefore = h.net.counters.txCsumComputed;
        const tsoBefore = h.net.counters.tsoSegments;
        const wholeBefore = h.net.counters.tsoWhole;
        h.post(ring, segs, 2 * pair + 1, rng.chance(0.3));
        report.txChains++;
        for (const u of ring.takeUsed()) if (u.len !== 0) find(`a transmit chain came back with used length ${u.len}`);
        const out = h.backend.sent.slice(before);
        if (h.net.counters.tsoWhole > wholeBefore) {
          const g = h.backend.sentGso[before];
          if (out.length !== 1 || hex(out[0]!) !== hex(frame)) find('a TSO packet passed on whole is not the packet the driver sent');
          else if (g === null || g === undefined || g.hdrLen > frame.length || g.csumStart + g.csumOffset + 2 > frame.length || g.size < 8) find(`a TSO packet passed on whole with a GsoInfo that does not fit it: ${JSON.stringify(g)}`);
          // Cut here as a receiver's port would: each segment must check out.
          else if (!segmenter.segment(out[0]!, g, (seg) => { report.offloadChecked++; if (!l4ChecksumOk(seg)) find('a segment of a packet passed on whole fails the checksum'); })) find('a TSO packet passed on whole cannot be cut');
        } else if (h.net.counters.tsoSegments > tsoBefore) {
          for (const f of out) { report.offloadChecked++; if (!l4ChecksumOk(f)) find(`a TSO segment fails the independent checksum: ${hex(f.subarray(0, 80))}`); }
        } else if (h.net.counters.txCsumComputed > csumBefore && out.length === 1 && hdr.csumOffset! % 2 === 0) {
          // The field held the driver's partial sum F; with F counted, the range from csum_start must sum to zero.
          report.offloadChecked++;
          const start = hdr.csumStart!, at = start + hdr.csumOffset!;
          const withF = new Uint8Array(2 + out[0]!.length - start);
          withF.set(frame.subarray(at, at + 2));
          withF.set(out[0]!.subarray(start), 2);
          if (inetChecksum(withF) !== 0) find(`a NEEDS_CSUM frame does not check out from csum_start ${start}`);
        }
      } else if (what < 11 && (h.features & feature(VIRTIO_NET_F_CTRL_VQ)) !== 0n) {
        if (h.ctrlRing.freeDescriptors < 2) continue; // a broken device stops returning chains
        const { readable, ackLen } = ctrlCommand(rng);
        const r = h.rawCommand(readable, ackLen);
        report.ctrlCommands++;
        for (const u of r.used) if (u.len > 1) find(`a control chain came back with used length ${u.len}`);
        if (r.ack !== null && r.ack > 1) find(`ack ${r.ack}`);
      } else if (what < 15) {
        const pair = rng.below(Math.floor(h.rings.length / 2) || 1);
        const ring = h.rxRing(pair);
        const n = rng.range(1, 6);
        if (ring.freeDescriptors < 3 * n) continue;
        if (rng.chance(0.1)) h.post(ring, [{ data: new Uint8Array(rng.range(0, 32)) }], 2 * pair);
        else if (rng.chance(0.03)) {
          const c = ring.add([{ len: 2048 }], { defer: true })!;
          ring.writeDesc(ring.desc, c.ids[0]!, rng.pick([0, 0x1000, 0x7fff_f000, 2 ** 52]), 2048, 2, 0); // outside RAM
          if (ring.publish()) h.mmio.notify(2 * pair);
        } else h.postRx(n, rng.chance(0.2) ? rng.range(0, 200) : rng.pick([1526, 1536, 2048, 4096, 65562]), { pair, pieces: rng.range(1, 3) });
      } else if (what < 19) {
        const f = rng.chance(0.5) ? tcpFrame({ srcMac: PEER_MAC, dstMac: rng.chance(0.8) ? GUEST_MAC : Uint8Array.of(1, 0, 0x5e, 0, 0, 1), payload: pattern(rng.range(0, 3000), rng.u32()), csum: rng.pick(['full', 'partial'] as const) })
          : ethFrame(rng.chance(0.5) ? GUEST_MAC : PEER_MAC, PEER_MAC, rng.below(0x10000), pattern(rng.range(0, 9000), rng.u32()));
        if (rng.chance(0.2) && f.length > 200) {
          // A large packet from the switch: well-formed mostly, hostile sometimes (the port or the driver must cope).
          const g: GsoInfo = rng.chance(0.8)
            ? { v6: false, ecn: rng.chance(0.1), size: rng.range(8, 1460), csumStart: 34, hdrLen: 54, csumOffset: 16 }
            : { v6: rng.chance(0.5), ecn: rng.chance(0.5), size: rng.range(0, 70000), csumStart: rng.range(0, f.length + 10), hdrLen: rng.range(0, 70000), csumOffset: rng.range(0, 40) };
          injected.add(hex(f));
          segmenter.segment(f, g, (seg) => { injected.add(hex(seg)); });
          h.backend.inject(f, g);
          h.port.deliver();
          continue;
        }
        injected.add(hex(f));
        h.inject(f);
      } else {
        h.backend.linkUp = rng.chance(0.7);
        h.net.updateLink();
      }
    }
    let got = 0;
    for (let p = 0; p < Math.floor(h.rings.length / 2); p++) {
      for (const pkt of h.takeRx(p)) {
        got++;
        if (pkt.buffers === 0) continue; // a buffer returned unused (too small for a header)
        if (!injected.has(hex(pkt.frame))) find(`received a frame that was never injected (${pkt.frame.length} bytes)`);
      }
    }
    report.framesIn += h.net.counters.rxFrames;
    if (got < h.net.counters.rxFrames) find(`the device counts ${h.net.counters.rxFrames} frames received, the driver found ${got}`);
  } catch (e) {
    find(`an exception escaped: ${(e as Error).stack ?? String(e)}`);
  }
  let ms = performance.now() - t0;
  if (ms > 1000 && !retry) {
    // A stall of the host (GC, another process on a shared machine) is not the run's: time it again, alone.
    report.slowRetried++;
    const t1 = performance.now();
    fuzzNetRun(seed, blankNetReport(), true);
    ms = performance.now() - t1;
  }
  report.slowestMs = Math.max(report.slowestMs, ms);
  if (ms > 1000) find(`the run took ${ms.toFixed(0)} ms, twice`);
  if (h.guest.dma.outside.length > 0) find(`${h.guest.dma.outside.length} DMA accesses outside RAM`);
  const broken = (h.status & VIRTIO_CONFIG_S_NEEDS_RESET) !== 0;
  if (broken) report.broken++;
  h.rings.forEach((_, i) => {
    if (i % 2 === 0 && i !== h.ctrlIndex) return; // receive queues hold buffers by design
    const q = h.queue(i);
    if (q.inFlight !== 0 && !broken) find(`queue ${i}: ${q.inFlight} chains taken and never returned`);
  });
  const c = h.net.counters, pc = h.port.counters;
  if (c.txFrames !== pc.txFrames + pc.txDropped) find(`device sent ${c.txFrames} frames, the port saw ${pc.txFrames} + ${pc.txDropped} dropped`);
  if (pc.txFrames !== h.backend.sent.length) find(`port passed ${pc.txFrames}, backend got ${h.backend.sent.length}`);
  report.framesOut += c.txFrames;
  report.findings.push(...findings);
  return findings;
}

function blankNetReport(): NetFuzzReport {
  return { runs: 0, refusedFeatures: 0, txChains: 0, framesOut: 0, ctrlCommands: 0, framesIn: 0, offloadChecked: 0, broken: 0, seconds: 0, slowestMs: 0, slowRetried: 0, findings: [] };
}

export function fuzzNet(count: number, seed: number, onFinding: (f: NetFuzzFinding) => void = () => {}): NetFuzzReport {
  const report = blankNetReport();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) for (const f of fuzzNetRun((seed + Math.imul(i, 0x9e3779b1)) >>> 0, report)) onFinding(f);
  report.seconds = (performance.now() - t0) / 1000;
  return report;
}

export function main(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { count: { type: 'string', default: '200' }, seed: { type: 'string', default: '1' }, verbose: { type: 'boolean', default: false } } });
  const count = Number(values.count), seed = Number(values.seed);
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(seed)) {
    process.stderr.write('usage: fuzz.js --count N (≥1) --seed S (integer) [--verbose]\n');
    return 2;
  }
  const r = fuzzNet(count, seed, (f) => { if (values.verbose) process.stderr.write(`finding: seed ${f.seed}: ${f.what}\n`); });
  console.log(`virtio-net fuzz: ${r.runs} runs (${r.refusedFeatures} with refused features), seed ${seed}, ${r.seconds.toFixed(2)} s (slowest ${r.slowestMs.toFixed(1)} ms, ${r.slowRetried} timed again)`);
  console.log(`transmit chains ${r.txChains}, frames out ${r.framesOut}, control commands ${r.ctrlCommands}, frames in ${r.framesIn}, offloaded frames checked ${r.offloadChecked}, devices left DEVICE_NEEDS_RESET ${r.broken}`);
  console.log(`findings: ${r.findings.length}`);
  for (const f of r.findings.slice(0, 20)) console.log(`  seed ${f.seed}: ${f.what.split('\n')[0]}`);
  return r.findings.length > 0 ? 1 : 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
