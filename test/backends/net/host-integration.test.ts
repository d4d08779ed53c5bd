// A NicPort under the real scheduler (src/host/host.ts): a reply arriving asynchronously from a live backend (as a
// TAP's would) while the guest idles enters before idle time is skipped — and, as a control that shows the check can
// fail, without awaitBeforeSkip the same reply only lands after the skipped second.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildVm } from '../../../src/host/build-vm.js';
import { HostConsole } from '../../../src/host/console.js';
import { DeterministicClock } from '../../../src/host/clock.js';
import { Host } from '../../../src/host/host.js';
import { parseRunOptions, type RunConfig } from '../../../src/cli/run-options.js';
import { makeElf } from '../../../src/testing/elf-writer.js';
import * as A from '../../../src/cpu/riscv/testing/asm.js';
import { NicPort } from '../../../src/backends/net/port.js';
import { RecordingNic, ScriptedBackend, ethFrame, mac } from '../../../src/backends/net/testing/frames.js';

const tmp = mkdtempSync(join(tmpdir(), 'vmio-net-host-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const { t0, t1, t2 } = A.R;

/** Bare-metal guest: arm mtimecmp one second ahead, wait for it in WFI, power off. */
function idleOneSecond(): number[] {
  const ticks = 10_000_000;
  return [
    A.lui(t0, 0x200c), A.ld(t1, t0, -8), // mtime at 0x200bff8
    A.lui(t2, (ticks + 0x800) >>> 12), A.addi(t2, t2, ((ticks & 0xfff) << 20) >> 20), A.add(t1, t1, t2),
    A.lui(t0, 0x2004), A.sd(t1, t0, 0), // mtimecmp[0]
    A.addi(t2, 0, 0x80), A.csrrw(0, 0x304, t2), // mie.MTIE
    A.wfi(),
    A.lui(t0, 0x100), A.lui(t1, 0x5), A.addi(t1, t1, 0x555), A.sw(t1, t0, 0), A.jal(0, 0), // syscon poweroff
  ];
}

/** A backend whose peer answers every frame asynchronously, on the next turn of the event loop. */
class AnsweringBackend extends ScriptedBackend {
  override send(frame: Uint8Array): void {
    super.send(frame);
    setImmediate(() => this.inject(ethFrame(frame.subarray(6, 12), mac('52:54:00:99:99:99'), 0x88b5)));
  }
}

/** A NIC that notes the virtual time at which each frame reaches it. */
class TimedNic extends RecordingNic {
  readonly at: number[] = [];
  constructor(private readonly clock: DeterministicClock) { super(); }
  override receive(frame: Uint8Array): boolean {
    this.at.push(this.clock.now());
    return super.receive(frame);
  }
}

/** The control: a port that neither waits for replies nor paces idle time (both mechanisms off). */
class CarelessPort extends NicPort {
  override awaitBeforeSkip(): boolean { return false; }
  override pacesIdle(): boolean { return false; }
}

async function run(awaitReplies: boolean): Promise<{ at: number[]; stoppedAt: number; pacingSleeps: number }> {
  const clock = new DeterministicClock();
  const elf = join(tmp, 'idle.elf');
  writeFileSync(elf, makeElf(0x8000_0000, idleOneSecond()));
  const config = parseRunOptions(['--bios', 'none', '--kernel', elf, '--memory', '16']) as RunConfig;
  const vm = await buildVm(config, new HostConsole(null, { write: () => true }), { clock, name: 'vm' });
  const nic = new TimedNic(clock);
  const port = awaitReplies ? new NicPort(new AnsweringBackend(), nic, { deterministic: true }) : new CarelessPort(new AnsweringBackend(), nic, { deterministic: true });
  port.send(ethFrame(mac('52:54:00:99:99:99'), mac('52:54:00:00:00:01'), 0x88b5));
  const host = new Host(clock, [vm], [port]);
  await host.run(60);
  assert.equal(vm.exit?.kind, 'poweroff');
  return { at: nic.at, stoppedAt: vm.stoppedAt, pacingSleeps: host.pacingSleeps };
}

test('a reply from a live backend enters before the scheduler skips the guest\'s idle second', { timeout: 60_000 }, async () => {
  const withWait = await run(true);
  assert.equal(withWait.at.length, 1);
  assert.ok(withWait.at[0]! < 1_000_000, `reply delivered at ${withWait.at[0]} ticks, before the 1 s timer`);
  assert.ok(withWait.pacingSleeps > 0, 'a live backend keeps idle time on the host clock (the second is not skipped at once)');
  const control = await run(false);
  assert.ok(control.at.length === 0 || control.at[0]! >= 10_000_000, `control: without awaitBeforeSkip or pacing the reply lands after the skip (${control.at})`);
  assert.equal(control.pacingSleeps, 0);
});
