// The RISC-V hart: RV64IMAC + Zicsr/Zifencei/Zicntr/Zihintpause, M/S/U privilege, Sv39/Sv48, Sstc, SBI seam
// (RISC-V unprivileged spec §2-§9, §16; privileged spec §3-§4). This file holds the hart's state, its public
// API and the interpreter loop; the rest lives beside it: csr.ts + csr-standard.ts (the CSR table), traps.ts,
// system.ts (SYSTEM opcode, Zicsr), access.ts (TLB fill, MMIO, page-crossing data), tlb.ts, decode-cache.ts, amo.ts,
// fp-insn.ts (F/D glue; arithmetic is the Fpu's).
//
// Hot-path design: registers live in a BigInt64Array with an Int32Array view over the same buffer, so most
// integer operations, addresses and branches are done on 32-bit halves without bigint work. Memory goes
// through small direct-mapped translation caches (tlb.ts) that map a 4 KiB virtual page to a RAM offset, read
// inline by the loop; instructions come from a decoded-instruction cache per physical page (decode-cache.ts).
// Traps are raised by throwing one preallocated object that the loop catches.

import type { Bus } from '../../memory/bus.js';
import { CODE_LINE, type GuestMemory } from '../../memory/guest-memory.js';
import type { Metrics } from '../../metrics/counters.js';
import type { HartIrq } from '../../board/irq.js';
import type { SbiCaller, SbiHandler } from './sbi-types.js';
import { Fpu } from './fpu.js';
import * as C from './csr-defs.js';
import { CsrTable, type CsrDef } from './csr.js';
import { standardCsrs } from './csr-standard.js';
import type { WalkContext } from './mmu.js';
import { Pmp } from './pmp.js';
import { RVC_TABLE } from './rvc.js';
import { mulDiv64 } from './muldiv.js';
import { ramViews } from './ram-views.js';
import * as TLB from './tlb.js';
import { DecodeCache } from './decode-cache.js';
import { loadSlow, storeSlow, translate } from './access.js';
import { pendingInterrupt, takeTrap } from './traps.js';
import { system } from './system.js';
import { amo } from './amo.js';
import { fpMem, fpOp } from './fp-insn.js';
import { Trigger } from './trigger.js';
import type { WasmInterp } from './jit/wasm-interp.js';
import { settleFields } from '../../util/settle-fields.js';

export interface HartEnv {
  bus: Bus;
  metrics: Metrics;
  /** The `time` CSR / Sstc comparator value: called with this hart's minstret so deterministic clocks advance per instruction. */
  readTime(instret: number): number;
  /** null: ecall from S traps normally (firmware or bare-metal mode). */
  sbi: SbiHandler | null;
}

/** BlockTranslator.enter's results. */
export const ENTER_RAN = 0, ENTER_FAULT = 1, ENTER_DECLINED = 2;

/** The one object thrown to unwind an instruction that raised an exception; the cause is on the hart. */
const TRAP: { readonly trap: true } = Object.freeze({ trap: true });

const TWO32 = 4294967296;
/** wasm-interp.ts WI_BUDGET, WI_SAMPLE, WI_IRQ, WI_HOT, WI_STALE and the scratch indexes of mstatus, the privilege and S-interrupts pending (local copies: see below). */
const WI_BUDGET = 0, WI_SAMPLE = 2, WI_IRQ = 3, WI_HOT = 4, WI_STALE = 5, WI_MSTATUS = 5, WI_PRIV = 6, WI_SIRQ = 8;
// Local constants, not imports: V8 does not constant-fold imported bindings, and the loop uses these per
// instruction (with them imported from tlb.ts the memcpy bench lost ~8%). The 4 KiB base page is §4.3's.
const PAGE = 4096;
const INV_PAGE = 1 / 4096;
const TLB_SETS = 4096;
if (TLB_SETS !== TLB.TLB_SETS) throw new Error('hart.ts and tlb.ts disagree on the number of TLB sets');
/** How often (in instructions) run() re-evaluates the timer comparators. */
const TIMER_CHECK_MASK = 1023;
/** mip bits software may set (mip WARL, §3.1.9): SSIP, STIP (only without Sstc) and SEIP. */
const MIP_SW_BITS = C.MIP_SSIP | C.MIP_STIP | C.MIP_SEIP | C.MIP_PVI;

type FpuExec = { exec?: (insn: number, x: BigInt64Array) => boolean };

/**
 * What the loop needs from a block translator (jit/engine.ts). The translator marks the first instruction of each
 * translated block in the decoded-instruction cache with an entry of major opcode 31 (bits [6:0] = 0x7f, a
 * reserved >= 80-bit encoding), so the interpreter pays nothing for it: such an entry reaches `enter` through the
 * switch. `sample` sees the pc once per timer check (every 1024 instructions) to find hot code.
 */
export interface BlockTranslator {
  /**
   * Runs the translation whose marker is at h.pc (pc and instret in sync), and whatever it chains to, without
   * passing instret `stop` (the next timer check, or `limit`, the end of the slice); it may run on past a timer
   * check up to `limit` when that check would change nothing (no timer due), since the loop only checks at
   * multiples of 1024 and a skipped no-op check is unobservable. Returns ENTER_RAN (pc and instret are in the
   * hart: at least one instruction retired),
   * ENTER_FAULT (pc and instret name the faulting instruction, the cause is recorded) or ENTER_DECLINED (nothing
   * ran; the instruction's own entry is back in the decode cache, for the interpreter). Raises illegal
   * instruction itself when the entry is not one of its markers (a guest instruction with those bits).
   */
  enter(h: Hart, stop: number, limit: number): number;
  sample(h: Hart, pc: number): void;
  /** Translated blocks keep stopping at `pc` for want of a block there (wasm-gen.ts HOT): one may be made now. */
  hotTarget(h: Hart, pc: number): void;
  /** A sample from the WebAssembly tier, which takes one per its own SAMPLE_EVERY instructions (wasm-interp.ts). */
  tierSample(h: Hart, pc: number): void;
  /**
   * The instret up to which code that cannot touch the timers may run from a timer check at `stop - 1024`: the first
   * of the checks at stop, stop + 1024, ... before `limit` that would change something (or `limit`), or `stop`
   * itself when every check must happen (a profiler samples at each).
   */
  quietUntil(h: Hart, stop: number, limit: number): number;
  /** Whether what the last quietUntil found still holds at instret `at`: no timer, STIP or charge has changed since. */
  stillQuiet(h: Hart, at: number): boolean;
  /**
   * The WebAssembly tier left the instruction at `pc` (an F/D one) to the interpreter, whose fetch page holds it:
   * where that happens often, a block (which does F/D) should start.
   */
  left(h: Hart, pc: number): void;
}

