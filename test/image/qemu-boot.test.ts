// Boots the reference guest image in qemu-system-riscv64 (virt, PLIC), drives its console, and checks it powers off.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { READY_LINE_RE } from '../../src/image/guest-protocol.js';
import { MissingPackagesError } from '../../src/image/host-packages.js';
import { ensureImage } from '../../src/image/paths.js';

const QEMU = 'qemu-system-riscv64';
const BOOT_BOUND_MS = 240_000;
const UNAME_RE = /^Linux vmio-guest \S+ .*riscv64/m;

const qemuMissing = spawnSync(QEMU, ['--version'], { stdio: 'ignore' }).status !== 0;

test('the reference guest boots in QEMU, answers uname and powers off', { timeout: 60 * 60_000 }, async (t) => {
  if (qemuMissing) { t.skip(`${QEMU} is not installed (apt-get install qemu-system-misc)`); return; }
  let img: { kernel: string; initrd: string };
  try {
    img = await ensureImage({ quiet: true });
  } catch (e) {
    if (e instanceof MissingPackagesError) { t.skip(`cannot build the image: ${e.message}`); return; }
    throw e;
  }
  const qemu = spawn(QEMU, ['-M', 'virt', '-m', '256', '-smp', '1', '-nographic', '-no-reboot',
    '-kernel', img.kernel, '-initrd', img.initrd, '-append', 'console=ttyS0'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let step: 'boot' | 'uname' | 'poweroff' = 'boot';
  qemu.stderr.on('data', (b: Buffer) => { out += b.toString(); });
  qemu.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    // Each line is sent once the guest has shown it is ready for it: input sent earlier may be eaten before
    // the shell reads (the ready line comes just before the shell starts; the next command after uname's answer).
    if (step === 'boot' && READY_LINE_RE.test(out)) {
      step = 'uname';
      qemu.stdin.write('uname -a\n');
    } else if (step === 'uname' && UNAME_RE.test(out)) {
      step = 'poweroff';
      qemu.stdin.write('poweroff\n');
    }
  });
  const code = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => { qemu.kill('SIGKILL'); resolve('timeout'); }, BOOT_BOUND_MS);
    qemu.on('close', (c, sig) => { clearTimeout(timer); resolve(c ?? sig ?? 'unknown'); });
  });
  const tail = out.slice(-3000);
  assert.match(out, READY_LINE_RE, `no ready line; console tail:\n${tail}`);
  assert.match(out, UNAME_RE, `uname -a did not answer riscv64; console tail:\n${tail}`);
  assert.equal(code, 0, `QEMU did not exit 0 after poweroff (got ${code}); console tail:\n${tail}`);
});
