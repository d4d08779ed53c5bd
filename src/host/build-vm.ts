// The one wiring point: builds a VM (RAM, bus, harts, board devices, device tree, boot images) from a
// RunConfig. Nothing else connects devices to the bus or interrupt controllers (STYLE.md "One wiring point").

import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { GuestMemory } from '../memory/guest-memory.js';
import { Bus } from '../memory/bus.js';
import type { RegisterTable } from '../memory/register-table.js';
import { Metrics, type ExitClass } from '../metrics/counters.js';
import type { CostProfile } from '../metrics/cost.js';
import { loadCostProfile, CostProfileError } from '../metrics/cost-profiles.js';
import { DeterministicClock, RealtimeClock, TIMEBASE_HZ, type Clock } from './clock.js';
import { Hart } from '../cpu/riscv/hart.js';
import { Sbi } from '../cpu/riscv/sbi.js';
import { Uart16550 } from '../board/uart16550.js';
import { Aclint } from '../board/aclint.js';
import { SifiveTest } from '../board/syscon.js';
import { GoldfishRtc } from '../board/goldfish-rtc.js';
import { buildVirtDeviceTree, type VirtDevices } from '../board/virt-dt.js';
import { VIRT, type MmioWindow } from '../board/virt-map.js';
import { countedHartIrq, countedLine, IRQ_M_SOFT, IRQ_M_TIMER, type WiredIrqChip } from '../board/irq.js';
import { wireIrqchip } from './wire-irqchip.js';
import { PciHostBridge } from '../pci/host-bridge.js';
import { virtPciWindows } from '../pci/windows.js';
import { gpexRootDevice } from '../pci/gpex-root.js';
import { attachVirtio, virtioDevices, VirtioConfigError } from './wire-virtio.js';
import type { NetEnv } from '../backends/net/open.js';
import type { VirtioNetFactory } from './wire-net.js';
import type { VfAssignments, VfRef } from './assign-vf.js';
import { reserveGuestVfs, VfWiringError, type GuestVfs } from './wire-vfs.js';
import type { UnixSocketChar } from '../backends/char/unix-socket.js';
import { IommuMapError } from '../iommu/page-table.js';
import type { VirtioNet } from '../devices/virtio/net/device.js';
import type { EventSource } from './event-source.js';
import type { XenVm } from './wire-xen.js';

// The device families a VM may lack -- its NICs (e1000, igb, virtio-net and their backends), Xen, a console on a
// Unix socket -- are imported when a VM has them: a plain boot loads 130 of vmio's modules instead of 194, and
// reached its ready line ~50 ms sooner from exec on a host where a page fault costs ~12 µs.

/** virtio-net devices for --nic model=virtio-net (one queue pair per --nic queues=N). */
function virtioNetFactory(VirtioNetClass: typeof VirtioNet): VirtioNetFactory {
  return (spec, mac, w) => {
    const net = new VirtioNetClass({ mac, queuePairs: spec.queues > 0 ? spec.queues : Math.min(w.smp, 8), cost: w.metrics.cost });
    return { device: net, receiver: net, connect: (port) => { net.attach(port); w.timed.push({ name: `${w.vmName}.virtio-net.link`, device: linkWatch(net) }); } };
  };
}

/** Re-reads a virtio-net's carrier between slices (a TAP that went down), as a timed device with no deadline. */
function linkWatch(net: VirtioNet): TimedDevice {
  return { update: () => { net.updateLink(); }, nextDeadline: () => Infinity };
}
import { placeImages, writeFdt, BootError, type BootImages } from '../boot/layout.js';
import { ElfError } from '../boot/elf.js';
import type { RunConfig } from '../cli/run-options.js';
import { attachJit } from '../cpu/riscv/jit/engine.js';
import type { HostConsole } from './console.js';
import { Vm, type NamedTimedDevice, type TimedDevice } from './vm.js';
import { ConsoleSource, type ConsoleInput } from './console-source.js';
import { VmSbiPlatform } from './sbi-platform.js';
import { prepareSupervisorBoot } from './supervisor-boot.js';
import { hugePageBytes } from '../memory/huge-pages.js';

