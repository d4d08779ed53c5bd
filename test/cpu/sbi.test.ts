// Unit tests for the built-in SBI (src/cpu/riscv/sbi.ts) with a fake caller and platform: every extension,
// error codes, hart masks, DBCN bounds, legacy calls and metrics names.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Sbi, type SbiCaller, type SbiPlatform, SBI_EXT_BASE, SBI_EXT_TIME, SBI_EXT_IPI, SBI_EXT_RFENCE, SBI_EXT_HSM,
  SBI_EXT_SRST, SBI_EXT_DBCN, SBI_ERR_NOT_SUPPORTED, SBI_ERR_INVALID_PARAM, SBI_ERR_INVALID_ADDRESS, SBI_IMPL_ID_VMIO,
  SBI_HSM_STATE_STOPPED,
} from '../../src/cpu/riscv/sbi.js';
import { Metrics } from '../../src/metrics/counters.js';
import { GuestMemory } from '../../src/memory/guest-memory.js';

const RAM_BASE = 0x8000_0000;

class FakePlatform implements SbiPlatform {
  hartCount = 4;
  log: string[] = [];
  out: number[] = [];
  input: number[] = [];
  hartStart(hartid: number, startAddr: bigint, opaque: bigint): number {
    this.log.push(`start ${hartid} 0x${startAddr.toString(16)} ${opaque}`);
    return hartid === 2 ? -6 : 0;
  }
  hartStop(hartid: number): number { this.log.push(`stop ${hartid}`); return 0; }
  hartStatus(hartid: number): number { return hartid === 3 ? SBI_HSM_STATE_STOPPED : 0; }
  sendIpi(hartids: number[]): void { this.log.push(`ipi ${hartids.join(',')}`); }
  remoteFence(hartids: number[], kind: 'i' | 'vma'): void { this.log.push(`fence.${kind} ${hartids.join(',')}`); }
  systemReset(type: number, reason: number): void { this.log.push(`reset ${type} ${reason}`); }
  consoleWrite(bytes: Uint8Array): void { this.out.push(...bytes); }
  consoleRead(): number { return this.input.shift() ?? -1; }
}

class FakeHart implements SbiCaller {
  readonly x = new BigInt64Array(32);
  timer: bigint | null = null;
  constructor(readonly id = 0) {}
  setSbiTimer(value: bigint): void { this.timer = value; }
}

function setup() {
  const platform = new FakePlatform();
  const metrics = new Metrics();
  const ram = new GuestMemory(RAM_BASE, 0x10000);
  const sbi = new Sbi(platform, metrics, ram);
  const hart = new FakeHart(1);
  /** Calls eid/fid with args a0..a5; returns [a0 (error), a1 (value)]. */
  const call = (eid: number, fid: number, ...args: bigint[]): [bigint, bigint] => {
    hart.x.fill(0x5a5an);
    hart.x[17] = BigInt.asIntN(64, BigInt(eid));
    hart.x[16] = BigInt(fid);
    args.forEach((a, i) => { hart.x[10 + i] = BigInt.asIntN(64, a); });
    sbi.call(hart);
    return [hart.x[10]!, hart.x[11]!];
  };
  return { platform, metrics, ram, sbi, hart, call };
}

