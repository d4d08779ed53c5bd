// Differential test driver: generates sequences (diff-gen.ts), builds them into ELFs (diff-build.ts), runs each
// ELF on qemu-riscv64 and on vmio's hart in U-mode (user-run.ts), and compares the results (diff-compare.ts).

import { join } from 'node:path';
import { Rng, SequenceGenerator } from './diff-gen.js';
import { buildBatch, runQemu, type Batch } from './diff-build.js';
import { compareBatch, formatMismatch, type Mismatch } from './diff-compare.js';
import { UserProcess } from './user-run.js';

export interface DiffOptions {
  seed: number;
  /** Total sequences. */
  count: number;
  /** Sequences per ELF. */
  batchSize: number;
  /** Instructions per sequence. */
  length: number;
  fp: boolean;
  /** Working directory for sources and ELFs. */
  dir: string;
  /** How vmio's hart executes (default 'interp'). */
  cpu?: 'interp' | 'jit' | 'jit-tier';
}

export interface DiffResult {
  sequences: number;
  instructions: number;
  /** Of those, retired in translated code (--cpu jit), and run by the interpreter's WebAssembly tier. */
  translated: number;
  tier: number;
  failures: { batch: Batch; mismatch: Mismatch }[];
}

const CAUSES: Record<number, string> = {
  0: 'instruction address misaligned', 1: 'instruction access fault', 2: 'illegal instruction', 3: 'breakpoint',
  4: 'load address misaligned', 5: 'load access fault', 6: 'store/AMO address misaligned', 7: 'store/AMO access fault',
  12: 'instruction page fault', 13: 'load page fault', 15: 'store/AMO page fault',
};

/** Runs one batch on vmio's hart; sequences that trap are skipped and listed. */
export function runVmio(batch: Batch, cpu: 'interp' | 'jit' | 'jit-tier' = 'interp'): { out: Uint8Array; trapped: Map<number, string>; instructions: number; translated: number; tier: number } {
  const p = new UserProcess(batch.elf, { cpu });
  const trapped = new Map<number, string>();
  const r = p.run({
    onTrap: (t) => {
      // The sequence whose code trapped: the last one starting at or before epc.
      let i = batch.start.length - 1;
      while (i > 0 && batch.start[i]! > t.epc) i--;
      if (t.epc < batch.start[0]! || t.epc >= batch.done) return null;
      trapped.set(i, `${CAUSES[t.cause] ?? `cause ${t.cause}`} at pc 0x${t.epc.toString(16)}, tval 0x${t.tval.toString(16)}`);
      return batch.start[i + 1] ?? batch.done;
    },
  });
  if (r.stopped !== 'exit') {
    const why = r.trap !== null ? `trap cause ${r.trap.cause} at 0x${r.trap.epc.toString(16)}` : r.stopped;
    throw new Error(`vmio did not finish the batch: ${why}`);
  }
  return { out: r.stdout, trapped, instructions: r.instructions, translated: p.translated(), tier: p.tier() };
}

export function runDiff(o: DiffOptions, log: (s: string) => void = () => {}): DiffResult {
  const gen = new SequenceGenerator(new Rng(o.seed), { length: o.length, fp: o.fp });
  const res: DiffResult = { sequences: 0, instructions: 0, translated: 0, tier: 0, failures: [] };
  for (let b = 0; res.sequences < o.count; b++) {
    const n = Math.min(o.batchSize, o.count - res.sequences);
    const seqs = [];
    for (let i = 0; i < n; i++) seqs.push(gen.generate(res.sequences + i));
    const batch = buildBatch(seqs, join(o.dir, `batch${b % 2}`));
    const expected = runQemu(batch);
    const vm = runVmio(batch, o.cpu);
    for (const m of compareBatch(batch, expected, vm.out, vm.trapped)) res.failures.push({ batch, mismatch: m });
    res.sequences += n;
    res.instructions += vm.instructions;
    res.translated += vm.translated;
    res.tier += vm.tier;
    log(`batch ${b}: ${n} sequences, ${res.failures.length} failing so far`);
  }
  return res;
}

/** A report of the first `limit` failures. */
export function describeFailures(r: DiffResult, limit = 3): string {
  return r.failures.slice(0, limit).map((f) => formatMismatch(f.batch, f.mismatch)).join('\n\n');
}
