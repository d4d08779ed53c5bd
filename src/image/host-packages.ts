// Up-front check of the Debian host packages the image build needs; installs them with apt-get when root.

import { capture, type Progress } from './steps.js';
import { HOST_PACKAGES, installedVersions } from './recipe.js';

export class MissingPackagesError extends Error {}

/** The `apt-get install` line for the missing packages. */
export function installLine(missing: readonly string[]): string {
  return `apt-get install -y ${missing.join(' ')}`;
}

/**
 * Makes sure every package in HOST_PACKAGES is installed. As root, runs `apt-get install -y` (after
 * `apt-get update` if apt does not know a package); otherwise throws with the exact command to run.
 */
export async function ensureHostPackages(progress: Progress): Promise<void> {
  const missing = missingOf(await installedVersions(HOST_PACKAGES));
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    throw new MissingPackagesError(`the image build needs these Debian packages, which are not installed: ${missing.join(', ')}.\n` +
      `Install them (as root) with:\n  ${installLine(missing)}\nthen run 'vmio image build' again.`);
  }
  progress.line(`installing host packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = await capture('apt-get', ['install', '-y', ...missing], env);
  if (r.code !== 0) {
    progress.line('apt-get install failed; running apt-get update and trying again');
    await capture('apt-get', ['update'], env);
    r = await capture('apt-get', ['install', '-y', ...missing], env);
  }
  const still = missingOf(await installedVersions(HOST_PACKAGES));
  if (r.code !== 0 || still.length > 0) {
    throw new MissingPackagesError(`could not install ${still.join(', ') || missing.join(', ')} with apt-get:\n` +
      `${r.stderr.trim().split('\n').slice(-8).join('\n')}\nInstall them by hand: ${installLine(still.length ? still : missing)}`);
  }
}

function missingOf(versions: Map<string, string>): string[] {
  return [...versions].filter(([, v]) => v === '').map(([p]) => p);
}
