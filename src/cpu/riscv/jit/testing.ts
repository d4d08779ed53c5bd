// Test fixture for the block translator: the same program on two machines, one interpreting and one translating
// eagerly (everything it reaches runs translated), stepped with the same run() budgets and compared after every
// step -- pc, instret, privilege, every register, the trap CSRs and all of RAM. The interpreter is the oracle:
// the translator must leave exactly its state, at every step.

import { createHash } from 'node:crypto';
import { makeMachine, RAM_BASE, HALT, type TestMachine } from '../testing/machine.js';
import type { Program } from '../testing/asm.js';
import { attachJit, type Jit, type JitOptions } from './engine.js';

export interface Twin {
  interp: TestMachine;
  jit: TestMachine;
  engine: Jit;
}

const CSRS: [string, number][] = [
  ['mstatus', 0x300], ['mcause', 0x342], ['mepc', 0x341], ['mtval', 0x343], ['scause', 0x142], ['sepc', 0x141],
  ['stval', 0x143], ['mip', 0x344], ['minstret', 0xb02], ['fcsr', 0x003], ['satp', 0x180],
];

/**
 * Two machines with `program` loaded and `setup` applied to each (RAM size 16 MiB at RAM_BASE, mtvec = HALT, a
 * `j .` at HALT), the second with a translator attached (JitOptions; eager unless told otherwise).
 */
export function twins(program: Program, setup?: (m: TestMachine) => void, opts: JitOptions = { eager: true }): Twin {
  const make = (): TestMachine => {
    // Neither twin gets the test suite's own translator (TEST_CPU): the first is the oracle and must interpret;
    // the second gets the one attached below.
    const m = makeMachine(opts.backend === undefined ? { jit: false } : { jit: false, wasm: opts.backend === 'wasm' });
    m.mem.load(program.base, program.build());
    m.mem.write32(HALT - RAM_BASE, 0x6f);
    m.hart.reset(program.base, 3);
    m.hart.writeCsr(0x305, BigInt(HALT));
    m.hart.writeCsr(0x300, 1n << 13n); // FS = Initial
    setup?.(m);
    try { m.hart.fetchSlow(m.hart.pc); } catch { /* a program that starts by faulting */ } // the fetch TLB, on both
    return m;
  };
  const interp = make(), jit = make();
  return { interp, jit, engine: attachJit(jit.hart, opts) };
}

/** Everything architectural about a machine that a test can see, as text (RAM as a hash). */
export function snapshot(m: TestMachine): string {
  const h = m.hart;
  const regs: string[] = [];
  for (let r = 1; r < 32; r++) regs.push(`x${r}=${BigInt.asUintN(64, h.x[r]!).toString(16)}`);
  for (let r = 0; r < 32; r++) regs.push(`f${r}=${h.fpu.f[r]!.toString(16)}`);
  const csrs = CSRS.map(([n, c]) => `${n}=${h.readCsr(c).toString(16)}`);
  const ram = createHash('sha256').update(new Uint8Array(m.mem.buffer, 0, m.mem.size)).digest('hex').slice(0, 16);
  return `pc=${BigInt.asUintN(64, BigInt(h.pc)).toString(16)} instret=${h.instret} priv=${h.priv} waiting=${h.waiting} ` +
    `${regs.join(' ')} ${csrs.join(' ')} ram=${ram}`;
}

/** The first field that differs between two snapshots, for messages. */
export function firstDifference(a: string, b: string): string {
  const fa = a.split(' '), fb = b.split(' ');
  for (let i = 0; i < fa.length; i++) if (fa[i] !== fb[i]) return `${fa[i]} (interpreter) vs ${fb[i]} (translator)`;
  return 'none';
}

/**
 * Runs both machines with the given budgets in turn (each: prime the translator at the current pc unless told not
 * to, then hart.run(budget)), calling `between` on both after each step, and returns the first step whose
 * snapshots differ (with the difference), or null when they never do.
 */
export function runBoth(t: Twin, budgets: readonly number[], between?: (m: TestMachine) => void, prime = true): string | null {
  for (let s = 0; s < budgets.length; s++) {
    if (prime) t.engine.prime(t.jit.hart);
    t.interp.hart.run(budgets[s]!);
    t.jit.hart.run(budgets[s]!);
    between?.(t.interp);
    between?.(t.jit);
    const a = snapshot(t.interp), b = snapshot(t.jit);
    if (a !== b) return `step ${s} (budget ${budgets[s]}): ${firstDifference(a, b)}`;
  }
  return null;
}

/** Budgets that cut a run at many different points: 1, 2, 3, 5, 7, ... mixed with long ones. */
export function mixedBudgets(total: number, seed = 1): number[] {
  const out: number[] = [];
  let x = seed >>> 0 || 1, sum = 0;
  while (sum < total) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    const b = x % 4 === 0 ? 1 + (x >>> 8) % 2000 : 1 + (x >>> 8) % 37;
    out.push(b);
    sum += b;
  }
  return out;
}

/** pc, instret, privilege and the integer registers of a hart (what a lockstep run compares after each chunk). */
export function hartState(h: { pc: number; instret: number; priv: number; x: BigInt64Array }): string {
  const regs: string[] = [];
  for (let r = 1; r < 32; r++) regs.push(BigInt.asUintN(64, h.x[r]!).toString(16));
  return `pc=${h.pc.toString(16)} instret=${h.instret} priv=${h.priv} ${regs.join(',')}`;
}
