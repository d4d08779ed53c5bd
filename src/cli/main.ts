// The `vmio` command line: dispatches subcommands (run, image, bench) and prints help.

import { fileURLToPath } from 'node:url';
import { UsageError } from './run-options.js';

const HELP = `vmio — a virtual machine monitor for studying I/O virtualization

usage: vmio <command> [options]

commands:
  run      boot a guest (default: the reference guest) with the console attached
  image    build or locate the reference guest image (vmio image build | path)
  bench    run a benchmark: vmio bench NAME, NAME one of: cpu, boot, virtio-queue, virtio-net, e1000, net, blk, sriov

vmio <command> --help tells more about each command.
`;

const BENCHMARKS = ['cpu', 'boot', 'virtio-queue', 'virtio-net', 'e1000', 'net', 'blk', 'sriov'];
const BENCH_HELP = `usage: vmio bench NAME [options]

Runs a benchmark from bench/ and prints its figures; the last line is "NAME: VALUE UNIT" (a median).
  cpu    guest instructions per second on CPU-bound guest code (integer, memcpy, branches, FP)
         options: --runs N (default 5), --scale N (work per run, default 1)
  boot   wall time from start to the reference guest's ready line, beside qemu-system-riscv64 (TCG)
         options: --runs N (default 5), --smp N (harts, default 1)
  virtio-queue  split-virtqueue pop+push per chain and virtio-blk requests over mmio, with notifications
  virtio-net    frames/s through virtio-net TX (checksum, TSO) and RX (mergeable buffers), EVENT_IDX on/off
  e1000         packets/s through the emulated e1000, MMIO exits and modelled cost per packet per optimization
  net    iperf in the guest: e1000 (each optimization) and virtio-net, VM->VM and over TAP, beside QEMU TCG
         options: --runs N (transfers per configuration, default 3), --seconds S (per transfer, default 2)
  blk    dd on virtio-blk in the guest (O_DIRECT), EVENT_IDX on/off, beside QEMU TCG
         options: --runs N (default 3), --mib N (MiB per 1 MiB-block dd, default 16)
  sriov  iperf VM->VM over assigned SR-IOV VFs (both IOMMU policies, both interrupt deliveries) beside
         virtio-net and e1000: exits, interrupts, IOTLB misses and modelled cost per packet
         options: --runs N (default 3), --seconds S (default 2)
`;

async function bench(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h') { process.stdout.write(BENCH_HELP); return name === undefined ? 2 : 0; }
  if (!/^[a-z0-9-]+$/.test(name)) { process.stderr.write(`vmio bench: '${name}' is not a benchmark name\n${BENCH_HELP}`); return 2; }
  if (!BENCHMARKS.includes(name)) { process.stderr.write(`vmio bench: no benchmark '${name}'\n${BENCH_HELP}`); return 2; }
  if (rest.includes('--help') || rest.includes('-h')) { process.stdout.write(BENCH_HELP); return 0; }
  const file = fileURLToPath(new URL(`../../bench/${name}.js`, import.meta.url));
  const mod = await import(file) as { main(args: string[]): Promise<void> };
  try {
    await mod.main(rest);
  } catch (e) {
    if (e instanceof UsageError) { process.stderr.write(`vmio bench ${name}: ${e.message}\n`); return 2; }
    throw e;
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(HELP);
      return cmd === undefined ? 2 : 0;
    case 'run': {
      const { runCommand } = await import('./run.js');
      return runCommand(rest);
    }
    case 'image': {
      const { imageCommand } = await import('../image/cli.js');
      return imageCommand(rest);
    }
    case 'bench':
      return bench(rest);
    default:
      process.stderr.write(`vmio: unknown command '${cmd}'. Run 'vmio --help' for the list of commands.\n`);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  // Anything not already reported as a usage error is a VMM error (exit status 3), never a bare crash.
  process.stderr.write(`vmio: VMM error: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 3;
}
