// SiFive test/finisher device ("sifive,test1", "sifive,test0", "syscon") at 0x10_0000 on the virt board, as
// targeted by Linux's syscon-poweroff (value 0x5555) and syscon-reboot (0x7777) nodes; (code<<16)|0x3333 fails.

import type { MmioHandler, Width } from '../memory/bus.js';
import { lo32 } from './mmio-value.js';

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

export const sysconRegisterNames: Readonly<Record<number, string>> = { 0: 'finisher' };

export class SifiveTest implements MmioHandler {
  readonly registerNames = sysconRegisterNames;

  constructor(private readonly onExit: (exit: SysconExit) => void) {}

  read(_offset: number, _width: Width): number { return 0; }

  // guest-controlled: any value; only a write at offset 0 with a known command does something.
  write(offset: number, width: Width, value: number | bigint): void {
    if (offset !== 0) return;
    const v = width === 1 ? lo32(value) & 0xff : lo32(value);
    switch (v & 0xffff) {
      case FINISHER_PASS: this.onExit({ kind: 'poweroff', code: 0 }); return;
      case FINISHER_RESET: this.onExit({ kind: 'reboot', code: 0 }); return;
      case FINISHER_FAIL: this.onExit({ kind: 'fail', code: width === 2 ? 0 : v >>> 16 }); return;
      default: return;
    }
  }
}
