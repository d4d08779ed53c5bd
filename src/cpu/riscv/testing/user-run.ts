// Runs a static riscv64 Linux ELF on vmio's hart in U-mode with a tiny syscall shim (write, exit, exit_group of
// the Linux riscv64 syscall ABI: a7 = number, a0..a5 arguments, a0 = result). Used by the differential tests.
//
// How traps reach TS (only the hart's public API is used): medeleg = 0 and mtvec points at a two-instruction
// stub `wfi; mret` above the program. A trap from U lands in M at the stub; its WFI makes run() return; the
// runner sees priv = M, reads mcause/mepc, emulates the syscall, writes mepc and lets the stub's mret return
// to U-mode.

import { Bus } from '../../../memory/bus.js';
import { GuestMemory } from '../../../memory/guest-memory.js';
import { Metrics } from '../../../metrics/counters.js';
import { parseElf } from '../../../boot/elf.js';
import { Hart } from '../hart.js';
import { Fpu } from '../fpu.js';
import { attachJit, type Jit } from '../jit/engine.js';
import { CSR_MCAUSE, CSR_MEPC, CSR_MSTATUS, CSR_MTVAL, CSR_MTVEC, CAUSE_USER_ECALL, MSTATUS_FS_SHIFT } from '../csr-defs.js';

const SYS_WRITE = 64, SYS_EXIT = 93, SYS_EXIT_GROUP = 94;
const ENOSYS = 38, EFAULT = 14;
const WFI = 0x10500073, MRET = 0x30200073;

export interface Trap { cause: number; epc: number; tval: bigint }

export interface UserRunResult {
  /** Exit status, or null when the run stopped for another reason (see `stopped`). */
  exitCode: number | null;
  stopped: 'exit' | 'trap' | 'budget';
  /** The unexpected trap that ended the run, when stopped = 'trap'. */
  trap: Trap | null;
  stdout: Uint8Array;
  instructions: number;
}

export interface UserRunOptions {
  ramBase?: number;
  ramSize?: number;
  /** Stop after this many instructions. */
  maxInstructions?: number;
  /**
   * Called for a trap that is not an ecall; returns the user pc to resume at, or null to stop the run.
   */
  onTrap?: (t: Trap) => number | null;
  /** 'jit': the hart translates code (eagerly: everything it reaches runs translated). Default 'interp'. */
  cpu?: 'interp' | 'jit' | 'jit-tier';
}

export class UserProcess {
  readonly ram: GuestMemory;
  readonly hart: Hart;
  readonly metrics = new Metrics();
  private readonly stub: number;
  private out: Uint8Array[] = [];
  private readonly jit: Jit | null;

  constructor(elf: Uint8Array, opts: UserRunOptions = {}) {
    const base = opts.ramBase ?? 0x8000_0000;
    const size = opts.ramSize ?? 16 << 20;
    this.ram = new GuestMemory(base, size, false, opts.cpu !== undefined && opts.cpu !== 'interp'); // jit: a WebAssembly memory, as vmio run makes it
    const bus = new Bus(this.ram, this.metrics);
    const img = parseElf(elf);
    for (const s of img.segments) {
      if (!this.ram.contains(s.paddr, s.memSize)) {
        throw new RangeError(`ELF segment at 0x${s.paddr.toString(16)}+${s.memSize} is outside RAM 0x${base.toString(16)}+${size}`);
      }
      this.ram.load(s.paddr, s.data);
    }
    this.stub = base + size - 4096;
    this.ram.write32(this.stub - base, WFI);
    this.ram.write32(this.stub - base + 4, MRET);
    this.hart = new Hart(0, { bus, metrics: this.metrics, readTime: (n) => n, sbi: null });
    if (typeof (this.hart.fpu as { exec?: unknown }).exec !== 'function') this.hart.fpu = new Fpu();
    this.hart.reset(img.entry, 0);
    this.hart.writeCsr(CSR_MTVEC, BigInt(this.stub));
    this.hart.writeCsr(CSR_MSTATUS, 1n << BigInt(MSTATUS_FS_SHIFT)); // FS = Initial, MPP = U
    // 'jit': every pc translated as soon as seen (the block translator alone); 'jit-tier': as vmio run attaches it
    // (the WebAssembly tier, blocks for what gets hot)
    this.jit = opts.cpu === 'jit' ? attachJit(this.hart, { eager: true }) : opts.cpu === 'jit-tier' ? attachJit(this.hart) : null;
  }

  /** Instructions the WebAssembly tier ran itself so far (0 without it). */
  tier(): number { return this.jit?.stats.tier ?? 0; }

  /** Instructions retired in translated code so far (0 without --cpu jit). */
  translated(): number { return this.jit?.stats.retired ?? 0; }

  run(opts: UserRunOptions = {}): UserRunResult {
    const max = opts.maxInstructions ?? 100_000_000;
    const h = this.hart;
    let total = 0;
    while (total < max) {
      this.jit?.prime(h);
      total += h.run(Math.min(1_000_000, max - total));
      if (h.priv !== 3) continue;
      if (h.pc !== this.stub + 4) throw new Error(`hart is in M-mode at 0x${h.pc.toString(16)}, not at the trap stub`);
      const cause = Number(h.readCsr(CSR_MCAUSE));
      const epc = Number(BigInt.asIntN(64, h.readCsr(CSR_MEPC)));
      let resume: number | null;
      if (cause === CAUSE_USER_ECALL) {
        const code = this.syscall();
        if (code !== null) return this.result(code, 'exit', null, total);
        resume = epc + 4;
      } else {
        const trap = { cause, epc, tval: h.readCsr(CSR_MTVAL) };
        resume = opts.onTrap?.(trap) ?? null;
        if (resume === null) return this.result(null, 'trap', trap, total);
      }
      h.writeCsr(CSR_MEPC, BigInt(resume));
      h.waiting = false;
    }
    return this.result(null, 'budget', null, total);
  }

  /** Emulates the syscall in a7; returns an exit code when the program exits. */
  // guest-controlled: syscall number and arguments.
  private syscall(): number | null {
    const x = this.hart.x;
    const nr = Number(x[17]!);
    switch (nr) {
      case SYS_WRITE: {
        const addr = BigInt.asUintN(64, x[11]!);
        const len = BigInt.asUintN(64, x[12]!);
        if (len > BigInt(this.ram.size) || addr > BigInt(Number.MAX_SAFE_INTEGER) || !this.ram.contains(Number(addr), Number(len))) {
          x[10] = BigInt(-EFAULT);
          return null;
        }
        this.out.push(this.ram.slice(Number(addr), Number(len)));
        x[10] = len;
        return null;
      }
      case SYS_EXIT: case SYS_EXIT_GROUP:
        return Number(BigInt.asIntN(32, x[10]!));
      default:
        x[10] = BigInt(-ENOSYS);
        return null;
    }
  }

  private result(exitCode: number | null, stopped: UserRunResult['stopped'], trap: Trap | null, instructions: number): UserRunResult {
    const n = this.out.reduce((a, b) => a + b.length, 0);
    const stdout = new Uint8Array(n);
    let o = 0;
    for (const b of this.out) { stdout.set(b, o); o += b.length; }
    return { exitCode, stopped, trap, stdout, instructions };
  }
}
