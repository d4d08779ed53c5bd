// The device directory table (RISC-V IOMMU spec "Device-Directory-Table (DDT)", "Process to locate the
// Device-context", "Device-context configuration checks"): a 2-level radix tree in the IOMMU's table memory,
// indexed by the device ID (a PCI requester ID, bus << 8 | device << 3 | function), whose leaves hold base-format
// device contexts. vmio's IOMMU has capabilities for none of ATS, PRI, PASID (PDT), first-stage translation,
// T2GPA, A/D updates, big-endian or QoS IDs, so a DC that asks for any of them is misconfigured (cause 259).

import type { GuestMemory } from '../memory/guest-memory.js';
import type { TableMemory } from './table-memory.js';
import {
  CAUSE_DDT_ENTRY_INVALID, CAUSE_DDT_ENTRY_MISCONFIGURED, CAUSE_DDT_LOAD_ACCESS_FAULT, CAUSE_TRANSACTION_TYPE_DISALLOWED,
  DC_FSC, DC_IOHGATP, DC_SIZE, DC_TA, DC_TC, DC_TC_CUSTOM_MASK, DC_TC_DTF, DC_TC_SUPPORTED, DC_TC_V, DDI0_BITS,
  DEVICE_ID_MAX_2LVL, IOHGATP_MODE_BARE, IOHGATP_MODE_SV39X4, PTE_V, SV39X4_ROOT_BYTES, encodeIohgatp,
} from './spec.js';

/** A decoded, checked device context. */
export interface DeviceContext {
  /** DC.tc.DTF: translation faults are not reported. */
  dtf: boolean;
  /** iohgatp.MODE: IOHGATP_MODE_SV39X4 or IOHGATP_MODE_BARE. */
  mode: number;
  gscid: number;
  /** Host physical address of the Sv39x4 root table (iohgatp.PPN × 4 KiB). */
  root: number;
}

const TWO32 = 2 ** 32;
const ddi0 = (did: number): number => did & ((1 << DDI0_BITS) - 1);
const ddi1 = (did: number): number => did >>> DDI0_BITS;

function words(mem: GuestMemory, hpa: number, out: Uint32Array): boolean {
  if (!mem.contains(hpa, 8)) return false;
  out[0] = mem.read32(hpa - mem.base);
  out[1] = mem.read32(hpa - mem.base + 4);
  return true;
}

const w = new Uint32Array(2);

/**
 * Locates and checks the DC of `did` in the 2LVL directory rooted at host physical address `ddtRoot` (ddtp.PPN ×
 * 4 KiB). Fills `out` and returns 0, or returns the fault CAUSE. Reads only the IOMMU's table memory `mem`.
 */
