// The one wiring point: builds a VM (RAM, bus, harts, board devices, device tree, boot images) from a
// RunConfig. Nothing else connects devices to the bus or interrupt controllers (STYLE.md "One wiring point").

import { readFileSync, statSync } from 'node:fs';
import { GuestMemory } from '../memory/guest-memory.js';
import { Bus } from '../memory/bus.js';
import { Metrics } from '../metrics/counters.js';
import { DeterministicClock, RealtimeClock, TIMEBASE_HZ, type Clock } from './clock.js';
import { Hart } from '../cpu/riscv/hart.js';
import { Sbi } from '../cpu/riscv/sbi.js';
import { Uart16550 } from '../board/uart16550.js';
import { Aclint } from '../board/aclint.js';
import { Plic, PLIC_NUM_SOURCES } from '../board/plic.js';
import { SifiveTest } from '../board/syscon.js';
import { GoldfishRtc } from '../board/goldfish-rtc.js';
import { buildVirtDeviceTree } from '../board/virt-dt.js';
import { VIRT } from '../board/virt-map.js';
import { placeImages, writeFdt, BootError, type BootImages } from '../boot/layout.js';
import { ElfError } from '../boot/elf.js';
import type { RunConfig } from '../cli/run-options.js';
import type { HostConsole } from './console.js';
import { Vm } from './vm.js';
import { VmSbiPlatform } from './sbi-platform.js';
import { prepareSupervisorBoot } from './supervisor-boot.js';

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
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new ConfigError(`cannot read ${what} '${path}': ${(e as Error).message}`);
  }
}

async function resolveImages(config: RunConfig): Promise<BootImages> {
  let kernelPath: string;
  let initrdPath: string | null;
  if (config.kernel === null) {
    const { ensureImage } = await import('../image/paths.js');
    const img = await ensureImage();
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
  return {
    kernel: readInput(kernelPath, 'kernel', 'give a RISC-V Linux Image (arch/riscv/boot/Image), or omit --kernel to boot the reference guest'),
    kernelName: kernelPath,
    initrd: initrdPath === null ? null : readInput(initrdPath, 'initrd', 'give a cpio initramfs (gzip is fine)'),
    firmware,
    firmwareName: config.bios,
    mode,
  };
}

export async function buildVm(config: RunConfig, console: HostConsole): Promise<Vm> {
  const images = await resolveImages(config);
  const metrics = new Metrics();
  let ram: GuestMemory;
  try {
    ram = new GuestMemory(VIRT.ram.base, config.memoryMiB * 1024 * 1024);
  } catch (e) {
    throw new ConfigError(`cannot allocate ${config.memoryMiB} MiB of guest RAM on this host (${(e as Error).message}); lower --memory`);
  }
  const bus = new Bus(ram, metrics);
  const clock: Clock = config.realtime ? new RealtimeClock() : new DeterministicClock();

  let vm: Vm | null = null;
  const harts: Hart[] = [];
  const sbiPlatform = new VmSbiPlatform(harts, console, (exit) => vm?.stop(exit), () => (console.pending > 0 ? console.take() : -1), metrics);
  const sbi = images.mode === 'builtin' ? new Sbi(sbiPlatform, metrics, ram) : null;
  for (let id = 0; id < config.smp; id++) {
    harts.push(new Hart(id, { bus, metrics, readTime: (instret) => (vm === null ? clock.now() : vm.timeFor(id, instret)), sbi }));
  }

  // Board devices on QEMU virt's memory map.
  const plic = new Plic(harts, metrics, PLIC_NUM_SOURCES);
  const uart = new Uart16550(plic.irqLine(VIRT.uart0.irq), (b) => console.put(b));
  const aclint = new Aclint(harts, clock);
  const test = new SifiveTest((e) => {
    vm?.stop(e.kind === 'fail' ? { kind: 'fail', code: e.code, why: `it wrote fail code ${e.code} to the test device` } : { kind: e.kind });
  });
  const startNs = config.realtime ? BigInt(Date.now()) * 1_000_000n : DETERMINISTIC_EPOCH_NS;
  const rtc = new GoldfishRtc(plic.irqLine(VIRT.rtc.irq), () => startNs + BigInt(Math.floor(clock.now() * (1e9 / clock.frequency))), clock);

  const devices = [
    { name: 'test', at: VIRT.test, handler: test },
    { name: 'rtc', at: VIRT.rtc, handler: rtc },
    { name: 'clint', at: VIRT.clint, handler: aclint },
    { name: 'plic', at: VIRT.plic, handler: plic },
    { name: 'uart0', at: VIRT.uart0, handler: uart },
  ];
  for (const d of devices) {
    bus.addRegion({ name: d.name, base: d.at.base, size: d.at.size, kind: 'trap', handler: d.handler, registerNames: d.handler.registerNames });
  }

  let plan;
  try {
    plan = placeImages(ram, images);
    const fdt = buildVirtDeviceTree({
      harts: harts.length,
      ramBase: ram.base,
      ramSize: ram.size,
      isa: { base: 'rv64imafdc', extensions: ISA_EXTENSIONS },
      mmuType: 'riscv,sv48',
      timebaseFrequency: TIMEBASE_HZ,
      bootargs: config.append ?? DEFAULT_APPEND,
      ...(plan.initrd !== null ? { initrd: plan.initrd } : {}),
    });
    writeFdt(ram, plan, fdt);
  } catch (e) {
    if (e instanceof BootError || e instanceof ElfError) throw new ConfigError(e.message);
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

  const input = {
    // Hold host input until a driver listens (RX interrupts enabled): bytes sent earlier would be flushed.
    canReceive: () => uart.rxInterruptEnabled && uart.canReceive(),
    receive: (b: number) => uart.receive(b),
  };
  vm = new Vm(harts, clock, metrics, [aclint, rtc], console, input);
  return vm;
}
