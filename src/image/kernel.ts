// Cross-builds the guest kernel (arch/riscv/boot/Image) from Debian's linux-source-6.12: tinyconfig + guest/kernel.config,
// and for a variant (recipe.ts KernelVariant) its patch applied first and its fragment merged after.

import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { freshDir, publishDir } from './cache.js';
import { missingOptions } from './kconfig.js';
import { CROSS_COMPILE, LINUX_SOURCE_TARBALL, type Recipe } from './recipe.js';
import { run, step, type Progress, type StepTimes } from './steps.js';

export class KernelConfigError extends Error {}

/** Builds (or finds in the cache) the kernel; returns the cached Image path. */
export async function buildKernel(recipe: Recipe, cache: string, progress: Progress, times: StepTimes): Promise<string> {
  const out = join(cache, 'kernel', recipe.keys.kernel);
  await publishDir(out, async (tmp) => {
    const work = freshDir(join(cache, 'build', `kernel-${recipe.keys.kernel}`));
    const log = join(work, 'build.log');
    const src = join(work, 'linux-source-6.12');
    const make = (...targets: string[]): string[] => [`ARCH=riscv`, `CROSS_COMPILE=${CROSS_COMPILE}`, ...targets];
    await step(progress, times, 'kernel: extract linux-source-6.12', () => run('tar', ['-xf', LINUX_SOURCE_TARBALL, '-C', work], { cwd: work, log }));
    const vf = recipe.variantFiles;
    if (vf !== null) {
      await step(progress, times, `kernel: apply ${vf.patchFile}`, () => run('patch', ['-p1', '--forward', '--batch', '-i', vf.patchFile], { cwd: src, log }));
    }
    const fragments = [join(recipe.guest, 'kernel.config'), ...(vf === null ? [] : [vf.configFile])];
    await step(progress, times, `kernel: configure (tinyconfig + ${vf === null ? 'guest/kernel.config' : `guest/kernel.config + guest/${recipe.variant}/kernel.config`})`, async () => {
      await run('make', make('tinyconfig'), { cwd: src, log });
      await run('scripts/kconfig/merge_config.sh', ['-m', '.config', ...fragments], { cwd: src, log });
      await run('make', make('olddefconfig'), { cwd: src, log });
      const wanted = vf === null ? recipe.kernelConfig : `${recipe.kernelConfig}\n${vf.config}`;
      const missing = missingOptions(wanted, readFileSync(join(src, '.config'), 'utf8'));
      if (missing.length > 0) {
        throw new KernelConfigError(`the kernel .config (${join(src, '.config')}) lacks options ${fragments.join(' + ')} ask for:\n  ` +
          `${missing.join('\n  ')}\nUsually a dependency is off: add it to guest/kernel.config (see 'make ARCH=riscv menuconfig', search with '/').`);
      }
    });
    const jobs = String(Math.max(1, Math.min(availableParallelism(), 8)));
    await step(progress, times, `kernel: make -j${jobs} Image`, () => run('make', make(`-j${jobs}`, 'Image'), { cwd: src, log }));
    copyFileSync(join(src, 'arch/riscv/boot/Image'), join(tmp, 'Image'));
    copyFileSync(join(src, '.config'), join(tmp, 'config'));
    // the symbols, so `vmio run --profile` names the guest's hot functions (it looks for a System.map beside the kernel)
    copyFileSync(join(src, 'System.map'), join(tmp, 'System.map'));
    if (!process.env['VMIO_KEEP_BUILD']) rmSync(work, { recursive: true, force: true });
  });
  return join(out, 'Image');
}
