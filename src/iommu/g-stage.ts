// The Sv39x4 G-stage walk of the RISC-V IOMMU (IOMMU spec "Process to translate an IOVA", step 19: the
// privileged spec's "Virtual Address Translation Process" with the changes of "Guest Physical Address
// Translation"). Like the hart's walk (src/cpu/riscv/mmu.ts) it allocates nothing and returns a fault instead of
// throwing; the caller supplies the result object. Page tables are read only from the IOMMU's host-private table
// memory: a pointer anywhere else is an access fault (our PMA for implicit IOMMU reads), so no VM's RAM can
// ever be taken for a page table.
//
// The IOMMU has no AMO_HWAD capability, so DC.tc.GADE is 0: a leaf with A clear, or D clear on a write, is a
// guest-page fault (not an update). The hypervisor's mapper sets A (and D on writable leaves) when it maps.

import type { GuestMemory } from '../memory/guest-memory.js';
import { DMA_FAULT_PERMISSION, DMA_FAULT_TRANSLATION } from '../memory/dma.js';
import {
  LEVEL_SPAN, PTE_A, PTE_D, PTE_HI_PPN_MASK, PTE_HI_RESERVED_SHIFT, PTE_R, PTE_U, PTE_V, PTE_W, PTE_X,
  SV39X4_GPA_LIMIT, SV39X4_LEVELS, accessFault, guestPageFault,
} from './spec.js';

/** Where a walk leaves its result; reused across walks. */
export interface GStageResult {
  /** Host physical address of the accessed byte (on success). */
  hpa: number;
  /** First guest physical address and size in bytes of the leaf that mapped it (4 KiB, 2 MiB or 1 GiB). */
  leafGpa: number;
  leafSize: number;
  /** Host physical address of the leaf's first byte. */
  leafHpa: number;
  /** What the leaf allows: PTE_R when R and A are set, PTE_W when W and D are set. */
  perms: number;
  /** On failure: the fault record CAUSE and the DmaSpace fault code. */
  cause: number;
  dmaFault: number;
}

export function newGStageResult(): GStageResult {
  return { hpa: 0, leafGpa: 0, leafSize: 0, leafHpa: 0, perms: 0, cause: 0, dmaFault: 0 };
}

/** Largest PPN whose page lies below 2^53 (beyond it addresses are not exact numbers; nothing is placed there). */
const PPN_LIMIT = 2 ** 41;
const TWO22 = 2 ** 22;

function fail(out: GStageResult, cause: number, dmaFault: number): false {
  out.cause = cause;
  out.dmaFault = dmaFault;
  return false;
}

/**
 * Translates guest physical address `gpa` (an IOVA: the first stage is Bare) through the Sv39x4 table whose 16 KiB
 * root is at host physical address `root`, for a read or a write. `mem` is the IOMMU's table memory (its base is
 * its host physical address). Returns true with the translation in `out`, or false with the cause.
 */
export function walkSv39x4(mem: GuestMemory, root: number, gpa: number, write: boolean, out: GStageResult): boolean {
  // "Address bits 63:41 must all be zeros, or else a guest-page-fault exception occurs."
  if (!(gpa >= 0 && gpa < SV39X4_GPA_LIMIT) || !Number.isInteger(gpa)) return fail(out, guestPageFault(write), DMA_FAULT_TRANSLATION);
  const vpn = Math.floor(gpa / 4096);
  let table = root;
  for (let i = SV39X4_LEVELS - 1; i >= 0; i--) {
    const pages = LEVEL_SPAN[i]! / 4096;
    // VPN[2] is GPA[40:30] (11 bits: the root is four times larger); VPN[1] and VPN[0] have 9 bits.
    const idx = Math.floor(vpn / pages) & (i === SV39X4_LEVELS - 1 ? 0x7ff : 0x1ff);
    const pteAddr = table + idx * 8;
    // Step 2: a PTE outside the table memory violates our PMA for implicit reads: access fault.
    if (!mem.contains(pteAddr, 8)) return fail(out, accessFault(write), DMA_FAULT_TRANSLATION);
    const off = pteAddr - mem.base;
    const lo = mem.read32(off);
    const hi = mem.read32(off + 4);
    // Step 3: V clear, W without R, or reserved bits/encodings (N, PBMT, bits 60:54) set: guest-page fault.
    if ((lo & PTE_V) === 0 || (lo & (PTE_R | PTE_W)) === PTE_W || hi >>> PTE_HI_RESERVED_SHIFT !== 0) {
      return fail(out, guestPageFault(write), DMA_FAULT_TRANSLATION);
    }
    const ppn = (lo >>> 10) + (hi & PTE_HI_PPN_MASK) * TWO22;
    if ((lo & (PTE_R | PTE_X)) === 0) {
      // Step 4: a pointer. D, A and U are reserved in non-leaf PTEs; a pointer at level 0 is a fault.
      if ((lo & (PTE_D | PTE_A | PTE_U)) !== 0 || i === 0 || ppn >= PPN_LIMIT) {
        return fail(out, guestPageFault(write), DMA_FAULT_TRANSLATION);
      }
      table = ppn * 4096;
      continue;
    }
    // Step 5: a superpage's PPN must be aligned to its size.
    if (ppn % pages !== 0) return fail(out, guestPageFault(write), DMA_FAULT_TRANSLATION);
    // Step 6: G-stage accesses are user-level, so U must be set. Steps 8-9: R (or W) and A (and D), no GADE.
    const perms = (lo & PTE_A) === 0 ? 0 : (lo & PTE_R) | ((lo & PTE_D) !== 0 ? lo & PTE_W : 0);
    if ((lo & PTE_U) === 0 || (perms & (write ? PTE_W : PTE_R)) === 0) {
      return fail(out, guestPageFault(write), DMA_FAULT_PERMISSION);
    }
    if (ppn >= PPN_LIMIT) return fail(out, accessFault(write), DMA_FAULT_TRANSLATION);
    // Step 10: pa.pgoff = gpa.pgoff; for a superpage the low PPN bits come from the GPA.
    const leafGpa = Math.floor(gpa / LEVEL_SPAN[i]!) * LEVEL_SPAN[i]!;
    out.leafGpa = leafGpa;
    out.leafSize = LEVEL_SPAN[i]!;
    out.leafHpa = ppn * 4096;
    out.hpa = out.leafHpa + (gpa - leafGpa);
    out.perms = perms;
    out.cause = 0;
    out.dmaFault = 0;
    return true;
  }
  return fail(out, guestPageFault(write), DMA_FAULT_TRANSLATION);
}
