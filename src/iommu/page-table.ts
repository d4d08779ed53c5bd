// The hypervisor's side of a domain's Sv39x4 G-stage page table (privileged spec "Sv39" PTE format with the
// Sv39x4 16 KiB root): building, splitting and tearing down tables in the IOMMU's table memory. It writes each
// entry with one 64-bit store and follows the IOMMU spec's software rules ("Changing second-stage page table
// entry"): it reports which leaves it cleared and whether a non-leaf entry changed, so the caller can issue
// IOTINVAL.GVMA by address or for the whole GSCID. Mapping only ever turns invalid entries valid, which needs no
// invalidation (invalid entries are never cached).
//
// Leaves are as large as alignment allows: 1 GiB, 2 MiB, else 4 KiB. Every leaf has V, U (G-stage accesses are
// user-level), A, R, and W and D when writable: with no hardware A/D updating, a leaf without them would fault.

import { LEVEL_SPAN, PTE_A, PTE_D, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X, SV39X4_LEVELS, encodePte } from './spec.js';
import type { TableMemory } from './table-memory.js';

export class IommuMapError extends Error {
  constructor(message: string) { super(message); this.name = 'IommuMapError'; }
}

/** What an unmap changed, for the invalidations the caller must issue. */
export interface UnmapResult {
  /** Bytes that were mapped and no longer are. */
  bytes: number;
  /** First guest address of every leaf cleared (each needs IOTINVAL.GVMA GV=AV=1 with that address). */
  leaves: number[];
  /** A non-leaf entry changed (a table freed, or a superpage split): IOTINVAL.GVMA GV=1, AV=0 is needed. */
  nonLeafChanged: boolean;
}

const ENTRY_SIZE = 8;
const entries = (level: number): number => (level === SV39X4_LEVELS - 1 ? 2048 : 512);
const indexOf = (gpa: number, level: number): number => Math.floor(gpa / LEVEL_SPAN[level]!) % entries(level);

export function leafFlags(writable: boolean): number {
  return PTE_V | PTE_R | PTE_U | PTE_A | (writable ? PTE_W | PTE_D : 0);
}

function isLeaf(pte: bigint): boolean { return (pte & BigInt(PTE_R | PTE_X)) !== 0n; }
function ppnOf(pte: bigint): number { return Number((pte >> 10n) & 0xfff_ffff_ffffn); }

export class GStageTable {
  /** Host physical address of the 16 KiB root. */
  readonly root: number;
  /** Table pages this domain uses (the root counts 4). */
  pages = 4;
  /** Bytes currently mapped, and leaves by level (4 KiB, 2 MiB, 1 GiB). */
  mappedBytes = 0;
  readonly leavesByLevel = [0, 0, 0];

  constructor(private readonly tm: TableMemory, what: string) {
    this.root = tm.allocRoot(`the root table of ${what}`);
  }

  private entry(table: number, level: number, gpa: number): number { return table + indexOf(gpa, level) * ENTRY_SIZE; }

  /** Throws IommuMapError when any page of [gpa, gpa+len) is already mapped. Writes nothing. */
  checkFree(gpa: number, len: number): void {
    this.visitFree(this.root, SV39X4_LEVELS - 1, gpa, gpa + len);
  }

  private visitFree(table: number, level: number, start: number, end: number): void {
    const span = LEVEL_SPAN[level]!;
    for (let a = start; a < end; a = Math.floor(a / span) * span + span) {
      const pte = this.tm.read64(this.entry(table, level, a));
      if ((pte & 1n) === 0n) continue;
      if (isLeaf(pte)) {
        const leaf = Math.floor(a / span) * span;
        throw new IommuMapError(`IOVA 0x${a.toString(16)} is already mapped (by a ${span / 1024} KiB leaf at 0x${leaf.toString(16)}); unmap it first`);
      }
      this.visitFree(ppnOf(pte) * 4096, level - 1, a, Math.min(end, Math.floor(a / span) * span + span));
    }
  }

  /** Maps [gpa, gpa+len) to [hpa, hpa+len). The caller has validated the range and called checkFree. */
  map(gpa: number, hpa: number, len: number, writable: boolean): void {
    this.fill(this.root, SV39X4_LEVELS - 1, gpa, gpa + len, hpa - gpa, leafFlags(writable));
    this.mappedBytes += len;
  }