/** A configuration a person can fix: the message says what was wrong and what to do. */
export class ConfigError extends Error {}

export const DEFAULT_APPEND = 'console=ttyS0 earlycon';
export const ISA_EXTENSIONS = ['i', 'm', 'a', 'f', 'd', 'c', 'zicntr', 'zicsr', 'zifencei', 'zihintpause', 'sstc'];
/** Deterministic runs start their RTC at this instant (2026-01-01T00:00:00Z) so output repeats. */
const DETERMINISTIC_EPOCH_NS = 1_767_225_600_000_000_000n;

function readInput(path: string, what: string, hint: string): Uint8Array {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new ConfigError(`${what} '${path}' does not exist; ${hint}`);
  }
  if (!st.isFile()) throw new ConfigError(`${what} '${path}' is not a regular file; ${hint}`);
  if (st.size === 0) throw new ConfigError(`${what} '${path}' is empty; ${hint}`);
  try {
    // Read into huge pages: a boot's kernel and initramfs were 2,000 page faults read into plain buffers (a boot
    // measured the same either way on a host where faults cost ~12 µs: zeroing the fresh pages is most of it).
    const fd = openSync(path, 'r');
    try {
      const bytes = hugePageBytes(st.size);
      let got = 0;
      for (let n; got < bytes.length && (n = readSync(fd, bytes, got, bytes.length - got, got)) > 0;) got += n;
      return got === bytes.length ? bytes : bytes.subarray(0, got); // a file that shrank while read: what it held
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw new ConfigError(`cannot read ${what} '${path}': ${(e as Error).message}`);
  }
}

/** Whether the VM is a Xen guest: it has a --nic ...,model=xen-net. */
function wantsXen(config: RunConfig): boolean {
  return config.nics.some((n) => n.model === 'xen-net');
}

/** A string only the riscv Xen guest port (guest/xen/riscv-xen.patch) puts in a kernel Image (its cpuhp state name). */
const XEN_PORT_MARK = 'riscv/xen:online';

function isXenKernel(image: Uint8Array): boolean {
  return Buffer.from(image.buffer, image.byteOffset, image.byteLength).includes(XEN_PORT_MARK, 0, 'latin1');
}

async function resolveImages(config: RunConfig): Promise<BootImages> {
  let kernelPath: string;
  let initrdPath: string | null;
  const xen = wantsXen(config);
  if (xen && config.bios !== 'builtin') {
    throw new ConfigError(`--nic ...,model=xen-net needs vmio's own SBI: the Xen hypercalls are SBI calls that vmio serves ` +
      `(under firmware given with --bios they would go to the firmware); drop --bios '${config.bios}' or use --bios builtin`);
  }
  if (config.kernel === null) {
    const { ensureImage } = await import('../image/paths.js');
    // A Xen guest boots the Xen kernel variant (built on demand: 'vmio image build --variant xen').
    const img = await ensureImage(xen ? { variant: 'xen' } : {});
    kernelPath = img.kernel;
    initrdPath = img.initrd;
  } else {
    kernelPath = config.kernel;
    initrdPath = config.initrd;
  }
  const mode = config.bios === 'builtin' ? 'builtin' : config.bios === 'none' ? 'bare' : 'firmware';
  const firmware = mode === 'firmware'
    ? readInput(config.bios, 'firmware', 'give a firmware file such as /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_dynamic.bin (Debian package opensbi), or --bios builtin')
    : null;
  const kernel = readInput(kernelPath, 'kernel', 'give a RISC-V Linux Image (arch/riscv/boot/Image), or omit --kernel to boot the reference guest');
  if (xen && !isXenKernel(kernel)) {
    throw new ConfigError(`--nic ...,model=xen-net: the kernel '${kernelPath}' is not the Xen guest variant (it lacks the riscv Xen port ` +
      `of guest/xen/riscv-xen.patch, so xen-netfront could never find its vif); omit --kernel to use the Xen variant, or ` +
      `give the Image that 'vmio image build --variant xen' prints`);
  }
  return {
    kernel,
    kernelName: kernelPath,
    initrd: initrdPath === null ? null : readInput(initrdPath, 'initrd', 'give a cpio initramfs (gzip is fine)'),
    firmware,
    firmwareName: config.bios,
    mode,
  };
}

