// The 82540EM's receive path (8254x SDM §3.2 "Packet Reception"): address filtering (§3.2.1: unicast and multicast
// exact filters RAL/RAH with AV, the 4096-bit multicast hash MTA selected by RCTL.MO, UPE/MPE promiscuous modes,
// BAM, the VLAN filter VFTA with RCTL.VFE), VLAN tag stripping with CTRL.VME (§9), the FCS appended unless
// RCTL.SECRC, receive checksum offload as RXCSUM configures it (§3.2.9: IPCS/IPE, TCPCS/TCPE, the packet checksum
// from PCSS), and legacy descriptors (§3.2.3) written from RDH, one buffer of RCTL.BSIZE each, EOP on the last.

import { DMA_OK, dmaAddr, type DmaSpace } from '../../memory/dma.js';
import { ethernetFcs, fold, get16, onesSum } from './checksum.js';
import type { E1000Counters, E1000DropReason } from './metrics.js';
import {
  E1000_CTRL_VME, E1000_DESC_SIZE, E1000_MTA, E1000_RA, E1000_RAH_AV, E1000_RAR_ENTRIES, E1000_RCTL_BAM,
  E1000_RCTL_BSEX, E1000_RCTL_LPE, E1000_RCTL_MO_MASK, E1000_RCTL_MO_SHIFT, E1000_RCTL_MPE, E1000_RCTL_SECRC,
  E1000_RCTL_SZ_MASK, E1000_RCTL_SZ_SHIFT, E1000_RCTL_UPE, E1000_RCTL_VFE, E1000_RXCSUM_IPOFL, E1000_RXCSUM_PCSS_MASK,
  E1000_RXCSUM_TUOFL, E1000_RXD_ERR_IPE, E1000_RXD_ERR_TCPE, E1000_RXD_STAT_DD, E1000_RXD_STAT_EOP,
  E1000_RXD_STAT_IPCS, E1000_RXD_STAT_IXSM, E1000_RXD_STAT_TCPCS, E1000_RXD_STAT_VP, E1000_VFTA, RXD_LENGTH,
} from './regs.js';

const ETH_ZLEN = 60;
const ETH_FCS_LEN = 4;
/** The longest normal frame with FCS and one VLAN tag; longer ones need RCTL.LPE (SDM §3.2.2). */
const MAX_STD_FRAME = 1522;
/** The longest frame the 82540EM receives with LPE: 16 KiB (SDM §3.2.2). */
export const MAX_RX_FRAME = 16384;
const ETH_P_IP = 0x0800;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

/** Buffer sizes by RCTL.BSIZE without and with BSEX (SDM §13.4.22). */
const BSIZE = [2048, 1024, 512, 256] as const;
const BSIZE_EX = [0, 16384, 8192, 4096] as const;

/** The ring as the registers describe it, already checked. */
export interface RxRing {
  base: number;
  count: number;
  head: number;
  tail: number;
}

export interface RxResult {
  /** The new RDH, or -1 when the frame was not taken. */
  head: number;
  drop: E1000DropReason | null;
}

/** Register file view the filter reads (the device's 32-bit registers by offset >> 2). */
export type RegFile = Uint32Array;

export class RxEngine {
  private readonly buf = new Uint8Array(MAX_RX_FRAME + ETH_FCS_LEN + 64);
  private readonly desc = new Uint8Array(8);
  private readonly descView = new DataView(this.desc.buffer);

  /** RCTL's buffer size in bytes (0 for the reserved BSEX + BSIZE 00 encoding, which the model treats as 2048). */
  static bufferSize(rctl: number): number {
    const sz = (rctl & E1000_RCTL_SZ_MASK) >>> E1000_RCTL_SZ_SHIFT;
    const b = (rctl & E1000_RCTL_BSEX) !== 0 ? BSIZE_EX[sz]! : BSIZE[sz]!;
    return b === 0 ? 2048 : b;
  }

