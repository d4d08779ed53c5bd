// End-to-end: boot the reference guest under vmio and check what it printed (built-in SBI, SMP, OpenSBI,
// determinism), and that bad input gets a clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runVmio } from '../../src/testing/run-vmio.js';
import { makeElf } from '../../src/testing/elf-writer.js';
import { R, addi, auipc, jal, lui, or, slli, srli, sw } from '../../src/cpu/riscv/testing/asm.js';

const READY = /vmio-guest: ready \(uptime [0-9.]+ [0-9.]+\)/;
const OPENSBI = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin';
const OPENSBI_JUMP = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.bin';
const tmp = mkdtempSync(join(tmpdir(), 'vmio-e2e-'));

test('the reference guest boots with the built-in SBI and answers a piped command', async () => {
  const r = await runVmio(['run', '--timeout', '300'], 'uname -a\npoweroff\n');
  assert.match(r.stdout, READY, r.stdout + r.stderr);
  assert.match(r.stdout, /Linux \S+ 6\.12\.\S+ .*riscv64/);
  // the device tree's /chosen/rng-seed seeds the kernel's pool before the shell (else it waits for entropy)
  assert.match(r.stdout.slice(0, r.stdout.search(READY)), /random: crng init done/);
  assert.equal(r.status, 0, r.stderr);
});

test('with --smp 2 the guest sees two CPUs', async () => {
  const r = await runVmio(['run', '--smp', '2', '--timeout', '300'], 'echo cpus=$(grep -c ^processor /proc/cpuinfo)\npoweroff\n');
  assert.match(r.stdout, READY, r.stdout + r.stderr);
  assert.match(r.stdout, /cpus=2/);
  assert.equal(r.status, 0, r.stderr);
});

/** Boots the reference guest through Debian's OpenSBI `firmware`, checks it reached a shell, and powers it off. */
async function bootsThroughOpenSbi(firmware: string): Promise<void> {
  const r = await runVmio(['run', '--bios', firmware, '--timeout', '300'], 'echo hello-from-opensbi\npoweroff\n');
  assert.match(r.stdout, /OpenSBI v/);
  assert.match(r.stdout, READY, r.stdout + r.stderr);
  assert.match(r.stdout, /\nhello-from-opensbi/);
  assert.equal(r.status, 0, r.stderr);
}

const missing = (fw: string) => (existsSync(fw) ? false : `${fw} is missing (Debian package opensbi)`);

test('Debian\'s OpenSBI (fw_dynamic) boots the reference guest', { skip: missing(OPENSBI) }, () => bootsThroughOpenSbi(OPENSBI));

// fw_jump ignores a2 (fw_dynamic info): it jumps to its built-in 0x80200000, where vmio puts the Image.
test('Debian\'s OpenSBI (fw_jump) boots the reference guest', { skip: missing(OPENSBI_JUMP) }, () => bootsThroughOpenSbi(OPENSBI_JUMP));

test('two deterministic runs print the same output and the same counters', async () => {
  const runs = [];
  for (const i of [1, 2]) {
    const metrics = join(tmp, `metrics-${i}.json`);
    const r = await runVmio(['run', '--metrics', metrics, '--timeout', '300'], 'cat /proc/uptime\npoweroff\n');
    assert.equal(r.status, 0, r.stderr);
    runs.push({ stdout: r.stdout, metrics: JSON.parse(readFileSync(metrics, 'utf8')) as Record<string, unknown> });
  }
  assert.equal(runs[0]!.stdout, runs[1]!.stdout);
  assert.deepEqual(runs[0]!.metrics, runs[1]!.metrics);
  assert.ok((runs[0]!.metrics['instructionsRetired'] as number) > 10_000_000, 'a Linux boot retires tens of millions of instructions');
  assert.ok((runs[0]!.metrics['exits'] as number) > 0);
});

