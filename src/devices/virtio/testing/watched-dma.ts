// Test support: a guest (RAM on a bus with its metrics) and a DmaSpace that records every access the device
// made and that succeeded, so tests and the fuzzer can check where a device wrote (only the used ring and
// device-writable buffers) and that nothing it touched lay outside guest RAM.

import { Bus } from '../../../memory/bus.js';
import { IdentityDmaSpace, type DmaFaultRecord, type DmaSpace } from '../../../memory/dma.js';
import { GuestMemory } from '../../../memory/guest-memory.js';
import { Metrics, type DmaCounters } from '../../../metrics/counters.js';

export interface Access { addr: number; len: number; write: boolean }

export class WatchedDma implements DmaSpace {
  /** Successful accesses, in order (bounded: the oldest are dropped past `limit`). */
  readonly accesses: Access[] = [];
  /** Successful accesses that were not wholly inside RAM (must stay empty). */
  readonly outside: Access[] = [];

  constructor(private readonly inner: DmaSpace, private readonly ram: GuestMemory, private readonly limit = 100_000) {}

  get counters(): DmaCounters { return this.inner.counters; }
  get enabled(): boolean { return this.inner.enabled; }
  set enabled(v: boolean) { this.inner.enabled = v; }
  get lastFault(): DmaFaultRecord | null { return this.inner.lastFault; }

  private note(addr: number, len: number, write: boolean, ok: boolean): void {
    if (!ok) return;
    const a = { addr, len, write };
    if (!this.ram.contains(addr, len)) this.outside.push(a);
    if (this.accesses.length < this.limit) this.accesses.push(a);
  }

  /** The successful writes. */
  get writes(): Access[] { return this.accesses.filter((a) => a.write); }

  clear(): void { this.accesses.length = 0; }

  read(addr: number, dst: Uint8Array): number { const r = this.inner.read(addr, dst); this.note(addr, dst.length, false, r === 0); return r; }
  write(addr: number, src: Uint8Array): number { const r = this.inner.write(addr, src); this.note(addr, src.length, true, r === 0); return r; }
  read8(addr: number): number { const r = this.inner.read8(addr); this.note(addr, 1, false, r >= 0); return r; }
  read16(addr: number): number { const r = this.inner.read16(addr); this.note(addr, 2, false, r >= 0); return r; }
  read32(addr: number): number { const r = this.inner.read32(addr); this.note(addr, 4, false, r >= 0); return r; }
  read64(addr: number): bigint { const r = this.inner.read64(addr); this.note(addr, 8, false, r >= 0n); return r; }
  write8(addr: number, v: number): number { const r = this.inner.write8(addr, v); this.note(addr, 1, true, r === 0); return r; }
  write16(addr: number, v: number): number { const r = this.inner.write16(addr, v); this.note(addr, 2, true, r === 0); return r; }
  write32(addr: number, v: number): number { const r = this.inner.write32(addr, v); this.note(addr, 4, true, r === 0); return r; }
  write64(addr: number, v: bigint): number { const r = this.inner.write64(addr, v); this.note(addr, 8, true, r === 0); return r; }
  msi(addr: number, data: number): number { const r = this.inner.msi(addr, data); this.note(addr, 4, true, r === 0); return r; }
}

export interface Guest {
  metrics: Metrics;
  ram: GuestMemory;
  bus: Bus;
  dma: WatchedDma;
}

/** A guest with `size` bytes of RAM at `base` and a watched identity DmaSpace named `name`. */
export function makeGuest(size = 1 << 20, base = 0x8000_0000, name = 'virtio'): Guest {
  const metrics = new Metrics();
  const ram = new GuestMemory(base, size);
  const bus = new Bus(ram, metrics);
  const dma = new WatchedDma(new IdentityDmaSpace(bus, metrics.dma(name)), ram);
  return { metrics, ram, bus, dma };
}
