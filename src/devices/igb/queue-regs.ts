// Register-table rows for queue register blocks (82576EB datasheet: receive and transmit queue registers), shared by
// the PF view (queue n at 0xC000/0xE000 + 0x40n and the 0x2800/0x3800 + 0x100n alias of queues 0-3) and a VF's view
// (its two queues at 0x2800/0x3800 + 0x100q). Writing TDT (or enabling the queue) starts a transmit pass.

import type { RegisterDef } from '../../memory/register-table.js';
import { E1000_TXDCTL_QUEUE_ENABLE } from './defines.js';
import type { IgbCore } from './core.js';
import { Q_DBAH, Q_DBAL, Q_DCA, Q_DCTL, Q_DH, Q_DLEN, Q_DT, Q_SRRCTL, Q_WBAH, Q_WBAL } from './regs.js';

const RX_REGS: readonly [number, string][] = [
  [Q_DBAL, 'RDBAL'], [Q_DBAH, 'RDBAH'], [Q_DLEN, 'RDLEN'], [Q_SRRCTL, 'SRRCTL'], [Q_DH, 'RDH'], [Q_DCA, 'RXCTL'],
  [Q_DT, 'RDT'], [Q_DCTL, 'RXDCTL'],
];
const TX_REGS: readonly [number, string][] = [
  [Q_DBAL, 'TDBAL'], [Q_DBAH, 'TDBAH'], [Q_DLEN, 'TDLEN'], [Q_DH, 'TDH'], [Q_DCA, 'TXCTL'], [Q_DT, 'TDT'],
  [Q_DCTL, 'TXDCTL'], [Q_WBAL, 'TDWBAL'], [Q_WBAH, 'TDWBAH'],
];
/** RQDPC (receive queue drop packet count) at +0x30 of an RX block: reads 0. */
const Q_RQDPC = 0x30;

/**
 * Rows for `count` RX (tx = false) or TX queue blocks starting at `base`, `stride` apart; block i is NIC queue
 * `queueOf(i)`. `prefix` distinguishes aliases in register names ("" or "VF").
 */
export function queueRows(core: IgbCore, tx: boolean, base: number, stride: number, count: number, queueOf: (i: number) => number, prefix = ''): RegisterDef[] {
  const regs = tx ? core.txq : core.rxq;
  const rows: RegisterDef[] = (tx ? TX_REGS : RX_REGS).map(([reg, name]): RegisterDef => ({
    name: `${prefix}${name}`, offset: base + reg, width: 4, count, stride,
    nameOf: (i) => `${prefix}${name}${i}`,
    sideEffects: tx && (reg === Q_DT || reg === Q_DCTL) ? 'write' : 'none',
    read: (i) => regs.get(queueOf(i), reg),
    write: (v, i) => {
      const q = queueOf(i);
      const was = regs.get(q, reg);
      regs.write(q, reg, v);
      if (!tx) return;
      if (reg === Q_DT || (reg === Q_DCTL && (v & ~was & E1000_TXDCTL_QUEUE_ENABLE) !== 0)) core.transmit(q);
    },
  }));
  if (!tx) rows.push({ name: `${prefix}RQDPC`, offset: base + Q_RQDPC, width: 4, count, stride, nameOf: (i) => `${prefix}RQDPC${i}`, sideEffects: 'none', read: () => 0 });
  return rows;
}
