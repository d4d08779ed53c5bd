// End-to-end direct I/O, first step: the driver domain. Stock Linux igb drives vmio's 82576 PF (--nic model=igb):
// probe, link, and a ping across the in-process switch to a VM on an e1000.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVmio } from '../../src/testing/run-vmio.js';

const tmp = mkdtempSync(join(tmpdir(), 'vmio-igb-e2e-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

interface Report { vms: Record<string, { devices: Record<string, { device: Record<string, number> }> }> }

test('stock igb probes the 82576 PF, brings its link up and pings a VM on an e1000 across the switch', async () => {
  const file = join(tmp, 'igb-ping.json');
  const metrics = join(tmp, 'igb-ping.metrics.json');
  // b (e1000) is ready several guest seconds after a: a waits for it before pinging.
  writeFileSync(file, JSON.stringify({ vms: [
    { name: 'a', memory: 128, nics: ['switch=lan,model=igb,mac=52:54:00:00:0a:01'], input: 'ip addr add 10.0.0.1/24 dev eth0; ip link set eth0 up; sleep 12; ping -c 3 10.0.0.2; poweroff\n' },
    { name: 'b', memory: 128, nics: ['switch=lan,model=e1000'], input: 'ip addr add 10.0.0.2/24 dev eth0; ip link set eth0 up; sleep 30; poweroff\n' },
  ] }));
  const r = await runVmio(['run', '--config', file, '--timeout', '300', '--metrics', metrics]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\[a\] igb 0000:00:01\.0: eth0: \(PCIe:2\.5Gb\/s:Width x1\) 52:54:00:00:0a:01/);
  assert.match(r.stdout, /\[a\] igb 0000:00:01\.0: Using MSI-X interrupts/);
  assert.match(r.stdout, /\[a\] igb 0000:00:01\.0 eth0: igb: eth0 NIC Link is Up 1000 Mbps Full Duplex/);
  assert.match(r.stdout, /\[a\] 3 packets transmitted, 3 packets received, 0% packet loss/);
  const igb = (JSON.parse(readFileSync(metrics, 'utf8')) as Report).vms['a']!.devices['eth0 igb']!.device;
  assert.ok(igb['uplinkFrames']! >= 3 && igb['rxFrames']! >= 3, `the PF moved the ping's frames itself: ${JSON.stringify(igb)}`);
});
