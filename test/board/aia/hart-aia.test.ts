// Unit tests for the hart's AIA CSRs: privilege, *iselect/*ireg routing to the right file, iprio selects,
// *topei claim as Linux does it (csrrw), and mtopi/stopi in default priority order.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AIA_CSRS, AIA_CSR_NUMBERS, DEFAULT_PRIORITY_ORDER, HartAia, topiOf, type MajorInterrupts } from '../../../src/board/aia/hart-aia.js';
import { ImsicFile, IMSIC_EIDELIVERY, IMSIC_EIE0, IMSIC_EIP0 } from '../../../src/board/aia/imsic.js';
import { IRQ_M_EXT, IRQ_M_SOFT, IRQ_M_TIMER, IRQ_S_EXT, IRQ_S_SOFT, IRQ_S_TIMER } from '../../../src/board/irq.js';
import { RecordingHart } from '../../../src/board/testing/recorders.js';
import type { Hart } from '../../../src/cpu/riscv/hart.js';

const U = 0, S = 1, M = 3;

function make() {
  const hart = new RecordingHartView();
  const m = new ImsicFile(hart.irq, IRQ_M_EXT, 255, 'imsic-m0');
  const s = new ImsicFile(hart.irq, IRQ_S_EXT, 255, 'imsic-s0');
  return { hart, m, s, aia: new HartAia(hart, m, s) };
}

/** A hart view whose mip is what the IMSIC files drove plus bits a test sets. */
class RecordingHartView implements MajorInterrupts {
  readonly irq = new RecordingHart();
  mie = 0;
  mideleg = 0;
  extra = 0;
  mip(): number { return this.irq.mip | this.extra; }
}

/** csrrw rd, csr, value: one read and one write, as the hart executes it. */
function csrrw(aia: HartAia, csr: number, priv: 0 | 1 | 3, value: bigint): bigint | null {
  const old = aia.readCsr(csr, priv);
  if (old === null) return null;
  return aia.writeCsr(csr, priv, value) ? old : null;
}

test('CSR numbers as in the AIA spec and Linux asm/csr.h', () => {
  assert.deepEqual(AIA_CSRS, { miselect: 0x350, mireg: 0x351, mtopei: 0x35c, mtopi: 0xfb0, siselect: 0x150, sireg: 0x151, stopei: 0x15c, stopi: 0xdb0 });
  assert.equal(AIA_CSR_NUMBERS.length, 8);
  assert.equal(HartAia.serves(0x15c), true);
  assert.equal(HartAia.serves(0x344), false);
  const asMajor = (h: Hart): MajorInterrupts => h; // the hart satisfies MajorInterrupts as it is (compile-time check)
  assert.equal(typeof asMajor, 'function');
});

test('privilege: M CSRs need M; S CSRs need S or M; U gets nothing; *topi are read-only', () => {
  const { aia } = make();
  for (const csr of [AIA_CSRS.miselect, AIA_CSRS.mireg, AIA_CSRS.mtopei, AIA_CSRS.mtopi]) {
    assert.equal(aia.readCsr(csr, S), null, csr.toString(16));
    assert.equal(aia.writeCsr(csr, S, 0n), false);
  }
  for (const csr of [AIA_CSRS.siselect, AIA_CSRS.stopei, AIA_CSRS.stopi]) {
    assert.equal(aia.readCsr(csr, U), null);
    assert.notEqual(aia.readCsr(csr, M), null);
  }
  assert.equal(aia.writeCsr(AIA_CSRS.mtopi, M, 0n), false);
  assert.equal(aia.writeCsr(AIA_CSRS.stopi, S, 0n), false);
  assert.equal(aia.readCsr(0x340, M), null); // not an AIA CSR
});

test('siselect/sireg reach the S file and miselect/mireg the M file', () => {
  const { aia, m, s } = make();
  assert.equal(aia.writeCsr(AIA_CSRS.siselect, S, BigInt(IMSIC_EIE0)), true);
  assert.equal(aia.writeCsr(AIA_CSRS.sireg, S, 1n << 9n), true);
  assert.equal(s.isEnabled(9), true);
  assert.equal(m.isEnabled(9), false);
  aia.writeCsr(AIA_CSRS.miselect, M, BigInt(IMSIC_EIE0));
  aia.writeCsr(AIA_CSRS.mireg, M, 1n << 2n);
  assert.equal(m.isEnabled(2), true);
  assert.equal(aia.readCsr(AIA_CSRS.sireg, S), 1n << 9n);
  assert.equal(aia.readCsr(AIA_CSRS.siselect, S), BigInt(IMSIC_EIE0));
  aia.writeCsr(AIA_CSRS.siselect, S, 0xffff_ffffn); // WARL: 9 bits kept
  assert.equal(aia.readCsr(AIA_CSRS.siselect, S), 0x1ffn);
});

