// The RISC-V hart: RV64IMAC + Zicsr/Zifencei/Zicntr/Zihintpause, M/S/U privilege, Sv39/Sv48, Sstc, SBI seam
// (RISC-V unprivileged spec §2-§9, §16; privileged spec §3-§4). F/D arithmetic is delegated to the Fpu.
//
// Hot-path design: registers live in a BigInt64Array with an Int32Array view over the same buffer, so most
// integer operations, addresses and branches are done on 32-bit halves without bigint work. Memory goes
// through small direct-mapped translation caches (fetch/load/store, per privilege context) that map a 4 KiB
// virtual page to a RAM offset; only RAM pages whose whole 4 KiB passed the permission and PMP checks are
// cached, so MMIO is never cached and every device access happens exactly once. Traps are raised by throwing
// one preallocated object that run() catches. No decoded-instruction cache, so FENCE.I is a no-op.

import type { Bus, Width } from '../../memory/bus.js';
import type { GuestMemory } from '../../memory/guest-memory.js';
import type { Metrics } from '../../metrics/counters.js';
import type { HartIrq } from '../../board/irq.js';
import type { SbiCaller, SbiHandler } from './sbi-types.js';
import { Fpu, boxF32 } from './fpu.js';
import * as C from './csr-defs.js';
import { CsrTable, type CsrDef } from './csr.js';
import { standardCsrs } from './csr-standard.js';
import { walk, accessFaultCause, type WalkContext } from './mmu.js';
import { Pmp } from './pmp.js';
import { RVC_TABLE } from './rvc.js';
import { mulDiv64 } from './muldiv.js';
import { ramViews } from './ram-views.js';

export interface HartEnv {
  bus: Bus;
  metrics: Metrics;
  /** The `time` CSR / Sstc comparator value: called with this hart's minstret so deterministic clocks advance per instruction. */
  readTime(instret: number): number;
  /** null: ecall from S traps normally (firmware or bare-metal mode). */
  sbi: SbiHandler | null;
}

/** The one object thrown to unwind an instruction that raised an exception; the cause is on the hart. */
const TRAP: { readonly trap: true } = Object.freeze({ trap: true });

const PAGE = 4096;
const INV_PAGE = 1 / 4096;
const TLB_SETS = 1024;
/** Translation contexts: 0 M (no translation), 1 U, 2 S with SUM=0, 3 S with SUM=1, 4 S/U with satp=Bare. */
const CTX_COUNT = 5;
const TLB_SIZE = TLB_SETS * CTX_COUNT;
const TWO32 = 4294967296;
const TWO64 = 18446744073709551616;
/** How often (in instructions) run() re-evaluates the timer comparators. */
const TIMER_CHECK_MASK = 1023;
/** mip bits software may set (mip WARL, §3.1.9): SSIP, STIP (only without Sstc) and SEIP. */
const MIP_SW_BITS = C.MIP_SSIP | C.MIP_STIP | C.MIP_SEIP;

type FpuExec = { exec?: (insn: number, x: BigInt64Array) => boolean };

export class Hart implements HartIrq, SbiCaller, WalkContext {
  /** Integer registers (never replaced: x32 aliases its buffer). */
  readonly x = new BigInt64Array(32);
  /** The same registers as 32-bit halves: x32[2r] is the low word of x[r], x32[2r+1] the high word. */
  readonly x32 = new Int32Array(this.x.buffer);
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
  /** The hart's own views of RAM (ram-views.ts): GuestMemory keeps its views to itself. */
  readonly ramView: DataView;
  readonly ramU8: Uint8Array;

  // ---- CSR state (internal: read and written by the CSR table rows in csr-standard.ts and by this file) ----
  /** @internal This hart's CSR table; extensions add rows with registerCsr(). */
  readonly csrs = new CsrTable();
  mstatus = 0;
  medeleg = 0;
  mideleg = 0;
  mie = 0;
  /** Software-writable pending bits (SSIP, STIP without Sstc, SEIP): mip/sip writes and injectPending(). */
  mipSw = 0;
  /** Lines driven from outside via setPending. */
  mipLines = 0;
  /** STIP as driven by stimecmp (Sstc) or the SBI timer. */
  stipTimer = false;
  mtvecBase = 0; mtvecMode = 0; stvecBase = 0; stvecMode = 0;
  mepc = 0; sepc = 0;
  mcause = 0n; scause = 0n; mtval = 0n; stval = 0n; mscratch = 0n; sscratch = 0n;
  mcounteren = 0; scounteren = 0; mcountinhibit = 0;
  menvcfg = 0n; senvcfg = 0n;
  /** menvcfg.STCE as a boolean (kept in step by its CSR row), so interrupt checks do no bigint work. */
  stce = false;
  stimecmp = (1n << 64n) - 1n;
  stimecmpNum = Infinity;
  sbiTimer = Infinity;
  cycleDelta = 0; instretDelta = 0;
  satp = 0n; satpMode = 0; satpRoot = 0; satpAsid = 0;
  /** Whether this.fpu can execute F/D instructions (has exec). */
  fpuOk: boolean;