export class Hart implements HartIrq, SbiCaller, WalkContext {
  /**
   * Integer registers (never replaced: x32 aliases its buffer). In RAM's VMM area when RAM is a WebAssembly memory
   * (translated wasm code reads and writes them there), else in a buffer of their own.
   */
  readonly x: BigInt64Array;
  /** The same registers as 32-bit halves: x32[2r] is the low word of x[r], x32[2r+1] the high word. */
  readonly x32: Int32Array;
  pc = 0;
  priv: 0 | 1 | 3 = 3;
  instret = 0;
  waiting = false;
  stopped = false;
  fpu: Fpu = new Fpu();

  readonly env: HartEnv;
  readonly bus: Bus;
  readonly ram: GuestMemory;
  readonly pmp = new Pmp();
  readonly metrics: Metrics;
  /** @internal The Sdtrig trigger (trigger.ts). */
  readonly trig = new Trigger();

  // ---- Internal state ----
  // Everything marked @internal below is the hart's own state, shared only with the files of this hart
  // (csr-standard.ts, traps.ts, system.ts, access.ts, amo.ts, fp-insn.ts, mmu.ts). It stays a plain field rather
  // than TS `private` because those free functions take the hart, and rather than a sub-object because the loop
  // and the trap paths read it per instruction. Code outside src/cpu/riscv uses the public API above and below
  // (readCsr/writeCsr, setPending, injectPending, registerCsr, ...), never these.

  /** @internal This hart's CSR table; extensions add rows with registerCsr(). */
  readonly csrs = new CsrTable();
  /** @internal */ mstatus = 0;
  /** @internal */ medeleg = 0;
  /** @internal */ mideleg = 0;
  /** @internal */ mie = 0;
  /** @internal Software-writable pending bits (SSIP, STIP without Sstc, SEIP): mip/sip writes and injectPending(). */
  mipSw = 0;
  /** @internal Lines driven from outside via setPending. */
  mipLines = 0;
  /** @internal STIP as driven by stimecmp (Sstc) or the SBI timer. */
  stipTimer = false;
  /** @internal */ mtvecBase = 0;
  /** @internal */ mtvecMode = 0;
  /** @internal */ stvecBase = 0;
  /** @internal */ stvecMode = 0;
  /** @internal */ mepc = 0;
  /** @internal */ sepc = 0;
  /** @internal */ mcause = 0n;
  /** @internal */ scause = 0n;
  /** @internal */ mtval = 0n;
  /** @internal */ stval = 0n;
  /** @internal */ mscratch = 0n;
  /** @internal */ sscratch = 0n;
  /** @internal */ mcounteren = 0;
  /** @internal */ scounteren = 0;
  /** @internal */ mcountinhibit = 0;
  /** @internal */ menvcfg = 0n;
  /** @internal */ senvcfg = 0n;
  /** @internal menvcfg.STCE as a boolean (kept in step by its CSR row), so interrupt checks do no bigint work. */
  stce = false;
  /** @internal */ stimecmp = (1n << 64n) - 1n;
  /** @internal */ stimecmpNum = Infinity;
  /** @internal */ sbiTimer = Infinity;
  /** @internal mcycle/minstret minus instret (they are writable; instret is the retirement count). */
  cycleDelta = 0;
  /** @internal */ instretDelta = 0;
  /** @internal */ satp = 0n;
  /** @internal */ satpMode = 0;
  /** @internal */ satpRoot = 0;
  /** @internal */ satpAsid = 0;
  /** @internal Whether this.fpu can execute F/D instructions (has exec). */
  fpuOk: boolean;

  /** @internal Walk outputs (WalkContext). */
  walkGlobal = 0;
  /** @internal */ walkSpBase = 0;
  /** @internal */ walkSpPages = 1;

  // LR/SC reservation: physical address, size and the value LR saw. Harts interleave only between run() slices,
  // so an SC also fails when the reserved memory no longer holds the value LR read (a store by another hart in
  // between); the reservation itself survives slice boundaries. Kept as int32 words -- [0] valid, [1] RAM offset,
  // [2] size, [3] and [4] the value's low and high words (sign-extended for a word) -- in RAM's VMM area when there
  // is one (vmmResv), where the WebAssembly tier does LR/SC too.
  /** @internal */ readonly resv: Int32Array;
  /** @internal */ readonly vmmResv: number;
  /** @internal */ get resValid(): boolean { return this.resv[0] !== 0; }
  set resValid(v: boolean) { this.resv[0] = v ? 1 : 0; }
  /** @internal */ get resAddr(): number { return (this.resv[1]! >>> 0) + this.ram.base; }
  set resAddr(pa: number) { this.resv[1] = pa - this.ram.base; }
  /** @internal */ get resSize(): number { return this.resv[2]!; }
  set resSize(n: number) { this.resv[2] = n; }
  /** @internal */ get resLo(): number { return this.resv[3]!; }
  set resLo(v: number) { this.resv[3] = v; }
  /** @internal */ get resHi(): number { return this.resv[4]!; }
  set resHi(v: number) { this.resv[4] = v; }

  /** @internal Something needs the loop's attention before the next instruction (interrupt state, exit, WFI). */
  attn = false;
  private exitReq = false;
  private trapCause = 0;
  private trapTval = 0;

