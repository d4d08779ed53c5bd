// Temporary stand-in for the F/D unit (fpu.ts, written in parallel): register file and fcsr fields only.
// It has no `exec`, so the hart treats every F/D instruction and FP CSR as illegal until fpu.ts lands.

export class Fpu {
  f = new BigUint64Array(32);
  fflags = 0;
  frm = 0;
  reset(): void { this.f.fill(0n); this.fflags = 0; this.frm = 0; }
}

/** NaN-boxes a 32-bit single (RISC-V unprivileged spec §13.2). */
export function boxF32(bits: number): bigint {
  return 0xffffffff00000000n | BigInt(bits >>> 0);
}
