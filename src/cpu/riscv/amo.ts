// RV64A (unprivileged spec §8 "A" Extension): LR/SC with a one-address reservation, and the AMOs. A misaligned
// address raises the misaligned fault (Zam is not implemented); every AMO is a store for translation and
// needs load permission from PMP too.

import * as C from './csr-defs.js';
import type { Hart } from './hart.js';
import { translate } from './access.js';

const TWO32 = 4294967296;

/**
 * The RAM offset of an AMO/SC at `va` when the TLB holds its page for both stores and loads at the same place
 * (so the page is RAM, writable, dirty, and PMP allows both: what translate() and the checks below would find),
 * else -1. Saves a page walk per atomic: the kernel's locks and counters are ~300 k AMOs per boot.
 */
function amoOff(h: Hart, va: number, size: number): number {
  const o = h.sOff(va, size);
  return o >= 0 && h.lOff(va, size) === o ? o : -1;
}

export function amo(h: Hart, insn: number, raw: number): void {
  const f3 = (insn >>> 12) & 7, f5 = insn >>> 27, rd = (insn >>> 7) & 31, rs1 = (insn >>> 15) & 31, rs2 = (insn >>> 20) & 31;
  if (f3 !== 2 && f3 !== 3) h.illegal(raw);
  const size = f3 === 2 ? 4 : 8;
  const x32 = h.x32, ram = h.ram, view = h.ramView;
  const va = x32[rs1 * 2 + 1]! * TWO32 + (x32[rs1 * 2]! >>> 0);
  const misaligned = (x32[rs1 * 2]! & (size - 1)) !== 0; // from the low word: exact even where va rounds
  const d = rd * 2;
  if (f5 === 0x02) { // LR
    if (rs2 !== 0) h.illegal(raw);
    if (h.trig.ldst) h.trig.checkAccess(h, va, false);
    if (misaligned) h.fault(C.CAUSE_MISALIGNED_LOAD, va);
    let o = h.lOff(va, size);
    if (o < 0) {
      const pa = translate(h, va, C.ACC_LOAD, size);
      if (!ram.contains(pa, size)) h.fault(C.CAUSE_LOAD_ACCESS, va);
      o = pa - ram.base;
    }
    const lo = view.getInt32(o, true), hi = size === 4 ? lo >> 31 : view.getInt32(o + 4, true);
    x32[d] = lo; x32[d + 1] = hi;
    h.resValid = true;
    h.resAddr = o + ram.base;
    h.resSize = size;
    h.resLo = lo; h.resHi = hi;
    return;
  }
  if (f5 !== 0x03 && f5 !== 0x01 && f5 !== 0x00 && f5 !== 0x04 && f5 !== 0x0c && f5 !== 0x08 &&
    f5 !== 0x10 && f5 !== 0x14 && f5 !== 0x18 && f5 !== 0x1c) h.illegal(raw);
  if (h.trig.ldst) { // an SC is a store; an AMO reads, then writes (Sdtrig "A Extension")
    if (f5 !== 0x03) h.trig.checkAccess(h, va, false);
    h.trig.checkAccess(h, va, true);
  }
  if (misaligned) h.fault(C.CAUSE_MISALIGNED_STORE, va);
  let o = amoOff(h, va, size);
  if (o < 0) {
    const pa = translate(h, va, C.ACC_STORE, size);
    if (!ram.contains(pa, size) || !h.pmp.check(pa, size, C.ACC_LOAD, h.lsPriv)) h.fault(C.CAUSE_STORE_ACCESS, va);
    o = pa - ram.base;
  }
  h.dcache.noteStore(o, size);
  const al = view.getInt32(o, true), ah = size === 4 ? al >> 31 : view.getInt32(o + 4, true);
  const bl = x32[rs2 * 2]!, bh = size === 4 ? bl >> 31 : x32[rs2 * 2 + 1]!;
  if (f5 === 0x03) { // SC
    const ok = h.resValid && h.resAddr === o + ram.base && h.resSize === size && h.resLo === al && h.resHi === ah;
    h.resValid = false;
    if (ok) {
      view.setInt32(o, bl, true);
      if (size === 8) view.setInt32(o + 4, bh, true);
    }
    x32[d] = ok ? 0 : 1; x32[d + 1] = 0;
    return;
  }
  // The result as halves (for a word the high half is only the sign: ignored by the store, and right for min/max).
  let rl: number, rh: number;
  switch (f5) {
    case 0x01: rl = bl; rh = bh; break;
    case 0x00: { const s = (al >>> 0) + (bl >>> 0); rl = s | 0; rh = (ah + bh + (s >= TWO32 ? 1 : 0)) | 0; break; }
    case 0x04: rl = al ^ bl; rh = ah ^ bh; break;
    case 0x0c: rl = al & bl; rh = ah & bh; break;
    case 0x08: rl = al | bl; rh = ah | bh; break;
    default: { // MIN, MAX (signed), MINU, MAXU: compare the high halves (signed or not), then the low ones unsigned
      const hiLess = f5 === 0x10 || f5 === 0x14 ? ah < bh : (ah >>> 0) < (bh >>> 0);
      const aLess = hiLess || (ah === bh && (al >>> 0) < (bl >>> 0));
      const takeA = f5 === 0x10 || f5 === 0x18 ? aLess : !aLess;
      rl = takeA ? al : bl; rh = takeA ? ah : bh;
      break;
    }
  }
  view.setInt32(o, rl, true);
  if (size === 8) view.setInt32(o + 4, rh, true);
  x32[d] = al; x32[d + 1] = ah;
}