  /** @internal Effective privilege for loads/stores (after MPRV). */
  lsPriv = 3;
  /** @internal TLB context (tlb.ts) of loads/stores and of fetches, set by updateCtx(). */
  ldCtx = 0;
  /** @internal */ fetchCtx = 0;
  /** @internal */ readonly tlb: TLB.Tlb;
  // The TLB's tag and offset arrays again, so the inline lookups (lOff/sOff/fetchHalf) read only this object's
  // fields: going through `this.tlb` costs a map check per access (a few % on the memcpy bench, ~15% on a
  // fetch that changes page every other instruction).
  private readonly ldTag: Float64Array;
  private readonly ldOff: Float64Array;
  private readonly stTag: Float64Array;
  private readonly stOff: Float64Array;
  private readonly fcTag: Float64Array;
  private readonly fcOff: Float64Array;
  /** @internal Where x and the TLB arrays sit in RAM's VMM area (byte offsets into ram.buffer), or -1 outside one. */
  readonly vmmRegs: number;
  readonly vmmTlb: number;
  /** The decoded-code line marks (decode-cache.ts lineMarks), where WebAssembly code reads them. */
  readonly vmmLineMarks: number;
  /** @internal */ readonly dcache: DecodeCache;
  /** @internal The hart's own views of RAM (ram-views.ts). */
  readonly ramView: DataView;
  /** @internal */ readonly ramU8: Uint8Array;
  /** @internal The current fetch page: virtual address of its first byte, its RAM offset and its decode array. */
  fetchBase = NaN;
  /** @internal */ fetchOff = 0;
  /** @internal */ fetchDc: Int32Array = new Int32Array(PAGE);
  /** @internal The block translator (--cpu jit), or null: the interpreter runs everything. */
  jit: BlockTranslator | null = null;
  /**
   * @internal The interpreter's WebAssembly tier (jit/wasm-interp.ts, --cpu jit), or null: the loop hands it the
   * pc before each instruction it would interpret and does itself only what the tier leaves to it.
   */
  wasmInterp: WasmInterp | null = null;

  constructor(readonly id: number, env: HartEnv) {
    this.env = env;
    this.bus = env.bus;
    this.ram = env.bus.ram;
    this.metrics = env.metrics;
    const regs = this.ram.vmmAlloc(256);
    this.vmmRegs = regs ?? -1;
    this.x = regs === null ? new BigInt64Array(32) : new BigInt64Array(this.ram.buffer, regs, 32);
    this.x32 = new Int32Array(this.x.buffer, this.x.byteOffset, 64);
    const tlbAt = this.ram.vmmAlloc(TLB.TLB_BYTES);
    this.vmmTlb = tlbAt ?? -1;
    this.tlb = new TLB.Tlb(tlbAt === null ? null : { buffer: this.ram.buffer, offset: tlbAt });
    this.ldTag = this.tlb.ldTag; this.ldOff = this.tlb.ldOff;
    this.stTag = this.tlb.stTag; this.stOff = this.tlb.stOff;
    this.fcTag = this.tlb.fcTag; this.fcOff = this.tlb.fcOff;
    const views = ramViews(this.ram);
    this.ramView = views.dv;
    this.ramU8 = views.u8;
    const resAt = this.ram.vmmAlloc(32);
    this.vmmResv = resAt ?? -1;
    this.resv = resAt === null ? new Int32Array(8) : new Int32Array(this.ram.buffer, resAt, 8);
    const lines = this.ram.vmmAlloc(this.ram.size / CODE_LINE);
    this.vmmLineMarks = lines ?? -1;
    this.dcache = new DecodeCache(views.u16, lines === null ? null : new Uint8Array(this.ram.buffer, lines, this.ram.size / CODE_LINE));
    for (const def of standardCsrs()) this.csrs.register(def);
    this.fpuOk = typeof (this.fpu as FpuExec).exec === 'function';
    this.reset(0, 3);
    // Addresses and counts hold doubles (and all of these change) from the first trap, satp write, superpage walk
    // ...: settled now, so that code optimized for a hart is not thrown away then (util/settle-fields.ts).
    settleFields(this, ['pc', 'instret', 'mepc', 'sepc', 'mtvecBase', 'stvecBase', 'satpRoot', 'walkSpBase',
      'walkSpPages', 'trapTval', 'fetchBase', 'fetchOff', 'stimecmpNum', 'sbiTimer'], ['mipLines', 'walkGlobal', 'trapCause']);
    const dc = this.fetchDc;
    this.fetchDc = new Int32Array(0); // (changing, as the fetch page does)
    this.fetchDc = dc;
  }

  // =====================================================================================================
  // Public API
  // =====================================================================================================

  /** Resets CSRs to their reset values and sets pc and privilege (for boot). Integer and FP registers are kept. */
  reset(pc: number, priv: 0 | 1 | 3): void {
    this.fpuOk = typeof (this.fpu as FpuExec).exec === 'function';
    this.mstatus = 0;
    this.medeleg = 0; this.mideleg = 0; this.mie = 0; this.mipSw = 0;
    this.stipTimer = false;
    this.mtvecBase = 0; this.mtvecMode = 0; this.stvecBase = 0; this.stvecMode = 0;
    this.mepc = 0; this.sepc = 0;
    this.mcause = 0n; this.scause = 0n; this.mtval = 0n; this.stval = 0n; this.mscratch = 0n; this.sscratch = 0n;
    this.mcounteren = 0; this.scounteren = 0; this.mcountinhibit = 0;
    this.menvcfg = 0n; this.senvcfg = 0n; this.stce = false;
    this.stimecmp = (1n << 64n) - 1n; this.stimecmpNum = Infinity; this.sbiTimer = Infinity;
    this.satp = 0n; this.satpMode = 0; this.satpRoot = 0; this.satpAsid = 0;
    this.fpu.fflags = 0; this.fpu.frm = 0;
    this.pmp.reset();
    this.csrs.reset(this);
    this.resValid = false;
    this.waiting = false;
    this.exitReq = false;
    this.pc = pc;
    this.priv = priv;
    this.flushTlb();
    this.updateCtx();
    this.attn = true;
  }

