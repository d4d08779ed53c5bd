// The 82576's embedded L2 switch (82576EB datasheet: "Virtualization" — receive pool selection, replication,
// anti-spoofing, VM-to-VM loopback), as tables and decisions, no I/O. In VMDq mode (MRQC.Multiple Receive Queues
// Enable = VMDq or VMDq+RSS) a frame's destination pools come from:
//   unicast:   the RAR entries matching the destination (RAH pool bits); else pools with VMOLR.ROPE when the UTA hash
//              hits; else the default pool (VT_CTL), unless disabled
//   multicast: with replication (VT_CTL.VM_REPL_EN) pools with VMOLR.MPME, pools with ROMPE when the MTA hash hits,
//              and RAR matches; without replication the default pool
//   broadcast: with replication pools with VMOLR.BAM; without, the default pool
// then VLAN membership (a tagged frame: VFTA when RCTL.VFE, and the VLVF entry's pool bits, or only the default pool
// when no entry names the VLAN; an untagged frame: pools with VMOLR.AUPE), then VFRE (a VF pool whose receive is
// disabled gets nothing). Without VMDq the classic RCTL filters decide for queue 0. Transmit from a VF pool is checked
// against spoofing (DTXSWC: the source MAC must be one of the pool's RAR entries, a tag one of its VLANs); with
// DTXSWC.VMDQ_LOOPBACK_EN a frame for a local pool is delivered inside the NIC, unicast ones only there.

import { isGroupAddress } from '../../backends/net/ethernet.js';
import {
  E1000_DTXSWC_VLAN_SPOOF_SHIFT, E1000_DTXSWC_VMDQ_LOOPBACK_EN, E1000_MRQC_ENABLE_MASK, E1000_MRQC_ENABLE_VMDQ,
  E1000_MRQC_ENABLE_VMDQ_RSS_MQ, E1000_RAH_AV, E1000_RAH_POOL_MASK, E1000_RAH_POOL_SHIFT, E1000_RAH_ASEL_SRC_ADDR,
  E1000_RCTL_BAM, E1000_RCTL_MO_SHIFT, E1000_RCTL_MPE, E1000_RCTL_UPE, E1000_RCTL_VFE, E1000_VLVF_POOLSEL_MASK,
  E1000_VLVF_POOLSEL_SHIFT, E1000_VLVF_VLANID_ENABLE, E1000_VLVF_VLANID_MASK, E1000_VMOLR_AUPE, E1000_VMOLR_BAM,
  E1000_VMOLR_MPME, E1000_VMOLR_ROMPE, E1000_VMOLR_ROPE, E1000_VT_CTL_DEFAULT_POOL_MASK,
  E1000_VT_CTL_DEFAULT_POOL_SHIFT, E1000_VT_CTL_DISABLE_DEF_POOL, E1000_VT_CTL_VM_REPL_EN,
} from './defines.js';
import {
  E1000_MTA_ENTRIES, E1000_RAR_ENTRIES_82576, E1000_UTA_ENTRIES, E1000_VFTA_ENTRIES, E1000_VLVF_ARRAY_SIZE,
  IGB_MAX_VF_FUNCTIONS,
} from './regs.js';

export const ETH_P_8021Q = 0x8100;
/** route(): the frame also goes out of the uplink. */
export const ROUTE_UPLINK = 0x100;

/** The filter tables and control registers the switch reads (the PF's register rows write them). */
export class SwitchTables {
  /** RAL, RAH pairs: entry i at [2i], [2i+1]. */
  readonly rar = new Uint32Array(2 * E1000_RAR_ENTRIES_82576);
  readonly mta = new Uint32Array(E1000_MTA_ENTRIES);
  readonly uta = new Uint32Array(E1000_UTA_ENTRIES);
  readonly vfta = new Uint32Array(E1000_VFTA_ENTRIES);
  readonly vlvf = new Uint32Array(E1000_VLVF_ARRAY_SIZE);
  readonly vmolr = new Uint32Array(IGB_MAX_VF_FUNCTIONS);
  readonly vmvir = new Uint32Array(IGB_MAX_VF_FUNCTIONS);
  rctl = 0;
  mrqc = 0;
  vtctl = 0;
  dtxswc = 0;
  vfre = 0;
  vfte = 0;
  /** VFs that exist (pools below this are VF pools when VMDq is on). */
  numVfs = 0;

