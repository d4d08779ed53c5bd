// Builds and runs vmio's bare-metal test programs (guest/tests/*.c, linked at 0x80000000 with common/start.S)
// on a Hart whose bus holds only RAM and a SiFive test finisher at 0x100000 (0x5555 pass, (code<<16)|0x3333 fail),
// the device QEMU's virt board has at the same address.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bus, type Width } from '../../../memory/bus.js';
import { GuestMemory } from '../../../memory/guest-memory.js';
import { Metrics } from '../../../metrics/counters.js';
import { parseElf } from '../../../boot/elf.js';
import { Hart } from '../hart.js';
import { Fpu } from '../fpu.js';
import { attachJit } from '../jit/engine.js';
import { CROSS_PREFIX } from './diff-build.js';

export const TEST_DEVICE_BASE = 0x100000;
export const FINISHER_PASS = 0x5555;
export const FINISHER_FAIL = 0x3333;

/** guest/tests in the source tree (this file is dist/src/cpu/riscv/testing/baremetal.js when compiled). */
export const GUEST_TESTS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../../guest/tests');

/** Null when the cross compiler is present; otherwise why programs cannot be built. */
export function missingCrossGcc(): string | null {
  const r = spawnSync(`${CROSS_PREFIX}gcc`, ['--version'], { encoding: 'utf8' });
  return r.error !== undefined || r.status !== 0 ? `${CROSS_PREFIX}gcc is not installed (Debian: gcc-riscv64-linux-gnu)` : null;
}

/** Compiles guest/tests/<name>.c (or .S) with common/start.S into outDir/<name>.elf and returns its path. */
export function buildBareMetal(source: string, outDir: string, extraFlags: string[] = []): string {
  mkdirSync(outDir, { recursive: true });
  const name = source.replace(/^.*\//, '').replace(/\.[cS]$/, '');
  const out = join(outDir, `${name}.elf`);
  const args = ['-march=rv64gc', '-mabi=lp64d', '-mcmodel=medany', '-nostdlib', '-nostartfiles', '-ffreestanding',
    '-fno-pic', '-static', '-O2', '-Wl,--build-id=none', '-Wl,--no-warn-rwx-segments',
    '-T', join(GUEST_TESTS_DIR, 'common/link.ld'), '-I', GUEST_TESTS_DIR, ...extraFlags, '-o', out,
    join(GUEST_TESTS_DIR, 'common/start.S'), resolve(GUEST_TESTS_DIR, source)];
  const r = spawnSync(`${CROSS_PREFIX}gcc`, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`building ${source} failed:\n${r.stderr}`);
  return out;
}

export interface BareMetalMachine {
  hart: Hart;
  ram: GuestMemory;
  metrics: Metrics;
  /** The value last written to the test finisher, or null. */
  finisher(): number | null;
}

/**
 * A hart with RAM at 0x80000000 and the test finisher, with `elf` loaded and the hart at its entry in M-mode;
 * with cpu 'jit' the hart translates hot code (jit/engine.ts).
 */
export function bareMetalMachine(elf: Uint8Array, ramSize = 4 << 20, cpu: 'interp' | 'jit' = 'interp'): BareMetalMachine {
  const metrics = new Metrics();
  const ram = new GuestMemory(0x8000_0000, ramSize, false, cpu === 'jit'); // jit: wasm memory, as vmio run makes it
  const bus = new Bus(ram, metrics);
  let value: number | null = null;
  let hart: Hart | null = null;
  bus.addRegion({
    name: 'test-finisher', base: TEST_DEVICE_BASE, size: 0x1000, exitClass: 'user',
    handler: {
      read: () => 0,
      write: (off: number, _w: Width, v: number | bigint) => {
        if (off !== 0) return;
        value = Number(BigInt.asUintN(32, BigInt(v)));
        hart?.requestExit();
      },
    },
  });
  const img = parseElf(elf);
  for (const s of img.segments) ram.load(s.paddr, s.data);
  hart = new Hart(0, { bus, metrics, readTime: (n) => n, sbi: null });
  if (typeof (hart.fpu as { exec?: unknown }).exec !== 'function') hart.fpu = new Fpu();
  hart.reset(img.entry, 3);
  if (cpu === 'jit') attachJit(hart);
  return { hart, ram, metrics, finisher: () => value };
}

export interface BareMetalResult {
  /** 'pass', 'fail' (with code), or 'timeout' when the program never wrote the finisher. */
  verdict: 'pass' | 'fail' | 'timeout';
  code: number;
  instructions: number;
  pc: number;
}

/** Runs until the program writes the finisher or `budget` instructions retire. */
export function runBareMetal(elfPath: string, budget = 20_000_000, cpu: 'interp' | 'jit' = 'interp'): BareMetalResult {
  const m = bareMetalMachine(new Uint8Array(readFileSync(elfPath)), 4 << 20, cpu);
  let n = 0;
  while (n < budget && m.finisher() === null) {
    const r = m.hart.run(Math.min(1_000_000, budget - n));
    n += r;
    if (r === 0) break; // waiting with nothing to wake it
  }
  const v = m.finisher();
  if (v === null) return { verdict: 'timeout', code: 0, instructions: n, pc: m.hart.pc };
  if ((v & 0xffff) === FINISHER_PASS) return { verdict: 'pass', code: 0, instructions: n, pc: m.hart.pc };
  return { verdict: 'fail', code: v >>> 16, instructions: n, pc: m.hart.pc };
}
