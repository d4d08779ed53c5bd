// The cost model in deterministic mode: charged hypervisor work advances the guest's virtual time, exactly by
// what was charged, and is reported per region; the 'off' profile charges nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildVm } from '../../src/host/build-vm.js';
import { HostConsole } from '../../src/host/console.js';
import { parseRunOptions, type RunConfig } from '../../src/cli/run-options.js';
import { makeElf } from '../../src/testing/elf-writer.js';
import { COST_OFF, type CostProfile } from '../../src/metrics/cost.js';
import * as A from '../../src/cpu/riscv/testing/asm.js';

const tmp = mkdtempSync(join(tmpdir(), 'vmio-cost-'));
const { t0, t1, t2, s0 } = A.R;
const CSR_TIME = 0xc01;
const WRITES = 100;

/** 100 writes to the UART's scratch register (user-space exits), then poweroff; the elapsed `time` in s0 via mscratch. */
const PROGRAM = [
  A.csrrs(s0, CSR_TIME, 0),
  A.lui(t0, 0x10000), A.addi(t1, 0, WRITES),
  A.sb(t1, t0, 7), A.addi(t1, t1, -1), A.bne(t1, 0, -8),
  A.csrrs(t2, CSR_TIME, 0), A.sub(s0, t2, s0),
  A.csrrw(0, 0x340, s0), // mscratch = elapsed ticks
  A.lui(t0, 0x100), A.lui(t1, 0x5), A.addi(t1, t1, 0x555), A.sw(t1, t0, 0), A.jal(0, 0),
];

async function run(cost: CostProfile) {
  const elf = join(tmp, 'scr.elf');
  writeFileSync(elf, makeElf(0x8000_0000, PROGRAM));
  const config = parseRunOptions(['--bios', 'none', '--kernel', elf, '--memory', '16']) as RunConfig;
  const vm = await buildVm(config, new HostConsole(null, { write: () => true }), { cost });
  const exit = await vm.run(30);
  assert.equal(exit.kind, 'poweroff');
  return { vm, elapsed: Number(vm.harts[0]!.readCsr(0x340)) };
}

test('charged exits advance the guest clock by exactly their modelled cost', async () => {
  const off = await run(COST_OFF);
  const priced: CostProfile = { name: 'test', costs: { ...COST_OFF.costs, exitUser: 1000 } };
  const on = await run(priced);
  assert.equal(on.elapsed - off.elapsed, WRITES * 1000, `elapsed ${off.elapsed} -> ${on.elapsed}`);
  assert.equal(on.vm.metrics.regions['uart0']?.cost, WRITES * 1000);
  assert.equal(on.vm.metrics.cost.events.exitUser, WRITES + 1, 'the scratch writes and the poweroff write');
  assert.equal(off.vm.metrics.cost.total, 0);
  assert.equal(off.vm.metrics.instructionsRetired, on.vm.metrics.instructionsRetired, 'the guest did the same work');
});
