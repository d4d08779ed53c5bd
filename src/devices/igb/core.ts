// The 82576's shared data path: the 16 RX and TX queues, the embedded switch between the pools and the uplink, the
// per-queue rate limiter and the PF↔VF mailboxes. The PF and each VF are PCI faces onto it (pf.ts, vf.ts): a queue
// belongs to a pool — VF n owns queues n and n+8, the PF the others — and every byte a queue moves goes through the
// DmaSpace of the function that owns it, so an IOMMU in front of a VF confines that VF's rings and buffers. Frames
// leave through an injected link (a NicPort) and enter through receive() (the NIC side of that port).

import type { DmaSpace } from '../../memory/dma.js';
import { ETH_HLEN } from '../../backends/net/ethernet.js';
import { E1000_CTRL_VME, E1000_RCTL_EN, E1000_RCTL_LPE, E1000_TCTL_EN, E1000_VMOLR_LPE, E1000_VMOLR_RLPML_MASK, E1000_VMOLR_STRVLAN, E1000_VMVIR_VLANA_DEFAULT, E1000_VMVIR_VLANA_NEVER } from './defines.js';
import { MailboxBank, type MailboxSignals } from './mailbox.js';
import { IgbCounters } from './metrics.js';
import { QueueRegs, ringAvailable } from './queues.js';
import { RateLimiter } from './ratelimit.js';
import { RxEngine } from './rx.js';
import { ETH_P_8021Q, frameVlan, L2Switch, ROUTE_UPLINK, SwitchTables } from './switch.js';
import { MAX_TX_FRAME, TxEngine, type TxDrop, type TxSink } from './tx.js';
import { IGB_MAX_VF_FUNCTIONS, IGB_NUM_QUEUES, Q_DH } from './regs.js';

/** The PF or a VF, as the data path sees it. */
export interface PoolFunction {
  /** The function's DmaSpace, or null before it is attached. */
  dma(): DmaSpace | null;
  /** Queue `q` (a NIC queue index) wrote back descriptors: raise its interrupt. */
  queueEvent(q: number, tx: boolean): void;
}

/** The uplink: a NicPort, or a test double. */
export interface IgbLink {
  send(frame: Uint8Array): void;
  readonly linkUp: boolean;
}

/** Largest frame a pool takes without long-packet enable (1518 with FCS, plus a VLAN tag). */
const STD_MAX_FRAME = 1522;
const FCS = 4;

export class IgbCore {
  readonly counters = new IgbCounters();
  readonly rxq = new QueueRegs(false);
  readonly txq = new QueueRegs(true);
  readonly tables = new SwitchTables();
  readonly sw = new L2Switch(this.tables);
  readonly rate: RateLimiter;
  readonly mailbox: MailboxBank;
  /** The PF's registers the data path reads. */
  ctrl = 0;
  tctl = 0;
  rlpml = 0;
  /** The MAC's link (PHY link and CTRL.SLU), set by the PF. */
  macLinkUp = false;
  /** WVBR: TX queues that tried to spoof, until the PF reads it. */
  wvbr = 0;
  link: IgbLink | null = null;
  /** Called when a VF pool tried to spoof (the PF raises ICR.DOUTSYNC). */
  onSpoof: () => void = () => {};
  private readonly rx = new RxEngine();
  private readonly tx = new TxEngine();
  private readonly vfs: (PoolFunction | null)[] = new Array<PoolFunction | null>(IGB_MAX_VF_FUNCTIONS).fill(null);
  private pf: PoolFunction | null = null;
  /** TX queues a rate limit stopped with work left (bit per queue). */
  private deferredQueues = 0;
  private readonly tagged = new Uint8Array(MAX_TX_FRAME + 4);
  private readonly stripped = new Uint8Array(65536);
  private readonly sinks: TxSink[] = [];

  constructor(now: () => number, frequency: number, signals: MailboxSignals) {
    this.rate = new RateLimiter(now, frequency, () => (this.macLinkUp ? 1000 : 0));
    this.mailbox = new MailboxBank(signals);
    for (let q = 0; q < IGB_NUM_QUEUES; q++) {
      this.sinks.push({
        mayStart: () => this.rate.mayStart(q),
        emit: (f, vlan) => this.fromQueue(q, f, vlan),
        drop: (r: TxDrop) => this.counters.drop(r),
      });
    }
  }