export function locateDc(mem: GuestMemory, ddtRoot: number, did: number, out: DeviceContext): number {
  // Step 5: a device_id wider than the mode handles (DDI[2] ≠ 0 in 2LVL) is "transaction type disallowed".
  if (!Number.isInteger(did) || did < 0 || did > DEVICE_ID_MAX_2LVL) return CAUSE_TRANSACTION_TYPE_DISALLOWED;
  // Non-leaf entry: V (bit 0), reserved 9:1, PPN 53:10, reserved 63:54.
  if (!words(mem, ddtRoot + ddi1(did) * 8, w)) return CAUSE_DDT_LOAD_ACCESS_FAULT;
  if ((w[0]! & PTE_V) === 0) return CAUSE_DDT_ENTRY_INVALID;
  if ((w[0]! & 0x3fe) !== 0 || w[1]! >>> 22 !== 0) return CAUSE_DDT_ENTRY_MISCONFIGURED;
  const leaf = ((w[0]! >>> 10) + (w[1]! & 0x3f_ffff) * 2 ** 22) * 4096;
  const dc = leaf + ddi0(did) * DC_SIZE;
  if (!mem.contains(dc, DC_SIZE)) return CAUSE_DDT_LOAD_ACCESS_FAULT;
  words(mem, dc + DC_TC, w);
  if ((w[0]! & DC_TC_V) === 0) return CAUSE_DDT_ENTRY_INVALID;
  if ((w[0]! & ~(DC_TC_SUPPORTED | DC_TC_CUSTOM_MASK)) !== 0 || w[1] !== 0) return CAUSE_DDT_ENTRY_MISCONFIGURED;
  out.dtf = (w[0]! & DC_TC_DTF) !== 0;
  // iohgatp: PPN 43:0, GSCID 59:44, MODE 63:60.
  words(mem, dc + DC_IOHGATP, w);
  out.mode = w[1]! >>> 28;
  out.gscid = (w[1]! >>> 12) & 0xffff;
  out.root = (w[0]! + (w[1]! & 0xfff) * TWO32) * 4096;
  if (out.mode !== IOHGATP_MODE_SV39X4 && out.mode !== IOHGATP_MODE_BARE) return CAUSE_DDT_ENTRY_MISCONFIGURED;
  if (out.mode === IOHGATP_MODE_SV39X4 && out.root % SV39X4_ROOT_BYTES !== 0) return CAUSE_DDT_ENTRY_MISCONFIGURED;
  // ta: PSCID is ignored with a Bare first stage; the reserved bits and RCID/MCID (no QOSID capability) must be 0.
  words(mem, dc + DC_TA, w);
  if ((w[0]! & 0xfff) !== 0 || w[1] !== 0) return CAUSE_DDT_ENTRY_MISCONFIGURED;
  // fsc = iosatp: MODE must be Bare (no first-stage capability); its reserved bits 59:44 must be 0.
  words(mem, dc + DC_FSC, w);
  if (w[1]! >>> 12 !== 0) return CAUSE_DDT_ENTRY_MISCONFIGURED;
  return 0;
}

export function newDeviceContext(): DeviceContext {
  return { dtf: false, mode: 0, gscid: 0, root: 0 };
}

/**
 * Writes the DC of `did`: valid, Sv39x4 with `gscid` and `root` (or invalid when `gscid` is null). Creates the
 * leaf directory page on first use. The tc doubleword (holding V) is written last and alone, so the IOMMU never
 * reads a valid DC with stale fields; the caller then issues IODIR.INVAL_DDT (and IOTINVAL.GVMA for an old DC).
 */
export function writeDc(tables: TableMemory, ddtRoot: number, did: number, ctx: { gscid: number; root: number } | null): void {
  const nl = ddtRoot + ddi1(did) * 8;
  let entry = tables.read64(nl);
  if ((entry & 1n) === 0n) {
    if (ctx === null) return;
    const page = tables.allocPage('a device-directory leaf page');
    entry = (BigInt(page / 4096) << 10n) | 1n;
    tables.write64(nl, entry);
  }
  const dc = Number((entry >> 10n) & 0xfff_ffff_ffffn) * 4096 + ddi0(did) * DC_SIZE;
  if (ctx === null) {
    tables.write64(dc + DC_TC, 0n);
    return;
  }
  tables.write64(dc + DC_TC, 0n);
  tables.write64(dc + DC_IOHGATP, encodeIohgatp(IOHGATP_MODE_SV39X4, ctx.gscid, ctx.root / 4096));
  tables.write64(dc + DC_TA, 0n);
  tables.write64(dc + DC_FSC, 0n);
  tables.write64(dc + DC_TC, BigInt(DC_TC_V));
}

/** The host physical address of the DC of `did`, or -1 when its leaf page does not exist (for tests and tools). */
export function dcAddress(tables: TableMemory, ddtRoot: number, did: number): number {
  const entry = tables.read64(ddtRoot + ddi1(did) * 8);
  if ((entry & 1n) === 0n) return -1;
  return Number((entry >> 10n) & 0xfff_ffff_ffffn) * 4096 + ddi0(did) * DC_SIZE;
}
