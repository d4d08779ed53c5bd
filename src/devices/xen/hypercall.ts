// vmio's Xen hypercall ABI on RISC-V and its dispatcher (Xen's public headers, abi.ts; only what Linux 6.12's Xen
// guest code calls). The calling convention, defined here:
//
//   ecall from S-mode with a7 = XEN_SBI_EID (0x0A58454E), a6 = the Xen hypercall number (__HYPERVISOR_*),
//   a0..a4 = the hypercall's arguments (as Xen/Arm's x0..x4), a5 reserved (ignored).
//   On return a0 = the hypercall's result: >= 0, or a negative Xen errno (-ENOSYS, -EINVAL, -EFAULT, -EPERM, ...),
//   sign-extended to 64 bits. a1 is clobbered as by any SBI call; every other register is preserved.
//   Pointer arguments are guest virtual addresses of the calling context, translated through the calling hart's
//   page tables (a guest physical address while satp is Bare); frame numbers (gpfn, mfn) are guest frame numbers.
//
// Why that extension ID: SBI v2.0 §3 reserves 0x0A000000-0x0AFFFFFF for "firmware-specific" extensions, whose
// meaning depends on the SBI implementation ID (vmio's is 0x766D696F); the Xen ABI here is defined by vmio's SBI,
// which is what that range is for. The experimental range (0x08xxxxxx) is for extensions on their way to being
// standardised, and the vendor range (0x09xxxxxx) is keyed by the hart's mvendorid, which is not ours to claim. The
// low 24 bits spell "XEN" in ASCII, after the spec's habit (TIME = 0x54494D45). BASE.probe_extension reports it.
// a6 carries the hypercall number because SBI puts the function ID there.

import {
  DOMID_SELF, EFAULT, EINVAL, ENOENT, ENOSYS, EPERM, HVMOP_get_param, HVMOP_set_param, MEMOP_CMD_MASK, SCHEDOP_shutdown,
  SCHEDOP_yield, VCPU_REGISTER_VCPU_INFO_SIZE, VCPU_RUNSTATE_INFO_SIZE, VCPUOP_register_runstate_memory_area,
  VCPUOP_register_vcpu_info, XATP_SIZE, XEN_EXTRAVERSION_LEN, XEN_FEATURE_INFO_SIZE, XEN_HVM_PARAM_SIZE, XEN_PAGE_SIZE,
  XENFEAT_NR_SUBMAPS, XENFEAT_auto_translated_physmap, XENFEAT_not_direct_mapped, XENFEAT_writable_page_tables,
  XENMEM_add_to_physmap, XENVER_extraversion, XENVER_get_features, XENVER_pagesize, XENVER_version,
  __HYPERVISOR_event_channel_op, __HYPERVISOR_grant_table_op, __HYPERVISOR_hvm_op, __HYPERVISOR_memory_op,
  __HYPERVISOR_sched_op, __HYPERVISOR_vcpu_op, __HYPERVISOR_xen_version, RUNSTATE_running,
} from './abi.js';
import { HypercallCounters, type CostCharger } from './counters.js';
import type { XenDomain } from './domain.js';
import type { EventChannels } from './event-channel.js';
import { GuestArgs, type AddressTranslator } from './guest-args.js';
import { eventChannelOp, grantTableOp, OP_NAMES, SUB_NAMES } from './hypercall-ops.js';

/** The SBI extension ID of vmio's Xen hypercalls (firmware-specific range; "XEN"). */
export const XEN_SBI_EID = 0x0a58454e;

/** The Xen version vmio reports (XENVER_version): the interface revision of Linux 6.12's headers. */
export const XEN_VERSION_MAJOR = 4;
export const XEN_VERSION_MINOR = 19;
const EXTRAVERSION = '.0-vmio';

