// The interface a PCI device model implements once (virtio-pci, e1000, igb PF and VF, the test function): what it
// is, which BARs it decodes and with what handler, which capabilities it carries. The framework (PciFunction) owns
// everything else — configuration space, BAR regions and their names ("BB:DD.F/barN"), the function's DmaSpace gated
// by bus-master enable, MSI/MSI-X delivery and the INTx pin — and hands the device what it needs in `attach`.

import type { ClassRange, MmioHandler } from '../memory/bus.js';
import type { DmaSpace } from '../memory/dma.js';
import type { ExitClass, RegisterNamer } from '../metrics/counters.js';
import type { IrqLine } from '../board/irq.js';
import type { Resettable } from '../devices/device.js';
import type { CapabilitySpec, ConfigSpace, ExtCapabilitySpec } from './config-space.js';
import type { PcieSpec } from './capabilities.js';
import type { Msix, MsixSpec } from './msix.js';
import type { Msi, MsiSpec } from './msi.js';

/** The read-only identity registers of the type 0 header (PCI 3.0 §6.2.1). */
export interface PciIdentity {
  readonly vendorId: number;
  readonly deviceId: number;
  /** Base class << 16 | subclass << 8 | programming interface (e.g. 0x020000: Ethernet controller). */
  readonly classCode: number;
  readonly revision?: number;
  readonly subsystemVendorId?: number;
  readonly subsystemId?: number;
}

/** One BAR (PCI 3.0 §6.2.5.1). A 64-bit BAR at index i also uses index i+1, which must be left empty. */
export interface BarSpec {
  /** Bytes decoded: a power of two, >= 16 for memory, 4..256 for I/O. */
  readonly size: number;
  /** Default 'memory'. */
  readonly kind?: 'memory' | 'io';
  /** A 64-bit memory BAR. */
  readonly is64?: boolean;
  readonly prefetchable?: boolean;
  /** Accesses at offsets relative to the BAR. Absent: reads 0, writes dropped (e.g. a BAR holding only MSI-X). */
  readonly handler?: MmioHandler;
  /** How accesses are accounted (default 'user'); 'direct' for an assigned function's BAR. */
  readonly exitClass?: ExitClass;
  /** Sub-ranges of another class (notify doorbells). The MSI-X table and PBA are added by the framework. */
  readonly classes?: readonly ClassRange[];
  readonly registerName?: RegisterNamer;
  /** The device's own containment when its handler throws (virtio: DEVICE_NEEDS_RESET); see RegionSpec.onFailure. */
  readonly onFailure?: (error: Error) => boolean;
}

export type InterruptPin = 0 | 1 | 2 | 3 | 4;
/** INTA..INTD as the Interrupt Pin register encodes them. */
export const INTA: InterruptPin = 1;

export interface PciDevice extends Resettable {
  readonly identity: PciIdentity;
  /** Up to six BARs by index; null or absent entries are unimplemented (read 0, size 0). */
  readonly bars?: readonly (BarSpec | null | undefined)[];
  /** 0 (no INTx), or 1..4 for INTA..INTD. */
  readonly interruptPin?: InterruptPin;
  readonly msix?: MsixSpec;
  readonly msi?: MsiSpec;
  /** The PCI Express capability (default: an endpoint, version 2); false for a conventional PCI function. */
  readonly pcie?: PcieSpec | false;
  /** Carry a power management capability (D0/D3hot). */
  readonly powerManagement?: boolean;
  /** Device-specific capabilities (virtio's vendor capabilities), linked after the framework's own. */
  readonly capabilities?: readonly CapabilitySpec[];
  /** Extended capabilities from 0x100 (SR-IOV later: PCI_EXT_CAP_ID_SRIOV, PCI_EXT_CAP_SRIOV_SIZEOF). */
  readonly extCapabilities?: readonly ExtCapabilitySpec[];
  /** Called once when the function is created, before any guest access. */
  attach?(ctx: PciFunctionContext): void;
  /** Called after the guest changed the command register (the framework has applied decode and bus-master changes). */
  onCommand?(command: number): void;
}

/** What a device receives from its function. */
export interface PciFunctionContext {
  /** "BB:DD.F", also the name of the DmaSpace and the prefix of the BAR region names. */
  readonly name: string;
  /** The only way the device reaches guest memory; faults while bus mastering is disabled. */
  readonly dma: DmaSpace;
  readonly msix: Msix | null;
  readonly msi: Msi | null;
  /** The device's INTx pin (level); the framework applies Interrupt Disable and routes it to the host bridge. */
  readonly intx: IrqLine;
  /** The function's configuration space (to read its own capability registers). */
  readonly config: ConfigSpace;
}