  reset(): void {
    for (const t of [this.rar, this.mta, this.uta, this.vfta, this.vlvf, this.vmolr, this.vmvir]) t.fill(0);
    this.rctl = this.mrqc = this.vtctl = this.dtxswc = this.vfre = this.vfte = 0;
  }
}

/** Why a VF's frame was refused. */
export type SpoofFault = 'spoof-mac' | 'spoof-vlan';

/** The VLAN ID of a frame tagged with an 802.1Q header, or -1. */
export function frameVlan(f: Uint8Array): number {
  return f.length >= 18 && f[12] === ETH_P_8021Q >>> 8 && f[13] === (ETH_P_8021Q & 0xff) ? ((f[14]! << 8) | f[15]!) & 0xfff : -1;
}

export class L2Switch {
  constructor(readonly t: SwitchTables) {}

  get vmdq(): boolean {
    const m = this.t.mrqc & E1000_MRQC_ENABLE_MASK;
    return m === E1000_MRQC_ENABLE_VMDQ || m === E1000_MRQC_ENABLE_VMDQ_RSS_MQ;
  }

  get defaultPool(): number { return (this.t.vtctl & E1000_VT_CTL_DEFAULT_POOL_MASK) >>> E1000_VT_CTL_DEFAULT_POOL_SHIFT; }

  /** The MTA/UTA bit a destination address hashes to (igb_hash_mc_addr, RCTL.MO selects the bits). */
  hash(f: Uint8Array, off: number): number {
    const shift = [4, 5, 6, 8][(this.t.rctl >>> E1000_RCTL_MO_SHIFT) & 3]!;
    return ((f[off + 4]! >>> (8 - shift)) | (f[off + 5]! << shift)) & 0xfff;
  }

  private bit(table: Uint32Array, h: number): boolean { return ((table[h >>> 5]! >>> (h & 31)) & 1) !== 0; }

  /** Pool bits of the valid destination-address RAR entries equal to the address at `off`. */
  rarPools(f: Uint8Array, off: number, source = false): number {
    const lo = (f[off]! | (f[off + 1]! << 8) | (f[off + 2]! << 16) | (f[off + 3]! << 24)) >>> 0;
    const hi = f[off + 4]! | (f[off + 5]! << 8);
    let pools = 0;
    for (let i = 0; i < E1000_RAR_ENTRIES_82576; i++) {
      const rah = this.t.rar[2 * i + 1]!;
      if ((rah & E1000_RAH_AV) === 0 || ((rah & E1000_RAH_ASEL_SRC_ADDR) !== 0) !== source) continue;
      if (this.t.rar[2 * i] === lo && (rah & 0xffff) === hi) pools |= ((rah & E1000_RAH_POOL_MASK) >>> E1000_RAH_POOL_SHIFT) | (1 << 31);
    }
    return pools;
  }

  private poolsWith(flag: number): number {
    let m = 0;
    for (let p = 0; p < IGB_MAX_VF_FUNCTIONS; p++) if ((this.t.vmolr[p]! & flag) !== 0) m |= 1 << p;
    return m;
  }

  /** VLVF pool bits for VLAN `vid`, or -1 when no enabled entry names it. */
  vlanPools(vid: number): number {
    for (const e of this.t.vlvf) {
      if ((e & E1000_VLVF_VLANID_ENABLE) !== 0 && (e & E1000_VLVF_VLANID_MASK) === vid) return (e & E1000_VLVF_POOLSEL_MASK) >>> E1000_VLVF_POOLSEL_SHIFT;
    }
    return -1;
  }

