// Fetches and unpacks Debian source packages (apt-get source) through a private apt config under the vmio cache.

import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { publishDir } from './cache.js';
import { capture, run, CommandError } from './steps.js';

const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';

/** deb-src lines for the mirror the host already uses (deb.debian.org, bookworm). */
export const DEB_SRC_LINES = [
  `deb-src [signed-by=${KEYRING}] http://deb.debian.org/debian bookworm main`,
  `deb-src [signed-by=${KEYRING}] http://deb.debian.org/debian bookworm-updates main`,
  `deb-src [signed-by=${KEYRING}] http://deb.debian.org/debian-security bookworm-security main`,
];

/** apt options that point apt at <cache>/apt instead of /etc/apt and /var/lib/apt (which are never touched). */
export function aptOptions(cache: string): string[] {
  const apt = join(cache, 'apt');
  return [
    '-o', `Dir::Etc::SourceList=${join(apt, 'sources.list')}`,
    '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${join(apt, 'lists')}`,
    '-o', `Dir::Cache=${join(apt, 'cache')}`,
  ];
}

function setupApt(cache: string): void {
  const apt = join(cache, 'apt');
  for (const d of ['lists/partial', 'cache/archives/partial']) mkdirSync(join(apt, d), { recursive: true });
  writeFileSync(join(apt, 'sources.list'), `# written by vmio: source packages for the reference guest\n${DEB_SRC_LINES.join('\n')}\n`);
}

/**
 * Downloads NAME=VERSION's source files (.dsc, orig and debian tarballs) into <cache>/sources/NAME_VERSION
 * (running `apt-get update` on the private lists first if needed) and returns that directory.
 */
export async function downloadSource(cache: string, name: string, version: string, log: string): Promise<string> {
  const dir = join(cache, 'sources', `${name}_${version.replace(/:/g, '%3a')}`);
  return publishDir(dir, async (tmp) => {
    setupApt(cache);
    const opts = aptOptions(cache);
    const listsEmpty = readdirSync(join(cache, 'apt', 'lists')).filter((f) => f.includes('Sources')).length === 0;
    if (listsEmpty) await run('apt-get', [...opts, 'update'], { cwd: tmp, log });
    const get = (): Promise<void> => run('apt-get', [...opts, 'source', '--download-only', `${name}=${version}`], { cwd: tmp, log });
    try {
      await get();
    } catch {
      await run('apt-get', [...opts, 'update'], { cwd: tmp, log });
      try {
        await get();
      } catch (e) {
        const avail = await capture('apt-cache', [...opts, 'showsrc', name]);
        const versions = [...avail.stdout.matchAll(/^Version: (.*)$/gm)].map((m) => m[1]).join(', ') || 'none';
        throw new CommandError(`the Debian mirror has no source package ${name}=${version} (it has: ${versions}). ` +
          `Update the version in guest/sources.\n${(e as Error).message}`);
      }
    }
  });
}

/** Unpacks a downloaded source package (applying its Debian patches) into `dest`, which must not exist. */
export async function unpackSource(sourceDir: string, dest: string, log: string): Promise<void> {
  const dsc = readdirSync(sourceDir).find((f) => f.endsWith('.dsc'));
  if (!dsc) throw new Error(`no .dsc file in ${sourceDir}: delete that directory and build again`);
  if (existsSync(dest)) throw new Error(`unpackSource: ${dest} already exists`);
  await run('dpkg-source', ['-x', join(sourceDir, dsc), dest], { cwd: sourceDir, log });
}
