// Tests the recipe pieces that need no build: Kconfig parsing and checks, busybox fragment merge, ELF checks, guest/ files.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyFragment } from '../../src/image/busybox.js';
import { EM_RISCV, staticRiscv64Problem } from '../../src/image/elf-check.js';
import { READY_LINE_RE } from '../../src/image/guest-protocol.js';
import { extraChecks, missingOptions, parseKconfig } from '../../src/image/kconfig.js';
import { guestDir, parseSources } from '../../src/image/recipe.js';

test('parseKconfig reads set, string, numeric and "is not set" lines', () => {
  const m = parseKconfig('CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C="x y"\nCONFIG_D=8\n# comment\n');
  assert.deepEqual([...m], [['CONFIG_A', 'y'], ['CONFIG_B', 'n'], ['CONFIG_C', '"x y"'], ['CONFIG_D', '8']]);
});

test('missingOptions names what did not end up set, including vmio-check symbols', () => {
  const fragment = 'CONFIG_A=y\nCONFIG_N=8\n# CONFIG_OFF is not set\n# vmio-check: CONFIG_SEL CONFIG_SEL2\n';
  assert.deepEqual(extraChecks(fragment), ['CONFIG_SEL', 'CONFIG_SEL2']);
  assert.deepEqual(missingOptions(fragment, 'CONFIG_A=y\nCONFIG_N=8\nCONFIG_SEL=y\nCONFIG_SEL2=y\n'), []);
  assert.deepEqual(missingOptions(fragment, '# CONFIG_A is not set\nCONFIG_N=4\nCONFIG_OFF=y\nCONFIG_SEL=y\n'), [
    'CONFIG_A (wanted y, got n)', 'CONFIG_N (wanted 8, got 4)', 'CONFIG_OFF (wanted n, got y)', 'CONFIG_SEL2 (wanted y, got absent)',
  ]);
});

test('guest/kernel.config asks for every option the reference guest needs', () => {
  const fragment = readFileSync(join(guestDir(), 'kernel.config'), 'utf8');
  const want = parseKconfig(fragment);
  for (const s of extraChecks(fragment)) want.set(s, 'y');
  const required = ['SERIAL_8250', 'SERIAL_8250_CONSOLE', 'SERIAL_OF_PLATFORM', 'HVC_RISCV_SBI', 'NONPORTABLE', 'PRINTK',
    'BLK_DEV_INITRD', 'RD_GZIP', 'BINFMT_ELF', 'BINFMT_SCRIPT', 'PROC_FS', 'SYSFS', 'DEVTMPFS', 'DEVTMPFS_MOUNT', 'TMPFS',
    'NET', 'INET', 'PACKET', 'UNIX', 'PCI', 'PCI_HOST_GENERIC', 'PCI_MSI', 'PCI_IOV', 'SIFIVE_PLIC', 'RISCV_APLIC',
    'RISCV_APLIC_MSI', 'RISCV_IMSIC', 'VIRTIO_PCI', 'VIRTIO_MMIO', 'VIRTIO_NET', 'VIRTIO_BLK', 'VIRTIO_CONSOLE',
    'HW_RANDOM_VIRTIO', 'E1000', 'IGB', 'IGBVF', 'EXT4_FS', 'RTC_DRV_GOLDFISH', 'POWER_RESET_SYSCON',
    'POWER_RESET_SYSCON_POWEROFF', 'SMP', 'TTY', 'MMU', '64BIT', 'RISCV_ISA_FALLBACK', 'FPU', 'RISCV_ISA_C'];
  const lacking = required.filter((s) => want.get(`CONFIG_${s}`) !== 'y');
  assert.deepEqual(lacking, []);
});

test('applyFragment replaces existing settings and appends new ones', () => {
  const out = applyFragment('CONFIG_A=y\n# CONFIG_STATIC is not set\nCONFIG_PREFIX=""\nCONFIG_KEEP=y\n',
    'CONFIG_STATIC=y\nCONFIG_PREFIX="riscv64-linux-gnu-"\n# CONFIG_A is not set\nCONFIG_NEW=y\n');
  const m = parseKconfig(out);
  assert.deepEqual([m.get('CONFIG_A'), m.get('CONFIG_STATIC'), m.get('CONFIG_PREFIX'), m.get('CONFIG_KEEP'), m.get('CONFIG_NEW')],
    ['n', 'y', '"riscv64-linux-gnu-"', 'y', 'y']);
  assert.equal(out.split('\n').filter((l) => l.includes('CONFIG_STATIC')).length, 1);
});

