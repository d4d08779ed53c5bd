// The virt board's device tree, generated from a board description with QEMU hw/riscv/virt.c's node names and
// conventions (DT bindings: Documentation/devicetree/bindings/riscv/cpus.yaml, sifive,plic-1.0.0.yaml,
// sifive,clint.yaml, serial/8250.yaml, rtc/google,goldfish-rtc.txt, power/reset/syscon-{poweroff,reboot}.yaml).

import { FdtBuilder, FdtError } from './fdt.js';
import { PLIC_NUM_SOURCES } from './plic.js';
import { UART_CLOCK_HZ } from './uart16550.js';
import type { IrqWindow, MmioWindow } from './virt-map.js';
import { FINISHER_PASS, FINISHER_RESET } from './syscon.js';
import { IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER, IRQ_S_EXT } from './irq.js';

/** Which board devices exist and where, as the wiring point mapped them; an omitted or null entry is absent. */
export interface VirtDevices {
  uart?: IrqWindow | null;
  rtc?: IrqWindow | null;
  syscon?: MmioWindow | null;
  plic?: (MmioWindow & { ndev?: number }) | null;
  clint?: MmioWindow | null;
  /** virtio-mmio transports ("virtio,mmio"), each with its PLIC source. */
  virtio?: readonly IrqWindow[];
}

/** What extension hooks get: phandles to point at and a way to allocate more. */
export interface VirtDtContext {
  readonly desc: VirtBoardDesc;
  /** Phandle of the PLIC, or null when the board has none. */
  readonly plicPhandle: number | null;
  /** Phandle of each hart's riscv,cpu-intc node, by hart id. */
  readonly cpuIntcPhandles: readonly number[];
  allocPhandle(): number;
}

/** A wired interrupt controller described by a hook (the APLIC's node comes from src/board/aia/dt.ts). */
export interface WiredIrqParent {
  /** Allocates the controller's phandle(s); called once, before any node that points at it. */
  allocate(ctx: Pick<VirtDtContext, 'allocPhandle'>): void;
  phandle(): number;
  /** The `interrupts` cells of wired source `irq`. */
  interrupts(irq: number): number[];
}

/** Adds nodes to the tree; called with the builder positioned inside /soc (or the root). */
export type VirtDtHook = (fdt: FdtBuilder, ctx: VirtDtContext) => void;

export interface VirtBoardDesc {
  harts: number;
  ramBase: number;
  ramSize: number;
  /** base e.g. 'rv64imafdc'; extensions e.g. ['i','m','a','f','d','c','zicsr','zifencei','sstc']. */
  isa: { base: string; extensions: readonly string[] };
  mmuType: 'riscv,sv39' | 'riscv,sv48' | 'riscv,sv57';
  timebaseFrequency: number;
  bootargs: string;
  initrd?: { start: number; end: number };
  rngSeed?: Uint8Array;
  /** Root `model` (default "riscv-virtio,vmio"). */
  model?: string;
  devices?: VirtDevices;
  /**
   * The wired interrupt controller the board's devices point at, when it is not the PLIC (the APLIC): its
   * phandle is allocated before /soc is written, and its `interrupts` specifier may have more cells.
   */
  wiredIrqParent?: WiredIrqParent;
  /** Extension points: nodes added at the end of /soc (virtio, PCIe host bridges) and of the root. */
  socHooks?: readonly VirtDtHook[];
  rootHooks?: readonly VirtDtHook[];
}

const hex = (n: number) => n.toString(16);
const hi = (n: number) => Math.floor(n / 0x1_0000_0000) >>> 0;
const lo = (n: number) => n >>> 0;

/** `reg` cells for one (address, size) pair with #address-cells = #size-cells = 2. */
export function regCells(base: number, size: number): number[] {
  return [hi(base), lo(base), hi(size), lo(size)];
}

/** The ISA as a riscv,isa string ("rv64imafdc_zicsr_..._sstc") and riscv,isa-extensions list. */
export function isaStrings(isa: VirtBoardDesc['isa']): { isa: string; base: string; extensions: string[] } {
  const m = /^(rv(?:32|64))([a-z]+)$/.exec(isa.base.toLowerCase());
  if (m === null || !m[2]!.startsWith('i')) {
    throw new FdtError(`ISA base "${isa.base}" is not of the form rv64i... (e.g. rv64imafdc)`);
  }
  const singles: string[] = [...m[2]!];
  const multi: string[] = [];
  for (const raw of isa.extensions) {
    const e = raw.toLowerCase();
    if (!/^[a-z][a-z0-9]*$/.test(e)) throw new FdtError(`ISA extension "${raw}" is not a lowercase extension name`);
    if (e.length === 1) { if (!singles.includes(e)) singles.push(e); } else if (!multi.includes(e)) multi.push(e);
  }
  return {
    isa: [m[1]! + singles.join(''), ...multi].join('_'),
    base: `${m[1]!}i`,
    extensions: [...singles, ...multi],
  };
}

