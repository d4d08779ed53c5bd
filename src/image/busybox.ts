// Cross-builds a static riscv64 busybox from Debian's busybox source package with guest/busybox.config over defconfig.

import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { freshDir, publishDir } from './cache.js';
import { downloadSource, unpackSource } from './debian-source.js';
import { staticRiscv64Problem } from './elf-check.js';
import { missingOptions, parseKconfig } from './kconfig.js';
import type { Recipe } from './recipe.js';
import { run, step, type Progress, type StepTimes } from './steps.js';

/** Replaces (or appends) each symbol of `fragment` in the .config text. */
export function applyFragment(config: string, fragment: string): string {
  const want = parseKconfig(fragment);
  const kept = config.split('\n').filter((line) => {
    const m = /^(?:# )?(CONFIG_[A-Za-z0-9_]+)[= ]/.exec(line);
    return !(m?.[1] !== undefined && want.has(m[1]));
  });
  const added = [...want].map(([sym, v]) => (v === 'n' ? `# ${sym} is not set` : `${sym}=${v}`));
  return `${kept.join('\n').trimEnd()}\n${added.join('\n')}\n`;
}

export interface BusyboxArtifact { binary: string; links: string }

export async function buildBusybox(recipe: Recipe, cache: string, progress: Progress, times: StepTimes): Promise<BusyboxArtifact> {
  const out = join(cache, 'busybox', recipe.keys.busybox);
  const version = recipe.sources.get('busybox') ?? '';
  await publishDir(out, async (tmp) => {
    const work = freshDir(join(cache, 'build', `busybox-${recipe.keys.busybox}`));
    const log = join(work, 'build.log');
    const src = join(work, 'busybox');
    await step(progress, times, `busybox: fetch + unpack source ${version}`, async () => {
      const dl = await downloadSource(cache, 'busybox', version, log);
      await unpackSource(dl, src, log);
    });
    await step(progress, times, 'busybox: configure (defconfig + guest/busybox.config)', async () => {
      await run('make', ['defconfig'], { cwd: src, log });
      const cfg = join(src, '.config');
      writeFileSync(cfg, applyFragment(readFileSync(cfg, 'utf8'), recipe.busyboxConfig));
      await run('make', ['oldconfig'], { cwd: src, log, input: '\n'.repeat(4000) });
      const missing = missingOptions(recipe.busyboxConfig, readFileSync(cfg, 'utf8'));
      if (missing.length > 0) throw new Error(`busybox .config (${cfg}) lacks settings from guest/busybox.config:\n  ${missing.join('\n  ')}`);
    });
    const jobs = String(Math.max(1, Math.min(availableParallelism(), 8)));
    await step(progress, times, `busybox: make -j${jobs} (static, riscv64)`, async () => {
      await run('make', [`-j${jobs}`, 'busybox', 'busybox.links'], { cwd: src, log });
      const problem = staticRiscv64Problem(readFileSync(join(src, 'busybox')));
      if (problem) throw new Error(`the built busybox (${join(src, 'busybox')}) is unusable: ${problem}`);
    });
    copyFileSync(join(src, 'busybox'), join(tmp, 'busybox'));
    copyFileSync(join(src, 'busybox.links'), join(tmp, 'busybox.links'));
    copyFileSync(join(src, '.config'), join(tmp, 'config'));
    if (!process.env['VMIO_KEEP_BUILD']) rmSync(work, { recursive: true, force: true });
  });
  return { binary: join(out, 'busybox'), links: join(out, 'busybox.links') };
}
