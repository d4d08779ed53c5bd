// MSI-X (PCI 3.0 §6.8.2; PCIe 4.0 §7.7.2): the capability (table size, table and PBA BIR/offset, function mask,
// enable), the vector table and pending-bit array as register tables inside a BAR, and delivery. A vector that
// fires while masked (per vector or function-wide) sets its pending bit and is sent when unmasked. A message is a
// 32-bit DMA write through the function's DmaSpace — the interrupt controller is never touched directly, so an IOMMU
// or a disabled bus master sees (and can refuse) it like any other DMA.

import { DMA_OK, dmaAddr, type DmaSpace } from '../memory/dma.js';
import { RegisterTable } from '../memory/register-table.js';
import type { ExitClass } from '../metrics/counters.js';
import type { Resettable } from '../devices/device.js';
import type { CapabilitySpec, ConfigWindow } from './config-space.js';
import {
  PCI_CAP_ID_MSIX, PCI_CAP_MSIX_SIZEOF, PCI_MSIX_BIR, PCI_MSIX_ENTRY_CTRL_MASKBIT, PCI_MSIX_ENTRY_DATA,
  PCI_MSIX_ENTRY_LOWER_ADDR, PCI_MSIX_ENTRY_SIZE, PCI_MSIX_ENTRY_UPPER_ADDR, PCI_MSIX_ENTRY_VECTOR_CTRL,
  PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, PCI_MSIX_FLAGS_MASKALL, PCI_MSIX_MAX_VECTORS, PCI_MSIX_PBA, PCI_MSIX_TABLE,
  PCI_STD_NUM_BARS,
} from './regs.js';

/** What `notify` did. 0 (DMA_OK): the message was written; a positive value: the DmaSpace fault code it got. */
export const MSI_SENT = DMA_OK;
/** The vector (or the whole function) is masked: the pending bit is set and the message goes out on unmask. */
export const MSI_MASKED = -1;
/** MSI/MSI-X is not enabled: nothing is sent and nothing is pending (the device may use INTx). */
export const MSI_DISABLED = -2;
/** No such vector. */
export const MSI_NO_VECTOR = -3;

export interface MsixSpec {
  /** Table size, 1..2048. */
  readonly vectors: number;
  /** BAR index (BIR) and offset (8-byte aligned) of the vector table. */
  readonly tableBar: number;
  readonly tableOffset: number;
  /** BAR index and offset (8-byte aligned) of the pending-bit array. */
  readonly pbaBar: number;
  readonly pbaOffset: number;
  /** Exit class of table and PBA accesses (default the BAR's). A directly assigned function's table stays trapped ('user'), as VFIO traps it. */
  readonly exitClass?: ExitClass;
}

/** Delivery counters of one function's MSI or MSI-X. */
export class MsiCounters {
  /** Messages written successfully. */
  sent = 0;
  /** Vectors that fired while masked (pending bit set). */
  masked = 0;
  /** Messages the DmaSpace refused (no interrupt file there, bus mastering off, IOMMU fault). */
  faults = 0;
  /** notify() calls while disabled. */
  disabled = 0;
}

/** Checks a spec; throws RangeError naming what is wrong (a device-model bug, not a guest action). */
export function checkMsixSpec(s: MsixSpec): void {
  const bad = (why: string) => { throw new RangeError(`MSI-X: ${why}`); };
  if (!Number.isInteger(s.vectors) || s.vectors < 1 || s.vectors > PCI_MSIX_MAX_VECTORS) bad(`table size ${s.vectors} is not in 1..${PCI_MSIX_MAX_VECTORS}`);
  for (const [what, bar, off] of [['table', s.tableBar, s.tableOffset], ['PBA', s.pbaBar, s.pbaOffset]] as const) {
    if (!Number.isInteger(bar) || bar < 0 || bar >= PCI_STD_NUM_BARS) bad(`${what} BIR ${bar} is not a BAR index 0..5`);
    if (!Number.isInteger(off) || off < 0 || off % 8 !== 0 || off > 0xffff_fff8) bad(`${what} offset ${off} must be 8-byte aligned and 32-bit`);
  }
  const tEnd = s.tableOffset + s.vectors * PCI_MSIX_ENTRY_SIZE;
  const pEnd = s.pbaOffset + msixPbaBytes(s.vectors);
  if (s.tableBar === s.pbaBar && s.tableOffset < pEnd && s.pbaOffset < tEnd) bad('table and PBA overlap');
}

export function msixPbaBytes(vectors: number): number { return Math.ceil(vectors / 64) * 8; }

export class Msix implements Resettable {
  readonly vectors: number;
  readonly counters = new MsiCounters();
  /** The vector table (offsets relative to tableOffset) and PBA (relative to pbaOffset), for the BAR to dispatch to. */
  readonly table: RegisterTable;
  readonly pba: RegisterTable;
  readonly tableBytes: number;
  readonly pbaBytes: number;
  readonly capability: CapabilitySpec;
  private readonly addrLo: Uint32Array;
  private readonly addrHi: Uint32Array;
  private readonly data: Uint32Array;
  private readonly ctrl: Uint32Array;
  private readonly pending: Uint8Array;
  private cap: ConfigWindow | null = null;

