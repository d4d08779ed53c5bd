// Sv39/Sv48 page-table walk (RISC-V privileged spec §4.3.2 "Virtual address translation process", §4.4, §4.5).
// A/D bits: we take the spec's second option and set them in hardware (as QEMU does): a walk that finds A
// clear, or D clear on a store, writes the PTE back with A (and D) set instead of faulting.
// Svpbmt and Svnapot are not implemented, so PBMT/N/reserved bits nonzero raise a page fault.

import {
  ACC_FETCH, ACC_LOAD, ACC_STORE, CAUSE_FETCH_ACCESS, CAUSE_FETCH_PAGE_FAULT, CAUSE_LOAD_ACCESS, CAUSE_LOAD_PAGE_FAULT,
  CAUSE_STORE_ACCESS, CAUSE_STORE_PAGE_FAULT, MSTATUS_MXR, MSTATUS_SUM, PRV_S, PRV_U, SATP_MODE_SV39, type AccessType,
} from './csr-defs.js';
import type { GuestMemory } from '../../memory/guest-memory.js';
import type { Pmp } from './pmp.js';

export const PTE_V = 1, PTE_R = 2, PTE_W = 4, PTE_X = 8, PTE_U = 16, PTE_G = 32, PTE_A = 64, PTE_D = 128;

export const pageFaultCause = (acc: AccessType): number =>
  acc === ACC_FETCH ? CAUSE_FETCH_PAGE_FAULT : acc === ACC_LOAD ? CAUSE_LOAD_PAGE_FAULT : CAUSE_STORE_PAGE_FAULT;
export const accessFaultCause = (acc: AccessType): number =>
  acc === ACC_FETCH ? CAUSE_FETCH_ACCESS : acc === ACC_LOAD ? CAUSE_LOAD_ACCESS : CAUSE_STORE_ACCESS;

/** The hart state a walk needs, and where it leaves its results (no allocation per walk). */
export interface WalkContext {
  /** Where RAM is (base, size, contains); its bytes are read through ramView. */
  readonly ram: GuestMemory;
  /** The hart's own view of RAM (ram-views.ts); offsets are paddr - ram.base. */
  readonly ramView: DataView;
  readonly pmp: Pmp;
  satpMode: number;
  satpRoot: number;
  mstatus: number;
  /** Set by walk(): 1 when the mapping is global (G set on the leaf or any pointer above it). */
  walkGlobal: number;
  /** Set by walk(): first 4 KiB virtual page number covered by the leaf, and how many 4 KiB pages it spans. */
  walkSpBase: number;
  walkSpPages: number;
  fault(cause: number, tval: number): never;
  /** Called before the walk writes `size` bytes at RAM offset `off` (A/D update): drops decoded code there. */
  noteStore(off: number, size: number): void;
}

/** 4 KiB pages a leaf at level i spans (512^i), looked up: `2 ** (9 * i)` calls the host's pow on every walk. */
const SPAN = [1, 512, 512 * 512, 512 * 512 * 512];
/** Half of the virtual address space: 2^38 for Sv39, 2^47 for Sv48. */
const HALF_SV39 = 2 ** 38, HALF_SV48 = 2 ** 47;

/**
 * Translates `va` for an access of type `acc` at effective privilege `eff` (S or U) and returns the physical
 * address, or raises the page/access fault through ctx.fault (tval = va).
 */
export function walk(ctx: WalkContext, va: number, acc: AccessType, eff: number): number {
  const levels = ctx.satpMode === SATP_MODE_SV39 ? 3 : 4;
  const half = levels === 3 ? HALF_SV39 : HALF_SV48;
  if (va >= half || va < -half) ctx.fault(pageFaultCause(acc), va); // non-canonical
  const ram = ctx.ram, view = ctx.ramView;
  const vpn = Math.floor(va / 4096);
  let table = ctx.satpRoot;
  let global = 0;
  for (let i = levels - 1; i >= 0; i--) {
    const span = SPAN[i]!;
    const idx = Math.floor(vpn / span) & 511;
    const pteAddr = table + idx * 8;
    // guest-controlled: page-table entries are read from guest RAM; a PTE outside RAM is an access fault.
    if (!ram.contains(pteAddr, 8) || !ctx.pmp.check(pteAddr, 8, ACC_LOAD, PRV_S)) ctx.fault(accessFaultCause(acc), va);
    const off = pteAddr - ram.base;
    let lo = view.getUint32(off, true);
    const hi = view.getUint32(off + 4, true);
    if ((lo & PTE_V) === 0 || (lo & (PTE_R | PTE_W)) === PTE_W || (hi >>> 22) !== 0) ctx.fault(pageFaultCause(acc), va);
    const ppn = (lo >>> 10) + (hi & 0x3fffff) * 4194304;
    global |= (lo & PTE_G) !== 0 ? 1 : 0;
    if ((lo & (PTE_R | PTE_X)) === 0) {
      if (i === 0) ctx.fault(pageFaultCause(acc), va);
      table = ppn * 4096;
      continue;
    }
    // Leaf: privilege, then permission, then superpage alignment.
    const user = (lo & PTE_U) !== 0;
    if (eff === PRV_U ? !user : user && (acc === ACC_FETCH || (ctx.mstatus & MSTATUS_SUM) === 0)) {
      ctx.fault(pageFaultCause(acc), va);
    }
    const ok = acc === ACC_FETCH ? (lo & PTE_X) !== 0
      : acc === ACC_LOAD ? (lo & PTE_R) !== 0 || ((ctx.mstatus & MSTATUS_MXR) !== 0 && (lo & PTE_X) !== 0)
      : (lo & PTE_W) !== 0;
    if (!ok) ctx.fault(pageFaultCause(acc), va);
    if (ppn % span !== 0) ctx.fault(pageFaultCause(acc), va); // misaligned superpage
    const need = acc === ACC_STORE ? PTE_A | PTE_D : PTE_A;
    if ((lo & need) !== need) {
      if (!ctx.pmp.check(pteAddr, 8, ACC_STORE, PRV_S)) ctx.fault(accessFaultCause(acc), va);
      lo |= need;
      ctx.noteStore(off, 4);
      view.setUint32(off, lo, true);
    }
    const low = vpn - Math.floor(vpn / span) * span;
    ctx.walkGlobal = global;
    ctx.walkSpBase = vpn - low;
    ctx.walkSpPages = span;
    return (ppn + low) * 4096 + (va - vpn * 4096);
  }
  return ctx.fault(pageFaultCause(acc), va);
}
