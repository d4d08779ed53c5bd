// Device-tree nodes for the AIA (Linux Documentation/devicetree/bindings/interrupt-controller/riscv,imsics.yaml
// and riscv,aplic.yaml, read by irq-riscv-imsic-state.c and irq-riscv-aplic-main.c), placed and named as QEMU
// hw/riscv/virt.c does: IMSIC nodes per privilege level, APLIC nodes per domain.

import type { FdtBuilder } from '../fdt.js';
import { IRQ_M_EXT, IRQ_S_EXT } from '../irq.js';
import { regCells, type VirtDtContext, type VirtDtHook } from '../virt-dt.js';
import { hartIndexBits } from './aplic-msi.js';
import { VIRT_APLIC_M_BASE, VIRT_APLIC_NUM_SOURCES, VIRT_APLIC_SIZE, VIRT_APLIC_S_BASE, VIRT_IMSIC_M_BASE, VIRT_IMSIC_S_BASE } from './aplic-regs.js';
import { IMSIC_MMIO_PAGE_SZ, VIRT_IMSIC_NUM_IDS } from './imsic.js';

/** Second cell of an APLIC `interrupts` specifier (include/dt-bindings/interrupt-controller/irq.h). */
export const IRQ_TYPE_EDGE_RISING = 1;
export const IRQ_TYPE_LEVEL_HIGH = 4;

export interface AiaDtConfig {
  harts: number;
  /** 'msi': APLIC forwards to IMSICs (msi-parent); 'direct': APLIC drives harts (interrupts-extended), no IMSIC. */
  mode: 'msi' | 'direct';
  numIds?: number;
  sources?: number;
  imsicSBase?: number;
  imsicMBase?: number;
  aplicSBase?: number;
  aplicMBase?: number;
  aplicSize?: number;
  /**
   * Also describe the machine level (M-level IMSIC, root APLIC with riscv,children/riscv,delegation), for boots
   * through M-mode firmware (OpenSBI), which programs and then hides them. Leave false for the builtin SBI:
   * Linux would otherwise probe the root domain and undo the delegation.
   */
  machineLevel?: boolean;
}

const hex = (n: number): string => n.toString(16);

/** An IMSIC node for one privilege level: one 4-KiB page per hart starting at `base`. */
export function imsicNode(fdt: FdtBuilder, ctx: VirtDtContext, o: { base: number; harts: number; numIds: number; irq: number; phandle: number }): void {
  fdt.beginNode(`imsics@${hex(o.base)}`);
  fdt.propString('compatible', 'riscv,imsics');
  fdt.propCells('reg', regCells(o.base, o.harts * IMSIC_MMIO_PAGE_SZ));
  fdt.propCells('interrupts-extended', ctx.cpuIntcPhandles.slice(0, o.harts).flatMap((p) => [p, o.irq]));
  fdt.propEmpty('interrupt-controller');
  fdt.propU32('#interrupt-cells', 0);
  fdt.propU32('#address-cells', 0); // dtc's interrupt_provider check wants it
  fdt.propEmpty('msi-controller');
  fdt.propU32('#msi-cells', 0);
  fdt.propU32('riscv,num-ids', o.numIds);
  fdt.propU32('riscv,hart-index-bits', hartIndexBits(o.harts));
  fdt.propU32('phandle', o.phandle);
  fdt.endNode();
}

export interface AplicNodeOptions {
  base: number;
  size: number;
  sources: number;
  phandle: number;
  /** MSI mode: the IMSIC node's phandle. Otherwise direct mode with `irq` (IRQ_M_EXT / IRQ_S_EXT) per hart. */
  msiParent: number | null;
  irq: number;
  harts: number;
  /** A parent domain's only child, to which it delegates sources 1..sources. */
  child?: number;
}

