// The whole CPU unit suite (test/cpu/*.test.ts: instruction classes, traps, privilege, MMU, PMP, atomics, FPU,
// SBI...) again with every test machine's hart translating eagerly (VMIO_TEST_CPU=jit, testing/machine.ts), and
// with the interpreter's WebAssembly tier running what it can (VMIO_TEST_CPU=wasm-tier): the expectations written
// for the interpreter hold for the translator and for the tier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const suite = dirname(here); // dist/test/cpu
// The qemu differential and bare-metal suites have their own --cpu jit runs (programs.test.ts).
const files = readdirSync(suite).filter((f) => f.endsWith('.test.js') && !['diff.test.js', 'baremetal.test.js'].includes(f)).map((f) => join(suite, f));

for (const mode of ['jit', 'wasm-tier']) test(`the CPU unit suite passes with VMIO_TEST_CPU=${mode}`, () => {
  assert.ok(files.length >= 15, `found only ${files.length} test files in ${suite}`);
  const env: NodeJS.ProcessEnv = { ...process.env, VMIO_TEST_CPU: mode };
  delete env['NODE_TEST_CONTEXT']; // a runner of its own, reporting TAP here
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=tap', ...files], { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  const summary = /# pass (\d+)\n# fail (\d+)/.exec(r.stdout);
  assert.equal(r.status, 0, `${summary?.[0] ?? ''}\n${r.stdout.split('\n').filter((l) => l.startsWith('not ok')).join('\n')}`);
  assert.ok(summary !== null && Number(summary[1]) > 100, `ran ${summary?.[1] ?? 0} tests`);
});
