// Base address registers (PCI 3.0 §6.2.5.1): validation of a device's BAR list, the register's read-only type bits
// and write mask (so that writing all-ones and reading back yields ~(size-1) | type, exactly what Linux's
// __pci_read_base decodes), the address a guest programmed, and the BAR handler that routes the MSI-X table and
// PBA ranges to the MSI-X registers and everything else to the device.

import type { ClassRange, MmioHandler, Width } from '../memory/bus.js';
import type { ExitClass } from '../metrics/counters.js';
import type { ConfigSpace } from './config-space.js';
import type { BarSpec } from './device.js';
import type { Msix } from './msix.js';
import {
  PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_IO_MASK, PCI_BASE_ADDRESS_MEM_MASK, PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_TYPE_64, PCI_BASE_ADDRESS_SPACE_IO, PCI_STD_NUM_BARS,
} from './regs.js';

/** A validated BAR. */
export interface BarInfo {
  readonly index: number;
  readonly size: number;
  readonly io: boolean;
  readonly is64: boolean;
  readonly prefetchable: boolean;
  readonly spec: BarSpec;
}

/** I/O BARs decode 16 address bits (the virt board's port window is 64 KiB). */
const IO_DECODE_MASK = 0xffff;
const TWO32 = 0x1_0000_0000;

const isPow2 = (n: number) => Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;

/** Checks a device's BAR list; throws RangeError saying which BAR is wrong and why (a device-model bug). */
export function checkBars(bars: readonly (BarSpec | null | undefined)[]): BarInfo[] {
  if (bars.length > PCI_STD_NUM_BARS) throw new RangeError(`a type 0 function has at most 6 BARs, got ${bars.length}`);
  const out: BarInfo[] = [];
  for (let i = 0; i < bars.length; i++) {
    const b = bars[i];
    if (b === null || b === undefined) continue;
    const io = b.kind === 'io';
    const is64 = b.is64 ?? false;
    const bad = (why: string) => { throw new RangeError(`BAR${i}: ${why}`); };
    if (!isPow2(b.size)) bad(`size ${b.size} is not a power of two`);
    if (io && (b.size < 4 || b.size > 256)) bad(`an I/O BAR decodes 4..256 bytes, not ${b.size}`);
    if (io && (is64 || b.prefetchable === true)) bad('an I/O BAR cannot be 64-bit or prefetchable');
    if (!io && b.size < 16) bad(`a memory BAR decodes at least 16 bytes, not ${b.size}`);
    if (!io && !is64 && b.size > 2 ** 31) bad(`a 32-bit BAR cannot decode ${b.size} bytes; make it 64-bit`);
    if (is64 && i === PCI_STD_NUM_BARS - 1) bad('a 64-bit BAR needs the next index too, and BAR5 is the last');
    if (is64 && bars[i + 1] !== null && bars[i + 1] !== undefined) bad(`a 64-bit BAR uses BAR${i + 1} as its upper half; leave it empty`);
    out.push({ index: i, size: b.size, io, is64, prefetchable: b.prefetchable ?? false, spec: b });
    if (is64) i++;
  }
  return out;
}

export const barOffset = (index: number) => PCI_BASE_ADDRESS_0 + 4 * index;

/** Writes the BAR's power-on value (address 0, type bits) and its write masks into config space. */
export function installBar(cfg: ConfigSpace, bar: BarInfo): void {
  const off = barOffset(bar.index);
  if (bar.io) {
    cfg.set32(off, PCI_BASE_ADDRESS_SPACE_IO);
    cfg.writable(off, 4, PCI_BASE_ADDRESS_IO_MASK & IO_DECODE_MASK & ~(bar.size - 1));
    return;
  }
  cfg.set32(off, (bar.is64 ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) | (bar.prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0));
  const low = bar.size >= TWO32 ? 0 : (PCI_BASE_ADDRESS_MEM_MASK & ~(bar.size - 1)) >>> 0;
  cfg.writable(off, 4, low);
  if (bar.is64) cfg.writable(off + 4, 4, bar.size > TWO32 ? (~(bar.size / TWO32 - 1)) >>> 0 : 0xffff_ffff);
}

/** The bus address the guest programmed into the BAR (I/O: a port number). */
export function barAddress(cfg: ConfigSpace, bar: BarInfo): bigint {
  const off = barOffset(bar.index);
  const lo = cfg.get32(off) & (bar.io ? PCI_BASE_ADDRESS_IO_MASK : PCI_BASE_ADDRESS_MEM_MASK);
  const hi = bar.is64 ? cfg.get32(off + 4) : 0;
  return (BigInt(hi) << 32n) | BigInt(lo >>> 0);
}

/** Registers of one BAR: the device's handler, with the MSI-X table and PBA ranges routed to the MSI-X registers. */
export class BarHandler implements MmioHandler {
  private tableAt = -1;
  private pbaAt = -1;
  /** Accesses that reached no register (no device handler, or straddling an MSI-X structure). */
  refused = 0;

  constructor(private readonly device: MmioHandler | undefined, private readonly msix: Msix | null, bar: number) {
    if (msix !== null) {
      if (msix.spec.tableBar === bar) this.tableAt = msix.spec.tableOffset;
      if (msix.spec.pbaBar === bar) this.pbaAt = msix.spec.pbaOffset;
    }
  }

  /** Exit-class sub-ranges for the MSI-X structures in this BAR (they come first, so they win over the device's). */
  msixClasses(cls: ExitClass): ClassRange[] {
    const m = this.msix;
    const out: ClassRange[] = [];
    if (m === null) return out;
    if (this.tableAt >= 0) out.push({ offset: this.tableAt, size: m.tableBytes, exitClass: cls });
    if (this.pbaAt >= 0) out.push({ offset: this.pbaAt, size: m.pbaBytes, exitClass: cls });
    return out;
  }

  /** The MSI-X structure `off` falls in, with the offset inside it, or null. */
  private route(off: number): { h: MmioHandler; rel: number } | null {
    const m = this.msix;
    if (m === null) return null;
    if (this.tableAt >= 0 && off >= this.tableAt && off < this.tableAt + m.tableBytes) return { h: m.table, rel: off - this.tableAt };
    if (this.pbaAt >= 0 && off >= this.pbaAt && off < this.pbaAt + m.pbaBytes) return { h: m.pba, rel: off - this.pbaAt };
    return null;
  }

  read(off: number, width: Width): number | bigint {
    const r = this.route(off);
    if (r !== null) return r.h.read(r.rel, width);
    if (this.device !== undefined) return this.device.read(off, width);
    this.refused++;
    return width === 8 ? 0n : 0;
  }

  write(off: number, width: Width, value: number | bigint): void {
    const r = this.route(off);
    if (r !== null) { r.h.write(r.rel, width, value); return; }
    if (this.device !== undefined) { this.device.write(off, width, value); return; }
    this.refused++;
  }
}

/** Checks that each MSI-X structure lies inside an implemented memory BAR. */
export function checkMsixPlacement(bars: readonly BarInfo[], msix: Msix): void {
  const s = msix.spec;
  for (const [what, bir, off, len] of [['table', s.tableBar, s.tableOffset, msix.tableBytes], ['PBA', s.pbaBar, s.pbaOffset, msix.pbaBytes]] as const) {
    const bar = bars.find((b) => b.index === bir);
    if (bar === undefined || bar.io) throw new RangeError(`MSI-X ${what} is in BAR${bir}, which is not an implemented memory BAR`);
    if (off + len > bar.size) throw new RangeError(`MSI-X ${what} (0x${off.toString(16)}+${len}) does not fit in BAR${bir} of ${bar.size} bytes`);
  }
}
