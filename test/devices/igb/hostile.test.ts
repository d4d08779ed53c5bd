// Hostile VF drivers: descriptors and rings pointing outside RAM, absurd ring lengths and indices, writes into the PF's
// register space through the VF's BAR, a mailbox buffer rewritten under the PF, and — with an IOMMU-like DmaSpace in
// front of a VF — buffers pointing into another function's memory. Every case is refused by the DmaSpace or the ring
// checks, counted, and the NIC (and the VMM) carries on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DMA_FAULT_TRANSLATION, DMA_FAULT_UNMAPPED, IdentityDmaSpace, type DmaSpace, type DmaTargets } from '../../../src/memory/dma.js';
import type { DmaCounters } from '../../../src/metrics/counters.js';
import * as D from '../../../src/devices/igb/defines.js';
import * as R from '../../../src/devices/igb/regs.js';
import { DOORBELL, RAM_BASE } from '../../../src/devices/igb/testing/machine.js';
import { frame, hex, PEER, upMachine, VF_MACS } from './helpers.js';

const OUTSIDE = 0x10_0000_0000; // 64 GiB: nothing there

test('a TX buffer outside RAM: the DmaSpace refuses, the packet is dropped and counted, DD still completes, the next packet goes', () => {
  const m = upMachine(1);
  const vf = m.vfDrvs[0]!;
  vf.xmit(frame(PEER, VF_MACS[0]!, 1), { addr: OUTSIDE });
  assert.equal(m.pf.core.counters.drops['tx-dma-fault'], 1);
  assert.equal(m.vfFns[0]!.dma.lastFault?.code, DMA_FAULT_UNMAPPED);
  assert.equal(m.link.sent.length, 0);
  const ok = frame(PEER, VF_MACS[0]!, 2);
  vf.xmit(ok);
  assert.deepEqual(m.link.sent.map(hex), [hex(ok)]);
  assert.equal(vf.tx!.reap(), 2);
});

test('an RX buffer outside RAM drops that frame only; other pools and later frames are unaffected', () => {
  const m = upMachine(2);
  const vf0 = m.vfDrvs[0]!;
  const ring = vf0.rx!;
  m.ram.write64(ring.base - RAM_BASE + ring.next * D.ADV_DESC_SIZE, BigInt(OUTSIDE));
  assert.equal(m.pf.receive(frame(VF_MACS[0]!, PEER, 3)), false);
  assert.equal(m.pf.core.counters.drops['rx-dma-fault'], 1);
  const f1 = frame(VF_MACS[1]!, PEER, 4);
  assert.ok(m.pf.receive(f1));
  assert.deepEqual(m.vfDrvs[1]!.receive().map((r) => hex(r.frame)), [hex(f1)]);
  m.ram.write64(ring.base - RAM_BASE + ring.next * D.ADV_DESC_SIZE, BigInt(ring.buffers + ring.next * 2048));
  const f0 = frame(VF_MACS[0]!, PEER, 5);
  assert.ok(m.pf.receive(f0));
  assert.deepEqual(vf0.receive().map((r) => hex(r.frame)), [hex(f0)]);
});

test('rings placed outside RAM or sized absurdly are refused and counted; the VMM keeps running', () => {
  const m = upMachine(1);
  const vf = m.vfDrvs[0]!;
  vf.w(R.TXQ_ALIAS + R.Q_DBAL, 0x1000);
  vf.w(R.TXQ_ALIAS + R.Q_DT, 1);
  assert.equal(m.pf.core.counters.drops['tx-dma-fault'], 1, 'the descriptor fetch itself faulted');
  vf.w(R.TXQ_ALIAS + R.Q_DLEN, 0xffff_ffff);
  assert.equal(vf.r(R.TXQ_ALIAS + R.Q_DLEN), 0xf_ff80, 'length masked to the register\'s bits (< 1 MiB)');
  vf.w(R.TXQ_ALIAS + R.Q_DT, 0xffff);
  assert.equal(m.pf.core.counters.drops['tx-bad-ring'], 1, 'tail beyond the ring');
  vf.w(R.RXQ_ALIAS + R.Q_DLEN, 0);
  assert.equal(m.pf.receive(frame(VF_MACS[0]!, PEER, 6)), false);
  assert.equal(m.pf.core.counters.drops['rx-bad-ring'], 1);
  vf.w(R.RXQ_ALIAS + R.Q_DLEN, 64 * 16);
  vf.w(R.RXQ_ALIAS + R.Q_DBAH, 0xffff_ffff);
  assert.equal(m.pf.receive(frame(VF_MACS[0]!, PEER, 7)), false);
  assert.equal(m.pf.core.counters.drops['rx-bad-ring'], 2, 'a base past 2^53 is not an address');
  m.pfDrv.xmit(frame(PEER, m.pfDrv.mac, 8));
  assert.equal(m.link.sent.length, 1, 'the PF still works');
});