  /** Whether the address filters pass `frame` (SDM §3.2.1). */
  static accepts(regs: RegFile, rctl: number, ctrl: number, vet: number, frame: Uint8Array): boolean {
    const group = (frame[0]! & 1) !== 0;
    let pass = false;
    if (group) {
      const broadcast = frame[0] === 0xff && frame[1] === 0xff && frame[2] === 0xff && frame[3] === 0xff && frame[4] === 0xff && frame[5] === 0xff;
      pass = (broadcast && (rctl & E1000_RCTL_BAM) !== 0) || (rctl & E1000_RCTL_MPE) !== 0;
      if (!pass && !broadcast) {
        // e1000_hash_mc_addr: 12 bits of the destination chosen by RCTL.MO.
        const mo = (rctl & E1000_RCTL_MO_MASK) >>> E1000_RCTL_MO_SHIFT;
        const shift = [4, 3, 2, 0][mo]!;
        const hash = ((frame[4]! >>> shift) | (frame[5]! << (8 - shift))) & 0xfff;
        pass = ((regs[(E1000_MTA >> 2) + (hash >>> 5)]! >>> (hash & 31)) & 1) !== 0;
      }
    } else {
      pass = (rctl & E1000_RCTL_UPE) !== 0;
    }
    if (!pass) pass = RxEngine.exactMatch(regs, frame);
    if (!pass) return false;
    // VLAN filter (SDM §3.2.1.3): a tagged frame passes only if its VID's bit is set in VFTA.
    if ((rctl & E1000_RCTL_VFE) !== 0 && (ctrl & E1000_CTRL_VME) !== 0 && frame.length >= 18 && get16(frame, 12) === vet) {
      const vid = get16(frame, 14) & 0x0fff;
      if (((regs[(E1000_VFTA >> 2) + (vid >>> 5)]! >>> (vid & 31)) & 1) === 0) return false;
    }
    return true;
  }

  private static exactMatch(regs: RegFile, frame: Uint8Array): boolean {
    const lo = (frame[0]! | (frame[1]! << 8) | (frame[2]! << 16) | (frame[3]! << 24)) >>> 0;
    const hi = frame[4]! | (frame[5]! << 8);
    for (let i = 0; i < E1000_RAR_ENTRIES; i++) {
      const rah = regs[(E1000_RA >> 2) + 2 * i + 1]!;
      if ((rah & E1000_RAH_AV) !== 0 && regs[(E1000_RA >> 2) + 2 * i] === lo && (rah & 0xffff) === hi) return true;
    }
    return false;
  }

  /**
   * Writes `frame` into the ring from its head. The caller has checked the filters, the ring and RCTL.EN. Returns the
   * new head; `copied` receives the bytes written to guest buffers.
   */
  receive(dma: DmaSpace, regs: RegFile, c: E1000Counters, ring: RxRing, frame: Uint8Array, rctl: number, ctrl: number, vet: number, rxcsum: number): RxResult & { copied: number } {
    // guest-controlled: RCTL, RXCSUM and the ring; frame from the backend (any length up to MAX_FRAME_LEN).
    let len = frame.length;
    const max = (rctl & E1000_RCTL_LPE) !== 0 ? MAX_RX_FRAME : MAX_STD_FRAME;
    if (len + ETH_FCS_LEN > max) return { head: -1, drop: 'rx-oversize', copied: 0 };
    const b = this.buf;
    let special = 0;
    let status = E1000_RXD_STAT_EOP | E1000_RXD_STAT_DD;
    if ((ctrl & E1000_CTRL_VME) !== 0 && len >= 18 && get16(frame, 12) === vet) {
      // Strip the 802.1Q tag into the descriptor's special field (SDM §3.2.3, VP).
      special = get16(frame, 14);
      status |= E1000_RXD_STAT_VP;
      b.set(frame.subarray(0, 12), 0);
      b.set(frame.subarray(16), 12);
      len -= 4;
    } else {
      b.set(frame, 0);
    }
    if (len < ETH_ZLEN) { b.fill(0, len, ETH_ZLEN); len = ETH_ZLEN; } // as it arrived on the wire: padded
    let total = len;
    if ((rctl & E1000_RCTL_SECRC) === 0) {
      const fcs = ethernetFcs(b, 0, len);
      b[len] = fcs & 0xff; b[len + 1] = (fcs >>> 8) & 0xff; b[len + 2] = (fcs >>> 16) & 0xff; b[len + 3] = fcs >>> 24;
      total += ETH_FCS_LEN;
    }
    const bsize = RxEngine.bufferSize(rctl);
    const needed = Math.ceil(total / bsize);
    const free = (ring.tail - ring.head + ring.count) % ring.count;
    if (needed > free) return { head: -1, drop: 'rx-no-buffers', copied: 0 };
    const { errors, csumStatus, pktCsum } = this.checksums(b, len, rxcsum, c);
    status |= csumStatus;
    let head = ring.head;
    let copied = 0;
    for (let off = 0; off < total; off += bsize) {
      const at = ring.base + head * E1000_DESC_SIZE;
      const addr = dma.read64(at);
      if (addr < 0n) { c.dmaFaults++; return { head: -1, drop: 'rx-dma-fault', copied }; }
      const n = Math.min(bsize, total - off);
      const last = off + n >= total;
      let err = last ? errors : 0;
      if (dma.write(dmaAddr(addr), b.subarray(off, off + n)) !== DMA_OK) {
        c.dmaFaults++;
        err |= 0x80; // RXE: the driver drops the frame (E1000_RXD_ERR_FRAME_ERR_MASK)
      } else {
        copied += n;
      }
      const v = this.descView;
      v.setUint16(0, n, true);
      v.setUint16(2, last ? pktCsum : 0, true);
      this.desc[4] = last ? status : status & ~E1000_RXD_STAT_EOP & ~E1000_RXD_STAT_VP & 0xff;
      this.desc[5] = err;
      v.setUint16(6, last ? special : 0, true);
      if (dma.write(at + RXD_LENGTH, this.desc) !== DMA_OK) { c.dmaFaults++; return { head: -1, drop: 'rx-dma-fault', copied }; }
      c.rxDescriptors++;
      head = head + 1 === ring.count ? 0 : head + 1;
    }
    return { head, drop: null, copied };
  }

