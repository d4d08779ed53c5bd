// Cross-builds a static riscv64 iperf 2 (network throughput tool) from Debian's iperf source package.

import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { freshDir, publishDir } from './cache.js';
import { downloadSource, unpackSource } from './debian-source.js';
import { staticRiscv64Problem } from './elf-check.js';
import { CROSS_COMPILE, type Recipe } from './recipe.js';
import { run, step, type Progress, type StepTimes } from './steps.js';

export async function buildIperf(recipe: Recipe, cache: string, progress: Progress, times: StepTimes): Promise<string> {
  const out = join(cache, 'iperf', recipe.keys.iperf);
  const version = recipe.sources.get('iperf') ?? '';
  await publishDir(out, async (tmp) => {
    const work = freshDir(join(cache, 'build', `iperf-${recipe.keys.iperf}`));
    const log = join(work, 'build.log');
    const src = join(work, 'iperf');
    await step(progress, times, `iperf: fetch + unpack source ${version}`, async () => {
      const dl = await downloadSource(cache, 'iperf', version, log);
      await unpackSource(dl, src, log);
      // Debian's dfsg tarball drops the Windows-only src/service.c and patches Makefile.am, which debhelper
      // would autoreconf; we build from the shipped Makefile.in instead, so give it an empty service.c.
      writeFileSync(join(src, 'src', 'service.c'), '/* emptied by vmio: Windows service code removed from the dfsg tarball */\n');
    });
    const jobs = String(Math.max(1, Math.min(availableParallelism(), 8)));
    await step(progress, times, `iperf: configure + make -j${jobs} (static, riscv64)`, async () => {
      const host = CROSS_COMPILE.replace(/-$/, '');
      await run('./configure', [`--host=${host}`, 'LDFLAGS=-static', '--disable-dependency-tracking'], { cwd: src, log });
      await run('make', [`-j${jobs}`], { cwd: src, log });
      await run(`${CROSS_COMPILE}strip`, ['-o', join(tmp, 'iperf'), join(src, 'src', 'iperf')], { cwd: src, log });
      const problem = staticRiscv64Problem(readFileSync(join(tmp, 'iperf')));
      if (problem) throw new Error(`the built iperf is unusable: ${problem}`);
    });
    copyFileSync(join(src, 'config.log'), join(tmp, 'config.log'));
    if (!process.env['VMIO_KEEP_BUILD']) rmSync(work, { recursive: true, force: true });
  });
  return join(out, 'iperf');
}
