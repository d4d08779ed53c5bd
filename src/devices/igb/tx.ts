// Transmit from one queue with advanced descriptors (82576EB datasheet: transmit functionality): the device walks
// the ring from TDH to TDT, keeps context descriptors (DTYP 0010b) in the queue's two context slots, gathers data
// descriptors (DTYP 0011b) up to EOP, applies the offloads (offload.ts) and writes DD into the status of every
// descriptor that asked with RS. A packet is only taken whole: a ring whose tail cuts a packet short stops before it.
// Bounded work: one pass visits each descriptor at most once; a bad buffer address drops that packet (counted) and the
// pass goes on, so a hostile driver costs itself a packet, never the VMM its loop.

import { DMA_OK, type DmaSpace } from '../../memory/dma.js';
import {
  ADV_DESC_SIZE, E1000_ADVTXD_DCMD_DEXT, E1000_ADVTXD_DCMD_EOP, E1000_ADVTXD_DCMD_RS, E1000_ADVTXD_DCMD_TSE,
  E1000_ADVTXD_DCMD_VLE, E1000_ADVTXD_DTYP_CTXT, E1000_ADVTXD_DTYP_DATA, E1000_ADVTXD_DTYP_MASK,
  E1000_ADVTXD_IDX_SHIFT, E1000_ADVTXD_LEN_MASK, E1000_ADVTXD_POPTS_IXSM, E1000_ADVTXD_POPTS_TXSM, E1000_TXD_STAT_DD,
  TXC_MSS_L4LEN_IDX, TXC_TYPE_TUCMD, TXC_VLAN_MACIP_LENS, TXD_CMD_TYPE_LEN, TXD_OLINFO_STATUS,
} from './defines.js';
import { ctxVlan, insertChecksums, segment, type OffloadFault, type TxContext } from './offload.js';
import type { Ring } from './queues.js';
import { IGB_NUM_QUEUES } from './regs.js';

/** The largest packet gathered (a 64 KiB TSO payload with headers, and room). */
export const MAX_TX_PACKET = 0x40000;
/** The largest single frame: a 9.5 KiB jumbo frame plus a VLAN tag (the 82576 takes up to 9728 bytes). */
export const MAX_TX_FRAME = 9728 + 4;

export type TxDrop = 'tx-dma-fault' | 'tx-oversize' | 'tx-bad-descriptor' | OffloadFault;

/** Where the pass sends frames and reports. */
export interface TxSink {
  /** May the queue start another packet now? (the rate limiter; false ends the pass before the packet) */
  mayStart(): boolean;
  /** One frame (valid during the call) with the VLAN TCI to insert, or -1. */
  emit(frame: Uint8Array, vlan: number): void;
  drop(reason: TxDrop): void;
}

export interface TxPass {
  head: number;
  /** Some descriptor got DD written back (the queue's TX interrupt). */
  wroteBack: boolean;
  packets: number;
  /** The pass stopped because the sink said not yet (rate limited) with work left. */
  deferred: boolean;
}

export class TxEngine {
  private readonly desc = new Uint8Array(ADV_DESC_SIZE);
  private readonly view = new DataView(this.desc.buffer);
  private readonly packet = new Uint8Array(MAX_TX_PACKET);
  private readonly seg = new Uint8Array(MAX_TX_FRAME);
  /** Two contexts per queue. */
  private readonly contexts: TxContext[] = [];
  /** Descriptors of the packet being gathered that asked for status (RS). */
  private readonly rs = new Float64Array(MAX_TX_PACKET / 1024);

  constructor() {
    for (let i = 0; i < 2 * IGB_NUM_QUEUES; i++) this.contexts.push({ vlanMacipLens: 0, tucmd: 0, mssL4lenIdx: 0 });
  }

  resetQueue(q: number): void {
    for (const c of [this.contexts[2 * q]!, this.contexts[2 * q + 1]!]) c.vlanMacipLens = c.tucmd = c.mssL4lenIdx = 0;
  }

