// The differential fuzz command: `node dist/src/cpu/riscv/testing/fuzz.js --count N [--seed S] [--length L]
// [--batch B] [--no-fp] [--show K] [--cpu interp|jit|jit-tier]`. Runs N random sequences on qemu-riscv64 and vmio's hart and prints the first
// K mismatches (source, initial registers, objdump). Exits 1 when any sequence differs, 2 when tools are missing.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { missingTools } from './diff-build.js';
import { runDiff, describeFailures } from './diff-run.js';

export async function main(args: string[]): Promise<number> {
  const opt = (name: string, dflt: number): number => {
    const i = args.indexOf(`--${name}`);
    if (i < 0) return dflt;
    const v = Number(args[i + 1]);
    if (!Number.isInteger(v) || v < 0) throw new Error(`--${name} needs a non-negative integer, got ${args[i + 1]}`);
    return v;
  };
  const count = opt('count', 10000);
  const seed = opt('seed', Date.now() % 0x7fffffff);
  const length = opt('length', 40);
  const batchSize = opt('batch', 1000);
  const show = opt('show', 3);
  const fp = !args.includes('--no-fp');
  const ci = args.indexOf('--cpu');
  const cpu = ci < 0 ? 'interp' : args[ci + 1];
  if (cpu !== 'interp' && cpu !== 'jit' && cpu !== 'jit-tier') throw new Error(`--cpu needs interp, jit (every pc translated) or jit-tier (as vmio run: the WebAssembly tier, blocks for hot code), got ${cpu}`);
  const missing = missingTools();
  if (missing !== null) { console.error(`fuzz: ${missing}`); return 2; }
  const dir = mkdtempSync(join(tmpdir(), 'vmio-fuzz-'));
  const t0 = Date.now();
  try {
    console.log(`fuzz: seed ${seed}, ${count} sequences of ${length} instructions${fp ? ' (with F/D)' : ''}, --cpu ${cpu}`);
    const r = runDiff({ seed, count, batchSize, length, fp, dir, cpu }, (s) => console.log(`fuzz: ${s}`));
    console.log(`fuzz: ${r.sequences} sequences, ${r.instructions} instructions on vmio, ${r.failures.length} mismatches, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    if (r.failures.length > 0) {
      console.log(describeFailures(r, show));
      console.log(`fuzz: reproduce with --seed ${seed} --count ${count} --length ${length} --batch ${batchSize}${fp ? '' : ' --no-fp'} --cpu ${cpu}`);
      return 1;
    }
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (e: unknown) => {
    console.error(`fuzz: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 2;
  });
}
