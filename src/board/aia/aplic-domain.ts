// One APLIC interrupt domain (RISC-V AIA spec, "Advanced Platform-Level Interrupt Controller": sourcecfg with
// delegation, "Precise effects on interrupt-pending bits", targets, direct delivery through IDCs, and
// "Interrupt forwarding by MSIs" including "Special consideration for level-sensitive interrupt sources").

import type { HartIrq } from '../irq.js';
import { AplicIdcs } from './aplic-idc.js';
import {
  APLIC_DOMAINCFG_DM, APLIC_DOMAINCFG_IE, APLIC_DOMAINCFG_RDONLY, APLIC_SOURCECFG_CHILDIDX_MASK,
  APLIC_SOURCECFG_D, APLIC_SOURCECFG_SM_MASK, APLIC_TARGET_EIID_MASK, APLIC_TARGET_HART_IDX_MASK,
  APLIC_TARGET_HART_IDX_SHIFT, SM,
} from './aplic-regs.js';

/** What a domain needs from the APLIC that holds it: the wires, the MSI path, the parameters. */
export interface AplicShared {
  /** Sources 1..numSources exist. */
  readonly numSources: number;
  readonly harts: number;
  readonly iprioMask: number;
  /** Current (unrectified) level of source i's wire. */
  wire(i: number): boolean;
  /** Sends an MSI for a domain at `level` to hart index `hart`; data = eiid. */
  sendMsi(level: 'M' | 'S', hart: number, guest: number, eiid: number): void;
}

const TARGET_HART_MASK = APLIC_TARGET_HART_IDX_MASK << APLIC_TARGET_HART_IDX_SHIFT;
const isEdge = (sm: number): boolean => sm === SM.edge1 || sm === SM.edge0;
const isLevel = (sm: number): boolean => sm === SM.level1 || sm === SM.level0;

export class AplicDomain {
  readonly children: AplicDomain[] = [];
  /** Index of this domain among its parent's children (the Child Index of a delegating sourcecfg). */
  readonly childIndex: number;
  private readonly sourcecfg: Uint32Array;
  private readonly pending: Uint8Array;
  private readonly enable: Uint8Array;
  private readonly target: Uint32Array;
  private ie = false;
  private dm: 0 | 1;
  private genmsiValue = 0;
  /** Direct delivery: the IDC structures, or null when direct mode is unsupported. */
  readonly idcs: AplicIdcs | null;
  /** MSIs forwarded for sources (not counting genmsi), for tests and metrics. */
  msisForwarded = 0;

  constructor(
    private readonly ctx: AplicShared,
    readonly level: 'M' | 'S',
    readonly parent: AplicDomain | null,
    /** Direct delivery outputs by hart index (MEIP/SEIP of each hart), or null when direct mode is unsupported. */
    direct: readonly HartIrq[] | null,
    /** Whether MSI delivery mode is supported. */
    readonly msiCapable: boolean,
    extBit: number,
  ) {
    if (direct === null && !msiCapable) throw new RangeError(`APLIC ${level}-level domain: supports neither direct nor MSI delivery`);
    const n = ctx.numSources + 1;
    this.sourcecfg = new Uint32Array(n);
    this.pending = new Uint8Array(n);
    this.enable = new Uint8Array(n);
    this.target = new Uint32Array(n);
    this.dm = direct === null ? 1 : 0;
    this.idcs = direct === null ? null : new AplicIdcs({
      numSources: ctx.numSources,
      directMode: () => this.dm === 0,
      enabled: () => this.ie,
      ready: (i) => this.pending[i] === 1 && this.enable[i] === 1,
      target: (i) => this.target[i]!,
      claim: (i) => { if (!isLevel(this.mode(i))) this.pending[i] = 0; }, // a level source stays pending while asserted
    }, ctx.harts, ctx.iprioMask, direct, extBit);
    this.childIndex = parent === null ? 0 : parent.children.push(this) - 1;
  }

  get directCapable(): boolean { return this.idcs !== null; }
  get msiMode(): boolean { return this.dm === 1; }

  reset(): void {
    for (const a of [this.sourcecfg, this.pending, this.enable, this.target]) a.fill(0);
    this.ie = false;
    this.dm = this.idcs === null ? 1 : 0;
    this.genmsiValue = 0;
    this.idcs?.reset();
  }