function withDefaults(d: VirtDevices | undefined): Required<VirtDevices> {
  return {
    uart: d?.uart ?? null,
    rtc: d?.rtc ?? null,
    syscon: d?.syscon ?? null,
    plic: d?.plic ?? null,
    clint: d?.clint ?? null,
    virtio: d?.virtio ?? [],
  };
}

/** Path of the UART node, for stdout-path and aliases. */
export function uartPath(uart: MmioWindow): string { return `/soc/serial@${hex(uart.base)}`; }

function cpus(fdt: FdtBuilder, desc: VirtBoardDesc, cpuPhandles: number[], intcPhandles: number[]): void {
  const isa = isaStrings(desc.isa);
  fdt.beginNode('cpus');
  fdt.propU32('#address-cells', 1);
  fdt.propU32('#size-cells', 0);
  fdt.propU32('timebase-frequency', desc.timebaseFrequency);
  for (let h = 0; h < desc.harts; h++) {
    fdt.beginNode(`cpu@${hex(h)}`);
    fdt.propString('device_type', 'cpu');
    fdt.propU32('reg', h);
    fdt.propString('status', 'okay');
    fdt.propString('compatible', 'riscv');
    fdt.propString('riscv,isa', isa.isa);
    fdt.propString('riscv,isa-base', isa.base);
    fdt.propStrings('riscv,isa-extensions', isa.extensions);
    fdt.propString('mmu-type', desc.mmuType);
    fdt.propU32('phandle', cpuPhandles[h]!);
    fdt.beginNode('interrupt-controller');
    fdt.propU32('#address-cells', 0);
    fdt.propU32('#interrupt-cells', 1);
    fdt.propEmpty('interrupt-controller');
    fdt.propString('compatible', 'riscv,cpu-intc');
    fdt.propU32('phandle', intcPhandles[h]!);
    fdt.endNode();
    fdt.endNode();
  }
  fdt.beginNode('cpu-map');
  fdt.beginNode('cluster0');
  for (let h = 0; h < desc.harts; h++) {
    fdt.beginNode(`core${h}`);
    fdt.propU32('cpu', cpuPhandles[h]!);
    fdt.endNode();
  }
  fdt.endNode();
  fdt.endNode();
  fdt.endNode();
}

/** interrupts-extended cells: for every hart, <intc irqA>, <intc irqB>. */
function perHart(intc: readonly number[], a: number, b: number): number[] {
  return intc.flatMap((p) => [p, a, p, b]);
}

function soc(fdt: FdtBuilder, desc: VirtBoardDesc, dev: Required<VirtDevices>, ctx: VirtDtContext, testPhandle: number): void {
  const intc = ctx.cpuIntcPhandles;
  fdt.beginNode('soc');
  fdt.propU32('#address-cells', 2);
  fdt.propU32('#size-cells', 2);
  fdt.propString('compatible', 'simple-bus');
  fdt.propEmpty('ranges');

  const parent = desc.wiredIrqParent;
  const irqOf = (w: IrqWindow): void => {
    if (parent !== undefined) {
      fdt.propU32('interrupt-parent', parent.phandle());
      fdt.propCells('interrupts', parent.interrupts(w.irq));
      return;
    }
    if (ctx.plicPhandle === null) return;
    fdt.propU32('interrupt-parent', ctx.plicPhandle);
    fdt.propU32('interrupts', w.irq);
  };

  if (dev.syscon !== null) {
    fdt.beginNode(`test@${hex(dev.syscon.base)}`);
    fdt.propStrings('compatible', ['sifive,test1', 'sifive,test0', 'syscon']);
    fdt.propCells('reg', regCells(dev.syscon.base, dev.syscon.size));
    fdt.propU32('phandle', testPhandle);
    fdt.endNode();
  }
  if (dev.rtc !== null) {
    fdt.beginNode(`rtc@${hex(dev.rtc.base)}`);
    fdt.propString('compatible', 'google,goldfish-rtc');
    fdt.propCells('reg', regCells(dev.rtc.base, dev.rtc.size));
    irqOf(dev.rtc);
    fdt.endNode();
  }
  if (dev.clint !== null) {
    fdt.beginNode(`clint@${hex(dev.clint.base)}`);
    fdt.propStrings('compatible', ['sifive,clint0', 'riscv,clint0']);
    fdt.propCells('reg', regCells(dev.clint.base, dev.clint.size));
    fdt.propCells('interrupts-extended', perHart(intc, IRQ_M_SOFT, IRQ_M_TIMER));
    fdt.endNode();
  }
  if (dev.plic !== null && ctx.plicPhandle !== null) {
    fdt.beginNode(`plic@${hex(dev.plic.base)}`);
    fdt.propU32('#interrupt-cells', 1);
    fdt.propU32('#address-cells', 0);
    fdt.propStrings('compatible', ['sifive,plic-1.0.0', 'riscv,plic0']);
    fdt.propEmpty('interrupt-controller');
    fdt.propCells('reg', regCells(dev.plic.base, dev.plic.size));
    fdt.propCells('interrupts-extended', perHart(intc, IRQ_M_EXT, IRQ_S_EXT));
    fdt.propU32('riscv,ndev', dev.plic.ndev ?? PLIC_NUM_SOURCES - 1);
    fdt.propU32('phandle', ctx.plicPhandle);
    fdt.endNode();
  }
  if (dev.uart !== null) {
    fdt.beginNode(`serial@${hex(dev.uart.base)}`);
    fdt.propString('compatible', 'ns16550a');
    fdt.propCells('reg', regCells(dev.uart.base, dev.uart.size));
    fdt.propU32('clock-frequency', UART_CLOCK_HZ);
    irqOf(dev.uart);
    fdt.endNode();
  }
  for (const v of dev.virtio) {
    fdt.beginNode(`virtio_mmio@${hex(v.base)}`);
    fdt.propString('compatible', 'virtio,mmio');
    fdt.propCells('reg', regCells(v.base, v.size));
    irqOf(v);
    fdt.endNode();
  }
  for (const hook of desc.socHooks ?? []) hook(fdt, ctx);
  fdt.endNode();
}

