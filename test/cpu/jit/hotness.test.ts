// Which code the block translator finds hot (jit/engine.ts sampleAt): samples are counted per 64-byte line of RAM
// within a window of samples (SAMPLE_WINDOW), so a line is translated when it is hot now, or when its samples add up
// to a much larger total over the run (SAMPLE_TOTAL: code hot for long but spread over many lines), not when a
// boot's flat code adds up to the window's threshold over a long run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '../../../src/cpu/riscv/testing/asm.js';
import { RAM_BASE } from '../../../src/cpu/riscv/testing/machine.js';
import { twins } from '../../../src/cpu/riscv/jit/testing.js';

const CODE = RAM_BASE + 0x1000;
const { a0 } = A.R;

/** Two 64-byte lines of ADDIs at CODE and CODE + 64, then a jump to itself. */
function twoLines(): A.Program {
  const p = new A.Program(CODE);
  for (let i = 0; i < 32; i++) p.w(A.addi(a0, a0, 1));
  return p.w(A.jal(0, 0));
}

/**
 * Samples alternately in the two lines, `n` of them, with a threshold of 4 per line within the given window and of
 * `total` over the run; returns the blocks made.
 */
function sampleAlternately(window: number, n: number, total = 2 ** 30): number {
  const t = twins(twoLines(), undefined, { sampleThreshold: 4, sampleWindow: window, sampleTotal: total, exitThreshold: 2 ** 30 });
  for (let i = 0; i < n; i++) t.engine.sample(t.jit.hart, CODE + (i % 2) * 64);
  return t.engine.stats.blocks;
}

test('a line is translated when it gets the threshold within one window', () => {
  // 8 samples in a window of 16: 4 in each line, both translated
  assert.equal(sampleAlternately(16, 8), 2);
});

test('a line whose samples are spread over many windows is not translated', () => {
  // 3 samples per line in each window of 6: 30 in each line in all, never 4 within one window
  assert.equal(sampleAlternately(6, 60), 0);
});

test('a line whose samples are spread over many windows is translated once they add up to the total', () => {
  // 30 samples in each line in all, 3 in each window: a total of 20 gets both translated
  assert.equal(sampleAlternately(6, 60, 20), 2);
  assert.equal(sampleAlternately(6, 60, 40), 0);
});
