// The PF's register table (BAR0; offsets in regs.ts, named as igb/e1000_regs.h): device control and status, NVM and
// PHY access, ICR/IMS causes and the MSI-X vector registers, receive/transmit control, the filter tables the switch
// reads (RAR, MTA, VFTA, UTA, VLVF, VMOLR, VMVIR), VMDq control, the mailboxes and VF enables, anti-spoofing and
// loopback (DTXSWC, WVBR), the rate limiter, the statistics (read 0) and the queue blocks. Anything else igb touches
// is plain storage (storage.ts).

import type { RegisterDef } from '../../memory/register-table.js';
import {
  E1000_MDIC_DATA_MASK, E1000_MDIC_ERROR, E1000_MDIC_INT_EN, E1000_MDIC_OP_READ, E1000_MDIC_OP_WRITE, E1000_MDIC_PHY_MASK,
  E1000_MDIC_PHY_SHIFT, E1000_MDIC_READY, E1000_MDIC_REG_MASK, E1000_MDIC_REG_SHIFT, E1000_NVM_CFG_DONE_PORT_0,
  E1000_RAH_AV, E1000_RAH_POOL_MASK, E1000_SWSM_SMBI, E1000_SWSM_SWESMBI, E1000_TCTL_EN, E1000_ICR_MDAC, IGB_PHY_ADDRESS,
} from './defines.js';
import type { IgbPf } from './pf.js';
import { queueRows } from './queue-regs.js';
import {
  ALIAS_STRIDE, E1000_CTRL, E1000_CTRL_EXT, E1000_DTXCTL, E1000_DTXSWC, E1000_EECD, E1000_EEMNGCTL, E1000_EERD,
  E1000_EIAC, E1000_EIAM, E1000_EICR, E1000_EICS, E1000_EIMC, E1000_EIMS, E1000_EITR0, E1000_GPIE, E1000_IAM, E1000_ICR,
  E1000_ICS, E1000_IMC, E1000_IMS, E1000_ITR, E1000_IVAR0, E1000_IVAR_MISC, E1000_MBVFICR, E1000_MBVFIMR, E1000_MDIC,
  E1000_MRQC, E1000_MTA, E1000_MTA_ENTRIES, E1000_P2VMAILBOX0, E1000_QDE, E1000_RA, E1000_RA2, E1000_RCTL, E1000_RLPML,
  E1000_RPLOLR, E1000_RTTBCNRC, E1000_RTTBCNRM, E1000_RTTDQSEL, E1000_RXCSUM, E1000_STATS_END, E1000_STATS_START,
  E1000_STATUS, E1000_SWSM, E1000_SW_FW_SYNC, E1000_TCTL, E1000_UTA, E1000_UTA_ENTRIES, E1000_VFLRE, E1000_VFRE,
  E1000_VFTA, E1000_VFTA_ENTRIES, E1000_VFTE, E1000_VLVF0, E1000_VLVF_ARRAY_SIZE, E1000_VMBMEM0, E1000_VMOLR0,
  E1000_VMVIR0, E1000_VFMAILBOX_SIZE, E1000_VT_CTL, E1000_WVBR, IGB_MAX_VF_FUNCTIONS, IGB_NUM_QUEUES, QUEUE_STRIDE,
  RXQ_ALIAS, RXQ_BASE, TXQ_ALIAS, TXQ_BASE,
} from './regs.js';

type Rw = { read?: () => number; write?: (v: number) => void };

