// The command line around `vmio run`: `vmio bench` and `vmio image` refuse what they cannot do with exit 2 and
// their help, and `vmio image path` prints paths that exist.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVmio, VMIO_BIN } from '../../src/testing/run-vmio.js';
import { kernelOf } from '../../src/testing/reference-image.js';

const BENCH_USAGE = /usage: vmio bench NAME/;

test('vmio bench with no name prints its help and exits 2; --help exits 0', async () => {
  const none = await runVmio(['bench']);
  assert.equal(none.status, 2);
  assert.match(none.stdout + none.stderr, BENCH_USAGE);
  const help = await runVmio(['bench', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, BENCH_USAGE);
});

test('vmio bench refuses an unknown name and a name with other characters, exit 2, without running anything', async () => {
  const unknown = await runVmio(['bench', 'nosuch']);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /^vmio bench: no benchmark 'nosuch'\n/);
  assert.match(unknown.stderr, BENCH_USAGE);
  for (const bad of ['../src/cli/main', 'CPU', 'cpu.js', '']) {
    const r = await runVmio(['bench', bad]);
    assert.equal(r.status, 2, `'${bad}': ${r.stderr}`);
    assert.match(r.stderr, /is not a benchmark name/);
  }
});

test('vmio bench NAME --help shows the options instead of running; a bad option value is exit 2 before any run', async () => {
  const help = await runVmio(['bench', 'cpu', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--runs N/);
  assert.doesNotMatch(help.stdout, /MIPS/);
  const cases: [string[], RegExp][] = [
    [['cpu', '--runs', 'abc'], /^vmio bench cpu: --runs must be a whole number from 1 to 1000, got 'abc'\n$/],
    [['boot', '--runs', '0'], /^vmio bench boot: --runs must be a whole number from 1 to 1000, got '0'\n$/],
    [['boot', '--smp', '9'], /^vmio bench boot: --smp must be a whole number from 1 to 8, got '9'\n$/],
    [['boot', '--frob'], /^vmio bench boot: Unknown option '--frob'; options: --runs N, --smp N, --cpu interp\|jit\|both\n$/],
    [['cpu', '--cpu', 'fast'], /^vmio bench cpu: --cpu must be interp, jit or both, got 'fast'\n$/],
  ];
  for (const [args, message] of cases) {
    const r = await runVmio(['bench', ...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, '', 'nothing ran');
  }
});

test('vmio image with no subcommand or a bad one prints its help and exits 2', async () => {
  const none = await runVmio(['image']);
  assert.equal(none.status, 2);
  assert.match(none.stdout, /usage: vmio image <build\|path>/);
  const bad = await runVmio(['image', 'frob']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^vmio image: unknown subcommand 'frob'\nusage: vmio image/);
  const badBuild = await runVmio(['image', 'build', '--frob']);
  assert.equal(badBuild.status, 2);
  assert.match(badBuild.stderr, /^vmio image build: unknown argument '--frob'/);
});

test('vmio image path prints the kernel and initramfs, or one path with --kernel, --initrd or --dir', async () => {
  const kernel = await kernelOf(); // builds the reference guest on a cache miss
  const both = await runVmio(['image', 'path']);
  assert.equal(both.status, 0, both.stderr);
  const lines = both.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.equal(lines[0], `kernel ${kernel}`);
  const initrd = lines[1]!.replace(/^initrd /, '');
  assert.ok(existsSync(initrd), initrd);
  for (const [flag, expected] of [['--kernel', kernel], ['--initrd', initrd]] as const) {
    const r = await runVmio(['image', 'path', flag]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${expected}\n`);
  }
  const dir = await runVmio(['image', 'path', '--dir']);
  assert.equal(dir.status, 0);
  assert.ok(statSync(dir.stdout.trim()).isDirectory());
  assert.ok(kernel.startsWith(dir.stdout.trim() + '/'));
});

test('vmio image path refuses bad arguments (exit 2) even before looking for the image, and says to build when it is missing (exit 1)', async () => {
  const bad = await runVmio(['image', 'path', '--frob']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^vmio image path: unknown argument '--frob'/);
  const two = await runVmio(['image', 'path', '--kernel', '--initrd']);
  assert.equal(two.status, 2);
  assert.match(two.stderr, /give at most one of --kernel, --initrd, --dir/);
  const empty = mkdtempSync(join(tmpdir(), 'vmio-empty-cache-'));
  const r = spawnSync(process.execPath, [VMIO_BIN, 'image', 'path'], { env: { ...process.env, VMIO_CACHE: empty }, encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /not built for the current recipe .*\nRun 'vmio image build' first\.\n$/);
});
