// RV64A (unprivileged spec §8 "A" Extension): LR/SC with a one-address reservation, and the AMOs. A misaligned
// address raises the misaligned fault (Zam is not implemented); every AMO is a store for translation and
// needs load permission from PMP too.

import * as C from './csr-defs.js';
import type { Hart } from './hart.js';
import { translate } from './access.js';

const TWO32 = 4294967296;

export function amo(h: Hart, insn: number, raw: number): void {
  const f3 = (insn >>> 12) & 7, f5 = insn >>> 27, rd = (insn >>> 7) & 31, rs1 = (insn >>> 15) & 31, rs2 = (insn >>> 20) & 31;
  if (f3 !== 2 && f3 !== 3) h.illegal(raw);
  const size = f3 === 2 ? 4 : 8;
  const x = h.x, x32 = h.x32, ram = h.ram, view = h.ramView;
  const va = x32[rs1 * 2 + 1]! * TWO32 + (x32[rs1 * 2]! >>> 0);
  const misaligned = (x32[rs1 * 2]! & (size - 1)) !== 0; // from the low word: exact even where va rounds
  if (f5 === 0x02) { // LR
    if (rs2 !== 0) h.illegal(raw);
    if (h.trig.ldst) h.trig.checkAccess(h, va, false);
    if (misaligned) h.fault(C.CAUSE_MISALIGNED_LOAD, va);
    const pa = translate(h, va, C.ACC_LOAD, size);
    if (!ram.contains(pa, size)) h.fault(C.CAUSE_LOAD_ACCESS, va);
    const o = pa - ram.base;
    const v = size === 4 ? BigInt(view.getInt32(o, true)) : view.getBigInt64(o, true);
    x[rd] = v;
    h.resValid = true;
    h.resAddr = pa;
    h.resSize = size;
    h.resValue = v;
    return;
  }
  if (f5 !== 0x03 && f5 !== 0x01 && f5 !== 0x00 && f5 !== 0x04 && f5 !== 0x0c && f5 !== 0x08 &&
    f5 !== 0x10 && f5 !== 0x14 && f5 !== 0x18 && f5 !== 0x1c) h.illegal(raw);
  if (h.trig.ldst) { // an SC is a store; an AMO reads, then writes (Sdtrig "A Extension")
    if (f5 !== 0x03) h.trig.checkAccess(h, va, false);
    h.trig.checkAccess(h, va, true);
  }
  if (misaligned) h.fault(C.CAUSE_MISALIGNED_STORE, va);
  const pa = translate(h, va, C.ACC_STORE, size);
  if (!ram.contains(pa, size) || !h.pmp.check(pa, size, C.ACC_LOAD, h.lsPriv)) h.fault(C.CAUSE_STORE_ACCESS, va);
  const o = pa - ram.base;
  h.dcache.noteStore(o, size);
  if (f5 === 0x03) { // SC
    const ok = h.resValid && h.resAddr === pa && h.resSize === size &&
      h.resValue === (size === 4 ? BigInt(view.getInt32(o, true)) : view.getBigInt64(o, true));
    h.resValid = false;
    if (ok) {
      if (size === 4) view.setInt32(o, x32[rs2 * 2]!, true); else view.setBigInt64(o, x[rs2]!, true);
    }
    x[rd] = ok ? 0n : 1n;
    return;
  }
  if (size === 4) {
    const a = view.getInt32(o, true), b = x32[rs2 * 2]!;
    let r: number;
    switch (f5) {
      case 0x01: r = b; break;
      case 0x00: r = (a + b) | 0; break;
      case 0x04: r = a ^ b; break;
      case 0x0c: r = a & b; break;
      case 0x08: r = a | b; break;
      case 0x10: r = a < b ? a : b; break;
      case 0x14: r = a > b ? a : b; break;
      case 0x18: r = (a >>> 0) < (b >>> 0) ? a : b; break;
      default: r = (a >>> 0) > (b >>> 0) ? a : b; break;
    }
    view.setInt32(o, r, true);
    x[rd] = BigInt(a);
  } else {
    const a = view.getBigInt64(o, true), b = x[rs2]!;
    let r: bigint;
    switch (f5) {
      case 0x01: r = b; break;
      case 0x00: r = a + b; break;
      case 0x04: r = a ^ b; break;
      case 0x0c: r = a & b; break;
      case 0x08: r = a | b; break;
      case 0x10: r = a < b ? a : b; break;
      case 0x14: r = a > b ? a : b; break;
      case 0x18: r = BigInt.asUintN(64, a) < BigInt.asUintN(64, b) ? a : b; break;
      default: r = BigInt.asUintN(64, a) > BigInt.asUintN(64, b) ? a : b; break;
    }
    view.setBigInt64(o, BigInt.asIntN(64, r), true);
    x[rd] = a;
  }
}
