// `vmio image build | path`: builds the reference guest (Debian sources, cross-compiled) into the cache, or prints where it is.

import { buildImage, findImage } from './paths.js';
import { cacheDir, KERNEL_VARIANTS, type KernelVariant } from './recipe.js';
import { CacheDirError } from './cache-dir.js';

const HELP = `usage: vmio image <build|path> [--help]

  build   build the reference guest (kernel Image + initramfs) from Debian sources into the cache
  path    print where the kernel and initramfs of the current recipe are

The recipe is in guest/ (kernel.config, busybox.config, init, profile, sources); the cache is
$VMIO_CACHE, else ~/.cache/vmio (now: @CACHE@).
`;

const BUILD_HELP = `usage: vmio image build [--quiet] [--variant reference|xen]

Builds what is missing for the current recipe, each piece cached under its own key:
  kernel   linux-source-6.12 (Debian), tinyconfig + guest/kernel.config, make Image (riscv64 cross gcc)
  busybox  Debian's busybox source, defconfig + guest/busybox.config, static
  iperf    Debian's iperf 2 source, static
  iproute2 Debian's iproute2 source: ip only, static (/sbin/ip, for ip link … vf N …)
  initrd   an uncompressed cpio written by vmio: busybox, its applet links, iperf, ip, guest/init, /etc
--variant xen builds the second kernel variant instead: guest/xen/riscv-xen.patch (the riscv Xen guest port)
applied to the same source, guest/xen/kernel.config merged last, cached under a key that includes both; the
userland is shared. The reference kernel stays unpatched.
Missing host packages are installed with apt-get when running as root (else the command to run is printed).
A second build of the same recipe is a cache hit. Set VMIO_KEEP_BUILD=1 to keep the work trees.
Prints the kernel and initramfs paths (two lines: "kernel PATH", "initrd PATH").
`;

const PATH_HELP = `usage: vmio image path [--kernel|--initrd|--dir] [--variant reference|xen]

Prints "kernel PATH" and "initrd PATH" for the current recipe, or just one path with an option.
Exits 1 (saying to run 'vmio image build') when the image is not built.
`;

function help(text: string): string { return text.replace('@CACHE@', cacheDir()); }

export async function imageCommand(args: string[]): Promise<number> {
  const [sub, ...all] = args;
  let variant: KernelVariant = 'reference';
  const rest: string[] = [];
  for (let i = 0; i < all.length; i++) {
    const a = all[i]!;
    const v = a === '--variant' ? all[++i] : a.startsWith('--variant=') ? a.slice('--variant='.length) : null;
    if (v === null) { rest.push(a); continue; }
    if (v === undefined || !(KERNEL_VARIANTS as readonly string[]).includes(v)) {
      process.stderr.write(`vmio image: --variant must be one of ${KERNEL_VARIANTS.join(', ')}, got '${v ?? ''}'\n`);
      return 2;
    }
    variant = v as KernelVariant;
  }
  const wantsHelp = rest.includes('--help') || rest.includes('-h');
  try {
    switch (sub) {
      case 'build': {
        if (wantsHelp) { process.stdout.write(BUILD_HELP); return 0; }
        const bad = rest.filter((a) => a !== '--quiet' && a !== '-q');
        if (bad.length) { process.stderr.write(`vmio image build: unknown argument '${bad[0]}'\n${BUILD_HELP}`); return 2; }
        const r = await buildImage({ quiet: rest.length > 0, variant });
        if (r.hit && rest.length === 0) process.stderr.write('[vmio image] cache hit: the image for this recipe is already built\n');
        process.stdout.write(`kernel ${r.paths.kernel}\ninitrd ${r.paths.initrd}\n`);
        return 0;
      }
      case 'path': {
        if (wantsHelp) { process.stdout.write(PATH_HELP); return 0; }
        const only = rest[0];
        if (rest.length > 1) { process.stderr.write(`vmio image path: give at most one of --kernel, --initrd, --dir\n${PATH_HELP}`); return 2; }
        if (only !== undefined && !['--kernel', '--initrd', '--dir'].includes(only)) {
          process.stderr.write(`vmio image path: unknown argument '${only}'\n${PATH_HELP}`);
          return 2;
        }
        const p = await findImage(variant);
        if (!p) {
          process.stderr.write(`vmio image path: the reference guest image is not built for the current recipe (cache ${cacheDir()}).\n` +
            `Run 'vmio image build' first.\n`);
          return 1;
        }
        if (only === '--kernel') process.stdout.write(`${p.kernel}\n`);
        else if (only === '--initrd') process.stdout.write(`${p.initrd}\n`);
        else if (only === '--dir') process.stdout.write(`${p.dir}\n`);
        else process.stdout.write(`kernel ${p.kernel}\ninitrd ${p.initrd}\n`);
        return 0;
      }
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(help(HELP));
        return sub === undefined ? 2 : 0;
      default:
        process.stderr.write(`vmio image: unknown subcommand '${sub}'\n${help(HELP)}`);
        return 2;
    }
  } catch (e) {
    process.stderr.write(`vmio image ${sub}: ${(e as Error).message}\n`);
    return e instanceof CacheDirError ? 2 : 1;
  }
}
