// End-to-end: the reference guest's own virtio drivers (virtio_blk, virtio-rng, virtio_console over virtio_mmio
// and virtio_pci) drive vmio's devices, given on the command line; data moves both ways and lands in the image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { runVmio } from '../../src/testing/run-vmio.js';

const script = (consoleLines: string[]): string => [
  'cat /sys/block/vda/size /sys/block/vda/queue/max_segments /sys/block/vda/serial; echo',
  'tail -c +4097 /dev/vda | head -c 16; echo',
  'cat /sys/devices/virtual/misc/hw_random/rng_current; head -c 32 /dev/hwrng | wc -c',
  'printf GUEST-WROTE-THIS > /dev/vda; sync',
  ...consoleLines,
  'cat /proc/interrupts',
  'poweroff',
].join('\n') + '\n';

/** Host input for the named port: more than the device holds at once (64 KiB), so it flows as the guest reads. */
function portInput(): Buffer {
  const b = Buffer.alloc(150_000);
  let x = 12345;
  for (let i = 0; i < b.length; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = 0x20 + ((x >>> 16) % 95); }
  return b;
}

for (const transport of ['mmio', 'pci'] as const) {
  test(`Linux 6.12 drives virtio blk, rng and console over virtio-${transport}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), `vmio-virtio-${transport}-`));
    try {
      const img = join(dir, 'disk.img');
      const hvc = join(dir, 'hvc1.out');
      const disk = new Uint8Array(8 << 20);
      disk.set(new TextEncoder().encode('VMIO-DISK-MARKER'), 4096);
      writeFileSync(img, disk);
      const metrics = join(dir, 'm.json');
      // Over mmio the port is the console port (/dev/hvc1, output to a file); over pci a named port fed from a
      // file, read to end-of-file by the guest.
      const input = join(dir, 'port.in');
      writeFileSync(input, portInput());
      const port = transport === 'mmio' ? `${hvc},transport=mmio` : `none,in=${input},name=org.vmio.data,transport=pci`;
      const lines = transport === 'mmio' ? ['echo to-hvc1 > /dev/hvc1']
        : ['P=$(ls /sys/class/virtio-ports); echo "port $P named $(cat /sys/class/virtio-ports/$P/name)"', 'cat /dev/$P | md5sum'];
      const r = await runVmio(['run', '--memory', '128', '--timeout', '300', '--metrics', metrics,
        '--drive', `${img},transport=${transport},serial=vmio-test`, '--rng', transport, '--console-port', port], script(lines));
      const out = r.stdout;
      assert.equal(r.status, 0, out + r.stderr);
      assert.match(out, /\[vda\] 16384 512-byte logical blocks/);
      assert.match(out, /\n16384\r?\n126\r?\nvmio-test/, 'capacity, seg_max and the GET_ID serial as Linux sees them');
      assert.match(out, /\nVMIO-DISK-MARKER/);
      assert.match(out, /\nvirtio_rng\.0\r?\n32\r?\n/);
      if (transport === 'mmio') assert.equal(readFileSync(hvc, 'utf8'), 'to-hvc1\r\n');
      else {
        assert.match(out, /\nport vport\dp0 named org\.vmio\.data\r?\n/);
        const md5 = createHash('md5').update(portInput()).digest('hex');
        assert.match(out, new RegExp(`\\n${md5}  -\\r?\\n`), 'the guest read the whole file from the port, then end-of-file');
      }
      assert.equal(readFileSync(img).subarray(0, 16).toString(), 'GUEST-WROTE-THIS', 'the guest write is in the image');
      const m = JSON.parse(readFileSync(metrics, 'utf8')) as { failures: unknown[]; regions: Record<string, { byClass: Record<string, number> }> };
      assert.deepEqual(m.failures, []);
      const region = transport === 'mmio' ? 'virtio-blk0' : '00:01.0/bar4';
      assert.ok((m.regions[region]?.byClass.user ?? 0) > 0, `${region} counted its exits: ${JSON.stringify(m.regions[region])}`);
      if (transport === 'pci') assert.match(out, /virtio\d/, '/proc/interrupts lists the virtio interrupts');
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
}

test('vmio run --config runs two VMs on one timeline, each console prefixed, and exits 0 when both power off', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmio-host-'));
  try {
    const file = join(dir, 'host.json');
    writeFileSync(file, JSON.stringify({ vms: [
      { name: 'a', memory: 64, input: 'echo hello-from-a\nsleep 1\npoweroff\n' },
      { name: 'b', memory: 64, input: 'echo hello-from-b\npoweroff\n' },
    ] }));
    const r = await runVmio(['run', '--config', file, '--timeout', '300']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^\[a\] hello-from-a$/m);
    assert.match(r.stdout, /^\[b\] hello-from-b$/m);
    assert.match(r.stdout, /^\[a\] .*Power down/m);
    assert.match(r.stdout, /^\[b\] .*Power down/m);
    const bad = await runVmio(['run', '--config', file, '--memory', '64']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /the command line takes only --console, --timeout, --metrics and --realtime/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('a second shell on the virtio console over a Unix socket: what the client types runs in the guest and the answer comes back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmio-sock-e2e-'));
  try {
    const sock = join(dir, 'hvc1.sock');
    // The socket appears when vmio listens, before the guest boots: wait for that event, then connect.
    const appeared = new Promise<void>((resolve) => {
      const w = watch(dir, () => { if (existsSync(sock)) { w.close(); resolve(); } });
    });
    const run = runVmio(['run', '--memory', '96', '--timeout', '300', '--console-port', `unix:${sock}`], [
      'setsid -c sh </dev/hvc1 >/dev/hvc1 2>&1 &',
      'while [ ! -e /tmp/done ]; do sleep 1; done; echo SECOND-SHELL-DONE; poweroff', ''].join('\n'));
    await appeared;
    const client = connect(sock);
    let seen = '';
    const answered = new Promise<void>((resolve) => client.on('data', (d) => { seen += d.toString(); if (/from-socket-42/.test(seen)) resolve(); }));
    client.write('echo from-socket-$((6*7)); touch /tmp/done\n');
    await Promise.race([answered, run]); // a guest that never answers ends at its --timeout, and the asserts say so
    const r = await run;
    client.destroy();
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\nSECOND-SHELL-DONE\r?\n/, 'the command typed on the socket ran in the guest');
    assert.match(seen, /\nfrom-socket-42\r?\n/);
    assert.equal(existsSync(sock), false, 'vmio removed its socket');
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
