// From a parsed spec to a backend, as the wiring point will do it for each NIC: switches shared by name, captures
// on virtual time, and nothing left attached when a capture cannot be created.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openNetBackend, type NetEnv } from '../../../src/backends/net/open.js';
import { parseNetSpec } from '../../../src/backends/net/spec.js';
import { NicPort, NullBackend } from '../../../src/backends/net/port.js';
import { CapturedBackend, PcapBackend } from '../../../src/backends/net/pcap.js';
import { SwitchPort } from '../../../src/backends/net/switch.js';
import { TapBackend } from '../../../src/backends/net/tap.js';
import { RecordingNic, ethFrame, mac } from '../../../src/backends/net/testing/frames.js';

const tmp = mkdtempSync(join(tmpdir(), 'vmio-open-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function env(): NetEnv & { ticks: number } {
  const e = { ticks: 0, switches: new Map(), clock: { frequency: 10_000_000, now: () => e.ticks } };
  return e;
}

test('none and pcap=FILE', () => {
  const e = env();
  assert.ok(openNetBackend(parseNetSpec('none'), e, 'eth0') instanceof NullBackend);
  const file = join(tmp, 'only.pcap');
  const b = openNetBackend(parseNetSpec(`pcap=${file}`), e, 'eth0');
  assert.ok(b instanceof PcapBackend);
  b.send(ethFrame(mac('ff:ff:ff:ff:ff:ff'), mac('52:54:00:00:00:01'), 0x88b5));
  b.close();
  assert.equal(readFileSync(file).length, 24 + 16 + 60);
});

test('switch=NAME: NICs naming the same switch share it; a capture on one port sees its traffic on virtual time', () => {
  const e = env();
  const file = join(tmp, 'port.pcap');
  const a = openNetBackend(parseNetSpec(`switch=br0,pcap=${file}`), e, 'vm1.eth0');
  const b = openNetBackend(parseNetSpec('switch=br0'), e, 'vm2.eth0');
  const other = openNetBackend(parseNetSpec('switch=br1'), e, 'vm3.eth0');
  assert.ok(a instanceof CapturedBackend && b instanceof SwitchPort && other instanceof SwitchPort);
  assert.equal(e.switches.size, 2);
  assert.deepEqual(e.switches.get('br0')!.portList.map((p) => p.name), ['vm1.eth0', 'vm2.eth0']);
  const nicB = new RecordingNic();
  const portB = new NicPort(b, nicB, { deterministic: true });
  const nicA = new RecordingNic();
  const portA = new NicPort(a, nicA, { deterministic: true });
  e.ticks = 10_000_000;
  portA.send(ethFrame(mac('ff:ff:ff:ff:ff:ff'), mac('52:54:00:00:00:01'), 0x88b5));
  portB.deliver();
  assert.equal(nicB.frames.length, 1);
  a.close();
  const bytes = readFileSync(file);
  assert.equal(bytes.readUInt32LE(24), 1, 'timestamp: 1 s of virtual time');
  assert.equal(e.switches.get('br0')!.portList.length, 1, 'closing the captured port left the switch');
  portA.close();
});

test('a capture that cannot be created is a clear error and leaves no switch port behind', () => {
  const e = env();
  assert.throws(() => openNetBackend(parseNetSpec('switch=br0,pcap=/nonexistent-dir/x.pcap'), e, 'eth0'), /cannot create pcap file '\/nonexistent-dir\/x.pcap': ENOENT; give a path in a writable directory/);
  assert.equal(e.switches.get('br0')!.portList.length, 0);
});

test('tap=IFNAME,pcap=FILE opens a captured TAP (root with /dev/net/tun only)', { timeout: 30_000 }, async (t) => {
  if (process.getuid?.() !== 0 || !existsSync('/dev/net/tun')) {
    const why = 'needs root and /dev/net/tun';
    console.log(`skipped: ${why}`);
    t.skip(why);
    return;
  }
  const e = env();
  const b = openNetBackend(parseNetSpec(`tap=vmto${process.pid % 1_000_000},pcap=${join(tmp, 'tap.pcap')}`), e, 'eth0');
  assert.ok(b instanceof CapturedBackend && b.inner instanceof TapBackend);
  assert.equal(b.linkUp, true);
  b.close();
  await (b.inner as TapBackend).closed;
});
