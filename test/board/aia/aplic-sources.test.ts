// Unit tests for APLIC sources: sourcecfg modes (inactive, detached, edge, level), the precise pending-bit rules,
// setie/clrie, delegation from the root domain to the supervisor domain, and hostile register writes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Aplic } from '../../../src/board/aia/aplic.js';
import * as R from '../../../src/board/aia/aplic-regs.js';
import type { RegisterTable } from '../../../src/memory/register-table.js';

interface Msi { address: number; data: number }

/** An M root (MSI) and an S child capable of both modes, all sources delegated to S (the builtin-SBI setup). */
function make(sources = 96) {
  const msis: Msi[] = [];
  const aplic = new Aplic({
    harts: 2, sources, machine: { msi: true }, supervisor: { msi: true, direct: [] },
    sendMsi: (address, data) => msis.push({ address, data }),
    msiAddresses: { mBase: R.VIRT_IMSIC_M_BASE, sBase: R.VIRT_IMSIC_S_BASE, lhxw: 1 },
  });
  aplic.delegateToSupervisor();
  return { aplic, s: aplic.supervisorMmio!, m: aplic.rootMmio, msis };
}
const rd = (t: RegisterTable, off: number) => t.read(off, 4) as number;
const wr = (t: RegisterTable, off: number, v: number) => t.write(off, 4, v);
const cfg = (t: RegisterTable, i: number, v: number) => wr(t, R.APLIC_SOURCECFG_BASE + 4 * (i - 1), v);
const pendingWord = (t: RegisterTable, k = 0) => rd(t, R.APLIC_SETIP_BASE + 4 * k);
const bit = (i: number) => (1 << i) >>> 0;

test('domaincfg reads 0x80 in the top byte; BE is read-only 0; DM writable only when both modes exist', () => {
  const { s, m } = make();
  assert.equal(rd(s, R.APLIC_DOMAINCFG), 0x8000_0000);
  wr(s, R.APLIC_DOMAINCFG, 0xffff_ffff);
  assert.equal(rd(s, R.APLIC_DOMAINCFG), (0x8000_0000 | R.APLIC_DOMAINCFG_IE | R.APLIC_DOMAINCFG_DM) >>> 0);
  assert.equal(rd(m, R.APLIC_DOMAINCFG), (0x8000_0000 | R.APLIC_DOMAINCFG_DM) >>> 0); // MSI only: DM read-only 1
  wr(m, R.APLIC_DOMAINCFG, 0);
  assert.equal(rd(m, R.APLIC_DOMAINCFG), (0x8000_0000 | R.APLIC_DOMAINCFG_DM) >>> 0);
  const direct = new Aplic({ harts: 1, machine: { direct: [] } });
  wr(direct.rootMmio, R.APLIC_DOMAINCFG, 0xffff_ffff);
  assert.equal(rd(direct.rootMmio, R.APLIC_DOMAINCFG), (0x8000_0000 | R.APLIC_DOMAINCFG_IE) >>> 0); // direct only: DM read-only 0
  assert.throws(() => new Aplic({ harts: 1, machine: { msi: true } }), /no sendMsi sink/);
  assert.throws(() => new Aplic({ harts: 1, machine: {} }), /neither direct nor MSI/);
});

test('inactive sources have read-only zero pending, enable and target', () => {
  const { s } = make();
  wr(s, R.APLIC_SETIENUM, 5);
  wr(s, R.APLIC_SETIPNUM, 5);
  wr(s, R.APLIC_TARGET_BASE + 4 * 4, 0x1234);
  assert.equal(rd(s, R.APLIC_SETIE_BASE), 0);
  assert.equal(pendingWord(s), 0);
  assert.equal(rd(s, R.APLIC_TARGET_BASE + 4 * 4), 0);
});

