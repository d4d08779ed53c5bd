// Options of `vmio bench NAME`: whole numbers with limits, checked before a benchmark starts (a bad value is a
// usage error, never a NaN run count that crashes after the benchmark has run).

import { parseArgs } from 'node:util';
import { UsageError } from './run-options.js';

export interface BenchOption { default: number; min: number; max: number }

export function benchOptions<K extends string>(args: string[], spec: Record<K, BenchOption>, others: string[] = []): Record<K, number> {
  const names = Object.keys(spec) as K[];
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({ args, strict: true, allowPositionals: false,
      options: Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])) }).values as Record<string, string | undefined>;
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split(/\.(\s|$)/)[0]!}; options: ${[...names.map((n) => `--${n} N`), ...others].join(', ')}`);
  }
  const out = {} as Record<K, number>;
  for (const n of names) {
    const { default: d, min, max } = spec[n];
    const raw = values[n];
    const v = raw === undefined ? d : /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(v >= min && v <= max)) throw new UsageError(`--${n} must be a whole number from ${min} to ${max}, got '${raw}'`);
    out[n] = v;
  }
  return out;
}

/** The CPU modes a benchmark compares. */
export type BenchCpu = 'interp' | 'jit';

/**
 * Takes `--cpu interp|jit|both` (default both: the two side by side, runs alternated) out of `args`; returns the
 * modes and the other arguments.
 */
export function benchCpu(args: string[]): { cpus: BenchCpu[]; rest: string[] } {
  const i = args.indexOf('--cpu');
  if (i < 0) return { cpus: ['interp', 'jit'], rest: args };
  const v = args[i + 1];
  if (v !== 'interp' && v !== 'jit' && v !== 'both') throw new UsageError(`--cpu must be interp, jit or both, got '${v ?? ''}'`);
  return { cpus: v === 'both' ? ['interp', 'jit'] : [v], rest: [...args.slice(0, i), ...args.slice(i + 2)] };
}
