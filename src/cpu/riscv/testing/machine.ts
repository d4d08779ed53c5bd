// Test fixture: a hart on a bus with RAM at 0x8000_0000, a controllable clock and an optional fake SBI,
// plus helpers to run until a trap lands at a known handler. For unit tests and bare-metal fixtures.

import { GuestMemory } from '../../../memory/guest-memory.js';
import { Bus } from '../../../memory/bus.js';
import { Metrics } from '../../../metrics/counters.js';
import { Hart } from '../hart.js';
import type { SbiHandler } from '../sbi-types.js';
import { attachJit } from '../jit/engine.js';

export const RAM_BASE = 0x8000_0000;

export interface TestMachine {
  hart: Hart;
  mem: GuestMemory;
  bus: Bus;
  metrics: Metrics;
  /** Time = ticks + instret * ticksPerInstret; tests move `ticks` by hand. */
  clock: { ticks: number; perInstret: number };
}

/**
 * The CPU mode test machines use: VMIO_TEST_CPU=jit runs every unit test's hart with the block translator,
 * translating eagerly (each run() first translates the code at pc), so the whole unit suite doubles as a test of
 * the translator against the expectations written for the interpreter.
 */
export const TEST_CPU: 'interp' | 'jit' | 'jit-wasm' | 'wasm-tier' = process.env['VMIO_TEST_CPU'] === 'jit' ? 'jit'
  : process.env['VMIO_TEST_CPU'] === 'jit-wasm' ? 'jit-wasm' : process.env['VMIO_TEST_CPU'] === 'wasm-tier' ? 'wasm-tier' : 'interp';

/**
 * `wasm`: RAM is a WebAssembly memory with the VMM area (the translator's WebAssembly backend); `jit`: the hart
 * translates eagerly. Both default per TEST_CPU; an oracle (the interpreter twin of jit/testing.ts) says jit: false.
 */
export function makeMachine(opts: { ramSize?: number; sbi?: SbiHandler | null; hartId?: number; wasm?: boolean; jit?: boolean } = {}): TestMachine {
  const mem = new GuestMemory(RAM_BASE, opts.ramSize ?? 16 * 1024 * 1024, false, opts.wasm ?? (TEST_CPU === 'jit-wasm' || TEST_CPU === 'wasm-tier'));
  const metrics = new Metrics();
  const bus = new Bus(mem, metrics);
  const clock = { ticks: 0, perInstret: 0 };
  const hart = new Hart(opts.hartId ?? 0, {
    bus, metrics, sbi: opts.sbi ?? null,
    readTime: (instret: number) => clock.ticks + instret * clock.perInstret,
  });
  hart.reset(RAM_BASE, 3);
  if (opts.jit === undefined && TEST_CPU === 'wasm-tier') {
    // the interpreter's WebAssembly tier alone: a translator that never finds anything hot enough
    attachJit(hart, { sampleThreshold: 2 ** 30, exitThreshold: 2 ** 30 });
  } else if (opts.jit ?? TEST_CPU !== 'interp') {
    const jit = attachJit(hart, { eager: true });
    const run = hart.run.bind(hart);
    hart.run = (budget: number): number => { jit.prime(hart); return run(budget); };
  }
  return { hart, mem, bus, metrics, clock };
}

/** Runs until pc equals `stopPc` or the budget is spent; returns instructions retired. */
export function runUntil(h: Hart, stopPc: number, budget = 100_000): number {
  let n = 0;
  while (budget > 0 && h.pc !== stopPc) {
    const r = h.run(1);
    n += r;
    budget--;
    if (h.waiting) break;
  }
  return n;
}

/** Where runProgram points mtvec/stvec: a `j .` loop, so a trap parks the hart at a known pc. */
export const HALT = RAM_BASE + 0x10000;

/**
 * Loads `words` (32-bit instructions, nested arrays flattened) at RAM_BASE, sets mtvec to HALT, runs until the
 * hart reaches HALT (usually via `ebreak` or a fault) and returns the machine. mcause tells why it stopped.
 */
export function runProgram(words: (number | number[])[], setup?: (m: TestMachine) => void, budget = 100_000): TestMachine {
  const m = makeMachine();
  const flat = words.flat();
  const bytes = new Uint8Array(flat.length * 4);
  const dv = new DataView(bytes.buffer);
  flat.forEach((w, i) => dv.setUint32(i * 4, w >>> 0, true));
  m.mem.load(RAM_BASE, bytes);
  m.mem.write32(HALT - RAM_BASE, 0x0000006f); // j .
  m.hart.writeCsr(0x305, BigInt(HALT));
  setup?.(m);
  runUntil(m.hart, HALT, budget);
  return m;
}
