// The machine side of the built-in SBI: HSM start/stop/status with the SBI error codes, IPIs as SSIP (counted),
// remote fences, system reset reasons, the console.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmSbiPlatform } from '../../src/host/sbi-platform.js';
import { HostConsole } from '../../src/host/console.js';
import { Bus } from '../../src/memory/bus.js';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { Metrics } from '../../src/metrics/counters.js';
import { Hart } from '../../src/cpu/riscv/hart.js';
import {
  SBI_ERR_ALREADY_AVAILABLE, SBI_ERR_ALREADY_STOPPED, SBI_ERR_INVALID_PARAM, SBI_SUCCESS, SBI_HSM_STATE_STARTED, SBI_HSM_STATE_STOPPED,
} from '../../src/cpu/riscv/sbi.js';
import type { VmExit } from '../../src/host/vm.js';

const CSR_SCOUNTEREN = 0x106;

function setup() {
  const metrics = new Metrics();
  const bus = new Bus(new GuestMemory(0x8000_0000, 1 << 20), metrics);
  const harts = [0, 1].map((id) => new Hart(id, { bus, metrics, sbi: null, readTime: () => 0 }));
  harts[1]!.stopped = true;
  const out: number[] = [];
  const exits: VmExit[] = [];
  const console = new HostConsole(null, { write: (b: Uint8Array) => { out.push(...b); return true; } });
  const p = new VmSbiPlatform(harts, console, (e) => exits.push(e), () => 0x41, metrics);
  return { p, harts, metrics, out, exits, console };
}

test('HSM: start a stopped hart in S-mode with a0 = hartid and a1 = opaque; errors for the rest', () => {
  const { p, harts } = setup();
  assert.equal(p.hartCount, 2);
  assert.equal(p.hartStatus(1), SBI_HSM_STATE_STOPPED);
  assert.equal(p.hartStart(1, 0x8020_0000n, 0x1234n), SBI_SUCCESS);
  const h = harts[1]!;
  assert.equal(h.stopped, false);
  assert.equal(h.pc, 0x8020_0000);
  assert.equal(h.priv, 1);
  assert.equal(h.x[10], 1n);
  assert.equal(h.x[11], 0x1234n);
  assert.equal(h.readCsr(CSR_SCOUNTEREN), 7n, 'started harts get the firmware set-up too');
  assert.equal(p.hartStatus(1), SBI_HSM_STATE_STARTED);
  assert.equal(p.hartStart(1, 0n, 0n), SBI_ERR_ALREADY_AVAILABLE);
  assert.equal(p.hartStart(7, 0n, 0n), SBI_ERR_INVALID_PARAM);
  assert.equal(p.hartStop(1), SBI_SUCCESS);
  assert.equal(p.hartStop(1), SBI_ERR_ALREADY_STOPPED);
  assert.equal(p.hartStatus(9), SBI_ERR_INVALID_PARAM);
});

test('IPIs set SSIP on each named hart, skip unknown ids, and are counted', () => {
  const { p, harts, metrics } = setup();
  p.sendIpi([0, 1, 5]);
  assert.equal(harts[0]!.readCsr(0x344) & 2n, 2n, 'mip.SSIP on hart 0');
  assert.equal(harts[1]!.readCsr(0x344) & 2n, 2n);
  assert.equal(metrics.interrupts['ipi'], 2);
});

test('system reset: shutdown with no reason is a poweroff, with a failure reason a fail, any reboot a reboot', () => {
  const { p, exits } = setup();
  p.systemReset(0, 0);
  p.systemReset(0, 1);
  p.systemReset(1, 0);
  assert.deepEqual(exits.map((e) => e.kind), ['poweroff', 'fail', 'reboot']);
});

test('the console writes through to the host console and reads from the host', () => {
  const { p, out, console } = setup();
  p.consoleWrite(new Uint8Array([0x68, 0x69]));
  console.flush();
  assert.deepEqual(out, [0x68, 0x69]);
  assert.equal(p.consoleRead(), 0x41);
});
