// Options of `vmio bench NAME`: whole numbers with limits, checked before a benchmark starts (a bad value is a
// usage error, never a NaN run count that crashes after the benchmark has run).

import { parseArgs } from 'node:util';
import { UsageError } from './run-options.js';

export interface BenchOption { default: number; min: number; max: number }

export function benchOptions<K extends string>(args: string[], spec: Record<K, BenchOption>): Record<K, number> {
  const names = Object.keys(spec) as K[];
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({ args, strict: true, allowPositionals: false,
      options: Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])) }).values as Record<string, string | undefined>;
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split(/\.(\s|$)/)[0]!}; options: ${names.map((n) => `--${n} N`).join(', ')}`);
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