test('BASE: spec version 2.0, implementation id and version, vendor ids, probe', () => {
  const { call, metrics } = setup();
  assert.deepEqual(call(SBI_EXT_BASE, 0), [0n, 0x02000000n]);
  assert.deepEqual(call(SBI_EXT_BASE, 1), [0n, BigInt(SBI_IMPL_ID_VMIO)]);
  assert.deepEqual(call(SBI_EXT_BASE, 2), [0n, 0x100n]); // implementation version: vmio 0.1 (sbi.ts header)
  for (const fid of [4, 5, 6]) assert.deepEqual(call(SBI_EXT_BASE, fid), [0n, 0n]);
  for (const eid of [SBI_EXT_TIME, SBI_EXT_IPI, SBI_EXT_RFENCE, SBI_EXT_HSM, SBI_EXT_SRST, SBI_EXT_DBCN, 0x10, 0, 8]) {
    assert.deepEqual(call(SBI_EXT_BASE, 3, BigInt(eid)), [0n, 1n], `probe 0x${eid.toString(16)}`);
  }
  assert.deepEqual(call(SBI_EXT_BASE, 3, 0x53555350n), [0n, 0n]); // SUSP: not implemented
  assert.deepEqual(call(SBI_EXT_BASE, 3, 0x504d55n), [0n, 0n]); // PMU
  assert.deepEqual(call(SBI_EXT_BASE, 3, 0x1_0000_0010n), [0n, 0n]); // not a 32-bit EID
  assert.deepEqual(call(SBI_EXT_BASE, 7), [BigInt(SBI_ERR_NOT_SUPPORTED), 0n]);
  assert.equal(metrics.sbiCalls['BASE.get_spec_version'], 1);
  assert.equal(metrics.sbiCalls['BASE.probe_extension'], 12);
});

test('unknown extension and function give NOT_SUPPORTED and are counted', () => {
  const { call, metrics } = setup();
  assert.equal(call(0x12345678, 0)[0], -2n);
  assert.equal(call(0x53555350, 0)[0], -2n);
  assert.equal(call(SBI_EXT_TIME, 1)[0], -2n);
  assert.equal(call(SBI_EXT_IPI, 1)[0], -2n);
  assert.equal(call(SBI_EXT_SRST, 1)[0], -2n);
  assert.equal(call(SBI_EXT_DBCN, 3)[0], -2n);
  assert.equal(call(SBI_EXT_HSM, 4)[0], -2n);
  assert.equal(metrics.sbiCalls['unknown'], 2);
  assert.equal(metrics.sbiCalls['TIME.unknown'], 1);
});

test('EID and FID compare as 32-bit values (sign-extended registers)', () => {
  const { call, hart } = setup();
  // 0x54494D45 is positive; a register holding it with garbage upper bits still selects TIME.
  const [e] = call(SBI_EXT_TIME, 0, 1234n);
  assert.equal(e, 0n);
  assert.equal(hart.timer, 1234n);
});

test('TIME.set_timer passes the full 64-bit value to the hart', () => {
  const { call, hart, metrics } = setup();
  assert.deepEqual(call(SBI_EXT_TIME, 0, 0xffff_ffff_ffff_ffffn), [0n, 0n]);
  assert.equal(hart.timer, 0xffff_ffff_ffff_ffffn);
  assert.equal(metrics.sbiCalls['TIME.set_timer'], 1);
});

test('IPI.send_ipi: mask+base, base=-1 means all harts, invalid harts rejected', () => {
  const { call, platform } = setup();
  assert.deepEqual(call(SBI_EXT_IPI, 0, 0b101n, 0n), [0n, 0n]);
  assert.deepEqual(call(SBI_EXT_IPI, 0, 0b11n, 2n), [0n, 0n]);
  assert.deepEqual(call(SBI_EXT_IPI, 0, 0n, -1n), [0n, 0n]);
  assert.deepEqual(platform.log, ['ipi 0,2', 'ipi 2,3', 'ipi 0,1,2,3']);
  platform.log = [];
  assert.equal(call(SBI_EXT_IPI, 0, 0b1n, 4n)[0], BigInt(SBI_ERR_INVALID_PARAM));
  assert.equal(call(SBI_EXT_IPI, 0, 0b111n, 2n)[0], BigInt(SBI_ERR_INVALID_PARAM)); // hart 4 does not exist
  assert.equal(call(SBI_EXT_IPI, 0, 1n << 63n, 0n)[0], BigInt(SBI_ERR_INVALID_PARAM));
  assert.deepEqual(call(SBI_EXT_IPI, 0, 0n, 9n), [0n, 0n]); // empty mask: nothing to do
  assert.deepEqual(platform.log, []);
});

