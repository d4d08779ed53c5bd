// Cross-builds a static riscv64 `ip` from Debian's iproute2 source package: the reference guest's /sbin/ip, in place
// of busybox's applet, because busybox's `ip` has no SR-IOV verbs — a driver domain administers its VFs with
// `ip link set DEV vf N mac|vlan|max_tx_rate|spoofchk|trust …` and `ip link show` lists them.
// Only lib/ and ip/ are built, without the optional libraries (libmnl, libelf, libbpf, libcap, SELinux, libbsd):
// configure tries them with the cross compiler, finds none for riscv64, and iproute2 falls back to its own code.

import { readFileSync, rmSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { freshDir, publishDir } from './cache.js';
import { downloadSource, unpackSource } from './debian-source.js';
import { staticRiscv64Problem } from './elf-check.js';
import { CROSS_COMPILE, type Recipe } from './recipe.js';
import { run, step, type Progress, type StepTimes } from './steps.js';

export async function buildIproute2(recipe: Recipe, cache: string, progress: Progress, times: StepTimes): Promise<string> {
  const out = join(cache, 'iproute2', recipe.keys.iproute2);
  const version = recipe.sources.get('iproute2') ?? '';
  await publishDir(out, async (tmp) => {
    const work = freshDir(join(cache, 'build', `iproute2-${recipe.keys.iproute2}`));
    const log = join(work, 'build.log');
    const src = join(work, 'iproute2');
    await step(progress, times, `iproute2: fetch + unpack source ${version}`, async () => {
      const dl = await downloadSource(cache, 'iproute2', version, log);
      await unpackSource(dl, src, log);
    });
    const jobs = String(Math.max(1, Math.min(availableParallelism(), 8)));
    await step(progress, times, `iproute2: configure + make -j${jobs} ip (static, riscv64)`, async () => {
      const tools = [`CC=${CROSS_COMPILE}gcc`, `AR=${CROSS_COMPILE}ar`];
      // PKG_CONFIG=false: the host's .pc files describe host libraries, never riscv64 ones.
      await run('env', ['PKG_CONFIG=false', ...tools, './configure'], { cwd: src, log });
      await run('make', [`-j${jobs}`, 'SUBDIRS=lib ip', ...tools, 'LDFLAGS=-static'], { cwd: src, log });
      await run(`${CROSS_COMPILE}strip`, ['-o', join(tmp, 'ip'), join(src, 'ip', 'ip')], { cwd: src, log });
      const problem = staticRiscv64Problem(readFileSync(join(tmp, 'ip')));
      if (problem) throw new Error(`the built ip is unusable: ${problem}`);
    });
    if (!process.env['VMIO_KEEP_BUILD']) rmSync(work, { recursive: true, force: true });
  });
  return join(out, 'ip');
}
