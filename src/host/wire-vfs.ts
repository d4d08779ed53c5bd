// The guest side of direct I/O, part of the wiring point (build-vm.ts): the PCI slots reserved for VFs of other VMs
// that this VM was given ("vfs" in a host file), registered with the Host's assignments once the boot images are
// placed, and — under the restricted-DMA-window policy — the device-tree pieces that make stock Linux bounce the
// VF's DMA through a pool the IOMMU maps alone: /reserved-memory/restricted-dma@… and a child node of the PCI host
// bridge at the VF's slot naming it in `memory-region` (src/iommu/restricted-dma.ts says why there).

import type { VirtDtHook } from '../board/virt-dt.js';
import type { BootPlan } from '../boot/layout.js';
import type { DmaPolicy } from '../iommu/domain.js';
import { restrictedDmaPool, reservedMemoryHook, writePciFunctionNode, type RestrictedDmaPool } from '../iommu/restricted-dma.js';
import type { VfAssignments, VfGuestPort, VfRef } from './assign-vf.js';
import { DEFAULT_VF_WINDOW_MIB } from '../cli/host-config.js';

const MiB = 1 << 20;
/** The window starts this far below the initramfs (or the device tree), 2 MiB aligned like a kernel huge page. */
const WINDOW_ALIGN = 2 * MiB;

export class VfWiringError extends Error {}

/** What a VM with assigned VFs adds to its build. */
export interface GuestVfs {
  /** Children of the PCI host bridge node (null: none needed). */
  readonly pciChildren: VirtDtHook | null;
  /** Root-level device-tree hooks (the /reserved-memory node). */
  readonly rootHooks: readonly VirtDtHook[];
  /** After the images are placed: picks the DMA window and registers each VF with the Host's assignments. */
  register(plan: BootPlan): void;
  /** One line per VF for the person running vmio: what direct I/O gives up (null when there is none). */
  readonly notice: string | null;
}

type PortBase = Omit<VfGuestPort, 'slot' | 'dma' | 'irq'>;

/**
 * Reserves a PCI slot for each VF in `refs` (with `pciSlot`) and returns the pieces to finish the wiring. `port` is
 * what every VF of this VM shares: its bus, RAM, metrics and harts.
 */
export function reserveGuestVfs(refs: readonly VfRef[], assignments: VfAssignments | null, port: PortBase, pciSlot: () => number): GuestVfs {
  if (refs.length === 0) return { pciChildren: null, rootHooks: [], register: () => {}, notice: null };
  if (assignments === null) throw new VfWiringError(`VF ${refs[0]!.domain}:${refs[0]!.index}: assigning VFs needs a host file`);
  const slots = refs.map(() => pciSlot());
  const first = refs[0]!;
  const windowed = first.dma === 'window';
  const windowBytes = (first.windowMiB ?? DEFAULT_VF_WINDOW_MIB) * MiB;
  let pool: RestrictedDmaPool | null = null;
  let window: { base: number; size: number } | null = null;
  /** The pool's description, made by whichever hook runs first (both name its phandle). */
  const poolFor = (ctx: { allocPhandle(): number }): RestrictedDmaPool => {
    if (window === null) throw new VfWiringError('the restricted DMA window is placed after the boot images; register() first');
    pool ??= restrictedDmaPool(window.base, window.size, ctx.allocPhandle());
    return pool;
  };

  const pciChildren: VirtDtHook | null = windowed ? (fdt, ctx) => {
    const p = poolFor(ctx);
    for (const device of slots) writePciFunctionNode(fdt, { bus: 0, device, fn: 0 }, p, 'ethernet');
  } : null;
  const rootHooks: VirtDtHook[] = windowed ? [(fdt, ctx) => reservedMemoryHook([poolFor(ctx)])(fdt, ctx)] : [];

  return {
    pciChildren, rootHooks,
    notice: refs.map((r) => `vmio: ${port.vmName} has VF ${r.domain}:${r.index} assigned (direct I/O, DMA ${r.dma === 'window' ? `in a ${r.windowMiB ?? DEFAULT_VF_WINDOW_MIB} MiB restricted window` : 'to all of its RAM'}, `
      + `interrupts ${r.irq === 'hypervisor' ? 'injected by the hypervisor' : 'posted to its interrupt file'}): the VF's state lives in the NIC, so this VM `
      + `cannot be live-migrated, and vmio cannot rate-limit its traffic (the PF can: ip link set DEV vf ${r.index} max_tx_rate MBPS in ${r.domain})`).join('\n'),
    register(plan: BootPlan): void {
      let dma: DmaPolicy = { kind: 'whole-ram' };
      if (windowed) {
        // Below the initramfs (or the device tree at the top of RAM), above the kernel: memory nothing was loaded into.
        const top = plan.initrd?.start ?? plan.fdtAddr;
        const base = Math.floor((top - windowBytes) / WINDOW_ALIGN) * WINDOW_ALIGN;
        if (base < Math.ceil(plan.kernelEnd / WINDOW_ALIGN) * WINDOW_ALIGN) {
          throw new VfWiringError(`VM '${port.vmName}': no room for a ${windowBytes / MiB} MiB restricted DMA window between the kernel and the initramfs; raise "memory" or lower window=`);
        }
        window = { base, size: windowBytes };
        dma = { kind: 'window', base, size: windowBytes };
      }
      refs.forEach((ref, i) => assignments.register(ref, { ...port, slot: slots[i]!, dma, irq: ref.irq ?? 'direct' }));
    },
  };
}