/** What a guest's hypercalls may ask of the machine; implemented by the wiring point. */
export interface XenPlatform {
  /** SCHEDOP_shutdown with a SHUTDOWN_* reason (poweroff 0, reboot 1, suspend 2, crash 3, watchdog 4). */
  shutdown(reason: number): void;
  /** SCHEDOP_yield: the vCPU gives up the rest of its slice. */
  yieldVcpu(vcpu: number): void;
  /** Guest system time in nanoseconds (the runstate area's state_entry_time). */
  nowNs(): bigint;
}

/** Scratch kept per dispatcher: the parsed struct and its access to the calling domain's memory. */
export interface HypercallContext {
  readonly domain: XenDomain;
  readonly evtchn: EventChannels;
  readonly args: GuestArgs;
  /** The domain id the guest may name besides DOMID_SELF. */
  isSelf(domid: number): boolean;
}

const XEN_FEATURES = (1 << XENFEAT_writable_page_tables) | (1 << XENFEAT_auto_translated_physmap) | (1 << XENFEAT_not_direct_mapped);
const SHUTDOWN_MAX = 5; // SHUTDOWN_soft_reset
const HVM_NR_PARAMS = 64;

/** The hypercall dispatcher of one domain. */
export class Hypercalls implements HypercallContext {
  readonly args: GuestArgs;

  constructor(
    readonly domain: XenDomain,
    readonly evtchn: EventChannels,
    private readonly platform: XenPlatform,
    readonly counters = new HypercallCounters(),
    private readonly cost: CostCharger | null = null,
  ) {
    this.args = new GuestArgs(domain.mem);
  }

  isSelf(domid: number): boolean { return domid === DOMID_SELF || domid === this.domain.id; }

  // guest-controlled: the op and a0..a4 of the calling hart.
  /** One hypercall from vCPU `vcpu`: `op` from a6, `a` = a0..a4. Returns the value for a0 (>= 0 or -errno). */
  call(vcpu: number, op: number, a: ArrayLike<bigint>, translator: AddressTranslator | null = null): bigint {
    this.cost?.charge('hypercall');
    this.args.use(translator);
    const faults = this.args.faults;
    const sub = Number(BigInt.asUintN(32, a[0]!));
    const r = this.dispatch(vcpu, op, sub, a);
    const names = SUB_NAMES[op];
    this.counters.count(names === undefined ? (OP_NAMES[op] ?? 'unknown') : `${OP_NAMES[op]}.${names[sub] ?? 'unknown'}`);
    if (r < 0) this.counters.errors++;
    if (this.args.faults !== faults) this.counters.faults++;
    return BigInt(r);
  }

  private dispatch(vcpu: number, op: number, sub: number, a: ArrayLike<bigint>): number {
    switch (op) {
      case __HYPERVISOR_xen_version: return this.xenVersion(sub, a[1]!);
      case __HYPERVISOR_memory_op: return this.memoryOp(sub & MEMOP_CMD_MASK, a[1]!);
      case __HYPERVISOR_grant_table_op: return grantTableOp(this, sub, a[1]!, a[2]!);
      case __HYPERVISOR_event_channel_op: return eventChannelOp(this, sub, a[1]!);
      case __HYPERVISOR_hvm_op: return this.hvmOp(sub, a[1]!);
      case __HYPERVISOR_vcpu_op: return this.vcpuOp(sub, a[1]!, a[2]!);
      case __HYPERVISOR_sched_op: return this.schedOp(vcpu, sub, a[1]!);
      default: return -ENOSYS; // console_io, vm_assist, physdev_op, multicall, platform_op, ...: not offered
    }
  }

