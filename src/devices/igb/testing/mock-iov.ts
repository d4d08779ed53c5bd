// A mock of Linux 6.12's SR-IOV core (drivers/pci/iov.c) for tests: sriov_init (clear VF Enable, pick the system page
// size, size the VF BARs with __pci_read_base on the capability's BAR registers, read VF Device ID, offset and stride,
// compute_max_vf_buses writing NumVFs 1..TotalVFs), resource assignment for the VF BARs (size × TotalVFs each, in the
// 64-bit window), and sriov_enable / sriov_disable (NumVFs, then VF Enable | VF MSE; and back). Config accesses go
// through the ECAM window like every other access of the mock PCI guest.

import { pciSize, type Bdf, type MockPciGuest } from '../../../pci/testing/mock-guest.js';
import {
  PCI_SRIOV_BAR, PCI_SRIOV_CTRL, PCI_SRIOV_CTRL_MSE, PCI_SRIOV_CTRL_VFE, PCI_SRIOV_NUM_BARS, PCI_SRIOV_NUM_VF,
  PCI_SRIOV_SUP_PGSIZE, PCI_SRIOV_SYS_PGSIZE, PCI_SRIOV_TOTAL_VF, PCI_SRIOV_VF_DID, PCI_SRIOV_VF_OFFSET,
  PCI_SRIOV_VF_STRIDE,
} from '../../../pci/sriov.js';
import { PCI_BASE_ADDRESS_MEM_MASK, PCI_BASE_ADDRESS_MEM_PREFETCH, PCI_BASE_ADDRESS_MEM_TYPE_64, PCI_EXT_CAP_ID_SRIOV } from '../../../pci/regs.js';

export interface IovBar {
  readonly index: number;
  readonly is64: boolean;
  readonly prefetchable: boolean;
  /** One VF's share. */
  readonly size: bigint;
  /** Where VF 0's BAR starts (after assign()). */
  address: bigint;
}

export class MockIov {
  readonly pos: number;
  totalVfs = 0;
  vfDeviceId = 0;
  offset = 0;
  stride = 0;
  pageSize = 4096;
  readonly bars: IovBar[] = [];

  constructor(readonly pci: MockPciGuest, readonly pf: Bdf) {
    this.pos = pci.findExtCapability(pf, PCI_EXT_CAP_ID_SRIOV);
  }

  private r16(reg: number): number { return this.pci.read16(this.pf, this.pos + reg); }
  private r32(reg: number): number { return this.pci.read32(this.pf, this.pos + reg); }
  private w16(reg: number, v: number): void { this.pci.write16(this.pf, this.pos + reg, v); }
  private w32(reg: number, v: number): void { this.pci.write32(this.pf, this.pos + reg, v); }

  /** sriov_init; false when the PF has no usable capability (as Linux would then not be a PF). */
  init(): boolean {
    if (this.pos === 0) return false;
    if ((this.r16(PCI_SRIOV_CTRL) & PCI_SRIOV_CTRL_VFE) !== 0) this.w16(PCI_SRIOV_CTRL, 0);
    this.w16(PCI_SRIOV_CTRL, 0);
    this.totalVfs = this.r16(PCI_SRIOV_TOTAL_VF);
    if (this.totalVfs === 0) return false;
    let pgsz = this.r32(PCI_SRIOV_SUP_PGSIZE);
    if (pgsz === 0) return false;
    pgsz &= ~(pgsz - 1);
    this.w32(PCI_SRIOV_SYS_PGSIZE, pgsz);
    this.pageSize = 4096 * pgsz;
    for (let i = 0; i < PCI_SRIOV_NUM_BARS; i++) {
      const b = this.readBase(PCI_SRIOV_BAR + 4 * i, i);
      if (b === null) continue;
      if (b.size % 4096n !== 0n) return false;
      this.bars.push(b);
      if (b.is64) i++;
    }
    this.vfDeviceId = this.r16(PCI_SRIOV_VF_DID);
    // compute_max_vf_buses: offset and stride may depend on NumVFs.
    for (let n = 1; n <= this.totalVfs; n++) {
      this.w16(PCI_SRIOV_NUM_VF, n);
      this.offset = this.r16(PCI_SRIOV_VF_OFFSET);
      this.stride = this.r16(PCI_SRIOV_VF_STRIDE);
      if (this.offset === 0 || (n > 1 && this.stride === 0)) return false;
    }
    this.w16(PCI_SRIOV_NUM_VF, 0);
    return true;
  }