  /** Runs up to `budget` instructions; returns how many retired. An instruction that traps uses one unit of budget. */
  run(budget: number): number {
    if (this.stopped || budget <= 0) return 0;
    this.exitReq = false;
    this.checkTimers();
    if (this.waiting) {
      if (!this.wakeable()) return 0;
      this.waiting = false;
    }
    if (this.fpuOk !== (typeof (this.fpu as FpuExec).exec === 'function')) this.fpuOk = !this.fpuOk;
    const start = this.instret;
    this.attn = true;
    this.loop(start + budget);
    const retired = this.instret - start;
    this.metrics.instructionsRetired += retired;
    return retired;
  }

  requestExit(): void { this.exitReq = true; this.attn = true; }

  /** Drives mip bit `bit` from an interrupt line (HartIrq): the level stays until the driver lowers it. */
  setPending(bit: number, level: boolean): void {
    const m = 1 << bit;
    const v = level ? this.mipLines | m : this.mipLines & ~m;
    if (v === this.mipLines) return;
    this.mipLines = v;
    this.irqChanged();
  }

  /**
   * Sets software-writable mip bit `bit` (SSIP 1, STIP 5 while menvcfg.STCE is off, SEIP 9, PV event 24) as M-mode firmware
   * does with `csrs mip`: an SBI IPI is injectPending(1). Unlike setPending it is not a line: the bit stays
   * until the guest clears it through sip/mip. Wakes a WFI when the interrupt is enabled.
   */
  injectPending(bit: number): void {
    const m = bit >= 0 && bit < 32 ? 1 << bit : 0;
    if ((m & MIP_SW_BITS) === 0 || (m === C.MIP_STIP && this.stce)) {
      throw new RangeError(`mip bit ${bit} is not software-writable (SSIP 1, SEIP 9, the PV event 24, or STIP 5 while Sstc is off); drive lines with setPending()`);
    }
    this.mipSw |= m;
    this.irqChanged();
  }

  /** Whether an enabled interrupt is pending; re-evaluates the timers first, so a passed deadline wakes a WFI. */
  wakeable(): boolean {
    this.checkTimers();
    return (this.mip() & this.mie) !== 0;
  }

  nextDeadline(): number {
    const s = this.stce ? this.stimecmpNum : Infinity;
    return s < this.sbiTimer ? s : this.sbiTimer;
  }

  /** Drops every cached translation and decoded instruction (remote SFENCE.VMA / FENCE.I from SBI, tests). */
  flushTlb(): void {
    this.flushTranslations();
    this.flushDecoded();
  }

  /** Raw CSR read (no privilege or access checks), as unsigned 64 bits; throws for a CSR this hart lacks. */
  readCsr(num: number): bigint {
    const v = this.csrs.read(this, num);
    if (v === null) throw new RangeError(`CSR 0x${num.toString(16)} is not implemented by this hart`);
    return BigInt.asUintN(64, v);
  }

  /** Raw CSR write with the CSR's WARL rules (no privilege or access checks); throws when it cannot be written. */
  writeCsr(num: number, v: bigint): void {
    if (!this.csrs.write(this, num, v)) throw new RangeError(`CSR 0x${num.toString(16)} is not implemented or not writable`);
  }

  /**
   * Adds a CSR to this hart (csr.ts CsrDef): CSR instructions and readCsr/writeCsr reach it from then on. Throws
   * when the number is taken or the definition contradicts the number's encoding.
   */
  registerCsr(def: CsrDef): void {
    this.csrs.register(def);
  }

  setSbiTimer(value: bigint): void {
    this.sbiTimer = Number(BigInt.asUintN(64, value));
    this.checkTimers();
  }

  // =====================================================================================================
  // Interrupts, timers, privilege and address-space state (internal to src/cpu/riscv)
  // =====================================================================================================

  /** @internal The effective mip value. */
  mip(): number {
    let v = this.mipLines | (this.stce ? this.mipSw & ~C.MIP_STIP : this.mipSw);
    if (this.stipTimer) v |= C.MIP_STIP;
    return v;
  }

  /** @internal Called whenever mip, mie, mideleg, mstatus or the privilege may have changed. */
  irqChanged(): void {
    this.attn = true;
    if (this.waiting && !this.stopped && (this.mip() & this.mie) !== 0) this.waiting = false;
  }

  /** @internal Re-evaluates STIP from stimecmp (when menvcfg.STCE) and the SBI timer against the current time. */
  checkTimers(): void {
    const stce = this.stce;
    if (!stce && this.sbiTimer === Infinity && !this.stipTimer) return;
    const t = this.env.readTime(this.instret);
    const fire = (stce && t >= this.stimecmpNum) || t >= this.sbiTimer;
    if (fire === this.stipTimer) return;
    this.stipTimer = fire;
    if (fire) this.metrics.countInterrupt(stce && t >= this.stimecmpNum ? 'stimecmp' : 'sbi-timer');
    this.irqChanged();
  }

  /** @internal */
  setMstatus(v: number): void {
    const old = this.mstatus;
    this.mstatus = v;
    if (((old ^ v) & C.MSTATUS_MXR) !== 0) this.tlb.flushLoads();
    if (((old ^ v) & (C.MSTATUS_MPRV | C.MSTATUS_MPP | C.MSTATUS_SUM)) !== 0) this.updateCtx();
    this.irqChanged();
  }

  /** @internal satp WARL (§4.1.11): an unsupported MODE leaves satp unchanged. */
  setSatp(v: bigint): void {
    const mode = Number(v >> 60n);
    if (mode !== C.SATP_MODE_BARE && mode !== C.SATP_MODE_SV39 && mode !== C.SATP_MODE_SV48) return;
    this.satp = v;
    this.satpMode = mode;
    this.satpAsid = Number((v >> 44n) & 0xffffn);
    this.satpRoot = Number(v & 0xfffffffffffn) * PAGE;
    this.flushTranslations();
    this.updateCtx();
  }