  // ---- walk outputs (WalkContext) ----
  walkGlobal = 0; walkSpBase = 0; walkSpPages = 1;

  // ---- trap in flight ----
  private trapCause = 0;
  private trapTval = 0;

  // ---- LR/SC reservation: physical address, size and the value LR saw ----
  // Harts interleave only between run() slices, so an SC also fails when the reserved memory no longer holds
  // the value LR read (a store by another hart in between); the reservation itself survives slice boundaries.
  private resValid = false;
  private resAddr = 0;
  private resSize = 0;
  private resValue = 0n;

  // ---- run-loop control ----
  /** Something needs the loop's attention before the next instruction (interrupt state, exit, WFI). */
  private attn = false;
  private exitReq = false;

  // ---- translation caches ----
  /** Effective privilege for loads/stores (MPRV) and the context offsets into the caches. */
  private lsPriv = 3;
  private ldCtx = 0;
  private fetchCtx = 0;
  private readonly ldTag = new Float64Array(TLB_SIZE).fill(NaN);
  private readonly ldOff = new Float64Array(TLB_SIZE);
  private readonly stTag = new Float64Array(TLB_SIZE).fill(NaN);
  private readonly stOff = new Float64Array(TLB_SIZE);
  private readonly fcTag = new Float64Array(TLB_SIZE).fill(NaN);
  private readonly fcOff = new Float64Array(TLB_SIZE);
  /** Per cache entry (3 caches side by side): global flag, superpage first VPN and size, for SFENCE.VMA. */
  private readonly tlbGlobal = new Uint8Array(TLB_SIZE * 3);
  private readonly tlbSpBase = new Float64Array(TLB_SIZE * 3);
  private readonly tlbSpPages = new Float64Array(TLB_SIZE * 3);
  /** The current fetch page: virtual address of its first byte and its RAM offset. */
  private fetchBase = NaN;
  private fetchOff = 0;
  /** RAM as 16-bit units: instruction parcels are decoded from here. */
  private readonly ram16: Uint16Array;

  // ---- decoded-instruction cache, keyed by physical RAM page ----
  // Per RAM page an Int32Array of two entries per halfword: [2k] the (expanded) instruction starting at byte 2k,
  // tagged in its low bits (11: 32-bit, 01: compressed, 0: not decoded yet), [2k+1] the raw parcel(s) for tval.
  // codeMark[page] is 1 while the page may hold decoded entries; every hart store into RAM checks it and clears
  // the entries its bytes overlap (so self-modifying code works even without FENCE.I). FENCE.I, reset() and
  // flushTlb() (remote fences) wipe everything; device DMA into code pages is covered by the guest's FENCE.I.
  private readonly dcPages: (Int32Array | undefined)[] = [];
  private readonly codeMark: Uint8Array;
  /** Pages that were marked since the last full wipe (may hold stale or duplicate numbers). */
  private codePages: number[] = [];
  /** The decode array of the current fetch page. */
  private fetchDc: Int32Array = new Int32Array(PAGE);