  /** __pci_read_base on a VF BAR register (memory decoding of VFs is off while VF MSE is clear). */
  private readBase(reg: number, index: number): IovBar | null {
    const l = this.r32(reg);
    this.w32(reg, 0xffff_ffff);
    const sz = this.r32(reg);
    this.w32(reg, l);
    if (sz === 0 || sz === 0xffff_ffff) return null;
    const is64 = (l & 0x6) === PCI_BASE_ADDRESS_MEM_TYPE_64;
    let l64 = BigInt(l & PCI_BASE_ADDRESS_MEM_MASK), sz64 = BigInt((sz & PCI_BASE_ADDRESS_MEM_MASK) >>> 0);
    let mask = BigInt(PCI_BASE_ADDRESS_MEM_MASK);
    if (is64) {
      const lh = this.r32(reg + 4);
      this.w32(reg + 4, 0xffff_ffff);
      const szh = this.r32(reg + 4);
      this.w32(reg + 4, lh);
      l64 |= BigInt(lh) << 32n;
      sz64 |= BigInt(szh) << 32n;
      mask |= 0xffff_ffffn << 32n;
    }
    const size = pciSize(l64, sz64, mask);
    if (size === 0n) return null;
    return { index, is64, prefetchable: (l & PCI_BASE_ADDRESS_MEM_PREFETCH) !== 0, size, address: 0n };
  }

  /** Assigns each VF BAR a naturally aligned range of size × TotalVFs from `base` upwards; returns the next free address. */
  assign(base: bigint): bigint {
    let at = base;
    for (const b of this.bars) {
      const total = b.size * BigInt(this.totalVfs);
      at = (at + b.size - 1n) / b.size * b.size;
      b.address = at;
      this.w32(PCI_SRIOV_BAR + 4 * b.index, Number(at & 0xffff_ffffn));
      if (b.is64) this.w32(PCI_SRIOV_BAR + 4 * b.index + 4, Number(at >> 32n));
      at += total;
    }
    return at;
  }

  /** sriov_enable: NumVFs, then VF Enable and VF MSE together. Returns the VFs' routing-ID offsets. */
  enable(n: number): number[] {
    this.w16(PCI_SRIOV_NUM_VF, n);
    this.offset = this.r16(PCI_SRIOV_VF_OFFSET);
    this.stride = this.r16(PCI_SRIOV_VF_STRIDE);
    this.w16(PCI_SRIOV_CTRL, this.r16(PCI_SRIOV_CTRL) | PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE);
    return Array.from({ length: n }, (_, i) => this.offset + this.stride * i);
  }

  /** sriov_disable: VF Enable and VF MSE off, NumVFs 0. */
  disable(): void {
    this.w16(PCI_SRIOV_CTRL, this.r16(PCI_SRIOV_CTRL) & ~(PCI_SRIOV_CTRL_VFE | PCI_SRIOV_CTRL_MSE));
    this.w16(PCI_SRIOV_NUM_VF, 0);
  }

  /** The BDF of VF i (pci_iov_virtfn_bus / pci_iov_virtfn_devfn). */
  vfBdf(i: number): Bdf {
    const rid = (this.pf.bus << 8) + ((this.pf.device << 3) | this.pf.fn) + this.offset + this.stride * i;
    return { bus: rid >> 8, device: (rid >> 3) & 0x1f, fn: rid & 7 };
  }
}
