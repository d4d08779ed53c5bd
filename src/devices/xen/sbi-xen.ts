// How an S-mode `ecall` reaches the Xen dispatcher (hypercall.ts has the calling convention). The hart calls one
// SbiHandler; XenSbi wraps vmio's own Sbi (src/cpu/riscv/sbi.ts): a call with a7 = XEN_SBI_EID goes to the calling
// domain's Hypercalls, BASE.probe_extension(XEN_SBI_EID) answers 1, and everything else goes on to the wrapped SBI
// unchanged. The vCPU number is the hart id (a direct mapping, as on Xen/Arm).

import type { SbiCaller, SbiHandler } from '../../cpu/riscv/sbi-types.js';
import type { AddressTranslator } from './guest-args.js';
import { XEN_SBI_EID, type Hypercalls } from './hypercall.js';

const A0 = 10, A1 = 11, A6 = 16, A7 = 17;
const SBI_EXT_BASE = 0x10;
const SBI_EXT_BASE_PROBE_EXT = 3;

/** The calling hart's translation for pointer arguments (null while the guest runs with satp = Bare). */
export type TranslatorFor = (hart: SbiCaller) => AddressTranslator | null;

export class XenSbi implements SbiHandler {
  private readonly args = new BigInt64Array(5);

  constructor(private readonly inner: SbiHandler, private readonly hypercalls: Hypercalls, private readonly translatorFor: TranslatorFor = () => null) {}

  // guest-controlled: a0..a7 of the calling hart.
  call(hart: SbiCaller): void {
    const x = hart.x;
    const eid = Number(BigInt.asUintN(32, x[A7]!));
    if (eid === XEN_SBI_EID) {
      const a = this.args;
      for (let i = 0; i < 5; i++) a[i] = x[A0 + i]!;
      const op = Number(BigInt.asUintN(32, x[A6]!));
      x[A0] = this.hypercalls.call(hart.id, op, a, this.translatorFor(hart));
      x[A1] = 0n;
      return;
    }
    if (eid === SBI_EXT_BASE && Number(BigInt.asUintN(32, x[A6]!)) === SBI_EXT_BASE_PROBE_EXT
      && BigInt.asUintN(64, x[A0]!) === BigInt(XEN_SBI_EID)) {
      x[A0] = 0n; // SBI_SUCCESS
      x[A1] = 1n;
      return;
    }
    this.inner.call(hart);
  }
}
