// The memory-mapped control region of one APLIC interrupt domain as a register table (RISC-V AIA spec,
// "Memory-mapped control region for an interrupt domain" and "Interrupt delivery control (IDC) structure"):
// naturally aligned 32-bit accesses only; everything else reads 0 and ignores writes.

import { RegisterTable, type RegisterDef } from '../../memory/register-table.js';
import type { AplicDomain } from './aplic-domain.js';
import type { IdcRegister } from './aplic-idc.js';
import type { AplicMsiConfig } from './aplic-msi.js';
import {
  APLIC_CLRIENUM, APLIC_CLRIE_BASE, APLIC_CLRIPNUM, APLIC_CLRIP_BASE, APLIC_DOMAINCFG, APLIC_GENMSI, APLIC_IDC_BASE,
  APLIC_IDC_CLAIMI, APLIC_IDC_IDELIVERY, APLIC_IDC_IFORCE, APLIC_IDC_ITHRESHOLD, APLIC_IDC_SIZE, APLIC_IDC_TOPI,
  APLIC_IRQ_WORDS, APLIC_MMSICFGADDR, APLIC_MMSICFGADDRH, APLIC_SETIENUM, APLIC_SETIE_BASE, APLIC_SETIPNUM,
  APLIC_SETIPNUM_LE, APLIC_SETIP_BASE, APLIC_SMSICFGADDR, APLIC_SMSICFGADDRH, APLIC_SOURCECFG_BASE, APLIC_TARGET_BASE,
} from './aplic-regs.js';

/** 32 bits of a per-source property for sources 32k..32k+31. */
function word(k: number, bit: (i: number) => boolean): number {
  let v = 0;
  for (let b = 0; b < 32; b++) if (bit(k * 32 + b)) v |= 1 << b;
  return v >>> 0;
}

/** Applies `f` to each source whose bit is set in the value written to word k. */
function eachBit(k: number, v: number, f: (i: number) => void): void {
  for (let b = 0; b < 32; b++) if (((v >>> b) & 1) !== 0) f(k * 32 + b);
}

// guest-controlled: every value written through these rows (source numbers, bit masks, targets) goes to the
// domain's checked setters, which ignore sources that are not active in the domain.
/**
 * Builds the register table of domain `d`. `msi` is the root's MSI address configuration, given for
 * machine-level domains (writable only in the root; read-only copies elsewhere); supervisor domains have none.
 */
