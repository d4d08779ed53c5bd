// virtio-net's control virtqueue (virtio 1.2 §5.1.6.5; Linux 6.12 virtnet_send_command_reply()): struct
// virtio_net_ctrl { u8 class; u8 command; u8 data[]; u8 ack; } — class, command and data device-readable, the ack
// the first device-writable byte. Each command is parsed into checked values before anything changes; a command
// that was not negotiated, has the wrong length or an out-of-range value gets VIRTIO_NET_ERR and changes nothing.
//
// Handled: VIRTIO_NET_CTRL_RX PROMISC/ALLMULTI (VIRTIO_NET_F_CTRL_RX), VIRTIO_NET_CTRL_MAC TABLE_SET (CTRL_RX) and
// ADDR_SET (VIRTIO_NET_F_CTRL_MAC_ADDR), VIRTIO_NET_CTRL_MQ VQ_PAIRS_SET (VIRTIO_NET_F_MQ). Everything else (VLAN,
// ANNOUNCE, GUEST_OFFLOADS, RSS, the CTRL_RX_EXTRA modes, statistics) was not offered and answers ERR.

import { ETH_ALEN } from '../../../backends/net/ethernet.js';
import type { DmaSpace } from '../../../memory/dma.js';
import type { DescriptorChain } from '../chain.js';
import { hasFeature } from '../constants.js';
import type { SplitQueue } from '../queue.js';
import {
  VIRTIO_NET_CTRL_HDR_SIZE, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, VIRTIO_NET_CTRL_MAC_TABLE_SET,
  VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, VIRTIO_NET_CTRL_RX,
  VIRTIO_NET_CTRL_RX_ALLMULTI, VIRTIO_NET_CTRL_RX_PROMISC, VIRTIO_NET_ERR, VIRTIO_NET_F_CTRL_MAC_ADDR,
  VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_MQ, VIRTIO_NET_OK,
} from './constants.js';
import type { NetCounters } from './counters.js';
import { MAC_TABLE_ENTRIES, MacTable, type RxFilter } from './filter.js';

/** What the control queue changes in the device. */
export interface NetControlTarget {
  /** The negotiated features. */
  readonly features: bigint;
  /** max_virtqueue_pairs. */
  readonly maxPairs: number;
  readonly filter: RxFilter;
  /** VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET accepted: receive only on the first `n` receive queues from now on. */
  setPairs(n: number): void;
  /** VIRTIO_NET_CTRL_MAC_ADDR_SET accepted: the filter's address and config space `mac` (§5.1.6.5.2). */
  setMac(mac: Uint8Array): void;
}

/** -1: the DmaSpace refused a buffer (the queue is broken). */
const BROKEN = -1;

export class NetControl {
  /** Why the last command was answered VIRTIO_NET_ERR (for logs and tests). */
  lastError = '';
  private readonly hdr = new Uint8Array(VIRTIO_NET_CTRL_HDR_SIZE);
  private readonly data = new Uint8Array(ETH_ALEN);
  private readonly count = new Uint8Array(4);
  private readonly ack = new Uint8Array(1);
  private readonly uni = new MacTable();
  private readonly multi = new MacTable();

  constructor(private readonly target: NetControlTarget, private readonly counters: NetCounters) {}

  // guest-controlled: the whole chain.
  /** Handles one control chain: returns the used length (1: the ack), or -1 when the queue broke. */
  handle(q: SplitQueue, dma: DmaSpace, c: DescriptorChain): number {
    if (c.writableBytes < 1) {
      // Nowhere to put the ack: the chain goes back unanswered and the driver sees no VIRTIO_NET_OK.
      this.counters.ctrlNoAck++;
      this.lastError = `a command chain without a device-writable byte for the ack (${c.readableBytes} readable bytes)`;
      return 0;
    }
    const r = this.execute(q, dma, c);
    if (r === BROKEN) return -1;
    if (r === VIRTIO_NET_OK) this.counters.ctrlOk++; else this.counters.ctrlErr++;
    this.ack[0] = r;
    return q.write(dma, c, 0, this.ack) < 0 ? -1 : 1;
  }

  private err(why: string): number { this.lastError = why; return VIRTIO_NET_ERR; }

