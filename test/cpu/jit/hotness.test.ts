// Which code the block translator finds hot (jit/engine.ts sampleAt): samples are counted per 64-byte line of RAM
// within a window of samples (SAMPLE_WINDOW), so a line is translated when it is hot now, not when its samples
// merely add up over a long run (a boot's flat code).
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

/** Samples alternately in the two lines, `n` of them, with a threshold of 4 per line and the given window. */
function sampleAlternately(window: number, n: number): number {
  const t = twins(twoLines(), undefined, { sampleThreshold: 4, sampleWindow: window, exitThreshold: 2 ** 30 });
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
