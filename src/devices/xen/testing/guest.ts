// The guest kernel's side of the Xen ABI, for tests: it lays out what Linux's Xen code does on Arm
// (arch/arm/xen/enlighten.c xen_guest_init, drivers/xen/grant-table.c, drivers/xen/events/events_2l.c) in a real
// GuestMemory: a shared_info page mapped with XENMEM_add_to_physmap, grant frames in a reserved region, a registered
// vcpu_info, v1 grant entries written flags-last, and the 2-level upcall scan. It is the guest, so it touches
// GuestMemory directly and issues hypercalls through the dispatcher as the ecall would (physical pointers: satp Bare).

import { GuestMemory } from '../../../memory/guest-memory.js';
import {
  DOMID_SELF, EVTCHNOP_alloc_unbound, EVTCHNOP_send, EVTCHNOP_unmask, GNTTABOP_query_size, GRANT_ENTRY_V1_SIZE,
  GTF_permit_access, GTF_readonly, GTF_reading, GTF_writing, SI_EVTCHN_MASK, SI_EVTCHN_PENDING, VCPUOP_register_vcpu_info,
  VI_PENDING_SEL, VI_UPCALL_PENDING, XEN_PAGE_SIZE, XENMAPSPACE_grant_table, XENMAPSPACE_shared_info, XENMEM_add_to_physmap,
  __HYPERVISOR_event_channel_op, __HYPERVISOR_grant_table_op, __HYPERVISOR_memory_op, __HYPERVISOR_vcpu_op,
} from '../abi.js';
import type { Hypercalls } from '../hypercall.js';

export const RAM_BASE = 0x8000_0000;

export interface MockGuestLayout {
  /** Guest physical address of the region the "xen,xen" node names for grant frames (in RAM, reserved). */
  grantBase: number;
  grantFrames: number;
  /** Where the guest allocates pages (ring pages, buffers, shared_info). */
  heapBase: number;
  heapSize: number;
}

export class MockGuest {
  readonly scratch: number;
  private heapNext: number;
  private readonly a = new BigInt64Array(5);
  /** Upcalls the hypervisor raised, per vCPU. */
  readonly upcalls: number[] = [];
  sharedInfo = -1;
  /** Where each vCPU's vcpu_info is (guest physical), once registered. */
  readonly vcpuInfo: number[] = [];
  hc: Hypercalls | null = null;

  constructor(readonly ram: GuestMemory, readonly layout: MockGuestLayout) {
    this.heapNext = layout.heapBase;
    this.scratch = this.allocPage();
  }

  allocPage(): number {
    const p = this.heapNext;
    if (p + XEN_PAGE_SIZE > this.layout.heapBase + this.layout.heapSize) throw new Error('mock guest heap exhausted');
    this.heapNext += XEN_PAGE_SIZE;
    this.ram.fill(p, XEN_PAGE_SIZE, 0);
    return p;
  }

  private off(gpa: number): number { return gpa - this.ram.base; }
  r8(gpa: number): number { return this.ram.read8(this.off(gpa)); }
  w8(gpa: number, v: number): void { this.ram.write8(this.off(gpa), v); }
  r16(gpa: number): number { return this.ram.read16(this.off(gpa)); }
  w16(gpa: number, v: number): void { this.ram.write16(this.off(gpa), v); }
  r32(gpa: number): number { return this.ram.read32(this.off(gpa)); }
  w32(gpa: number, v: number): void { this.ram.write32(this.off(gpa), v); }
  r64(gpa: number): bigint { return this.ram.read64(this.off(gpa)); }
  w64(gpa: number, v: bigint): void { this.ram.write64(this.off(gpa), v); }

  /** One hypercall as the ecall makes it; returns a0 as a signed number. */
  hypercall(op: number, ...args: (number | bigint)[]): number {
    if (this.hc === null) throw new Error('mock guest: no hypercall dispatcher attached');
    for (let i = 0; i < 5; i++) this.a[i] = BigInt(args[i] ?? 0);
    return Number(this.hc.call(0, op, this.a));
  }

  /** Linux's xen_guest_init order: shared_info, vcpu_info for vCPU 0, grant frames 0..n-1 (highest first). */
  boot(nrGrantFrames = 1): void {
    this.sharedInfo = this.allocPage();
    this.check(this.addToPhysmap(XENMAPSPACE_shared_info, 0, this.sharedInfo / XEN_PAGE_SIZE), 'map shared_info');
    this.check(this.registerVcpuInfo(0), 'register vcpu_info');
    for (let i = nrGrantFrames - 1; i >= 0; i--) this.check(this.mapGrantFrame(i), `map grant frame ${i}`);
  }

  private check(r: number, what: string): void { if (r !== 0) throw new Error(`mock guest: ${what} failed: ${r}`); }

  addToPhysmap(space: number, idx: number | bigint, gpfn: number | bigint, domid = DOMID_SELF): number {
    const s = this.scratch;
    this.w16(s, domid); this.w16(s + 2, 0); this.w32(s + 4, space); this.w64(s + 8, BigInt(idx)); this.w64(s + 16, BigInt(gpfn));
    return this.hypercall(__HYPERVISOR_memory_op, XENMEM_add_to_physmap, s);
  }

