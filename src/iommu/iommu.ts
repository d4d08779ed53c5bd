// The hypervisor's IOMMU: what vmio programs into the RISC-V IOMMU (hardware.ts) when it assigns a function to
// a VM. The guest (Linux 6.12 on riscv has no IOMMU driver) never sees it. Domains (one GSCID and one Sv39x4 table
// per VM address space), mappings validated against ownership, the two DMA policies (whole RAM, or the guest's
// restricted-dma-pool window), the MSI doorbell mapping, attach/detach, and the invalidations the spec's software
// rules ask for after each change ("Guidelines for invalidations": changing a DC, changing a second-stage PTE).

import { type CostCharger, type DmaPolicy, IommuDomain, type RamRange, checkAligned, checkIovaRange } from './domain.js';
import { writeDc } from './ddt.js';
import { IommuHardware } from './hardware.js';
import { type HostRange, hex } from './host-map.js';
import { GStageTable, IommuMapError } from './page-table.js';
import { DEVICE_ID_MAX_2LVL, GSCID_MAX, PAGE_SIZE, SV39X4_GPA_LIMIT } from './spec.js';

export type { IommuOptions, IommuCounters } from './hardware.js';
export { IommuDomain, type CostCharger, type DmaPolicy, type RamRange } from './domain.js';
export { IommuMapError } from './page-table.js';

/** Read-only, or read-write. (Write-only cannot be expressed: W without R is a reserved PTE encoding.) */
export type IommuPerms = 'r' | 'rw';

export class Iommu extends IommuHardware {
  /**
   * A new, empty domain for VM `vmName` whose RAM is `ram` (pass the VM's GuestMemory: the functions' DMA spaces
   * must target that very memory); IOTLB misses of its devices are charged to `cost` (the VM's CostMeter).
   */
  createDomain(vmName: string, ram: RamRange, cost: CostCharger | null = null): IommuDomain {
    if (vmName === '') throw new IommuMapError('a domain needs the name of the VM that owns it');
    checkAligned(`VM '${vmName}' RAM base`, ram.base);
    checkAligned(`VM '${vmName}' RAM size`, ram.size);
    if (ram.size === 0 || ram.base + ram.size > SV39X4_GPA_LIMIT) throw new IommuMapError(`VM '${vmName}' RAM must be non-empty and below 2^41`);
    let gscid = 1;
    while (this.domains.has(gscid)) gscid++;
    if (gscid > GSCID_MAX) throw new IommuMapError(`all ${GSCID_MAX} GSCIDs are in use; destroy unused domains`);
    const ramHost = this.ramPlacement(vmName, ram);
    const d = new IommuDomain(vmName, gscid, ram, ramHost, new GStageTable(this.tables, `VM '${vmName}'`), cost);
    this.domains.set(gscid, d);
    return d;
  }

  /** Frees the domain's tables and GSCID. Its devices must be detached first. */
  destroyDomain(d: IommuDomain): void {
    this.live(d);
    if (d.devices.size > 0) throw new IommuMapError(`domain of VM '${d.vmName}' still has devices ${[...d.devices].map(hex).join(', ')} attached; detach them first`);
    d.table.destroy();
    this.iotinvalGvma(d.gscid);
    this.domains.delete(d.gscid);
    for (const p of d.msiPages) this.hostMap.remove(p);
    if (![...this.domains.values()].some((o) => o.ramHost === d.ramHost)) this.hostMap.remove(d.ramHost);
    d.destroyed = true;
  }

  /**
   * Maps IOVA [iova, iova+len) to host physical [hostPa, hostPa+len) for the domain's devices. Refuses (throws
   * IommuMapError, mapping nothing) unless every page is RAM of the domain's own VM and no page is mapped already.
   * A new mapping is seen by the next access without any invalidation (invalid entries are never cached).
   */
  map(d: IommuDomain, iova: number, hostPa: number, len: number, perms: IommuPerms): void {
    this.live(d);
    if (perms !== 'r' && perms !== 'rw') throw new IommuMapError(`permissions '${String(perms)}': use 'r' or 'rw' (write-only is a reserved PTE encoding)`);
    checkIovaRange(iova, len);
    checkAligned('host physical address', hostPa);
    const r = d.ramHost;
    if (hostPa < r.hpa || hostPa + len > r.hpa + r.size) {
      throw new IommuMapError(`refusing to map host physical [${hex(hostPa)}, ${hex(hostPa + len)}) into the domain of VM '${d.vmName}': `
        + `it is ${this.hostMap.describe(hostPa, len)}, not all RAM of VM '${d.vmName}' (host physical [${hex(r.hpa)}, ${hex(r.hpa + r.size)})). `
        + `A device may reach only its owner's memory; take addresses from domain.hostPa(guestPhysical).`);
    }
    d.table.checkFree(iova, len);
    d.table.map(iova, hostPa, len, perms === 'rw');
    d.stats.mapCalls++;
  }

  /** Unmaps every mapped page of [iova, iova+len) and invalidates what the IOTLB may hold of it. Returns bytes unmapped. */
  unmap(d: IommuDomain, iova: number, len: number): number {
    this.live(d);
    checkIovaRange(iova, len);
    const r = d.table.unmap(iova, len);
    d.stats.unmapCalls++;
    // "Changing second-stage page table entry": a leaf → IOTINVAL.GVMA GV=AV=1 per guest page; a non-leaf → AV=0.
    if (r.nonLeafChanged || r.leaves.length > 16) this.invalidateDomain(d, null);
    else for (const leaf of r.leaves) this.invalidateDomain(d, leaf);
    return r.bytes;
  }

