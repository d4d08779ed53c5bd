// The SBI the VMM serves to an S-mode guest kernel booted without firmware (RISC-V SBI spec v2.0:
// ch.3 binary encoding, ch.4 BASE, ch.5 legacy, ch.6 TIME, ch.7 IPI, ch.8 RFENCE, ch.9 HSM, ch.10 SRST,
// ch.12 DBCN). An `ecall` from S-mode lands here: it is the RISC-V hypercall. The machine is reached only
// through SbiPlatform, which the VM builder implements.
//
// Choices the spec leaves to the implementation:
// - implementation ID 0x766D696F ("vmio" in ASCII), far from the small numbers the spec's table assigns;
//   implementation version 0x00000100 (vmio 0.1).
// - HSM default retentive suspend returns SBI_SUCCESS at once (a suspend that an interrupt ended straight away,
//   which the spec allows); platform retentive and every non-retentive type return SBI_ERR_NOT_SUPPORTED.
// - legacy clear_ipi (0x03) returns 0 and changes nothing: S-mode clears sip.SSIP itself, and the platform
//   interface has no way to read it.
// - legacy pointers (send_ipi and remote fence hart masks) are read as guest *physical* addresses, which is right
//   while the caller runs with satp.MODE = Bare; Linux only uses them when the SBI is v0.1, never with this one.
// - a legacy hart-mask pointer of 0 means "all harts" (as BBL did).

import type { Metrics } from '../../metrics/counters.js';
import type { GuestMemory } from '../../memory/guest-memory.js';
import type { SbiCaller, SbiHandler } from './sbi-types.js';
import { ramViews } from './ram-views.js';

export type { SbiCaller, SbiHandler } from './sbi-types.js';

/** What the SBI needs from the machine. Implemented by the VM builder. */
export interface SbiPlatform {
  readonly hartCount: number;
  /** HSM: start hart `hartid` at `startAddr` in S-mode with a0=hartid, a1=opaque; returns an SBI error code (0 ok). */
  hartStart(hartid: number, startAddr: bigint, opaque: bigint): number;
  hartStop(hartid: number): number;
  hartStatus(hartid: number): number; // SBI_HSM_STATE_* values
  sendIpi(hartids: number[]): void; // sets SSIP on each
  remoteFence(hartids: number[], kind: 'i' | 'vma'): void;
  /** type 0 shutdown, 1 cold reboot, 2 warm reboot; reason 0 none, 1 system failure */
  systemReset(type: number, reason: number): void;
  /** `bytes` is a view of guest RAM valid only during the call: copy it to keep it. */
  consoleWrite(bytes: Uint8Array): void;
  consoleRead(): number; // a byte, or -1 when none waits
}

// Error codes (spec ch.3, table "Standard SBI Errors").
export const SBI_SUCCESS = 0;
export const SBI_ERR_FAILED = -1;
export const SBI_ERR_NOT_SUPPORTED = -2;
export const SBI_ERR_INVALID_PARAM = -3;
export const SBI_ERR_DENIED = -4;
export const SBI_ERR_INVALID_ADDRESS = -5;
export const SBI_ERR_ALREADY_AVAILABLE = -6;
export const SBI_ERR_ALREADY_STARTED = -7;
export const SBI_ERR_ALREADY_STOPPED = -8;

// Extension IDs.
export const SBI_EXT_0_1_SET_TIMER = 0x00;
export const SBI_EXT_0_1_CONSOLE_PUTCHAR = 0x01;
export const SBI_EXT_0_1_CONSOLE_GETCHAR = 0x02;
export const SBI_EXT_0_1_CLEAR_IPI = 0x03;
export const SBI_EXT_0_1_SEND_IPI = 0x04;
export const SBI_EXT_0_1_REMOTE_FENCE_I = 0x05;
export const SBI_EXT_0_1_REMOTE_SFENCE_VMA = 0x06;
export const SBI_EXT_0_1_REMOTE_SFENCE_VMA_ASID = 0x07;
export const SBI_EXT_0_1_SHUTDOWN = 0x08;
export const SBI_EXT_BASE = 0x10;
export const SBI_EXT_TIME = 0x54494d45;
export const SBI_EXT_IPI = 0x735049;
export const SBI_EXT_RFENCE = 0x52464e43;
export const SBI_EXT_HSM = 0x48534d;
export const SBI_EXT_SRST = 0x53525354;
export const SBI_EXT_DBCN = 0x4442434e;

