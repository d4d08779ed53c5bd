// The PCIe host bridge's windows on the virt board, as QEMU hw/riscv/virt.c lays them out: ECAM, the I/O port
// window, the 32-bit MMIO window (identity-mapped bus addresses) and the 64-bit "high" MMIO window, which for RV64 is
// 16 GiB placed at the first 16 GiB boundary above RAM (virt_machine_init: ROUND_UP(dram base + ram size, 16 GiB)).

import { VIRT, type MmioWindow } from '../board/virt-map.js';

export interface PciWindows {
  /** Configuration space, 1 MiB per bus from bus 0. */
  readonly ecam: MmioWindow;
  /** CPU addresses of I/O ports 0..size-1. */
  readonly io: MmioWindow;
  /** Memory windows; bus address = CPU address. */
  readonly mmio32: MmioWindow;
  readonly mmio64: MmioWindow;
}

/** QEMU virt's VIRT64_HIGH_PCIE_MMIO_SIZE. */
export const VIRT64_HIGH_PCIE_MMIO_SIZE = 16 * 2 ** 30;

/** Bytes of ECAM per bus (PCIe 4.0 §7.2.2: 32 devices × 8 functions × 4 KiB). */
export const ECAM_BYTES_PER_BUS = 1 << 20;

/** The virt board's windows for RAM at `ramBase` of `ramSize` bytes. */
export function virtPciWindows(ramBase: number = VIRT.ram.base, ramSize: number): PciWindows {
  const top = ramBase + ramSize;
  const high = Math.ceil(top / VIRT64_HIGH_PCIE_MMIO_SIZE) * VIRT64_HIGH_PCIE_MMIO_SIZE;
  return {
    ecam: VIRT.pcieEcam,
    io: VIRT.pciePio,
    mmio32: VIRT.pcieMmio,
    mmio64: { base: high, size: VIRT64_HIGH_PCIE_MMIO_SIZE },
  };
}

/** Number of buses the ECAM window covers (bus-range 0..n-1). */
export function ecamBuses(w: PciWindows): number {
  return Math.min(256, Math.floor(w.ecam.size / ECAM_BYTES_PER_BUS));
}