  /** @internal */
  setPriv(p: 0 | 1 | 3): void {
    this.priv = p;
    this.updateCtx();
    this.attn = true;
  }

  private updateCtx(): void {
    const ms = this.mstatus;
    this.lsPriv = this.priv === C.PRV_M && (ms & C.MSTATUS_MPRV) !== 0 ? (ms >> C.MSTATUS_MPP_SHIFT) & 3 : this.priv;
    const bare = this.satpMode === C.SATP_MODE_BARE, sum = (ms & C.MSTATUS_SUM) !== 0;
    this.ldCtx = TLB.tlbContext(this.lsPriv, bare, sum);
    this.fetchCtx = TLB.tlbContext(this.priv, bare, sum);
    this.fetchBase = NaN;
  }

  /** @internal SFENCE.VMA (privileged spec §4.2.1): `va` null = all addresses; `asid` null = all address spaces. */
  sfenceVma(va: number | null, asid: number | null): void {
    this.fetchBase = NaN;
    this.tlb.sfence(va, asid, this.satpAsid);
  }

  private flushTranslations(): void {
    this.tlb.flush();
    this.fetchBase = NaN;
  }

  /** FENCE.I: forget every decoded instruction. */
  private flushDecoded(): void {
    this.dcache.flush();
    this.fetchBase = NaN;
  }

  /** @internal Called by the page walk before it writes `size` bytes at RAM offset `off` (A/D update). */
  noteStore(off: number, size: number): void {
    this.dcache.noteStore(off, size);
  }

  // =====================================================================================================
  // Exceptions (privileged spec §3.1.15): raised by throwing TRAP, taken by the loop (traps.ts)
  // =====================================================================================================

  /** @internal */
  fault(cause: number, tval: number): never {
    this.trapCause = cause;
    this.trapTval = tval;
    throw TRAP;
  }

  /** @internal Illegal instruction; tval is the instruction's raw bits. */
  illegal(raw: number): never { return this.fault(C.CAUSE_ILLEGAL_INSTRUCTION, raw >>> 0); }

  /** @internal RAM offset for a load of `size` bytes at `va` when the TLB has it and it stays in one page, else -1. */
  lOff(va: number, size: number): number {
    const page = Math.floor(va * INV_PAGE);
    const po = va - page * PAGE;
    const i = this.ldCtx + (page & (TLB_SETS - 1));
    return this.ldTag[i] === page && po <= PAGE - size ? this.ldOff[i]! + po : -1;
  }

  /** @internal RAM offset for a store of `size` bytes at `va` when the TLB has it and it stays in one page, else -1. */
  sOff(va: number, size: number): number {
    const page = Math.floor(va * INV_PAGE);
    const po = va - page * PAGE;
    const i = this.ldCtx + (page & (TLB_SETS - 1));
    return this.stTag[i] === page && po <= PAGE - size ? this.stOff[i]! + po : -1;
  }

  /** Reads 16 bits of instruction at `va`, making its page the current fetch page when it is cacheable. */
  private fetchHalf(va: number): number {
    const page = Math.floor(va * INV_PAGE);
    const i = this.fetchCtx + (page & (TLB_SETS - 1));
    const ram = this.ram;
    if (this.fcTag[i] !== page) {
      const pa = translate(this, va, C.ACC_FETCH, 2);
      if (!ram.contains(pa, 2)) this.fault(C.CAUSE_FETCH_ACCESS, va); // no execution from MMIO
      if (this.fcTag[i] !== page) return this.ramView.getUint16(pa - ram.base, true); // page not cacheable (PMP split)
    }
    this.fetchBase = page * PAGE;
    this.fetchOff = this.fcOff[i]!;
    this.fetchDc = this.dcache.page(this.fetchOff);
    return this.ramView.getUint16(this.fetchOff + (va - page * PAGE), true);
  }

  /**
   * @internal Makes virtual page `vpn` the current fetch page if the fetch TLB holds it, without a walk (the
   * translator's lookup of a jump target, jit/engine.ts); false when it does not.
   */
  fetchPageCached(vpn: number): boolean {
    const i = this.fetchCtx + (vpn & (TLB_SETS - 1));
    if (this.fcTag[i] !== vpn) return false;
    this.fetchBase = vpn * PAGE;
    this.fetchOff = this.fcOff[i]!;
    this.fetchDc = this.dcache.page(this.fetchOff);
    return true;
  }

  // guest-controlled: instruction bytes come from guest memory.
  /**
   * Fetches the instruction at `pc` outside the current fetch page's fast path (unprivileged spec §1.5: parcels
   * are 16 bits, so a 32-bit instruction may straddle two pages): raw bits, 16 or 32 wide.
   */
  /** @internal also traps.ts, to re-read a faulting instruction. */
  fetchSlow(pc: number): number {
    const lo = this.fetchHalf(pc);
    if ((lo & 3) !== 3) return lo;
    return lo | (this.fetchHalf(pc + 2) << 16);
  }

  // guest-controlled: instruction bytes come from guest memory.
  /** Decodes the instruction at byte `k` of the current fetch page into its cache entry and returns the entry. */
  private decodeFill(k: number): number {
    const dc = this.fetchDc;
    const e = this.dcache.fill(dc, this.fetchOff, k);
    if (e === 0) this.illegal(dc[k + 1]!);
    return e;
  }

  // =====================================================================================================
  // The interpreter loop
  // =====================================================================================================