// BASE function IDs (ch.4).
export const SBI_EXT_BASE_GET_SPEC_VERSION = 0;
export const SBI_EXT_BASE_GET_IMP_ID = 1;
export const SBI_EXT_BASE_GET_IMP_VERSION = 2;
export const SBI_EXT_BASE_PROBE_EXT = 3;
export const SBI_EXT_BASE_GET_MVENDORID = 4;
export const SBI_EXT_BASE_GET_MARCHID = 5;
export const SBI_EXT_BASE_GET_MIMPID = 6;

// HSM (ch.9).
export const SBI_EXT_HSM_HART_START = 0;
export const SBI_EXT_HSM_HART_STOP = 1;
export const SBI_EXT_HSM_HART_STATUS = 2;
export const SBI_EXT_HSM_HART_SUSPEND = 3;
export const SBI_HSM_STATE_STARTED = 0;
export const SBI_HSM_STATE_STOPPED = 1;
export const SBI_HSM_STATE_START_PENDING = 2;
export const SBI_HSM_STATE_STOP_PENDING = 3;
export const SBI_HSM_STATE_SUSPENDED = 4;
export const SBI_HSM_SUSPEND_RET_DEFAULT = 0x00000000;
export const SBI_HSM_SUSPEND_NON_RET_DEFAULT = 0x80000000;
const SBI_HSM_SUSP_PLAT_BASE = 0x10000000;

// RFENCE (ch.8).
export const SBI_EXT_RFENCE_REMOTE_FENCE_I = 0;
export const SBI_EXT_RFENCE_REMOTE_SFENCE_VMA = 1;
export const SBI_EXT_RFENCE_REMOTE_SFENCE_VMA_ASID = 2;

// SRST (ch.10).
export const SBI_SRST_RESET_TYPE_SHUTDOWN = 0;
export const SBI_SRST_RESET_TYPE_COLD_REBOOT = 1;
export const SBI_SRST_RESET_TYPE_WARM_REBOOT = 2;
export const SBI_SRST_RESET_REASON_NONE = 0;
export const SBI_SRST_RESET_REASON_SYS_FAILURE = 1;

// DBCN (ch.12).
export const SBI_EXT_DBCN_CONSOLE_WRITE = 0;
export const SBI_EXT_DBCN_CONSOLE_READ = 1;
export const SBI_EXT_DBCN_CONSOLE_WRITE_BYTE = 2;

/** Spec version 2.0: major in bits 30:24, minor in bits 23:0. */
export const SBI_SPEC_VERSION = (2 << 24) | 0;
export const SBI_IMPL_ID_VMIO = 0x766d696f;
export const SBI_IMPL_VERSION = 0x00000100;

const A0 = 10, A1 = 11, A2 = 12, A6 = 16, A7 = 17;
const ALL_ONES = -1n; // hart_mask_base = -1: every hart (ch.3.1)

const EXTENSIONS: readonly number[] = [
  SBI_EXT_0_1_SET_TIMER, SBI_EXT_0_1_CONSOLE_PUTCHAR, SBI_EXT_0_1_CONSOLE_GETCHAR, SBI_EXT_0_1_CLEAR_IPI,
  SBI_EXT_0_1_SEND_IPI, SBI_EXT_0_1_REMOTE_FENCE_I, SBI_EXT_0_1_REMOTE_SFENCE_VMA,
  SBI_EXT_0_1_REMOTE_SFENCE_VMA_ASID, SBI_EXT_0_1_SHUTDOWN, SBI_EXT_BASE, SBI_EXT_TIME, SBI_EXT_IPI,
  SBI_EXT_RFENCE, SBI_EXT_HSM, SBI_EXT_SRST, SBI_EXT_DBCN,
];

const BASE_NAMES = ['BASE.get_spec_version', 'BASE.get_impl_id', 'BASE.get_impl_version', 'BASE.probe_extension',
  'BASE.get_mvendorid', 'BASE.get_marchid', 'BASE.get_mimpid'] as const;
const RFENCE_NAMES = ['RFENCE.remote_fence_i', 'RFENCE.remote_sfence_vma', 'RFENCE.remote_sfence_vma_asid',
  'RFENCE.remote_hfence_gvma_vmid', 'RFENCE.remote_hfence_gvma', 'RFENCE.remote_hfence_vvma_asid',
  'RFENCE.remote_hfence_vvma'] as const;
