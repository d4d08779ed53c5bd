// `vmio run` and `vmio image build` with a VMIO_CACHE that cannot be used: one line saying what to set, exit 2,
// promptly (a recursive mkdir under /proc used to hang; a file used to give a stack trace and exit 3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VMIO_BIN } from '../../src/testing/run-vmio.js';

const tmp = mkdtempSync(join(tmpdir(), 'vmio-cache-cli-'));
const file = join(tmp, 'a-file');
writeFileSync(file, 'not a directory');

/** Runs vmio with VMIO_CACHE set; resolves on its exit (a hang is killed after 2 minutes and fails the test). */
function vmioWithCache(cache: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [VMIO_BIN, ...args], { env: { ...process.env, VMIO_CACHE: cache }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const bound = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (status) => { clearTimeout(bound); resolve({ status, stdout, stderr }); });
  });
}

for (const [cache, message] of [
  ['/proc/vmio', /^vmio (run|image build): VMIO_CACHE=\/proc\/vmio: cannot create \/proc\/vmio \(ENOENT\); set VMIO_CACHE to a directory you can write to/],
  [file, /^vmio (run|image build): VMIO_CACHE=.*a-file: it is a file, not a directory; set VMIO_CACHE/],
  ['/proc', /^vmio (run|image build): VMIO_CACHE=\/proc: cannot create files in it/],
] as const) {
  test(`VMIO_CACHE=${cache}: vmio run and vmio image build say what to set, exit 2`, async () => {
    for (const args of [['run'], ['image', 'build']]) {
      const r = await vmioWithCache(cache, args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, message);
    }
  });
}
