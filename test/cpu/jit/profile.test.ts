// `vmio run --profile FILE[,map=SYSTEM_MAP]`: System.map parsing and symbol lookup, and an end-to-end profile of
// a bare-metal program under both CPU modes: its hot loop is the hot function, and under --cpu jit the report
// carries the translator's counters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSystemMap, symbolize } from '../../../src/cpu/riscv/jit/profile.js';
import { buildBareMetal, missingCrossGcc } from '../../../src/cpu/riscv/testing/baremetal.js';
import { runVmio } from '../../../src/testing/run-vmio.js';

const tmp = mkdtempSync(join(tmpdir(), 'vmio-profile-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

test('System.map: symbols are found by address, with offsets; absolute symbols and junk lines are skipped', () => {
  const map = parseSystemMap([
    'ffffffff80000000 T _start', 'ffffffff80001000 t memset', '0000000000000400 A __absolute', 'garbage line',
    'ffffffff80002000 T memcpy', 'ffffffff80001800 W weak_fn',
  ].join('\n'));
  assert.equal(symbolize(map, -0x7fffffff - 1), '_start'); // 0xffffffff80000000 as the hart's signed number
  assert.equal(symbolize(map, -0x80000000 + 0x1010), 'memset+0x10');
  assert.equal(symbolize(map, -0x80000000 + 0x1800), 'weak_fn');
  assert.equal(symbolize(map, -0x80000000 + 0x2fff), 'memcpy+0xfff');
  assert.equal(symbolize(map, 0x400), null, 'below every symbol (the absolute one is not code)');
});

const nm = spawnSync('riscv64-linux-gnu-nm', ['--version']).status === 0;
const skip = missingCrossGcc() ?? (nm ? false : 'riscv64-linux-gnu-nm is missing (Debian package binutils-riscv64-linux-gnu)');

test('a bare-metal program\'s profile names its hot loop, under both CPU modes', { skip }, async () => {
  const elf = buildBareMetal('bench/cpu.c', join(tmp, 'int'), ['-DWORKLOAD=1', '-DSCALE=1', '-fno-builtin']);
  const syms = spawnSync('riscv64-linux-gnu-nm', [elf], { encoding: 'utf8' }).stdout;
  const mapPath = join(tmp, 'System.map');
  writeFileSync(mapPath, syms);
  for (const cpu of ['interp', 'jit']) {
    const out = join(tmp, `profile-${cpu}.txt`);
    const r = await runVmio(['run', '--bios', 'none', '--kernel', elf, '--cpu', cpu, '--profile', `${out},map=${mapPath}`, '--timeout', '120']);
    assert.equal(r.status, 0, r.stderr);
    const text = readFileSync(out, 'utf8');
    assert.match(text, new RegExp(`--cpu ${cpu}, \\d+ instructions retired, \\d+ samples`));
    const fns = text.slice(text.indexOf('hot functions'));
    assert.match(fns.split('\n')[2] ?? '', /\s\d+\.\d+\s+integer/, `the hot function is the integer loop:\n${fns}`);
    if (cpu === 'jit') {
      assert.match(text, /translator \(hart 0\):\n {2}translated: \d+ blocks/);
      const tier = /ran in the interpreter's WebAssembly tier: (\d+) of (\d+) instructions/.exec(text);
      assert.ok(tier !== null && Number(tier[1]) > 0, `the tier's share is reported:\n${text}`);
    }
    else assert.doesNotMatch(text, /translator/);
  }
});

test('--profile refuses a path it cannot write, and options it does not know, before anything runs', async () => {
  const dir = await runVmio(['run', '--profile', tmp]);
  assert.equal(dir.status, 2);
  assert.match(dir.stderr, /--profile .* is a directory; give a file name/);
  const opt = await runVmio(['run', '--profile', `${join(tmp, 'p.txt')},symbols=x`]);
  assert.equal(opt.status, 2);
  assert.match(opt.stderr, /--profile: unknown option 'symbols=x'; the only option is map=SYSTEM_MAP/);
});