  // guest-controlled: every descriptor field; the ring was checked by QueueRegs.ring().
  /** One pass over queue `q`'s ring. */
  run(dma: DmaSpace, q: number, ring: Ring, sink: TxSink): TxPass {
    const res: TxPass = { head: ring.head, wroteBack: false, packets: 0, deferred: false };
    let at = ring.head;
    let gathered = 0, rsCount = 0, first = true, bad: TxDrop | null = null;
    let firstCmd = 0, firstOlinfo = 0;
    for (let visited = 0; at !== ring.tail && visited < ring.count; visited++) {
      const addr = ring.base + at * ADV_DESC_SIZE;
      if (dma.read(addr, this.desc) !== DMA_OK) { sink.drop('tx-dma-fault'); res.head = at; return res; }
      const cmd = this.view.getUint32(TXD_CMD_TYPE_LEN, true);
      const olinfo = this.view.getUint32(TXD_OLINFO_STATUS, true);
      const dtyp = cmd & E1000_ADVTXD_DTYP_MASK;
      const next = (at + 1) % ring.count;
      if ((cmd & E1000_ADVTXD_DCMD_DEXT) !== 0 && dtyp === E1000_ADVTXD_DTYP_CTXT) {
        const c = this.contexts[2 * q + ((this.view.getUint32(TXC_MSS_L4LEN_IDX, true) >>> E1000_ADVTXD_IDX_SHIFT) & 1)]!;
        c.vlanMacipLens = this.view.getUint32(TXC_VLAN_MACIP_LENS, true);
        c.tucmd = this.view.getUint32(TXC_TYPE_TUCMD, true);
        c.mssL4lenIdx = this.view.getUint32(TXC_MSS_L4LEN_IDX, true);
        if ((cmd & E1000_ADVTXD_DCMD_RS) !== 0) this.writeBack(dma, addr, res);
        at = next;
        if (first) res.head = at;
        continue;
      }
      if (first) {
        if (!sink.mayStart()) { res.deferred = true; return res; }
        first = false;
        firstCmd = cmd;
        firstOlinfo = olinfo;
      }
      if ((cmd & E1000_ADVTXD_DCMD_DEXT) === 0 || dtyp !== E1000_ADVTXD_DTYP_DATA) {
        bad ??= 'tx-bad-descriptor';
      } else {
        const len = cmd & E1000_ADVTXD_LEN_MASK;
        if (gathered + len > MAX_TX_PACKET) bad ??= 'tx-oversize';
        else if (bad === null && len > 0) {
          const buf = this.view.getBigUint64(0, true);
          const r = buf > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : dma.read(Number(buf), this.packet.subarray(gathered, gathered + len));
          if (r !== DMA_OK) bad = 'tx-dma-fault'; else gathered += len;
        }
      }
      if ((cmd & E1000_ADVTXD_DCMD_RS) !== 0 && rsCount < this.rs.length) this.rs[rsCount++] = addr;
      at = next;
      if ((cmd & E1000_ADVTXD_DCMD_EOP) === 0) continue;
      // A whole packet: send it (or count why not), then report status.
      if (bad !== null) sink.drop(bad);
      else this.finish(q, gathered, firstCmd, firstOlinfo, sink);
      for (let i = 0; i < rsCount; i++) this.writeBack(dma, this.rs[i]!, res);
      res.packets++;
      res.head = at;
      gathered = rsCount = 0;
      first = true;
      bad = null;
    }
    return res;
  }

  private writeBack(dma: DmaSpace, addr: number, res: TxPass): void {
    if (dma.write32(addr + TXD_OLINFO_STATUS, E1000_TXD_STAT_DD) === DMA_OK) res.wroteBack = true;
  }

  private finish(q: number, len: number, cmd: number, olinfo: number, sink: TxSink): void {
    const c = this.contexts[2 * q + ((olinfo >>> E1000_ADVTXD_IDX_SHIFT) & 1)]!;
    const vlan = (cmd & E1000_ADVTXD_DCMD_VLE) !== 0 ? ctxVlan(c) : -1;
    const p = this.packet;
    if ((cmd & E1000_ADVTXD_DCMD_TSE) !== 0) {
      const r = segment(p, len, c, this.seg, (f) => sink.emit(f, vlan));
      if (typeof r !== 'number') sink.drop(r);
      return;
    }
    if (len > MAX_TX_FRAME) { sink.drop('tx-oversize'); return; }
    const ixsm = (olinfo & E1000_ADVTXD_POPTS_IXSM) !== 0, txsm = (olinfo & E1000_ADVTXD_POPTS_TXSM) !== 0;
    if ((ixsm || txsm) && !insertChecksums(p, len, c, ixsm, txsm)) { sink.drop('tx-bad-context'); return; }
    sink.emit(p.subarray(0, len), vlan);
  }
}
