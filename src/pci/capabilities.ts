// The standard capabilities every vmio function can carry: the PCI Express capability structure, version 2
// (PCIe 4.0 §7.5.3), for an endpoint at 2.5 GT/s x1 with optional function-level reset, and PCI power management
// (PCI PM 1.2 §3.2) with D0 and D3hot only.

import type { CapabilitySpec, ConfigWindow } from './config-space.js';
import {
  PCI_CAP_EXP_SIZEOF_V2, PCI_CAP_ID_EXP, PCI_CAP_ID_PM, PCI_EXP_DEVCAP, PCI_EXP_DEVCAP_FLR, PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL_BCR_FLR, PCI_EXP_DEVSTA, PCI_EXP_FLAGS, PCI_EXP_FLAGS_VERS2, PCI_EXP_LNKCAP, PCI_EXP_LNKCAP2,
  PCI_EXP_LNKCTL, PCI_EXP_LNKCTL2, PCI_EXP_LNKSTA, PCI_EXP_TYPE_ENDPOINT, PCI_EXP_TYPE_RC_END, PCI_PM_CTRL,
  PCI_PM_CTRL_NO_SOFT_RESET, PCI_PM_CTRL_STATE_MASK, PCI_PM_PMC, PCI_PM_SIZEOF,
} from './regs.js';

export interface PcieSpec {
  /** 'endpoint' (default; a PCI Express Endpoint with a link) or 'rc-endpoint' (Root Complex Integrated Endpoint, no link). */
  readonly type?: 'endpoint' | 'rc-endpoint';
  /** Advertise function-level reset (DEVCAP.FLR); required of SR-IOV VFs. */
  readonly flr?: boolean;
}

/** DEVCAP: Role-Based Error Reporting (mandatory since PCIe 1.1), 128-byte max payload. */
const DEVCAP_RBER = 0x8000;
/** DEVCTL fields software may set: error reporting enables, relaxed ordering, payload, ext tag, no snoop, read request. */
const DEVCTL_WRITABLE = 0x7fff;
/** DEVCTL power-on: relaxed ordering and no snoop enabled, 512-byte max read request (PCIe 4.0 §7.5.3.4). */
const DEVCTL_DEFAULT = 0x0010 | 0x0800 | 0x2000;
/** DEVSTA error-detected bits (RW1C). */
const DEVSTA_ERRORS = 0x000f;
/** LNKCAP: 2.5 GT/s, x1. LNKSTA: trained at 2.5 GT/s x1. LNKCAP2: supported speeds vector = {2.5 GT/s}. */
const LNKCAP_GEN1_X1 = 0x1 | (1 << 4);
const LNKSTA_GEN1_X1 = 0x1 | (1 << 4);
const LNKCAP2_2_5GT = 0x2;
/** LNKCTL: ASPM control, read completion boundary, common clock, extended synch. */
const LNKCTL_WRITABLE = 0x0003 | 0x0008 | 0x0040 | 0x0080;

/** The PCI Express capability; `onFlr` runs when software initiates a function-level reset. */
export function pcieCapability(spec: PcieSpec, onFlr: () => void): CapabilitySpec {
  const rc = spec.type === 'rc-endpoint';
  const flr = spec.flr ?? false;
  return {
    id: PCI_CAP_ID_EXP,
    size: PCI_CAP_EXP_SIZEOF_V2,
    install(w: ConfigWindow): void {
      w.set16(PCI_EXP_FLAGS, PCI_EXP_FLAGS_VERS2 | ((rc ? PCI_EXP_TYPE_RC_END : PCI_EXP_TYPE_ENDPOINT) << 4));
      w.set32(PCI_EXP_DEVCAP, DEVCAP_RBER | (flr ? PCI_EXP_DEVCAP_FLR : 0));
      w.set16(PCI_EXP_DEVCTL, DEVCTL_DEFAULT);
      w.writable(PCI_EXP_DEVCTL, 2, DEVCTL_WRITABLE | (flr ? PCI_EXP_DEVCTL_BCR_FLR : 0));
      w.w1c(PCI_EXP_DEVSTA, 2, DEVSTA_ERRORS);
      if (!rc) {
        w.set32(PCI_EXP_LNKCAP, LNKCAP_GEN1_X1);
        w.writable(PCI_EXP_LNKCTL, 2, LNKCTL_WRITABLE);
        w.set16(PCI_EXP_LNKSTA, LNKSTA_GEN1_X1);
        w.set32(PCI_EXP_LNKCAP2, LNKCAP2_2_5GT);
        w.set16(PCI_EXP_LNKCTL2, 0x1);
      }
      if (flr) {
        w.watch(PCI_EXP_DEVCTL, 2, () => {
          const ctl = w.get16(PCI_EXP_DEVCTL);
          if ((ctl & PCI_EXP_DEVCTL_BCR_FLR) === 0) return;
          w.set16(PCI_EXP_DEVCTL, ctl & ~PCI_EXP_DEVCTL_BCR_FLR); // the bit always reads 0
          onFlr();
        });
      }
    },
  };
}

/** D0 and D3hot; No_Soft_Reset set, so a D3hot→D0 transition keeps the function's state (Linux then skips restore). */
export function powerManagementCapability(): CapabilitySpec {
  return {
    id: PCI_CAP_ID_PM,
    size: PCI_PM_SIZEOF,
    install(w: ConfigWindow): void {
      w.set16(PCI_PM_PMC, 0x3); // version 3 (PCI PM 1.2), no D1/D2, no PME
      w.set16(PCI_PM_CTRL, PCI_PM_CTRL_NO_SOFT_RESET);
      w.writable(PCI_PM_CTRL, 2, PCI_PM_CTRL_STATE_MASK);
      w.watch(PCI_PM_CTRL, 2, () => {
        const ctl = w.get16(PCI_PM_CTRL);
        const next = ctl & PCI_PM_CTRL_STATE_MASK;
        // An unsupported state (D1, D2) is discarded without a state change (PCI PM 1.2 §5.4).
        if (next === 1 || next === 2) w.set16(PCI_PM_CTRL, (ctl & ~PCI_PM_CTRL_STATE_MASK) | (w.previous16(PCI_PM_CTRL) & PCI_PM_CTRL_STATE_MASK));
      });
    },
  };
}
