/* Bare-metal test: interrupts as a kernel sees them (RISC-V privileged spec §3.1.9 mip/mie, §3.1.8 mideleg,
 * §3.1.6.1 global enables, §4.1.3 sip/sie, Sstc stimecmp). Uses only hart-local sources: software-writable
 * SSIP and the Sstc timer, so it needs no interrupt controller. Fail codes name the check. */
#include "common/test.h"

#define SSIP (1UL << 1)
#define STIP (1UL << 5)
#define MENVCFG_STCE (1UL << 63)

static volatile u64 m_cause, m_traps, s_cause, s_traps, s_epc, order[4];

void m_trap(struct frame *f) {
  m_cause = csr_read(mcause);
  m_traps++;
  if (m_cause == 9) exit_test(f->x[10]);       /* ecall from S: the verdict */
  if (m_cause == (CAUSE_INTR | 1)) { csr_clear(mip, SSIP); return; }
  exit_test(100 + (m_cause & 0xff));
}

void s_trap(struct frame *f) {
  s_cause = csr_read(scause);
  s_epc = EPC(f);
  if (s_traps < 4) order[s_traps] = s_cause;
  s_traps++;
  if (s_cause == (CAUSE_INTR | 1)) { csr_clear(sip, SSIP); return; }
  if (s_cause == (CAUSE_INTR | 5)) { csr_write(stimecmp, -1L); return; }
  if (s_cause == 8) { csr_set(sstatus, MSTATUS_SPP); EPC(f) = f->x[1]; return; }
  __asm__ volatile("mv a0, %0\n ecall" :: "r"(200 + (s_cause & 0xff)) : "a0");
}

__attribute__((noinline)) static void user_spin(void) {
  __asm__ volatile("nop\n nop\n ecall" ::: "memory");
}

static u64 s_checks(void) {
  u64 n;
  /* SSIP set by S itself is taken at once when SIE and SSIE are on. */
  csr_set(sie, SSIP);
  csr_set(sstatus, MSTATUS_SIE);
  n = s_traps;
  csr_set(sip, SSIP);
  __asm__ volatile("nop");
  if (s_traps != n + 1 || s_cause != (CAUSE_INTR | 1)) return 10;
  if (csr_read(sip) & SSIP) return 11;
  /* With SIE off in S, a pending SSIP waits; dropping to U takes it (S interrupts are always on in U). */
  csr_clear(sstatus, MSTATUS_SIE);
  csr_set(sip, SSIP);
  for (int i = 0; i < 100; i++) __asm__ volatile("nop");
  if (s_traps != n + 1) return 12;
  csr_clear(sstatus, MSTATUS_SPP);
  csr_write(sepc, (u64)user_spin);
  __asm__ volatile("la ra, 1f\n sret\n 1:" ::: "ra", "memory");
  if (s_traps != n + 3) return 13;                   /* the interrupt, then the user ecall */
  if (order[n + 1] != (CAUSE_INTR | 1)) return 14;
  if (order[n + 2] != 8) return 15;
  /* Sstc: stimecmp in the past raises STIP; writing a far future value clears it. */
  csr_set(sie, STIP);
  csr_write(stimecmp, csr_read(time) + 200);
  csr_set(sstatus, MSTATUS_SIE);
  for (int i = 0; i < 100000000 && s_traps == n + 3; i++) __asm__ volatile("nop");
  if (s_traps != n + 4) return 16;
  if (s_cause != (CAUSE_INTR | 5)) return 21;
  if (csr_read(sip) & STIP) return 17;
  /* Priority: with SSIP and STIP both pending, SSI (1) is taken before STI (5). */
  csr_clear(sstatus, MSTATUS_SIE);
  s_traps = 0;
  csr_write(stimecmp, 0);
  csr_set(sip, SSIP);
  if ((csr_read(sip) & (SSIP | STIP)) != (SSIP | STIP)) return 18;
  csr_set(sstatus, MSTATUS_SIE);
  __asm__ volatile("nop");
  if (s_traps != 2 || order[0] != (CAUSE_INTR | 1) || order[1] != (CAUSE_INTR | 5)) return 19;
  /* sie masks: STIE off keeps a pending STIP from trapping. */
  csr_clear(sie, STIP);
  csr_write(stimecmp, 0);
  for (int i = 0; i < 100; i++) __asm__ volatile("nop");
  if (s_traps != 2) return 20;
  csr_write(stimecmp, -1L);
  return 0;
}

__attribute__((noinline)) static void s_main(void) {
  u64 r = s_checks();
  __asm__ volatile("mv a0, %0\n ecall" :: "r"(r) : "a0", "memory");
  for (;;) {}
}

int main(void) {
  /* M-mode: an undelegated SSIP traps to M only when mstatus.MIE and mie.SSIE allow it. */
  csr_write(mie, SSIP);
  csr_set(mip, SSIP);
  for (int i = 0; i < 100; i++) __asm__ volatile("nop");
  CHECK(m_traps == 0, 1);
  csr_set(mstatus, MSTATUS_MIE);
  __asm__ volatile("nop");
  CHECK(m_traps == 1 && m_cause == (CAUSE_INTR | 1), 2);
  CHECK((csr_read(mip) & SSIP) == 0, 3);
  csr_clear(mstatus, MSTATUS_MIE);
  csr_write(mie, 0);
  /* mideleg: SSI and STI go to S. */
  csr_write(mideleg, SSIP | STIP);
  CHECK((csr_read(mideleg) & (SSIP | STIP)) == (SSIP | STIP), 4);
  csr_write(medeleg, 1UL << 8);
  csr_set(menvcfg, MENVCFG_STCE);
  CHECK(csr_read(menvcfg) & MENVCFG_STCE, 5);
  csr_set(mcounteren, 2);                               /* S may read time */
  csr_write(stvec, (u64)s_trap_vector);
  u64 ms = (csr_read(mstatus) & ~MSTATUS_MPP) | MSTATUS_MPP_S;
  csr_write(mstatus, ms);
  csr_write(mepc, (u64)s_main);
  __asm__ volatile("mret");
  return 50;
}
