/* Bare-metal test: Sv39 translation as an S-mode kernel sees it (RISC-V privileged spec §4.3-§4.4: PTE format,
 * R/W/X/U permissions, SUM and MXR, page faults with stval = the virtual address, sfence.vma). RAM is identity
 * mapped by one gigapage; test pages are mapped at VA 0x40000000 through a three-level walk. S code ends the
 * test with an ecall to M carrying the result in a0 (0 = pass). */
#include "common/test.h"

#define PTE_V 1UL
#define PTE_R 2UL
#define PTE_W 4UL
#define PTE_X 8UL
#define PTE_U 16UL
#define PTE_G 32UL
#define PTE_A 64UL
#define PTE_D 128UL
#define VA 0x40000000UL
#define USER_ALIAS 0x40000000UL  /* RAM is also mapped at 0xC0000000 with U set, for user code */

static u64 root[512] __attribute__((aligned(4096)));
static u64 l1[512] __attribute__((aligned(4096)));
static u64 l0[512] __attribute__((aligned(4096)));
static volatile u64 page1[512] __attribute__((aligned(4096)));
static volatile u64 page2[512] __attribute__((aligned(4096)));

static volatile u64 s_cause, s_tval, s_traps;

void s_trap(struct frame *f) {
  s_cause = csr_read(scause);
  s_tval = csr_read(stval);
  s_traps++;
  if (s_cause == 12 || !(csr_read(sstatus) & MSTATUS_SPP)) { /* fetch fault or a trap from U: back to the caller */
    csr_set(sstatus, MSTATUS_SPP);
    EPC(f) = f->x[1];
    return;
  }
  u32 low = *(volatile unsigned short *)EPC(f);
  EPC(f) += (low & 3) == 3 ? 4 : 2;
}

void m_trap(struct frame *f) {
  u64 cause = csr_read(mcause);
  if (cause == 9) exit_test(f->x[10]);
  exit_test(100 + cause);
}

static u64 leaf(volatile void *pa, u64 flags) { return (((u64)pa >> 12) << 10) | flags | PTE_V | PTE_A; }
static u64 table(void *pa) { return (((u64)pa >> 12) << 10) | PTE_V; }

static inline u64 load(u64 va) { u64 v; __asm__ volatile("ld %0, 0(%1)" : "=r"(v) : "r"(va) : "memory"); return v; }
static inline void store(u64 va, u64 v) { __asm__ volatile("sd %0, 0(%1)" :: "r"(v), "r"(va) : "memory"); }
static inline void sfence(void) { __asm__ volatile("sfence.vma" ::: "memory"); }

__attribute__((noinline)) static void user_load(void) { __asm__ volatile("li t0, 0x40000000\n ld t1, 0(t0)\n ecall" ::: "t0", "t1", "memory"); }
__attribute__((noinline)) static void user_rw(void) {
  __asm__ volatile("li t0, 0x40002000\n ld t1, 0(t0)\n addi t1, t1, 1\n sd t1, 0(t0)\n ecall" ::: "t0", "t1", "memory");
}

static void run_user(void (*fn)(void)) {
  csr_clear(sstatus, MSTATUS_SPP);
  csr_write(sepc, (u64)fn + USER_ALIAS);
  __asm__ volatile("la ra, 1f\n sret\n 1:" ::: "ra", "memory");
}

