// `vmio run --metrics FILE`: a path that cannot be written is refused before the guest boots (exit 2, one line);
// a write that fails after the run keeps a failed guest's status and turns a clean one into a VMM error (3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVmio } from '../../src/testing/run-vmio.js';
import { makeElf } from '../../src/testing/elf-writer.js';
import { R, addi, jal, lui, sb, sw } from '../../src/cpu/riscv/testing/asm.js';

const tmp = mkdtempSync(join(tmpdir(), 'vmio-metrics-'));

/** A bare-metal ELF that prints "booted" on the UART, then writes `code` to the test device (0x5555 poweroff). */
function program(name: string, code: number): string {
  const words = [lui(R.t0, 0x10000)]; // UART THR at 0x10000000
  for (const c of 'booted\n') words.push(addi(R.t1, 0, c.charCodeAt(0)), sb(R.t1, R.t0, 0));
  words.push(lui(R.t0, 0x100), lui(R.t1, code >>> 12), addi(R.t1, R.t1, code & 0xfff), sw(R.t1, R.t0, 0), jal(0, 0));
  const file = join(tmp, name);
  writeFileSync(file, makeElf(0x8000_0000, words));
  return file;
}
const poweroff = program('poweroff.elf', 0x5555);
const fail5 = program('fail5.elf', (5 << 16) | 0x3333); // FAIL (0x3333) with code 5

test('the test programs do what the other tests rely on', async () => {
  const ok = await runVmio(['run', '--bios', 'none', '--kernel', poweroff, '--timeout', '60']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.equal(ok.stdout, 'booted\n');
  const bad = await runVmio(['run', '--bios', 'none', '--kernel', fail5, '--timeout', '60']);
  assert.equal(bad.status, 1, bad.stderr);
});

test('an unwritable --metrics path is refused before boot with one line and exit 2', async () => {
  const cases: [string, RegExp][] = [
    ['/proc/vmio-metrics.json', /--metrics \/proc\/vmio-metrics\.json: cannot create a file in \/proc; give a file in a directory you can write to/],
    [tmp, /--metrics .* is a directory; give a file name, e\.g\. .*\/metrics\.json/],
    [join(tmp, 'no-such-dir', 'm.json'), /the directory .*no-such-dir does not exist/],
  ];
  for (const [path, message] of cases) {
    const r = await runVmio(['run', '--bios', 'none', '--kernel', poweroff, '--metrics', path, '--timeout', '60']);
    assert.equal(r.status, 2, `${path}: ${r.stderr}`);
    assert.equal(r.stdout, '', `${path}: the guest must not boot`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, message);
  }
});

test('the counters replace an existing file; a run refused for another reason leaves no new file behind', async () => {
  const file = join(tmp, 'm.json');
  writeFileSync(file, 'old contents that are longer than nothing at all '.repeat(1000));
  const r = await runVmio(['run', '--bios', 'none', '--kernel', poweroff, '--metrics', file, '--timeout', '60']);
  assert.equal(r.status, 0, r.stderr);
  const m = JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>;
  assert.ok(m['instructionsRetired']! > 0);
  const unused = join(tmp, 'unused.json');
  const refused = await runVmio(['run', '--kernel', join(tmp, 'no-such-kernel'), '--metrics', unused]);
  assert.equal(refused.status, 2);
  assert.equal(existsSync(unused), false);
});

test('a metrics write that fails after the run: 3 after a clean poweroff, the guest\'s own status otherwise', { skip: existsSync('/dev/full') ? false : 'no /dev/full' }, async () => {
  const clean = await runVmio(['run', '--bios', 'none', '--kernel', poweroff, '--metrics', '/dev/full', '--timeout', '60']);
  assert.equal(clean.status, 3, clean.stderr);
  assert.match(clean.stderr, /the run ended \(exit status 0\) but writing the counters to \/dev\/full failed: ENOSPC/);
  const failed = await runVmio(['run', '--bios', 'none', '--kernel', fail5, '--metrics', '/dev/full', '--timeout', '60']);
  assert.equal(failed.status, 1, failed.stderr);
  assert.match(failed.stderr, /exit status 1\) but writing the counters to \/dev\/full failed/);
});
