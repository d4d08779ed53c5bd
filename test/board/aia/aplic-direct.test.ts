// Unit tests for APLIC direct delivery: IDC idelivery/iforce/ithreshold, topi and claimi, priorities, edge
// versus level claims, and what a guest gets for IDCs and targets of harts that do not exist.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Aplic } from '../../../src/board/aia/aplic.js';
import * as R from '../../../src/board/aia/aplic-regs.js';
import { IRQ_M_EXT, IRQ_S_EXT } from '../../../src/board/irq.js';
import { RecordingHart } from '../../../src/board/testing/recorders.js';
import type { RegisterTable } from '../../../src/memory/register-table.js';

const rd = (t: RegisterTable, off: number) => t.read(off, 4) as number;
const wr = (t: RegisterTable, off: number, v: number) => t.write(off, 4, v);
const idc = (h: number, reg: number) => R.APLIC_IDC_BASE + R.APLIC_IDC_SIZE * h + reg;

/** A board without IMSICs: the S domain drives SEIP of each hart directly, set up as Linux's direct driver does. */
function make(harts = 2) {
  const hs = Array.from({ length: harts }, () => new RecordingHart());
  const aplic = new Aplic({ harts, machine: { direct: [] }, supervisor: { direct: hs } });
  aplic.delegateToSupervisor();
  const s = aplic.supervisorMmio!;
  for (let h = 0; h < harts; h++) { wr(s, idc(h, R.APLIC_IDC_ITHRESHOLD), 0); wr(s, idc(h, R.APLIC_IDC_IDELIVERY), 1); }
  wr(s, R.APLIC_DOMAINCFG, R.APLIC_DOMAINCFG_IE);
  const source = (i: number, sm: number, hart: number, prio = 1) => {
    wr(s, R.APLIC_SOURCECFG_BASE + 4 * (i - 1), sm);
    wr(s, R.APLIC_TARGET_BASE + 4 * (i - 1), ((hart << R.APLIC_TARGET_HART_IDX_SHIFT) | prio) >>> 0);
    wr(s, R.APLIC_SETIENUM, i);
  };
  return { aplic, s, hs, source };
}

test('a level source asserts SEIP of its target hart; claimi reports it but it stays pending until the line drops', () => {
  const { aplic, s, hs, source } = make();
  source(10, R.APLIC_SOURCECFG_SM_LEVEL_HIGH, 1);
  aplic.irqLine(10).set(true);
  assert.equal(hs[1]!.has(IRQ_S_EXT), true);
  assert.equal(hs[1]!.has(IRQ_M_EXT), false);
  assert.equal(hs[0]!.has(IRQ_S_EXT), false);
  assert.equal(rd(s, idc(1, R.APLIC_IDC_TOPI)), (10 << 16) | 1);
  assert.equal(rd(s, idc(1, R.APLIC_IDC_CLAIMI)), (10 << 16) | 1);
  assert.equal(hs[1]!.has(IRQ_S_EXT), true); // still asserted: the device has not been serviced
  aplic.irqLine(10).set(false);
  assert.equal(hs[1]!.has(IRQ_S_EXT), false);
  assert.equal(rd(s, idc(1, R.APLIC_IDC_CLAIMI)), 0);
});

test('an edge source is claimed once; a spurious claim clears iforce', () => {
  const { aplic, s, hs, source } = make();
  source(3, R.APLIC_SOURCECFG_SM_EDGE_RISE, 0);
  aplic.irqLine(3).set(true);
  assert.equal(hs[0]!.has(IRQ_S_EXT), true);
  assert.equal(rd(s, idc(0, R.APLIC_IDC_CLAIMI)) >>> 16, 3);
  assert.equal(hs[0]!.has(IRQ_S_EXT), false);
  wr(s, idc(0, R.APLIC_IDC_IFORCE), 1);
  assert.equal(hs[0]!.has(IRQ_S_EXT), true); // forced: spurious interrupt
  assert.equal(rd(s, idc(0, R.APLIC_IDC_TOPI)), 0);
  assert.equal(rd(s, idc(0, R.APLIC_IDC_CLAIMI)), 0);
  assert.equal(rd(s, idc(0, R.APLIC_IDC_IFORCE)), 0);
  assert.equal(hs[0]!.has(IRQ_S_EXT), false);
});