test('RFENCE: fence.i and sfence.vma reach the platform; hfence is NOT_SUPPORTED', () => {
  const { call, platform, metrics } = setup();
  assert.equal(call(SBI_EXT_RFENCE, 0, 0b10n, 0n)[0], 0n);
  assert.equal(call(SBI_EXT_RFENCE, 1, 0b1n, 3n, 0x1000n, 0x2000n)[0], 0n);
  assert.equal(call(SBI_EXT_RFENCE, 2, 0n, -1n, 0n, -1n, 5n)[0], 0n);
  assert.deepEqual(platform.log, ['fence.i 1', 'fence.vma 3', 'fence.vma 0,1,2,3']);
  for (const fid of [3, 4, 5, 6]) assert.equal(call(SBI_EXT_RFENCE, fid, 1n, 0n)[0], -2n);
  assert.equal(call(SBI_EXT_RFENCE, 0, 1n, 5n)[0], -3n);
  assert.equal(metrics.sbiCalls['RFENCE.remote_sfence_vma_asid'], 1);
  assert.equal(metrics.sbiCalls['RFENCE.remote_hfence_gvma'], 1);
});

test('HSM: start, stop, status, suspend', () => {
  const { call, platform } = setup();
  assert.equal(call(SBI_EXT_HSM, 0, 1n, BigInt(RAM_BASE + 0x200), 77n)[0], 0n);
  assert.equal(call(SBI_EXT_HSM, 0, 2n, BigInt(RAM_BASE), 0n)[0], -6n); // platform's answer is passed back
  assert.equal(call(SBI_EXT_HSM, 0, 4n, BigInt(RAM_BASE), 0n)[0], -3n); // no such hart
  assert.equal(call(SBI_EXT_HSM, 0, 1n, 0x1000n, 0n)[0], -5n); // start address outside RAM
  assert.equal(call(SBI_EXT_HSM, 0, 1n, BigInt(RAM_BASE + 0x10000), 0n)[0], BigInt(SBI_ERR_INVALID_ADDRESS));
  assert.equal(call(SBI_EXT_HSM, 1)[0], 0n);
  assert.deepEqual(platform.log, ['start 1 0x80000200 77', 'start 2 0x80000000 0', 'stop 1']);
  assert.deepEqual(call(SBI_EXT_HSM, 2, 3n), [0n, BigInt(SBI_HSM_STATE_STOPPED)]);
  assert.deepEqual(call(SBI_EXT_HSM, 2, 0n), [0n, 0n]);
  assert.equal(call(SBI_EXT_HSM, 2, 4n)[0], -3n);
  assert.equal(call(SBI_EXT_HSM, 3, 0n)[0], 0n); // default retentive: returns at once
  assert.equal(call(SBI_EXT_HSM, 3, 0x8000_0000n)[0], -2n); // non-retentive: not supported
  assert.equal(call(SBI_EXT_HSM, 3, 0x1000_0000n)[0], -2n); // platform retentive: not implemented
  assert.equal(call(SBI_EXT_HSM, 3, 5n)[0], -3n); // reserved
  assert.equal(call(SBI_EXT_HSM, 3, 0x8000_0001n)[0], -3n); // reserved
});

test('SRST: valid types and reasons reach the platform, others are INVALID_PARAM', () => {
  const { call, platform, metrics } = setup();
  assert.equal(call(SBI_EXT_SRST, 0, 0n, 0n)[0], 0n);
  assert.equal(call(SBI_EXT_SRST, 0, 1n, 1n)[0], 0n);
  assert.equal(call(SBI_EXT_SRST, 0, 2n, 0n)[0], 0n);
  assert.equal(call(SBI_EXT_SRST, 0, 3n, 0n)[0], -3n);
  assert.equal(call(SBI_EXT_SRST, 0, 0xf000_0000n, 0n)[0], -3n);
  assert.equal(call(SBI_EXT_SRST, 0, 0n, 2n)[0], -3n);
  assert.equal(call(SBI_EXT_SRST, 0, 0n, -1n)[0], -3n); // 0xFFFFFFFF sign-extended: vendor reason
  assert.deepEqual(platform.log, ['reset 0 0', 'reset 1 1', 'reset 2 0']);
  assert.equal(metrics.sbiCalls['SRST.system_reset'], 7);
});