  private xenVersion(cmd: number, arg: bigint): number {
    const g = this.args;
    switch (cmd) {
      case XENVER_version: return (XEN_VERSION_MAJOR << 16) | XEN_VERSION_MINOR;
      case XENVER_pagesize: return XEN_PAGE_SIZE;
      case XENVER_extraversion:
        g.clear(XEN_EXTRAVERSION_LEN);
        for (let i = 0; i < EXTRAVERSION.length; i++) g.buf[i] = EXTRAVERSION.charCodeAt(i);
        return g.write(arg, XEN_EXTRAVERSION_LEN) ? 0 : -EFAULT;
      case XENVER_get_features: {
        if (!g.read(arg, XEN_FEATURE_INFO_SIZE)) return -EFAULT;
        if (g.u32(0) >= XENFEAT_NR_SUBMAPS) return -EINVAL;
        g.setU32(4, XEN_FEATURES);
        return g.write(arg, XEN_FEATURE_INFO_SIZE) ? 0 : -EFAULT;
      }
      default: return -ENOSYS;
    }
  }

  private memoryOp(cmd: number, arg: bigint): number {
    if (cmd !== XENMEM_add_to_physmap) return -ENOSYS; // no ballooning, no foreign mappings
    const g = this.args;
    if (!g.read(arg, XATP_SIZE)) return -EFAULT;
    if (!this.isSelf(g.u16(0))) return -EPERM;
    return this.domain.addToPhysmap(g.u32(4), g.u64(8), g.u64(16));
  }

  private hvmOp(cmd: number, arg: bigint): number {
    if (cmd === HVMOP_set_param) return -EPERM; // the toolstack (vmio) sets parameters, not the guest
    if (cmd !== HVMOP_get_param) return -ENOSYS;
    const g = this.args;
    if (!g.read(arg, XEN_HVM_PARAM_SIZE)) return -EFAULT;
    if (!this.isSelf(g.u16(0))) return -EPERM;
    const index = g.u32(4);
    if (index >= HVM_NR_PARAMS) return -EINVAL;
    g.setU64(8, this.domain.params.get(index) ?? 0n);
    return g.write(arg, XEN_HVM_PARAM_SIZE) ? 0 : -EFAULT;
  }

  private vcpuOp(cmd: number, vcpuReg: bigint, arg: bigint): number {
    const vcpu = BigInt.asUintN(32, vcpuReg);
    if (vcpu >= BigInt(this.domain.vcpus)) return -ENOENT;
    const v = Number(vcpu);
    const g = this.args;
    switch (cmd) {
      case VCPUOP_register_vcpu_info: {
        if (!g.read(arg, VCPU_REGISTER_VCPU_INFO_SIZE)) return -EFAULT;
        const r = this.domain.registerVcpuInfo(v, g.u64(0), g.u32(8));
        // Every selector bit is now set: interrupt the vCPU so that it rescans (Xen's arch_evtchn_inject).
        if (r === 0) this.evtchn.raise(this.domain, v);
        return r;
      }
      case VCPUOP_register_runstate_memory_area: {
        if (!g.read(arg, 8)) return -EFAULT;
        const area = g.u64(0);
        if (area === 0n) { this.domain.runstateRegistered[v] = false; return 0; }
        // The area is written once, now: vmio's vCPUs never wait for a physical CPU, so no time is ever stolen.
        g.clear(VCPU_RUNSTATE_INFO_SIZE);
        g.setU32(0, RUNSTATE_running);
        g.setU64(8, this.platform.nowNs());
        if (!g.write(area, VCPU_RUNSTATE_INFO_SIZE)) return -EFAULT;
        this.domain.runstateRegistered[v] = true;
        return 0;
      }
      default: return -ENOSYS;
    }
  }

  private schedOp(vcpu: number, cmd: number, arg: bigint): number {
    switch (cmd) {
      case SCHEDOP_yield:
        this.platform.yieldVcpu(vcpu);
        return 0;
      case SCHEDOP_shutdown: {
        const g = this.args;
        if (!g.read(arg, 4)) return -EFAULT;
        const reason = g.u32(0);
        if (reason > SHUTDOWN_MAX) return -EINVAL;
        this.domain.shutdownReason = reason;
        this.platform.shutdown(reason);
        return 0;
      }
      default: return -ENOSYS; // block, poll, watchdog: Linux on Arm does not use them
    }
  }
}
