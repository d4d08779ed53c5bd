// SiFive PLIC ("sifive,plic-1.0.0", "riscv,plic0") as on QEMU virt (riscv-plic-spec §3-§9; Linux
// drivers/irqchip/irq-sifive-plic.c): priorities, pending bits, per-context enables, thresholds and
// claim/complete, with level-triggered gateways. Context 2h is hart h's M-mode, 2h+1 its S-mode. Registers are
// 32-bit: an 8-byte access is two of them, narrower accesses are refused. Interrupts are counted where the
// lines are wired, not here.

import { RegisterTable, type RegisterDef } from '../memory/register-table.js';
import type { Resettable } from '../devices/device.js';
import { IRQ_M_EXT, IRQ_S_EXT, type HartIrq, type IrqLine, type WiredIrqChip } from './irq.js';

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

export class Plic implements WiredIrqChip, Resettable {
  /** The guest's view: priority1.., pending0.., enable<ctx>_<word>, threshold<ctx>, claim<ctx>. */
  readonly mmio: RegisterTable;
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

  constructor(private readonly harts: readonly HartIrq[], readonly sources = PLIC_NUM_SOURCES) {
    if (sources < 2 || sources > 1024) throw new RangeError(`PLIC: ${sources} sources; expected 2..1024`);
    this.contexts = 2 * harts.length;
    if (this.contexts < 2 || CONTEXT_BASE + CONTEXT_SIZE * this.contexts > PLIC_MMIO_SIZE) {
      throw new RangeError(`PLIC: ${harts.length} harts do not fit the virt PLIC window (1..${(PLIC_MMIO_SIZE - CONTEXT_BASE) / CONTEXT_SIZE / 2})`);
    }
    this.words = Math.ceil(sources / 32);
    this.priority = new Uint32Array(sources);
    this.level = new Uint8Array(sources);
    this.pending = new Uint32Array(this.words);
    this.inService = new Uint32Array(this.words);
    this.enable = new Uint32Array(this.contexts * this.words);
    this.threshold = new Uint32Array(this.contexts);
    this.eip = new Uint8Array(this.contexts);
    this.lines = [];
    for (let s = 0; s < sources; s++) this.lines.push({ set: (lvl: boolean) => this.setLevel(s, lvl) });

    // Priority, enable and threshold writes re-evaluate the harts' external interrupts at once, so none is plain:
    // coalescing them would delay an interrupt the guest may be spinning for. Source 0 does not exist: its
    // priority word is a hole.
    const enables: RegisterDef[] = [];
    for (let w = 0; w < this.words; w++) {
      enables.push({
        name: 'enable', offset: CONTEXT_ENABLE_BASE + 4 * w, width: 4, count: this.contexts, stride: CONTEXT_ENABLE_SIZE,
        nameOf: (c) => `enable${c}_${w}`, sideEffects: 'write',
        read: (c) => this.enable[c * this.words + w]!,
        write: (v, c) => this.writeEnable(c, w, v),
      });
    }
    this.mmio = new RegisterTable('plic', [
      {
        name: 'priority', offset: PRIORITY_BASE + PRIORITY_PER_ID, width: 4, count: sources - 1, stride: PRIORITY_PER_ID,
        nameOf: (i) => `priority${i + 1}`, sideEffects: 'write',
        read: (i) => this.priority[i + 1]!, write: (v, i) => this.writePriority(i + 1, v),
      },
      // Read-only: writes are dropped.
      { name: 'pending', offset: PENDING_BASE, width: 4, count: this.words, sideEffects: 'none', read: (w) => this.pending[w]! },
      ...enables,
      {
        name: 'threshold', offset: CONTEXT_BASE + CONTEXT_THRESHOLD, width: 4, count: this.contexts, stride: CONTEXT_SIZE,
        sideEffects: 'write', read: (c) => this.threshold[c]!, write: (v, c) => this.writeThreshold(c, v),
      },
      {
        name: 'claim', offset: CONTEXT_BASE + CONTEXT_CLAIM, width: 4, count: this.contexts, stride: CONTEXT_SIZE,
        sideEffects: 'both', read: (c) => this.claim(c), write: (v, c) => this.complete(c, v),
      },
    ], { wide: 'split' });
  }

  /**
   * Power-on state: priorities, enables and thresholds 0, nothing in service, the harts' external interrupts
   * dropped. The input lines keep their levels (they belong to the devices), so a line still high is pending again
   * through its level-triggered gateway, as it would be on hardware.
   */
  reset(): void {
    this.priority.fill(0);
    this.enable.fill(0);
    this.threshold.fill(0);
    this.inService.fill(0);
    this.pending.fill(0);
    for (let s = 1; s < this.sources; s++) if (this.level[s] === 1) this.pending[s >> 5]! |= 1 << (s & 31);
    this.update();
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
    this.update();
    return s;
  }

  // guest-controlled: s is any 32-bit value.
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

  // guest-controlled: v is any 32-bit value.
  private writePriority(s: number, v: number): void {
    this.priority[s] = v & PLIC_PRIORITY_MASK;
    this.update();
  }

  // guest-controlled: v is any 32-bit value; bits of sources that do not exist stay 0.
  private writeEnable(ctx: number, w: number, v: number): void {
    let mask = 0xffff_ffff;
    if (w === 0) mask &= ~1; // source 0 does not exist
    const top = this.sources - w * 32;
    if (top < 32) mask &= (1 << top) - 1;
    this.enable[ctx * this.words + w] = v & mask;
    this.update();
  }

  // guest-controlled: v is any 32-bit value.
  private writeThreshold(ctx: number, v: number): void {
    this.threshold[ctx] = v & PLIC_PRIORITY_MASK;
    this.update();
  }
}