const HSM_NAMES = ['HSM.hart_start', 'HSM.hart_stop', 'HSM.hart_get_status', 'HSM.hart_suspend'] as const;
const DBCN_NAMES = ['DBCN.console_write', 'DBCN.console_read', 'DBCN.console_write_byte'] as const;
const LEGACY_NAMES = ['legacy.set_timer', 'legacy.console_putchar', 'legacy.console_getchar', 'legacy.clear_ipi',
  'legacy.send_ipi', 'legacy.remote_fence_i', 'legacy.remote_sfence_vma', 'legacy.remote_sfence_vma_asid',
  'legacy.shutdown'] as const;

export class Sbi implements SbiHandler {
  /** Reused list of target harts (the platform must not keep it past the call). */
  private readonly targets: number[] = [];
  private readonly byte = new Uint8Array(1);
  /** Our own views of guest RAM (ram-views.ts); offsets are paddr - ram.base, checked with inRam first. */
  private readonly ramU8: Uint8Array;
  private readonly ramView: DataView;

  constructor(
    private readonly platform: SbiPlatform,
    private readonly metrics: Metrics,
    private readonly ram: GuestMemory,
  ) {
    const views = ramViews(ram);
    this.ramU8 = views.u8;
    this.ramView = views.dv;
  }

  // guest-controlled: a0-a7 of the calling hart.
  call(hart: SbiCaller): void {
    const x = hart.x;
    // EIDs and FIDs are signed 32-bit values (ch.3); compare the low 32 bits.
    const eid = Number(BigInt.asUintN(32, x[A7]!));
    const fid = Number(BigInt.asUintN(32, x[A6]!));
    let value = 0n;
    let error: number;
    switch (eid) {
      case SBI_EXT_BASE: {
        const name = BASE_NAMES[fid];
        this.metrics.countSbi(name ?? 'BASE.unknown');
        error = SBI_SUCCESS;
        switch (fid) {
          case SBI_EXT_BASE_GET_SPEC_VERSION: value = BigInt(SBI_SPEC_VERSION); break;
          case SBI_EXT_BASE_GET_IMP_ID: value = BigInt(SBI_IMPL_ID_VMIO); break;
          case SBI_EXT_BASE_GET_IMP_VERSION: value = BigInt(SBI_IMPL_VERSION); break;
          case SBI_EXT_BASE_PROBE_EXT: value = probe(x[A0]!) ? 1n : 0n; break;
          case SBI_EXT_BASE_GET_MVENDORID: case SBI_EXT_BASE_GET_MARCHID: case SBI_EXT_BASE_GET_MIMPID:
            value = 0n; break;
          default: error = SBI_ERR_NOT_SUPPORTED;
        }
        break;
      }
      case SBI_EXT_TIME:
        if (fid === 0) {
          this.metrics.countSbi('TIME.set_timer');
          hart.setSbiTimer(BigInt.asUintN(64, x[A0]!));
          error = SBI_SUCCESS;
        } else {
          this.metrics.countSbi('TIME.unknown');
          error = SBI_ERR_NOT_SUPPORTED;
        }
        break;
      case SBI_EXT_IPI:
        if (fid === 0) {
          this.metrics.countSbi('IPI.send_ipi');
          error = this.collect(x[A0]!, x[A1]!);
          if (error === SBI_SUCCESS && this.targets.length > 0) this.platform.sendIpi(this.targets);
        } else {
          this.metrics.countSbi('IPI.unknown');
          error = SBI_ERR_NOT_SUPPORTED;
        }
        break;
      case SBI_EXT_RFENCE:
        this.metrics.countSbi(RFENCE_NAMES[fid] ?? 'RFENCE.unknown');
        error = this.rfence(fid, x);
        break;
      case SBI_EXT_HSM:
        this.metrics.countSbi(HSM_NAMES[fid] ?? 'HSM.unknown');
        error = this.hsm(hart, fid);
        if (error === SBI_SUCCESS && fid === SBI_EXT_HSM_HART_STATUS) value = BigInt(this.platform.hartStatus(Number(x[A0]!)));
        break;
      case SBI_EXT_SRST:
        this.metrics.countSbi(fid === 0 ? 'SRST.system_reset' : 'SRST.unknown');
        error = fid === 0 ? this.systemReset(x[A0]!, x[A1]!) : SBI_ERR_NOT_SUPPORTED;
        break;
      case SBI_EXT_DBCN: {
        this.metrics.countSbi(DBCN_NAMES[fid] ?? 'DBCN.unknown');
        const r = this.dbcn(fid, x);
        if (r < 0) error = r; else { error = SBI_SUCCESS; value = BigInt(r); }
        break;
      }
      default:
        if (eid <= SBI_EXT_0_1_SHUTDOWN) {
          this.metrics.countSbi(LEGACY_NAMES[eid]!);
          x[A0] = BigInt(this.legacy(hart, eid));
          return;
        }
        this.metrics.countSbi('unknown');
        error = SBI_ERR_NOT_SUPPORTED;
    }
    x[A0] = BigInt(error);
    x[A1] = value;
  }

