// pcap capture: exact file and record layout, timestamps from virtual time, snaplen, captures on a backend in both
// directions, the capture-only backend, and — when tshark is installed — tshark reading our files back, after first
// showing that tshark rejects a damaged one.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CapturedBackend, LINKTYPE_ETHERNET, PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC, PCAP_SNAPLEN, PcapBackend, PcapWriter, splitTimestamp,
  type PcapClock,
} from '../../../src/backends/net/pcap.js';
import { NicPort } from '../../../src/backends/net/port.js';
import { RecordingNic, ScriptedBackend, ethFrame, mac } from '../../../src/backends/net/testing/frames.js';

const tmp = mkdtempSync(join(tmpdir(), 'vmio-pcap-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const MA = mac('52:54:00:00:00:0a');
const MB = mac('52:54:00:00:00:0b');

/** A 10 MHz virtual clock the test sets. */
function clock(): PcapClock & { ticks: number } {
  const c = { ticks: 0, frequency: 10_000_000, now: () => c.ticks };
  return c;
}

function frame(dst: Uint8Array, src: Uint8Array, len: number, tag: number): Uint8Array {
  const p = new Uint8Array(len - 14);
  p[0] = tag;
  return ethFrame(dst, src, 0x88b5, p);
}

interface Rec { sec: number; frac: number; incl: number; orig: number; data: Uint8Array }

/** Our own reader, for layout checks (tshark is the independent oracle below). */
function readPcap(file: Uint8Array): { magic: number; major: number; minor: number; snaplen: number; linktype: number; records: Rec[] } {
  const bytes = new Uint8Array(file); // a plain copy, so record data compares equal to Uint8Array frames
  const v = new DataView(bytes.buffer);
  const records: Rec[] = [];
  for (let off = 24; off < bytes.length;) {
    const incl = v.getUint32(off + 8, true);
    records.push({ sec: v.getUint32(off, true), frac: v.getUint32(off + 4, true), incl, orig: v.getUint32(off + 12, true), data: bytes.slice(off + 16, off + 16 + incl) });
    off += 16 + incl;
  }
  return { magic: v.getUint32(0, true), major: v.getUint16(4, true), minor: v.getUint16(6, true), snaplen: v.getUint32(16, true), linktype: v.getUint32(20, true), records };
}

test('file header: magic, version 2.4, snaplen 65535, LINKTYPE_ETHERNET; nanoseconds by default', () => {
  const file = join(tmp, 'hdr.pcap');
  PcapWriter.toFile(file, clock()).close();
  const bytes = readFileSync(file);
  assert.equal(bytes.length, 24);
  const h = readPcap(bytes);
  assert.deepEqual([h.magic, h.major, h.minor, h.snaplen, h.linktype], [PCAP_MAGIC_NSEC, 2, 4, PCAP_SNAPLEN, LINKTYPE_ETHERNET]);
  assert.deepEqual([...bytes.subarray(0, 4)], [0x4d, 0x3c, 0xb2, 0xa1], 'little-endian on disk');
  const us = join(tmp, 'hdr-us.pcap');
  PcapWriter.toFile(us, clock(), { resolution: 'us' }).close();
  assert.equal(readPcap(readFileSync(us)).magic, PCAP_MAGIC_USEC);
});

test('records carry virtual time exactly, and frames longer than the snaplen are cut with their length kept', () => {
  const c = clock();
  const file = join(tmp, 'rec.pcap');
  const w = PcapWriter.toFile(file, c);
  c.ticks = 12_345_678_901; // 1234.5678901 s
  w.record(frame(MB, MA, 60, 1));
  const giant = frame(MB, MA, 70_000, 2);
  w.recordAt(5, giant);
  w.close();
  const r = readPcap(readFileSync(file)).records;
  assert.equal(r.length, 2);
  assert.deepEqual([r[0]!.sec, r[0]!.frac, r[0]!.incl, r[0]!.orig], [1234, 567_890_100, 60, 60]);
  assert.deepEqual(r[0]!.data, frame(MB, MA, 60, 1));
  assert.deepEqual([r[1]!.sec, r[1]!.frac, r[1]!.incl, r[1]!.orig], [0, 500, PCAP_SNAPLEN, 70_000]);
  assert.deepEqual(r[1]!.data, giant.subarray(0, PCAP_SNAPLEN));
  assert.equal(w.frames, 2);
});

test('timestamp split is exact for any clock frequency', () => {
  assert.deepEqual(splitTimestamp(12_345_678_901, 10_000_000, 1_000_000), [1234, 567_890]);
  assert.deepEqual(splitTimestamp(3 * 7_000_001 + 7_000_000, 7_000_001, 1_000_000_000), [3, 999_999_857]); // floor(7e6 * 1e9 / 7000001)
  assert.deepEqual(splitTimestamp(999, 1000, 1_000_000_000), [0, 999_000_000]);
});

test('a capture on a backend records both directions in order; the frames pass through unchanged', () => {
  const c = clock();
  const file = join(tmp, 'both.pcap');
  const inner = new ScriptedBackend('tap');
  const cap = new CapturedBackend(inner, PcapWriter.toFile(file, c));
  const nic = new RecordingNic();
  const port = new NicPort(cap, nic, { deterministic: true });
  c.ticks = 100;
  port.send(frame(MB, MA, 60, 1));
  c.ticks = 200;
  inner.inject(frame(MA, MB, 64, 2));
  port.deliver();
  cap.close();
  assert.equal(inner.closed, true);
  assert.deepEqual(inner.sent, [frame(MB, MA, 60, 1)]);
  assert.deepEqual(nic.frames, [frame(MA, MB, 64, 2)]);
  const r = readPcap(readFileSync(file)).records;
  assert.deepEqual(r.map((x) => [x.frac, x.data[14]]), [[10_000, 1], [20_000, 2]]);
});

test('pcap=FILE backend: records what the guest sends, never delivers anything', () => {
  const c = clock();
  const file = join(tmp, 'sink.pcap');
  const sink = new PcapBackend('pcap', PcapWriter.toFile(file, c));
  const nic = new RecordingNic();
  const port = new NicPort(sink, nic, { deterministic: true });
  assert.equal(port.linkUp, true);
  assert.equal(port.live(), false);
  for (let i = 0; i < 3; i++) { c.ticks += 1000; port.send(frame(MB, MA, 60 + i, i)); }
  sink.close();
  assert.equal(port.ready(), false);
  assert.equal(nic.frames.length, 0);
  assert.deepEqual(readPcap(readFileSync(file)).records.map((x) => x.incl), [60, 61, 62]);
  assert.equal(sink.counters.txFrames, 3);
});

test('the same frames at the same virtual times give byte-identical files', () => {
  const run = (name: string): Buffer => {
    const c = clock();
    const file = join(tmp, name);
    const w = PcapWriter.toFile(file, c);
    for (let i = 0; i < 2000; i++) { c.ticks += 1234 * i; w.record(frame(MB, MA, 60 + (i % 1400), i & 0xff)); }
    w.close();
    return readFileSync(file);
  };
  const a = run('det-a.pcap');
  assert.ok(a.length > 64 * 1024, 'spans several buffer flushes');
  assert.deepEqual(a, run('det-b.pcap'));
});

function tshark(file: string, fields: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync('tshark', ['-r', file, '-T', 'fields', '-E', 'separator=,', ...fields.flatMap((f) => ['-e', f])], { encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

test('tshark reads our captures (after proving it rejects damaged ones)', (t) => {
  if (spawnSync('tshark', ['-v'], { encoding: 'utf8' }).status !== 0) {
    console.log('skipped: tshark is not installed (apt-get install -y tshark)');
    t.skip('tshark is not installed');
    return;
  }
  const c = clock();
  const file = join(tmp, 'tshark.pcap');
  const w = PcapWriter.toFile(file, c);
  c.ticks = 15_000_000; // 1.5 s
  w.record(frame(MB, MA, 60, 1));
  c.ticks = 25_000_001; // 2.5000001 s
  w.record(frame(mac('ff:ff:ff:ff:ff:ff'), MB, 1514, 2));
  w.close();

  // The oracle can fail: a file with a bad magic, and our file with a record length past the snaplen.
  const junk = join(tmp, 'junk.pcap');
  writeFileSync(junk, Buffer.from('this is not a capture file at all'));
  const j = tshark(junk, ['eth.src']);
  assert.notEqual(j.status, 0);
  assert.match(j.err, /isn't a capture file|format/i);
  const damaged = Buffer.from(readFileSync(file));
  damaged.writeUInt32LE(0x7fffffff, 24 + 8);
  const dmg = join(tmp, 'damaged.pcap');
  writeFileSync(dmg, damaged);
  const d = tshark(dmg, ['eth.src']);
  assert.ok(d.status !== 0 || /damaged|corrupt|bigger than/i.test(d.err), `tshark accepted a damaged record: ${d.status} ${d.err}`);

  const ok = tshark(file, ['frame.time_epoch', 'eth.src', 'eth.dst', 'eth.type', 'frame.len']);
  assert.equal(ok.status, 0, ok.err);
  const lines = ok.out.trim().split('\n').map((l) => l.split(','));
  assert.deepEqual(lines.map((l) => l.slice(1)), [
    ['52:54:00:00:00:0a', '52:54:00:00:00:0b', '0x88b5', '60'],
    ['52:54:00:00:00:0b', 'ff:ff:ff:ff:ff:ff', '0x88b5', '1514'],
  ]);
  assert.deepEqual(lines.map((l) => Number(l[0])), [1.5, 2.5000001], 'nanosecond timestamps from virtual time');
});
