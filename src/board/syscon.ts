// SiFive test/finisher device ("sifive,test1", "sifive,test0", "syscon") at 0x10_0000 on the virt board, as
// targeted by Linux's syscon-poweroff (value 0x5555) and syscon-reboot (0x7777) nodes; (code<<16)|0x3333 fails.
// One write-only 32-bit register; OpenSBI writes the PASS/RESET commands as 16-bit stores, so narrower writes
// merge into it; an 8-byte store reaches it with its low half.

import { RegisterTable } from '../memory/register-table.js';
import type { Resettable } from '../devices/device.js';

export const SIFIVE_TEST_MMIO_SIZE = 0x1000;
/** Finisher commands in the low 16 bits of a write at offset 0 (QEMU hw/misc/sifive_test.c semantics). */
export const FINISHER_FAIL = 0x3333;
export const FINISHER_PASS = 0x5555;
export const FINISHER_RESET = 0x7777;

export interface SysconExit {
  kind: 'poweroff' | 'reboot' | 'fail';
  /** Exit code: the upper 16 bits of a FAIL write, 0 otherwise. */
  code: number;
}

export class SifiveTest implements Resettable {
  /** The guest's view: `finisher` at offset 0 (reads 0). */
  readonly mmio: RegisterTable;

  constructor(private readonly onExit: (exit: SysconExit) => void) {
    this.mmio = new RegisterTable('sifive-test', [
      { name: 'finisher', offset: 0, width: 4, narrow: 'extract', sideEffects: 'write', write: (v) => this.finish(v) },
    ], { wide: 'split' });
  }

  /** Nothing to reset: the device keeps no state. */
  reset(): void {}

  // guest-controlled: any 32-bit value (a narrower write arrives merged into 0); only a known command does something.
  private finish(v: number): void {
    switch (v & 0xffff) {
      case FINISHER_PASS: this.onExit({ kind: 'poweroff', code: 0 }); return;
      case FINISHER_RESET: this.onExit({ kind: 'reboot', code: 0 }); return;
      case FINISHER_FAIL: this.onExit({ kind: 'fail', code: v >>> 16 }); return;
      default: return;
    }
  }
}
