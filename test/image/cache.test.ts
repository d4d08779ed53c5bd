// Tests that cache entries appear atomically: a failed fill leaves nothing, a present entry is a hit.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publishDir } from '../../src/image/cache.js';

test('publishDir: failure leaves no entry, success renames into place, a second call is a hit', async () => {
  const root = mkdtempSync(join(tmpdir(), 'vmio-cache-test-'));
  try {
    const entry = join(root, 'kernel', 'abc');
    await assert.rejects(publishDir(entry, async (tmp) => {
      writeFileSync(join(tmp, 'Image'), 'half');
      throw new Error('make failed');
    }), /make failed/);
    assert.equal(existsSync(entry), false);
    assert.deepEqual(readdirSync(join(root, 'kernel')), [], 'no temporary directory left behind');
    await publishDir(entry, async (tmp) => { writeFileSync(join(tmp, 'Image'), 'full'); });
    assert.equal(readFileSync(join(entry, 'Image'), 'utf8'), 'full');
    let called = false;
    await publishDir(entry, async () => { called = true; });
    assert.equal(called, false, 'an existing entry is not rebuilt');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