  setPf(pf: PoolFunction): void { this.pf = pf; }
  setVf(i: number, vf: PoolFunction | null): void { this.vfs[i] = vf; this.tables.numVfs = this.vfs.filter((v) => v !== null).length; }

  /** The pool queue `q` belongs to: VF n owns queues n and n+8 while it exists; the PF's pool is numVfs. */
  poolOf(q: number): number {
    const p = q & 7;
    return p < this.tables.numVfs ? p : this.tables.numVfs;
  }

  owner(q: number): PoolFunction | null {
    const p = q & 7;
    return p < this.tables.numVfs ? this.vfs[p]! : this.pf;
  }

  // --- transmit -------------------------------------------------------------------------------------------------

  /** Walks TX queue `q` (its TDT was written, or its rate-limit deadline passed). */
  transmit(q: number): void {
    const owner = this.owner(q);
    const dma = owner?.dma() ?? null;
    if (owner === null || dma === null || (this.tctl & E1000_TCTL_EN) === 0 || !this.txq.enabled(q)) return;
    const pool = this.poolOf(q);
    if (pool < this.tables.numVfs && (this.tables.vfte & (1 << pool)) === 0) return;
    const ring = this.txq.ring(q);
    if (typeof ring === 'string') { this.counters.drop('tx-bad-ring'); return; }
    if (ring.head === ring.tail) return;
    const pass = this.tx.run(dma, q, ring, this.sinks[q]!);
    this.txq.set(q, Q_DH, pass.head);
    if (pass.deferred) { this.deferredQueues |= 1 << q; this.counters.rateDeferred++; } else this.deferredQueues &= ~(1 << q);
    if (pass.wroteBack) owner.queueEvent(q, true);
  }

  /** The earliest time a rate-limited queue may go on (Infinity if none waits). */
  nextDeadline(): number {
    let t = Infinity;
    for (let q = 0; q < IGB_NUM_QUEUES; q++) if ((this.deferredQueues & (1 << q)) !== 0) t = Math.min(t, this.rate.deadline(q));
    return t;
  }

  /** Resumes rate-limited queues whose time has come. */
  update(now: number): void {
    for (let q = 0; q < IGB_NUM_QUEUES; q++) if ((this.deferredQueues & (1 << q)) !== 0 && now >= this.rate.deadline(q)) this.transmit(q);
  }

  /** A frame leaves queue `q`: port VLAN or the descriptor's tag inserted, anti-spoofing, then switched. */
  private fromQueue(q: number, frame: Uint8Array, vlan: number): void {
    if (frame.length < ETH_HLEN) { this.counters.drop('tx-runt'); return; }
    const pool = this.poolOf(q);
    const vmvir = pool < IGB_MAX_VF_FUNCTIONS ? this.tables.vmvir[pool]! : 0;
    let tci = vlan;
    if ((vmvir & E1000_VMVIR_VLANA_DEFAULT) !== 0) tci = vmvir & 0xffff;
    else if ((vmvir & E1000_VMVIR_VLANA_NEVER) !== 0) tci = -1;
    let out = frame;
    if (tci >= 0) {
      const t = this.tagged;
      t.set(frame.subarray(0, 12), 0);
      t[12] = ETH_P_8021Q >>> 8; t[13] = ETH_P_8021Q & 0xff; t[14] = (tci >>> 8) & 0xff; t[15] = tci & 0xff;
      t.set(frame.subarray(12), 16);
      out = t.subarray(0, frame.length + 4);
    }
    this.rate.sent(q, out.length);
    const spoof = this.sw.spoofCheck(out, pool);
    if (spoof !== null) {
      this.counters.drop(spoof);
      this.wvbr |= 1 << q;
      this.onSpoof();
      return;
    }
    this.counters.txFrames++;
    this.counters.txBytes += out.length;
    const r = this.sw.route(out, pool);
    if ((r & 0xff) !== 0) { this.counters.loopback++; this.deliver(out, r & 0xff, true); }
    if ((r & ROUTE_UPLINK) !== 0) {
      if (!this.macLinkUp || this.link === null || !this.link.linkUp) { this.counters.drop('tx-link-down'); return; }
      this.counters.uplinkFrames++;
      this.link.send(out);
    }
  }

  // --- receive --------------------------------------------------------------------------------------------------

