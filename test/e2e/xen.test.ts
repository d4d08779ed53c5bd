// End-to-end Xen split drivers: the Xen kernel variant (guest/xen/riscv-xen.patch) boots as a Xen guest of vmio, Linux's
// own xenbus and xen-netfront connect to vmio's xenstore and netback, and the vif carries traffic: two Xen guests on
// the in-process switch ping each other and run iperf; a Xen guest on a TAP device pings the host (root only). The
// kernel variant is built by `npm test`'s pretest (`vmio image build --variant xen`); ensureImage finds it cached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVmio, VMIO_BIN } from '../../src/testing/run-vmio.js';
import { ensureImage } from '../../src/image/paths.js';

const tmp = mkdtempSync(join(tmpdir(), 'vmio-xen-e2e-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** The guest's check that the port came up and netfront connected: its boot lines, the vif's xenbus state, eth0. */
const SHOW = 'dmesg | grep -E "Xen: RISC-V|xen:grant_table|xen:events|xen_netfront"; echo "vif state: $(cat /sys/bus/xen/devices/vif-0/state)"; ip link show eth0';
function up(ip: string): string { return `ip addr add ${ip}/24 dev eth0; ip link set eth0 up`; }

interface XenMetrics { vms: Record<string, { devices: Record<string, unknown> }> }

test('the Xen kernel variant is built and cached apart from the reference kernel', async () => {
  const xen = await ensureImage({ quiet: true, variant: 'xen' });
  const ref = await ensureImage({ quiet: true });
  assert.notEqual(xen.kernel, ref.kernel);
  assert.ok(readFileSync(xen.kernel).includes('riscv/xen:online'), 'the variant carries the riscv Xen port');
  assert.ok(!readFileSync(ref.kernel).includes('riscv/xen:online'), 'the reference kernel stays unpatched');
});

test('a model=xen-net NIC refuses a kernel without the Xen port, and firmware SBI', async () => {
  const ref = await ensureImage({ quiet: true });
  const r = await runVmio(['run', '--kernel', ref.kernel, '--nic', 'none,model=xen-net', '--timeout', '5']);
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /not the Xen guest variant/);
  const f = await runVmio(['run', '--bios', '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin', '--nic', 'none,model=xen-net', '--timeout', '5']);
  assert.equal(f.status, 2, f.stdout + f.stderr);
  assert.match(f.stderr, /needs vmio's own SBI/);
});

test('two Xen guests: xen-netfront connects over xenstore, and they ping each other and run iperf across the switch', async () => {
  const file = join(tmp, 'xen.json');
  const nic = 'switch=lan,model=xen-net';
  writeFileSync(file, JSON.stringify({ vms: [
    { name: 'a', memory: 128, nics: [nic], input: `${SHOW}; ${up('10.0.0.1')}; sleep 2; ping -c 3 10.0.0.2; iperf -c 10.0.0.2 -t 2; poweroff\n` },
    { name: 'b', memory: 128, nics: [nic], input: `${up('10.0.0.2')}; iperf -s & sleep 30; poweroff\n` },
  ] }));
  const metricsFile = join(tmp, 'xen.metrics.json');
  const r = await runVmio(['run', '--config', file, '--timeout', '900', '--metrics', metricsFile]);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /\[a\] .*Xen: RISC-V guest/);
  assert.match(r.stdout, /\[a\] .*xen_netfront: Initialising Xen virtual ethernet driver/);
  assert.match(r.stdout, /\[a\] xen:grant_table: Grant tables using version 1 layout/);
  assert.match(r.stdout, /\[a\] xen:events: Using 2-level ABI/);
  assert.match(r.stdout, /\[a\] vif state: Connected/, 'netfront reached XenbusStateConnected');
  assert.match(r.stdout, /\[a\] \d+: eth0: /);
  assert.match(r.stdout, /\[a\] 3 packets transmitted, 3 packets received, 0% packet loss/);
  assert.match(r.stdout, /\[a\] \[ *\d+\] 0\.00-\d+\.\d+ sec +\d+(\.\d+)? [KM]Bytes +\d+(\.\d+)? [KM]bits\/sec/);
  const m = JSON.parse(readFileSync(metricsFile, 'utf8')) as XenMetrics;
  const xen = m.vms['a']!.devices['xen'] as { guests: Record<string, { hypercalls: { total: number }; grants: { copies: number } }> };
  assert.ok(xen.guests['1']!.hypercalls.total > 100, 'the guest made hypercalls');
  assert.ok(xen.guests['1']!.grants.copies > 100, 'netback grant-copied the traffic');
});

const isRoot = process.getuid?.() === 0;
const hasIp = spawnSync('ip', ['-V']).status === 0;
const tapSkip = !isRoot ? 'needs root for a TAP device and a network namespace' : !hasIp ? 'needs iproute2 (ip)' : false;

test('a Xen guest on a TAP device pings the host, and the host pings it back', { skip: tapSkip }, async () => {
  const ns = `vmio-e2e-${process.pid}-xen`;
  const sh = (args: string[]) => { const r = spawnSync('ip', args, { encoding: 'utf8' }); assert.equal(r.status, 0, `ip ${args.join(' ')}: ${r.stderr}`); };
  sh(['netns', 'add', ns]);
  try {
    sh(['-n', ns, 'tuntap', 'add', 'dev', 'vtap0', 'mode', 'tap']);
    sh(['-n', ns, 'addr', 'add', '192.0.2.1/24', 'dev', 'vtap0']);
    sh(['-n', ns, 'link', 'set', 'vtap0', 'up']);
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, VMIO_BIN, 'run', '--nic', 'tap=vtap0,model=xen-net', '--timeout', '600'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let pinged: (() => void) | null = null;
    const guestPinged = new Promise<void>((resolve) => { pinged = resolve; });
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; if (/3 packets received/.test(out)) pinged?.(); });
    child.stdin.write(`${SHOW}; ${up('192.0.2.2')}; ping -c 3 192.0.2.1; sleep 8; poweroff\n`);
    child.stdin.end();
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    await Promise.race([guestPinged, exited]);
    assert.match(out, /vif state: Connected/, out);
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
