// The hart's data accesses that miss the loop's inline fast paths: translation with permission and PMP checks
// that fills the TLB (privileged spec §4.3.2, §3.7; also used for fetches), MMIO, and misaligned accesses that
// cross a page.

import * as C from './csr-defs.js';
import type { Width } from '../../memory/bus.js';
import type { Hart } from './hart.js';
import { walk, accessFaultCause } from './mmu.js';

/** The 4 KiB base page (privileged spec §4.3). A local constant, not an import: V8 folds it into the code. */
const PAGE = 4096;
const INV_PAGE = 1 / 4096;
const TWO64 = 18446744073709551616;

/**
 * Translates and permission-checks one access of `size` bytes (wholly inside one page) and returns its physical
 * address; fills the TLB when the whole 4 KiB page is RAM and PMP-allowed.
 */
export function translate(h: Hart, va: number, acc: C.AccessType, size: number): number {
  const eff = acc === C.ACC_FETCH ? h.priv : h.lsPriv;
  let pa: number;
  if (eff === C.PRV_M || h.satpMode === C.SATP_MODE_BARE) {
    pa = va < 0 ? va + TWO64 : va;
    h.walkGlobal = 1;
    h.walkSpBase = Math.floor(va * INV_PAGE);
    h.walkSpPages = 1;
  } else {
    pa = walk(h, va, acc, eff);
  }
  if (!h.pmp.check(pa, size, acc, eff)) h.fault(accessFaultCause(acc), va);
  const ppage = pa - (pa % PAGE);
  const ram = h.ram;
  // Not cached: MMIO, pages PMP splits, and loads/stores while a trigger watches them (trigger.ts).
  if (ppage >= ram.base && ppage + PAGE <= ram.base + ram.size && h.pmp.check(ppage, PAGE, acc, eff) &&
    (acc === C.ACC_FETCH || !h.trig.ldst)) {
    h.tlb.fill(acc === C.ACC_FETCH ? h.fetchCtx : h.ldCtx, acc, Math.floor(va * INV_PAGE), ppage - ram.base, h.walkGlobal, h.walkSpBase, h.walkSpPages);
  }
  return pa;
}

/** Uncached load: MMIO, page-crossing misaligned RAM access, or a TLB miss. Returns raw bits. */
export function loadSlow(h: Hart, va: number, size: number): bigint {
  if (h.trig.ldst) h.trig.checkAccess(h, va, false);
  const ram = h.ram, u8 = h.ramU8;
  const po = va - Math.floor(va * INV_PAGE) * PAGE;
  if (po + size > PAGE) {
    const n1 = PAGE - po;
    const pa1 = translate(h, va, C.ACC_LOAD, n1);
    const pa2 = translate(h, va + n1, C.ACC_LOAD, size - n1);
    if (!ram.contains(pa1, n1) || !ram.contains(pa2, size - n1)) h.fault(C.CAUSE_LOAD_ACCESS, va);
    let v = 0n;
    for (let k = size - 1; k >= 0; k--) {
      const b = k < n1 ? u8[pa1 - ram.base + k]! : u8[pa2 - ram.base + k - n1]!;
      v = (v << 8n) | BigInt(b);
    }
    return v;
  }
  const pa = translate(h, va, C.ACC_LOAD, size);
  if (ram.contains(pa, size)) {
    const o = pa - ram.base, view = h.ramView;
    return size === 1 ? BigInt(view.getUint8(o)) : size === 2 ? BigInt(view.getUint16(o, true))
      : size === 4 ? BigInt(view.getUint32(o, true)) : view.getBigUint64(o, true);
  }
  if (pa % size !== 0) h.fault(C.CAUSE_LOAD_ACCESS, va);
  // guest-controlled: a device register read on behalf of the guest; happens once per instruction.
  const r = h.bus.mmioRead(pa, size as Width);
  if (r === null) h.fault(C.CAUSE_LOAD_ACCESS, va);
  return typeof r === 'bigint' ? r : BigInt(r);
}

/** Uncached store; `v` holds the raw bits (only the low `size` bytes are used). */
export function storeSlow(h: Hart, va: number, size: number, v: bigint): void {
  if (h.trig.ldst) h.trig.checkAccess(h, va, true);
  const ram = h.ram, u8 = h.ramU8, dcache = h.dcache;
  const po = va - Math.floor(va * INV_PAGE) * PAGE;
  v = BigInt.asUintN(size * 8, v);
  if (po + size > PAGE) {
    const n1 = PAGE - po;
    const pa1 = translate(h, va, C.ACC_STORE, n1);
    const pa2 = translate(h, va + n1, C.ACC_STORE, size - n1);
    if (!ram.contains(pa1, n1) || !ram.contains(pa2, size - n1)) h.fault(C.CAUSE_STORE_ACCESS, va);
    dcache.noteStore(pa1 - ram.base, n1);
    dcache.noteStore(pa2 - ram.base, size - n1);
    for (let k = 0; k < size; k++) {
      const b = Number((v >> BigInt(k * 8)) & 0xffn);
      if (k < n1) u8[pa1 - ram.base + k] = b; else u8[pa2 - ram.base + k - n1] = b;
    }
    return;
  }
  const pa = translate(h, va, C.ACC_STORE, size);
  if (ram.contains(pa, size)) {
    const o = pa - ram.base, view = h.ramView;
    dcache.noteStore(o, size);
    if (size === 1) view.setUint8(o, Number(v));
    else if (size === 2) view.setUint16(o, Number(v), true);
    else if (size === 4) view.setUint32(o, Number(v), true);
    else view.setBigUint64(o, v, true);
    return;
  }
  if (pa % size !== 0) h.fault(C.CAUSE_STORE_ACCESS, va);
  // guest-controlled: a device register write on behalf of the guest; happens once per instruction.
  if (!h.bus.mmioWrite(pa, size as Width, size === 8 ? v : Number(v))) h.fault(C.CAUSE_STORE_ACCESS, va);
}
