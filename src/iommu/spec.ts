// Names and encodings of the RISC-V IOMMU specification (riscv-non-isa/riscv-iommu, "Data Structures" and
// "Fault/Event-Queue") and of the G-stage page-table format it borrows from the privileged spec ("Sv39", "Guest
// Physical Address Translation"). Only what vmio's hypervisor IOMMU uses: base-format device contexts in a 2-level
// device directory, Sv39x4 or Bare second stage, Bare first stage, no ATS/PRI/PASID, no MSI page tables.

/** Page size of every IOMMU structure and of the smallest G-stage leaf. */
export const PAGE_SIZE = 4096;

// Sv39 PTE bits (privileged spec "Sv39"; Sv39x4 G-stage PTEs have the same format).
export const PTE_V = 1 << 0;
export const PTE_R = 1 << 1;
export const PTE_W = 1 << 2;
export const PTE_X = 1 << 3;
/** G-stage accesses are user-level accesses: a leaf without U refuses every device access. */
export const PTE_U = 1 << 4;
/** Unused in G-stage PTEs: cleared by software, ignored by hardware. */
export const PTE_G = 1 << 5;
export const PTE_A = 1 << 6;
export const PTE_D = 1 << 7;
/** PTE bits 63:54 (N, PBMT, reserved) as seen in the high 32-bit word: must be zero (no Svnapot, no Svpbmt). */
export const PTE_HI_RESERVED_SHIFT = 22;
/** PTE bits 53:32 = PPN bits 43:22, in the high word. */
export const PTE_HI_PPN_MASK = 0x3f_ffff;

/** Sv39x4: guest physical addresses have 41 bits ("Address bits 63:41 must all be zeros"). */
export const SV39X4_GPA_BITS = 41;
export const SV39X4_GPA_LIMIT = 2 ** SV39X4_GPA_BITS;
/** Sv39x4's root table is 16 KiB (2048 entries, VPN[2] = GPA[40:30]) and 16 KiB aligned. */
export const SV39X4_ROOT_BYTES = 16 * 1024;
export const SV39X4_ROOT_ENTRIES = 2048;
export const SV39X4_LEVELS = 3;
/** Bytes one entry of level i maps: 4 KiB, 2 MiB, 1 GiB. */
export const LEVEL_SPAN = [2 ** 12, 2 ** 21, 2 ** 30] as const;

// iohgatp (§ "IO hypervisor guest address translation and protection"): PPN 43:0, GSCID 59:44, MODE 63:60.
export const IOHGATP_MODE_BARE = 0;
export const IOHGATP_MODE_SV39X4 = 8;
export const GSCID_MAX = 0xffff;

// DC.tc (§ "Translation control"): bit positions.
export const DC_TC_V = 1 << 0;
export const DC_TC_EN_ATS = 1 << 1;
export const DC_TC_EN_PRI = 1 << 2;
export const DC_TC_T2GPA = 1 << 3;
/** Disable translation-fault reporting: faults not marked "reported if DTF" are not logged. */
export const DC_TC_DTF = 1 << 4;
export const DC_TC_PDTV = 1 << 5;
/** Bits 23:12 reserved; 31:24 custom (ignored here); 63:32 reserved. Everything in 11:1 but DTF needs a capability vmio lacks. */
export const DC_TC_SUPPORTED = DC_TC_V | DC_TC_DTF;
export const DC_TC_CUSTOM_MASK = 0xff00_0000;
/** A base-format device context: tc, iohgatp, ta, fsc (four little-endian doublewords). */
export const DC_SIZE = 32;
export const DC_TC = 0;
export const DC_IOHGATP = 8;
export const DC_TA = 16;
export const DC_FSC = 24;

/** Base-format device_id partitioning: DDI[0] = bits 6:0, DDI[1] = bits 15:7, DDI[2] = bits 23:16. */
export const DDI0_BITS = 7;
export const DDI1_BITS = 9;
/** 2LVL mode (the mode vmio uses) handles 16-bit device IDs: PCI requester IDs. */
export const DEVICE_ID_MAX_2LVL = 0xffff;

// Fault record CAUSE (§ "Fault/Event-Queue", table "Fault record CAUSE field encodings").
export const CAUSE_READ_ACCESS_FAULT = 5;
export const CAUSE_WRITE_ACCESS_FAULT = 7;
export const CAUSE_READ_GUEST_PAGE_FAULT = 21;
export const CAUSE_WRITE_GUEST_PAGE_FAULT = 23;
export const CAUSE_ALL_INBOUND_DISALLOWED = 256;
export const CAUSE_DDT_LOAD_ACCESS_FAULT = 257;
export const CAUSE_DDT_ENTRY_INVALID = 258;
export const CAUSE_DDT_ENTRY_MISCONFIGURED = 259;
export const CAUSE_TRANSACTION_TYPE_DISALLOWED = 260;

export const CAUSE_NAMES: Readonly<Record<number, string>> = {
  [CAUSE_READ_ACCESS_FAULT]: 'read access fault', [CAUSE_WRITE_ACCESS_FAULT]: 'write/AMO access fault',
  [CAUSE_READ_GUEST_PAGE_FAULT]: 'read guest-page fault', [CAUSE_WRITE_GUEST_PAGE_FAULT]: 'write/AMO guest-page fault',
  [CAUSE_ALL_INBOUND_DISALLOWED]: 'all inbound transactions disallowed',
  [CAUSE_DDT_LOAD_ACCESS_FAULT]: 'DDT entry load access fault', [CAUSE_DDT_ENTRY_INVALID]: 'DDT entry not valid',
  [CAUSE_DDT_ENTRY_MISCONFIGURED]: 'DDT entry misconfigured',
  [CAUSE_TRANSACTION_TYPE_DISALLOWED]: 'transaction type disallowed',
};

/** Causes still reported when DC.tc.DTF is 1 (the table's last column), among those vmio raises. */
export const CAUSES_REPORTED_WITH_DTF: ReadonlySet<number> = new Set([
  CAUSE_ALL_INBOUND_DISALLOWED, CAUSE_DDT_LOAD_ACCESS_FAULT, CAUSE_DDT_ENTRY_INVALID, CAUSE_DDT_ENTRY_MISCONFIGURED,
]);

// Fault record TTYP (table "Fault record TTYP field encodings").
export const TTYP_NONE = 0;
export const TTYP_UNTRANSLATED_READ = 2;
export const TTYP_UNTRANSLATED_WRITE = 3;

export const guestPageFault = (write: boolean): number => (write ? CAUSE_WRITE_GUEST_PAGE_FAULT : CAUSE_READ_GUEST_PAGE_FAULT);
export const accessFault = (write: boolean): number => (write ? CAUSE_WRITE_ACCESS_FAULT : CAUSE_READ_ACCESS_FAULT);
export const isGuestPageFault = (cause: number): boolean =>
  cause === CAUSE_READ_GUEST_PAGE_FAULT || cause === CAUSE_WRITE_GUEST_PAGE_FAULT || cause === 20;

/** An Sv39 PTE as a 64-bit value: `ppn` (44 bits) and the low flag bits. */
export function encodePte(ppn: number, flags: number): bigint {
  return (BigInt(ppn) << 10n) | BigInt(flags & 0x3ff);
}

/** iohgatp as a 64-bit value. */
export function encodeIohgatp(mode: number, gscid: number, ppn: number): bigint {
  return (BigInt(mode & 0xf) << 60n) | (BigInt(gscid & 0xffff) << 44n) | BigInt(ppn);
}