  // ---- sources -------------------------------------------------------------------------------------------

  /** Whether source i exists in this domain (the root has all; a child those its parent delegates to it). */
  implemented(i: number): boolean {
    if (!Number.isInteger(i) || i < 1 || i > this.ctx.numSources) return false;
    const p = this.parent;
    return p === null || (p.implemented(i) && p.sourcecfg[i] === (APLIC_SOURCECFG_D | this.childIndex));
  }

  /** Active: implemented, not delegated, SM not Inactive. (Unimplemented sources keep sourcecfg 0.) */
  active(i: number): boolean {
    if (!Number.isInteger(i) || i < 1 || i > this.ctx.numSources) return false;
    const c = this.sourcecfg[i]!;
    return (c & APLIC_SOURCECFG_D) === 0 && c !== SM.inactive;
  }

  private mode(i: number): number { return this.sourcecfg[i]! & APLIC_SOURCECFG_SM_MASK; }

  /** The rectified input of source i: wire XOR inverted for edge/level modes, else 0. */
  rectified(i: number): boolean {
    if (!this.active(i)) return false;
    const sm = this.mode(i);
    if (!isEdge(sm) && !isLevel(sm)) return false;
    return this.ctx.wire(i) !== (sm === SM.edge0 || sm === SM.level0);
  }

  /** The domain where source i is active or last delegated to (for routing wire changes). */
  owner(i: number): AplicDomain {
    const c = this.sourcecfg[i] ?? 0;
    if ((c & APLIC_SOURCECFG_D) === 0) return this;
    return this.children[c & APLIC_SOURCECFG_CHILDIDX_MASK]?.owner(i) ?? this;
  }

  /** The wire of source i changed; `before` is the rectified input under the old wire value. */
  inputChanged(i: number, before: boolean): void {
    if (!this.active(i)) return;
    const sm = this.mode(i);
    const now = this.rectified(i);
    if (isEdge(sm)) {
      if (!before && now) this.pending[i] = 1;
    } else if (isLevel(sm)) {
      if (this.dm === 0) this.pending[i] = now ? 1 : 0; // direct: a copy of the rectified input
      else if (!now) this.pending[i] = 0;
      else if (!before) this.pending[i] = 1; // MSI: set on the low-to-high transition only
    } else {
      return;
    }
    this.deliver(i);
  }

  readSourcecfg(i: number): number { return this.implemented(i) ? this.sourcecfg[i]! : 0; }

  // guest-controlled: any source number and value.
  writeSourcecfg(i: number, v: number): void {
    if (!this.implemented(i)) return;
    let next: number;
    if ((v & APLIC_SOURCECFG_D) !== 0) {
      const child = v & APLIC_SOURCECFG_CHILDIDX_MASK;
      next = child < this.children.length ? APLIC_SOURCECFG_D | child : 0; // a leaf cannot delegate
    } else {
      next = v & APLIC_SOURCECFG_SM_MASK;
      if (next === 2 || next === 3) next = SM.inactive; // reserved modes: WARL to Inactive
    }
    const old = this.sourcecfg[i]!;
    if (old === next) return;
    if ((old & APLIC_SOURCECFG_D) !== 0) this.children[old & APLIC_SOURCECFG_CHILDIDX_MASK]?.forget(i);
    const wasActive = this.active(i);
    this.sourcecfg[i] = next;
    if (!this.active(i)) {
      this.pending[i] = 0; this.enable[i] = 0; this.target[i] = 0;
    } else {
      if (!wasActive) this.target[i] = this.dm === 0 ? 1 : 0; // hart 0, IPRIO 1 / EIID 0
      const sm = this.mode(i);
      if (isLevel(sm)) this.pending[i] = this.rectified(i) ? 1 : 0; // never pending while low
    }
    this.deliver(i);
  }

  /** Source i is no longer delegated to this domain: its state here (and below) reads zero again. */
  private forget(i: number): void {
    const c = this.sourcecfg[i]!;
    if ((c & APLIC_SOURCECFG_D) !== 0) this.children[c & APLIC_SOURCECFG_CHILDIDX_MASK]?.forget(i);
    this.sourcecfg[i] = 0; this.pending[i] = 0; this.enable[i] = 0; this.target[i] = 0;
    this.idcs?.update();
  }

  // ---- pending and enable bits ---------------------------------------------------------------------------

