// Tests for DmaSpace: every guest-controlled address is checked, faults are codes (never throws), a fault
// part-way leaves memory unchanged, bus mastering gates everything, MSIs reach DMA-capable regions only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Bus } from '../../src/memory/bus.js';
import { GuestMemory } from '../../src/memory/guest-memory.js';
import { Metrics } from '../../src/metrics/counters.js';
import {
  IdentityDmaSpace, dmaAddr, DMA_OK, DMA_FAULT_RANGE, DMA_FAULT_UNMAPPED, DMA_FAULT_DISABLED, DMA_FAULT_TRANSLATION,
  type DmaTargets,
} from '../../src/memory/dma.js';
import type { DmaCounters } from '../../src/metrics/counters.js';

const RAM = 0x8000_0000;
const SIZE = 1 << 16;

function setup() {
  const metrics = new Metrics();
  const ram = new GuestMemory(RAM, SIZE);
  const bus = new Bus(ram, metrics);
  const msis: number[] = [];
  bus.addRegion({ name: 'imsic', base: 0x2800_0000, size: 0x1000, exitClass: 'kernel', dmaTarget: true, handler: { read: () => 0, write: (_o, _w, v) => { msis.push(Number(v)); } } });
  bus.addRegion({ name: 'uart', base: 0x1000_0000, size: 0x100, exitClass: 'user', handler: { read: () => 0, write: () => { throw new Error('a device must not reach this'); } } });
  const dma = new IdentityDmaSpace(bus, metrics.dma('dev'));
  return { metrics, ram, bus, dma, msis };
}

test('scalar and block accesses inside RAM round-trip, little-endian, and are counted', () => {
  const { dma, ram, metrics } = setup();
  assert.equal(dma.write32(RAM + 0x100, 0xdeadbeef), DMA_OK);
  assert.equal(ram.read8(0x100), 0xef);
  assert.equal(dma.read16(RAM + 0x102), 0xdead);
  assert.equal(dma.write64(RAM + 0x200, 0x0123_4567_89ab_cdefn), DMA_OK);
  assert.equal(dma.read64(RAM + 0x200), 0x0123_4567_89ab_cdefn);
  const buf = new Uint8Array([1, 2, 3, 4, 5]);
  assert.equal(dma.write(RAM + SIZE - 5, buf), DMA_OK, 'last bytes of RAM');
  const back = new Uint8Array(5);
  assert.equal(dma.read(RAM + SIZE - 5, back), DMA_OK);
  assert.deepEqual([...back], [1, 2, 3, 4, 5]);
  const c = metrics.toJSON() as { dma: Record<string, { bytesWritten: number; faults: number }> };
  assert.equal(c.dma['dev']?.bytesWritten, 4 + 8 + 5);
  assert.equal(c.dma['dev']?.faults, 0);
});

test('addresses outside RAM, straddling its end, negative, non-integer or beyond 2^53 fault without touching memory', () => {
  const { dma, ram } = setup();
  ram.write8(SIZE - 1, 0x5a);
  assert.equal(dma.write(RAM + SIZE - 1, new Uint8Array([1, 2])), DMA_FAULT_UNMAPPED);
  assert.equal(ram.read8(SIZE - 1), 0x5a, 'a fault part-way writes nothing');
  assert.equal(dma.read32(RAM - 4), -DMA_FAULT_UNMAPPED);
  assert.equal(dma.read32(-8), -DMA_FAULT_RANGE);
  assert.equal(dma.read32(1.5), -DMA_FAULT_RANGE);
  assert.equal(dma.read64(2 ** 60), -BigInt(DMA_FAULT_RANGE));
  assert.equal(dma.write32(0x1000_0000, 1), DMA_FAULT_UNMAPPED, 'an ordinary device region takes no DMA');
  assert.equal(dma.counters.faults, 6);
  assert.deepEqual(dma.lastFault, { addr: 0x1000_0000, len: 4, write: true, code: DMA_FAULT_UNMAPPED });
});

test('dmaAddr keeps exact 64-bit guest values and refuses inexact ones', () => {
  assert.equal(dmaAddr(0x8000_1000n), 0x8000_1000);
  assert.equal(dmaAddr(-1n), -1);
  assert.equal(dmaAddr(1n << 53n), -1);
  assert.equal(dmaAddr((1n << 53n) - 1n), 2 ** 53 - 1);
});

