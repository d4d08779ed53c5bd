// Where the boot images go in guest RAM, and the registers each boot path starts with
// (Linux Documentation/arch/riscv/boot.rst; OpenSBI docs/firmware/fw_dynamic.md for struct fw_dynamic_info).
// A kernel that is neither an ELF nor a Linux Image is a raw binary, placed where QEMU virt places one
// (hw/riscv/boot.c riscv_calc_kernel_start_addr): RAM base + 2 MiB after firmware, RAM base with no firmware.

import type { GuestMemory } from '../memory/guest-memory.js';
import { parseKernelImage } from './kernel-image.js';
import { ElfError, isElf, parseElf, type ElfImage } from './elf.js';

export class BootError extends Error {}

const MiB = 1 << 20;
const KERNEL_ALIGN = 2 * MiB;
/** Where a raw binary kernel goes after firmware (builtin SBI or a firmware file): QEMU virt's kernel address. */
export const RAW_KERNEL_OFFSET = 2 * MiB;
/** The top of RAM holds the device tree (with room for firmware to grow it in place) and fw_dynamic info. */
const TOP_RESERVE = 2 * MiB;
const FDT_MAX = 64 * 1024;

// struct fw_dynamic_info (OpenSBI include/sbi/fw_dynamic.h), version 2.
const FW_DYNAMIC_INFO_MAGIC = 0x4942534fn; // "OSBI"
const FW_DYNAMIC_INFO_VERSION = 2n;
const FW_DYNAMIC_INFO_NEXT_MODE_S = 1n;

export interface BootImages {
  kernel: Uint8Array | null;
  kernelName: string;
  initrd: Uint8Array | null;
  firmware: Uint8Array | null;
  firmwareName: string;
  /** 'builtin' (S-mode, vmio serves SBI), 'firmware' (M-mode firmware, then S-mode kernel), 'bare' (M-mode ELF). */
  mode: 'builtin' | 'firmware' | 'bare';
}

export interface BootPlan {
  /** Where every hart starts, and in which privilege mode. */
  entry: number;
  priv: 1 | 3;
  /** Secondary harts start too (firmware and bare metal: all harts enter together; builtin SBI: only hart 0). */
  allHartsStart: boolean;
  fdtAddr: number;
  /** a2 for fw_dynamic firmware, 0 otherwise. */
  a2: number;
  initrd: { start: number; end: number } | null;
  /** The end of what the kernel image occupies (its image size, not just the file). */
  kernelEnd: number;
}

function alignUp(x: number, a: number): number { return Math.ceil(x / a) * a; }
function alignDown(x: number, a: number): number { return Math.floor(x / a) * a; }

/** A range of RAM already taken, to keep images from overwriting each other. */
interface Taken { start: number; end: number; what: string }

function claim(taken: Taken[], start: number, end: number, what: string): void {
  for (const t of taken) {
    if (start < t.end && t.start < end) {
      throw new BootError(`${what} (0x${start.toString(16)}..0x${end.toString(16)}) overlaps ${t.what} ` +
        `(0x${t.start.toString(16)}..0x${t.end.toString(16)}); link or place them apart`);
    }
  }
  taken.push({ start, end, what });
}

function hex(x: number): string { return `0x${x.toString(16)}`; }

/** parseElf with the file's name in its errors. */
function readElf(bytes: Uint8Array, name: string): ElfImage {
  try {
    return parseElf(bytes);
  } catch (e) {
    if (e instanceof ElfError) throw new BootError(`${name}: ${e.message}`);
    throw e;
  }
}

function loadElf(ram: GuestMemory, elf: ElfImage, what: string, taken: Taken[]): number {
  const ramEnd = ram.base + ram.size;
  let end = 0;
  for (const s of elf.segments) {
    const where = `${what}: segment at ${hex(s.paddr)} (${s.memSize} bytes)`;
    if (s.paddr < ram.base) {
      throw new BootError(`${where} is below guest RAM, which starts at ${hex(ram.base)}; link every segment at ${hex(ram.base)} ` +
        `or above (with gcc: -Ttext=${hex(ram.base)} -Wl,--build-id=none,-n drops the build-id note and keeps the ELF headers out)`);
    }
    if (!ram.contains(s.paddr, s.memSize)) {
      throw new BootError(`${where} ends past guest RAM ${hex(ram.base)}..${hex(ramEnd)}; raise --memory or link it lower`);
    }
    claim(taken, s.paddr, s.paddr + s.memSize, what);
    ram.load(s.paddr, s.data);
    ram.fill(s.paddr + s.data.length, s.memSize - s.data.length);
    end = Math.max(end, s.paddr + s.memSize);
  }
  return end;
}

function isGzip(bytes: Uint8Array): boolean { return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b; }

