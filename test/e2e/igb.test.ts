// End-to-end direct I/O, first step: the driver domain. Stock Linux igb drives vmio's 82576 PF (--nic model=igb):
// probe, link, and a ping across the in-process switch to a VM on an e1000; then `sriov_numvfs` makes the PF's VFs
// appear as PCI functions of the same VM (PF + 0x80 + 2i), stock igbvf binds them over the mailbox, and a VF pings
// out through the NIC's embedded switch and uplink; writing 0 removes them again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVmio } from '../../src/testing/run-vmio.js';

const tmp = mkdtempSync(join(tmpdir(), 'vmio-igb-e2e-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

interface Report {
  vms: Record<string, { devices: Record<string, { device: Record<string, number> }>; regions: Record<string, { byClass: Record<string, number> }> }>;
}

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
  // A root-complex integrated endpoint (as on QEMU's root bus) has no link registers, hence "unknown".
  assert.match(r.stdout, /\[a\] igb 0000:00:01\.0: eth0: \(PCIe:unknown:unknown\) 52:54:00:00:0a:01/);
  assert.match(r.stdout, /\[a\] igb 0000:00:01\.0: Using MSI-X interrupts/);
  assert.match(r.stdout, /\[a\] igb 0000:00:01\.0 eth0: igb: eth0 NIC Link is Up 1000 Mbps Full Duplex/);
  assert.match(r.stdout, /\[a\] 3 packets transmitted, 3 packets received, 0% packet loss/);
  const igb = (JSON.parse(readFileSync(metrics, 'utf8')) as Report).vms['a']!.devices['eth0 igb']!.device;
  assert.ok(igb['uplinkFrames']! >= 3 && igb['rxFrames']! >= 3, `the PF moved the ping's frames itself: ${JSON.stringify(igb)}`);
});

test('sriov_numvfs: the VFs appear at PF + 0x80 + 2i in the driver domain, igbvf binds them, a VF pings out, 0 removes them', async () => {
  const file = join(tmp, 'igb-vfs.json');
  const metrics = join(tmp, 'igb-vfs.metrics.json');
  const sysfs = '/sys/bus/pci/devices/0000:00:01.0/sriov_numvfs';
  writeFileSync(file, JSON.stringify({ vms: [
    { name: 'a', memory: 128, nics: ['switch=lan,model=igb'], input: [
      `ip link set eth0 up; echo 2 > ${sysfs}; echo VFS-ON; lspci -n`,
      'ip addr add 10.0.0.3/24 dev eth1; ip link set eth1 up; sleep 12; ping -c 3 10.0.0.2',
      `ip link set eth1 down; echo 0 > ${sysfs}; echo VFS-OFF; lspci -n; poweroff`, ''].join('\n') },
    { name: 'b', memory: 128, nics: ['switch=lan,model=e1000'], input: 'ip addr add 10.0.0.2/24 dev eth0; ip link set eth0 up; sleep 40; poweroff\n' },
  ] }));
  const r = await runVmio(['run', '--config', file, '--timeout', '300', '--metrics', metrics]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const a = r.stdout.split('\n').filter((l) => l.startsWith('[a] ')).map((l) => l.slice(4)).join('\n');
  assert.match(a, /igb 0000:00:01\.0: 2 VFs allocated/);
  for (const vf of ['00:11.0', '00:11.2']) {
    assert.match(a, new RegExp(`pci 0000:${vf}: \\[8086:10ca\\] type 00 class 0x020000`));
    assert.match(a, new RegExp(`igbvf 0000:${vf}: Address: [0-9a-f]{2}(:[0-9a-f]{2}){5}`), 'the mailbox handshake gave igbvf its MAC');
  }
  const on = a.slice(a.lastIndexOf('\nVFS-ON'), a.lastIndexOf('\nVFS-OFF'));
  const off = a.slice(a.lastIndexOf('\nVFS-OFF'));
  assert.match(on, /00:11\.0 Class 0200: 8086:10ca/);
  assert.match(on, /00:11\.2 Class 0200: 8086:10ca/);
  assert.match(a, /igbvf 0000:00:11\.0: Link is Up 1000 Mbps Full Duplex/);
  assert.match(a, /3 packets transmitted, 3 packets received, 0% packet loss/);
  assert.match(off, /00:01\.0 Class 0200: 8086:10c9/);
  assert.doesNotMatch(off, /10ca/, 'VF Enable cleared: the VFs are gone');
  const vm = (JSON.parse(readFileSync(metrics, 'utf8')) as Report).vms['a']!;
  assert.ok((vm.regions['00:11.0/bar0']?.byClass['user'] ?? 0) > 0, 'igbvf reached VF 0 through its own BAR0 (trapped, as the PF is)');
  assert.ok(vm.devices['eth0 igb']!.device['uplinkFrames']! >= 3, 'the VF\'s frames left through the PF\'s uplink');
});