  /**
   * Fills `targets` with the harts named by (hart_mask, hart_mask_base) (ch.3.1). Returns
   * SBI_ERR_INVALID_PARAM when any named hart does not exist.
   */
  private collect(mask: bigint, base: bigint): number {
    const t = this.targets;
    t.length = 0;
    const n = this.platform.hartCount;
    if (base === ALL_ONES) {
      for (let i = 0; i < n; i++) t.push(i);
      return SBI_SUCCESS;
    }
    let m = BigInt.asUintN(64, mask);
    if (m === 0n) return SBI_SUCCESS;
    const b = BigInt.asUintN(64, base);
    if (b >= BigInt(n)) return SBI_ERR_INVALID_PARAM;
    let id = Number(b);
    while (m !== 0n) {
      if ((m & 1n) !== 0n) {
        if (id >= n) { t.length = 0; return SBI_ERR_INVALID_PARAM; }
        t.push(id);
      }
      m >>= 1n;
      id++;
    }
    return SBI_SUCCESS;
  }

  private rfence(fid: number, x: BigInt64Array): number {
    let kind: 'i' | 'vma';
    switch (fid) {
      case SBI_EXT_RFENCE_REMOTE_FENCE_I: kind = 'i'; break;
      case SBI_EXT_RFENCE_REMOTE_SFENCE_VMA: case SBI_EXT_RFENCE_REMOTE_SFENCE_VMA_ASID: kind = 'vma'; break;
      default: return SBI_ERR_NOT_SUPPORTED; // hfence.* need the H extension, which the hart does not have
    }
    const err = this.collect(x[A0]!, x[A1]!);
    // The address range and ASID are not used: a remote fence flushes the whole TLB of each target.
    if (err === SBI_SUCCESS && this.targets.length > 0) this.platform.remoteFence(this.targets, kind);
    return err;
  }

  private hsm(hart: SbiCaller, fid: number): number {
    const x = hart.x;
    const n = BigInt(this.platform.hartCount);
    switch (fid) {
      case SBI_EXT_HSM_HART_START: {
        const id = BigInt.asUintN(64, x[A0]!);
        if (id >= n) return SBI_ERR_INVALID_PARAM;
        const start = BigInt.asUintN(64, x[A1]!);
        if (!this.inRam(start, 4n)) return SBI_ERR_INVALID_ADDRESS;
        return this.platform.hartStart(Number(id), start, BigInt.asUintN(64, x[A2]!));
      }
      case SBI_EXT_HSM_HART_STOP:
        return this.platform.hartStop(hart.id);
      case SBI_EXT_HSM_HART_STATUS:
        return BigInt.asUintN(64, x[A0]!) >= n ? SBI_ERR_INVALID_PARAM : SBI_SUCCESS;
      case SBI_EXT_HSM_HART_SUSPEND: {
        const type = Number(BigInt.asUintN(32, x[A0]!));
        if (type === SBI_HSM_SUSPEND_RET_DEFAULT) return SBI_SUCCESS;
        const base = type & 0x7fffffff;
        // 0x00000001-0x0FFFFFFF and 0x80000001-0x8FFFFFFF are reserved; the platform ranges are valid but unimplemented.
        if (base !== 0 && base < SBI_HSM_SUSP_PLAT_BASE) return SBI_ERR_INVALID_PARAM;
        return SBI_ERR_NOT_SUPPORTED;
      }
      default:
        return SBI_ERR_NOT_SUPPORTED;
    }
  }

