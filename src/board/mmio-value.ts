// Conversions of guest-written MMIO values (number | bigint, any width) into the fixed-size integers devices keep.

/** The low 32 bits of a written value, unsigned. */
export function lo32(value: number | bigint): number {
  if (typeof value === 'bigint') return Number(BigInt.asUintN(32, value));
  return value >>> 0;
}

/** Bits 63..32 of a written value (0 for a number narrower than 2^32). */
export function hi32(value: number | bigint): number {
  if (typeof value === 'bigint') return Number(BigInt.asUintN(32, value >> 32n));
  return value >= 0x1_0000_0000 ? Math.floor(value / 0x1_0000_0000) >>> 0 : 0;
}

/** A written value as an unsigned 64-bit bigint. */
export function u64(value: number | bigint): bigint {
  if (typeof value === 'bigint') return BigInt.asUintN(64, value);
  return Number.isFinite(value) ? BigInt.asUintN(64, BigInt(Math.trunc(value))) : 0n;
}

/** Combines 32-bit halves into a bigint. */
export function join64(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
