// The reference guest under --cpu jit (end to end): with the built-in SBI its console output and its counters
// (--metrics: instructions, exits, interrupts, SBI calls, idle time) are identical to the interpreter's -- the
// translator is exact, instruction for instruction -- and it boots on two harts and through Debian's OpenSBI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVmio } from '../../../src/testing/run-vmio.js';

const READY = /vmio-guest: ready \(uptime [0-9.]+ [0-9.]+\)/;
const OPENSBI = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin';
const tmp = mkdtempSync(join(tmpdir(), 'vmio-jit-boot-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('under --cpu jit the guest prints and counts exactly what the interpreter does', async () => {
  const script = 'uname -a\ncat /proc/uptime\npoweroff\n';
  const runs: { stdout: string; metrics: Record<string, unknown> }[] = [];
  for (const cpu of ['interp', 'jit']) {
    const metrics = join(tmp, `metrics-${cpu}.json`);
    const r = await runVmio(['run', '--cpu', cpu, '--metrics', metrics, '--timeout', '300'], script);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, READY);
    runs.push({ stdout: r.stdout, metrics: JSON.parse(readFileSync(metrics, 'utf8')) as Record<string, unknown> });
  }
  assert.equal(runs[1]!.stdout, runs[0]!.stdout);
  assert.deepEqual(runs[1]!.metrics, runs[0]!.metrics);
  assert.ok((runs[1]!.metrics['instructionsRetired'] as number) > 50_000_000, 'a whole Linux boot ran');
});

test('under --cpu jit with --smp 2 the guest sees two CPUs', async () => {
  const r = await runVmio(['run', '--cpu', 'jit', '--smp', '2', '--timeout', '300'], 'echo cpus=$(grep -c ^processor /proc/cpuinfo)\npoweroff\n');
  assert.match(r.stdout, READY, r.stdout + r.stderr);
  assert.match(r.stdout, /cpus=2/);
  assert.equal(r.status, 0, r.stderr);
});

test('under --cpu jit Debian\'s OpenSBI (fw_dynamic) boots the guest', { skip: existsSync(OPENSBI) ? false : `${OPENSBI} is missing (Debian package opensbi)` }, async () => {
  const r = await runVmio(['run', '--cpu', 'jit', '--bios', OPENSBI, '--timeout', '300'], 'echo hello-from-opensbi\npoweroff\n');
  assert.match(r.stdout, /OpenSBI v/);
  assert.match(r.stdout, READY, r.stdout + r.stderr);
  assert.match(r.stdout, /\nhello-from-opensbi/);
  assert.equal(r.status, 0, r.stderr);
});

test('--cpu takes interp or jit only', async () => {
  const r = await runVmio(['run', '--cpu', 'fast']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--cpu must be interp or jit, got 'fast'/);
});
