// What translated code calls (translate.ts): the interpreter's helpers for AMOs, F/D and SYSTEM instructions
// (amo.ts, fp-insn.ts, system.ts) and the wide M-extension operations (muldiv.ts), wrapped so that generated code
// passes and receives numbers only and never sees an exception: a wrapper that catches the hart's trap returns
// false (NaN for system), the cause stays recorded on the hart, and the block leaves naming that instruction.

import type { Hart } from '../hart.js';
import { amo as amoInsn } from '../amo.js';
import { fpMem as fpMemInsn, fpOp as fpOpInsn } from '../fp-insn.js';
import { system as systemInsn } from '../system.js';
import { mulDiv64, mulhu32 } from '../muldiv.js';
import { translate } from '../access.js';
import { ACC_LOAD, ACC_STORE } from '../csr-defs.js';

/** Scratch for mulDiv64: s1 at [0..1], s2 at [2..3], the result at [4..5]. */
const s32 = new Int32Array(6);
const s64 = new BigInt64Array(s32.buffer);

/** The hart's trap object (hart.ts TRAP: `{ trap: true }`); anything else is a real error and propagates. */
const isTrap = (e: unknown): boolean => e !== null && typeof e === 'object' && (e as { trap?: unknown }).trap === true;

function amo(h: Hart, insn: number, raw: number): boolean {
  try { amoInsn(h, insn, raw); return true; } catch (e) { if (isTrap(e)) return false; throw e; }
}

function fpMem(h: Hart, insn: number, raw: number): boolean {
  try { fpMemInsn(h, insn, raw); return true; } catch (e) { if (isTrap(e)) return false; throw e; }
}

function fpOp(h: Hart, insn: number, raw: number): boolean {
  try { fpOpInsn(h, insn, raw); return true; } catch (e) { if (isTrap(e)) return false; throw e; }
}

/** SYSTEM with hart.pc and instret in sync: the next pc, or NaN after an exception. */
function system(h: Hart, insn: number, raw: number, pc: number, npc: number): number {
  try { return systemInsn(h, insn, raw, pc, npc); } catch (e) { if (isTrap(e)) return NaN; throw e; }
}

/**
 * A load or store TLB miss in translated code: the page walk (A/D updates, PMP) as the interpreter's slow path
 * would do it, filling the TLB; the RAM offset when the access is to RAM within one page, else -1 and the
 * interpreter does the access (MMIO, a page-crossing access, or a fault, which it raises again the same way).
 */
function fill(h: Hart, va: number, size: number, store: boolean): number {
  const po = va - Math.floor(va / 4096) * 4096;
  if (po + size > 4096 || h.trig.ldst) return -1;
  try {
    const pa = translate(h, va, store ? ACC_STORE : ACC_LOAD, size);
    return h.ram.contains(pa, size) ? pa - h.ram.base : -1;
  } catch (e) {
    if (isTrap(e)) return -1;
    throw e;
  }
}
const loadFill = (h: Hart, va: number, size: number): number => fill(h, va, size, false);
const storeFill = (h: Hart, va: number, size: number): number => fill(h, va, size, true);

/** A translated store at RAM offset `o` hit a page holding decoded code: drop what it overlaps; true if that included `block`. */
function codeStore(h: Hart, o: number, size: number, block: { valid: boolean }): boolean {
  h.dcache.codeStore(o, size);
  return !block.valid;
}

/** 64-bit M-extension operation `f3` (1..7) on register halves: result in s32[4], s32[5]. */
function mulDiv(al: number, ah: number, bl: number, bh: number, f3: number): void {
  s32[0] = al; s32[1] = ah; s32[2] = bl; s32[3] = bh;
  mulDiv64(s32, s64, 4, 0, 2, f3);
}

export const HELPERS = { loadFill, storeFill, codeStore, amo, fpMem, fpOp, system, mulhu32, mulDiv, s32 };
export type Helpers = typeof HELPERS;