test('a bare-metal ELF in M-mode reports failure through the test device', async () => {
  const elf = join(tmp, 'fail.elf');
  // lui t0,0x100; lui t1,0x53; addi t1,t1,0x333; sw t1,0(t0); j .   -> writes (5<<16)|0x3333 to 0x100000
  writeFileSync(elf, makeElf(0x8000_0000, [0x001002b7, 0x00053337, 0x33330313, 0x0062a023, 0x0000006f]));
  const r = await runVmio(['run', '--bios', 'none', '--kernel', elf, '--timeout', '60']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /fail code 5/);
});

/** A raw program that reports, as its fail code, bits 31..20 of the address it runs at, then spins. */
function rawWhereAmI(): Uint8Array {
  const words = [
    auipc(R.t0, 0), srli(R.t0, R.t0, 20), slli(R.t0, R.t0, 16), // t0 = (pc >> 20) << 16
    lui(R.t1, 0x3), addi(R.t1, R.t1, 0x333), or(R.t1, R.t1, R.t0), // (code << 16) | 0x3333: FAIL
    lui(R.t2, 0x100), sw(R.t1, R.t2, 0), jal(0, 0),                // to the test device at 0x100000
  ];
  const b = new Uint8Array(words.length * 4);
  words.forEach((w, i) => new DataView(b.buffer).setUint32(i * 4, w, true));
  return b;
}

test('a raw binary runs where QEMU virt puts it: RAM base + 2 MiB after the SBI, RAM base with --bios none', async () => {
  const bin = join(tmp, 'where.bin');
  writeFileSync(bin, rawWhereAmI());
  const s = await runVmio(['run', '--kernel', bin, '--timeout', '60']);
  assert.equal(s.status, 1, s.stderr);
  assert.match(s.stderr, new RegExp(`fail code ${0x802}\\b`)); // 0x80200000
  const m = await runVmio(['run', '--bios', 'none', '--kernel', bin, '--timeout', '60']);
  assert.equal(m.status, 1, m.stderr);
  assert.match(m.stderr, new RegExp(`fail code ${0x800}\\b`)); // 0x80000000
});

test('bad input gets a one-line error that says what to do', async () => {
  const missing = await runVmio(['run', '--kernel', join(tmp, 'no-such-Image')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /does not exist; give a RISC-V Linux Image/);
  const gz = join(tmp, 'Image.gz');
  writeFileSync(gz, new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0]));
  const bad = await runVmio(['run', '--kernel', gz]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /Image\.gz is gzip-compressed.*gunzip/);
  const flag = await runVmio(['run', '--frobnicate']);
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /frobnicate.*vmio run --help/);
  const fw = await runVmio(['run', '--bios', join(tmp, 'no-such-fw.bin')]);
  assert.equal(fw.status, 2);
  assert.match(fw.stderr, /firmware .* does not exist/);
});

test('a kernel panic and an expired --timeout each stop vmio with their own status', async () => {
  const panic = await runVmio(['run', '--append', 'console=ttyS0 rdinit=/no-such-init', '--timeout', '300']);
  assert.match(panic.stdout, /Kernel panic - not syncing/);
  assert.equal(panic.status, 1);
  assert.match(panic.stderr, /the guest kernel panicked/);
  // A guest that never stops by itself (a bare-metal `j .`), so only --timeout can end the run.
  const spin = join(tmp, 'spin.elf');
  writeFileSync(spin, makeElf(0x8000_0000, [jal(0, 0)]));
  const slow = await runVmio(['run', '--bios', 'none', '--kernel', spin, '--timeout', '1']);
  assert.equal(slow.status, 124, slow.stderr);
  assert.match(slow.stderr, /--timeout expired/);
});

test('images that do not fit in --memory are refused before boot', async () => {
  const big = join(tmp, 'big-initrd');
  writeFileSync(big, new Uint8Array(20 * 1024 * 1024));
  const { kernelOf } = await import('../../src/testing/reference-image.js');
  const r = await runVmio(['run', '--kernel', await kernelOf(), '--initrd', big, '--memory', '16']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /raise --memory/);
});