  /** Receive checksum offload (SDM §3.2.9) for the `len` bytes of the frame in `b` (without FCS). */
  private checksums(b: Uint8Array, len: number, rxcsum: number, c: E1000Counters): { errors: number; csumStatus: number; pktCsum: number } {
    const pcss = rxcsum & E1000_RXCSUM_PCSS_MASK;
    const pktCsum = pcss < len ? fold(onesSum(b, pcss, len - pcss)) : 0;
    let errors = 0, csumStatus = 0;
    const ipofl = (rxcsum & E1000_RXCSUM_IPOFL) !== 0, tuofl = (rxcsum & E1000_RXCSUM_TUOFL) !== 0;
    if ((ipofl || tuofl) && len >= 34 && get16(b, 12) === ETH_P_IP && (b[14]! >> 4) === 4) {
      const ihl = (b[14]! & 0x0f) * 4;
      const total = get16(b, 16);
      if (ihl >= 20 && 14 + ihl <= len && total >= ihl && 14 + total <= len) {
        if (ipofl) {
          csumStatus |= E1000_RXD_STAT_IPCS;
          if (fold(onesSum(b, 14, ihl)) !== 0xffff) { errors |= E1000_RXD_ERR_IPE; c.rxChecksumsBad++; } else c.rxChecksumsGood++;
        }
        const proto = b[23]!;
        const fragment = (get16(b, 20) & 0x3fff) !== 0;
        if (tuofl && !fragment && (proto === IPPROTO_TCP || proto === IPPROTO_UDP)) {
          const l4 = 14 + ihl, l4len = total - ihl;
          const udpNone = proto === IPPROTO_UDP && l4len >= 8 && get16(b, l4 + 6) === 0;
          if (l4len >= (proto === IPPROTO_TCP ? 20 : 8)) {
            csumStatus |= E1000_RXD_STAT_TCPCS;
            let sum = onesSum(b, 26, 8, proto + l4len); // pseudo header: addresses, protocol, length
            sum = onesSum(b, l4, l4len, sum);
            if (!udpNone && fold(sum) !== 0xffff) { errors |= E1000_RXD_ERR_TCPE; c.rxChecksumsBad++; } else c.rxChecksumsGood++;
          }
        }
      }
    }
    if (csumStatus === 0) csumStatus = E1000_RXD_STAT_IXSM;
    return { errors, csumStatus, pktCsum };
  }
}
