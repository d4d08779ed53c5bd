// The machine side of vmio's built-in SBI (src/cpu/riscv/sbi.ts): hart state management, IPIs, remote fences,
// system reset and the console, served by the VMM when the kernel runs in S-mode without firmware.

import type { Hart } from '../cpu/riscv/hart.js';
import {
  SBI_ERR_ALREADY_AVAILABLE, SBI_ERR_ALREADY_STOPPED, SBI_ERR_INVALID_PARAM, SBI_SUCCESS,
  SBI_HSM_STATE_STARTED, SBI_HSM_STATE_STOPPED, type SbiPlatform,
} from '../cpu/riscv/sbi.js';
import { IRQ_S_SOFT } from '../board/irq.js';
import type { HostConsole } from './console.js';
import type { VmExit } from './vm.js';
import { prepareSupervisorBoot } from './supervisor-boot.js';
import type { Metrics } from '../metrics/counters.js';

export class VmSbiPlatform implements SbiPlatform {
  constructor(
    private readonly harts: Hart[],
    private readonly console: HostConsole,
    private readonly stop: (exit: VmExit) => void,
    private readonly consoleIn: () => number,
    private readonly metrics: Metrics,
  ) {}

  get hartCount(): number { return this.harts.length; }

  hartStart(hartid: number, startAddr: bigint, opaque: bigint): number {
    const h = this.harts[hartid];
    if (h === undefined) return SBI_ERR_INVALID_PARAM;
    if (!h.stopped) return SBI_ERR_ALREADY_AVAILABLE;
    h.reset(Number(BigInt.asIntN(64, startAddr)), 1);
    prepareSupervisorBoot(h);
    h.x[10] = BigInt(hartid);
    h.x[11] = BigInt.asIntN(64, opaque);
    h.stopped = false;
    h.waiting = false;
    return SBI_SUCCESS;
  }

  hartStop(hartid: number): number {
    const h = this.harts[hartid];
    if (h === undefined) return SBI_ERR_INVALID_PARAM;
    if (h.stopped) return SBI_ERR_ALREADY_STOPPED;
    h.stopped = true;
    h.requestExit();
    return SBI_SUCCESS;
  }

  hartStatus(hartid: number): number {
    const h = this.harts[hartid];
    if (h === undefined) return SBI_ERR_INVALID_PARAM;
    return h.stopped ? SBI_HSM_STATE_STOPPED : SBI_HSM_STATE_STARTED;
  }

  sendIpi(hartids: number[]): void {
    // SSIP is the software-writable bit of mip (the guest clears it in sip), not a level line.
    for (const id of hartids) {
      const h = this.harts[id];
      if (h === undefined) continue;
      h.injectPending(IRQ_S_SOFT);
      this.metrics.countInterrupt('ipi');
    }
  }

  remoteFence(hartids: number[]): void {
    for (const id of hartids) this.harts[id]?.flushTlb();
  }

  systemReset(type: number, reason: number): void {
    if (type === 0) {
      this.stop(reason === 0 ? { kind: 'poweroff' } : { kind: 'fail', code: 1, why: `SBI system reset with reason ${reason} (system failure)` });
    } else {
      this.stop({ kind: 'reboot' });
    }
  }

  consoleWrite(bytes: Uint8Array): void {
    for (const b of bytes) this.console.put(b);
  }

  consoleRead(): number { return this.consoleIn(); }
}
