/* Bare-metal test: synchronous exceptions in M-mode and from U-mode (RISC-V privileged spec §3.1.15 mcause,
 * §3.1.16 mtval, §3.3.1 ecall/ebreak, §3.3.2 mret). Fail codes name the check that failed. */
#include "common/test.h"

#ifndef EXPECTED_HARTID
#define EXPECTED_HARTID 0  /* -DEXPECTED_HARTID=1 makes check 24 fail: shows failures are reported */
#endif
#define UNMAPPED 0x18000000UL   /* nothing there on QEMU virt nor on the test bus */

static volatile u64 last_cause, last_tval, last_epc, last_mpp, traps;
static volatile u64 user_a0;

void m_trap(struct frame *f) {
  last_cause = csr_read(mcause);
  last_tval = csr_read(mtval);
  last_epc = EPC(f);
  last_mpp = (csr_read(mstatus) & MSTATUS_MPP) >> 11;
  traps++;
  if (last_cause == 1) {            /* fetch fault: return to the caller */
    EPC(f) = f->x[1];
    return;
  }
  if (last_cause == 8) {            /* ecall from U: a0 carries a value back; return to M-mode after the ecall */
    user_a0 = f->x[10];
    csr_set(mstatus, MSTATUS_MPP);  /* MPP = M: mret resumes main() in M-mode at the return address */
    EPC(f) = f->x[1];               /* the user function's ra: back into main */
    return;
  }
  /* Skip the faulting instruction (2 or 4 bytes). */
  u32 low = *(volatile unsigned short *)EPC(f);
  EPC(f) += (low & 3) == 3 ? 4 : 2;
}

__attribute__((noinline)) static void user_code(void) {
  __asm__ volatile("li a0, 0x1234\n ecall" ::: "a0", "memory");
}

int main(void) {
  /* Illegal instruction: mcause 2, mtval holds the instruction bits. */
  traps = 0;
  __asm__ volatile(".2byte 0x0000");  /* c.unimp: the all-zero halfword is defined illegal */
  CHECK(traps == 1, 1);
  CHECK(last_cause == 2, 2);
  CHECK(last_tval == 0, 3);
  __asm__ volatile(".4byte 0xc0001073");  /* csrrw x0, cycle, x0: a write to a read-only CSR */
  CHECK(last_cause == 2, 4);
  CHECK(last_tval == 0 || last_tval == 0xc0001073UL, 5);
  /* A CSR that does not exist. */
  __asm__ volatile("csrr t0, 0x7ff" ::: "t0");
  CHECK(last_cause == 2, 6);
  CHECK(last_mpp == 3, 7);

  /* ecall from M: cause 11, mepc is the ecall itself. */
  u64 here;
  __asm__ volatile("1: auipc %0, 0\n ecall" : "=r"(here) :: "memory");
  CHECK(last_cause == 11, 8);
  CHECK(last_epc == here + 4, 9);

  /* ebreak: cause 3, mtval = pc of the ebreak (or 0). */
  __asm__ volatile("auipc %0, 0\n .option push\n .option norvc\n ebreak\n .option pop" : "=r"(here) :: "memory");
  CHECK(last_cause == 3, 10);
  CHECK(last_epc == here + 4, 11);
  CHECK(last_tval == 0 || last_tval == here + 4, 12);

  /* Load and store access faults: nothing is mapped at physical address UNMAPPED. */
  volatile u64 *bad = (volatile u64 *)UNMAPPED;
  u64 v = *bad;
  (void)v;
  CHECK(last_cause == 5, 13);
  CHECK(last_tval == UNMAPPED, 14);
  *bad = 1;
  CHECK(last_cause == 7, 15);
  CHECK(last_tval == UNMAPPED, 16);

  /* Instruction fetch access fault: call into unmapped memory; mepc = mtval = target, the handler returns to ra. */
  ((void (*)(void))UNMAPPED)();
  CHECK(last_cause == 1, 25);
  CHECK(last_epc == UNMAPPED, 26);
  CHECK(last_tval == UNMAPPED, 27);

  /* ecall from U-mode: mret with MPP=U drops privilege; the handler returns to main in M-mode. */
  u64 before = traps;
  csr_clear(mstatus, MSTATUS_MPP);          /* MPP = U */
  csr_write(mepc, (u64)user_code);
  __asm__ volatile(
    "la ra, 1f\n"
    "mret\n"
    "1:\n" ::: "ra", "memory");
  CHECK(traps == before + 1, 17);
  CHECK(last_cause == 8, 18);
  CHECK(last_mpp == 0, 19);
  CHECK(user_a0 == 0x1234, 20);

  /* mscratch holds what is written. */
  csr_write(mscratch, 0);
  csr_write(mscratch, 0xabcdef);
  CHECK(csr_read(mscratch) == 0xabcdef, 21);
  csr_write(mscratch, 0);

  /* misa: RV64 with I, M, A, F, D, C, S, U. */
  u64 misa = csr_read(misa);
  CHECK((misa >> 62) == 2, 22);
  const char *ext = "IMAFDCSU";
  for (int i = 0; ext[i]; i++) CHECK(misa & (1UL << (ext[i] - 'A')), 23);
  CHECK(csr_read(mhartid) == EXPECTED_HARTID, 24);
  return 0;
}
