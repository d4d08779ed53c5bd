// The 82576's 16 receive and 16 transmit queues (82576EB datasheet: receive and transmit registers): each a block of registers (base,
// length, head, tail, SRRCTL, RXDCTL/TXDCTL, …) that the PF reaches at 0xC000/0xE000 + 0x40n (queues 0-3 also at the
// 0x2800/0x3800 + 0x100n alias) and a VF at 0x2800/0x3800 + 0x100q for its own queues. This file keeps the registers
// and turns them into a checked ring; rx.ts and tx.ts walk the rings.

import { dmaAddr, DMA_MAX_ADDR } from '../../memory/dma.js';
import { ADV_DESC_SIZE, E1000_RXDCTL_QUEUE_ENABLE, E1000_SRRCTL_BSIZEPKT_MASK, E1000_SRRCTL_BSIZEPKT_SHIFT } from './defines.js';
import { IGB_NUM_QUEUES, Q_DBAH, Q_DBAL, Q_DCTL, Q_DH, Q_DLEN, Q_DT, Q_SRRCTL } from './regs.js';

/** RDLEN/TDLEN: a multiple of 128 bytes below 1 MiB (bits 19:7). */
const DLEN_MASK = 0x000f_ff80;
/** RDBAL/TDBAL: 128-byte aligned. */
const DBAL_MASK = 0xffff_ff80;
/** Words per queue block (0x40 bytes). */
const BLOCK_WORDS = 16;
/** SRRCTL.BSIZEPKT of 0 means the RCTL buffer size; the model then uses 2 KiB, RCTL's default. */
const DEFAULT_RX_BUFFER = 2048;

/** A ring the registers describe, already checked: `count` 16-byte descriptors at `base`. */
export interface Ring {
  base: number;
  count: number;
  head: number;
  tail: number;
}

/** Why a ring was refused (counted by the device). */
export type RingFault = 'ring-empty' | 'ring-index' | 'ring-address';

export class QueueRegs {
  private readonly words = new Uint32Array(IGB_NUM_QUEUES * BLOCK_WORDS);
  /** ring() fills this one object (valid until the next call), so the data path allocates nothing per packet. */
  private readonly scratch: Ring = { base: 0, count: 0, head: 0, tail: 0 };

  constructor(readonly tx: boolean) {}

  get(q: number, reg: number): number { return this.words[q * BLOCK_WORDS + (reg >> 2)]!; }
  set(q: number, reg: number, v: number): void { this.words[q * BLOCK_WORDS + (reg >> 2)] = v >>> 0; }

  // guest-controlled: the writable bits of each register are kept, the rest read 0.
  /** A driver's write to queue `q`'s register `reg` (relative offset); returns the value stored. */
  write(q: number, reg: number, v: number): number {
    let x = v >>> 0;
    if (reg === Q_DBAL) x = (x & DBAL_MASK) >>> 0;
    else if (reg === Q_DLEN) x &= DLEN_MASK;
    else if (reg === Q_DH || reg === Q_DT) x &= 0xffff;
    this.set(q, reg, x);
    return x;
  }

  enabled(q: number): boolean { return (this.get(q, Q_DCTL) & E1000_RXDCTL_QUEUE_ENABLE) !== 0; }
  disable(q: number): void { this.set(q, Q_DCTL, this.get(q, Q_DCTL) & ~E1000_RXDCTL_QUEUE_ENABLE); }

  /** Queue `q`'s ring (valid until the next call), or a fault when the registers do not describe one a device could walk. */
  ring(q: number): Ring | RingFault {
    const len = this.get(q, Q_DLEN);
    const count = len / ADV_DESC_SIZE;
    if (count === 0) return 'ring-empty';
    const head = this.get(q, Q_DH), tail = this.get(q, Q_DT);
    if (head >= count || tail >= count) return 'ring-index';
    const base = dmaAddr((BigInt(this.get(q, Q_DBAH)) << 32n) | BigInt(this.get(q, Q_DBAL)));
    if (base < 0 || base + len - 1 > DMA_MAX_ADDR) return 'ring-address';
    const r = this.scratch;
    r.base = base; r.count = count; r.head = head; r.tail = tail;
    return r;
  }

  /** Receive buffer size of queue `q` in bytes (SRRCTL.BSIZEPKT, 1 KiB units). */
  rxBufferSize(q: number): number {
    const k = this.get(q, Q_SRRCTL) & E1000_SRRCTL_BSIZEPKT_MASK;
    return k === 0 ? DEFAULT_RX_BUFFER : k << E1000_SRRCTL_BSIZEPKT_SHIFT;
  }

  /** Clears queue `q`'s registers (VF reset does this for the VF's queues). */
  clear(q: number): void { this.words.fill(0, q * BLOCK_WORDS, (q + 1) * BLOCK_WORDS); }

  reset(): void { this.words.fill(0); }
}

/** Free descriptors the device may use: from head up to (not including) tail. */
export function ringAvailable(r: Ring): number { return (r.tail - r.head + r.count) % r.count; }
