// Sdtrig (RISC-V Debug Specification 1.0, chapter "Sdtrig"): one mcontrol6 address trigger with a breakpoint
// action. Sdtrig must provide at least one trigger (a hart with none leaves tselect unimplemented, and accessing
// it is illegal), so the smallest conforming answer to "tselect must not trap" is one real trigger:
//
// - tselect holds only 0 (WARL: any other value reads back 0, so enumeration stops after trigger 0);
// - tdata1 is mcontrol6 (type 6, the only type: tinfo = version 1, info = 1 << 6); writing 0 leaves it disabled.
//   Supported: select = 0 (address), size = 0 (any), action = 0 (breakpoint), chain = 0, match 0 (equal),
//   2 (>=, unsigned) and 3 (<, unsigned), the m/s/u enables, hit1:hit0 (set to 1 "before" when it fires).
//   Any other configuration reads back as the disabled trigger (type 6, every enable clear), as the spec's
//   "write any, read legal" rule allows;
// - tdata2 holds any 64-bit compare value exactly; tdata3 (textra64) is all zero (no extra conditions).
//
// The compare value is the lowest virtual address of the access (or the instruction's pc). Reentrancy is
// solved the spec's first way ("Native Triggers"): no match in M-mode while mstatus.MIE = 0, nor in S-mode
// while SIE = 0 when breakpoints are delegated. Priority (Sdtrig "Priority" table): an execute match fires
// before the fetch; a load/store match before the access's misaligned, page and access faults.
//
// Cost: nothing while disarmed. Armed for execute, the hart keeps `attn` set so every instruction is checked;
// armed for loads/stores, translate() stops filling the load/store TLB, so every access takes the slow path
// where the check sits.

import * as C from './csr-defs.js';
import type { CsrDef } from './csr.js';
import type { Hart } from './hart.js';

const TYPE_MCONTROL6 = 6n;
const DISABLED = TYPE_MCONTROL6 << 60n;
const TINFO = (1n << 24n) | (1n << TYPE_MCONTROL6);
// mcontrol6 fields.
const LOAD = 1n, STORE = 2n, EXECUTE = 4n, U = 8n, S = 16n, M = 64n;
const MATCH_SHIFT = 7n, MATCH_MASK = 0xfn;
const HIT0 = 1n << 22n, HIT1 = 1n << 25n;
/** Fields that must be zero for a configuration this trigger supports: dmode, uncertain, vs, vu, select, size, action, chain, uncertainen. */
const MUST_BE_ZERO = (1n << 59n) | (1n << 26n) | (1n << 24n) | (1n << 23n) | (1n << 21n) | (7n << 16n) | (0xfn << 12n) | (1n << 11n) | (1n << 5n);
const KEPT = HIT1 | HIT0 | (MATCH_MASK << MATCH_SHIFT) | M | S | U | EXECUTE | STORE | LOAD;

export class Trigger {
  /** tdata1 (mcontrol6) and tdata2, as unsigned 64-bit values. */
  tdata1 = DISABLED;
  tdata2 = 0n;
  /** Armed for execute / for loads or stores in at least one mode (the hart's fast paths look at these). */
  exec = false;
  ldst = false;

  reset(): void {
    this.tdata1 = DISABLED;
    this.tdata2 = 0n;
    this.exec = false;
    this.ldst = false;
  }

  // guest-controlled: any 64-bit value written by M-mode software.
  /** tdata1 WARL: a supported mcontrol6 configuration is kept, anything else becomes the disabled trigger. */
  writeTdata1(h: Hart, v: bigint): void {
    const match = (v >> MATCH_SHIFT) & MATCH_MASK;
    const ok = v >> 60n === TYPE_MCONTROL6 && (v & MUST_BE_ZERO) === 0n && (match === 0n || match === 2n || match === 3n);
    this.tdata1 = ok ? DISABLED | (v & KEPT) : DISABLED;
    this.rearm(h);
  }

  private rearm(h: Hart): void {
    const t = this.tdata1;
    const modes = (t & (M | S | U)) !== 0n;
    const ldst = modes && (t & (LOAD | STORE)) !== 0n;
    this.exec = modes && (t & EXECUTE) !== 0n;
    if (ldst !== this.ldst) {
      this.ldst = ldst;
      h.tlb.flush(); // armed: no load/store translation may stay cached (translate() adds none while armed)
    }
    h.attn = true; // the loop re-evaluates whether it must check every instruction
  }

  /** Whether the trigger may fire at the hart's current privilege (mode enables and the reentrancy rule). */
  private enabledNow(h: Hart): boolean {
    const t = this.tdata1;
    switch (h.priv) {
      case C.PRV_M: return (t & M) !== 0n && (h.mstatus & C.MSTATUS_MIE) !== 0;
      case C.PRV_S: return (t & S) !== 0n && ((h.medeleg & (1 << C.CAUSE_BREAKPOINT)) === 0 || (h.mstatus & C.MSTATUS_SIE) !== 0);
      default: return (t & U) !== 0n;
    }
  }

  private matches(addr: number): boolean {
    const a = BigInt.asUintN(64, BigInt(addr));
    switch ((this.tdata1 >> MATCH_SHIFT) & MATCH_MASK) {
      case 0n: return a === this.tdata2;
      case 2n: return a >= this.tdata2;
      default: return a < this.tdata2;
    }
  }

  private fire(h: Hart, addr: number): never {
    this.tdata1 = (this.tdata1 & ~(HIT1 | HIT0)) | HIT0; // hit = 1: before the instruction retired
    return h.fault(C.CAUSE_BREAKPOINT, addr);
  }

  /** Before fetching the instruction at `pc` (the hart calls this only while `exec`). */
  checkExec(h: Hart, pc: number): void {
    if (this.enabledNow(h) && this.matches(pc)) this.fire(h, pc);
  }

  /** Before a load (`store` false) or store of the access at `va` (the hart calls this only while `ldst`). */
  checkAccess(h: Hart, va: number, store: boolean): void {
    if ((this.tdata1 & (store ? STORE : LOAD)) !== 0n && this.enabledNow(h) && this.matches(va)) this.fire(h, va);
  }
}

/** The trigger CSRs as CSR-table rows (M-mode only by their numbers). */
export function triggerCsrs(): CsrDef[] {
  return [
    { num: C.CSR_TSELECT, name: 'tselect', read: () => 0n, write: () => {} }, // WARL: only trigger 0 exists
    { num: C.CSR_TDATA1, name: 'tdata1', read: (h) => h.trig.tdata1, write: (h, v) => h.trig.writeTdata1(h, v),
      reset: (h) => h.trig.reset() },
    { num: C.CSR_TDATA2, name: 'tdata2', read: (h) => h.trig.tdata2, write: (h, v) => { h.trig.tdata2 = v; } },
    { num: C.CSR_TDATA3, name: 'tdata3', read: () => 0n, write: () => {} }, // textra64: no extra match conditions
    { num: C.CSR_TINFO, name: 'tinfo', read: () => TINFO, write: () => {} }, // read-only fields
  ];
}