test('a VF cannot reach the PF\'s registers through its BAR, nor rewrite a mailbox message the PF holds', () => {
  const m = upMachine(1);
  const vf = m.vfDrvs[0]!, t = m.pf.core.tables;
  const before = [t.vfre, t.vfte, t.dtxswc, t.vtctl, t.mrqc, t.rar[0]!, t.rar[1]!];
  for (const off of [R.E1000_VFRE, R.E1000_VFTE, R.E1000_DTXSWC, R.E1000_VT_CTL, R.E1000_MRQC, R.E1000_RAL(0), R.E1000_RAH(0)]) {
    if (off < R.IGBVF_MMIO_SIZE) vf.w(off, 0xffff_ffff);
  }
  vf.w(R.E1000_RAL(0) & 0x3fff, 0xdead_beef);
  assert.deepEqual([t.vfre, t.vfte, t.dtxswc, t.vtctl, t.mrqc, t.rar[0]!, t.rar[1]!], before);
  m.pfDrv.w(R.E1000_P2VMAILBOX(0), D.E1000_P2VMAILBOX_PFU);
  m.pfDrv.w(R.E1000_VMBMEM(0), 0x1234);
  vf.w(R.E1000_VTVMBMEM, 0xbad);
  assert.equal(m.pfDrv.r(R.E1000_VMBMEM(0)), 0x1234);
  assert.equal(m.pf.core.mailbox.counters.writesRefused, 1);
});

/** An IOMMU-like space: the function may reach only [lo, hi) and the MSI doorbell. */
class WindowDma extends IdentityDmaSpace {
  constructor(targets: DmaTargets, counters: DmaCounters, private readonly lo: number, private readonly hi: number) {
    super(targets, counters);
  }
  protected override translate(addr: number, _write: boolean): number {
    if (addr >= DOORBELL && addr < DOORBELL + 0x1000) { this.span = DOORBELL + 0x1000 - addr; return addr; }
    if (addr < this.lo || addr >= this.hi) return -DMA_FAULT_TRANSLATION;
    this.span = this.hi - addr;
    return addr;
  }
}

test('behind an IOMMU a VF\'s descriptors cannot point into the PF\'s memory: translation faults, the PF\'s bytes unchanged', () => {
  const vf0Window = RAM_BASE + 0x40_0000;
  const m = upMachine(1, {
    dmaSpace: (name, targets, counters): DmaSpace | undefined =>
      name === '00:12.0' ? new WindowDma(targets, counters, vf0Window, vf0Window + 0x40_0000) : undefined,
  });
  const pfBuffer = RAM_BASE + 0x10_0000;
  const secret = m.ram.slice(pfBuffer, 64);
  m.vfDrvs[0]!.xmit(frame(PEER, VF_MACS[0]!, 9), { addr: pfBuffer });
  assert.equal(m.vfFns[0]!.dma.lastFault?.code, DMA_FAULT_TRANSLATION);
  assert.equal(m.link.sent.length, 0, 'the PF\'s bytes never left as a VF frame');
  const ring = m.vfDrvs[0]!.rx!;
  m.ram.write64(ring.base - RAM_BASE + ring.next * D.ADV_DESC_SIZE, BigInt(pfBuffer));
  assert.equal(m.pf.receive(frame(VF_MACS[0]!, PEER, 10)), false);
  assert.deepEqual(m.ram.slice(pfBuffer, 64), secret, 'nothing written into the PF\'s memory');
  assert.equal(m.pf.core.counters.dmaFaults, 2);
  const ok = frame(PEER, VF_MACS[0]!, 11);
  m.vfDrvs[0]!.xmit(ok);
  assert.deepEqual(m.link.sent.map(hex), [hex(ok)], 'inside its window the VF works');
});