/** Builds the complete device tree blob of the virt board described by `desc`. */
export function buildVirtDeviceTree(desc: VirtBoardDesc): Uint8Array {
  if (!Number.isInteger(desc.harts) || desc.harts < 1) throw new FdtError(`harts = ${desc.harts}; need at least 1`);
  const dev = withDefaults(desc.devices);
  const fdt = new FdtBuilder();
  const cpuPhandles: number[] = [];
  const intcPhandles: number[] = [];
  for (let h = 0; h < desc.harts; h++) {
    cpuPhandles.push(fdt.allocPhandle());
    intcPhandles.push(fdt.allocPhandle());
  }
  const ctx: VirtDtContext = {
    desc,
    plicPhandle: dev.plic !== null ? fdt.allocPhandle() : null,
    cpuIntcPhandles: intcPhandles,
    allocPhandle: () => fdt.allocPhandle(),
  };
  const testPhandle = dev.syscon !== null ? fdt.allocPhandle() : 0;
  desc.wiredIrqParent?.allocate(ctx);

  fdt.beginNode('');
  fdt.propU32('#address-cells', 2);
  fdt.propU32('#size-cells', 2);
  fdt.propString('compatible', 'riscv-virtio');
  fdt.propString('model', desc.model ?? 'riscv-virtio,vmio');

  fdt.beginNode('chosen');
  fdt.propString('bootargs', desc.bootargs);
  if (dev.uart !== null) fdt.propString('stdout-path', uartPath(dev.uart));
  if (desc.initrd !== undefined) {
    fdt.propU64('linux,initrd-start', desc.initrd.start);
    fdt.propU64('linux,initrd-end', desc.initrd.end);
  }
  if (desc.rngSeed !== undefined) fdt.propBytes('rng-seed', desc.rngSeed);
  fdt.endNode();

  if (dev.uart !== null) {
    fdt.beginNode('aliases');
    fdt.propString('serial0', uartPath(dev.uart));
    fdt.endNode();
  }

  fdt.beginNode(`memory@${hex(desc.ramBase)}`);
  fdt.propString('device_type', 'memory');
  fdt.propCells('reg', regCells(desc.ramBase, desc.ramSize));
  fdt.endNode();

  cpus(fdt, desc, cpuPhandles, intcPhandles);
  soc(fdt, desc, dev, ctx, testPhandle);

  if (dev.syscon !== null) {
    for (const [name, compatible, value] of [
      ['poweroff', 'syscon-poweroff', FINISHER_PASS], ['reboot', 'syscon-reboot', FINISHER_RESET],
    ] as const) {
      fdt.beginNode(name);
      fdt.propString('compatible', compatible);
      fdt.propU32('regmap', testPhandle);
      fdt.propU32('offset', 0);
      fdt.propU32('value', value);
      fdt.endNode();
    }
  }
  for (const hook of desc.rootHooks ?? []) hook(fdt, ctx);
  fdt.endNode();
  return fdt.finish();
}
