/* Helpers for vmio's bare-metal test programs: CSR access, the trap frame, result reporting. */
#ifndef VMIO_TEST_H
#define VMIO_TEST_H

typedef unsigned long u64;
typedef long i64;
typedef unsigned int u32;

struct frame { u64 x[32]; };     /* x[0] holds epc; x[i] is register i */
#define EPC(f) ((f)->x[0])

#define csr_read(csr) ({ u64 __v; __asm__ volatile("csrr %0, " #csr : "=r"(__v) :: "memory"); __v; })
#define csr_write(csr, val) __asm__ volatile("csrw " #csr ", %0" :: "rK"((u64)(val)) : "memory")
#define csr_set(csr, val) __asm__ volatile("csrs " #csr ", %0" :: "rK"((u64)(val)) : "memory")
#define csr_clear(csr, val) __asm__ volatile("csrc " #csr ", %0" :: "rK"((u64)(val)) : "memory")

#define MSTATUS_SIE (1UL << 1)
#define MSTATUS_MIE (1UL << 3)
#define MSTATUS_SPIE (1UL << 5)
#define MSTATUS_MPIE (1UL << 7)
#define MSTATUS_SPP (1UL << 8)
#define MSTATUS_MPP (3UL << 11)
#define MSTATUS_MPP_S (1UL << 11)
#define MSTATUS_FS (3UL << 13)
#define MSTATUS_MPRV (1UL << 17)
#define MSTATUS_SUM (1UL << 18)
#define MSTATUS_MXR (1UL << 19)
#define CAUSE_INTR (1UL << 63)

void exit_test(u64 code) __attribute__((noreturn));
void m_trap_vector(void);
void s_trap_vector(void);

/* Fails the test with `code` unless `cond` holds. */
#define CHECK(cond, code) do { if (!(cond)) exit_test(code); } while (0)

#endif
