// `vmio run` options: parsed and checked into a RunConfig, with errors a person can act on.

import { parseArgs } from 'node:util';
import {
  DeviceSpecError, parseConsolePortSpec, parseDriveSpec, parseNicSpec, parseTransport, type ConsolePortSpec, type DriveSpec,
  type NicSpec, type VirtioTransport,
} from './device-options.js';

export interface RunConfig {
  kernel: string | null;      // null: the reference guest's kernel
  initrd: string | null;      // null: the reference guest's initramfs (when kernel is null too)
  append: string | null;      // null: the board's default command line
  memoryMiB: number;
  smp: number;
  /** 'builtin': vmio serves SBI itself; 'none': bare-metal kernel (ELF or raw) in M-mode; else a firmware file. */
  bios: string;
  timeoutSeconds: number | null;
  realtime: boolean;
  metricsFile: string | null;
  /** The board's interrupt controllers: 'aia' (APLIC + IMSIC, MSI-X capable; the default) or 'plic'. */
  irqchip: 'aia' | 'plic';
  /** The platform cost model: a profile name ('kvm-x86', 'off') or a JSON file; checked by the wiring point. */
  cost: string;
  /** Virtio disks (--drive, repeatable). */
  drives: DriveSpec[];
  /** Network interfaces (--nic, repeatable). */
  nics: NicSpec[];
  /** A virtio entropy device (--rng). */
  rng: VirtioTransport | null;
  /** A virtio-console port: where its output goes, its input, console or named port (--console-port). */
  consolePort: ConsolePortSpec | null;
  /** How the harts execute: 'interp' (the interpreter alone, the default) or 'jit' (hot code translated). */
  cpu: 'interp' | 'jit';
  /** Where to write the execution profile when the VM stops (--profile), or null; and a System.map for it. */
  profileFile: string | null;
  profileMap: string | null;
}

export const RUN_HELP = `usage: vmio run [options]

Boots a guest with its serial console attached to this terminal (raw mode; Ctrl-A x quits) or to
stdin/stdout when they are pipes, e.g.  printf 'uname -a\\npoweroff\\n' | vmio run
With no options it boots the reference guest, building it first if the cache is empty.

options:
  --kernel FILE     what to boot: a Linux Image (S-mode), an ELF (at its own addresses), or a raw
                    binary, loaded where QEMU virt puts one: 0x80200000 (RAM base + 2 MiB) in S-mode
                    after the SBI firmware, or 0x80000000 (RAM base) in M-mode with --bios none
  --initrd FILE     initramfs (cpio, optionally gzip-compressed)
  --append TEXT     kernel command line (default: "console=ttyS0 earlycon")
  --memory MiB      guest RAM in MiB (default 256; 16..2048)
  --smp N           number of harts (default 1; 1..8)
  --bios WHAT       builtin (default: vmio serves SBI calls itself), none (--kernel runs bare metal), or a
                    firmware file such as /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin
  --timeout SECONDS stop the guest after this many host seconds (exit status 124)
  --realtime        guest time follows the host clock (default: deterministic virtual time)
  --metrics FILE    write the VM's counters as JSON to FILE when it stops (FILE is opened before boot:
                    a path that cannot be written is refused at once)
  --drive FILE[,ro][,transport=pci|mmio][,serial=TEXT][,eventidx=on|off]
                    a virtio-blk disk on a raw image file (repeatable); flushes reach the disk (fsync);
                    the image is locked so two VMs cannot open it read-write
  --nic BACKEND[,model=virtio-net|e1000|igb|xen-net][,transport=pci|mmio][,mac=52:54:00:..][,queues=N][,backend=user|kernel]
        [,eventidx=on|off]  [,coalesce][,txbatch][,itr][,notify][,inkernel]  (the last five: e1000 optimizations)
                    a network interface (repeatable); BACKEND is tap=IFNAME, switch=NAME (an in-process
                    switch between the VMs of one vmio), pcap=FILE or none; tap= and switch= take ,pcap=FILE
                    to capture; backend=kernel prices the virtio backend as vhost (a notify doorbell);
                    model=xen-net makes the VM a Xen guest (vmio serves the hypercalls, xenstore and
                    netback; builtin SBI only) and boots the Xen kernel variant (vmio image build --variant xen)
  --rng [pci|mmio]  a virtio-rng entropy device fed from the host (default transport pci)
  --console-port OUT[,in=FILE][,name=NAME][,transport=pci|mmio]
                    a virtio-console port: the guest's output appended to OUT (a file, stdio or none),
                    the bytes of in=FILE its input; or OUT unix:PATH, a socket vmio listens on for one
                    client both ways (a second shell: socat -,raw,echo=0 UNIX-CONNECT:PATH). The console
                    port /dev/hvc1 (a tty), or with name= a named port /dev/vportNp0 whose input waits
                    until the guest opens it (with OUT none, the host end closes after the input: the
                    reader sees end-of-file; with unix:, the host end is open while a client is)
  --irqchip KIND    aia (default: APLIC + IMSIC; PCI functions get MSI-X) or plic (PCI falls back to INTx)
  --cost PROFILE    the platform cost model: kvm-x86 (default: exits, interrupts, copies priced as measured on
                    KVM/x86), off (no charges), or a JSON file of costs; in deterministic mode charged
                    costs advance guest time
  --cpu MODE        jit (default: the interpreter runs common instructions in WebAssembly and translates hot
                    code to WebAssembly or JavaScript that V8 compiles) or interp (every instruction in the
                    JavaScript interpreter, the reference); same results, instruction for instruction;
                    VMIO_CPU=interp|jit changes the default
  --profile FILE[,map=SYSTEM_MAP]
                    write an execution profile when the VM stops: hot guest pcs and functions (symbols from
                    the System.map given, or one beside the kernel), translation time and counts, exits
  --config FILE     run the VMs of a host file (JSON) on one virtual timeline instead; then only
                    --console NAME (the VM that gets this terminal's input), --timeout, --metrics and
                    --realtime may be given on the command line
  -h, --help        show this help

exit status: 0 guest powered off; 1 guest failed (syscon fail code, panic, SBI failure reset);
             2 bad usage; 3 VMM error (also: a clean run whose --metrics write failed); 124 timeout;
             128+N stopped by signal N (SIGHUP 129, SIGINT 130, SIGTERM 143; a second one exits at once).
`;

