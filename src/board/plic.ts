// SiFive PLIC ("sifive,plic-1.0.0", "riscv,plic0") as on QEMU virt (riscv-plic-spec §3-§9; Linux
// drivers/irqchip/irq-sifive-plic.c): priorities, pending bits, per-context enables, thresholds and
// claim/complete, with level-triggered gateways. Context 2h is hart h's M-mode, 2h+1 its S-mode.

import type { MmioHandler, Width } from '../memory/bus.js';
import type { Metrics } from '../metrics/counters.js';
import { IRQ_M_EXT, IRQ_S_EXT, type HartIrq, type IrqLine } from './irq.js';
import { hi32, lo32 } from './mmio-value.js';

// Register layout (names as in irq-sifive-plic.c).
export const PRIORITY_BASE = 0x0;
export const PRIORITY_PER_ID = 4;
export const PENDING_BASE = 0x1000;
export const CONTEXT_ENABLE_BASE = 0x2000;
export const CONTEXT_ENABLE_SIZE = 0x80;
export const CONTEXT_BASE = 0x20_0000;
export const CONTEXT_SIZE = 0x1000;
export const CONTEXT_THRESHOLD = 0x00;
export const CONTEXT_CLAIM = 0x04;

/** MMIO size on the virt board (room for 1024 contexts). */
export const PLIC_MMIO_SIZE = 0x60_0000;
/** Interrupt sources including the reserved source 0; riscv,ndev = PLIC_NUM_SOURCES - 1. */
export const PLIC_NUM_SOURCES = 96;
/** Priorities and thresholds have 3 bits (QEMU virt), so threshold 7 masks everything. */
export const PLIC_PRIORITY_MASK = 7;

/** Offset -> register name for bus metrics (priorities, pending, per-context enable/threshold/claim). */
export function plicRegisterNames(contexts: number, sources = PLIC_NUM_SOURCES): Record<number, string> {
  const names: Record<number, string> = {};
  for (let s = 1; s < sources; s++) names[PRIORITY_BASE + PRIORITY_PER_ID * s] = `priority${s}`;
  const words = Math.ceil(sources / 32);
  for (let w = 0; w < words; w++) names[PENDING_BASE + 4 * w] = `pending${w}`;
  for (let c = 0; c < contexts; c++) {
    for (let w = 0; w < words; w++) names[CONTEXT_ENABLE_BASE + CONTEXT_ENABLE_SIZE * c + 4 * w] = `enable${c}_${w}`;
    names[CONTEXT_BASE + CONTEXT_SIZE * c + CONTEXT_THRESHOLD] = `threshold${c}`;
    names[CONTEXT_BASE + CONTEXT_SIZE * c + CONTEXT_CLAIM] = `claim${c}`;
  }
  return names;
}

export class Plic implements MmioHandler {
  readonly registerNames: Readonly<Record<number, string>>;
  readonly contexts: number;
  private readonly words: number;
  private readonly priority: Uint32Array;
  /** Current input line levels (one byte per source). */
  private readonly level: Uint8Array;
  private readonly pending: Uint32Array;
  /** Claimed and not yet completed. */
  private readonly inService: Uint32Array;
  private readonly enable: Uint32Array;
  private readonly threshold: Uint32Array;
  private readonly eip: Uint8Array;
  private readonly lines: IrqLine[];
  private readonly interruptNames: string[];

  constructor(
    private readonly harts: readonly HartIrq[],
    private readonly metrics: Metrics,
    readonly sources = PLIC_NUM_SOURCES,
  ) {
    if (sources < 2 || sources > 1024) throw new RangeError(`PLIC: ${sources} sources; expected 2..1024`);
    this.contexts = 2 * harts.length;
    if (this.contexts < 2 || CONTEXT_BASE + CONTEXT_SIZE * this.contexts > PLIC_MMIO_SIZE) {
      throw new RangeError(`PLIC: ${harts.length} harts do not fit the virt PLIC window (1..${(PLIC_MMIO_SIZE - CONTEXT_BASE) / CONTEXT_SIZE / 2})`);
    }
    this.words = Math.ceil(sources / 32);
    this.registerNames = plicRegisterNames(this.contexts, sources);
    this.priority = new Uint32Array(sources);
    this.level = new Uint8Array(sources);
    this.pending = new Uint32Array(this.words);
    this.inService = new Uint32Array(this.words);
    this.enable = new Uint32Array(this.contexts * this.words);
    this.threshold = new Uint32Array(this.contexts);
    this.eip = new Uint8Array(this.contexts);
    this.lines = [];
    this.interruptNames = [];
    for (let s = 0; s < sources; s++) {
      this.lines.push({ set: (lvl: boolean) => this.setLevel(s, lvl) });
      this.interruptNames.push(`plic:${s}`);
    }
  }

  /** The input line of `source` (1..sources-1), to hand to a device. */
  irqLine(source: number): IrqLine {
    if (!Number.isInteger(source) || source < 1 || source >= this.sources) {
      throw new RangeError(`PLIC source ${source} does not exist; valid sources are 1..${this.sources - 1}`);
    }
    return this.lines[source]!;
  }

  /** Level-triggered gateway: pending while the line is high and the source is not in service. */
  private setLevel(s: number, high: boolean): void {
    this.level[s] = high ? 1 : 0;
    const w = s >> 5;
    const bit = 1 << (s & 31);
    if (high && (this.inService[w]! & bit) === 0) this.pending[w]! |= bit;
    else if (!high) this.pending[w]! &= ~bit;
    this.update();
  }