test('priorities: smaller number first, ties to the lowest source; ithreshold masks P and above; IPRIO 0 is 1', () => {
  const { aplic, s, hs, source } = make();
  source(20, R.APLIC_SOURCECFG_SM_EDGE_RISE, 0, 5);
  source(30, R.APLIC_SOURCECFG_SM_EDGE_RISE, 0, 2);
  source(31, R.APLIC_SOURCECFG_SM_EDGE_RISE, 0, 2);
  for (const i of [20, 30, 31]) aplic.irqLine(i).set(true);
  assert.equal(rd(s, idc(0, R.APLIC_IDC_TOPI)), (30 << 16) | 2);
  wr(s, idc(0, R.APLIC_IDC_ITHRESHOLD), 2);
  assert.equal(rd(s, idc(0, R.APLIC_IDC_TOPI)), 0);
  assert.equal(hs[0]!.has(IRQ_S_EXT), false);
  wr(s, idc(0, R.APLIC_IDC_ITHRESHOLD), 0xff); // IPRIOLEN = 3: 7
  assert.equal(rd(s, idc(0, R.APLIC_IDC_ITHRESHOLD)), 7);
  assert.deepEqual([1, 2, 3].map(() => rd(s, idc(0, R.APLIC_IDC_CLAIMI)) >>> 16), [30, 31, 20]);
  wr(s, R.APLIC_TARGET_BASE + 4 * 19, 0); // IPRIO 0 becomes 1
  assert.equal(rd(s, R.APLIC_TARGET_BASE + 4 * 19), 1);
});

test('IE, idelivery and DM gate the signal but not topi', () => {
  const { aplic, s, hs, source } = make();
  source(7, R.APLIC_SOURCECFG_SM_LEVEL_HIGH, 0);
  aplic.irqLine(7).set(true);
  wr(s, idc(0, R.APLIC_IDC_IDELIVERY), 0);
  assert.equal(hs[0]!.has(IRQ_S_EXT), false);
  assert.equal(rd(s, idc(0, R.APLIC_IDC_TOPI)) >>> 16, 7);
  wr(s, idc(0, R.APLIC_IDC_IDELIVERY), 3); // WARL: 1
  assert.equal(rd(s, idc(0, R.APLIC_IDC_IDELIVERY)), 1);
  assert.equal(hs[0]!.has(IRQ_S_EXT), true);
  wr(s, R.APLIC_DOMAINCFG, 0);
  assert.equal(hs[0]!.has(IRQ_S_EXT), false);
  assert.equal(rd(s, idc(0, R.APLIC_IDC_TOPI)) >>> 16, 7);
  wr(s, R.APLIC_DOMAINCFG, R.APLIC_DOMAINCFG_IE);
  assert.equal(hs[0]!.has(IRQ_S_EXT), true);
  aplic.reset(); // reset drops the output
  assert.equal(hs[0]!.has(IRQ_S_EXT), false);
});

test('targets naming absent harts and IDCs of absent harts: no delivery, no throw, read zero', () => {
  const { aplic, s, hs, source } = make(2);
  source(5, R.APLIC_SOURCECFG_SM_LEVEL_HIGH, 0x3fff);
  aplic.irqLine(5).set(true);
  assert.equal(rd(s, R.APLIC_TARGET_BASE + 4 * 4) >>> R.APLIC_TARGET_HART_IDX_SHIFT, 0x3fff);
  assert.deepEqual(hs.map((h) => h.mip), [0, 0]);
  wr(s, idc(2, R.APLIC_IDC_IDELIVERY), 1);
  wr(s, idc(511, R.APLIC_IDC_IFORCE), 1);
  assert.equal(rd(s, idc(2, R.APLIC_IDC_IDELIVERY)), 0);
  assert.equal(rd(s, idc(511, R.APLIC_IDC_CLAIMI)), 0);
  wr(s, R.APLIC_TARGET_BASE + 4 * 4, (1 << R.APLIC_TARGET_HART_IDX_SHIFT) | 1); // retarget to hart 1
  assert.equal(hs[1]!.has(IRQ_S_EXT), true);
});

test('the M root in direct mode drives MEIP; S sources stay with the S domain', () => {
  const hm = [new RecordingHart()];
  const hsv = [new RecordingHart()];
  const aplic = new Aplic({ harts: 1, machine: { direct: hm }, supervisor: { direct: hsv } });
  const m = aplic.rootMmio;
  aplic.delegateToSupervisor(2, 96); // source 1 stays at machine level
  wr(m, R.APLIC_SOURCECFG_BASE, R.APLIC_SOURCECFG_SM_EDGE_RISE);
  wr(m, R.APLIC_TARGET_BASE, 1);
  wr(m, R.APLIC_SETIENUM, 1);
  wr(m, idc(0, R.APLIC_IDC_IDELIVERY), 1);
  wr(m, R.APLIC_DOMAINCFG, R.APLIC_DOMAINCFG_IE);
  aplic.irqLine(1).set(true);
  aplic.irqLine(2).set(true); // delegated but inactive in S: nothing
  assert.equal(hm[0]!.has(IRQ_M_EXT), true);
  assert.equal(hsv[0]!.mip, 0);
  assert.equal(rd(aplic.supervisorMmio!, R.APLIC_SOURCECFG_BASE), 0); // source 1 is not the S domain's
});
