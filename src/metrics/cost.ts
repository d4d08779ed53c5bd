// The platform cost model (ARCHITECTURE.md "Metrics and the cost model"): what each kind of hypervisor work
// costs on real hardware, in guest-instruction equivalents (cycles of the reference machine at IPC ≈ 1). On a
// software hart an exit is a function call; charging its hardware cost — and, in deterministic mode,
// advancing the guest's virtual time by it — keeps the ratio of hypervisor work to guest work what it is on
// hardware, which is the quantity every comparison of I/O architectures depends on.

import type { ExitClass } from './counters.js';

/** The costs a profile names. Every value is in guest-instruction equivalents (≥ 0). */
export interface CostTable {
  /** A trap into the user-space device model and back (QEMU-style emulation): exit + context switches. */
  exitUser: number;
  /** A trap handled in the hypervisor itself (an in-kernel device model, e.g. KVM's irqchip). */
  exitKernel: number;
  /** A paravirtual doorbell: an exit that only signals an eventfd (ioeventfd), no emulation. */
  notify: number;
  /** An access to directly assigned hardware: no exit. */
  direct: number;
  /** Injecting a virtual interrupt through the hypervisor (an exit or IPI to the vCPU, and the injection). */
  interruptInject: number;
  /** An interrupt delivered straight to the guest's interrupt file (posted interrupts, AIA guest files). */
  interruptDirect: number;
  /** Completing an interrupt (EOI) when the completion exits. */
  eoi: number;
  /** A hypercall (SBI ecall from the guest kernel, a Xen hypercall): exit, dispatch, return. */
  hypercall: number;
  /** Copying guest data in the backend, per byte. */
  copyPerByte: number;
  /** An IOTLB miss: the IOMMU walks its tables. */
  iotlbMiss: number;
  /** The backend's fixed work per packet or request it moves (descriptor handling outside the copy). */
  perRequest: number;
}

export type CostKind = keyof CostTable;

export const COST_KINDS: readonly CostKind[] = [
  'exitUser', 'exitKernel', 'notify', 'direct', 'interruptInject', 'interruptDirect', 'eoi', 'hypercall',
  'copyPerByte', 'iotlbMiss', 'perRequest',
];

export interface CostProfile {
  /** 'kvm-x86' (the default), 'off', or a file name. */
  readonly name: string;
  readonly costs: Readonly<CostTable>;
  /** Where each figure comes from (shown by reports and the README). */
  readonly sources?: Readonly<Partial<Record<CostKind, string>>>;
}

/** The profile that charges nothing: vmio's raw behaviour on a software hart. */
export const COST_OFF: CostProfile = {
  name: 'off',
  costs: {
    exitUser: 0, exitKernel: 0, notify: 0, direct: 0, interruptInject: 0, interruptDirect: 0, eoi: 0, hypercall: 0,
    copyPerByte: 0, iotlbMiss: 0, perRequest: 0,
  },
};

/** The cost kind of an MMIO access of each exit class. */
export const EXIT_COST: Readonly<Record<ExitClass, CostKind>> = {
  user: 'exitUser', kernel: 'exitKernel', notify: 'notify', direct: 'direct',
};

/**
 * Charges modelled costs: counts each kind (events and instruction equivalents) and hands the total to a sink
 * that, in deterministic mode, advances the charged hart's virtual time.
 */
export class CostMeter {
  /** Events of each kind charged. */
  readonly events: Record<CostKind, number>;
  /** Instruction equivalents charged per kind. */
  readonly charged: Record<CostKind, number>;
  /** Receives every charge (instruction equivalents); the VM turns it into virtual time. */
  sink: ((instructions: number) => void) | null = null;
  /**
   * Non-zero while an assigned function's MSI is being written through the IOMMU to this VM's interrupt file: that
   * is direct delivery (a posted interrupt, no hypervisor on the path), charged 'interruptDirect' by the interrupt
   * file instead of 'interruptInject'.
   */
  directMsi = 0;

  constructor(readonly profile: CostProfile) {
    const zero = () => Object.fromEntries(COST_KINDS.map((k) => [k, 0])) as Record<CostKind, number>;
    this.events = zero();
    this.charged = zero();
  }

  /** Charges `n` events of `kind` (for copyPerByte, n is the byte count). Returns the cost charged. */
  charge(kind: CostKind, n = 1): number {
    this.events[kind] += n;
    const c = this.profile.costs[kind] * n;
    if (c > 0) {
      this.charged[kind] += c;
      this.sink?.(c);
    }
    return c;
  }

  /** Everything charged, in instruction equivalents. */
  get total(): number {
    let t = 0;
    for (const k of COST_KINDS) t += this.charged[k];
    return t;
  }

  toJSON(): object {
    return { profile: this.profile.name, total: this.total, events: this.events, charged: this.charged };
  }
}
