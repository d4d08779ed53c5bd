// End-to-end: a bare-metal program linked by the cross compiler's defaults has segments below RAM (the
// build-id note, the ELF headers); vmio refuses it by name with link flags that work, and those flags do work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVmio } from '../../src/testing/run-vmio.js';

const CC = 'riscv64-linux-gnu-gcc';
const ccMissing = spawnSync(CC, ['--version'], { stdio: 'ignore' }).status !== 0;
const tmp = mkdtempSync(join(tmpdir(), 'vmio-link-'));

// Writes 0x5555 (poweroff) to the SiFive test device at 0x100000.
const POWEROFF_S = `.globl _start
_start:
  lui t0, 0x100
  lui t1, 0x5
  addi t1, t1, 0x555
  sw t1, 0(t0)
1: j 1b
`;

function link(name: string, flags: string[]): string {
  const src = join(tmp, 'poweroff.S');
  writeFileSync(src, POWEROFF_S);
  const out = join(tmp, name);
  const r = spawnSync(CC, ['-nostdlib', '-nostartfiles', '-static', '-Ttext=0x80000000', ...flags, '-o', out, src], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return out;
}

test('a default-linked bare-metal ELF is refused with link flags that work, and they work', { skip: ccMissing ? `${CC} is not installed` : false }, async () => {
  const plain = link('plain.elf', []);
  const refused = await runVmio(['run', '--bios', 'none', '--kernel', plain]);
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /plain\.elf: segment at 0x[0-9a-f]+ \(\d+ bytes\) is below guest RAM, which starts at 0x80000000/);
  assert.doesNotMatch(refused.stderr, /--memory/);
  assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
  const flags = /-Ttext=0x80000000 (-Wl,\S+)/.exec(refused.stderr)?.[1];
  assert.ok(flags !== undefined, `no link flags in: ${refused.stderr}`);
  const fixed = link('fixed.elf', [flags]);
  const ran = await runVmio(['run', '--bios', 'none', '--kernel', fixed, '--timeout', '60']);
  assert.equal(ran.status, 0, ran.stderr);
});
