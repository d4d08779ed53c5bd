// A BAR handler for a register file that is larger than what the model implements: offsets the register table
// declares go to it; every other aligned 32-bit register is plain storage (reads back what was written, 0 at reset)
// and counted, as many registers of the 82576 (LED control, flow-control thresholds, wake-up filters, time sync, …)
// only need to hold their value for igb. Accesses that are not 32-bit and aligned outside the table are refused.

import type { MmioHandler, Width } from '../../memory/bus.js';
import type { RegisterTable } from '../../memory/register-table.js';

export class TableWithStorage implements MmioHandler {
  private readonly covered: Uint8Array;
  private readonly storage: Uint32Array;
  /** Accesses that reached plain storage. */
  unmodelled = 0;
  /** Accesses outside the table that were not aligned 32-bit ones. */
  refused = 0;

  constructor(readonly table: RegisterTable, size: number) {
    this.covered = new Uint8Array(size >> 2);
    this.storage = new Uint32Array(size >> 2);
    // Every register of these tables is 32 bits wide at an aligned offset: probing each dword finds them all.
    for (let off = 0; off < size; off += 4) if (table.nameAt(off) !== undefined) this.covered[off >> 2] = 1;
  }

  /** The register name at `offset` for metrics: the table's, or "REG_0x…" for storage. */
  readonly registerName = (offset: number): string | undefined =>
    this.table.nameAt(offset) ?? `REG_0x${(offset & ~3).toString(16)}`;

  // guest-controlled: any offset and width within the BAR.
  read(offset: number, width: Width): number | bigint {
    const i = offset >> 2;
    if (this.covered[i] === 1 || i >= this.covered.length) return this.table.read(offset, width);
    if (width !== 4 || (offset & 3) !== 0) { this.refused++; return width === 8 ? 0n : 0; }
    this.unmodelled++;
    return this.storage[i]!;
  }

  write(offset: number, width: Width, value: number | bigint): void {
    const i = offset >> 2;
    if (this.covered[i] === 1 || i >= this.covered.length) { this.table.write(offset, width, value); return; }
    if (width !== 4 || (offset & 3) !== 0) { this.refused++; return; }
    this.unmodelled++;
    this.storage[i] = typeof value === 'bigint' ? Number(BigInt.asUintN(32, value)) : value >>> 0;
  }

  /** Power-on: storage reads 0 again. */
  reset(): void { this.storage.fill(0); }
}