/**
 * One board device as the wiring point describes it: this one entry maps it on the bus, wires its interrupt,
 * registers its timer and puts it in the device tree (at the window it was really mapped at).
 */
interface BoardDevice {
  name: string;
  window: MmioWindow;
  exitClass: ExitClass;
  /** Its registers (the table names them for the metrics). */
  mmio: RegisterTable;
  /** Returns it to its power-on state (a VM reset). */
  reset(): void;
  /** Its source on the wired interrupt chip, if it has one. */
  irq?: number;
  /** Where it goes in the device tree. */
  dt: (w: MmioWindow, irq: number) => VirtDevices;
  timed?: TimedDevice;
}

/** What a Host shares between the VMs it builds: one virtual timeline. */
export interface VmBuildOptions {
  /** The Host's clock; every VM on a Host uses the same one. Default: a new clock for this VM alone. */
  clock?: Clock;
  name?: string;
  /** The platform cost model's profile (default: the one --cost names). */
  cost?: CostProfile;
  /** The host's network: switches shared by name between its VMs (default: this VM's own). */
  net?: NetEnv;
  /** The Host's SR-IOV VF assignments: this VM's igb VFs may go to others, and `vfs` come to it. */
  assignments?: VfAssignments;
  /** VFs of other VMs' igb PFs assigned to this VM (each plugged into a PCI slot reserved here when created). */
  vfs?: readonly VfRef[];
}

/**
 * The 64 bytes of /chosen/rng-seed, which Linux mixes into its pool and credits (random.trust_bootloader), as
 * QEMU's virt board and firmware provide them: without them the guest has no entropy source at boot and spends
 * ~9 % of its boot instructions in the entropy collector (blake2s, chacha). In deterministic mode (the default) the
 * seed is derived from the VM's name, so a run repeats exactly and the VMs of a host file (named apart) differ; a
 * `vmio run` VM has no name and always gets the same seed. With --realtime it is random. A deterministic guest's
 * randomness (its early keys, stack canaries, ASLR) is predictable: fine for measuring, not for secrets.
 */
export function rngSeed(realtime: boolean, vmName: string): Uint8Array {
  return realtime ? new Uint8Array(randomBytes(64)) : new Uint8Array(createHash('sha512').update(`vmio rng-seed\0${vmName}`).digest());
}