  /** The highest-priority pending, enabled source above the context's threshold (ties: lowest id), or 0. */
  private best(ctx: number): number {
    let bestId = 0;
    let bestPrio = this.threshold[ctx]!;
    const en = ctx * this.words;
    for (let w = 0; w < this.words; w++) {
      let bits = this.pending[w]! & this.enable[en + w]!;
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        const s = w * 32 + b;
        const p = this.priority[s]!;
        if (p > bestPrio) { bestPrio = p; bestId = s; }
      }
    }
    return bestId;
  }

  private update(): void {
    for (let c = 0; c < this.contexts; c++) {
      const lvl = this.best(c) !== 0 ? 1 : 0;
      if (lvl !== this.eip[c]) {
        this.eip[c] = lvl;
        this.harts[c >> 1]!.setPending((c & 1) === 0 ? IRQ_M_EXT : IRQ_S_EXT, lvl === 1);
      }
    }
  }

  private claim(ctx: number): number {
    const s = this.best(ctx);
    if (s === 0) return 0;
    const w = s >> 5;
    const bit = 1 << (s & 31);
    this.pending[w]! &= ~bit;
    this.inService[w]! |= bit;
    this.metrics.countInterrupt(this.interruptNames[s]!);
    this.update();
    return s;
  }

  /** Completion is ignored unless the source is enabled for the context (spec §9); Linux toggles enable around it. */
  private complete(ctx: number, s: number): void {
    if (s < 1 || s >= this.sources) return;
    const w = s >> 5;
    const bit = 1 << (s & 31);
    if ((this.enable[ctx * this.words + w]! & bit) === 0) return;
    this.inService[w]! &= ~bit;
    if (this.level[s] === 1) this.pending[w]! |= bit;
    this.update();
  }

  private read32(off: number): number {
    if (off < PENDING_BASE) {
      const s = off >> 2;
      return s < this.sources ? this.priority[s]! : 0;
    }
    if (off < CONTEXT_ENABLE_BASE) {
      const w = (off - PENDING_BASE) >> 2;
      return w < this.words ? this.pending[w]! >>> 0 : 0;
    }
    if (off < CONTEXT_BASE) {
      const ctx = Math.floor((off - CONTEXT_ENABLE_BASE) / CONTEXT_ENABLE_SIZE);
      const w = ((off - CONTEXT_ENABLE_BASE) % CONTEXT_ENABLE_SIZE) >> 2;
      return ctx < this.contexts && w < this.words ? this.enable[ctx * this.words + w]! >>> 0 : 0;
    }
    const ctx = Math.floor((off - CONTEXT_BASE) / CONTEXT_SIZE);
    if (ctx >= this.contexts) return 0;
    const reg = (off - CONTEXT_BASE) % CONTEXT_SIZE;
    if (reg === CONTEXT_THRESHOLD) return this.threshold[ctx]!;
    if (reg === CONTEXT_CLAIM) return this.claim(ctx);
    return 0;
  }

  private write32(off: number, v: number): void {
    if (off < PENDING_BASE) {
      const s = off >> 2;
      if (s === 0 || s >= this.sources) return;
      this.priority[s] = v & PLIC_PRIORITY_MASK;
    } else if (off < CONTEXT_ENABLE_BASE) {
      return; // pending bits are read-only
    } else if (off < CONTEXT_BASE) {
      const ctx = Math.floor((off - CONTEXT_ENABLE_BASE) / CONTEXT_ENABLE_SIZE);
      const w = ((off - CONTEXT_ENABLE_BASE) % CONTEXT_ENABLE_SIZE) >> 2;
      if (ctx >= this.contexts || w >= this.words) return;
      let mask = 0xffff_ffff;
      if (w === 0) mask &= ~1; // source 0 does not exist
      const top = this.sources - w * 32;
      if (top < 32) mask &= (1 << top) - 1;
      this.enable[ctx * this.words + w] = v & mask;
    } else {
      const ctx = Math.floor((off - CONTEXT_BASE) / CONTEXT_SIZE);
      if (ctx >= this.contexts) return;
      const reg = (off - CONTEXT_BASE) % CONTEXT_SIZE;
      if (reg === CONTEXT_THRESHOLD) this.threshold[ctx] = v & PLIC_PRIORITY_MASK;
      else if (reg === CONTEXT_CLAIM) { this.complete(ctx, v); return; }
      else return;
    }
    this.update();
  }

  // guest-controlled: registers are 32-bit; an 8-byte access is two 32-bit ones, narrower or misaligned read 0.
  read(offset: number, width: Width): number | bigint {
    if (width < 4 || (offset & 3) !== 0 || offset < 0 || offset >= PLIC_MMIO_SIZE) return 0;
    const lo = this.read32(offset);
    if (width === 4) return lo;
    return (BigInt(this.read32(offset + 4) >>> 0) << 32n) | BigInt(lo >>> 0);
  }

  // guest-controlled: any value at any offset; narrow or misaligned writes are ignored.
  write(offset: number, width: Width, value: number | bigint): void {
    if (width < 4 || (offset & 3) !== 0 || offset < 0 || offset >= PLIC_MMIO_SIZE) return;
    this.write32(offset, lo32(value));
    if (width === 8) this.write32(offset + 4, hi32(value));
  }
}
