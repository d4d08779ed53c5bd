// The memory map and interrupt numbers of the virt board, following QEMU hw/riscv/virt.c (virt_memmap, *_IRQ).

export interface MmioWindow {
  readonly base: number;
  readonly size: number;
}

export interface IrqWindow extends MmioWindow {
  /** PLIC source number. */
  readonly irq: number;
}

export const VIRT = {
  test: { base: 0x0010_0000, size: 0x1000 },
  rtc: { base: 0x0010_1000, size: 0x1000, irq: 11 },
  clint: { base: 0x0200_0000, size: 0x1_0000 },
  pciePio: { base: 0x0300_0000, size: 0x1_0000 },
  plic: { base: 0x0c00_0000, size: 0x60_0000 },
  uart0: { base: 0x1000_0000, size: 0x100, irq: 10 },
  /** virtio-mmio slot i is at base + i*size with PLIC source irq + i. */
  virtio: { base: 0x1000_1000, size: 0x1000, irq: 1, count: 8 },
  pcieEcam: { base: 0x3000_0000, size: 0x1000_0000 },
  pcieMmio: { base: 0x4000_0000, size: 0x4000_0000 },
  /** PCIe INTA..INTD are PLIC sources irq..irq+3. */
  pcieIrq: 0x20,
  ram: { base: 0x8000_0000 },
} as const;
