// The SBI seam between the hart and the VMM's SBI implementation (RISC-V SBI spec v2.0 §3 "Binary encoding").
// An S-mode `ecall` on a hart constructed with an SbiHandler calls handler.call(hart) instead of trapping.

/** What an SBI implementation may see and do on the calling hart. */
export interface SbiCaller {
  readonly id: number;
  /** Integer registers: the handler reads a0..a7 (x10..x17) and writes a0/a1 (x10/x11). */
  readonly x: BigInt64Array;
  /** SBI TIME.set_timer: STIP is raised once time >= value and cleared by writing a future value. */
  setSbiTimer(value: bigint): void;
}

export interface SbiHandler {
  call(hart: SbiCaller): void;
}
