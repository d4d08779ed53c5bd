/* Bare-metal test: exception delegation M -> S, S <-> U transitions (RISC-V privileged spec §3.1.8 medeleg,
 * §4.1.1 sstatus, §4.1.7-§4.1.9 sepc/scause/stval, §3.3.2 sret). main() enters S-mode; S code ends the test
 * with an ecall to M carrying the result code in a0 (0 = pass). */
#include "common/test.h"

static volatile u64 s_cause, s_tval, s_epc, s_spp, s_traps, user_val;

void s_trap(struct frame *f) {
  s_cause = csr_read(scause);
  s_tval = csr_read(stval);
  s_epc = EPC(f);
  s_spp = (csr_read(sstatus) & MSTATUS_SPP) ? 1 : 0;
  s_traps++;
  if (s_cause == 8) user_val = f->x[10];
  if (s_cause == 8 || s_cause == 2) { /* from U: return to S at the user function's return address */
    if (!s_spp) { csr_set(sstatus, MSTATUS_SPP); EPC(f) = f->x[1]; return; }
  }
  u32 low = *(volatile unsigned short *)EPC(f);
  EPC(f) += (low & 3) == 3 ? 4 : 2;
}

void m_trap(struct frame *f) {
  u64 cause = csr_read(mcause);
  if (cause == 9) exit_test(f->x[10]);   /* ecall from S: the verdict */
  exit_test(100 + cause);                 /* nothing else may reach M */
}

__attribute__((noinline)) static void user_ecall(void) { __asm__ volatile("li a0, 0x55\n ecall" ::: "a0", "memory"); }
__attribute__((noinline)) static void user_csr(void) { __asm__ volatile("csrr a0, sstatus" ::: "a0", "memory"); }

static void run_user(void (*fn)(void)) {
  csr_clear(sstatus, MSTATUS_SPP);
  csr_write(sepc, (u64)fn);
  __asm__ volatile("la ra, 1f\n sret\n 1:" ::: "ra", "memory");
}

static u64 s_main_checks(void) {
  /* Illegal instruction in S (an M-mode CSR) is delegated: scause 2, SPP = S. */
  __asm__ volatile("csrr t0, mstatus" ::: "t0");
  if (s_traps != 1) return 11;
  if (s_cause != 2) return 19;
  if (s_spp != 1) return 20;
  if (s_tval != 0 && s_tval != 0x300022f3UL) return 12;
  /* sstatus shows SIE/SPIE/SPP/SUM/MXR/FS and hides the M fields. */
  u64 ss = csr_read(sstatus);
  if (ss & (MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP)) return 13;
  csr_set(sstatus, MSTATUS_SUM);
  if (!(csr_read(sstatus) & MSTATUS_SUM)) return 14;
  csr_clear(sstatus, MSTATUS_SUM);
  /* ecall from U goes to S (cause 8) with SPP = U. */
  run_user(user_ecall);
  if (s_traps != 2 || s_cause != 8 || s_spp != 0 || user_val != 0x55) return 15;
  if (s_epc != (u64)user_ecall + 6 && s_epc != (u64)user_ecall + 4) return 16; /* li a0,0x55 is 2 or 4 bytes */
  /* An S CSR from U is illegal, delegated to S. */
  run_user(user_csr);
  if (s_traps != 3 || s_cause != 2 || s_spp != 0) return 17;
  /* sscratch works; stvec holds what is written. */
  csr_write(sscratch, 0x1234);
  if (csr_read(sscratch) != 0x1234) return 18;
  return 0;
}

__attribute__((noinline)) static void s_main(void) {
  u64 r = s_main_checks();
  __asm__ volatile("mv a0, %0\n ecall" :: "r"(r) : "a0", "memory");
  for (;;) {}
}

int main(void) {
  /* medeleg: ecall from U (8) and illegal instruction (2) are delegable. */
  csr_write(medeleg, (1UL << 2) | (1UL << 8));
  u64 d = csr_read(medeleg);
  CHECK((d & ((1UL << 2) | (1UL << 8))) == ((1UL << 2) | (1UL << 8)), 2);
  csr_write(stvec, (u64)s_trap_vector);
  CHECK(csr_read(stvec) == (u64)s_trap_vector, 3);
  /* Enter S-mode at s_main: MPP = S. */
  u64 ms = csr_read(mstatus);
  ms = (ms & ~MSTATUS_MPP) | MSTATUS_MPP_S;
  csr_write(mstatus, ms);
  csr_write(mepc, (u64)s_main);
  __asm__ volatile("mret");
  return 50; /* not reached */
}