  private systemReset(typeReg: bigint, reasonReg: bigint): number {
    // uint32 arguments arrive sign-extended (RV64 psABI); only the low 32 bits count.
    const type = Number(BigInt.asUintN(32, typeReg));
    const reason = Number(BigInt.asUintN(32, reasonReg));
    if (type > SBI_SRST_RESET_TYPE_WARM_REBOOT) return SBI_ERR_INVALID_PARAM; // reserved, or vendor-specific (none here)
    if (reason > SBI_SRST_RESET_REASON_SYS_FAILURE) return SBI_ERR_INVALID_PARAM;
    this.platform.systemReset(type, reason);
    return SBI_SUCCESS; // reached only if the platform let the guest run on
  }

  /** Returns a byte count (>= 0) or a negative SBI error. */
  private dbcn(fid: number, x: BigInt64Array): number {
    switch (fid) {
      case SBI_EXT_DBCN_CONSOLE_WRITE:
      case SBI_EXT_DBCN_CONSOLE_READ: {
        const num = BigInt.asUintN(64, x[A0]!);
        if (x[A2] !== 0n) return SBI_ERR_INVALID_PARAM; // base_addr_hi: RAM is below 2^64
        const addr = BigInt.asUintN(64, x[A1]!);
        if (!this.inRam(addr, num)) return SBI_ERR_INVALID_PARAM;
        const off = Number(addr) - this.ram.base;
        const len = Number(num);
        if (fid === SBI_EXT_DBCN_CONSOLE_WRITE) {
          if (len > 0) this.platform.consoleWrite(this.ramU8.subarray(off, off + len));
          return len;
        }
        let i = 0;
        for (; i < len; i++) {
          const c = this.platform.consoleRead();
          if (c < 0) break;
          this.ramU8[off + i] = c & 0xff;
        }
        return i;
      }
      case SBI_EXT_DBCN_CONSOLE_WRITE_BYTE:
        this.byte[0] = Number(x[A0]! & 0xffn);
        this.platform.consoleWrite(this.byte);
        return 0;
      default:
        return SBI_ERR_NOT_SUPPORTED;
    }
  }

  /** Legacy extensions 0x00-0x08 (ch.5); returns the value for a0. */
  private legacy(hart: SbiCaller, eid: number): number {
    const x = hart.x;
    switch (eid) {
      case SBI_EXT_0_1_SET_TIMER:
        hart.setSbiTimer(BigInt.asUintN(64, x[A0]!));
        return 0;
      case SBI_EXT_0_1_CONSOLE_PUTCHAR:
        this.byte[0] = Number(x[A0]! & 0xffn);
        this.platform.consoleWrite(this.byte);
        return 0;
      case SBI_EXT_0_1_CONSOLE_GETCHAR:
        return this.platform.consoleRead();
      case SBI_EXT_0_1_CLEAR_IPI:
        return 0;
      case SBI_EXT_0_1_SHUTDOWN:
        this.platform.systemReset(SBI_SRST_RESET_TYPE_SHUTDOWN, SBI_SRST_RESET_REASON_NONE);
        return 0;
      default: { // send_ipi, remote fences: a0 points to an unsigned long hart mask
        const err = this.legacyMask(x[A0]!);
        if (err !== SBI_SUCCESS) return err;
        if (this.targets.length === 0) return 0;
        if (eid === SBI_EXT_0_1_SEND_IPI) this.platform.sendIpi(this.targets);
        else this.platform.remoteFence(this.targets, eid === SBI_EXT_0_1_REMOTE_FENCE_I ? 'i' : 'vma');
        return 0;
      }
    }
  }

  private legacyMask(ptr: bigint): number {
    const p = BigInt.asUintN(64, ptr);
    if (p === 0n) return this.collect(0n, ALL_ONES);
    if (!this.inRam(p, 8n)) return SBI_ERR_INVALID_ADDRESS;
    const mask = this.ramView.getBigUint64(Number(p) - this.ram.base, true);
    return this.collect(mask, 0n);
  }

  /** True when [addr, addr+len) lies inside RAM. */
  private inRam(addr: bigint, len: bigint): boolean {
    const base = BigInt(this.ram.base);
    return addr >= base && len <= BigInt(this.ram.size) && addr - base <= BigInt(this.ram.size) - len;
  }
}

function probe(eidReg: bigint): boolean {
  const eid = Number(BigInt.asUintN(32, eidReg));
  // A full 64-bit value that is not a sign-extended 32-bit EID names no extension.
  if (BigInt.asIntN(32, eidReg) !== eidReg && BigInt.asUintN(32, eidReg) !== BigInt.asUintN(64, eidReg)) return false;
  return EXTENSIONS.includes(eid);
}