  /** The uplink may deliver: the MAC is up and receiving (and, without VMDq, queue 0 has a free descriptor). */
  canReceive(): boolean {
    if (!this.macLinkUp || (this.tables.rctl & E1000_RCTL_EN) === 0) return false;
    if (this.sw.vmdq) return true;
    const r = this.rxq.ring(0);
    return typeof r !== 'string' && ringAvailable(r) > 0;
  }

  // guest-controlled (filters, rings) and wire-controlled (the frame): never throws.
  /** A frame from the uplink. */
  receive(frame: Uint8Array): boolean {
    if (!this.macLinkUp || (this.tables.rctl & E1000_RCTL_EN) === 0) { this.counters.drop('rx-disabled'); return false; }
    if (frame.length < ETH_HLEN) { this.counters.drop('rx-filtered'); return false; }
    const pools = this.sw.destinations(frame);
    if (pools === 0) { this.counters.drop('rx-filtered'); return false; }
    return this.deliver(frame, pools, false) > 0;
  }

  /** Writes a frame into the first queue of every pool in `pools` (queue 0 without VMDq); returns how many took it. */
  private deliver(frame: Uint8Array, pools: number, loopback: boolean): number {
    let taken = 0;
    const vmdq = this.sw.vmdq;
    for (let p = 0; p < IGB_MAX_VF_FUNCTIONS; p++) {
      if ((pools & (1 << p)) === 0) continue;
      const q = vmdq ? p : 0;
      if (this.deliverTo(q, p, frame, loopback, vmdq)) taken++;
    }
    return taken;
  }

  private deliverTo(q: number, pool: number, frame: Uint8Array, loopback: boolean, vmdq: boolean): boolean {
    const owner = this.owner(q);
    const dma = owner?.dma() ?? null;
    if (owner === null || dma === null || !this.rxq.enabled(q)) { this.counters.drop('rx-disabled'); return false; }
    const vmolr = vmdq ? this.tables.vmolr[pool]! : 0;
    const lpe = vmdq ? (vmolr & E1000_VMOLR_LPE) !== 0 : (this.tables.rctl & E1000_RCTL_LPE) !== 0;
    const max = lpe ? (vmdq ? vmolr & E1000_VMOLR_RLPML_MASK : this.rlpml) : STD_MAX_FRAME;
    if (frame.length + FCS > Math.max(max, STD_MAX_FRAME)) { this.counters.drop('rx-too-long'); return false; }
    const ring = this.rxq.ring(q);
    if (typeof ring === 'string') { this.counters.drop('rx-bad-ring'); return false; }
    const strip = vmdq ? (vmolr & E1000_VMOLR_STRVLAN) !== 0 : (this.ctrl & E1000_CTRL_VME) !== 0;
    let f = frame, vlan = -1;
    if (strip && frameVlan(frame) >= 0) {
      vlan = (frame[14]! << 8) | frame[15]!;
      this.stripped.set(frame.subarray(0, 12), 0);
      this.stripped.set(frame.subarray(16), 12);
      f = this.stripped.subarray(0, frame.length - 4);
    }
    const drop = this.rx.receive(dma, ring, this.rxq.rxBufferSize(q), f, vlan, loopback);
    if (drop !== null) { this.counters.drop(drop); return false; }
    this.rxq.set(q, Q_DH, this.rx.head);
    this.counters.rxFrames++;
    this.counters.rxBytes += f.length;
    owner.queueEvent(q, false);
    return true;
  }

  /** VF `vf` was reset: its queues stop and its pool may neither send nor receive until the PF enables it again. */
  resetVfQueues(vf: number): void {
    for (const q of [vf, vf + 8]) {
      this.rxq.disable(q);
      this.txq.disable(q);
      this.tx.resetQueue(q);
      this.deferredQueues &= ~(1 << q);
    }
    this.tables.vfre &= ~(1 << vf);
    this.tables.vfte &= ~(1 << vf);
  }

  reset(): void {
    this.rxq.reset();
    this.txq.reset();
    this.tables.reset();
    this.tables.numVfs = this.vfs.filter((v) => v !== null).length;
    this.rate.reset();
    for (let q = 0; q < IGB_NUM_QUEUES; q++) this.tx.resetQueue(q);
    this.ctrl = this.tctl = this.rlpml = this.wvbr = this.deferredQueues = 0;
  }
}
