// Physical memory protection: pmpcfg0..15 / pmpaddr0..63 with OFF/TOR/NA4/NAPOT and the lock bit
// (RISC-V privileged spec §3.7). Granularity is 4 bytes. Ranges are decoded once per CSR write, so a
// check is a scan over the active entries only. The hart consults PMP when it fills its translation
// caches and on every uncached access, and flushes those caches whenever PMP changes.
//
// Deviation, as QEMU does: while no entry is active (all A=OFF) PMP restricts nothing, so a VMM that starts
// a kernel directly in S-mode needs no firmware to open memory first. Once any entry is active the
// spec's rule applies: an S/U access that matches no entry fails.

import { PRV_M, type AccessType } from './csr-defs.js';

export const PMP_R = 1, PMP_W = 2, PMP_X = 4, PMP_A = 0x18, PMP_L = 0x80;
const A_OFF = 0, A_TOR = 1, A_NA4 = 2, A_NAPOT = 3;
export const PMP_ENTRIES = 64;

export class Pmp {
  readonly cfg = new Uint8Array(PMP_ENTRIES);
  readonly addr = new BigUint64Array(PMP_ENTRIES);
  /** Decoded byte ranges [lo, hi) per entry; hi <= lo for OFF entries. */
  private readonly lo = new Float64Array(PMP_ENTRIES);
  private readonly hi = new Float64Array(PMP_ENTRIES);
  /** One past the highest active entry; 0 when PMP is inactive. */
  active = 0;

  reset(): void {
    this.cfg.fill(0);
    this.addr.fill(0n);
    this.decode();
  }

  /** pmpcfgN (N even on RV64) packs entries 4N..4N+7. Returns false for odd N (illegal on RV64). */
  readCfg(n: number): bigint | null {
    if ((n & 1) !== 0) return null;
    let v = 0n;
    for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(this.cfg[n * 4 + i]!);
    return v;
  }

  writeCfg(n: number, v: bigint): boolean {
    if ((n & 1) !== 0) return false;
    for (let i = 0; i < 8; i++) {
      const e = n * 4 + i;
      if ((this.cfg[e]! & PMP_L) !== 0) continue;
      let b = Number((v >> BigInt(i * 8)) & 0xffn) & 0x9f;
      if ((b & (PMP_R | PMP_W)) === PMP_W) b &= ~PMP_W; // W without R is reserved: keep it off
      this.cfg[e] = b;
    }
    this.decode();
    return true;
  }

  readAddr(i: number): bigint { return this.addr[i]!; }

  writeAddr(i: number, v: bigint): void {
    if ((this.cfg[i]! & PMP_L) !== 0) return;
    const next = this.cfg[i + 1];
    if (next !== undefined && (next & PMP_L) !== 0 && ((next & PMP_A) >> 3) === A_TOR) return;
    this.addr[i] = v & ((1n << 54n) - 1n);
    this.decode();
  }

  private decode(): void {
    this.active = 0;
    for (let i = 0; i < PMP_ENTRIES; i++) {
      const c = this.cfg[i]!, a = (c & PMP_A) >> 3, ad = this.addr[i]!;
      let lo = 0, hi = 0;
      if (a === A_TOR) {
        lo = i === 0 ? 0 : Number(this.addr[i - 1]! << 2n);
        hi = Number(ad << 2n);
      } else if (a === A_NA4) {
        lo = Number(ad << 2n); hi = lo + 4;
      } else if (a === A_NAPOT) {
        let t = 0n;
        while (t < 54n && ((ad >> t) & 1n) === 1n) t++;
        const size = 1n << (t + 3n);
        const base = (ad << 2n) & ~(size - 1n);
        lo = Number(base); hi = Number(base + size);
      }
      this.lo[i] = lo; this.hi[i] = hi;
      if (a !== A_OFF) this.active = i + 1;
    }
  }

  /**
   * Whether an access of `len` bytes at physical `paddr` is allowed for privilege `priv`.
   * The lowest-numbered entry that overlaps decides; a partial overlap fails.
   */
  check(paddr: number, len: number, acc: AccessType, priv: number): boolean {
    const n = this.active;
    if (n === 0) return true;
    const end = paddr + len;
    for (let i = 0; i < n; i++) {
      const lo = this.lo[i]!, hi = this.hi[i]!;
      if (hi <= lo || end <= lo || paddr >= hi) continue;
      if (paddr < lo || end > hi) return false;
      const c = this.cfg[i]!;
      if (priv === PRV_M && (c & PMP_L) === 0) return true;
      const need = acc === 0 ? PMP_X : acc === 1 ? PMP_R : PMP_W;
      return (c & need) !== 0;
    }
    return priv === PRV_M;
  }
}
