// Shared setup for the igb tests: a machine whose PF driver is up with `n` VFs, each VF through its reset handshake
// (with the MAC the PF set for it) and opened, plus frame builders.

import { IgbMachine, type IgbMachineOptions } from '../../../src/devices/igb/testing/machine.js';
import { ethFrame, mac } from '../../../src/backends/net/testing/frames.js';

export const PF_MAC = mac('52:54:00:12:34:57');
export const VF_MACS = [mac('02:00:00:00:00:10'), mac('02:00:00:00:00:11'), mac('02:00:00:00:00:12')];
export const PEER = mac('02:aa:00:00:00:01');
export const BCAST = mac('ff:ff:ff:ff:ff:ff');

export function upMachine(vfs: number, opts: IgbMachineOptions = {}): IgbMachine {
  const m = new IgbMachine(opts);
  m.bringUp(vfs);
  for (let i = 0; i < vfs; i++) {
    m.pfDrv.setVfMacAdmin(i, VF_MACS[i]!);
    const vf = m.vfDrvs[i]!;
    if (vf.resetHw() !== 'ack') throw new Error(`VF ${i} handshake failed`);
    vf.open();
    vf.otherInterrupt();
  }
  m.pump();
  return m;
}

/** An IPv4-typed Ethernet frame with a recognisable payload. */
export function frame(dst: Uint8Array, src: Uint8Array, tag = 0, len = 100): Uint8Array {
  const p = Uint8Array.from({ length: len }, (_, i) => (i + tag) & 0xff);
  return ethFrame(dst, src, 0x0800, p);
}

/** The same frame with an 802.1Q tag for `vid` after the addresses. */
export function tagged(f: Uint8Array, vid: number): Uint8Array {
  const t = new Uint8Array(f.length + 4);
  t.set(f.subarray(0, 12), 0);
  t[12] = 0x81; t[13] = 0x00; t[14] = vid >> 8; t[15] = vid & 0xff;
  t.set(f.subarray(12), 16);
  return t;
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