static u64 checks(void) {
  u64 n;
  /* Read and write through the mapping; the physical page changes. */
  page1[0] = 0x1111;
  if (load(VA) != 0x1111) return 10;
  store(VA + 8, 0x2222);
  if (page1[1] != 0x2222) return 11;
  /* The read-only alias reads the same page; a store to it is a store page fault with stval = VA. */
  if (load(VA + 0x1008) != 0x2222) return 12;
  n = s_traps;
  store(VA + 0x1010, 5);
  if (s_traps != n + 1 || s_cause != 15 || s_tval != VA + 0x1010) return 13;
  if (page1[2] != 0) return 14;
  /* Unmapped page: load page fault. */
  load(VA + 0x3000);
  if (s_traps != n + 2 || s_cause != 13 || s_tval != VA + 0x3000) return 15;
  /* A user page from S: fault without SUM, allowed with SUM. */
  page2[0] = 7;
  load(VA + 0x2000);
  if (s_traps != n + 3 || s_cause != 13) return 16;
  csr_set(sstatus, MSTATUS_SUM);
  if (load(VA + 0x2000) != 7) return 17;
  csr_clear(sstatus, MSTATUS_SUM);
  /* Execute-only page: loads fault unless MXR. */
  load(VA + 0x4000);
  if (s_traps != n + 4 || s_cause != 13 || s_tval != VA + 0x4000) return 18;
  csr_set(sstatus, MSTATUS_MXR);
  if (load(VA + 0x4000) != 0x1111) return 19;
  csr_clear(sstatus, MSTATUS_MXR);
  /* Fetch from a non-executable page: instruction page fault. */
  ((void (*)(void))VA)();
  if (s_traps != n + 5 || s_cause != 12 || s_tval != VA) return 20;
  /* U-mode: a supervisor page faults; its own page works. */
  run_user(user_load);
  if (s_traps != n + 6 || s_cause != 13 || s_tval != VA) return 21;
  run_user(user_rw);
  if (s_traps != n + 7 || s_cause != 8 || page2[0] != 8) return 22;
  /* Remap the unmapped page after sfence.vma. */
  l0[3] = leaf(page2, PTE_R | PTE_W | PTE_D);
  sfence();
  if (load(VA + 0x3000) != 8) return 23;
  /* Change a mapping: VA now points at page2. */
  l0[0] = leaf(page2, PTE_R | PTE_W | PTE_D);
  sfence();
  if (load(VA) != 8) return 24;
  /* A misaligned superpage (level-1 leaf whose PPN[0] != 0) is a page fault. */
  l1[1] = leaf((void *)(0x80000000UL + 0x1000), PTE_R | PTE_W | PTE_D);
  sfence();
  load(VA + 0x200000);
  if (s_cause != 13 || s_tval != VA + 0x200000) return 25;
  /* A reserved W-without-R leaf is a page fault. */
  l0[5] = leaf(page1, PTE_W | PTE_D);
  sfence();
  load(VA + 0x5000);
  if (s_cause != 13 || s_tval != VA + 0x5000) return 26;
  return 0;
}

__attribute__((noinline)) static void s_main(void) {
  csr_write(satp, (8UL << 60) | ((u64)root >> 12));
  sfence();
  u64 r = checks();
  __asm__ volatile("mv a0, %0\n ecall" :: "r"(r) : "a0", "memory");
  for (;;) {}
}

int main(void) {
  root[2] = leaf((void *)0x80000000UL, PTE_R | PTE_W | PTE_X | PTE_G | PTE_D);  /* RAM, identity */
  root[3] = leaf((void *)0x80000000UL, PTE_R | PTE_X | PTE_U);               /* RAM again, for U code */
  root[1] = table(l1);                                                        /* VA 0x40000000.. */
  l1[0] = table(l0);
  l0[0] = leaf(page1, PTE_R | PTE_W | PTE_D);
  l0[1] = leaf(page1, PTE_R);
  l0[2] = leaf(page2, PTE_R | PTE_W | PTE_U | PTE_D);
  l0[4] = leaf(page1, PTE_X);
  csr_write(medeleg, (1UL << 8) | (1UL << 12) | (1UL << 13) | (1UL << 15));
  csr_write(stvec, (u64)s_trap_vector);
  /* satp reads back what was written (Sv39 supported). */
  csr_write(satp, (8UL << 60) | ((u64)root >> 12));
  CHECK(csr_read(satp) == ((8UL << 60) | ((u64)root >> 12)), 1);
  csr_write(satp, 0);
  u64 ms = (csr_read(mstatus) & ~MSTATUS_MPP) | MSTATUS_MPP_S;
  csr_write(mstatus, ms);
  csr_write(mepc, (u64)s_main);
  __asm__ volatile("mret");
  return 50;
}