test('bus mastering off: every access faults', () => {
  const { dma, ram } = setup();
  dma.enabled = false;
  assert.equal(dma.write32(RAM, 7), DMA_FAULT_DISABLED);
  assert.equal(dma.read8(RAM), -DMA_FAULT_DISABLED);
  assert.equal(dma.msi(0x2800_0000, 3), DMA_FAULT_DISABLED);
  assert.equal(ram.read32(0), 0);
});

test('an MSI is a 32-bit DMA write: it reaches an interrupt file, counted, and faults elsewhere', () => {
  const { dma, msis, metrics } = setup();
  assert.equal(dma.msi(0x2800_0000, 42), DMA_OK);
  assert.equal(dma.msi(0x3000_0000, 1), DMA_FAULT_UNMAPPED);
  assert.equal(dma.msi(0x2800_0002, 1), DMA_FAULT_UNMAPPED, 'misaligned');
  assert.deepEqual(msis, [42]);
  assert.equal(dma.counters.msis, 1);
  assert.equal(metrics.exits, 0, 'DMA is not an exit');
});

/** A translated space over 4 KiB pages (as an IOMMU's will be): page p of bus space maps to `map[p]`. */
class PagedSpace extends IdentityDmaSpace {
  constructor(t: DmaTargets, c: DmaCounters, private readonly map: Map<number, number>) { super(t, c); }
  protected override translate(addr: number): number {
    const pa = this.map.get(Math.floor(addr / 4096));
    if (pa === undefined) return -DMA_FAULT_TRANSLATION;
    this.span = 4096 - (addr % 4096);
    return pa + (addr % 4096);
  }
}

test('a translated space splits accesses at translation boundaries and faults before writing anything', () => {
  const metrics = new Metrics();
  const ram = new GuestMemory(RAM, SIZE);
  const bus = new Bus(ram, metrics);
  const sp = new PagedSpace(bus, metrics.dma('vf'), new Map([[0, RAM + 0x3000], [1, RAM + 0x1000]]));
  const data = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
  assert.equal(sp.write(4096 - 8, data), DMA_OK);
  assert.deepEqual([...ram.slice(RAM + 0x3ff8, 8)], [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual([...ram.slice(RAM + 0x1000, 8)], [9, 10, 11, 12, 13, 14, 15, 16]);
  assert.equal(sp.read32(4096 - 2), 0x0a09_0807, 'a scalar across the boundary');
  assert.equal(sp.write(2 * 4096 - 4, new Uint8Array(8).fill(0xff)), DMA_FAULT_TRANSLATION);
  assert.deepEqual([...ram.slice(RAM + 0x1ffc, 4)], [0, 0, 0, 0], 'nothing written before the fault');
});

test('property: random addresses and lengths never throw and never write outside the range they name', () => {
  const { dma, ram } = setup();
  let seed = 12345;
  const rnd = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed; };
  const picks = [0, RAM - 8, RAM, RAM + SIZE - 8, RAM + SIZE, 2 ** 53 - 4, 2 ** 53 + 8, -4, 0x2800_0000, 0xffff_ffff];
  for (let i = 0; i < 5000; i++) {
    const base = picks[rnd() % picks.length]! + (rnd() % 64) - 32;
    const len = [0, 1, 2, 4, 8, 64, 4096, 70000][rnd() % 8]!;
    const before = ram.slice(RAM, SIZE);
    let r = 0;
    assert.doesNotThrow(() => { r = dma.write(base, new Uint8Array(len).fill(0xa5)); });
    const after = ram.slice(RAM, SIZE);
    for (let k = 0; k < SIZE; k++) {
      if (before[k] !== after[k]) {
        assert.equal(r, DMA_OK);
        assert.ok(RAM + k >= base && RAM + k < base + len, `byte ${k} changed outside [${base}, +${len})`);
      }
    }
    if (r === DMA_OK) ram.fill(RAM, SIZE, 0);
    assert.doesNotThrow(() => { dma.read32(base); dma.read64(base); dma.write16(base, 1); ram.fill(RAM, SIZE, 0); });
  }
});
