// The reference guest recipe: the files in guest/, host package versions, and the cache keys derived from them.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { capture } from './steps.js';

/** Bump when the build logic (src/image/*) changes in a way that changes the outputs. */
export const RECIPE_VERSION = 1;

/** Host packages the build needs (Debian names). */
export const HOST_PACKAGES = [
  'gcc-riscv64-linux-gnu', 'g++-riscv64-linux-gnu', 'libc6-dev-riscv64-cross', 'binutils-riscv64-linux-gnu',
  'linux-source-6.12', 'gcc', 'libc6-dev', 'make', 'bc', 'bison', 'flex', 'xz-utils', 'bzip2', 'dpkg-dev', 'patch',
] as const;

export const LINUX_SOURCE_TARBALL = '/usr/src/linux-source-6.12.tar.xz';
export const CROSS_COMPILE = 'riscv64-linux-gnu-';

/** The repository's guest/ directory (this file is dist/src/image/recipe.js or src/image/recipe.ts). */
export function guestDir(): string {
  return fileURLToPath(new URL('../../../guest/', import.meta.url));
}

/** `$VMIO_CACHE`, else `$XDG_CACHE_HOME/vmio`, else `~/.cache/vmio`. */
export function cacheDir(): string {
  const env = process.env['VMIO_CACHE'];
  if (env) return resolve(env);
  const xdg = process.env['XDG_CACHE_HOME'];
  return join(xdg ? resolve(xdg) : join(homedir(), '.cache'), 'vmio');
}

export interface SourcePin { name: string; version: string }

/** Parses guest/sources: "NAME VERSION" lines, '#' comments. */
export function parseSources(text: string): SourcePin[] {
  const out: SourcePin[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [name, version, extra] = line.split(/\s+/);
    if (!name || !version || extra !== undefined) throw new Error(`guest/sources: expected "NAME VERSION", got '${raw}'`);
    out.push({ name, version });
  }
  return out;
}

/**
 * The kernel variants: 'reference' is Debian's linux-source-6.12, unpatched; 'xen' applies guest/xen/riscv-xen.patch
 * (the riscv Xen guest port) and merges guest/xen/kernel.config after guest/kernel.config. Both share the userland.
 */
export type KernelVariant = 'reference' | 'xen';
export const KERNEL_VARIANTS: readonly KernelVariant[] = ['reference', 'xen'];

/** What the variant adds to the reference kernel (null for the reference itself). */
export interface KernelVariantFiles {
  /** The patch (guest/xen/riscv-xen.patch), applied with `patch -p1` to the extracted source. */
  patchFile: string;
  patch: string;
  /** The fragment merged after guest/kernel.config. */
  configFile: string;
  config: string;
}

export interface Recipe {
  guest: string;
  variant: KernelVariant;
  /** The variant's patch and fragment (null for the reference kernel). */
  variantFiles: KernelVariantFiles | null;
  kernelConfig: string;
  busyboxConfig: string;
  init: string;
  profile: string;
  sources: Map<string, string>;
  /** Installed version of each host package ('' when not installed). */
  host: Map<string, string>;
  keys: { kernel: string; busybox: string; iperf: string; iproute2: string; image: string };
}

/** Installed versions of Debian packages via one `dpkg-query -W` (fast: reads the status file only). */
export async function installedVersions(pkgs: readonly string[]): Promise<Map<string, string>> {
  const r = await capture('dpkg-query', ['-W', '-f=${Package}\t${Version}\t${db:Status-Abbrev}\n', ...pkgs]);
  const out = new Map<string, string>(pkgs.map((p) => [p, '']));
  for (const line of r.stdout.split('\n')) {
    const [name, version, status] = line.split('\t');
    if (name && version && status?.startsWith('ii')) out.set(name.replace(/:.*$/, ''), version);
  }
  return out;
}

function hash(...parts: string[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(`${p.length}:${p}`);
  return h.digest('hex').slice(0, 16);
}

/** Reads guest/ and the host package versions, and derives the cache key of each artifact. */
export async function loadRecipe(variant: KernelVariant = 'reference'): Promise<Recipe> {
  const guest = guestDir();
  const read = (f: string): string => readFileSync(join(guest, f), 'utf8');
  const kernelConfig = read('kernel.config');
  const variantFiles: KernelVariantFiles | null = variant === 'reference' ? null : {
    patchFile: join(guest, variant, `riscv-${variant}.patch`), patch: read(`${variant}/riscv-${variant}.patch`),
    configFile: join(guest, variant, 'kernel.config'), config: read(`${variant}/kernel.config`),
  };
  const busyboxConfig = read('busybox.config');
  const init = read('init');
  const profile = read('profile');
  const sources = new Map(parseSources(read('sources')).map((s) => [s.name, s.version]));
  for (const need of ['busybox', 'iperf', 'iproute2']) {
    if (!sources.has(need)) throw new Error(`guest/sources has no version for '${need}'`);
  }
  const host = await installedVersions(HOST_PACKAGES);
  const v = (p: string): string => host.get(p) ?? '';
  const toolchain = [v('gcc-riscv64-linux-gnu'), v('binutils-riscv64-linux-gnu'), v('libc6-dev-riscv64-cross')].join('/');
  // The reference key is unchanged by variants; a variant's key adds its name, its patch and its fragment.
  const variantParts = variantFiles === null ? [] : [variant, variantFiles.patch, variantFiles.config, v('patch')];
  const kernel = hash(`r${RECIPE_VERSION}`, 'kernel', 'System.map', kernelConfig, v('linux-source-6.12'), toolchain, ...variantParts);
  const busybox = hash(`r${RECIPE_VERSION}`, 'busybox', busyboxConfig, sources.get('busybox') ?? '', toolchain);
  const iperf = hash(`r${RECIPE_VERSION}`, 'iperf', sources.get('iperf') ?? '', toolchain, v('g++-riscv64-linux-gnu'));
  const iproute2 = hash(`r${RECIPE_VERSION}`, 'iproute2', sources.get('iproute2') ?? '', toolchain);
  const image = hash(`r${RECIPE_VERSION}`, 'image', 'cpio uncompressed', kernel, busybox, iperf, iproute2, init, profile);
  return { guest, variant, variantFiles, kernelConfig, busyboxConfig, init, profile, sources, host, keys: { kernel, busybox, iperf, iproute2, image } };
}