export function pfRegisters(pf: IgbPf): RegisterDef[] {
  const core = pf.core, t = core.tables, mb = core.mailbox, ext = pf.ext, r = pf.r;
  const reg = (name: string, offset: number, rw: Rw, sideEffects: RegisterDef['sideEffects'] = 'both'): RegisterDef => ({ name, offset, width: 4, sideEffects, ...rw });
  const store = (name: string, offset: number, get: () => number, set: (v: number) => void): RegisterDef => reg(name, offset, { read: get, write: set }, 'none');
  const table = (name: string, offset: number, arr: Uint32Array, count = arr.length, write?: (v: number, i: number) => void): RegisterDef => ({
    name, offset, width: 4, count, sideEffects: 'none', read: (i) => arr[i]!, write: write ?? ((v, i) => { arr[i] = v; }),
  });
  const rarWrite = (base: number) => (v: number, i: number): void => {
    const k = base + i;
    t.rar[k] = (k & 1) === 0 ? v : v & (E1000_RAH_AV | E1000_RAH_POOL_MASK | 0x0001_ffff);
  };
  return [
    reg('CTRL', E1000_CTRL, { read: () => r.ctrl, write: (v) => pf.writeCtrl(v) }, 'write'),
    reg('STATUS', E1000_STATUS, { read: () => pf.status() }, 'none'),
    reg('EECD', E1000_EECD, { read: () => pf.nvm.readEecd(), write: (v) => pf.nvm.writeEecd(v) }, 'write'),
    reg('EERD', E1000_EERD, { read: () => pf.nvm.readEerd(), write: (v) => pf.nvm.writeEerd(v) }, 'write'),
    reg('CTRL_EXT', E1000_CTRL_EXT, { read: () => r.ctrlExt, write: (v) => pf.writeCtrlExt(v) }, 'write'),
    reg('MDIC', E1000_MDIC, { read: () => r.mdic, write: (v) => writeMdic(pf, v) }, 'write'),
    reg('ICR', E1000_ICR, { read: () => pf.readIcr(), write: (v) => { r.icr = (r.icr & ~v) >>> 0; pf.evaluateLine(); } }),
    store('ITR', E1000_ITR, () => r.itr, (v) => { r.itr = v; }),
    reg('ICS', E1000_ICS, { write: (v) => pf.cause(v) }, 'write'),
    reg('IMS', E1000_IMS, { read: () => r.ims, write: (v) => pf.writeIms(v) }, 'write'),
    reg('IMC', E1000_IMC, { write: (v) => pf.writeImc(v) }, 'write'),
    store('IAM', E1000_IAM, () => r.iam, (v) => { r.iam = v; }),
    reg('RCTL', E1000_RCTL, { read: () => t.rctl, write: (v) => { t.rctl = v >>> 0; } }, 'write'),
    reg('TCTL', E1000_TCTL, {
      read: () => core.tctl,
      write: (v) => {
        const rising = v & ~core.tctl & E1000_TCTL_EN;
        core.tctl = v >>> 0;
        if (rising !== 0) for (let q = 0; q < IGB_NUM_QUEUES; q++) core.transmit(q);
      },
    }, 'write'),
    reg('EEMNGCTL', E1000_EEMNGCTL, { read: () => E1000_NVM_CFG_DONE_PORT_0 }, 'none'),
    store('GPIE', E1000_GPIE, () => r.gpie, (v) => { r.gpie = v >>> 0; }),
    reg('EICS', E1000_EICS, { write: (v) => ext.writeEics(v) }, 'write'),
    reg('EIMS', E1000_EIMS, { read: () => ext.eims, write: (v) => ext.writeEims(v) }, 'write'),
    reg('EIMC', E1000_EIMC, { write: (v) => ext.writeEimc(v) }, 'write'),
    store('EIAC', E1000_EIAC, () => ext.eiac, (v) => ext.writeEiac(v)),
    store('EIAM', E1000_EIAM, () => ext.eiam, (v) => ext.writeEiam(v)),
    reg('EICR', E1000_EICR, { read: () => ext.readEicr(), write: (v) => ext.writeEicr(v) }),
    table('EITR', E1000_EITR0, pf.eitr),
    table('IVAR', E1000_IVAR0, pf.ivar),
    store('IVAR_MISC', E1000_IVAR_MISC, () => pf.ivarMisc, (v) => { pf.ivarMisc = v >>> 0; }),
    // Reading SWSM takes the driver semaphore (SMBI reads 0 once, then 1 until released).
    reg('SWSM', E1000_SWSM, { read: () => { const v = r.swsm; r.swsm |= E1000_SWSM_SMBI; return v; }, write: (v) => { r.swsm = v & (E1000_SWSM_SMBI | E1000_SWSM_SWESMBI); } }),
    store('SW_FW_SYNC', E1000_SW_FW_SYNC, () => r.swFwSync, (v) => { r.swFwSync = v >>> 0; }),
    store('RXCSUM', E1000_RXCSUM, () => r.rxcsum, (v) => { r.rxcsum = v >>> 0; }),
    store('RLPML', E1000_RLPML, () => core.rlpml, (v) => { core.rlpml = v & 0x3fff; }),
    table('MTA', E1000_MTA, t.mta, E1000_MTA_ENTRIES),
    { ...table('RA', E1000_RA, t.rar, 32, rarWrite(0)), nameOf: (i) => `${(i & 1) === 0 ? 'RAL' : 'RAH'}${i >> 1}` },
    {
      name: 'RA2', offset: E1000_RA2, width: 4, count: 16, sideEffects: 'none', nameOf: (i) => `${(i & 1) === 0 ? 'RAL' : 'RAH'}${16 + (i >> 1)}`,
      read: (i) => t.rar[32 + i]!, write: rarWrite(32),
    },
    table('VFTA', E1000_VFTA, t.vfta, E1000_VFTA_ENTRIES),
    store('MRQC', E1000_MRQC, () => t.mrqc, (v) => { t.mrqc = v >>> 0; }),
    store('VT_CTL', E1000_VT_CTL, () => t.vtctl, (v) => { t.vtctl = v >>> 0; }),
    table('UTA', E1000_UTA, t.uta, E1000_UTA_ENTRIES),
    // Virtualization.
    {
      name: 'VMBMEM', offset: E1000_VMBMEM0, width: 4, count: IGB_MAX_VF_FUNCTIONS * E1000_VFMAILBOX_SIZE, sideEffects: 'none',
      nameOf: (i) => `VMBMEM${i >> 4}[${i & 15}]`,
      read: (i) => mb.readPfBuffer(i >> 4, i & 15), write: (v, i) => mb.writePfBuffer(i >> 4, i & 15, v),
    },
    { name: 'P2VMAILBOX', offset: E1000_P2VMAILBOX0, width: 4, count: IGB_MAX_VF_FUNCTIONS, sideEffects: 'write', read: (i) => mb.readP2v(i), write: (v, i) => mb.writeP2v(i, v) },
    reg('MBVFICR', E1000_MBVFICR, { read: () => mb.mbvficr, write: (v) => mb.writeMbvficr(v) }, 'write'),
    store('MBVFIMR', E1000_MBVFIMR, () => mb.mbvfimr, (v) => mb.writeMbvfimr(v)),
    reg('VFLRE', E1000_VFLRE, { read: () => mb.vflre, write: (v) => mb.writeVflre(v) }, 'write'),
    reg('VFRE', E1000_VFRE, { read: () => t.vfre, write: (v) => { t.vfre = v & 0xff; } }, 'write'),
    reg('VFTE', E1000_VFTE, {
      read: () => t.vfte,
      write: (v) => {
        const rising = v & ~t.vfte & 0xff;
        t.vfte = v & 0xff;
        for (let vf = 0; vf < IGB_MAX_VF_FUNCTIONS; vf++) if ((rising & (1 << vf)) !== 0) { core.transmit(vf); core.transmit(vf + 8); }
      },
    }, 'write'),
    store('QDE', E1000_QDE, () => r.qde, (v) => { r.qde = v >>> 0; }),
    store('DTXSWC', E1000_DTXSWC, () => t.dtxswc, (v) => { t.dtxswc = v >>> 0; }),
    reg('WVBR', E1000_WVBR, { read: () => { const v = core.wvbr; core.wvbr = 0; return v; } }, 'read'),
    store('DTXCTL', E1000_DTXCTL, () => r.dtxctl, (v) => { r.dtxctl = v >>> 0; }),
    reg('RTTDQSEL', E1000_RTTDQSEL, { read: () => core.rate.selected, write: (v) => core.rate.writeSelect(v) }, 'none'),
    store('RTTBCNRM', E1000_RTTBCNRM, () => core.rate.mmw, (v) => { core.rate.mmw = v >>> 0; }),
    reg('RTTBCNRC', E1000_RTTBCNRC, { read: () => core.rate.config(core.rate.selected), write: (v) => core.rate.writeConfig(v) }, 'write'),
    table('VMVIR', E1000_VMVIR0, t.vmvir),
    table('VMOLR', E1000_VMOLR0, t.vmolr),
    store('RPLOLR', E1000_RPLOLR, () => r.rplolr, (v) => { r.rplolr = v >>> 0; }),
    table('VLVF', E1000_VLVF0, t.vlvf, E1000_VLVF_ARRAY_SIZE),
    { name: 'STATS', offset: E1000_STATS_START, width: 4, count: (E1000_STATS_END - E1000_STATS_START) >> 2, sideEffects: 'read', nameOf: (i) => `STAT_0x${(E1000_STATS_START + 4 * i).toString(16)}`, read: () => 0 },
    ...queueRows(core, false, RXQ_BASE, QUEUE_STRIDE, IGB_NUM_QUEUES, (i) => i),
    ...queueRows(core, true, TXQ_BASE, QUEUE_STRIDE, IGB_NUM_QUEUES, (i) => i),
    ...queueRows(core, false, RXQ_ALIAS, ALIAS_STRIDE, 4, (i) => i),
    ...queueRows(core, true, TXQ_ALIAS, ALIAS_STRIDE, 4, (i) => i),
  ];
}

// guest-controlled: PHY address, register and data; the operation completes at once (READY).
function writeMdic(pf: IgbPf, v: number): void {
  const phyAddr = (v & E1000_MDIC_PHY_MASK) >>> E1000_MDIC_PHY_SHIFT;
  const reg = (v & E1000_MDIC_REG_MASK) >>> E1000_MDIC_REG_SHIFT;
  let out = (v & ~(E1000_MDIC_READY | E1000_MDIC_ERROR)) >>> 0;
  if (phyAddr !== IGB_PHY_ADDRESS) out |= E1000_MDIC_ERROR;
  else if ((v & E1000_MDIC_OP_READ) !== 0) out = ((out & ~E1000_MDIC_DATA_MASK) | pf.phy.read(reg)) >>> 0;
  else if ((v & E1000_MDIC_OP_WRITE) !== 0) { pf.phy.write(reg, v & E1000_MDIC_DATA_MASK); pf.checkLink(); }
  else out |= E1000_MDIC_ERROR;
  pf.r.mdic = (out | E1000_MDIC_READY) >>> 0;
  if ((v & E1000_MDIC_INT_EN) !== 0) pf.cause(E1000_ICR_MDAC);
}