  isPending(i: number): boolean { return this.active(i) && this.pending[i] === 1; }
  isEnabled(i: number): boolean { return this.active(i) && this.enable[i] === 1; }

  /** setip/setipnum: set the pending bit of source i if its mode allows it. */
  setPendingNum(i: number): void {
    if (!this.active(i)) return;
    const sm = this.mode(i);
    if (isLevel(sm) && (this.dm === 0 || !this.rectified(i))) return;
    this.pending[i] = 1;
    this.deliver(i);
  }

  /** in_clrip/clripnum: clear the pending bit of source i if its mode allows it. */
  clearPendingNum(i: number): void {
    if (!this.active(i)) return;
    if (isLevel(this.mode(i)) && this.dm === 0) return;
    this.pending[i] = 0;
    this.idcs?.update();
  }

  setEnableNum(i: number, on: boolean): void {
    if (!this.active(i)) return;
    this.enable[i] = on ? 1 : 0;
    this.deliver(i);
  }

  // ---- domaincfg, target, genmsi -------------------------------------------------------------------------

  readDomaincfg(): number {
    return (APLIC_DOMAINCFG_RDONLY | (this.ie ? APLIC_DOMAINCFG_IE : 0) | (this.dm === 1 ? APLIC_DOMAINCFG_DM : 0)) >>> 0;
  }

  // guest-controlled: IE; DM where both modes exist (else read-only); BE is read-only 0 (little-endian only).
  writeDomaincfg(v: number): void {
    this.ie = (v & APLIC_DOMAINCFG_IE) !== 0;
    const dm = this.idcs === null ? 1 : !this.msiCapable ? 0 : (v & APLIC_DOMAINCFG_DM) !== 0 ? 1 : 0;
    if (dm !== this.dm) {
      this.dm = dm;
      for (let i = 1; i <= this.ctx.numSources; i++) {
        if (!this.active(i)) continue;
        this.target[i] = this.formatTarget(this.target[i]!);
        if (isLevel(this.mode(i)) && (dm === 0 || !this.rectified(i))) this.pending[i] = this.rectified(i) ? 1 : 0;
      }
    }
    this.deliverAll();
  }

  private formatTarget(v: number): number {
    const hart = v & TARGET_HART_MASK;
    if (this.dm === 1) return (hart | (v & APLIC_TARGET_EIID_MASK)) >>> 0; // Guest Index read-only 0: no H extension
    return (hart | ((v & this.ctx.iprioMask) || 1)) >>> 0; // IPRIO 0 becomes 1
  }

  readTarget(i: number): number { return this.active(i) ? this.target[i]! : 0; }

  // guest-controlled: hart indexes that name no hart are kept (WLRL) and simply reach no hart.
  writeTarget(i: number, v: number): void {
    if (!this.active(i)) return;
    this.target[i] = this.formatTarget(v >>> 0);
    this.deliver(i);
  }

  readGenmsi(): number { return this.dm === 1 ? this.genmsiValue : 0; } // Busy is never seen: MSIs leave at once

  writeGenmsi(v: number): void {
    if (this.dm !== 1) return;
    this.genmsiValue = ((v & TARGET_HART_MASK) | (v & APLIC_TARGET_EIID_MASK)) >>> 0;
    this.ctx.sendMsi(this.level, this.genmsiValue >>> APLIC_TARGET_HART_IDX_SHIFT, 0, this.genmsiValue & APLIC_TARGET_EIID_MASK);
  }

  // ---- delivery ------------------------------------------------------------------------------------------

  /** MSI mode: forward source i if pending, enabled and IE, clearing its pending bit. Direct: update outputs. */
  private deliver(i: number): void {
    if (this.dm === 0) { this.idcs?.update(); return; }
    if (!this.ie || this.pending[i] !== 1 || this.enable[i] !== 1 || !this.active(i)) return;
    this.pending[i] = 0;
    this.msisForwarded++;
    const t = this.target[i]!;
    this.ctx.sendMsi(this.level, t >>> APLIC_TARGET_HART_IDX_SHIFT, 0, t & APLIC_TARGET_EIID_MASK);
  }

  private deliverAll(): void {
    if (this.dm === 0) { this.idcs?.update(); return; }
    this.idcs?.update(); // drops any direct-mode outputs
    for (let i = 1; i <= this.ctx.numSources; i++) this.deliver(i);
  }
}
