// Tests for `vmio run` option parsing: defaults, limits, and errors that say what to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRunOptions, UsageError, type RunConfig } from '../../src/cli/run-options.js';

function cfg(args: string[]): RunConfig {
  const c = parseRunOptions(args);
  assert.ok(c !== 'help', 'expected a configuration, got help');
  return c as RunConfig;
}

test('defaults boot the reference guest with the built-in SBI', () => {
  const c = cfg([]);
  assert.equal(c.kernel, null);
  assert.equal(c.bios, 'builtin');
  assert.equal(c.memoryMiB, 256);
  assert.equal(c.smp, 1);
  assert.equal(c.realtime, false);
});

test('options are parsed and range-checked', () => {
  const c = cfg(['--smp', '2', '--memory', '512', '--timeout', '1.5', '--realtime', '--append', 'quiet']);
  assert.equal(c.smp, 2);
  assert.equal(c.memoryMiB, 512);
  assert.equal(c.timeoutSeconds, 1.5);
  assert.equal(c.realtime, true);
  assert.equal(c.append, 'quiet');
  assert.throws(() => parseRunOptions(['--smp', '9']), /--smp must be between 1 and 8/);
  assert.throws(() => parseRunOptions(['--memory', 'lots']), /--memory must be a whole number/);
  assert.throws(() => parseRunOptions(['--timeout=-1']), /--timeout must be a positive number/);
  assert.throws(() => parseRunOptions(['--frobnicate']), (e: Error) => e instanceof UsageError && /frobnicate/.test(e.message) && /vmio run --help/.test(e.message));
  assert.throws(() => parseRunOptions(['--bios', 'none']), /--bios none needs --kernel/);
  assert.equal(parseRunOptions(['--help']), 'help');
});

test('--cpu: jit by default, VMIO_CPU changes the default, --cpu overrides both, a bad value is one clear line', () => {
  const saved = process.env['VMIO_CPU'];
  try {
    delete process.env['VMIO_CPU'];
    assert.equal(cfg([]).cpu, 'jit');
    assert.equal(cfg(['--cpu', 'interp']).cpu, 'interp');
    process.env['VMIO_CPU'] = 'interp';
    assert.equal(cfg([]).cpu, 'interp');
    assert.equal(cfg(['--cpu', 'jit']).cpu, 'jit');
    process.env['VMIO_CPU'] = 'fast';
    assert.throws(() => cfg([]), (e: unknown) => e instanceof UsageError && /^VMIO_CPU must be interp or jit, got 'fast'/.test(e.message));
    assert.throws(() => cfg(['--cpu', 'fast']), (e: unknown) => e instanceof UsageError && /^--cpu must be interp or jit, got 'fast'$/.test(e.message));
  } finally {
    if (saved === undefined) delete process.env['VMIO_CPU']; else process.env['VMIO_CPU'] = saved;
  }
});