test('sireg: odd eip/eie selects and unknown selects trap; even iprio selects read 0', () => {
  const { aia } = make();
  const at = (sel: number) => { aia.writeCsr(AIA_CSRS.siselect, S, BigInt(sel)); return aia.readCsr(AIA_CSRS.sireg, S); };
  assert.equal(at(IMSIC_EIP0 + 1), null);
  assert.equal(aia.writeCsr(AIA_CSRS.sireg, S, 1n), false);
  assert.equal(at(0x00), null);
  assert.equal(at(0x1ff), null);
  assert.equal(at(0x30), 0n);
  assert.equal(aia.writeCsr(AIA_CSRS.sireg, S, 0xffn), true); // iprio: read-only zeros
  assert.equal(at(0x30), 0n);
  assert.equal(at(0x31), null);
  assert.equal(at(0x71), 0n); // reserved inside the IMSIC range
});

test('Linux claim loop: csrrw stopei returns the identity and clears it; SEIP follows', () => {
  const { aia, s, hart } = make();
  aia.writeCsr(AIA_CSRS.siselect, S, BigInt(IMSIC_EIDELIVERY));
  aia.writeCsr(AIA_CSRS.sireg, S, 1n);
  aia.writeCsr(AIA_CSRS.siselect, S, BigInt(IMSIC_EIE0));
  aia.writeCsr(AIA_CSRS.sireg, S, (1n << 5n) | (1n << 6n));
  s.setPending(6);
  s.setPending(5);
  assert.equal(hart.irq.has(IRQ_S_EXT), true);
  const seen: number[] = [];
  for (let v = csrrw(aia, AIA_CSRS.stopei, S, 0n); v !== 0n; v = csrrw(aia, AIA_CSRS.stopei, S, 0n)) seen.push(Number(v! >> 16n));
  assert.deepEqual(seen, [5, 6]);
  assert.equal(hart.irq.has(IRQ_S_EXT), false);
});

test('without IMSIC files the IMSIC selects and *topei trap, iprio still works', () => {
  const hart = new RecordingHartView();
  const aia = new HartAia(hart, null, null);
  assert.equal(aia.readCsr(AIA_CSRS.stopei, S), null);
  assert.equal(aia.writeCsr(AIA_CSRS.mtopei, M, 0n), false);
  aia.writeCsr(AIA_CSRS.siselect, S, 0x70n);
  assert.equal(aia.readCsr(AIA_CSRS.sireg, S), null);
  aia.writeCsr(AIA_CSRS.siselect, S, 0x30n);
  assert.equal(aia.readCsr(AIA_CSRS.sireg, S), 0n);
});

test('topi: default priority order with IPRIO 1; mtopi excludes delegated, stopi only delegated', () => {
  assert.equal(topiOf(0), 0);
  assert.equal(topiOf((1 << IRQ_S_TIMER) | (1 << IRQ_S_EXT)), (IRQ_S_EXT << 16) | 1);
  assert.equal(topiOf((1 << IRQ_M_TIMER) | (1 << IRQ_M_SOFT)), (IRQ_M_SOFT << 16) | 1);
  assert.equal(topiOf((1 << IRQ_S_SOFT) | (1 << 13)), (IRQ_S_SOFT << 16) | 1);
  assert.equal(topiOf(1 << 13), (13 << 16) | 1); // counter overflow, lowest of the listed
  assert.deepEqual(DEFAULT_PRIORITY_ORDER.slice(4, 15), [11, 3, 7, 9, 1, 5, 12, 10, 2, 6, 13]);
  assert.equal(new Set(DEFAULT_PRIORITY_ORDER).size, 32);

  const { aia, hart } = make();
  hart.extra = (1 << IRQ_S_TIMER) | (1 << IRQ_M_TIMER) | (1 << IRQ_S_SOFT);
  hart.mie = (1 << IRQ_S_TIMER) | (1 << IRQ_M_TIMER);
  hart.mideleg = (1 << IRQ_S_TIMER) | (1 << IRQ_S_SOFT);
  assert.equal(aia.readCsr(AIA_CSRS.mtopi, M), BigInt((IRQ_M_TIMER << 16) | 1));
  assert.equal(aia.readCsr(AIA_CSRS.stopi, S), BigInt((IRQ_S_TIMER << 16) | 1)); // SSIP pending but not enabled
  hart.mie = 0;
  assert.equal(aia.readCsr(AIA_CSRS.stopi, S), 0n);
});
