// End-to-end networking: stock Linux drivers (e1000, virtio-net) on vmio's NIC models, two VMs on the
// in-process switch (ping, iperf), and a guest on a TAP device pinging the host and pinged back (root only: the
// TAP lives in a network namespace the test makes, so no traffic leaves it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVmio, VMIO_BIN } from '../../src/testing/run-vmio.js';

const tmp = mkdtempSync(join(tmpdir(), 'vmio-net-e2e-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

function up(ip: string): string { return `ip addr add ${ip}/24 dev eth0; ip link set eth0 up`; }

async function twoVms(model: string, name: string, extra = '') {
  const file = join(tmp, `${name}.json`);
  const nic = `switch=lan,model=${model}${extra}`;
  writeFileSync(file, JSON.stringify({ vms: [
    { name: 'a', memory: 128, nics: [nic], input: `${up('10.0.0.1')}; sleep 2; ping -c 3 10.0.0.2; iperf -c 10.0.0.2 -t 2; poweroff\n` },
    { name: 'b', memory: 128, nics: [nic], input: `${up('10.0.0.2')}; iperf -s & sleep 30; poweroff\n` },
  ] }));
  const metrics = join(tmp, `${name}.metrics.json`);
  const r = await runVmio(['run', '--config', file, '--timeout', '600', '--metrics', metrics]);
  return { ...r, metrics: JSON.parse(readFileSync(metrics, 'utf8')) as { vms: Record<string, { regions: Record<string, { byClass: Record<string, number> }> }> } };
}

test('two VMs with stock e1000 drivers ping each other and run iperf across the switch', async () => {
  const r = await twoVms('e1000', 'e1000');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\[a\] e1000: eth0 NIC Link is Up 1000 Mbps Full Duplex/);
  assert.match(r.stdout, /\[a\] 3 packets transmitted, 3 packets received, 0% packet loss/);
  assert.match(r.stdout, /\[a\] \[ *\d+\] 0\.00-\d+\.\d+ sec +\d+(\.\d+)? [KM]Bytes +\d+(\.\d+)? [KM]bits\/sec/);
  assert.ok((r.metrics.vms['a']!.regions['00:01.0/bar0']?.byClass['user'] ?? 0) > 1000, 'every e1000 register access was a user-space exit');
});

const isRoot = process.getuid?.() === 0;
const hasIp = spawnSync('ip', ['-V']).status === 0;
const tapSkip = !isRoot ? 'needs root for a TAP device and a network namespace' : !hasIp ? 'needs iproute2 (ip)' : false;

for (const model of ['e1000', 'virtio-net'] as const) test(`a guest with ${model} on a TAP device pings the host, and the host pings it back`, { skip: tapSkip }, async () => {
  const ns = `vmio-e2e-${process.pid}-${model}`;
  const sh = (args: string[]) => { const r = spawnSync('ip', args, { encoding: 'utf8' }); assert.equal(r.status, 0, `ip ${args.join(' ')}: ${r.stderr}`); };
  sh(['netns', 'add', ns]);
  try {
    sh(['-n', ns, 'tuntap', 'add', 'dev', 'vtap0', 'mode', 'tap']);
    sh(['-n', ns, 'addr', 'add', '192.0.2.1/24', 'dev', 'vtap0']);
    sh(['-n', ns, 'link', 'set', 'vtap0', 'up']);
    // vmio runs inside the namespace, so the TAP it opens (and everything the guest sends) stays there.
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, VMIO_BIN, 'run', '--nic', `tap=vtap0,model=${model}`, '--timeout', '300'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let pinged: (() => void) | null = null;
    const guestPinged = new Promise<void>((resolve) => { pinged = resolve; });
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; if (/3 packets received/.test(out)) pinged?.(); });
    child.stdin.write(`${up('192.0.2.2').replace('10.0.0', '192.0.2')}; ping -c 3 192.0.2.1; sleep 8; poweroff\n`);
    child.stdin.end();
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await Promise.race([guestPinged, exited]);
    assert.match(out, /3 packets transmitted, 3 packets received/, out);
    const back = spawnSync('ip', ['netns', 'exec', ns, 'ping', '-c', '2', '-W', '2', '192.0.2.2'], { encoding: 'utf8' });
    const status = await exited;
    assert.equal(back.status, 0, `the host's ping of the guest: ${back.stdout}${back.stderr}`);
    assert.match(back.stdout, /2 received/);
    assert.equal(status, 0, out);
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
});

test('two VMs with stock virtio-net (virtio-pci) ping each other and run iperf across the switch', async () => {
  const r = await twoVms('virtio-net', 'virtio-net');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\[a\] 3 packets transmitted, 3 packets received, 0% packet loss/);
  assert.match(r.stdout, /\[a\] \[ *\d+\] 0\.00-\d+\.\d+ sec +\d+(\.\d+)? [KM]Bytes +\d+(\.\d+)? [KM]bits\/sec/);
  const bar = r.metrics.vms['a']!.regions['00:01.0/bar4']!;
  assert.ok((bar.byClass['user'] ?? 0) > 0, 'virtio-pci register and doorbell exits counted');
});

test('the same over virtio-mmio: two VMs with virtio-net on virtio-mmio slots ping each other', async () => {
  const r = await twoVms('virtio-net', 'virtio-net-mmio', ',transport=mmio');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\[a\] 3 packets transmitted, 3 packets received, 0% packet loss/);
  assert.ok((r.metrics.vms['a']!.regions['virtio-net0']?.byClass['user'] ?? 0) > 0, 'the mmio transport counted its exits');
});