/** A minimal ELF-64 header (+ one program header) for the checker. */
function elf(opts: { machine?: number; interp?: boolean; cls?: number }): Uint8Array {
  const b = new Uint8Array(64 + 56);
  const dv = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, opts.cls ?? 2, 1, 1]);
  dv.setUint16(16, 2, true);
  dv.setUint16(18, opts.machine ?? EM_RISCV, true);
  dv.setBigUint64(32, 64n, true);
  dv.setUint16(54, 56, true);
  dv.setUint16(56, 1, true);
  dv.setUint32(64, opts.interp ? 3 : 1, true);
  return b;
}

test('staticRiscv64Problem accepts static riscv64 executables only', () => {
  assert.equal(staticRiscv64Problem(elf({})), null);
  assert.match(staticRiscv64Problem(elf({ interp: true })) ?? '', /dynamically linked/);
  assert.match(staticRiscv64Problem(elf({ machine: 62 })) ?? '', /not RISC-V/);
  assert.match(staticRiscv64Problem(elf({ cls: 1 })) ?? '', /64-bit/);
  assert.match(staticRiscv64Problem(new TextEncoder().encode('#!/bin/sh\n'.repeat(10))) ?? '', /bad magic/);
});

test('guest/sources pins busybox, iperf and iproute2; bad lines are rejected', () => {
  const pins = parseSources(readFileSync(join(guestDir(), 'sources'), 'utf8'));
  assert.deepEqual(pins.map((p) => p.name).sort(), ['busybox', 'iperf', 'iproute2']);
  assert.throws(() => parseSources('busybox\n'), /NAME VERSION/);
});

test('guest/init prints the ready line in the form tests grep for (its own lines, run by a shell)', () => {
  const init = readFileSync(join(guestDir(), 'init'), 'utf8');
  assert.ok(init.startsWith('#!/bin/sh\n'));
  // Run init's own uptime-reading and ready-line commands (host /proc/uptime stands in for the guest's).
  const lines = init.split('\n');
  const from = lines.findIndex((l) => l.startsWith('read up idle'));
  const to = lines.findIndex((l) => l.includes('vmio-guest: ready'));
  assert.ok(from >= 0 && to >= from, 'init reads /proc/uptime, then prints the ready line');
  const r = spawnSync('sh', ['-c', lines.slice(from, to + 1).join('\n')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout.trim(), READY_LINE_RE);
  assert.equal(r.stdout.trim().split('\n').length, 1, 'exactly one line');
  assert.match(init, /poweroff -f/);
});

test('the xen kernel variant: its own kernel key (patch and fragment in it), the reference key untouched, the userland shared', async () => {
  const { loadRecipe } = await import('../../src/image/recipe.js');
  const ref = await loadRecipe();
  const xen = await loadRecipe('xen');
  assert.equal(ref.variantFiles, null);
  assert.ok(xen.variantFiles !== null && xen.variantFiles.patch.includes('+config XEN\n'), 'the patch adds a riscv config XEN');
  assert.match(xen.variantFiles.config, /^CONFIG_XEN=y$/m);
  assert.match(xen.variantFiles.config, /^CONFIG_XEN_NETDEV_FRONTEND=y$/m);
  assert.match(xen.variantFiles.config, /^# CONFIG_HVC_XEN is not set$/m);
  assert.notEqual(xen.keys.kernel, ref.keys.kernel);
  assert.notEqual(xen.keys.image, ref.keys.image);
  assert.equal(xen.keys.busybox, ref.keys.busybox);
  assert.equal(xen.keys.iperf, ref.keys.iperf);
  assert.equal(xen.keys.iproute2, ref.keys.iproute2);
  // The patch applies to Debian's tree as `patch -p1` expects: every file is a/… b/… and no hunk touches the reference's files twice.
  const files = [...xen.variantFiles.patch.matchAll(/^\+\+\+ b\/(\S+)$/gm)].map((m) => m[1]);
  assert.ok(files.includes('arch/riscv/xen/enlighten.c') && files.includes('arch/riscv/xen/hypercall.S'));
  assert.equal(new Set(files).size, files.length);
});