export async function buildVm(config: RunConfig, console: HostConsole, opts: VmBuildOptions = {}): Promise<Vm> {
  const images = await resolveImages(config);
  // A console port on a Unix socket listens before anything else is built (a path already taken is exit 2).
  let consoleSocket: UnixSocketChar | null = null;
  const cp = config.consolePort;
  if (cp !== null && cp.path.startsWith('unix:')) {
    const { SocketCharError, UnixSocketChar } = await import('../backends/char/unix-socket.js');
    try {
      consoleSocket = await UnixSocketChar.listen(cp.path.slice('unix:'.length));
    } catch (e) {
      if (e instanceof SocketCharError) throw new ConfigError(e.message);
      throw e;
    }
  }
  let cost: CostProfile;
  try {
    cost = opts.cost ?? loadCostProfile(config.cost);
  } catch (e) {
    if (e instanceof CostProfileError) throw new ConfigError(e.message);
    throw e;
  }
  const metrics = new Metrics(cost);
  let ram: GuestMemory;
  try {
    // under --cpu jit RAM is a WebAssembly memory, so the translator can compile blocks to WebAssembly (jit/wasm-gen.ts)
    ram = new GuestMemory(VIRT.ram.base, config.memoryMiB * 1024 * 1024, false, config.cpu === 'jit');
  } catch (e) {
    throw new ConfigError(`cannot allocate ${config.memoryMiB} MiB of guest RAM on this host (${(e as Error).message}); lower --memory`);
  }
  const bus = new Bus(ram, metrics);
  const clock: Clock = opts.clock ?? (config.realtime ? new RealtimeClock() : new DeterministicClock());
  bus.now = () => clock.now();
  bus.onDeviceFailure = (r, e) => process.stderr.write(`vmio: device ${r.name} failed and was marked broken: ${e.message}\n`);

  let vm: Vm | null = null;
  const harts: Hart[] = [];
  const sbiPlatform = new VmSbiPlatform(harts, console, (exit) => vm?.stop(exit), () => (console.pending > 0 ? console.take() : -1), metrics);
  const ownSbi = images.mode === 'builtin' ? new Sbi(sbiPlatform, metrics, ram) : null;
  // A Xen guest: domain 1 of its own XenHost (vmio is dom0: toolstack, xenstored, netback); hypercalls ride the SBI.
  let xenVm: XenVm | null = null;
  if (wantsXen(config) && ownSbi !== null) {
    const [{ XenHost }, { wireXenGuest }] = await Promise.all([import('../devices/xen/host.js'), import('./wire-xen.js')]);
    const xen = new XenHost({ cost: metrics.cost });
    xenVm = wireXenGuest({
      xen, ram, harts, cost: metrics.cost, vmName: opts.name ?? 'vm0',
      countUpcall: (vcpu) => metrics.countInterrupt(`xen-upcall:hart${vcpu}`),
      nowNs: () => BigInt(Math.floor(clock.now() * (1e9 / clock.frequency))),
      stop: (exit) => vm?.stop(exit),
    }, ownSbi, config.smp);
    const host = xen;
    metrics.device('xen', () => host.toJSON());
  }
  const sbi = xenVm?.sbi ?? ownSbi;
  for (let id = 0; id < config.smp; id++) {
    const hart = new Hart(id, { bus, metrics, readTime: (instret) => (vm === null ? clock.now() : vm.timeFor(id, instret)), sbi });
    if (config.cpu === 'jit') attachJit(hart);
    harts.push(hart);
  }

  // The interrupt controllers (PLIC, or APLIC + IMSIC), then every wired line is counted once, here.
  const irq = wireIrqchip(config.irqchip, harts, bus, metrics, images.mode === 'builtin');
  const chip: WiredIrqChip = irq.chip;
  const chipName = irq.kind === 'aia' ? 'aplic' : 'plic';
  // A wired line's assertion is an injection under the PLIC; under AIA the APLIC's MSI into the IMSIC is (charged there).
  const inject = irq.kind === 'plic' ? () => { metrics.cost.charge('interruptInject'); } : null;
  const line = (name: string, source: number) => countedLine(chip.irqLine(source), metrics.interrupt(`${name}@${chipName}:${source}`), inject);
  const timerHarts = harts.map((h) => countedHartIrq(h, {
    [IRQ_M_TIMER]: metrics.interrupt(`mtimer:hart${h.id}`), [IRQ_M_SOFT]: metrics.interrupt(`msoft:hart${h.id}`),
  }));

  const uart = new Uart16550(line('uart0', VIRT.uart0.irq), (b) => console.put(b));
  uart.onFlushUnread = (bytes) => console.putBack(bytes);
  const aclint = new Aclint(timerHarts, clock);
  const test = new SifiveTest((e) => {
    vm?.stop(e.kind === 'fail' ? { kind: 'fail', code: e.code, why: `it wrote fail code ${e.code} to the test device` } : { kind: e.kind });
  });
  const startNs = config.realtime ? BigInt(Date.now()) * 1_000_000n : DETERMINISTIC_EPOCH_NS;
  const rtc = new GoldfishRtc(line('rtc', VIRT.rtc.irq), () => startNs + BigInt(Math.floor(clock.now() * (1e9 / clock.frequency))), clock);

  // The board: QEMU virt's map. Interrupt controllers and the ACLINT are in-kernel devices under KVM; the rest
  // live in user space.
  const board: BoardDevice[] = [
    { name: 'test', window: VIRT.test, exitClass: 'user', mmio: test.mmio, reset: () => test.reset(), dt: (w) => ({ syscon: w }) },
    { name: 'rtc', window: VIRT.rtc, exitClass: 'user', mmio: rtc.mmio, reset: () => rtc.reset(), irq: VIRT.rtc.irq, dt: (w, irq) => ({ rtc: { ...w, irq } }), timed: rtc },
    { name: 'clint', window: VIRT.clint, exitClass: 'kernel', mmio: aclint.mmio, reset: () => aclint.reset(), dt: (w) => ({ clint: w }), timed: aclint },
    { name: 'uart0', window: VIRT.uart0, exitClass: 'user', mmio: uart.mmio, reset: () => uart.reset(), irq: VIRT.uart0.irq, dt: (w, irq) => ({ uart: { ...w, irq } }) },
  ];
  let devices: VirtDevices = { ...irq.devices };
  const timed: NamedTimedDevice[] = [];
  for (const d of board) {
    const region = bus.addRegion({
      name: d.name, base: d.window.base, size: d.window.size, exitClass: d.exitClass, handler: d.mmio, registerName: d.mmio.registerName,
    });
    devices = { ...devices, ...d.dt({ base: region.base, size: region.size }, d.irq ?? 0) };
    if (d.timed !== undefined) timed.push({ name: d.name, device: d.timed });
  }

  // PCI Express: the ECAM host bridge on virt's windows; INTx A-D on wired sources, MSI-X through the IMSIC.
  const pci = new PciHostBridge({
    bus, metrics, windows: virtPciWindows(ram.base, ram.size),
    intx: { base: VIRT.pcieIrq, line: (source) => line(`pci-intx${source - VIRT.pcieIrq}`, source) },
  });
  pci.attach(gpexRootDevice(), { device: 0 });
  // NICs (e1000 on PCI; virtio-net with the other virtio devices), then virtio devices (disks, entropy, console
  // port) on PCI or on virtio-mmio slots.
  const closers: (() => void)[] = [];
  const sources: EventSource[] = [];
  let nextPciDevice = 1;
  const pciSlot = (): number => {
    if (nextPciDevice > 31) throw new VirtioConfigError('too many PCI devices: a PCI bus has 31 free slots');
    return nextPciDevice++;
  };
  const net = opts.net ?? { switches: new Map(), clock };
  const nicWiring = config.nics.length > 0 ? await import('./wire-net.js') : null;
  const virtioNet = config.nics.some((n) => n.model === 'virtio-net') ? virtioNetFactory((await import('../devices/virtio/net/device.js')).VirtioNet) : null;
  let virtioWindows;
  let guestVfs: GuestVfs;
  try {
    const wiring = { bus, metrics, pci, line, onClose: (fn: () => void) => { closers.push(fn); }, pciSlot };
    const nics = nicWiring === null ? []
      : nicWiring.wireNics(config.nics, { clock, metrics, pci, net, vmName: opts.name ?? 'vm0', smp: config.smp, pciSlot, onClose: wiring.onClose, sources, timed, assignments: opts.assignments ?? null, xen: xenVm }, virtioNet);
    if (consoleSocket !== null) { const c = consoleSocket; closers.push(() => c.close()); sources.push(c); }
    virtioWindows = attachVirtio([...nics, ...virtioDevices({ ...config, consoleSocket }, wiring)], wiring);
    // Assigned VFs arrive at run time (the driver domain enables them); the guest's Linux finds them by a rescan.
    if ((opts.vfs ?? []).length > 0 && irq.kind !== 'aia') throw new VirtioConfigError(`VF ${opts.vfs![0]!.domain}:${opts.vfs![0]!.index}: an igb VF has MSI-X only; use --irqchip aia`);
    guestVfs = reserveGuestVfs(opts.vfs ?? [], opts.assignments ?? null, { vmName: opts.name ?? 'vm0', pci, bus, ram, metrics, harts: config.smp }, pciSlot);
  } catch (e) {
    for (const c of closers) c();
    if (e instanceof VirtioConfigError || (nicWiring !== null && e instanceof nicWiring.NetConfigError) || e instanceof VfWiringError) throw new ConfigError(e.message);
    throw e;
  }
  if (opts.net === undefined) closers.push(() => { for (const sw of net.switches.values()) sw.close(); });
  if (virtioWindows.length > 0) devices = { ...devices, virtio: virtioWindows };
  const irqCells = irq.wiredIrqParent;
  const pciChildren = guestVfs.pciChildren === null ? {} : { children: guestVfs.pciChildren };
  const pciDt = irqCells === undefined
    ? pci.dtHook({ ...(irq.msiParent === null ? {} : { msiParent: irq.msiParent }), ...pciChildren })
    : pci.dtHook({ interruptParent: () => irqCells.phandle(), interruptCells: 2, ...(irq.msiParent === null ? {} : { msiParent: irq.msiParent }), ...pciChildren });

  let plan;
  let fdt: Uint8Array;
  try {
    plan = placeImages(ram, images);
    guestVfs.register(plan);
    fdt = buildVirtDeviceTree({
      harts: harts.length,
      ramBase: ram.base,
      ramSize: ram.size,
      isa: { base: 'rv64imafdc', extensions: [...ISA_EXTENSIONS, ...irq.isaExtensions] },
      mmuType: 'riscv,sv48',
      timebaseFrequency: TIMEBASE_HZ,
      bootargs: config.append ?? DEFAULT_APPEND,
      rngSeed: rngSeed(config.realtime, opts.name ?? ''),
      devices,
      socHooks: [...irq.socHooks, pciDt],
      rootHooks: [...guestVfs.rootHooks, ...(xenVm !== null ? [xenVm.dtHook] : [])],
      ...(irq.wiredIrqParent !== undefined ? { wiredIrqParent: irq.wiredIrqParent } : {}),
      ...(plan.initrd !== null ? { initrd: plan.initrd } : {}),
    });
    writeFdt(ram, plan, fdt);
  } catch (e) {
    if (e instanceof BootError || e instanceof ElfError || e instanceof VfWiringError || e instanceof IommuMapError) throw new ConfigError(e.message);
    throw e;
  }

  for (const h of harts) {
    h.reset(plan.entry, plan.priv);
    h.x[10] = BigInt(h.id);
    h.x[11] = BigInt(plan.fdtAddr);
    h.x[12] = BigInt(plan.a2);
    if (plan.priv === 1) prepareSupervisorBoot(h);
    h.stopped = h.id !== 0 && !plan.allHartsStart;
  }

  const input: ConsoleInput = {
    listening: () => uart.rxInterruptEnabled || uart.pollingReader,
    canReceive: () => uart.canReceive(),
    receive: (b: number) => uart.receive(b),
  };
  vm = new Vm({
    name: opts.name ?? 'vm0', harts, clock, metrics, bus, timed, console, deviceTree: fdt, closers,
    sources: [new ConsoleSource(console, input, clock.deterministic), ...sources],
  });
  metrics.cost.sink = (ticks) => vm?.charge(ticks);
  vm.onDeviceFailure = (name, e) => process.stderr.write(`vmio: device ${name} failed and was stopped: ${e.message}\n`);
  if (guestVfs.notice !== null) process.stderr.write(`${guestVfs.notice}\n`);
  return vm;
}
