// Advanced-descriptor rings in guest RAM as igb and igbvf build them (igb_tx_map / igbvf_tx_queue_adv: one data
// descriptor per buffer with DEXT | DTYP_DATA | IFCS, EOP | RS on the last, PAYLEN in olinfo; igb_alloc_rx_buffers:
// pkt_addr per descriptor; igb_clean_rx_irq: DD, EOP, length, VLAN), for the mock drivers and hostile tests.

import type { GuestMemory } from '../../../memory/guest-memory.js';
import {
  ADV_DESC_SIZE, E1000_ADVTXD_DCMD_DEXT, E1000_ADVTXD_DCMD_EOP, E1000_ADVTXD_DCMD_IFCS, E1000_ADVTXD_DCMD_RS,
  E1000_ADVTXD_DCMD_TSE, E1000_ADVTXD_DTYP_CTXT, E1000_ADVTXD_DTYP_DATA, E1000_ADVTXD_PAYLEN_SHIFT,
  E1000_RXD_STAT_DD, E1000_RXD_STAT_EOP, E1000_RXD_STAT_VP, E1000_TXD_STAT_DD,
} from '../defines.js';

export const RX_BUFFER = 2048;

export interface ReceivedFrame {
  frame: Uint8Array;
  status: number;
  vlan: number;
}

/** What a data descriptor asks for beyond a plain frame. */
export interface TxOptions {
  /** olinfo_status POPTS/IDX bits (PAYLEN is filled in). */
  olinfo?: number;
  /** Extra cmd_type_len bits (VLE, TSE). */
  cmd?: number;
  /** A context descriptor placed before the data descriptor: [vlan_macip_lens, type_tucmd, mss_l4len_idx]. */
  context?: readonly [number, number, number];
  /** Override the buffer address (hostile tests). */
  addr?: number;
}

export class TxRing {
  next = 0;
  clean = 0;
  private readonly eops: number[] = [];

  constructor(readonly ram: GuestMemory, readonly base: number, readonly count: number, readonly buffers: number, readonly bufSize = 0x1_0000) {}

  private off(a: number): number { return a - this.ram.base; }

  /** Writes descriptors for one packet; returns the new tail (TDT value). */
  post(frame: Uint8Array, o: TxOptions = {}): number {
    if (o.context !== undefined) {
      const d = this.off(this.base + this.next * ADV_DESC_SIZE);
      this.ram.write32(d, o.context[0]);
      this.ram.write32(d + 4, 0);
      this.ram.write32(d + 8, (o.context[1] | E1000_ADVTXD_DCMD_DEXT | E1000_ADVTXD_DTYP_CTXT) >>> 0);
      this.ram.write32(d + 12, o.context[2]);
      this.next = (this.next + 1) % this.count;
    }
    const buf = o.addr ?? this.buffers + this.next * this.bufSize;
    if (o.addr === undefined) this.ram.writeBytes(this.off(buf), frame);
    const d = this.off(this.base + this.next * ADV_DESC_SIZE);
    this.ram.write64(d, BigInt(buf));
    const cmd = E1000_ADVTXD_DTYP_DATA | E1000_ADVTXD_DCMD_DEXT | E1000_ADVTXD_DCMD_IFCS | E1000_ADVTXD_DCMD_EOP | E1000_ADVTXD_DCMD_RS | (o.cmd ?? 0) | frame.length;
    this.ram.write32(d + 8, cmd >>> 0);
    const tso = ((o.cmd ?? 0) & E1000_ADVTXD_DCMD_TSE) !== 0;
    const paylen = tso && o.context !== undefined ? frame.length - (((o.context[0] >>> 9) & 0x7f) + (o.context[0] & 0x1ff) + ((o.context[2] >>> 8) & 0xff)) : frame.length;
    this.ram.write32(d + 12, ((paylen << E1000_ADVTXD_PAYLEN_SHIFT) | (o.olinfo ?? 0)) >>> 0);
    this.eops.push(this.next);
    this.next = (this.next + 1) % this.count;
    return this.next;
  }

  /** igb_clean_tx_irq: packets whose EOP descriptor has DD, in order. */
  reap(): number {
    let n = 0;
    while (this.eops.length > 0 && (this.ram.read32(this.off(this.base + this.eops[0]! * ADV_DESC_SIZE) + 12) & E1000_TXD_STAT_DD) !== 0) {
      this.eops.shift();
      n++;
    }
    return n;
  }

  get pending(): number { return this.eops.length; }
}


export class RxRing {
  next = 0;

  constructor(readonly ram: GuestMemory, readonly base: number, readonly count: number, readonly buffers: number) {}

  private off(a: number): number { return a - this.ram.base; }

  /** Gives every descriptor a buffer; returns the tail to write (count - 1, as igb does). */
  fill(): number {
    for (let i = 0; i < this.count; i++) this.arm(i);
    return this.count - 1;
  }

  private arm(i: number): void {
    const d = this.off(this.base + i * ADV_DESC_SIZE);
    this.ram.write64(d, BigInt(this.buffers + i * RX_BUFFER));
    this.ram.write64(d + 8, 0n);
  }

  /** igb_clean_rx_irq: takes completed frames and re-arms their descriptors; returns the frames and the new tail. */
  poll(): { frames: ReceivedFrame[]; tail: number } {
    const frames: ReceivedFrame[] = [];
    let parts: Uint8Array[] = [];
    for (;;) {
      const d = this.off(this.base + this.next * ADV_DESC_SIZE);
      const status = this.ram.read32(d + 8);
      if ((status & E1000_RXD_STAT_DD) === 0) break;
      const len = this.ram.read16(d + 12);
      const data = new Uint8Array(len);
      this.ram.readBytes(this.buffers + this.next * RX_BUFFER - this.ram.base, data);
      parts.push(data);
      if ((status & E1000_RXD_STAT_EOP) !== 0) {
        const total = parts.reduce((s, p) => s + p.length, 0);
        const frame = new Uint8Array(total);
        let at = 0;
        for (const p of parts) { frame.set(p, at); at += p.length; }
        frames.push({ frame, status, vlan: (status & E1000_RXD_STAT_VP) !== 0 ? this.ram.read16(d + 14) : -1 });
        parts = [];
      }
      this.arm(this.next);
      this.next = (this.next + 1) % this.count;
    }
    return { frames, tail: (this.next + this.count - 1) % this.count };
  }
}
