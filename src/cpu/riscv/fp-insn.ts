// The hart side of F/D (unprivileged spec §13-§14): FLW/FLD/FSW/FSD through the TLB, the mstatus.FS gate
// (§13.1: FS = Off makes every F/D instruction illegal; executing one marks FS dirty) and hand-off of OP-FP
// and the fused multiply-adds to the Fpu.

import * as C from './csr-defs.js';
import type { Hart } from './hart.js';
import { boxF32 } from './fpu.js';
import { loadSlow, storeSlow } from './access.js';

const TWO32 = 4294967296;

/** The hart may hold an Fpu without exec (register file only); h.fpuOk says whether exec exists. */
type FpuExec = { exec?: (insn: number, x: BigInt64Array) => boolean };

function fpCheck(h: Hart, raw: number): void {
  if (!h.fpuOk || (h.mstatus & C.MSTATUS_FS) === 0) h.illegal(raw);
}

/** LOAD-FP / STORE-FP (FLW, FLD, FSW, FSD). */
export function fpMem(h: Hart, insn: number, raw: number): void {
  const f3 = (insn >>> 12) & 7, x32 = h.x32, view = h.ramView;
  if (f3 !== 2 && f3 !== 3) h.illegal(raw);
  fpCheck(h, raw);
  const s1 = ((insn >>> 15) & 31) << 1;
  if ((insn & 0x7f) === 0x07) {
    const rd = (insn >>> 7) & 31;
    const va = x32[s1 | 1]! * TWO32 + (x32[s1]! >>> 0) + (insn >> 20);
    if (f3 === 2) {
      const o = h.lOff(va, 4);
      h.fpu.f[rd] = boxF32(o >= 0 ? view.getUint32(o, true) : Number(loadSlow(h, va, 4)));
    } else {
      const o = h.lOff(va, 8);
      h.fpu.f[rd] = o >= 0 ? view.getBigUint64(o, true) : loadSlow(h, va, 8);
    }
    h.mstatus |= C.MSTATUS_FS;
    return;
  }
  const va = x32[s1 | 1]! * TWO32 + (x32[s1]! >>> 0) + (((insn >> 25) << 5) | ((insn >>> 7) & 31));
  const v = h.fpu.f[(insn >>> 20) & 31]!;
  const o = h.sOff(va, f3 === 2 ? 4 : 8);
  if (o < 0) { storeSlow(h, va, f3 === 2 ? 4 : 8, v); return; }
  h.dcache.noteStore(o, f3 === 2 ? 4 : 8);
  if (f3 === 2) view.setUint32(o, Number(v & 0xffffffffn), true); else view.setBigUint64(o, v, true);
}

/** OP-FP and the fused multiply-adds, executed by the Fpu. */
export function fpOp(h: Hart, insn: number, raw: number): void {
  fpCheck(h, raw);
  if (!(h.fpu as FpuExec).exec!(insn, h.x)) h.illegal(raw);
  h.mstatus |= C.MSTATUS_FS;
}
