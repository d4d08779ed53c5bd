/* Entry and trap vectors for vmio's bare-metal test programs (RISC-V privileged spec §3.1.7 mtvec, §3.3.2 mret).
 * _start runs main() in M-mode and reports its result on the SiFive test device at 0x100000:
 * 0 -> 0x5555 (pass), n -> (n << 16) | 0x3333 (fail with code n). The trap vectors save every integer register
 * in a struct frame on the stack, call m_trap(frame) / s_trap(frame) in C, and return with mret / sret, so a
 * handler changes the interrupted context by editing the frame (frame->epc is written back to mepc/sepc). */
#define TEST_DEVICE 0x100000

  .section .text.start
  .globl _start
_start:
  la sp, _stack_top
  la t0, m_trap_vector
  csrw mtvec, t0
  /* PMP entry 0: NAPOT over the whole address space, RWX, so S and U may access memory (as firmware does). */
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0
  csrw mscratch, zero
  call main
  .globl exit_test
exit_test:                 /* a0 = 0 pass, else fail code */
  li t0, TEST_DEVICE
  beqz a0, 1f
  slli a0, a0, 16
  li t1, 0x3333
  or a0, a0, t1
  sw a0, 0(t0)
  j 2f
1:
  li t1, 0x5555
  sw t1, 0(t0)
2:
  wfi
  j 2b

/* frame: x1..x31 at 8*i (slot 0 holds epc), so frame->x[i] is register xi. 256 bytes. */
.macro SAVE_REGS
  addi sp, sp, -256
  .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  sd x\n, (8*\n)(sp)
  .endr
  addi t0, sp, 256
  sd t0, 16(sp)            /* the interrupted sp */
.endm
.macro RESTORE_REGS
  .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  ld x\n, (8*\n)(sp)
  .endr
  ld sp, 16(sp)
.endm

  .text
  .balign 4
  .globl m_trap_vector
m_trap_vector:
  /* M-mode traps may come from U/S code running on its own stack (or none): switch to the M stack kept in mscratch
     when mscratch is non-zero; otherwise stay on the current stack. */
  csrrw sp, mscratch, sp
  bnez sp, 1f
  csrrw sp, mscratch, sp   /* mscratch was 0: trap from M-mode, keep sp */
  SAVE_REGS
  csrr t0, mepc
  sd t0, 0(sp)
  mv a0, sp
  call m_trap
  ld t0, 0(sp)
  csrw mepc, t0
  RESTORE_REGS
  mret
1:
  /* sp = M stack, mscratch = interrupted sp */
  addi sp, sp, -256
  .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  sd x\n, (8*\n)(sp)
  .endr
  csrr t0, mscratch
  sd t0, 16(sp)
  addi t0, sp, 256
  csrw mscratch, t0        /* keep the M stack for the next trap */
  csrr t0, mepc
  sd t0, 0(sp)
  mv a0, sp
  call m_trap
  ld t0, 0(sp)
  csrw mepc, t0
  .irp n, 1,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
  ld x\n, (8*\n)(sp)
  .endr
  ld sp, 16(sp)
  mret

  .balign 4
  .globl s_trap_vector
s_trap_vector:             /* S-mode handler: the tests run S and U code on the same stack */
  SAVE_REGS
  csrr t0, sepc
  sd t0, 0(sp)
  mv a0, sp
  call s_trap
  ld t0, 0(sp)
  csrw sepc, t0
  RESTORE_REGS
  sret

/* Defaults for programs that expect no trap of that kind: fail with 98 (M) or 99 (S). */
  .weak m_trap
m_trap:
  li a0, 98
  j exit_test
  .weak s_trap
s_trap:
  li a0, 99
  j exit_test
