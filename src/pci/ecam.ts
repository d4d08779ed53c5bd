// The Enhanced Configuration Access Mechanism (PCIe 4.0 §7.2.2): a memory window in which offset
// bus << 20 | device << 15 | function << 12 | register addresses one function's configuration space, as Linux's
// pci_generic_ecam_ops (drivers/pci/ecam.c) computes it. Accesses of 1, 2 or 4 bytes inside one dword reach the
// function; an absent function reads all-ones (a master abort) and drops writes; 8-byte accesses and accesses that
// cross a dword are not config requests and are refused the same way.

import type { MmioHandler, Width } from '../memory/bus.js';
import type { PciFunction } from './function.js';

export const PCIE_ECAM_BUS_SHIFT = 20;
export const PCIE_ECAM_DEVFN_SHIFT = 12;

export interface EcamAddress {
  readonly bus: number;
  readonly device: number;
  readonly fn: number;
  readonly register: number;
}

/** Splits an offset into the ECAM window. */
export function ecamDecode(offset: number): EcamAddress {
  return {
    bus: Math.floor(offset / 2 ** PCIE_ECAM_BUS_SHIFT) & 0xff,
    device: (offset >>> 15) & 0x1f,
    fn: (offset >>> 12) & 0x7,
    register: offset & 0xfff,
  };
}

/** The ECAM offset of a function's register. */
export function ecamOffset(bus: number, device: number, fn: number, register = 0): number {
  return bus * 2 ** PCIE_ECAM_BUS_SHIFT + ((device << 15) | (fn << 12) | register);
}

/** "BB:DD.F" as lspci prints it (domain omitted). */
export function bdfName(bus: number, device: number, fn: number): string {
  const h2 = (n: number) => n.toString(16).padStart(2, '0');
  return `${h2(bus)}:${h2(device)}.${fn}`;
}

/** Standard header register names, for the metrics of the ECAM region. */
const HEADER_NAMES: Readonly<Record<number, string>> = {
  0x00: 'VENDOR_ID', 0x02: 'DEVICE_ID', 0x04: 'COMMAND', 0x06: 'STATUS', 0x08: 'CLASS_REVISION', 0x0c: 'CACHE_LINE_SIZE',
  0x0e: 'HEADER_TYPE', 0x10: 'BAR0', 0x14: 'BAR1', 0x18: 'BAR2', 0x1c: 'BAR3', 0x20: 'BAR4', 0x24: 'BAR5',
  0x2c: 'SUBSYSTEM', 0x30: 'ROM_ADDRESS', 0x34: 'CAPABILITY_LIST', 0x3c: 'INTERRUPT_LINE', 0x3d: 'INTERRUPT_PIN',
};

/** Names an ECAM offset "00:02.0/COMMAND" (or "00:02.0/0x44" beyond the named header registers). */
export function ecamRegisterName(offset: number): string {
  const a = ecamDecode(offset);
  const reg = HEADER_NAMES[a.register] ?? `0x${a.register.toString(16)}`;
  return `${bdfName(a.bus, a.device, a.fn)}/${reg}`;
}

const ONES: Record<1 | 2 | 4, number> = { 1: 0xff, 2: 0xffff, 4: 0xffff_ffff };

export class EcamHandler implements MmioHandler {
  /** Accesses that were not config requests (8 bytes, crossing a dword). */
  refused = 0;
  /** Config requests to functions that do not exist (enumeration probes them all). */
  unclaimed = 0;

  constructor(private readonly lookup: (bus: number, devfn: number) => PciFunction | null) {}

  /** The function and register an access reaches, or null (counted). */
  private target(offset: number, width: Width): { f: PciFunction; reg: number } | null {
    if (width === 8 || (offset & 3) + width > 4) { this.refused++; return null; }
    const a = ecamDecode(offset);
    const f = this.lookup(a.bus, (a.device << 3) | a.fn);
    if (f === null) { this.unclaimed++; return null; }
    return { f, reg: a.register };
  }

  // guest-controlled: any offset in the window, any width.
  read(offset: number, width: Width): number | bigint {
    const t = this.target(offset, width);
    if (t === null) return width === 8 ? 0xffff_ffff_ffff_ffffn : ONES[width];
    return t.f.configRead(t.reg, width as 1 | 2 | 4);
  }

  write(offset: number, width: Width, value: number | bigint): void {
    const t = this.target(offset, width);
    if (t === null) return;
    const v = typeof value === 'bigint' ? Number(BigInt.asUintN(32, value)) : value >>> 0;
    t.f.configWrite(t.reg, width as 1 | 2 | 4, v);
  }
}
