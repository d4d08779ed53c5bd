// The function QEMU's "gpex" host bridge puts at 00:00.0 (hw/pci-host/gpex.c gpex_root_class_init): Red Hat's PCIe
// host bridge ID 1b36:0008 (QEMU docs/specs/pci-ids.rst), class "host bridge", no BARs and no capabilities. Linux
// does not need it; attaching it makes `lspci` show the same root as on QEMU.

import type { PciDevice } from './device.js';

export const PCI_VENDOR_ID_REDHAT = 0x1b36;
export const PCI_DEVICE_ID_REDHAT_PCIE_HOST = 0x0008;
/** PCI_CLASS_BRIDGE_HOST (0x0600) as a 24-bit class code. */
export const PCI_CLASS_BRIDGE_HOST = 0x06_00_00;

export function gpexRootDevice(): PciDevice {
  return {
    identity: { vendorId: PCI_VENDOR_ID_REDHAT, deviceId: PCI_DEVICE_ID_REDHAT_PCIE_HOST, classCode: PCI_CLASS_BRIDGE_HOST },
    pcie: false,
    reset: () => {},
  };
}