  constructor(readonly spec: MsixSpec, private readonly dma: () => DmaSpace, device = 'msix') {
    checkMsixSpec(spec);
    const n = this.vectors = spec.vectors;
    this.tableBytes = n * PCI_MSIX_ENTRY_SIZE;
    this.pbaBytes = msixPbaBytes(n);
    this.addrLo = new Uint32Array(n);
    this.addrHi = new Uint32Array(n);
    this.data = new Uint32Array(n);
    this.ctrl = new Uint32Array(n);
    this.pending = new Uint8Array(n);
    const entry = { width: 4, count: n, stride: PCI_MSIX_ENTRY_SIZE } as const;
    // Table accesses are DWORD or QWORD (PCIe 4.0 §6.1.4.2): narrower ones are refused, QWORDs split.
    this.table = new RegisterTable(`${device} MSI-X table`, [
      { ...entry, name: 'MSIX_ADDR_LO', offset: PCI_MSIX_ENTRY_LOWER_ADDR, sideEffects: 'none', read: (i: number) => this.addrLo[i]!, write: (v: number, i: number) => { this.addrLo[i] = v & ~3; } },
      { ...entry, name: 'MSIX_ADDR_HI', offset: PCI_MSIX_ENTRY_UPPER_ADDR, sideEffects: 'none', read: (i: number) => this.addrHi[i]!, write: (v: number, i: number) => { this.addrHi[i] = v; } },
      { ...entry, name: 'MSIX_DATA', offset: PCI_MSIX_ENTRY_DATA, sideEffects: 'none', read: (i: number) => this.data[i]!, write: (v: number, i: number) => { this.data[i] = v; } },
      { ...entry, name: 'MSIX_CTRL', offset: PCI_MSIX_ENTRY_VECTOR_CTRL, sideEffects: 'write', read: (i: number) => this.ctrl[i]!, write: (v: number, i: number) => this.writeCtrl(i, v) },
    ], { wide: 'split' });
    // The PBA is read-only (writes are dropped); its QWORDs may be read as DWORDs.
    this.pba = new RegisterTable(`${device} MSI-X PBA`, [
      { name: 'MSIX_PBA', offset: 0, width: 8, count: this.pbaBytes / 8, sideEffects: 'none', narrow: 'extract', read: (i) => this.pbaWord(i) },
    ]);
    this.capability = { id: PCI_CAP_ID_MSIX, size: PCI_CAP_MSIX_SIZEOF, install: (w) => this.install(w) };
    this.reset();
  }

  private install(w: ConfigWindow): void {
    this.cap = w;
    w.set16(PCI_MSIX_FLAGS, this.vectors - 1);
    w.writable(PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_MASKALL | PCI_MSIX_FLAGS_ENABLE);
    w.set32(PCI_MSIX_TABLE, this.spec.tableOffset | (this.spec.tableBar & PCI_MSIX_BIR));
    w.set32(PCI_MSIX_PBA, this.spec.pbaOffset | (this.spec.pbaBar & PCI_MSIX_BIR));
    w.watch(PCI_MSIX_FLAGS, 2, () => this.flush());
  }

  private get flags(): number { return this.cap === null ? 0 : this.cap.get16(PCI_MSIX_FLAGS); }
  get enabled(): boolean { return (this.flags & PCI_MSIX_FLAGS_ENABLE) !== 0; }
  get functionMasked(): boolean { return (this.flags & PCI_MSIX_FLAGS_MASKALL) !== 0; }

  /** Whether vector `v` would be held back (its mask bit or the function mask). */
  isMasked(v: number): boolean { return this.functionMasked || (this.ctrl[v]! & PCI_MSIX_ENTRY_CTRL_MASKBIT) !== 0; }
  isPending(v: number): boolean { return this.pending[v] === 1; }

  /** The message a vector would send: its 64-bit address and 32-bit data. */
  message(v: number): { address: bigint; data: number } {
    return { address: (BigInt(this.addrHi[v]!) << 32n) | BigInt(this.addrLo[v]!), data: this.data[v]! };
  }

  /** Signals vector `v`: sends its message, or sets its pending bit when masked. Returns MSI_* or a DMA fault code. */
  notify(v: number): number {
    if (!Number.isInteger(v) || v < 0 || v >= this.vectors) return MSI_NO_VECTOR;
    if (!this.enabled) { this.counters.disabled++; return MSI_DISABLED; }
    if (this.isMasked(v)) {
      this.pending[v] = 1;
      this.counters.masked++;
      return MSI_MASKED;
    }
    return this.send(v);
  }

  /** Withdraws a pending vector (the device's condition went away before the guest unmasked it). */
  clearPending(v: number): void { if (v >= 0 && v < this.vectors) this.pending[v] = 0; }

  private send(v: number): number {
    const r = this.dma().msi(dmaAddr(this.message(v).address), this.data[v]!);
    if (r === DMA_OK) this.counters.sent++; else this.counters.faults++;
    return r;
  }

  private writeCtrl(v: number, value: number): void {
    // Only the mask bit is defined; the rest are reserved and read 0.
    this.ctrl[v] = value & PCI_MSIX_ENTRY_CTRL_MASKBIT;
    if (this.pending[v] === 1 && this.enabled && !this.isMasked(v)) { this.pending[v] = 0; this.send(v); }
  }

  /** Sends every pending vector that is no longer masked (after enable or function unmask). */
  private flush(): void {
    if (!this.enabled || this.functionMasked) return;
    for (let v = 0; v < this.vectors; v++) {
      if (this.pending[v] === 1 && !this.isMasked(v)) { this.pending[v] = 0; this.send(v); }
    }
  }

  private pbaWord(i: number): bigint {
    let w = 0n;
    for (let b = 0; b < 64; b++) {
      const v = i * 64 + b;
      if (v < this.vectors && this.pending[v] === 1) w |= 1n << BigInt(b);
    }
    return w;
  }

  /** Power-on state: every vector masked with a zero message, nothing pending (the capability resets with config space). */
  reset(): void {
    this.addrLo.fill(0);
    this.addrHi.fill(0);
    this.data.fill(0);
    this.ctrl.fill(PCI_MSIX_ENTRY_CTRL_MASKBIT);
    this.pending.fill(0);
  }
}
