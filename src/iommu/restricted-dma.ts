// The guest side of the restricted-DMA-window policy: a `restricted-dma-pool` reserved-memory node (dt-schema
// reserved-memory/shared-dma-pool.yaml; Linux kernel/dma/swiotlb.c rmem_swiotlb_setup, drivers/of/device.c
// of_dma_set_restricted_buffer) and the `memory-region` phandle in the assigned function's own device-tree node,
// so that stock Linux bounces all of that device's streaming DMA and takes its coherent allocations from the pool.
// The hypervisor then maps only the pool into the function's IOMMU domain (DmaPolicy 'window').
//
// Linux's rules, read from the 6.12 source: the pool must not be `reusable`, `no-map`, `linux,cma-default` or
// `linux,dma-default` (rmem_swiotlb_setup refuses them); /reserved-memory needs #address-cells and #size-cells equal
// to the root's and a `ranges`; the device's node is found by of_dma_set_restricted_buffer first, then the host
// bridge's node (which would bounce every device behind the bridge, so vmio puts it in the function's node). For a
// PCI function that node is a child of the host bridge node whose `reg` phys.hi holds bus and devfn
// (of_pci_find_child_device / of_pci_get_devfn), which VFs get too (pci_iov_add_virtfn → pci_setup_device).

import type { FdtBuilder } from '../board/fdt.js';
import { regCells, type VirtDtHook } from '../board/virt-dt.js';
import { IommuMapError } from './page-table.js';

/** swiotlb's slot is 2 KiB (IO_TLB_SHIFT 11) and one mapping spans at most 128 slots (IO_TLB_SEGSIZE): 256 KiB. */
export const RESTRICTED_POOL_MIN_BYTES = 128 << 11;

/** Everything the device tree needs for one pool. */
export interface RestrictedDmaPool {
  /** Node name under /reserved-memory, e.g. "restricted-dma@be000000". */
  readonly nodeName: string;
  readonly compatible: 'restricted-dma-pool';
  /** Guest physical window: the same range the IOMMU maps (DmaPolicy { kind: 'window', base, size }). */
  readonly base: number;
  readonly size: number;
  /** `reg` cells with #address-cells = #size-cells = 2. */
  readonly reg: readonly number[];
  readonly phandle: number;
  /** The cells of the `memory-region` property to put in the device's node. */
  readonly memoryRegion: readonly number[];
}

/**
 * Describes a restricted DMA pool at guest physical [base, base+size), with `phandle` (from the tree builder's
 * allocPhandle). The window must be 4 KiB aligned and at least 256 KiB (one swiotlb segment).
 */
export function restrictedDmaPool(base: number, size: number, phandle: number): RestrictedDmaPool {
  if (!Number.isSafeInteger(base) || base < 0 || base % 4096 !== 0 || !Number.isSafeInteger(size) || size % 4096 !== 0) {
    throw new IommuMapError(`restricted DMA pool 0x${base.toString(16)}+${size}: base and size must be 4 KiB aligned`);
  }
  if (size < RESTRICTED_POOL_MIN_BYTES) {
    throw new IommuMapError(`restricted DMA pool of ${size} bytes is smaller than one swiotlb segment (${RESTRICTED_POOL_MIN_BYTES} bytes); `
      + 'Linux could not bounce a large buffer through it');
  }
  if (!Number.isInteger(phandle) || phandle < 1 || phandle > 0xffff_fffe) throw new IommuMapError(`phandle ${phandle} is not a valid phandle`);
  return {
    nodeName: `restricted-dma@${base.toString(16)}`, compatible: 'restricted-dma-pool', base, size,
    reg: regCells(base, size), phandle, memoryRegion: [phandle],
  };
}

/** Writes /reserved-memory with one child per pool. Call at the root level (a VirtBoardDesc root hook). */
export function writeReservedMemory(fdt: FdtBuilder, pools: readonly RestrictedDmaPool[]): void {
  fdt.beginNode('reserved-memory');
  fdt.propU32('#address-cells', 2);
  fdt.propU32('#size-cells', 2);
  fdt.propEmpty('ranges');
  for (const p of pools) {
    fdt.beginNode(p.nodeName);
    fdt.propString('compatible', p.compatible);
    fdt.propCells('reg', p.reg);
    fdt.propU32('phandle', p.phandle);
    fdt.endNode();
  }
  fdt.endNode();
}

/** A root hook writing /reserved-memory for `pools`. */
export function reservedMemoryHook(pools: readonly RestrictedDmaPool[]): VirtDtHook {
  return (fdt) => writeReservedMemory(fdt, pools);
}

/** A PCI function's address: bus 0-255, device 0-31, function 0-7. */
export interface PciAddress {
  readonly bus: number;
  readonly device: number;
  readonly fn: number;
}

/** The 16-bit requester ID of a function: the IOMMU's device ID. */
export function requesterId(a: PciAddress): number {
  if (![a.bus, a.device, a.fn].every(Number.isInteger) || a.bus < 0 || a.bus > 255 || a.device < 0 || a.device > 31 || a.fn < 0 || a.fn > 7) {
    throw new IommuMapError(`PCI address ${a.bus}:${a.device}.${a.fn} is not bus 0-255, device 0-31, function 0-7`);
  }
  return (a.bus << 8) | (a.device << 3) | a.fn;
}

/**
 * Writes the node of PCI function `a` (a child of the host bridge node: call between that node's properties and
 * its endNode), pointing at `pool` through `memory-region`. `name` is the generic node name (e.g. "ethernet").
 */
export function writePciFunctionNode(fdt: FdtBuilder, a: PciAddress, pool: RestrictedDmaPool, name = 'ethernet'): void {
  const rid = requesterId(a);
  // Unit address "device" or "device,function" in hex, as the PCI bus binding (and dtc's check) spells it.
  fdt.beginNode(`${name}@${a.device.toString(16)}${a.fn === 0 ? '' : `,${a.fn.toString(16)}`}`);
  // IEEE 1275 PCI binding: phys.hi = bus << 16 | devfn << 8; a config-space address, so phys.mid/lo and size are 0.
  fdt.propCells('reg', [rid << 8, 0, 0, 0, 0]);
  fdt.propCells('memory-region', pool.memoryRegion);
  fdt.endNode();
}
