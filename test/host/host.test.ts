// Tests for the Host: several VMs on one virtual timeline, and idle pacing once no input can arrive, checked
// with a fake host clock (no test waits for host time).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildVm } from '../../src/host/build-vm.js';
import { HostConsole } from '../../src/host/console.js';
import { DeterministicClock } from '../../src/host/clock.js';
import { Host, IDLE_LEAD_TICKS, type HostTime } from '../../src/host/host.js';
import { parseRunOptions, type RunConfig } from '../../src/cli/run-options.js';
import { makeElf } from '../../src/testing/elf-writer.js';
import { COST_OFF, type CostProfile } from '../../src/metrics/cost.js';
import * as A from '../../src/cpu/riscv/testing/asm.js';

const tmp = mkdtempSync(join(tmpdir(), 'vmio-host-'));
const { t0, t1, t2, s0 } = A.R;
const CSR_MIE = 0x304;

/** Bare-metal words: arm mtimecmp = mtime + `seconds`, wait for it, then `after`. */
function armAndWait(seconds: number): number[] {
  const ticks = seconds * 10_000_000;
  return [
    A.lui(t0, 0x200c), A.ld(t1, t0, -8), // mtime at 0x200bff8
    A.lui(t2, (ticks + 0x800) >>> 12), A.addi(t2, t2, ((ticks & 0xfff) << 20) >> 20), A.add(t1, t1, t2),
    A.lui(t0, 0x2004), A.sd(t1, t0, 0), // mtimecmp[0]
    A.addi(t2, 0, 0x80), A.csrrw(0, CSR_MIE, t2), // MTIE
    A.wfi(),
  ];
}
const POWEROFF = [A.lui(t0, 0x100), A.lui(t1, 0x5), A.addi(t1, t1, 0x555), A.sw(t1, t0, 0), A.jal(0, 0)];

async function bareVm(name: string, words: number[], clock: DeterministicClock) {
  const elf = join(tmp, `${name}.elf`);
  writeFileSync(elf, makeElf(0x8000_0000, words));
  const config = parseRunOptions(['--bios', 'none', '--kernel', elf, '--memory', '16']) as RunConfig;
  return buildVm(config, new HostConsole(null, { write: () => true }), { clock, name });
}

test('two VMs share one virtual timeline: each stops at its own deadline, in order', async () => {
  const clock = new DeterministicClock();
  const a = await bareVm('a', [...armAndWait(1), ...POWEROFF], clock);
  const b = await bareVm('b', [...armAndWait(3), ...POWEROFF], clock);
  await new Host(clock, [a, b]).run(60);
  assert.equal(a.exit?.kind, 'poweroff');
  assert.equal(b.exit?.kind, 'poweroff');
  assert.ok(a.stoppedAt >= 10_000_000 && a.stoppedAt < 10_100_000, `a stopped at ${a.stoppedAt}`);
  assert.ok(b.stoppedAt >= 30_000_000 && b.stoppedAt < 30_100_000, `b stopped at ${b.stoppedAt}`);
  assert.ok(b.metrics.idleTicks > 29_000_000, 'b idled while a waited too');
});

/** A host clock that moves 1 ms per look and as long as the scheduler sleeps (so a run without pacing still ends). */
function fakeTime(): HostTime & { ms: number; sleeps: number } {
  const t = {
    ms: 0, sleeps: 0,
    nowMs: () => ++t.ms,
    sleep: async (ms: number) => { t.ms += ms; t.sleeps++; },
    turn: async () => {},
  };
  return t;
}

test('with no input left, idle skips lead the host clock by at most IDLE_LEAD_TICKS', async () => {
  const clock = new DeterministicClock();
  // A guest idling on a 1 s timer forever (a shell prompt after stdin ended).
  const words = armAndWait(1);
  const vm = await bareVm('idle', [...words, A.jal(0, -4 * words.length)], clock);
  const time = fakeTime();
  const host = new Host(clock, [vm], [], time);
  await host.run(100); // 100 s of (fake) host time
  assert.equal(vm.exit?.kind, 'timeout');
  assert.ok(host.pacingSleeps > 0, 'the scheduler slept instead of skipping ahead');
  const lead = clock.ticks - time.ms * 10_000;
  assert.ok(lead <= IDLE_LEAD_TICKS + 10_000_000, `virtual time leads the host by ${lead} ticks`);
  assert.ok(clock.ticks >= 150 * 10_000_000, `but idle time is still skipped freely up to the lead (${clock.ticks})`);
});

test('rounds in which every hart still owes modelled work are taken at once, exactly as one by one', async () => {
  // a: 60 UART writes that each cost 40 slices, with the elapsed `time` kept in mscratch, then a loop; b: a 5 ms timer, then 20 writes
  const writes = (n: number): number[] => [
    A.csrrs(s0, 0xc01, 0), A.lui(t0, 0x10000), A.addi(t1, 0, n),
    A.sb(t1, t0, 7), A.addi(t1, t1, -1), A.bne(t1, 0, -8),
    A.csrrs(t2, 0xc01, 0), A.sub(s0, t2, s0), A.csrrw(0, 0x340, s0),
    A.lui(t1, 10), A.addi(t1, t1, -1), A.bne(t1, 0, -4), // 80 k more instructions, run while the writes are paid for
    A.csrrs(t2, 0xc01, 0), A.csrrw(0, 0x140, t2), // the time at the end in sscratch
  ];
  const cost: CostProfile = { name: 'test', costs: { ...COST_OFF.costs, exitUser: 40 * 2048 } };
  const once = async (roundByRound: boolean) => {
    const clock = new DeterministicClock();
    const vms = [];
    for (const [name, words] of [['a', [...writes(60), ...POWEROFF]], ['b', [...armAndWait(0.005), ...writes(20), ...POWEROFF]]] as const) {
      const elf = join(tmp, `owed-${name}.elf`);
      writeFileSync(elf, makeElf(0x8000_0000, words));
      const config = parseRunOptions(['--bios', 'none', '--kernel', elf, '--memory', '16']) as RunConfig;
      vms.push(await buildVm(config, new HostConsole(null, { write: () => true }), { clock, name, cost }));
    }
    let rounds = 0;
    for (const v of vms) { const r = v.runRound.bind(v); v.runRound = () => { rounds++; return r(); }; }
    await new Host(clock, vms, [], fakeTime(), { roundByRound }).run(60);
    return { rounds, ticks: clock.ticks, vms: vms.map((v) => ({ exit: v.exit?.kind, at: v.stoppedAt, elapsed: v.harts[0]!.readCsr(0x340), end: v.harts[0]!.readCsr(0x140), instret: v.harts[0]!.instret, idle: v.metrics.idleTicks })) };
  };
  const one = await once(true), all = await once(false);
  assert.deepEqual(all.vms, one.vms);
  assert.equal(all.ticks, one.ticks);
  assert.equal(one.vms[0]!.exit, 'poweroff');
  assert.ok(one.vms[0]!.elapsed >= 60n * 40n * 2048n, `a's writes took their modelled time (${one.vms[0]!.elapsed} ticks)`);
  assert.ok(all.rounds < one.rounds / 4, `owed rounds run at once: ${all.rounds} rounds against ${one.rounds}`);
});
