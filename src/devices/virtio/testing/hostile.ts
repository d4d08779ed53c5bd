// Random rings for property tests and the fuzzer: well-formed chains (direct and indirect, any mix of readable
// and writable buffers) and the ways a hostile driver breaks them — cycles, addresses outside RAM or outside any
// bus address, lengths that overflow, indirect tables nested, empty or ragged, `next` past a table, readable after
// writable, heads past the table, avail.idx jumps, random bytes sprayed over the rings.

import { VIRTQ_DESC_F_INDIRECT, VIRTQ_DESC_F_NEXT, VIRTQ_DESC_F_WRITE, VIRTQ_DESC_SIZE } from '../constants.js';
import type { MockChain, MockDriver, Segment } from './mock-driver.js';
import type { Prng } from './prng.js';

export interface ChainShape {
  /** Buffers per chain (1..maxSegs) and bytes per buffer (0..maxLen). */
  maxSegs: number;
  maxLen: number;
  /** Probability of an indirect chain. */
  indirect: number;
}

/** Adds a random well-formed chain (readable buffers first); null when the ring is full. */
export function randomChain(rng: Prng, drv: MockDriver, shape: ChainShape, defer = false): MockChain | null {
  const n = rng.range(1, shape.maxSegs);
  const readable = rng.range(0, n);
  const segs: Segment[] = [];
  for (let i = 0; i < n; i++) {
    const len = rng.range(0, shape.maxLen);
    if (i < readable) { const data = new Uint8Array(len); rng.fill(data); segs.push({ data }); } else segs.push({ len });
  }
  return drv.add(segs, { indirect: rng.chance(shape.indirect), defer });
}

export const MUTATIONS = [
  'cycle', 'outside-ram', 'inexact-address', 'huge-len', 'nested-indirect', 'empty-indirect', 'ragged-indirect',
  'next-past-table', 'readable-after-writable', 'head-past-table', 'avail-jump', 'spray',
] as const;
export type Mutation = (typeof MUTATIONS)[number];

interface Desc { table: number; index: number }

/** The descriptors holding the chain's buffers, in order (in the main table or in its indirect table). */
function bufferDescs(drv: MockDriver, c: MockChain): Desc[] {
  return c.table >= 0 ? c.buffers.map((_, i) => ({ table: c.table, index: i })) : c.ids.map((index) => ({ table: drv.desc, index }));
}

function readDesc(drv: MockDriver, d: Desc): { addr: bigint; len: number; flags: number; next: number } {
  const o = d.table - drv.mem.base + d.index * VIRTQ_DESC_SIZE;
  return { addr: drv.mem.read64(o), len: drv.mem.read32(o + 8), flags: drv.mem.read16(o + 12), next: drv.mem.read16(o + 14) };
}

function patch(drv: MockDriver, d: Desc, p: Partial<{ addr: bigint | number; len: number; flags: number; next: number }>): void {
  const cur = readDesc(drv, d);
  drv.writeDesc(d.table, d.index, p.addr ?? cur.addr, p.len ?? cur.len, p.flags ?? cur.flags, p.next ?? cur.next);
}

/**
 * Breaks chain `c` (already in the available ring) the way `m` says. Returns true when the queue must end up
 * broken (the walk itself catches it), false when the outcome depends on what the device touches, and null when
 * the mutation does not apply to this chain.
 */
export function mutate(rng: Prng, drv: MockDriver, c: MockChain, m: Mutation, ramEnd: number): boolean | null {
  const descs = bufferDescs(drv, c);
  const last = descs[descs.length - 1]!;
  const any = rng.pick(descs);
  const tableLen = c.table >= 0 ? c.buffers.length : drv.size;
  switch (m) {
    case 'cycle':
      patch(drv, last, { flags: readDesc(drv, last).flags | VIRTQ_DESC_F_NEXT, next: c.table >= 0 ? 0 : c.head });
      return true;
    case 'outside-ram':
      patch(drv, any, { addr: rng.pick([0, 0x1000, ramEnd, ramEnd - 8, 0x1_0000_0000_0000]) });
      return false;
    case 'inexact-address':
      patch(drv, any, { addr: (1n << 60n) + BigInt(rng.u32()) });
      return true;
    case 'huge-len':
      if (descs.length < 2) return null;
      patch(drv, descs[0]!, { len: 0xffff_ffff });
      patch(drv, last, { len: 0xffff_ffff });
      return true;
    case 'nested-indirect':
      if (c.table >= 0) { patch(drv, any, { flags: VIRTQ_DESC_F_INDIRECT, len: 16, addr: c.table }); return true; }
      return null;
    case 'empty-indirect':
      drv.writeDesc(drv.desc, c.head, c.table >= 0 ? c.table : drv.desc, 0, VIRTQ_DESC_F_INDIRECT, 0);
      return true;
    case 'ragged-indirect':
      drv.writeDesc(drv.desc, c.head, c.table >= 0 ? c.table : drv.desc, rng.range(1, 15) + 16 * rng.range(0, 3), VIRTQ_DESC_F_INDIRECT, 0);
      return true;
    case 'next-past-table':
      patch(drv, any, { flags: readDesc(drv, any).flags | VIRTQ_DESC_F_NEXT, next: Math.min(0xffff, tableLen + rng.range(0, 100)) });
      return true;
    case 'readable-after-writable':
      if (descs.length < 2) return null;
      patch(drv, descs[0]!, { flags: readDesc(drv, descs[0]!).flags | VIRTQ_DESC_F_WRITE });
      patch(drv, last, { flags: readDesc(drv, last).flags & ~VIRTQ_DESC_F_WRITE });
      return true;
    case 'head-past-table':
      drv.mem.write16(drv.avail - drv.mem.base + 4 + 2 * ((drv.availIdx - 1) & (drv.size - 1)), drv.size + rng.range(0, 0xffff - drv.size));
      return true;
    case 'avail-jump':
      drv.setAvailIdx(drv.availIdx + drv.size + rng.range(1, 1000));
      return true;
    case 'spray': {
      const from = rng.pick([drv.desc, drv.avail, c.table >= 0 ? c.table : drv.desc]);
      const span = rng.range(1, 64);
      const junk = new Uint8Array(span);
      rng.fill(junk);
      drv.mem.load(from + rng.range(0, 16 * Math.min(drv.size, 8)), junk);
      return false;
    }
  }
}
