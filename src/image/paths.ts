// Where the reference guest image lives in the cache, and ensureImage(): cache hit, or build it (kernel, busybox, iperf, ip, initramfs).

import { closeSync, copyFileSync, existsSync, openSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildBusybox } from './busybox.js';
import { publishDir } from './cache.js';
import { prepareCacheDir } from './cache-dir.js';
import { ensureHostPackages } from './host-packages.js';
import { buildInitramfs } from './initramfs.js';
import { buildIperf } from './iperf.js';
import { buildIproute2 } from './iproute2.js';
import { buildKernel } from './kernel.js';
import { cacheDir, loadRecipe, RECIPE_VERSION, type KernelVariant, type Recipe } from './recipe.js';
import { quietProgress, stderrProgress, step, type Progress, type StepTimes } from './steps.js';

export const KERNEL_FILE = 'Image';
export const INITRD_FILE = 'initramfs.cpio';

export interface ImagePaths { kernel: string; initrd: string; dir: string }

export function imagePathsFor(recipe: Recipe, cache = cacheDir()): ImagePaths {
  const dir = join(cache, 'images', recipe.keys.image);
  return { kernel: join(dir, KERNEL_FILE), initrd: join(dir, INITRD_FILE), dir };
}

function isBuilt(p: ImagePaths): boolean {
  return existsSync(p.kernel) && existsSync(p.initrd);
}

/** The image for the current recipe if it is in the cache, else null (fast: reads guest/ and runs dpkg-query once). */
export async function findImage(variant: KernelVariant = 'reference'): Promise<ImagePaths | null> {
  const p = imagePathsFor(await loadRecipe(variant));
  return isBuilt(p) ? p : null;
}

export interface BuildResult { paths: ImagePaths; hit: boolean; times: StepTimes }

/** Builds every missing piece of the image for the current recipe; a cache hit returns at once. */
export async function buildImage(opts: { quiet?: boolean; variant?: KernelVariant } = {}): Promise<BuildResult> {
  const progress = opts.quiet ? quietProgress : stderrProgress;
  const variant = opts.variant ?? 'reference';
  let recipe = await loadRecipe(variant);
  const cache = cacheDir();
  if (isBuilt(imagePathsFor(recipe, cache))) return { paths: imagePathsFor(recipe, cache), hit: true, times: [] };
  prepareCacheDir(cache);
  const release = await lock(join(cache, 'build.lock'), progress);
  try {
    await ensureHostPackages(progress);
    recipe = await loadRecipe(variant); // package versions may have changed
    const paths = imagePathsFor(recipe, cache);
    if (isBuilt(paths)) return { paths, hit: true, times: [] };
    removeStaleWorkTrees(cache, recipe);
    progress.line(`building the ${variant === 'reference' ? 'reference guest' : `${variant} variant`} image ${recipe.keys.image} in ${cache} (logs under ${join(cache, 'build')})`);
    const t0 = Date.now();
    const times: StepTimes = [];
    const kernel = await buildKernel(recipe, cache, progress, times);
    const busybox = await buildBusybox(recipe, cache, progress, times);
    const iperf = await buildIperf(recipe, cache, progress, times);
    const ip = await buildIproute2(recipe, cache, progress, times);
    await publishDir(paths.dir, async (tmp) => {
      await step(progress, times, 'initramfs: assemble (cpio newc)', async () => {
        const initrd = buildInitramfs({ init: join(recipe.guest, 'init'), profile: join(recipe.guest, 'profile'),
          busybox: busybox.binary, busyboxLinks: busybox.links, iperf, ip });
        writeFileSync(join(tmp, INITRD_FILE), initrd);
      });
      copyFileSync(kernel, join(tmp, KERNEL_FILE));
      copyFileSync(join(dirname(kernel), 'System.map'), join(tmp, 'System.map'));
      const manifest = {
        recipeVersion: RECIPE_VERSION, variant, keys: recipe.keys,
        sources: Object.fromEntries(recipe.sources), host: Object.fromEntries(recipe.host),
        sizes: { kernel: statSync(join(tmp, KERNEL_FILE)).size, initrd: statSync(join(tmp, INITRD_FILE)).size },
        stepSeconds: times, builtAt: new Date().toISOString(),
      };
      writeFileSync(join(tmp, 'recipe.json'), JSON.stringify(manifest, null, 2) + '\n');
    });
    progress.line(`built in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${paths.kernel} (${statSync(paths.kernel).size} bytes), ` +
      `${paths.initrd} (${statSync(paths.initrd).size} bytes)`);
    return { paths, hit: false, times };
  } finally {
    release();
  }
}

/** The reference guest's kernel and initramfs: built on a cache miss, returned at once on a hit. */
export async function ensureImage(opts: { quiet?: boolean; variant?: KernelVariant } = {}): Promise<{ kernel: string; initrd: string; dir: string }> {
  return (await buildImage(opts)).paths;
}

/** Work trees of earlier failed or interrupted builds (we hold the lock, so nobody else is using them). */
function removeStaleWorkTrees(cache: string, recipe: Recipe): void {
  const dir = join(cache, 'build');
  if (!existsSync(dir)) return;
  const current = new Set([`kernel-${recipe.keys.kernel}`, `busybox-${recipe.keys.busybox}`, `iperf-${recipe.keys.iperf}`, `iproute2-${recipe.keys.iproute2}`]);
  for (const name of readdirSync(dir)) {
    if (!current.has(name)) rmSync(join(dir, name), { recursive: true, force: true });
  }
  // half-filled cache entries of builds that were killed (publishDir names them <entry>.tmp-<pid>)
  for (const kind of ['kernel', 'busybox', 'iperf', 'iproute2', 'images', 'sources']) {
    const k = join(cache, kind);
    if (!existsSync(k)) continue;
    for (const name of readdirSync(k)) if (/\.tmp-\d+$/.test(name)) rmSync(join(k, name), { recursive: true, force: true });
  }
}

/** A lock file holding the builder's pid, so two builds do not share one work tree; a dead holder's lock is taken over. */
async function lock(file: string, progress: Progress): Promise<() => void> {
  let told = false;
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => { try { unlinkSync(file); } catch { /* already gone */ } };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = Number.parseInt(readText(file), 10);
    if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) {
      try { unlinkSync(file); } catch { /* raced */ }
      continue;
    }
    if (!told) { progress.line(`waiting for another image build (pid ${pid}) to finish`); told = true; }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

function readText(file: string): string {
  try { return readFileSync(file, 'utf8'); } catch { return ''; }
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}
