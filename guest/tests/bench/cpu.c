/* CPU benchmark workloads for bench/cpu.ts, one per build (-DWORKLOAD=1..4): 1 integer mix in S-mode under
 * Sv39 (identity gigapage), 2 memcpy, 3 sort (branch-heavy), 4 double-precision floating point. Each ends
 * through the test finisher; main() returns a checksum-derived 0 so a wrong result fails the run. */
#include "../common/test.h"

#ifndef WORKLOAD
#define WORKLOAD 1
#endif
#ifndef SCALE
#define SCALE 1
#endif

static u64 root[512] __attribute__((aligned(4096)));
static volatile u64 sink;

void m_trap(struct frame *f) {
  if (csr_read(mcause) == 9) exit_test(f->x[10]);
  exit_test(100 + csr_read(mcause));
}

__attribute__((noinline)) static u64 integer(u64 n) {
  u64 x = 88172645463325252UL, acc = 0;
  for (u64 i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    acc += (x * 0x9E3779B97F4A7C15UL) >> 7;
    acc ^= (acc << 3) + i;
    if (x & 1) acc -= x >> 3; else acc += i * 3;
  }
  return acc;
}

static unsigned char src_buf[65536] __attribute__((aligned(64)));
static unsigned char dst_buf[65536] __attribute__((aligned(64)));

__attribute__((noinline)) static void copy(u64 *d, const u64 *s, u64 words) {
  for (u64 i = 0; i < words; i += 4) { u64 a = s[i], b = s[i + 1], c = s[i + 2], e = s[i + 3]; d[i] = a; d[i + 1] = b; d[i + 2] = c; d[i + 3] = e; }
}

__attribute__((noinline)) static u64 memcpy_bench(u64 rounds) {
  for (u64 i = 0; i < sizeof src_buf; i++) src_buf[i] = (unsigned char)(i * 7 + 3);
  for (u64 r = 0; r < rounds; r++) {
    copy((u64 *)dst_buf, (const u64 *)src_buf, sizeof src_buf / 8);
    copy((u64 *)src_buf, (const u64 *)dst_buf, sizeof src_buf / 8);
  }
  return dst_buf[12345] + src_buf[54321];
}

static int arr[4096];

__attribute__((noinline)) static void quicksort(int *a, long lo, long hi) {
  while (lo < hi) {
    int p = a[(lo + hi) / 2];
    long i = lo, j = hi;
    while (i <= j) {
      while (a[i] < p) i++;
      while (a[j] > p) j--;
      if (i <= j) { int t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
    }
    if (j - lo < hi - i) { quicksort(a, lo, j); lo = i; } else { quicksort(a, i, hi); hi = j; }
  }
}

__attribute__((noinline)) static u64 sort_bench(u64 rounds) {
  u32 x = 12345;
  for (u64 r = 0; r < rounds; r++) {
    for (int i = 0; i < 4096; i++) { x = x * 1103515245 + 12345; arr[i] = (int)(x >> 1); }
    quicksort(arr, 0, 4095);
    for (int i = 1; i < 4096; i++) if (arr[i - 1] > arr[i]) return 0;
  }
  return 1;
}

__attribute__((noinline)) static u64 fp_bench(u64 n) {
  double a = 1.0, b = 0.5, s = 0.0;
  for (u64 i = 0; i < n; i++) {
    a = a * 1.0000001 + b / (double)(i + 1);
    b = __builtin_sqrt(a) * 0.25 + 0.1;
    s += a * b - (double)(i & 7);
  }
  return (u64)s;
}

__attribute__((noinline)) static void s_main(void) {
  u64 r = integer(2000000UL * SCALE);
  sink = r;
  __asm__ volatile("li a0, 0\n ecall" ::: "a0", "memory");
  for (;;) {}
}

int main(void) {
  csr_set(mstatus, 1UL << 13);   /* FS = Initial: enable F/D */
  switch (WORKLOAD) {
  case 1:
    /* Sv39 on: one identity gigapage over RAM, run in S-mode. */
    root[2] = (0x80000000UL >> 12) << 10 | 0xcf;  /* V R W X A D */
    csr_write(satp, (8UL << 60) | ((u64)root >> 12));
    csr_write(mepc, (u64)s_main);
    csr_write(mstatus, (csr_read(mstatus) & ~MSTATUS_MPP) | MSTATUS_MPP_S);
    __asm__ volatile("mret");
    return 50;
  case 2: sink = memcpy_bench(400UL * SCALE); return 0;
  case 3: return sort_bench(40UL * SCALE) == 1 ? 0 : 3;
  default: sink = fp_bench(2000000UL * SCALE); return 0;
  }
}
