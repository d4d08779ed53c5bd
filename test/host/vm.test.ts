// Tests for the scheduler's idle handling: time skips to the next timer deadline, and a guest that waits
// for an interrupt nothing can raise is stopped instead of spinning.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildVm } from '../../src/host/build-vm.js';
import { HostConsole } from '../../src/host/console.js';
import { parseRunOptions, type RunConfig } from '../../src/cli/run-options.js';
import { makeElf } from '../../src/testing/elf-writer.js';

const tmp = mkdtempSync(join(tmpdir(), 'vmio-vm-'));

async function runBare(name: string, words: number[]) {
  const elf = join(tmp, `${name}.elf`);
  writeFileSync(elf, makeElf(0x8000_0000, words));
  const config = parseRunOptions(['--bios', 'none', '--kernel', elf, '--memory', '16']) as RunConfig;
  const vm = await buildVm(config, new HostConsole(null, { write: () => true }));
  const exit = await vm.run(30);
  return { exit, vm };
}

test('an idle hart with an armed timer: time jumps to the deadline, counted as idle', async () => {
  const { exit, vm } = await runBare('timer', [
    0x020042b7, // lui t0, 0x2004          -> mtimecmp[0]
    0x00989337, // lui t1, 0x989
    0x68030313, // addi t1, t1, 0x680      -> 10,000,000 ticks (1 s)
    0x0062b023, // sd t1, 0(t0)
    0x08000393, // li t2, 0x80             -> MTIE
    0x30439073, // csrw mie, t2
    0x10500073, // wfi                     (wakes on MTIP even with mstatus.MIE = 0)
    0x001002b7, // lui t0, 0x100           -> test device
    0x00005337, // lui t1, 0x5
    0x55530313, // addi t1, t1, 0x555      -> 0x5555 = poweroff
    0x0062a023, // sw t1, 0(t0)
    0x0000006f, // j .
  ]);
  assert.equal(exit.kind, 'poweroff');
  assert.ok(vm.metrics.idleTicks > 9_000_000, `idle ticks ${vm.metrics.idleTicks}`);
  assert.ok(vm.metrics.virtualTicks >= 10_000_000);
  assert.ok(vm.metrics.instructionsRetired < 100, `retired ${vm.metrics.instructionsRetired}`);
});

test('a hart waiting for an interrupt nothing can raise stops the VM with a failure', async () => {
  const { exit } = await runBare('stuck', [
    0x10500073, // wfi
    0xffdff06f, // j -4
  ]);
  assert.equal(exit.kind, 'fail');
  assert.match(exit.kind === 'fail' ? exit.why : '', /nothing can raise/);
});
