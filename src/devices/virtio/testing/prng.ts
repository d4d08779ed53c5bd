// A small seeded PRNG (mulberry32) for property tests and the fuzzer: the same seed gives the same rings on
// every run, so a failure is reproduced by its seed.

export class Prng {
  private s: number;

  constructor(seed: number) { this.s = seed >>> 0; }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** An integer in [0, n) (n ≤ 2^32). */
  below(n: number): number { return Math.floor((this.u32() / 0x1_0000_0000) * n); }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number { return lo + this.below(hi - lo + 1); }

  /** True with probability p. */
  chance(p: number): boolean { return this.u32() / 0x1_0000_0000 < p; }

  /** One element of a non-empty array. */
  pick<T>(xs: readonly T[]): T { return xs[this.below(xs.length)]!; }

  /** Fills `b` with random bytes. */
  fill(b: Uint8Array): void {
    for (let i = 0; i < b.length; i += 4) {
      let v = this.u32();
      for (let k = 0; k < 4 && i + k < b.length; k++) { b[i + k] = v & 0xff; v >>>= 8; }
    }
  }
}