  private fill(table: number, level: number, start: number, end: number, delta: number, flags: number): void {
    const span = LEVEL_SPAN[level]!;
    for (let a = start; a < end;) {
      const entryEnd = Math.floor(a / span) * span + span;
      const stop = Math.min(end, entryEnd);
      const at = this.entry(table, level, a);
      const pte = this.tm.read64(at);
      if ((pte & 1n) === 0n && a % span === 0 && stop === entryEnd && (a + delta) % span === 0) {
        this.tm.write64(at, encodePte((a + delta) / 4096, flags));
        this.leavesByLevel[level]!++;
      } else {
        let next: number;
        if ((pte & 1n) !== 0n && isLeaf(pte)) throw new IommuMapError(`IOVA 0x${a.toString(16)} is already mapped; unmap it first`);
        if ((pte & 1n) === 0n) {
          next = this.tm.allocPage('a G-stage page table');
          this.pages++;
          this.tm.write64(at, encodePte(next / 4096, PTE_V));
        } else {
          next = ppnOf(pte) * 4096;
        }
        this.fill(next, level - 1, a, stop, delta, flags);
      }
      a = stop;
    }
  }

  /** Unmaps every mapped page of [gpa, gpa+len), splitting superpages that are only partly inside. */
  unmap(gpa: number, len: number): UnmapResult {
    const r: UnmapResult = { bytes: 0, leaves: [], nonLeafChanged: false };
    this.clear(this.root, SV39X4_LEVELS - 1, gpa, gpa + len, r);
    this.mappedBytes -= r.bytes;
    return r;
  }

  private clear(table: number, level: number, start: number, end: number, r: UnmapResult): void {
    const span = LEVEL_SPAN[level]!;
    for (let a = start; a < end;) {
      const base = Math.floor(a / span) * span;
      const stop = Math.min(end, base + span);
      const at = this.entry(table, level, a);
      let pte = this.tm.read64(at);
      if ((pte & 1n) !== 0n) {
        if (isLeaf(pte) && a === base && stop === base + span) {
          this.tm.write64(at, 0n);
          this.leavesByLevel[level]!--;
          r.bytes += span;
          r.leaves.push(base);
        } else {
          if (isLeaf(pte)) { pte = this.split(at, pte, level); r.nonLeafChanged = true; }
          const next = ppnOf(pte) * 4096;
          this.clear(next, level - 1, a, stop, r);
          if (this.isEmpty(next)) {
            this.tm.write64(at, 0n);
            this.tm.freePage(next);
            this.pages--;
            r.nonLeafChanged = true;
          }
        }
      }
      a = stop;
    }
  }

  /** Replaces the superpage leaf at `at` by a table of 512 leaves mapping the same pages; returns the new pointer. */
  private split(at: number, pte: bigint, level: number): bigint {
    const table = this.tm.allocPage('a G-stage page table (superpage split)');
    this.pages++;
    const sub = LEVEL_SPAN[level - 1]! / 4096;
    const flags = Number(pte & 0x3ffn);
    const ppn = ppnOf(pte);
    for (let k = 0; k < 512; k++) this.tm.write64(table + k * ENTRY_SIZE, encodePte(ppn + k * sub, flags));
    this.leavesByLevel[level]!--;
    this.leavesByLevel[level - 1]! += 512;
    const pointer = encodePte(table / 4096, PTE_V);
    this.tm.write64(at, pointer);
    return pointer;
  }

  private isEmpty(table: number): boolean {
    for (let k = 0; k < 512; k++) if ((this.tm.read32(table + k * ENTRY_SIZE) & PTE_V) !== 0) return false;
    return true;
  }

  /** Frees every table page, root included. The caller invalidates the GSCID. */
  destroy(): void {
    const free = (table: number, level: number): void => {
      for (let k = 0; k < entries(level); k++) {
        const pte = this.tm.read64(table + k * ENTRY_SIZE);
        if ((pte & 1n) !== 0n && !isLeaf(pte) && level > 0) { free(ppnOf(pte) * 4096, level - 1); this.tm.freePage(ppnOf(pte) * 4096); }
      }
    };
    free(this.root, SV39X4_LEVELS - 1);
    this.tm.freeRoot(this.root);
    this.pages = 0;
    this.mappedBytes = 0;
  }
}