  /**
   * Executes until instret reaches `limit` or something stops the slice. pc and instret live in locals and are
   * written back to the hart before anything that may read them (CSR/SYSTEM/AMO/FP paths, traps, returning);
   * a trap unwinds to the catch inside the loop, so taking it costs no re-entry.
   */
  private loop(limit: number): void {
    const x = this.x, x32 = this.x32, view = this.ramView, dcache = this.dcache, codeMark = dcache.codeMark;
    const wi = this.wasmInterp;
    let pc = this.pc, instret = this.instret;
    /** The next instret at which the timers are re-checked or the slice ends. */
    let stop = instret;
    /**
     * Up to where the WebAssembly tier may run past timer checks that would change nothing (BlockTranslator
     * quietUntil), found at a check; 0 once what it depends on has changed since (BlockTranslator stillQuiet).
     */
    let quiet = 0;
    for (;;) {
      try {
        for (;;) {
          if (this.attn) {
            this.attn = false;
            this.pc = pc; this.instret = instret;
            if (this.waiting || this.stopped) return;
            const irq = pendingInterrupt(this);
            if (irq >= 0) {
              takeTrap(this, irq, 0, true);
              this.waiting = false;
              limit--;
              stop = instret;
              pc = this.pc;
            }
            if (this.exitReq) { this.exitReq = false; return; }
            if (this.trig.exec) { this.attn = true; this.trig.checkExec(this, pc); } // Sdtrig: every instruction
          }
          if (instret >= stop) {
            if (instret >= limit) { this.pc = pc; this.instret = instret; return; }
            stop = Math.min(limit, instret - (instret & TIMER_CHECK_MASK) + TIMER_CHECK_MASK + 1);
            if ((instret & TIMER_CHECK_MASK) === 0) {
              this.pc = pc; this.instret = instret;
              this.checkTimers();
              if (this.jit !== null) {
                this.jit.sample(this, pc);
                if (wi !== null) quiet = this.jit.quietUntil(this, stop, limit);
              }
              if (this.attn) continue;
            } else if (wi !== null) {
              // (a slice starts between checks: whether the tier may run past the next one is known now)
              this.pc = pc; this.instret = instret;
              quiet = this.jit!.quietUntil(this, stop, limit);
            }
          }
          // The WebAssembly tier runs what it can up to the next check that could change something; it leaves before
          // anything else (a trigger watching loads and stores keeps every access here), and returns now and then
          // for the translator to sample the pc (it may run past the checks that sample).
          if (wi !== null && !this.attn && !this.trig.ldst) {
            // (what the loop did since may have moved a timer, or charged time; an interrupt taken lowers the limit)
            if (quiet > stop && !this.jit!.stillQuiet(this, instret)) quiet = 0;
            const s32 = wi.s32, ms = this.mstatus;
            s32[WI_MSTATUS] = ms; s32[WI_PRIV] = this.priv; s32[WI_SIRQ] = this.mip() & this.mie & this.mideleg;
            const st = wi.run((quiet > stop ? (quiet < limit ? quiet : limit) : stop) - instret, pc, this.fetchCtx, this.ldCtx);
            const k = s32[0]!;
            if (k !== 0) {
              instret += k; pc = wi.s64[1]!;
              if (s32[WI_MSTATUS] !== ms) this.setMstatus(s32[WI_MSTATUS]!); // sstatus.SIE (and attention when it is set)
              if (st === WI_BUDGET || st === WI_IRQ) continue;
              if (st === WI_HOT) { this.pc = pc; this.instret = instret; this.jit!.hotTarget(this, pc); continue; }
              if (st === WI_SAMPLE) { // (while no check is skipped, the checks sample)
                if (quiet > stop) { this.pc = pc; this.instret = instret; this.jit!.tierSample(this, pc); }
                continue;
              }
            }
            // a block made stale by a wipe starts at pc: verified (and its marker back) before the loop does pc
            if (st === WI_STALE) { this.pc = pc; this.instret = instret; this.jit!.hotTarget(this, pc); }
          }
          x32[0] = 0; x32[1] = 0;

          const fpo = pc - this.fetchBase;
          let insn: number, raw: number, npc: number;
          if (fpo >= 0 && fpo <= PAGE - 4) { // decoded-instruction cache of the current fetch page
            const k = fpo | 0, dc = this.fetchDc;
            insn = dc[k]!;
            if (insn === 0) insn = this.decodeFill(k);
            if ((insn & 3) === 3) { raw = insn; npc = pc + 4; } else { raw = dc[k + 1]!; insn |= 3; npc = pc + 2; }
          } else {
            insn = raw = this.fetchSlow(pc);
            npc = pc + 4;
            if ((insn & 3) !== 3) {
              insn = RVC_TABLE[raw]!;
              if (insn === 0) this.illegal(raw);
              npc = pc + 2;
            }
          }
          const rd = (insn >>> 7) & 31, f3 = (insn >>> 12) & 7, rs1 = (insn >>> 15) & 31, rs2 = (insn >>> 20) & 31;
          const d = rd << 1, s1 = rs1 << 1, s2 = rs2 << 1;

          switch ((insn >>> 2) & 31) { // major opcode bits [6:2] (bits [1:0] are 11): dense, so a jump table
            case 13: { // LUI
              const v = insn & 0xfffff000;
              x32[d] = v; x32[d | 1] = v >> 31;
              break;
            }
            case 5: { // AUIPC
              const v = pc + (insn & 0xfffff000);
              x32[d] = v | 0; x32[d | 1] = Math.floor(v / TWO32) | 0;
              break;
            }
            case 27: { // JAL
              const imm = ((insn >> 31) << 20) | (insn & 0xff000) | ((insn >>> 9) & 0x800) | ((insn >>> 20) & 0x7fe);
              x32[d] = npc | 0; x32[d | 1] = Math.floor(npc / TWO32) | 0;
              npc = pc + imm;
              break;
            }
            case 25: { // JALR
              if (f3 !== 0) this.illegal(raw);
              const imm = insn >> 20;
              const lo = x32[s1]!;
              const t = x32[s1 | 1]! * TWO32 + (lo >>> 0) + imm - ((lo + imm) & 1);
              x32[d] = npc | 0; x32[d | 1] = Math.floor(npc / TWO32) | 0;
              npc = t;
              break;
            }
            case 24: { // BRANCH
              const ah = x32[s1 | 1]!, al = x32[s1]! >>> 0, bh = x32[s2 | 1]!, bl = x32[s2]! >>> 0;
              let take: boolean;
              switch (f3) {
                case 0: take = al === bl && ah === bh; break;
                case 1: take = al !== bl || ah !== bh; break;
                case 4: take = ah < bh || (ah === bh && al < bl); break;
                case 5: take = ah > bh || (ah === bh && al >= bl); break;
                case 6: take = (ah >>> 0) < (bh >>> 0) || (ah === bh && al < bl); break;
                case 7: take = (ah >>> 0) > (bh >>> 0) || (ah === bh && al >= bl); break;
                default: return this.illegal(raw);
              }
              if (take) npc = pc + (((insn >> 31) << 12) | ((insn << 4) & 0x800) | ((insn >>> 20) & 0x7e0) | ((insn >>> 7) & 0x1e));
              break;
            }
            case 0: { // LOAD
              const va = x32[s1 | 1]! * TWO32 + (x32[s1]! >>> 0) + (insn >> 20);
              switch (f3) {
                case 0: { const o = this.lOff(va, 1); const v = o >= 0 ? view.getInt8(o) : Number(BigInt.asIntN(8, loadSlow(this, va, 1))); x32[d] = v; x32[d | 1] = v >> 31; break; }
                case 1: { const o = this.lOff(va, 2); const v = o >= 0 ? view.getInt16(o, true) : Number(BigInt.asIntN(16, loadSlow(this, va, 2))); x32[d] = v; x32[d | 1] = v >> 31; break; }
                case 2: { const o = this.lOff(va, 4); const v = o >= 0 ? view.getInt32(o, true) : Number(BigInt.asIntN(32, loadSlow(this, va, 4))); x32[d] = v; x32[d | 1] = v >> 31; break; }
                case 3: {
                  const o = this.lOff(va, 8);
                  if (o >= 0) { x32[d] = view.getInt32(o, true); x32[d | 1] = view.getInt32(o + 4, true); } else x[rd] = BigInt.asIntN(64, loadSlow(this, va, 8));
                  break;
                }
                case 4: { const o = this.lOff(va, 1); x32[d] = o >= 0 ? view.getUint8(o) : Number(loadSlow(this, va, 1)); x32[d | 1] = 0; break; }
                case 5: { const o = this.lOff(va, 2); x32[d] = o >= 0 ? view.getUint16(o, true) : Number(loadSlow(this, va, 2)); x32[d | 1] = 0; break; }
                case 6: { const o = this.lOff(va, 4); x32[d] = o >= 0 ? view.getInt32(o, true) : Number(loadSlow(this, va, 4)) | 0; x32[d | 1] = 0; break; }
                default: return this.illegal(raw);
              }
              break;
            }
            case 8: { // STORE
              const va = x32[s1 | 1]! * TWO32 + (x32[s1]! >>> 0) + (((insn >> 25) << 5) | ((insn >>> 7) & 31));
              if (f3 > 3) return this.illegal(raw);
              const o = this.sOff(va, 1 << f3);
              if (o < 0) { storeSlow(this, va, 1 << f3, f3 === 3 ? x[rs2]! : BigInt(x32[s2]!)); break; }
              if (codeMark[(o * INV_PAGE) | 0] !== 0) dcache.codeStore(o, 1 << f3);
              switch (f3) {
                case 0: view.setInt8(o, x32[s2]! << 24 >> 24); break;
                case 1: view.setInt16(o, x32[s2]! << 16 >> 16, true); break;
                case 2: view.setInt32(o, x32[s2]!, true); break;
                default: view.setInt32(o, x32[s2]!, true); view.setInt32(o + 4, x32[s2 | 1]!, true); break;
              }
              break;
            }
            case 4: { // OP-IMM
              const imm = insn >> 20;
              const al = x32[s1]!, ah = x32[s1 | 1]!;
              switch (f3) {
                case 0: { // ADDI
                  const lo = (al >>> 0) + imm;
                  x32[d] = lo | 0; x32[d | 1] = ah + (lo >= TWO32 ? 1 : lo < 0 ? -1 : 0);
                  break;
                }
                case 1: if ((imm >>> 6) !== 0) this.illegal(raw); shift64(x32, d, al, ah, imm & 63, 0); break;
                case 2: x32[d] = ah < (imm >> 31) || (ah === (imm >> 31) && (al >>> 0) < (imm >>> 0)) ? 1 : 0; x32[d | 1] = 0; break;
                case 3: x32[d] = (ah >>> 0) < ((imm >> 31) >>> 0) || (ah === (imm >> 31) && (al >>> 0) < (imm >>> 0)) ? 1 : 0; x32[d | 1] = 0; break;
                case 4: x32[d] = al ^ imm; x32[d | 1] = ah ^ (imm >> 31); break;
                case 5: {
                  const top = (imm >>> 6) & 0x3f;
                  if (top === 0) shift64(x32, d, al, ah, imm & 63, 1);
                  else if (top === 0x10) shift64(x32, d, al, ah, imm & 63, 2);
                  else this.illegal(raw);
                  break;
                }
                case 6: x32[d] = al | imm; x32[d | 1] = ah | (imm >> 31); break;
                default: x32[d] = al & imm; x32[d | 1] = ah & (imm >> 31); break;
              }
              break;
            }
            case 6: { // OP-IMM-32
              const imm = insn >> 20, a = x32[s1]!;
              let v: number;
              if (f3 === 0) v = (a + imm) | 0;
              else if (f3 === 1 && (insn >>> 25) === 0) v = a << (imm & 31);
              else if (f3 === 5 && (insn >>> 25) === 0) v = (a >>> (imm & 31)) | 0;
              else if (f3 === 5 && (insn >>> 25) === 0x20) v = a >> (imm & 31);
              else return this.illegal(raw);
              x32[d] = v; x32[d | 1] = v >> 31;
              break;
            }
            case 12: { // OP
              const f7 = insn >>> 25;
              const al = x32[s1]!, ah = x32[s1 | 1]!, bl = x32[s2]!, bh = x32[s2 | 1]!;
              if (f7 === 0) {
                switch (f3) {
                  case 0: { const lo = (al >>> 0) + (bl >>> 0); x32[d] = lo | 0; x32[d | 1] = ah + bh + (lo >= TWO32 ? 1 : 0); break; }
                  case 1: shift64(x32, d, al, ah, bl & 63, 0); break;
                  case 2: x32[d] = ah < bh || (ah === bh && (al >>> 0) < (bl >>> 0)) ? 1 : 0; x32[d | 1] = 0; break;
                  case 3: x32[d] = (ah >>> 0) < (bh >>> 0) || (ah === bh && (al >>> 0) < (bl >>> 0)) ? 1 : 0; x32[d | 1] = 0; break;
                  case 4: x32[d] = al ^ bl; x32[d | 1] = ah ^ bh; break;
                  case 5: shift64(x32, d, al, ah, bl & 63, 1); break;
                  case 6: x32[d] = al | bl; x32[d | 1] = ah | bh; break;
                  default: x32[d] = al & bl; x32[d | 1] = ah & bh; break;
                }
              } else if (f7 === 0x20 && f3 === 0) {
                const lo = (al >>> 0) - (bl >>> 0); x32[d] = lo | 0; x32[d | 1] = ah - bh - (lo < 0 ? 1 : 0);
              } else if (f7 === 0x20 && f3 === 5) {
                shift64(x32, d, al, ah, bl & 63, 2);
              } else if (f7 === 1) {
                mulDiv64(x32, x, d, s1, s2, f3);
              } else {
                return this.illegal(raw);
              }
              break;
            }
            case 14: { // OP-32
              const f7 = insn >>> 25, a = x32[s1]!, b = x32[s2]!;
              let v: number;
              if (f7 === 0) {
                if (f3 === 0) v = (a + b) | 0;
                else if (f3 === 1) v = a << (b & 31);
                else if (f3 === 5) v = (a >>> (b & 31)) | 0;
                else return this.illegal(raw);
              } else if (f7 === 0x20) {
                if (f3 === 0) v = (a - b) | 0;
                else if (f3 === 5) v = a >> (b & 31);
                else return this.illegal(raw);
              } else if (f7 === 1) {
                switch (f3) {
                  case 0: v = Math.imul(a, b); break;
                  case 4: v = b === 0 ? -1 : a === -2147483648 && b === -1 ? a : Math.trunc(a / b) | 0; break;
                  case 5: v = b === 0 ? -1 : Math.trunc((a >>> 0) / (b >>> 0)) | 0; break;
                  case 6: v = b === 0 ? a : a === -2147483648 && b === -1 ? 0 : (a % b) | 0; break;
                  case 7: v = b === 0 ? a : ((a >>> 0) % (b >>> 0)) | 0; break;
                  default: return this.illegal(raw);
                }
              } else {
                return this.illegal(raw);
              }
              x32[d] = v; x32[d | 1] = v >> 31;
              break;
            }
            case 3: // MISC-MEM: FENCE (incl. PAUSE), FENCE.I. Memory is sequentially consistent.
              if (f3 > 1) this.illegal(raw);
              if (f3 === 1) this.flushDecoded();
              break;
            case 28: // SYSTEM (reads and may redirect this.pc; CSRs read this.instret)
              this.pc = pc; this.instret = instret;
              npc = system(this, insn, raw, pc, npc);
              break;
            case 11: // AMO
              amo(this, insn, raw);
              break;
            case 1: case 9: // LOAD-FP, STORE-FP (under the WebAssembly tier, which leaves F/D here: hot F/D code is translated)
              if (wi !== null) this.jit!.left(this, pc);
              fpMem(this, insn, raw);
              break;
            case 20: case 16: case 17: case 18: case 19: // OP-FP, FMADD/FMSUB/FNMSUB/FNMADD
              if (wi !== null) this.jit!.left(this, pc);
              fpOp(this, insn, raw);
              break;
            case 31: // a translated block starts here (BlockTranslator), or a reserved encoding
              if (this.jit === null) return this.illegal(raw);
              this.pc = pc; this.instret = instret;
              switch (this.jit.enter(this, stop, limit)) {
                case ENTER_DECLINED: continue; // fetch again: the instruction itself
                case ENTER_FAULT: pc = this.pc; instret = this.instret; throw TRAP;
              }
              npc = this.pc;
              instret = this.instret - 1; // the loop counts the last one
              break;
            default:
              return this.illegal(raw);
          }
          pc = npc;
          instret++;
        }
      } catch (e) {
        this.pc = pc; this.instret = instret;
        if (e !== TRAP) throw e;
        takeTrap(this, this.trapCause, this.trapTval, false);
        pc = this.pc;
        limit--;
        if (instret >= limit) return;
        stop = instret;
      }
    }
  }
}

/** 64-bit shifts on 32-bit halves: kind 0 = SLL, 1 = SRL, 2 = SRA. */
function shift64(x32: Int32Array, d: number, lo: number, hi: number, sh: number, kind: number): void {
  if (sh === 0) { x32[d] = lo; x32[d | 1] = hi; return; }
  if (kind === 0) {
    if (sh < 32) { x32[d | 1] = (hi << sh) | (lo >>> (32 - sh)); x32[d] = lo << sh; }
    else { x32[d | 1] = lo << (sh - 32); x32[d] = 0; }
  } else if (kind === 1) {
    if (sh < 32) { x32[d] = (lo >>> sh) | (hi << (32 - sh)); x32[d | 1] = hi >>> sh; }
    else { x32[d] = hi >>> (sh - 32); x32[d | 1] = 0; }
  } else {
    if (sh < 32) { x32[d] = (lo >>> sh) | (hi << (32 - sh)); x32[d | 1] = hi >> sh; }
    else { x32[d] = hi >> (sh - 32); x32[d | 1] = hi >> 31; }
  }
}