  /**
   * Maps the interrupt file page(s) at guest physical `gpa` (the guest's IMSIC supervisor file of each hart, one
   * 4 KiB page apiece) so the function's MSI-X writes reach them: IOVA = `gpa` → a doorbell host page that resolves
   * to `gpa` on the owner's bus, read-write (W without R cannot be encoded; a read of a doorbell is a master abort).
   * This is the G-stage way; the spec's alternative is an MSI page table (extended-format DC, msiptp with
   * msi_addr_mask/pattern recognizing interrupt-file pages, MSI PTEs naming the real guest interrupt file), which
   * vmio does not model because its IMSIC pages are already per-VM.
   */
  mapMsiPages(d: IommuDomain, gpa: number, pages = 1): void {
    this.live(d);
    if (!Number.isInteger(pages) || pages < 1 || pages > 4096) throw new IommuMapError(`${pages} interrupt-file pages: need 1 to 4096`);
    checkIovaRange(gpa, pages * PAGE_SIZE);
    if (gpa < d.ram.base + d.ram.size && gpa + pages * PAGE_SIZE > d.ram.base) {
      throw new IommuMapError(`interrupt files at [${hex(gpa)}, +${pages} pages) overlap VM '${d.vmName}''s RAM; an IMSIC page is MMIO, not RAM`);
    }
    d.table.checkFree(gpa, pages * PAGE_SIZE);
    for (let i = 0; i < pages; i++) {
      const local = gpa + i * PAGE_SIZE;
      let page = d.msiPages.find((p) => p.local === local);
      if (page === undefined) { page = this.hostMap.place('doorbell', d.vmName, PAGE_SIZE, local); d.msiPages.push(page); }
      d.table.map(local, page.hpa, PAGE_SIZE, true);
    }
    d.stats.mapCalls++;
  }

  /**
   * Switches the domain's RAM mapping to `policy`: unmaps what the previous one mapped (with its invalidations),
   * then maps IOVA = GPA anew. If the new mapping fails the domain is left with no RAM mapped (policy null).
   */
  applyPolicy(d: IommuDomain, policy: DmaPolicy): void {
    this.live(d);
    const next = d.policyRange(policy);
    if (d.policy !== null) {
      const prev = d.policyRange(d.policy);
      this.unmap(d, prev.base, prev.size);
      d.policy = null;
    }
    d.table.checkFree(next.base, next.size);
    try {
      this.map(d, next.base, d.hostPa(next.base), next.size, 'rw');
    } catch (e) {
      this.unmap(d, next.base, next.size); // out of table memory part-way: leave no half-mapped policy
      throw e;
    }
    d.policy = policy;
  }

  /** Points device `deviceId` (a PCI requester ID) at the domain: writes its DC, then IODIR.INVAL_DDT. */
  attach(deviceId: number, d: IommuDomain): void {
    this.live(d);
    if (!Number.isInteger(deviceId) || deviceId < 0 || deviceId > DEVICE_ID_MAX_2LVL) {
      throw new IommuMapError(`device ID ${deviceId}: a PCI requester ID is 16 bits (bus << 8 | device << 3 | function)`);
    }
    const cur = this.attached.get(deviceId);
    if (cur === d) return;
    if (cur !== undefined) throw new IommuMapError(`device ${hex(deviceId)} is attached to VM '${cur.vmName}''s domain; detach it first`);
    writeDc(this.tables, this.ddtRoot, deviceId, { gscid: d.gscid, root: d.table.root });
    this.iodirInvalDdt(deviceId);
    this.attached.set(deviceId, d);
    d.devices.add(deviceId);
  }

  /** Invalidates the device's DC (V = 0), then IODIR.INVAL_DDT and IOTINVAL.GVMA for its GSCID. False if not attached. */
  detach(deviceId: number): boolean {
    const d = this.attached.get(deviceId);
    if (d === undefined) return false;
    writeDc(this.tables, this.ddtRoot, deviceId, null);
    this.iodirInvalDdt(deviceId);
    this.invalidateDomain(d, null);
    this.attached.delete(deviceId);
    d.devices.delete(deviceId);
    return true;
  }

  domainOf(deviceId: number): IommuDomain | null { return this.attached.get(deviceId) ?? null; }

  private invalidateDomain(d: IommuDomain, addr: number | null): void {
    d.stats.invalidations++;
    this.iotinvalGvma(d.gscid, addr);
  }

  private ramPlacement(vmName: string, ram: RamRange): HostRange {
    for (const d of this.domains.values()) {
      if (d.vmName !== vmName) continue;
      if (d.ram.base !== ram.base || d.ram.size !== ram.size) throw new IommuMapError(`VM '${vmName}' already has a domain with other RAM; one RAM per VM name`);
      return d.ramHost;
    }
    return this.hostMap.place('ram', vmName, ram.size, ram.base);
  }

  private live(d: IommuDomain): void {
    if (d.destroyed || this.domains.get(d.gscid) !== d) throw new IommuMapError(`the domain of VM '${d.vmName}' is not a live domain of this IOMMU`);
  }
}
