// The 82540EM's transmit engine (8254x SDM §3.3 "Packet Transmission"): walks the ring from TDH to TDT, reading
// legacy descriptors (§3.3.3), context descriptors (§3.3.6: IPCSS/IPCSO/IPCSE, TUCSS/TUCSO/TUCSE, PAYLEN, TUCMD,
// HDRLEN, MSS) and data descriptors (§3.3.7: DCMD, POPTS), gathers each packet's buffers up to EOP, inserts the
// checksums the descriptors ask for (§3.3.6.1) or segments a TSO packet (§3.5 "TCP Segmentation": per segment the IP
// total length and ID, the TCP sequence number and FIN/PSH, the IP and TCP/UDP checksums), and writes DD back into
// every descriptor that asked for it with RS. Work per pass is bounded by the ring size and by MAX_TX_PACKET /
// MAX_TSO_SEGMENTS; a bad address or context is counted and survived.

import { DMA_OK, dmaAddr, type DmaSpace } from '../../memory/dma.js';
import type { CostKind } from '../../metrics/cost.js';
import { fold, get16, get32, inetChecksum, onesSum, put16, put32 } from './checksum.js';
import type { E1000Counters, E1000DropReason } from './metrics.js';
import {
  E1000_DESC_SIZE, E1000_TXD_CMD_DEXT, E1000_TXD_CMD_EOP, E1000_TXD_CMD_IC, E1000_TXD_CMD_IP, E1000_TXD_CMD_RS,
  E1000_TXD_CMD_TCP, E1000_TXD_CMD_TSE, E1000_TXD_CMD_VLE, E1000_TXD_DTYP_C, E1000_TXD_DTYP_D, E1000_TXD_DTYP_MASK,
  E1000_TXD_LEN_MASK, E1000_TXD_LEN_MASK_LEGACY, E1000_TXD_POPTS_IXSM, E1000_TXD_POPTS_TXSM, E1000_TXD_STAT_DD,
  TXC_HDR_LEN, TXC_IPCSE, TXC_IPCSO, TXC_IPCSS, TXC_MSS, TXC_TUCSE, TXC_TUCSO, TXC_TUCSS, TXD_CSO, TXD_CSS,
  TXD_LOWER, TXD_SPECIAL, TXD_STATUS,
} from './regs.js';

/** The largest packet (all buffers up to EOP) the model gathers: a 64 KiB TSO payload with headers, and room. */
export const MAX_TX_PACKET = 0x40000;
/** The largest single frame: a 16 KiB jumbo frame (the 82540EM's limit, SDM §3.3.1) plus a VLAN tag. */
export const MAX_TX_FRAME = 0x4000 + 4;
/** TSO packets that would become more frames than this are dropped (Linux sends at most 64 KiB / 48-byte MSS). */
export const MAX_TSO_SEGMENTS = 2048;

const TCP_FIN = 0x01;
const TCP_PSH = 0x08;

/** What the engine needs from its device for one pass. */
export interface TxPort {
  readonly dma: DmaSpace;
  readonly counters: E1000Counters;
  charge(kind: CostKind, n?: number): void;
  /** Sends `len` bytes of `frame` (valid only during the call); `vlanTci` is -1 or the tag to insert (VLE with CTRL.VME). */
  emit(frame: Uint8Array, len: number, vlanTci: number): void;
}

/** The ring as the registers describe it, already checked: count descriptors at `base`. */
export interface TxRing {
  base: number;
  count: number;
  head: number;
  tail: number;
}

/** The one offload context of the 82540EM (SDM §3.3.6). */
class TxContext {
  ipcss = 0; ipcso = 0; ipcse = 0;
  tucss = 0; tucso = 0; tucse = 0;
  /** TUCMD bits in place (E1000_TXD_CMD_TCP / IP / TSE). */
  tucmd = 0;
  hdrLen = 0;
  mss = 0;
  reset(): void { this.ipcss = this.ipcso = this.ipcse = this.tucss = this.tucso = this.tucse = this.tucmd = this.hdrLen = this.mss = 0; }
}

export class TxEngine {
  private readonly desc = new Uint8Array(E1000_DESC_SIZE);
  private readonly view = new DataView(this.desc.buffer);
  private readonly packet = new Uint8Array(MAX_TX_PACKET);
  private readonly frame = new Uint8Array(MAX_TX_FRAME);
  private readonly ctx = new TxContext();
  // The packet being gathered (it may span passes: a driver may publish part of one).
  private len = 0;
  private started = false;
  private extended = false;
  private tse = false;
  private popts = 0;
  private legacyCso = 0;
  private legacyCss = 0;
  private legacyIc = false;
  private dropReason: E1000DropReason | null = null;
  /** Ring indices of this packet's descriptors that asked for write-back (RS). */
  private readonly rs: number[] = [];

  reset(): void {
    this.ctx.reset();
    this.abandon();
  }