  mapGrantFrame(i: number): number {
    return this.addToPhysmap(XENMAPSPACE_grant_table, i, this.layout.grantBase / XEN_PAGE_SIZE + i);
  }

  /** GNTTABOP_query_size: [status, nr_frames, max_nr_frames], or the hypercall's error. */
  querySize(): number[] | number {
    const s = this.scratch;
    this.w16(s, DOMID_SELF);
    const r = this.hypercall(__HYPERVISOR_grant_table_op, GNTTABOP_query_size, s, 1);
    return r < 0 ? r : [(this.r16(s + 12) << 16) >> 16, this.r32(s + 4), this.r32(s + 8)];
  }

  /** VCPUOP_register_vcpu_info with a 64-byte-aligned vcpu_info in a fresh page (as arm's percpu allocation). */
  registerVcpuInfo(vcpu: number, at = this.allocPage() + 64 * vcpu): number {
    const s = this.scratch;
    this.w64(s, BigInt(Math.floor(at / XEN_PAGE_SIZE))); this.w32(s + 8, at % XEN_PAGE_SIZE); this.w32(s + 12, 0);
    const r = this.hypercall(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, vcpu, s);
    if (r === 0) this.vcpuInfo[vcpu] = at;
    return r;
  }

  // Grant table v1, the way drivers/xen/grant-table.c writes entries: frame and domid first, flags last.
  grantAddr(ref: number): number { return this.layout.grantBase + ref * GRANT_ENTRY_V1_SIZE; }
  grantAccess(ref: number, domid: number, gpa: number, readonly: boolean): void {
    const e = this.grantAddr(ref);
    this.w32(e + 4, Math.floor(gpa / XEN_PAGE_SIZE));
    this.w16(e + 2, domid);
    this.w16(e, GTF_permit_access | (readonly ? GTF_readonly : 0));
  }
  grantFlags(ref: number): number { return this.r16(this.grantAddr(ref)); }
  /** gnttab_end_foreign_access_ref_v1: refuses (false) while the hypervisor has the grant in use. */
  endForeignAccess(ref: number): boolean {
    const e = this.grantAddr(ref);
    if ((this.r16(e) & (GTF_reading | GTF_writing)) !== 0) return false;
    this.w16(e, 0);
    return true;
  }

  allocUnbound(remoteDom: number): number {
    const s = this.scratch;
    this.w16(s, DOMID_SELF); this.w16(s + 2, remoteDom); this.w32(s + 4, 0);
    const r = this.hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, s);
    return r < 0 ? r : this.r32(s + 4);
  }
  send(port: number): number {
    this.w32(this.scratch, port);
    return this.hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_send, this.scratch);
  }
  mask(port: number): void { this.setBit(this.sharedInfo + SI_EVTCHN_MASK, port, true); }
  /** EVTCHNOP_unmask through the hypervisor (what events_2l does for a pending port in an HVM-like guest). */
  unmask(port: number): number {
    this.w32(this.scratch, port);
    return this.hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_unmask, this.scratch);
  }
  isPending(port: number): boolean { return this.bit(this.sharedInfo + SI_EVTCHN_PENDING, port); }
  upcallPending(vcpu = 0): number { return this.r8(this.vcpuInfo[vcpu]! + VI_UPCALL_PENDING); }

  private bit(base: number, n: number): boolean { return (this.r8(base + (n >>> 3)) & (1 << (n & 7))) !== 0; }
  private setBit(base: number, n: number, on: boolean): void {
    const a = base + (n >>> 3);
    const v = this.r8(a);
    this.w8(a, on ? v | (1 << (n & 7)) : v & ~(1 << (n & 7)));
  }

  /**
   * The 2-level upcall handler (evtchn_2l_handle_events): clear upcall_pending, take the selector, and collect and
   * clear every pending, unmasked port of the selected words.
   */
  takeEvents(vcpu = 0): number[] {
    const vi = this.vcpuInfo[vcpu]!;
    this.w8(vi + VI_UPCALL_PENDING, 0);
    const sel = this.r64(vi + VI_PENDING_SEL);
    this.w64(vi + VI_PENDING_SEL, 0n);
    const ports: number[] = [];
    for (let w = 0; w < 64; w++) {
      if (((sel >> BigInt(w)) & 1n) === 0n) continue;
      const pend = this.r64(this.sharedInfo + SI_EVTCHN_PENDING + 8 * w);
      const mask = this.r64(this.sharedInfo + SI_EVTCHN_MASK + 8 * w);
      const ready = pend & ~mask;
      for (let b = 0; b < 64; b++) {
        if (((ready >> BigInt(b)) & 1n) === 0n) continue;
        const p = w * 64 + b;
        this.setBit(this.sharedInfo + SI_EVTCHN_PENDING, p, false);
        ports.push(p);
      }
    }
    return ports;
  }
}
