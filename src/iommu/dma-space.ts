// The DMA space of one PCI function behind the IOMMU (ARCHITECTURE.md "DmaSpace": translated and
// permission-checked for assigned functions). Every bus address the function puts on the wire is an IOVA: the
// IOMMU translates it through the function's device context (its requester ID) to an address in its owner VM's
// memory, or refuses it; the base class then checks ranges, moves bytes only after every page of an access has
// translated, and resolves the result to RAM or to an MSI doorbell (the IMSIC page the hypervisor mapped).
//
// Exactly one fault record per refused access: the base class may translate the same address twice for one
// access (its scalar fast path, then the general path), so a refusal is held here and logged when the access
// returns, and the second translation of the same address reuses it without walking again.

import { IdentityDmaSpace, type DmaTargets } from '../memory/dma.js';
import type { DmaCounters } from '../metrics/counters.js';
import type { IommuDomain } from './domain.js';
import type { Iommu } from './iommu.js';

export class IommuDmaSpace extends IdentityDmaSpace {
  private held = false;
  private heldAddr = 0;
  private heldWrite = false;
  private heldResult = 0;
  private heldCause = 0;

  /**
   * The space of function `deviceId` (PCI requester ID) assigned to `owner`'s VM, whose bus is `targets`. The
   * space reaches only that VM's memory: a device context naming another domain is refused, not followed.
   */
  constructor(targets: DmaTargets, counters: DmaCounters, private readonly iommu: Iommu, readonly deviceId: number, readonly owner: IommuDomain) {
    super(targets, counters);
    if (targets.ram !== owner.ram) {
      throw new RangeError(`the DMA space of device 0x${deviceId.toString(16)} is bound to VM '${owner.vmName}''s domain `
        + `but its targets' RAM is not the memory that domain was created for; pass the owner VM's bus`);
    }
  }

  protected override translate(addr: number, write: boolean): number {
    if (this.held && addr === this.heldAddr && write === this.heldWrite) return this.heldResult;
    const r = this.iommu.translate(this.deviceId, addr, write, this.owner);
    if (r < 0) {
      this.held = true;
      this.heldAddr = addr;
      this.heldWrite = write;
      this.heldResult = r;
      this.heldCause = this.iommu.cause;
      return r;
    }
    this.span = this.iommu.span;
    return r;
  }

  /** Logs the refusal held for the access that just returned, if any. */
  private done<T>(result: T): T {
    if (this.held) {
      this.held = false;
      this.iommu.recordFault(this.deviceId, this.heldAddr, this.heldWrite, this.heldCause);
    }
    return result;
  }

  override read(addr: number, dst: Uint8Array): number { return this.done(super.read(addr, dst)); }
  override write(addr: number, src: Uint8Array): number { return this.done(super.write(addr, src)); }
  override read8(addr: number): number { return this.done(super.read8(addr)); }
  override read16(addr: number): number { return this.done(super.read16(addr)); }
  override read32(addr: number): number { return this.done(super.read32(addr)); }
  override read64(addr: number): bigint { return this.done(super.read64(addr)); }
  override write8(addr: number, v: number): number { return this.done(super.write8(addr, v)); }
  override write16(addr: number, v: number): number { return this.done(super.write16(addr, v)); }
  override write32(addr: number, v: number): number { return this.done(super.write32(addr, v)); }
  override write64(addr: number, v: bigint): number { return this.done(super.write64(addr, v)); }
  // msi() is write32() counted as an MSI: the override above logs its refusals.
}
