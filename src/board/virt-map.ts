// The virt board's memory map and interrupt numbers, as on QEMU's riscv `virt` machine (hw/riscv/virt.c),
// so stock Linux and OpenSBI find devices where they expect them.

export const VIRT = {
  test: { base: 0x0010_0000, size: 0x1000 },
  rtc: { base: 0x0010_1000, size: 0x1000, irq: 11 },
  clint: { base: 0x0200_0000, size: 0x1_0000 },
  plic: { base: 0x0c00_0000, size: 0x60_0000 },
  uart0: { base: 0x1000_0000, size: 0x100, irq: 10 },
  virtio: { base: 0x1000_1000, size: 0x1000, count: 8, irq: 1 },
  pcieEcam: { base: 0x3000_0000, size: 0x1000_0000 },
  pcieMmio: { base: 0x4000_0000, size: 0x4000_0000 },
  ram: { base: 0x8000_0000 },
} as const;