  private abandon(): void {
    this.len = 0;
    this.started = false;
    this.extended = this.tse = this.legacyIc = false;
    this.popts = this.legacyCso = this.legacyCss = 0;
    this.dropReason = null;
    this.rs.length = 0;
  }

  /**
   * Processes descriptors from ring.head up to ring.tail. Returns the new head and whether any descriptor was written
   * back (the TXDW cause). Stops early, leaving the head on the descriptor, when a descriptor cannot be read.
   */
  run(port: TxPort, ring: TxRing): { head: number; wroteBack: boolean } {
    let head = ring.head;
    let wroteBack = false;
    const c = port.counters;
    // guest-controlled: head, tail and count were checked by the device; the loop ends within `count` steps.
    for (let n = 0; head !== ring.tail && n < ring.count; n++) {
      const at = ring.base + head * E1000_DESC_SIZE;
      if (port.dma.read(at, this.desc) !== DMA_OK) {
        c.dmaFaults++;
        c.drop('tx-dma-fault');
        break;
      }
      c.txDescriptors++;
      const lower = this.view.getUint32(TXD_LOWER, true);
      const index = head;
      head = head + 1 === ring.count ? 0 : head + 1;
      if ((lower & E1000_TXD_CMD_DEXT) !== 0 && (lower & E1000_TXD_DTYP_MASK) === E1000_TXD_DTYP_C) {
        this.context(lower);
        if ((lower & E1000_TXD_CMD_RS) !== 0) wroteBack = this.writeBack(port, ring.base, index) || wroteBack;
        continue;
      }
      const eop = this.data(port, lower, index);
      if (eop) {
        this.finish(port);
        for (const i of this.rs) wroteBack = this.writeBack(port, ring.base, i) || wroteBack;
        this.abandon();
      }
    }
    return { head, wroteBack };
  }

  private writeBack(port: TxPort, base: number, index: number): boolean {
    const r = port.dma.write8(base + index * E1000_DESC_SIZE + TXD_STATUS, E1000_TXD_STAT_DD);
    if (r !== DMA_OK) { port.counters.dmaFaults++; return false; }
    return true;
  }

  private context(lower: number): void {
    const d = this.desc, x = this.ctx;
    x.ipcss = d[TXC_IPCSS]!;
    x.ipcso = d[TXC_IPCSO]!;
    x.ipcse = this.view.getUint16(TXC_IPCSE, true);
    x.tucss = d[TXC_TUCSS]!;
    x.tucso = d[TXC_TUCSO]!;
    x.tucse = this.view.getUint16(TXC_TUCSE, true);
    x.tucmd = lower & (E1000_TXD_CMD_TCP | E1000_TXD_CMD_IP | E1000_TXD_CMD_TSE);
    x.hdrLen = d[TXC_HDR_LEN]!;
    x.mss = this.view.getUint16(TXC_MSS, true);
  }

  /** Gathers one legacy or data descriptor's buffer; returns whether it ended the packet (EOP). */
  private data(port: TxPort, lower: number, index: number): boolean {
    const ext = (lower & E1000_TXD_CMD_DEXT) !== 0;
    if (ext && (lower & E1000_TXD_DTYP_MASK) !== E1000_TXD_DTYP_D) {
      this.fail('tx-bad-descriptor');
    }
    if (!this.started) {
      this.started = true;
      this.extended = ext;
      if (ext) {
        this.popts = this.desc[TXD_CSS]!; // POPTS sits where a legacy descriptor has CSS
        this.tse = (lower & E1000_TXD_CMD_TSE) !== 0;
      } else {
        this.legacyIc = (lower & E1000_TXD_CMD_IC) !== 0;
        this.legacyCso = this.desc[TXD_CSO]!;
        this.legacyCss = this.desc[TXD_CSS]!;
      }
    }
    if ((lower & E1000_TXD_CMD_RS) !== 0) this.rs.push(index);
    const eop = (lower & E1000_TXD_CMD_EOP) !== 0;
    if (eop) this.vlan = (lower & E1000_TXD_CMD_VLE) !== 0 ? this.view.getUint16(TXD_SPECIAL, true) : -1;
    // guest-controlled: buffer address and length.
    const len = ext ? lower & E1000_TXD_LEN_MASK : lower & E1000_TXD_LEN_MASK_LEGACY;
    if (len === 0 || this.dropReason !== null) return eop;
    if (this.len + len > MAX_TX_PACKET) { this.fail('tx-oversize'); return eop; }
    const addr = dmaAddr(this.view.getBigUint64(0, true));
    const r = port.dma.read(addr, this.packet.subarray(this.len, this.len + len));
    if (r !== DMA_OK) { port.counters.dmaFaults++; this.fail('tx-dma-fault'); return eop; }
    port.charge('copyPerByte', len);
    this.len += len;
    return eop;
  }

  private vlan = -1;

  private fail(reason: E1000DropReason): void {
    if (this.dropReason === null) this.dropReason = reason;
  }