  constructor(readonly id: number, env: HartEnv) {
    this.env = env;
    this.bus = env.bus;
    this.ram = env.bus.ram;
    this.metrics = env.metrics;
    const views = ramViews(this.ram);
    this.ramView = views.dv;
    this.ramU8 = views.u8;
    this.ram16 = views.u16;
    this.codeMark = new Uint8Array(Math.ceil(this.ram.size / PAGE));
    for (const def of standardCsrs()) this.csrs.register(def);
    this.fpuOk = typeof (this.fpu as FpuExec).exec === 'function';
    this.reset(0, 3);
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
   * Sets software-writable mip bit `bit` (SSIP 1, STIP 5 while menvcfg.STCE is off, SEIP 9) as M-mode firmware
   * does with `csrs mip`: an SBI IPI is injectPending(1). Unlike setPending it is not a line: the bit stays
   * until the guest clears it through sip/mip. Wakes a WFI when the interrupt is enabled.
   */
  injectPending(bit: number): void {
    const m = bit >= 0 && bit < 32 ? 1 << bit : 0;
    if ((m & MIP_SW_BITS) === 0 || (m === C.MIP_STIP && this.stce)) {
      throw new RangeError(`mip bit ${bit} is not software-writable (SSIP 1, SEIP 9, or STIP 5 while Sstc is off); drive lines with setPending()`);
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
    const s = this.stceOn() ? this.stimecmpNum : Infinity;
    return s < this.sbiTimer ? s : this.sbiTimer;
  }

  /** Drops every cached translation and decoded instruction (remote SFENCE.VMA / FENCE.I from SBI, tests). */
  flushTlb(): void {
    this.flushTranslations();
    this.flushDecoded();
  }

  private flushTranslations(): void {
    this.ldTag.fill(NaN);
    this.stTag.fill(NaN);
    this.fcTag.fill(NaN);
    this.fetchBase = NaN;
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
  // Interrupts, timers and privilege state
  // =====================================================================================================

  stceOn(): boolean { return this.stce; }

  /** The effective mip value. */
  mip(): number {
    let v = this.mipLines | (this.stceOn() ? this.mipSw & ~C.MIP_STIP : this.mipSw);
    if (this.stipTimer) v |= C.MIP_STIP;
    return v;
  }

  /** Called whenever mip, mie, mideleg, mstatus or the privilege may have changed. */
  irqChanged(): void {
    this.attn = true;
    if (this.waiting && !this.stopped && (this.mip() & this.mie) !== 0) this.waiting = false;
  }

  /** Re-evaluates STIP from stimecmp (when menvcfg.STCE) and the SBI timer against the current time. */
  checkTimers(): void {
    const stce = this.stceOn();
    if (!stce && this.sbiTimer === Infinity && !this.stipTimer) return;
    const t = this.env.readTime(this.instret);
    const fire = (stce && t >= this.stimecmpNum) || t >= this.sbiTimer;
    if (fire === this.stipTimer) return;
    this.stipTimer = fire;
    if (fire) this.metrics.countInterrupt(stce && t >= this.stimecmpNum ? 'stimecmp' : 'sbi-timer');
    this.irqChanged();
  }

  /** The interrupt to take now (cause number), or -1 (privileged spec §3.1.9). */
  private pendingInterrupt(): number {
    const pend = this.mip() & this.mie;
    if (pend === 0) return -1;
    const m = pend & ~this.mideleg;
    if (m !== 0 && (this.priv < C.PRV_M || (this.mstatus & C.MSTATUS_MIE) !== 0)) return highestIrq(m);
    const s = pend & this.mideleg;
    if (s !== 0 && (this.priv < C.PRV_S || (this.priv === C.PRV_S && (this.mstatus & C.MSTATUS_SIE) !== 0))) {
      return highestIrq(s);
    }
    return -1;
  }

  setMstatus(v: number): void {
    const old = this.mstatus;
    this.mstatus = v;
    if (((old ^ v) & C.MSTATUS_MXR) !== 0) { this.ldTag.fill(NaN); }
    if (((old ^ v) & (C.MSTATUS_MPRV | C.MSTATUS_MPP | C.MSTATUS_SUM)) !== 0) this.updateCtx();
    this.irqChanged();
  }

  setSatp(v: bigint): void {
    const mode = Number(v >> 60n);
    if (mode !== C.SATP_MODE_BARE && mode !== C.SATP_MODE_SV39 && mode !== C.SATP_MODE_SV48) return; // WARL: ignored
    this.satp = v;
    this.satpMode = mode;
    this.satpAsid = Number((v >> 44n) & 0xffffn);
    this.satpRoot = Number(v & 0xfffffffffffn) * PAGE;
    this.flushTranslations();
    this.updateCtx();
  }

  private setPriv(p: 0 | 1 | 3): void {
    this.priv = p;
    this.updateCtx();
    this.attn = true;
  }

  private ctxOf(p: number): number {
    if (p === C.PRV_M) return 0;
    if (this.satpMode === C.SATP_MODE_BARE) return 4 * TLB_SETS;
    if (p === C.PRV_U) return TLB_SETS;
    return ((this.mstatus & C.MSTATUS_SUM) !== 0 ? 3 : 2) * TLB_SETS;
  }

  private updateCtx(): void {
    const ms = this.mstatus;
    this.lsPriv = this.priv === C.PRV_M && (ms & C.MSTATUS_MPRV) !== 0 ? (ms >> C.MSTATUS_MPP_SHIFT) & 3 : this.priv;
    this.ldCtx = this.ctxOf(this.lsPriv);
    this.fetchCtx = this.ctxOf(this.priv);
    this.fetchBase = NaN;
  }

  // =====================================================================================================
  // Traps (privileged spec §3.1.6-§3.1.16, §3.3.2, §4.1)
  // =====================================================================================================

  fault(cause: number, tval: number): never {
    this.trapCause = cause;
    this.trapTval = tval;
    throw TRAP;
  }

  private illegal(raw: number): never { return this.fault(C.CAUSE_ILLEGAL_INSTRUCTION, raw >>> 0); }

  private takeTrap(cause: number, tval: number, interrupt: boolean): void {
    const from = this.priv;
    const deleg = from <= C.PRV_S && (((interrupt ? this.mideleg : this.medeleg) >>> cause) & 1) !== 0;
    const tv = BigInt(tval);
    const causeBits = interrupt ? BigInt(cause) | (1n << 63n) : BigInt(cause);
    let ms = this.mstatus;
    if (deleg) {
      this.scause = causeBits; this.sepc = this.pc; this.stval = BigInt.asUintN(64, tv);
      ms = (ms & ~(C.MSTATUS_SPIE | C.MSTATUS_SIE | C.MSTATUS_SPP)) |
        ((ms & C.MSTATUS_SIE) !== 0 ? C.MSTATUS_SPIE : 0) | (from === C.PRV_S ? C.MSTATUS_SPP : 0);
      this.mstatus = ms;
      this.pc = this.stvecBase + (interrupt && this.stvecMode === 1 ? 4 * cause : 0);
      this.setPriv(C.PRV_S);
    } else {
      this.mcause = causeBits; this.mepc = this.pc; this.mtval = BigInt.asUintN(64, tv);
      ms = (ms & ~(C.MSTATUS_MPIE | C.MSTATUS_MIE | C.MSTATUS_MPP)) |
        ((ms & C.MSTATUS_MIE) !== 0 ? C.MSTATUS_MPIE : 0) | (from << C.MSTATUS_MPP_SHIFT);
      this.mstatus = ms;
      this.pc = this.mtvecBase + (interrupt && this.mtvecMode === 1 ? 4 * cause : 0);
      this.setPriv(C.PRV_M);
    }
    this.resValid = false;
    this.irqChanged();
  }

  // =====================================================================================================
  // Memory: translation and slow paths
  // =====================================================================================================

  /**
   * Translates and permission-checks one access of `size` bytes (wholly inside one page) and returns its
   * physical address; fills the translation cache when the whole 4 KiB page is RAM and PMP-allowed.
   */
  private translate(va: number, acc: C.AccessType, size: number): number {
    const eff = acc === C.ACC_FETCH ? this.priv : this.lsPriv;
    let pa: number;
    if (eff === C.PRV_M || this.satpMode === C.SATP_MODE_BARE) {
      pa = va < 0 ? va + TWO64 : va;
      this.walkGlobal = 1;
      this.walkSpBase = Math.floor(va * INV_PAGE);
      this.walkSpPages = 1;
    } else {
      pa = walk(this, va, acc, eff);
    }
    if (!this.pmp.check(pa, size, acc, eff)) this.fault(accessFaultCause(acc), va);
    const ppage = pa - (pa % PAGE);
    const ram = this.ram;
    if (ppage >= ram.base && ppage + PAGE <= ram.base + ram.size && this.pmp.check(ppage, PAGE, acc, eff)) {
      const vpn = Math.floor(va * INV_PAGE);
      const ctx = acc === C.ACC_FETCH ? this.fetchCtx : this.ldCtx;
      const i = ctx + (vpn & (TLB_SETS - 1));
      const tag = acc === C.ACC_FETCH ? this.fcTag : acc === C.ACC_LOAD ? this.ldTag : this.stTag;
      const off = acc === C.ACC_FETCH ? this.fcOff : acc === C.ACC_LOAD ? this.ldOff : this.stOff;
      tag[i] = vpn;
      off[i] = ppage - ram.base;
      const m = acc * TLB_SIZE + i;
      this.tlbGlobal[m] = this.walkGlobal;
      this.tlbSpBase[m] = this.walkSpBase;
      this.tlbSpPages[m] = this.walkSpPages;
    }
    return pa;
  }

  private lOff(va: number, size: number): number {
    const page = Math.floor(va * INV_PAGE);
    const po = va - page * PAGE;
    const i = this.ldCtx + (page & (TLB_SETS - 1));
    return this.ldTag[i] === page && po <= PAGE - size ? this.ldOff[i]! + po : -1;
  }

  private sOff(va: number, size: number): number {
    const page = Math.floor(va * INV_PAGE);
    const po = va - page * PAGE;
    const i = this.ldCtx + (page & (TLB_SETS - 1));
    return this.stTag[i] === page && po <= PAGE - size ? this.stOff[i]! + po : -1;
  }

  /** Uncached load: MMIO, page-crossing misaligned RAM access, or a translation-cache miss. Returns raw bits. */
  private loadSlow(va: number, size: number): bigint {
    const ram = this.ram;
    const po = va - Math.floor(va * INV_PAGE) * PAGE;
    if (po + size > PAGE) {
      const n1 = PAGE - po;
      const pa1 = this.translate(va, C.ACC_LOAD, n1);
      const pa2 = this.translate(va + n1, C.ACC_LOAD, size - n1);
      if (!ram.contains(pa1, n1) || !ram.contains(pa2, size - n1)) this.fault(C.CAUSE_LOAD_ACCESS, va);
      let v = 0n;
      for (let k = size - 1; k >= 0; k--) {
        const b = k < n1 ? this.ramU8[pa1 - ram.base + k]! : this.ramU8[pa2 - ram.base + k - n1]!;
        v = (v << 8n) | BigInt(b);
      }
      return v;
    }
    const pa = this.translate(va, C.ACC_LOAD, size);
    if (ram.contains(pa, size)) {
      const o = pa - ram.base, view = this.ramView;
      return size === 1 ? BigInt(view.getUint8(o)) : size === 2 ? BigInt(view.getUint16(o, true))
        : size === 4 ? BigInt(view.getUint32(o, true)) : view.getBigUint64(o, true);
    }
    if (pa % size !== 0) this.fault(C.CAUSE_LOAD_ACCESS, va);
    // guest-controlled: a device register read on behalf of the guest; happens once per instruction.
    const r = this.bus.mmioRead(pa, size as Width);
    if (r === null) this.fault(C.CAUSE_LOAD_ACCESS, va);
    return typeof r === 'bigint' ? r : BigInt(r);
  }

  /** Uncached store; `v` holds the raw bits (only the low `size` bytes are used). */
  private storeSlow(va: number, size: number, v: bigint): void {
    const ram = this.ram;
    const po = va - Math.floor(va * INV_PAGE) * PAGE;
    v = BigInt.asUintN(size * 8, v);
    if (po + size > PAGE) {
      const n1 = PAGE - po;
      const pa1 = this.translate(va, C.ACC_STORE, n1);
      const pa2 = this.translate(va + n1, C.ACC_STORE, size - n1);
      if (!ram.contains(pa1, n1) || !ram.contains(pa2, size - n1)) this.fault(C.CAUSE_STORE_ACCESS, va);
      this.noteStore(pa1 - ram.base, n1);
      this.noteStore(pa2 - ram.base, size - n1);
      for (let k = 0; k < size; k++) {
        const b = Number((v >> BigInt(k * 8)) & 0xffn);
        if (k < n1) this.ramU8[pa1 - ram.base + k] = b; else this.ramU8[pa2 - ram.base + k - n1] = b;
      }
      return;
    }
    const pa = this.translate(va, C.ACC_STORE, size);
    if (ram.contains(pa, size)) {
      const o = pa - ram.base, view = this.ramView;
      this.noteStore(o, size);
      if (size === 1) view.setUint8(o, Number(v));
      else if (size === 2) view.setUint16(o, Number(v), true);
      else if (size === 4) view.setUint32(o, Number(v), true);
      else view.setBigUint64(o, v, true);
      return;
    }
    if (pa % size !== 0) this.fault(C.CAUSE_STORE_ACCESS, va);
    // guest-controlled: a device register write on behalf of the guest; happens once per instruction.
    if (!this.bus.mmioWrite(pa, size as Width, size === 8 ? v : Number(v))) this.fault(C.CAUSE_STORE_ACCESS, va);
  }

  /** Reads 16 bits of instruction at `va`, making its page the current fetch page when it is cacheable. */
  private fetchHalf(va: number): number {
    const page = Math.floor(va * INV_PAGE);
    const i = this.fetchCtx + (page & (TLB_SETS - 1));
    const ram = this.ram;
    if (this.fcTag[i] !== page) {
      const pa = this.translate(va, C.ACC_FETCH, 2);
      if (!ram.contains(pa, 2)) this.fault(C.CAUSE_FETCH_ACCESS, va); // no execution from MMIO
      if (this.fcTag[i] !== page) return this.ramView.getUint16(pa - ram.base, true); // page not cacheable (PMP split)
    }
    this.fetchBase = page * PAGE;
    this.fetchOff = this.fcOff[i]!;
    this.fetchDc = this.decodePage(this.fetchOff);
    return this.ramView.getUint16(this.fetchOff + (va - page * PAGE), true);
  }

  /** The decode array of the RAM page at offset `off` (page-aligned), marking the page as holding code. */
  private decodePage(off: number): Int32Array {
    const p = off / PAGE;
    let a = this.dcPages[p];
    if (a === undefined) { a = new Int32Array(PAGE); this.dcPages[p] = a; }
    if (this.codeMark[p] === 0) {
      this.codeMark[p] = 1;
      if (this.codePages.length >= this.codeMark.length) this.codePages = this.codePages.filter((q) => this.codeMark[q] === 1);
      this.codePages.push(p);
    }
    return a;
  }

  // guest-controlled: instruction bytes come from guest memory.
  /** Decodes the instruction at byte `k` of the current fetch page into its cache entry and returns the entry. */
  private decodeFill(k: number): number {
    const dc = this.fetchDc, ram16 = this.ram16;
    const h = (this.fetchOff + k) / 2;
    const lo = ram16[h]!;
    let e: number, raw: number;
    if ((lo & 3) === 3) {
      e = raw = lo | (ram16[h + 1]! << 16);
    } else {
      raw = lo;
      e = RVC_TABLE[lo]!;
      if (e === 0) this.illegal(lo);
      e &= ~2; // tag: compressed
    }
    dc[k] = e;
    dc[k + 1] = raw;
    return e;
  }

  /**
   * A hart store of `size` bytes at RAM offset `off` hit a page marked as holding code: forget the decoded
   * entries of every instruction that may overlap those bytes (one starting up to 2 bytes before them).
   */
  private codeStore(off: number, size: number): void {
    const dc = this.dcPages[(off * INV_PAGE) | 0]!;
    const po = off % PAGE, end = po + size;
    for (let k = po < 2 ? 0 : (po - 2) & ~1; k < end; k += 2) dc[k] = 0;
  }

  /** Every RAM store by the hart outside the loop's fast path calls this with the RAM offset it writes. */
  noteStore(off: number, size: number): void {
    if (this.codeMark[(off * INV_PAGE) | 0] !== 0) this.codeStore(off, size);
  }

  /** FENCE.I: forget every decoded instruction. */
  private flushDecoded(): void {
    for (const p of this.codePages) {
      if (this.codeMark[p] === 0) continue;
      this.codeMark[p] = 0;
      this.dcPages[p]!.fill(0);
    }
    this.codePages.length = 0;
    this.fetchBase = NaN;
  }

  // guest-controlled: instruction bytes come from guest memory.
  private fetchSlow(pc: number): number {
    const lo = this.fetchHalf(pc);
    if ((lo & 3) !== 3) return lo;
    return lo | (this.fetchHalf(pc + 2) << 16);
  }

  /** SFENCE.VMA (privileged spec §4.2.1): `va` null = all addresses; `asid` null = all address spaces. */
  sfenceVma(va: number | null, asid: number | null): void {
    this.fetchBase = NaN;
    if (va === null && asid === null) { this.flushTranslations(); return; }
    if (asid !== null && asid !== this.satpAsid) return; // cached entries all belong to the current ASID
    const vpn = va === null ? 0 : Math.floor(va * INV_PAGE);
    const tags = [this.fcTag, this.ldTag, this.stTag];
    for (let t = 0; t < 3; t++) {
      const tag = tags[t]!;
      for (let i = TLB_SETS; i < 4 * TLB_SETS; i++) { // translated contexts only
        if (Number.isNaN(tag[i]!)) continue;
        const m = t * TLB_SIZE + i;
        if (asid !== null && this.tlbGlobal[m] === 1) continue;
        if (va !== null && (vpn < this.tlbSpBase[m]! || vpn >= this.tlbSpBase[m]! + this.tlbSpPages[m]!)) continue;
        tag[i] = NaN;
      }
    }
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
    const x = this.x, x32 = this.x32, view = this.ramView, codeMark = this.codeMark;
    let pc = this.pc, instret = this.instret;
    /** The next instret at which the timers are re-checked or the slice ends. */
    let stop = instret;
    for (;;) {
      try {
        for (;;) {
          if (this.attn) {
            this.attn = false;
            this.pc = pc; this.instret = instret;
            if (this.waiting || this.stopped) return;
            const irq = this.pendingInterrupt();
            if (irq >= 0) {
              this.takeTrap(irq, 0, true);
              this.waiting = false;
              limit--;
              stop = instret;
              pc = this.pc;
            }
            if (this.exitReq) { this.exitReq = false; return; }
          }
          if (instret >= stop) {
            if (instret >= limit) { this.pc = pc; this.instret = instret; return; }
            stop = Math.min(limit, instret - (instret & TIMER_CHECK_MASK) + TIMER_CHECK_MASK + 1);
            if ((instret & TIMER_CHECK_MASK) === 0) {
              this.pc = pc; this.instret = instret;
              this.checkTimers();
              if (this.attn) continue;
            }
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
                case 0: { const o = this.lOff(va, 1); const v = o >= 0 ? view.getInt8(o) : Number(BigInt.asIntN(8, this.loadSlow(va, 1))); x32[d] = v; x32[d | 1] = v >> 31; break; }
                case 1: { const o = this.lOff(va, 2); const v = o >= 0 ? view.getInt16(o, true) : Number(BigInt.asIntN(16, this.loadSlow(va, 2))); x32[d] = v; x32[d | 1] = v >> 31; break; }
                case 2: { const o = this.lOff(va, 4); const v = o >= 0 ? view.getInt32(o, true) : Number(BigInt.asIntN(32, this.loadSlow(va, 4))); x32[d] = v; x32[d | 1] = v >> 31; break; }
                case 3: {
                  const o = this.lOff(va, 8);
                  if (o >= 0) { x32[d] = view.getInt32(o, true); x32[d | 1] = view.getInt32(o + 4, true); } else x[rd] = BigInt.asIntN(64, this.loadSlow(va, 8));
                  break;
                }
                case 4: { const o = this.lOff(va, 1); x32[d] = o >= 0 ? view.getUint8(o) : Number(this.loadSlow(va, 1)); x32[d | 1] = 0; break; }
                case 5: { const o = this.lOff(va, 2); x32[d] = o >= 0 ? view.getUint16(o, true) : Number(this.loadSlow(va, 2)); x32[d | 1] = 0; break; }
                case 6: { const o = this.lOff(va, 4); x32[d] = o >= 0 ? view.getInt32(o, true) : Number(this.loadSlow(va, 4)) | 0; x32[d | 1] = 0; break; }
                default: return this.illegal(raw);
              }
              break;
            }
            case 8: { // STORE
              const va = x32[s1 | 1]! * TWO32 + (x32[s1]! >>> 0) + (((insn >> 25) << 5) | ((insn >>> 7) & 31));
              if (f3 > 3) return this.illegal(raw);
              const o = this.sOff(va, 1 << f3);
              if (o < 0) { this.storeSlow(va, 1 << f3, f3 === 3 ? x[rs2]! : BigInt(x32[s2]!)); break; }
              if (codeMark[(o * INV_PAGE) | 0] !== 0) this.codeStore(o, 1 << f3);
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
              npc = this.system(insn, raw, pc, npc);
              break;
            case 11: // AMO
              this.amo(insn, raw);
              break;
            case 1: case 9: // LOAD-FP, STORE-FP
              this.fpMem(insn, raw);
              break;
            case 20: case 16: case 17: case 18: case 19: // OP-FP, FMADD/FMSUB/FNMSUB/FNMADD
              this.fpOp(insn, raw);
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
        this.takeTrap(this.trapCause, this.trapTval, false);
        pc = this.pc;
        limit--;
        if (instret >= limit) return;
        stop = instret;
      }
    }
  }

  /** LOAD-FP / STORE-FP (FLW, FLD, FSW, FSD). */
  private fpMem(insn: number, raw: number): void {
    const f3 = (insn >>> 12) & 7, x32 = this.x32, view = this.ramView;
    if (f3 !== 2 && f3 !== 3) this.illegal(raw);
    this.fpCheck(raw);
    const s1 = ((insn >>> 15) & 31) << 1;
    if ((insn & 0x7f) === 0x07) {
      const rd = (insn >>> 7) & 31;
      const va = x32[s1 | 1]! * TWO32 + (x32[s1]! >>> 0) + (insn >> 20);
      if (f3 === 2) {
        const o = this.lOff(va, 4);
        this.fpu.f[rd] = boxF32(o >= 0 ? view.getUint32(o, true) : Number(this.loadSlow(va, 4)));
      } else {
        const o = this.lOff(va, 8);
        this.fpu.f[rd] = o >= 0 ? view.getBigUint64(o, true) : this.loadSlow(va, 8);
      }
      this.mstatus |= C.MSTATUS_FS;
      return;
    }
    const va = x32[s1 | 1]! * TWO32 + (x32[s1]! >>> 0) + (((insn >> 25) << 5) | ((insn >>> 7) & 31));
    const v = this.fpu.f[(insn >>> 20) & 31]!;
    const o = this.sOff(va, f3 === 2 ? 4 : 8);
    if (o < 0) { this.storeSlow(va, f3 === 2 ? 4 : 8, v); return; }
    this.noteStore(o, f3 === 2 ? 4 : 8);
    if (f3 === 2) view.setUint32(o, Number(v & 0xffffffffn), true); else view.setBigUint64(o, v, true);
  }

  /** OP-FP and the fused multiply-adds, executed by the Fpu. */
  private fpOp(insn: number, raw: number): void {
    this.fpCheck(raw);
    if (!(this.fpu as FpuExec).exec!(insn, this.x)) this.illegal(raw);
    this.mstatus |= C.MSTATUS_FS;
  }

  private fpCheck(raw: number): void {
    if (!this.fpuOk || (this.mstatus & C.MSTATUS_FS) === 0) this.illegal(raw);
  }

  /** SYSTEM opcode: ECALL/EBREAK/xRET/WFI/SFENCE.VMA and the Zicsr instructions. Returns the next pc. */
  private system(insn: number, raw: number, pc: number, npc: number): number {
    const f3 = (insn >>> 12) & 7;
    if (f3 !== 0) { this.csrInsn(insn, raw); return npc; }
    const rd = (insn >>> 7) & 31, rs1 = (insn >>> 15) & 31, rs2 = (insn >>> 20) & 31, f7 = insn >>> 25;
    if (f7 === 0x09 && rd === 0) { // SFENCE.VMA
      if (this.priv === C.PRV_U || (this.priv === C.PRV_S && (this.mstatus & C.MSTATUS_TVM) !== 0)) this.illegal(raw);
      const x32 = this.x32;
      this.sfenceVma(rs1 === 0 ? null : x32[rs1 * 2 + 1]! * TWO32 + (x32[rs1 * 2]! >>> 0),
        rs2 === 0 ? null : x32[rs2 * 2]! & 0xffff);
      return npc;
    }
    if (rd !== 0 || rs1 !== 0) this.illegal(raw);
    switch (insn >>> 20) {
      case 0x000: // ECALL
        if (this.priv === C.PRV_S && this.env.sbi !== null) {
          this.pc = npc; // the SBI handler may inspect or redirect the hart
          this.env.sbi.call(this);
          return this.pc;
        }
        return this.fault(this.priv === C.PRV_U ? C.CAUSE_USER_ECALL : this.priv === C.PRV_S ? C.CAUSE_SUPERVISOR_ECALL : C.CAUSE_MACHINE_ECALL, 0);
      case 0x001: // EBREAK
        return this.fault(C.CAUSE_BREAKPOINT, pc);
      case 0x302: { // MRET
        if (this.priv !== C.PRV_M) this.illegal(raw);
        const ms = this.mstatus;
        const mpp = ((ms >> C.MSTATUS_MPP_SHIFT) & 3) as 0 | 1 | 3;
        let n = (ms & ~(C.MSTATUS_MIE | C.MSTATUS_MPP)) | C.MSTATUS_MPIE | ((ms & C.MSTATUS_MPIE) !== 0 ? C.MSTATUS_MIE : 0);
        if (mpp !== C.PRV_M) n &= ~C.MSTATUS_MPRV;
        this.mstatus = n;
        this.resValid = false;
        this.setPriv(mpp);
        this.irqChanged();
        return this.mepc;
      }
      case 0x102: { // SRET
        if (this.priv === C.PRV_U || (this.priv === C.PRV_S && (this.mstatus & C.MSTATUS_TSR) !== 0)) this.illegal(raw);
        const ms = this.mstatus;
        const spp = (ms & C.MSTATUS_SPP) !== 0 ? 1 : 0;
        this.mstatus = (ms & ~(C.MSTATUS_SIE | C.MSTATUS_SPP | C.MSTATUS_MPRV)) | C.MSTATUS_SPIE |
          ((ms & C.MSTATUS_SPIE) !== 0 ? C.MSTATUS_SIE : 0);
        this.resValid = false;
        this.setPriv(spp);
        this.irqChanged();
        return this.sepc;
      }
      case 0x105: // WFI
        if (this.priv === C.PRV_U) this.illegal(raw);
        if (this.wakeable()) return npc;
        if (this.priv === C.PRV_S && (this.mstatus & C.MSTATUS_TW) !== 0) this.illegal(raw);
        this.waiting = true;
        this.attn = true;
        return npc;
      default:
        return this.illegal(raw);
    }
  }

  /**
   * Zicsr: CSRRW/CSRRS/CSRRC and the immediate forms, through the CSR table (csr.ts). CSRRS/CSRRC with rs1 = x0
   * (or uimm = 0) do not write. Checks, each raising illegal instruction: the CSR exists, privilege >= its
   * minPriv, a write has somewhere to go (never for read-only numbers), and the row's guard allows the access.
   */
  private csrInsn(insn: number, raw: number): void {
    const f3 = (insn >>> 12) & 7, rd = (insn >>> 7) & 31, rs1 = (insn >>> 15) & 31, csr = insn >>> 20;
    if (f3 === 4) this.illegal(raw);
    const writes = (f3 & 3) === 1 || rs1 !== 0;
    const row = this.csrs.rows[csr];
    if (row === undefined || row.minPriv > this.priv || (writes && row.write === null)) return this.illegal(raw);
    if (row.guard !== null && !row.guard(this, writes)) this.illegal(raw);
    const old = row.read(this);
    if (writes) {
      const src = (f3 & 4) !== 0 ? BigInt(rs1) : this.x[rs1]!;
      const v = (f3 & 3) === 1 ? src : (f3 & 3) === 2 ? old | src : old & ~src;
      row.write!(this, BigInt.asUintN(64, v));
      if (row.afterInsnWrite !== null) row.afterInsnWrite(this);
    }
    if (rd !== 0) this.x[rd] = BigInt.asIntN(64, old);
  }

  /** RV64A (unprivileged spec §8): LR/SC with a one-address reservation, and the AMOs. Misaligned -> fault. */
  private amo(insn: number, raw: number): void {
    const f3 = (insn >>> 12) & 7, f5 = insn >>> 27, rd = (insn >>> 7) & 31, rs1 = (insn >>> 15) & 31, rs2 = (insn >>> 20) & 31;
    if (f3 !== 2 && f3 !== 3) this.illegal(raw);
    const size = f3 === 2 ? 4 : 8;
    const x = this.x, x32 = this.x32, ram = this.ram, view = this.ramView;
    const va = x32[rs1 * 2 + 1]! * TWO32 + (x32[rs1 * 2]! >>> 0);
    if (f5 === 0x02) { // LR
      if (rs2 !== 0) this.illegal(raw);
      if (va % size !== 0) this.fault(C.CAUSE_MISALIGNED_LOAD, va);
      const pa = this.translate(va, C.ACC_LOAD, size);
      if (!ram.contains(pa, size)) this.fault(C.CAUSE_LOAD_ACCESS, va);
      const o = pa - ram.base;
      const v = size === 4 ? BigInt(view.getInt32(o, true)) : view.getBigInt64(o, true);
      x[rd] = v;
      this.resValid = true;
      this.resAddr = pa;
      this.resSize = size;
      this.resValue = v;
      return;
    }
    if (f5 !== 0x03 && f5 !== 0x01 && f5 !== 0x00 && f5 !== 0x04 && f5 !== 0x0c && f5 !== 0x08 &&
      f5 !== 0x10 && f5 !== 0x14 && f5 !== 0x18 && f5 !== 0x1c) this.illegal(raw);
    if (va % size !== 0) this.fault(C.CAUSE_MISALIGNED_STORE, va);
    const pa = this.translate(va, C.ACC_STORE, size);
    if (!ram.contains(pa, size) || !this.pmp.check(pa, size, C.ACC_LOAD, this.lsPriv)) this.fault(C.CAUSE_STORE_ACCESS, va);
    const o = pa - ram.base;
    this.noteStore(o, size);
    if (f5 === 0x03) { // SC
      const ok = this.resValid && this.resAddr === pa && this.resSize === size &&
        this.resValue === (size === 4 ? BigInt(view.getInt32(o, true)) : view.getBigInt64(o, true));
      this.resValid = false;
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
}

function highestIrq(bits: number): number {
  for (const b of C.IRQ_PRIORITY) if ((bits & (1 << b)) !== 0) return b;
  for (let b = 0; b < 32; b++) if ((bits & (1 << b)) !== 0) return b;
  return -1;
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
