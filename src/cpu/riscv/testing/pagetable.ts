// Test helper: builds Sv39/Sv48 page tables in guest RAM (privileged spec §4.3-§4.4 PTE layout).

import type { GuestMemory } from '../../../memory/guest-memory.js';
import { PTE_V } from '../mmu.js';
import { ramViews, type RamViews } from '../ram-views.js';

export class PageTables {
  readonly root: number;
  private next: number;
  private readonly ram: RamViews;

  /** Tables are allocated from [arena, ...) in RAM, 4 KiB each. `levels` is 3 (Sv39) or 4 (Sv48). */
  constructor(private readonly mem: GuestMemory, arena: number, readonly levels: 3 | 4 = 3) {
    this.ram = ramViews(mem);
    this.next = arena;
    this.root = this.alloc();
  }

  private alloc(): number {
    const a = this.next;
    this.next += 4096;
    this.ram.u8.fill(0, a - this.mem.base, a - this.mem.base + 4096);
    return a;
  }

  private read64(pa: number): bigint { return this.ram.dv.getBigUint64(pa - this.mem.base, true); }
  private write64(pa: number, v: bigint): void { this.ram.dv.setBigUint64(pa - this.mem.base, BigInt.asUintN(64, v), true); }

  /** satp value for these tables. */
  satp(asid = 0): bigint {
    return (BigInt(this.levels === 3 ? 8 : 9) << 60n) | (BigInt(asid) << 44n) | BigInt(this.root / 4096);
  }

  /** Address of the PTE that maps `va` at `level` (0 = 4 KiB leaf), creating intermediate tables. */
  pteAddr(va: number, level = 0): number {
    const vpn = Math.floor(va / 4096);
    let table = this.root;
    for (let i = this.levels - 1; i > level; i--) {
      const a = table + (Math.floor(vpn / 2 ** (9 * i)) & 511) * 8;
      let pte = this.read64(a);
      if ((pte & 1n) === 0n) {
        const t = this.alloc();
        pte = (BigInt(t / 4096) << 10n) | BigInt(PTE_V);
        this.write64(a, pte);
      }
      table = Number(pte >> 10n) * 4096;
    }
    return table + (Math.floor(vpn / 2 ** (9 * level)) & 511) * 8;
  }

  /** Maps `va` to physical `pa` with raw PTE flag bits (V is added) at `level`. */
  map(va: number, pa: number, flags: number, level = 0): number {
    const a = this.pteAddr(va, level);
    this.write64(a, (BigInt(Math.floor(pa / 4096)) << 10n) | BigInt(flags | PTE_V));
    return a;
  }

  /** Writes a raw PTE value for `va` at `level`. */
  setRaw(va: number, pte: bigint, level = 0): void {
    this.write64(this.pteAddr(va, level), pte);
  }

  read(va: number, level = 0): bigint { return this.read64(this.pteAddr(va, level)); }
}