  private finish(port: TxPort): void {
    const c = port.counters;
    if (this.dropReason !== null) { c.drop(this.dropReason); return; }
    if (this.extended && this.tse) { this.segment(port); return; }
    const len = this.len;
    if (len > MAX_TX_FRAME - 4) { c.drop('tx-oversize'); return; }
    const p = this.packet;
    if (this.extended) {
      const x = this.ctx;
      if ((this.popts & E1000_TXD_POPTS_IXSM) !== 0) this.insert(port, p, len, x.ipcss, x.ipcse, x.ipcso);
      if ((this.popts & E1000_TXD_POPTS_TXSM) !== 0) this.insert(port, p, len, x.tucss, x.tucse, x.tucso);
    } else if (this.legacyIc) {
      this.insert(port, p, len, this.legacyCss, 0, this.legacyCso);
    }
    port.emit(p, len, this.vlan);
  }

  /**
   * Checksum insertion (SDM §3.3.6.1): the sum of bytes [start, end] (end 0: to the end of the packet) stored at
   * `offset`. The driver has put the pseudo-header sum in the field already, so the field is summed as it is.
   */
  private insert(port: TxPort, b: Uint8Array, len: number, start: number, end: number, offset: number): void {
    const last = end === 0 ? len - 1 : Math.min(end, len - 1);
    if (start > last || offset + 2 > len) { port.counters.drop('tx-bad-checksum-offset'); return; }
    const sum = inetChecksum(b, start, last - start + 1);
    put16(b, offset, sum === 0 ? 0xffff : sum);
    port.counters.txChecksums++;
  }

  /** TCP segmentation (SDM §3.5): HDRLEN bytes of headers repeated in front of each MSS bytes of payload. */
  private segment(port: TxPort): void {
    const c = port.counters, x = this.ctx, p = this.packet;
    const hdr = x.hdrLen, mss = x.mss, payload = this.len - hdr;
    const ipv4 = (x.tucmd & E1000_TXD_CMD_IP) !== 0;
    const tcp = (x.tucmd & E1000_TXD_CMD_TCP) !== 0;
    const ixsm = ipv4 && (this.popts & E1000_TXD_POPTS_IXSM) !== 0;
    const txsm = (this.popts & E1000_TXD_POPTS_TXSM) !== 0;
    // guest-controlled: the context. Everything the fix-ups touch must lie inside the header.
    const segments = mss === 0 ? Infinity : Math.ceil(payload / mss);
    const ipEnd = ipv4 ? x.ipcss + 20 : x.ipcss + 40;
    const l4End = x.tucss + (tcp ? 20 : 8);
    if (hdr === 0 || payload <= 0 || segments > MAX_TSO_SEGMENTS || hdr + mss > MAX_TX_FRAME - 4 ||
        ipEnd > hdr || l4End > hdr || x.tucso + 2 > hdr || (ixsm && x.ipcso + 2 > hdr) || x.tucss < x.ipcss) {
      c.drop('tx-bad-tso');
      return;
    }
    const ipId = get16(p, x.ipcss + 4);
    const seq = get32(p, x.tucss + 4);
    const flags = p[x.tucss + 13]!;
    const pseudo = get16(p, x.tucso);
    const f = this.frame;
    c.tsoPackets++;
    for (let i = 0, off = hdr; i < segments; i++, off += mss) {
      const chunk = Math.min(mss, this.len - off);
      const len = hdr + chunk;
      f.set(p.subarray(0, hdr), 0);
      f.set(p.subarray(off, off + chunk), hdr);
      if (ipv4) {
        put16(f, x.ipcss + 2, len - x.ipcss);
        put16(f, x.ipcss + 4, (ipId + i) & 0xffff);
      } else {
        put16(f, x.ipcss + 4, len - x.ipcss - 40); // IPv6 payload length
      }
      if (tcp) {
        put32(f, x.tucss + 4, (seq + i * mss) >>> 0);
        if (i !== segments - 1) f[x.tucss + 13] = flags & ~(TCP_FIN | TCP_PSH);
      } else {
        put16(f, x.tucss + 4, len - x.tucss); // UDP length
      }
      if (ixsm) {
        put16(f, x.ipcso, 0);
        const last = x.ipcse === 0 ? x.tucss - 1 : Math.min(x.ipcse, hdr - 1);
        put16(f, x.ipcso, inetChecksum(f, x.ipcss, last - x.ipcss + 1));
        c.txChecksums++;
      }
      if (txsm) {
        // The driver's field holds the pseudo-header sum without the length (e1000_tso); add this segment's.
        const l4len = len - x.tucss;
        put16(f, x.tucso, fold(pseudo + l4len));
        const sum = ~fold(onesSum(f, x.tucss, l4len)) & 0xffff;
        put16(f, x.tucso, sum === 0 && !tcp ? 0xffff : sum);
        c.txChecksums++;
      }
      c.tsoSegments++;
      port.emit(f, len, this.vlan);
    }
  }
}