/** An APLIC domain node. */
export function aplicNode(fdt: FdtBuilder, ctx: VirtDtContext, o: AplicNodeOptions): void {
  fdt.beginNode(`aplic@${hex(o.base)}`);
  fdt.propString('compatible', 'riscv,aplic');
  fdt.propCells('reg', regCells(o.base, o.size));
  fdt.propEmpty('interrupt-controller');
  fdt.propU32('#interrupt-cells', 2);
  fdt.propU32('#address-cells', 0);
  fdt.propU32('riscv,num-sources', o.sources);
  if (o.msiParent !== null) fdt.propU32('msi-parent', o.msiParent);
  else fdt.propCells('interrupts-extended', ctx.cpuIntcPhandles.slice(0, o.harts).flatMap((p) => [p, o.irq]));
  if (o.child !== undefined) {
    fdt.propCells('riscv,children', [o.child]);
    fdt.propCells('riscv,delegation', [o.child, 1, o.sources]);
    // The older name of the same property, which OpenSBI 1.1 (Debian 12's) reads to delegate sources to S-mode.
    fdt.propCells('riscv,delegate', [o.child, 1, o.sources]);
  }
  fdt.propU32('phandle', o.phandle);
  fdt.endNode();
}

/**
 * The AIA nodes of a virt board as a /soc hook, with phandles allocated once so the wiring can point devices at
 * the S-level APLIC (`interrupt-parent`, two cells: `interrupts = <irq IRQ_TYPE_LEVEL_HIGH>`) and a PCIe host
 * bridge at the S-level IMSIC (`msi-parent`).
 */
export class AiaDt {
  private ph: { imsicS: number; imsicM: number; aplicS: number; aplicM: number } | null = null;

  constructor(readonly cfg: AiaDtConfig) {
    if (!Number.isInteger(cfg.harts) || cfg.harts < 1) throw new RangeError(`AIA device tree: ${cfg.harts} harts; need at least 1`);
    if (cfg.harts > 1 << 14) throw new RangeError(`AIA device tree: ${cfg.harts} harts exceed the 14-bit APLIC hart index`);
  }

  /** Allocates the phandles (once); call before writing nodes that refer to them. */
  allocate(ctx: Pick<VirtDtContext, 'allocPhandle'>): void {
    if (this.ph !== null) return;
    const m = this.cfg.machineLevel === true;
    const msi = this.cfg.mode === 'msi';
    this.ph = {
      imsicS: msi ? ctx.allocPhandle() : 0,
      imsicM: msi && m ? ctx.allocPhandle() : 0,
      aplicS: ctx.allocPhandle(),
      aplicM: m ? ctx.allocPhandle() : 0,
    };
  }

  private phandles(): NonNullable<AiaDt['ph']> {
    if (this.ph === null) throw new Error('AIA device tree: phandles are not allocated yet; call allocate(ctx) first');
    return this.ph;
  }

  /** The S-level APLIC: interrupt-parent of wired devices. */
  get aplicPhandle(): number { return this.phandles().aplicS; }
  /** The S-level IMSIC: msi-parent of PCIe host bridges (0 in direct mode: no IMSIC). */
  get imsicPhandle(): number { return this.phandles().imsicS; }

  /** `interrupts` cells of a wired device on the APLIC. */
  static interrupts(source: number, type = IRQ_TYPE_LEVEL_HIGH): number[] { return [source, type]; }

  readonly hook: VirtDtHook = (fdt, ctx) => {
    this.allocate(ctx);
    const p = this.phandles();
    const c = this.cfg;
    const harts = c.harts;
    const numIds = c.numIds ?? VIRT_IMSIC_NUM_IDS;
    const sources = c.sources ?? VIRT_APLIC_NUM_SOURCES;
    const size = c.aplicSize ?? VIRT_APLIC_SIZE;
    const msi = c.mode === 'msi';
    const m = c.machineLevel === true;
    if (msi && m) imsicNode(fdt, ctx, { base: c.imsicMBase ?? VIRT_IMSIC_M_BASE, harts, numIds, irq: IRQ_M_EXT, phandle: p.imsicM });
    if (msi) imsicNode(fdt, ctx, { base: c.imsicSBase ?? VIRT_IMSIC_S_BASE, harts, numIds, irq: IRQ_S_EXT, phandle: p.imsicS });
    if (m) {
      aplicNode(fdt, ctx, {
        base: c.aplicMBase ?? VIRT_APLIC_M_BASE, size, sources, phandle: p.aplicM, msiParent: msi ? p.imsicM : null,
        irq: IRQ_M_EXT, harts, child: p.aplicS,
      });
    }
    aplicNode(fdt, ctx, {
      base: c.aplicSBase ?? VIRT_APLIC_S_BASE, size, sources, phandle: p.aplicS, msiParent: msi ? p.imsicS : null, irq: IRQ_S_EXT, harts,
    });
  };
}