  private execute(q: SplitQueue, dma: DmaSpace, c: DescriptorChain): number {
    if (c.readableBytes < VIRTIO_NET_CTRL_HDR_SIZE) return this.err(`a command of ${c.readableBytes} device-readable bytes; class and command take 2`);
    if (q.read(dma, c, 0, this.hdr) < 0) return BROKEN;
    const cls = this.hdr[0]!, cmd = this.hdr[1]!;
    const dataLen = c.readableBytes - VIRTIO_NET_CTRL_HDR_SIZE;
    const f = this.target.features;
    switch (cls) {
      case VIRTIO_NET_CTRL_RX: {
        if (!hasFeature(f, VIRTIO_NET_F_CTRL_RX)) return this.err('class VIRTIO_NET_CTRL_RX without VIRTIO_NET_F_CTRL_RX');
        if (cmd !== VIRTIO_NET_CTRL_RX_PROMISC && cmd !== VIRTIO_NET_CTRL_RX_ALLMULTI) return this.err(`VIRTIO_NET_CTRL_RX command ${cmd}: only PROMISC and ALLMULTI (CTRL_RX_EXTRA was not offered)`);
        const r = this.fixed(q, dma, c, dataLen, 1, 'VIRTIO_NET_CTRL_RX');
        if (r !== VIRTIO_NET_OK) return r;
        const on = this.data[0]!;
        if (on > 1) return this.err(`VIRTIO_NET_CTRL_RX value ${on}; 0 (off) or 1 (on)`);
        if (cmd === VIRTIO_NET_CTRL_RX_PROMISC) this.target.filter.promisc = on === 1; else this.target.filter.allmulti = on === 1;
        return VIRTIO_NET_OK;
      }
      case VIRTIO_NET_CTRL_MAC:
        if (cmd === VIRTIO_NET_CTRL_MAC_TABLE_SET) {
          if (!hasFeature(f, VIRTIO_NET_F_CTRL_RX)) return this.err('VIRTIO_NET_CTRL_MAC_TABLE_SET without VIRTIO_NET_F_CTRL_RX');
          return this.macTableSet(q, dma, c, dataLen);
        }
        if (cmd === VIRTIO_NET_CTRL_MAC_ADDR_SET) {
          if (!hasFeature(f, VIRTIO_NET_F_CTRL_MAC_ADDR)) return this.err('VIRTIO_NET_CTRL_MAC_ADDR_SET without VIRTIO_NET_F_CTRL_MAC_ADDR');
          const r = this.fixed(q, dma, c, dataLen, ETH_ALEN, 'VIRTIO_NET_CTRL_MAC_ADDR_SET');
          if (r !== VIRTIO_NET_OK) return r;
          const d = this.data;
          if ((d[0]! & 1) !== 0 || (d[0]! | d[1]! | d[2]! | d[3]! | d[4]! | d[5]!) === 0) return this.err('VIRTIO_NET_CTRL_MAC_ADDR_SET with a group or all-zero address; a station address is unicast and not zero');
          this.target.setMac(d);
          return VIRTIO_NET_OK;
        }
        return this.err(`VIRTIO_NET_CTRL_MAC command ${cmd}`);
      case VIRTIO_NET_CTRL_MQ: {
        if (!hasFeature(f, VIRTIO_NET_F_MQ)) return this.err('class VIRTIO_NET_CTRL_MQ without VIRTIO_NET_F_MQ');
        if (cmd !== VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET) return this.err(`VIRTIO_NET_CTRL_MQ command ${cmd}: only VQ_PAIRS_SET (RSS was not offered)`);
        const r = this.fixed(q, dma, c, dataLen, 2, 'VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET');
        if (r !== VIRTIO_NET_OK) return r;
        const n = this.data[0]! | (this.data[1]! << 8);
        const max = this.target.maxPairs;
        if (n < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || n > max) return this.err(`VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET ${n}; 1..max_virtqueue_pairs (${max})`);
        this.target.setPairs(n);
        return VIRTIO_NET_OK;
      }
      default:
        return this.err(`control class ${cls} (command ${cmd}) was not offered`);
    }
  }

  /** Reads a fixed-size command's `n` data bytes into this.data: OK, ERR (another length) or BROKEN. */
  private fixed(q: SplitQueue, dma: DmaSpace, c: DescriptorChain, dataLen: number, n: number, what: string): number {
    if (dataLen !== n) return this.err(`${what} with ${dataLen} bytes of data; it takes ${n}`);
    return q.read(dma, c, VIRTIO_NET_CTRL_HDR_SIZE, this.data.subarray(0, n)) < 0 ? BROKEN : VIRTIO_NET_OK;
  }

  /**
   * VIRTIO_NET_CTRL_MAC_TABLE_SET: le32 entries + entries × 6 bytes of unicast addresses, then the same for multicast,
   * and nothing after (§5.1.6.5.2 driver requirements). Parsed into staging tables, applied only when all of it is.
   */
  private macTableSet(q: SplitQueue, dma: DmaSpace, c: DescriptorChain, dataLen: number): number {
    const end = VIRTIO_NET_CTRL_HDR_SIZE + dataLen;
    const afterUni = this.readTable(q, dma, c, VIRTIO_NET_CTRL_HDR_SIZE, end, this.uni, 'unicast');
    if (afterUni < 0) return afterUni === BROKEN ? BROKEN : VIRTIO_NET_ERR;
    const afterMulti = this.readTable(q, dma, c, afterUni, end, this.multi, 'multicast');
    if (afterMulti < 0) return afterMulti === BROKEN ? BROKEN : VIRTIO_NET_ERR;
    if (afterMulti !== end) return this.err(`VIRTIO_NET_CTRL_MAC_TABLE_SET has ${end - afterMulti} bytes after the multicast table`);
    this.target.filter.uni.copyFrom(this.uni);
    this.target.filter.multi.copyFrom(this.multi);
    return VIRTIO_NET_OK;
  }

  /** One struct virtio_net_ctrl_mac at `off`: the offset after it, -2 (ERR, lastError set) or BROKEN. */
  private readTable(q: SplitQueue, dma: DmaSpace, c: DescriptorChain, off: number, end: number, t: MacTable, kind: string): number {
    if (off + 4 > end) { this.err(`VIRTIO_NET_CTRL_MAC_TABLE_SET ends before the ${kind} entry count`); return -2; }
    if (q.read(dma, c, off, this.count) < 0) return BROKEN;
    const n = (this.count[0]! | (this.count[1]! << 8) | (this.count[2]! << 16) | (this.count[3]! << 24)) >>> 0;
    const room = end - off - 4;
    if (n > room / ETH_ALEN) { this.err(`VIRTIO_NET_CTRL_MAC_TABLE_SET: ${n} ${kind} entries but ${room} bytes follow`); return -2; }
    const keep = Math.min(n, MAC_TABLE_ENTRIES);
    if (keep > 0 && q.read(dma, c, off + 4, t.entries.subarray(0, keep * ETH_ALEN)) < 0) return BROKEN;
    t.count = keep;
    t.overflow = n > MAC_TABLE_ENTRIES;
    return off + 4 + n * ETH_ALEN;
  }
}