/** Loads a kernel that is not an ELF at `addr` (a Linux Image at its text offset, a raw binary where QEMU puts one). */
function loadFlat(ram: GuestMemory, kernel: Uint8Array, name: string, addr: number, size: number, taken: Taken[], fdtAddr: number): number {
  if (addr + size > fdtAddr) {
    throw new BootError(`the kernel ${name} needs ${Math.ceil((addr + size - ram.base + TOP_RESERVE) / MiB)} MiB of RAM ` +
      `but the guest has ${ram.size / MiB} MiB; raise --memory`);
  }
  claim(taken, addr, addr + size, `the kernel ${name}`);
  ram.load(addr, kernel);
  return addr + size;
}

/**
 * Places the images in RAM and returns how to start. The device tree itself is written afterwards by the
 * caller at `fdtAddr` (its contents depend on `initrd`); call `writeFdt` for the size check.
 */
export function placeImages(ram: GuestMemory, img: BootImages): BootPlan {
  const ramEnd = ram.base + ram.size;
  const fdtAddr = ramEnd - TOP_RESERVE;
  const taken: Taken[] = [{ start: fdtAddr, end: ramEnd, what: 'the device tree and firmware info at the top of RAM' }];
  let entry: number;
  let priv: 1 | 3;
  let kernelEnd: number;
  let a2 = 0;

  if (img.kernel === null) throw new BootError('no kernel given');
  const kernel = img.kernel;
  const name = img.kernelName;
  if (isGzip(kernel)) {
    throw new BootError(`${name} is gzip-compressed (an Image.gz?); decompress it (gunzip) and give the Image`);
  }
  if (img.mode === 'bare') {
    // An ELF loads at its own addresses; anything else is a raw binary at the start of RAM, as in QEMU with -bios none.
    if (isElf(kernel)) {
      const elf = readElf(kernel, name);
      kernelEnd = loadElf(ram, elf, name, taken);
      entry = elf.entry;
    } else {
      kernelEnd = loadFlat(ram, kernel, name, ram.base, kernel.length, taken, fdtAddr);
      entry = ram.base;
    }
    priv = 3;
  } else {
    let kernelAddr: number;
    if (isElf(kernel)) {
      const elf = readElf(kernel, name);
      kernelEnd = loadElf(ram, elf, name, taken);
      kernelAddr = elf.entry;
    } else {
      const info = parseKernelImage(kernel);
      kernelAddr = info === null ? ram.base + RAW_KERNEL_OFFSET : alignUp(ram.base + info.textOffset, KERNEL_ALIGN);
      const size = info === null ? kernel.length : Math.max(info.imageSize, kernel.length);
      kernelEnd = loadFlat(ram, kernel, name, kernelAddr, size, taken, fdtAddr);
    }
    if (img.mode === 'firmware') {
      if (img.firmware === null) throw new BootError('no firmware given');
      if (isElf(img.firmware)) {
        const elf = readElf(img.firmware, img.firmwareName);
        loadElf(ram, elf, img.firmwareName, taken);
        entry = elf.entry;
      } else {
        entry = ram.base;
        claim(taken, ram.base, ram.base + img.firmware.length, `the firmware ${img.firmwareName}`);
        ram.load(ram.base, img.firmware);
      }
      priv = 3;
      // fw_dynamic_info sits in the last page of RAM.
      a2 = ramEnd - 4096;
      const off = a2 - ram.base;
      ram.write64(off, FW_DYNAMIC_INFO_MAGIC);
      ram.write64(off + 8, FW_DYNAMIC_INFO_VERSION);
      ram.write64(off + 16, BigInt(kernelAddr));
      ram.write64(off + 24, FW_DYNAMIC_INFO_NEXT_MODE_S);
      ram.write64(off + 32, 0n); // options
      ram.write64(off + 40, 0n); // boot_hart: hart 0
    } else {
      entry = kernelAddr;
      priv = 1;
    }
  }

  let initrd: BootPlan['initrd'] = null;
  if (img.initrd !== null) {
    const start = alignDown(fdtAddr - img.initrd.length, 4096);
    if (start < alignUp(kernelEnd, 4096)) {
      throw new BootError(`the kernel ${name} and the initramfs need ${Math.ceil((kernelEnd - ram.base + img.initrd.length + TOP_RESERVE) / MiB)} MiB ` +
        `of RAM but the guest has ${ram.size / MiB} MiB; raise --memory`);
    }
    claim(taken, start, start + img.initrd.length, 'the initramfs');
    ram.load(start, img.initrd);
    initrd = { start, end: start + img.initrd.length };
  }
  return { entry, priv, allHartsStart: priv === 3, fdtAddr, a2, initrd, kernelEnd };
}

export function writeFdt(ram: GuestMemory, plan: BootPlan, fdt: Uint8Array): void {
  if (fdt.length > FDT_MAX) throw new BootError(`the device tree is ${fdt.length} bytes; at most ${FDT_MAX} fit`);
  ram.load(plan.fdtAddr, fdt);
}
