// End-to-end: the board's interrupt controllers as Linux sees them. Under AIA (the default) the UART and RTC
// reach the guest through the APLIC in MSI mode, a PCI function's MSI-X vectors through the IMSIC, and two harts
// exchange IPIs; under --irqchip plic the same PCI function falls back to INTx; OpenSBI boots either way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { runVmio } from '../../src/testing/run-vmio.js';

const OPENSBI = '/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin';
const SCRIPT = 'lspci\ncat /proc/interrupts\nhead -c 64 /dev/hwrng | wc -c\npoweroff\n';

test('AIA: wired devices through the APLIC (MSI mode), MSI-X through the IMSIC, lspci lists the function', async () => {
  const r = await runVmio(['run', '--rng', '--timeout', '300'], SCRIPT);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /riscv-imsic: imsics@28000000/);
  assert.match(r.stdout, /00:01\.0 Class 00ff: 1af4:1044/, 'lspci shows the virtio-rng function');
  assert.match(r.stdout, /APLIC-MSI-d000000\.aplic +10 Level .*ttyS0/);
  assert.match(r.stdout, /APLIC-MSI-d000000\.aplic +11 Level .*rtc/);
  const msix = /^ *\d+: +(\d+) +PCI-MSIX-0000:00:01\.0 +1 Edge +virtio0-input/m.exec(r.stdout);
  assert.ok(msix !== null, 'the queue vector is an MSI-X vector');
  assert.ok(Number(msix[1]) > 0, 'and it was delivered');
  assert.match(r.stdout, /\n64\r?\n/);
});

test('AIA with --smp 2: both harts take timer interrupts and IPIs', async () => {
  const r = await runVmio(['run', '--smp', '2', '--timeout', '300'], 'cat /proc/interrupts\npoweroff\n');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const ipi = /IPI1: +(\d+) +(\d+) +Function call interrupts/.exec(r.stdout);
  assert.ok(ipi !== null && Number(ipi[1]) > 0 && Number(ipi[2]) > 0, `IPIs on both harts: ${ipi?.[0]}`);
});

test('--irqchip plic: the same PCI function works on INTx', async () => {
  const r = await runVmio(['run', '--irqchip', 'plic', '--rng', '--timeout', '300'], SCRIPT);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /SiFive PLIC +33 .*virtio0/, 'INTA of slot 1 is PLIC source 0x20 + 1');
  assert.doesNotMatch(r.stdout, /PCI-MSIX/);
  assert.match(r.stdout, /\n64\r?\n/);
});

test('Debian\'s OpenSBI with AIA: it delegates the APLIC to Linux', { skip: existsSync(OPENSBI) ? false : `${OPENSBI} is missing (Debian package opensbi)` }, async () => {
  const r = await runVmio(['run', '--bios', OPENSBI, '--timeout', '300'], 'cat /proc/interrupts\npoweroff\n');
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /Platform IPI Device +: aia-imsic/);
  assert.match(r.stdout, /APLIC-MSI-d000000\.aplic +10 Level .*ttyS0/);
});