  /**
   * Destination pools of a frame (VMDq), or 1 (queue 0) / 0 in classic mode. `fromPool` is the sending pool for a
   * looped-back frame (never delivered back to itself; unicast only by exact RAR match), -1 for the wire.
   */
  destinations(f: Uint8Array, fromPool = -1): number {
    const t = this.t;
    const vid = frameVlan(f);
    if (vid >= 0 && (t.rctl & E1000_RCTL_VFE) !== 0 && !this.bit(t.vfta, vid)) return 0;
    if (!this.vmdq) return this.classic(f) ? 1 : 0;
    const repl = (t.vtctl & E1000_VT_CTL_VM_REPL_EN) !== 0;
    const def = (t.vtctl & E1000_VT_CTL_DISABLE_DEF_POOL) !== 0 ? 0 : 1 << this.defaultPool;
    let pools: number;
    if (isGroupAddress(f, 0)) {
      const bcast = f[0] === 0xff && f[1] === 0xff && f[2] === 0xff && f[3] === 0xff && f[4] === 0xff && f[5] === 0xff;
      if (!repl) pools = def;
      else if (bcast) pools = this.poolsWith(E1000_VMOLR_BAM);
      else pools = this.poolsWith(E1000_VMOLR_MPME) | (this.bit(t.mta, this.hash(f, 0)) ? this.poolsWith(E1000_VMOLR_ROMPE) : 0) | (this.rarPools(f, 0) & 0xff);
    } else {
      pools = this.rarPools(f, 0) & 0xff;
      if (pools === 0 && fromPool < 0) pools = (this.bit(t.uta, this.hash(f, 0)) ? this.poolsWith(E1000_VMOLR_ROPE) : 0) || def;
    }
    if (vid >= 0) {
      if ((t.rctl & E1000_RCTL_VFE) !== 0) { const m = this.vlanPools(vid); pools &= m >= 0 ? m : def; }
    } else {
      pools &= this.poolsWith(E1000_VMOLR_AUPE);
    }
    const vfPools = (1 << t.numVfs) - 1;
    pools &= ~(vfPools & ~t.vfre);
    if (fromPool >= 0) pools &= ~(1 << fromPool);
    return pools & 0xff;
  }

  private classic(f: Uint8Array): boolean {
    const rctl = this.t.rctl;
    if (!isGroupAddress(f, 0)) return (rctl & E1000_RCTL_UPE) !== 0 || this.rarPools(f, 0) !== 0;
    if (f[0] === 0xff && f[1] === 0xff && f[2] === 0xff && f[3] === 0xff && f[4] === 0xff && f[5] === 0xff) return (rctl & E1000_RCTL_BAM) !== 0;
    return (rctl & E1000_RCTL_MPE) !== 0 || this.bit(this.t.mta, this.hash(f, 0));
  }

  /** Checks a frame pool `pool` sends (VMDq only); null when it may go. */
  spoofCheck(f: Uint8Array, pool: number): SpoofFault | null {
    const t = this.t;
    if (!this.vmdq || pool >= IGB_MAX_VF_FUNCTIONS) return null;
    if ((t.dtxswc & (1 << pool)) !== 0 && (this.rarPools(f, 6) & (1 << pool)) === 0) return 'spoof-mac';
    const vid = frameVlan(f);
    if (vid >= 0 && (t.dtxswc & (1 << (pool + E1000_DTXSWC_VLAN_SPOOF_SHIFT))) !== 0) {
      const m = this.vlanPools(vid);
      if (m < 0 || (m & (1 << pool)) === 0) return 'spoof-vlan';
    }
    return null;
  }

  /**
   * Where a frame from `pool` goes: the local pools (VM-to-VM loopback) in bits 7:0, and ROUTE_UPLINK when it also
   * leaves on the wire.
   */
  route(f: Uint8Array, pool: number): number {
    if (!this.vmdq || (this.t.dtxswc & E1000_DTXSWC_VMDQ_LOOPBACK_EN) === 0) return ROUTE_UPLINK;
    const local = this.destinations(f, pool);
    return local | (isGroupAddress(f, 0) || local === 0 ? ROUTE_UPLINK : 0);
  }
}