export function aplicRegisterTable(name: string, d: AplicDomain, sources: number, msi: AplicMsiConfig | null): RegisterTable {
  const words = (base: number, reg: string): Pick<RegisterDef, 'offset' | 'count' | 'nameOf'> =>
    ({ offset: base, count: APLIC_IRQ_WORDS, nameOf: (k: number) => `${reg}[${k}]` });
  const root = d.parent === null;
  const defs: RegisterDef[] = [
    { name: 'domaincfg', offset: APLIC_DOMAINCFG, width: 4, sideEffects: 'write', read: () => d.readDomaincfg(), write: (v) => d.writeDomaincfg(v) },
    {
      name: 'sourcecfg', offset: APLIC_SOURCECFG_BASE, count: sources, width: 4, sideEffects: 'write', nameOf: (k) => `sourcecfg[${k + 1}]`,
      read: (k) => d.readSourcecfg(k + 1), write: (v, k) => d.writeSourcecfg(k + 1, v),
    },
    {
      ...words(APLIC_SETIP_BASE, 'setip'), name: 'setip', width: 4, sideEffects: 'write',
      read: (k) => word(k, (i) => d.isPending(i)), write: (v, k) => eachBit(k, v, (i) => d.setPendingNum(i)),
    },
    { name: 'setipnum', offset: APLIC_SETIPNUM, width: 4, sideEffects: 'write', write: (v) => d.setPendingNum(v) },
    {
      ...words(APLIC_CLRIP_BASE, 'in_clrip'), name: 'in_clrip', width: 4, sideEffects: 'write',
      read: (k) => word(k, (i) => d.rectified(i)), write: (v, k) => eachBit(k, v, (i) => d.clearPendingNum(i)),
    },
    { name: 'clripnum', offset: APLIC_CLRIPNUM, width: 4, sideEffects: 'write', write: (v) => d.clearPendingNum(v) },
    {
      ...words(APLIC_SETIE_BASE, 'setie'), name: 'setie', width: 4, sideEffects: 'write',
      read: (k) => word(k, (i) => d.isEnabled(i)), write: (v, k) => eachBit(k, v, (i) => d.setEnableNum(i, true)),
    },
    { name: 'setienum', offset: APLIC_SETIENUM, width: 4, sideEffects: 'write', write: (v) => d.setEnableNum(v, true) },
    {
      ...words(APLIC_CLRIE_BASE, 'clrie'), name: 'clrie', width: 4, sideEffects: 'write',
      write: (v, k) => eachBit(k, v, (i) => d.setEnableNum(i, false)),
    },
    { name: 'clrienum', offset: APLIC_CLRIENUM, width: 4, sideEffects: 'write', write: (v) => d.setEnableNum(v, false) },
    { name: 'setipnum_le', offset: APLIC_SETIPNUM_LE, width: 4, sideEffects: 'write', write: (v) => d.setPendingNum(v) },
    { name: 'genmsi', offset: APLIC_GENMSI, width: 4, sideEffects: 'write', read: () => d.readGenmsi(), write: (v) => d.writeGenmsi(v) },
    {
      name: 'target', offset: APLIC_TARGET_BASE, count: sources, width: 4, sideEffects: 'write', nameOf: (k) => `target[${k + 1}]`,
      read: (k) => d.readTarget(k + 1), write: (v, k) => d.writeTarget(k + 1, v),
    },
  ];
  if (msi !== null && d.level === 'M') {
    const cfg = msi;
    const w = (f: (v: number) => void) => (root ? f : undefined);
    defs.push(
      { name: 'mmsiaddrcfg', offset: APLIC_MMSICFGADDR, width: 4, sideEffects: 'write', read: () => cfg.mcfg, write: w((v) => cfg.writeMcfg(v)) },
      { name: 'mmsiaddrcfgh', offset: APLIC_MMSICFGADDRH, width: 4, sideEffects: 'write', read: () => cfg.mcfgh, write: w((v) => cfg.writeMcfgh(v)) },
      { name: 'smsiaddrcfg', offset: APLIC_SMSICFGADDR, width: 4, sideEffects: 'write', read: () => cfg.scfg, write: w((v) => cfg.writeScfg(v)) },
      { name: 'smsiaddrcfgh', offset: APLIC_SMSICFGADDRH, width: 4, sideEffects: 'write', read: () => cfg.scfgh, write: w((v) => cfg.writeScfgh(v)) },
    );
  }
  const idcs = d.idcs;
  if (idcs !== null) {
    const idc = (reg: number, name: string): Pick<RegisterDef, 'offset' | 'count' | 'stride' | 'nameOf' | 'name'> =>
      ({ name, offset: APLIC_IDC_BASE + reg, count: idcs.count, stride: APLIC_IDC_SIZE, nameOf: (h: number) => `idc${h}.${name}` });
    const rw = (reg: number, r: IdcRegister): RegisterDef =>
      ({ ...idc(reg, r), width: 4, sideEffects: 'write', read: (h) => idcs.read(h, r), write: (v, h) => idcs.write(h, r, v) });
    defs.push(
      rw(APLIC_IDC_IDELIVERY, 'idelivery'), rw(APLIC_IDC_IFORCE, 'iforce'), rw(APLIC_IDC_ITHRESHOLD, 'ithreshold'),
      { ...idc(APLIC_IDC_TOPI, 'topi'), width: 4, sideEffects: 'none', read: (h) => idcs.topi(h) },
      { ...idc(APLIC_IDC_CLAIMI, 'claimi'), width: 4, sideEffects: 'read', read: (h) => idcs.claimi(h) },
    );
  }
  return new RegisterTable(name, defs);
}
