// Counters of the 82576 model: what the data path did (frames, bytes, loopback, rate-limited passes), and every refusal
// by reason, so a test or a report can tell a hostile driver's DMA fault from a full ring or a spoofed source address.

export type IgbDropReason =
  | 'tx-dma-fault' | 'tx-oversize' | 'tx-bad-descriptor' | 'tx-bad-context' | 'tx-too-many-segments' | 'tx-bad-ring'
  | 'tx-link-down' | 'tx-runt' | 'spoof-mac' | 'spoof-vlan'
  | 'rx-dma-fault' | 'rx-no-buffers' | 'rx-oversize' | 'rx-bad-ring' | 'rx-disabled' | 'rx-filtered' | 'rx-too-long';

export class IgbCounters {
  txFrames = 0;
  txBytes = 0;
  rxFrames = 0;
  rxBytes = 0;
  /** Frames delivered inside the NIC from one pool to another (VM-to-VM loopback). */
  loopback = 0;
  /** Frames sent out of the uplink. */
  uplinkFrames = 0;
  /** Transmit passes the rate limiter cut short. */
  rateDeferred = 0;
  /** PF software resets (CTRL.RST). */
  resets = 0;
  readonly drops: Record<IgbDropReason, number> = {
    'tx-dma-fault': 0, 'tx-oversize': 0, 'tx-bad-descriptor': 0, 'tx-bad-context': 0, 'tx-too-many-segments': 0,
    'tx-bad-ring': 0, 'tx-link-down': 0, 'tx-runt': 0, 'spoof-mac': 0, 'spoof-vlan': 0,
    'rx-dma-fault': 0, 'rx-no-buffers': 0, 'rx-oversize': 0, 'rx-bad-ring': 0, 'rx-disabled': 0, 'rx-filtered': 0,
    'rx-too-long': 0,
  };

  drop(reason: IgbDropReason): void { this.drops[reason]++; }

  /** Refusals caused by guest memory: descriptors or buffers the DmaSpace would not reach. */
  get dmaFaults(): number { return this.drops['tx-dma-fault'] + this.drops['rx-dma-fault']; }

  toJSON(): Record<string, number> {
    const out: Record<string, number> = {
      txFrames: this.txFrames, txBytes: this.txBytes, rxFrames: this.rxFrames, rxBytes: this.rxBytes,
      loopback: this.loopback, uplinkFrames: this.uplinkFrames, rateDeferred: this.rateDeferred, resets: this.resets,
    };
    for (const [k, v] of Object.entries(this.drops)) if (v > 0) out[`drop:${k}`] = v;
    return out;
  }
}