test('edge-rising source (direct DM off, IE off): pending on the rising edge only, cleared by clripnum', () => {
  const { aplic, s } = make();
  cfg(s, 3, R.APLIC_SOURCECFG_SM_EDGE_RISE);
  const line = aplic.irqLine(3);
  line.set(true);
  assert.equal(pendingWord(s), bit(3));
  wr(s, R.APLIC_CLRIPNUM, 3);
  assert.equal(pendingWord(s), 0);
  line.set(true); // no edge
  assert.equal(pendingWord(s), 0);
  line.set(false);
  assert.equal(pendingWord(s), 0);
  assert.equal(rd(s, R.APLIC_CLRIP_BASE), 0); // rectified input low
  wr(s, R.APLIC_SETIP_BASE, bit(3)); // software may set an edge source's pending bit
  assert.equal(pendingWord(s), bit(3));
  wr(s, R.APLIC_CLRIP_BASE, bit(3));
  assert.equal(pendingWord(s), 0);
});

test('edge-falling source is inverted: pending on the falling edge; in_clrip shows the rectified input', () => {
  const { aplic, s } = make();
  const line = aplic.irqLine(4);
  line.set(true);
  cfg(s, 4, R.APLIC_SOURCECFG_SM_EDGE_FALL);
  assert.equal(rd(s, R.APLIC_CLRIP_BASE), 0); // high wire, inverted
  assert.equal(pendingWord(s), 0);
  line.set(false);
  assert.equal(pendingWord(s), bit(4));
  assert.equal(rd(s, R.APLIC_CLRIP_BASE), bit(4));
});

test('level sources in direct mode: pending is a copy of the rectified input and cannot be set or cleared', () => {
  const { aplic, s } = make();
  wr(s, R.APLIC_DOMAINCFG, 0); // direct mode
  cfg(s, 6, R.APLIC_SOURCECFG_SM_LEVEL_HIGH);
  cfg(s, 7, R.APLIC_SOURCECFG_SM_LEVEL_LOW);
  assert.equal(pendingWord(s), bit(7)); // level-low with a low wire is asserted
  aplic.irqLine(6).set(true);
  aplic.irqLine(7).set(true);
  assert.equal(pendingWord(s), bit(6));
  wr(s, R.APLIC_CLRIPNUM, 6);
  wr(s, R.APLIC_SETIPNUM, 7);
  assert.equal(pendingWord(s), bit(6));
  aplic.irqLine(6).set(false);
  assert.equal(pendingWord(s), 0);
});

test('level sources in MSI mode: set on a rising edge or by setipnum while high; cleared when low or by clripnum', () => {
  const { aplic, s } = make();
  wr(s, R.APLIC_DOMAINCFG, R.APLIC_DOMAINCFG_DM); // MSI mode, IE off: nothing is forwarded
  cfg(s, 8, R.APLIC_SOURCECFG_SM_LEVEL_HIGH);
  const line = aplic.irqLine(8);
  wr(s, R.APLIC_SETIPNUM, 8); // low: refused
  assert.equal(pendingWord(s), 0);
  line.set(true);
  assert.equal(pendingWord(s), bit(8));
  wr(s, R.APLIC_CLRIPNUM, 8);
  assert.equal(pendingWord(s), 0);
  wr(s, R.APLIC_SETIPNUM_LE, 8); // high: accepted
  assert.equal(pendingWord(s), bit(8));
  line.set(false);
  assert.equal(pendingWord(s), 0);
});

test('detached: the wire is ignored; only software sets the pending bit', () => {
  const { aplic, s } = make();
  cfg(s, 9, R.APLIC_SOURCECFG_SM_DETACH);
  aplic.irqLine(9).set(true);
  assert.equal(pendingWord(s), 0);
  assert.equal(rd(s, R.APLIC_CLRIP_BASE), 0);
  wr(s, R.APLIC_SETIPNUM, 9);
  assert.equal(pendingWord(s), bit(9));
});