export class UsageError extends Error {}

/** Guest RAM is one ArrayBuffer whose offsets the hart keeps in 32-bit-safe arithmetic: at most 2 GiB. */
export const MAX_MEMORY_MIB = 2048;

function intOption(name: string, raw: string | undefined, def: number, min: number, max: number): number {
  if (raw === undefined) return def;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number, got '${raw}'`);
  const n = Number(raw);
  if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function parseRunOptions(args: string[]): RunConfig | 'help' {
  // `--rng` may be followed by its transport (`--rng mmio`); parseArgs knows only booleans and strings.
  let rngTransport: string | null = null;
  const i = args.indexOf('--rng');
  if (i >= 0 && (args[i + 1] === 'pci' || args[i + 1] === 'mmio')) {
    rngTransport = args[i + 1]!;
    args = [...args.slice(0, i + 1), ...args.slice(i + 2)];
  }
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        kernel: { type: 'string' },
        initrd: { type: 'string' },
        append: { type: 'string' },
        memory: { type: 'string' },
        smp: { type: 'string' },
        bios: { type: 'string' },
        timeout: { type: 'string' },
        realtime: { type: 'boolean' },
        metrics: { type: 'string' },
        irqchip: { type: 'string' },
        cost: { type: 'string' },
        drive: { type: 'string', multiple: true },
        nic: { type: 'string', multiple: true },
        rng: { type: 'boolean' },
        'console-port': { type: 'string' },
        cpu: { type: 'string' },
        profile: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    const first = (e as Error).message.split('\n')[0]!.replace(/\.$/, '');
    throw new UsageError(`${first}. Run 'vmio run --help' for the options.`);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  let timeoutSeconds: number | null = null;
  if (v.timeout !== undefined) {
    const t = Number(v.timeout);
    if (!Number.isFinite(t) || t <= 0) throw new UsageError(`--timeout must be a positive number of seconds, got '${v.timeout}'`);
    timeoutSeconds = t;
  }
  const bios = v.bios ?? 'builtin';
  if (bios === 'none' && v.kernel === undefined) {
    throw new UsageError('--bios none needs --kernel FILE: the bare-metal program (ELF or raw binary) to start in M-mode');
  }
  if (v.initrd !== undefined && v.kernel === undefined) {
    throw new UsageError('--initrd needs --kernel: give the kernel that should use this initramfs');
  }
  let drives: DriveSpec[];
  let nics: NicSpec[];
  let rng: VirtioTransport | null = null;
  try {
    drives = (v.drive ?? []).map(parseDriveSpec);
    nics = (v.nic ?? []).map(parseNicSpec);
    if (v.rng === true) rng = parseTransport('--rng', rngTransport ?? undefined);
  } catch (e) {
    if (e instanceof DeviceSpecError) throw new UsageError(e.message);
    throw e;
  }
  let consolePort: RunConfig['consolePort'] = null;
  if (v['console-port'] !== undefined) {
    try { consolePort = parseConsolePortSpec(v['console-port']); } catch (e) {
      if (e instanceof DeviceSpecError) throw new UsageError(e.message);
      throw e;
    }
  }
  const irqchip = v.irqchip ?? 'aia';
  if (irqchip !== 'aia' && irqchip !== 'plic') throw new UsageError(`--irqchip must be aia or plic, got '${irqchip}'`);
  if (v.cost !== undefined && v.cost.length === 0) throw new UsageError('--cost needs a profile name (kvm-x86, off) or a JSON file');
  const envCpu = process.env['VMIO_CPU'];
  if (v.cpu === undefined && envCpu !== undefined && envCpu !== 'interp' && envCpu !== 'jit') {
    throw new UsageError(`VMIO_CPU must be interp or jit, got '${envCpu}' (unset it for the default, jit)`);
  }
  const cpu = v.cpu ?? envCpu ?? 'jit';
  if (cpu !== 'interp' && cpu !== 'jit') throw new UsageError(`--cpu must be interp or jit, got '${cpu}'`);
  let profileFile: string | null = null, profileMap: string | null = null;
  if (v.profile !== undefined) {
    const [file, ...opts] = v.profile.split(',');
    if (file === undefined || file === '') throw new UsageError('--profile needs a file name to write the profile to');
    profileFile = file;
    for (const o of opts) {
      if (!o.startsWith('map=') || o.length === 4) throw new UsageError(`--profile: unknown option '${o}'; the only option is map=SYSTEM_MAP`);
      profileMap = o.slice(4);
    }
  }
  return {
    kernel: v.kernel ?? null,
    initrd: v.initrd ?? null,
    append: v.append ?? null,
    memoryMiB: intOption('memory', v.memory, 256, 16, MAX_MEMORY_MIB),
    smp: intOption('smp', v.smp, 1, 1, 8),
    bios,
    timeoutSeconds,
    realtime: v.realtime ?? false,
    metricsFile: v.metrics ?? null,
    irqchip,
    cost: v.cost ?? 'kvm-x86',
    drives,
    nics,
    rng,
    consolePort,
    cpu,
    profileFile,
    profileMap,
  };
}