test('DBCN: write and read through guest RAM, bounds checked', () => {
  const { call, platform, ram } = setup();
  ram.load(RAM_BASE + 0x100, new TextEncoder().encode('hello'));
  assert.deepEqual(call(SBI_EXT_DBCN, 0, 5n, BigInt(RAM_BASE + 0x100), 0n), [0n, 5n]);
  assert.equal(String.fromCharCode(...platform.out), 'hello');
  // Last bytes of RAM are fine; one past the end is not.
  assert.deepEqual(call(SBI_EXT_DBCN, 0, 16n, BigInt(RAM_BASE + 0x10000 - 16), 0n), [0n, 16n]);
  assert.equal(call(SBI_EXT_DBCN, 0, 17n, BigInt(RAM_BASE + 0x10000 - 16), 0n)[0], -3n);
  assert.equal(call(SBI_EXT_DBCN, 0, 1n, BigInt(RAM_BASE - 1), 0n)[0], -3n);
  assert.equal(call(SBI_EXT_DBCN, 0, 1n, BigInt(RAM_BASE), 1n)[0], -3n); // base_addr_hi != 0
  assert.equal(call(SBI_EXT_DBCN, 0, -1n, BigInt(RAM_BASE), 0n)[0], -3n); // huge length
  assert.equal(call(SBI_EXT_DBCN, 0, 2n, -1n, 0n)[0], -3n); // wraps around
  assert.equal(platform.out.length, 5 + 16);
  // Read: as many bytes as wait.
  platform.input = [0x41, 0x42];
  assert.deepEqual(call(SBI_EXT_DBCN, 1, 8n, BigInt(RAM_BASE + 0x200), 0n), [0n, 2n]);
  assert.deepEqual([...ram.slice(RAM_BASE + 0x200, 3)], [0x41, 0x42, 0]);
  assert.deepEqual(call(SBI_EXT_DBCN, 1, 8n, BigInt(RAM_BASE + 0x200), 0n), [0n, 0n]);
  assert.equal(call(SBI_EXT_DBCN, 1, 8n, BigInt(RAM_BASE + 0x10000 - 4), 0n)[0], -3n);
  // write_byte
  platform.out = [];
  assert.deepEqual(call(SBI_EXT_DBCN, 2, 0x1_23n), [0n, 0n]);
  assert.deepEqual(platform.out, [0x23]);
});

test('legacy calls: a0 only, a1 untouched', () => {
  const { call, platform, hart, ram, metrics } = setup();
  let [a0, a1] = call(0, 0, 999n);
  assert.equal(a0, 0n);
  assert.equal(a1, 0x5a5an);
  assert.equal(hart.timer, 999n);
  call(1, 0, 0x41n);
  assert.deepEqual(platform.out, [0x41]);
  platform.input = [0x7a];
  assert.equal(call(2, 0)[0], 0x7an);
  assert.equal(call(2, 0)[0], -1n);
  assert.equal(call(3, 0)[0], 0n);
  ram.write64(0x300, 0b1010n);
  [a0] = call(4, 0, BigInt(RAM_BASE + 0x300));
  assert.equal(a0, 0n);
  call(5, 0, BigInt(RAM_BASE + 0x300));
  call(6, 0, 0n, 0n, 0x1000n);
  call(7, 0, BigInt(RAM_BASE + 0x300), 0n, 0x1000n, 3n);
  assert.ok(call(4, 0, 0x1000n)[0] < 0n); // pointer outside RAM
  ram.write64(0x308, 0b10000n); // hart 4 does not exist
  assert.ok(call(4, 0, BigInt(RAM_BASE + 0x308))[0] < 0n);
  call(8, 0);
  assert.deepEqual(platform.log, ['ipi 1,3', 'fence.i 1,3', 'fence.vma 0,1,2,3', 'fence.vma 1,3', 'reset 0 0']);
  assert.equal(metrics.sbiCalls['legacy.console_putchar'], 1);
  assert.equal(metrics.sbiCalls['legacy.send_ipi'], 3);
  assert.equal(metrics.sbiCalls['legacy.shutdown'], 1);
});