test('setie/setienum/clrie/clrienum on active sources only; making a source inactive clears its state', () => {
  const { s } = make();
  for (const i of [1, 2, 33]) cfg(s, i, R.APLIC_SOURCECFG_SM_DETACH);
  wr(s, R.APLIC_SETIE_BASE, 0xffff_ffff);
  wr(s, R.APLIC_SETIENUM, 33);
  assert.equal(rd(s, R.APLIC_SETIE_BASE), bit(1) | bit(2));
  assert.equal(rd(s, R.APLIC_SETIE_BASE + 4), bit(1));
  wr(s, R.APLIC_CLRIENUM, 1);
  wr(s, R.APLIC_CLRIE_BASE + 4, 0xffff_ffff);
  assert.equal(rd(s, R.APLIC_SETIE_BASE), bit(2));
  assert.equal(rd(s, R.APLIC_SETIE_BASE + 4), 0);
  assert.equal(rd(s, R.APLIC_CLRIE_BASE), 0); // clrie reads 0
  wr(s, R.APLIC_SETIPNUM, 2);
  cfg(s, 2, R.APLIC_SOURCECFG_SM_INACTIVE);
  assert.equal(rd(s, R.APLIC_SETIE_BASE), 0);
  assert.equal(pendingWord(s), 0);
  cfg(s, 2, 3); // reserved mode: WARL to inactive
  assert.equal(rd(s, R.APLIC_SOURCECFG_BASE + 4), 0);
});

test('delegation: the child sees only delegated sources; undelegating wipes the child state', () => {
  const { aplic, s, m } = make();
  assert.equal(rd(m, R.APLIC_SOURCECFG_BASE), R.APLIC_SOURCECFG_D | 0);
  cfg(s, 1, R.APLIC_SOURCECFG_SM_EDGE_RISE);
  wr(s, R.APLIC_SETIENUM, 1);
  cfg(m, 1, R.APLIC_SOURCECFG_SM_EDGE_RISE); // root takes source 1 back
  assert.equal(rd(s, R.APLIC_SOURCECFG_BASE), 0);
  cfg(s, 1, R.APLIC_SOURCECFG_SM_EDGE_RISE); // not delegated: ignored
  assert.equal(rd(s, R.APLIC_SOURCECFG_BASE), 0);
  aplic.irqLine(1).set(true); // now the root's source
  assert.equal(pendingWord(m), bit(1));
  assert.equal(pendingWord(s), 0);
  cfg(m, 1, R.APLIC_SOURCECFG_D | 0); // delegated again: child starts from zero
  assert.equal(rd(s, R.APLIC_SOURCECFG_BASE), 0);
  assert.equal(pendingWord(m), 0);
  cfg(m, 2, R.APLIC_SOURCECFG_D | 5); // no child 5: the register becomes 0
  assert.equal(rd(m, R.APLIC_SOURCECFG_BASE + 4), 0);
  cfg(s, 3, R.APLIC_SOURCECFG_D | 0); // the S domain is a leaf: D = 1 writes zero
  assert.equal(rd(s, R.APLIC_SOURCECFG_BASE + 8), 0);
});

test('the supervisor domain has no MSI address registers; the root has them', () => {
  const { s, m } = make();
  assert.equal(rd(s, R.APLIC_SMSICFGADDR), 0);
  assert.equal(rd(m, R.APLIC_SMSICFGADDR), 0x28000);
});

test('hostile writes never throw: any offset, width, source number, value', () => {
  const { aplic, s, m } = make(40);
  const values = [0, 1, 40, 41, 1023, 1024, 0x7fff_ffff, 0xffff_ffff, -1];
  for (const t of [s, m]) {
    for (let off = 0; off < R.VIRT_APLIC_SIZE; off += 4) {
      for (const v of values) t.write(off, 4, v);
      t.read(off, 4);
    }
    for (const w of [1, 2, 8] as const) { t.write(0x1cdc, w, 0xffn); t.read(0x4000, w); t.write(0x3004 + 1, w, 1); }
  }
  assert.throws(() => aplic.irqLine(0), /valid sources are 1\.\.40/);
  assert.throws(() => aplic.irqLine(41), /valid sources are 1\.\.40/);
  for (let i = 1; i <= 40; i++) { aplic.irqLine(i).set(true); aplic.irqLine(i).set(false); }
  assert.equal(aplic.sources, 41);
});
