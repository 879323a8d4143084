/*
 * Trap entry stubs. Every vector pushes an error code (a dummy where the CPU
 * does not), its number, then saves the registers as a trap_frame_t and
 * calls trap_dispatch(frame); the syscall vector calls syscall_trap(frame)
 * instead, the shortest way to the syscall table. Both leave through
 * trap_return.
 */
#include "cpu.h"

.macro VEC_NOERR n
	.global vec\n
vec\n:
	push $0
	push $\n
	jmp trap_common
.endm

.macro VEC_ERR n
	.global vec\n
vec\n:
	push $\n
	jmp trap_common
.endm

	.text
VEC_NOERR 0
VEC_NOERR 1
VEC_NOERR 2
VEC_NOERR 3
VEC_NOERR 4
VEC_NOERR 5
VEC_NOERR 6
VEC_NOERR 7
VEC_ERR 8
VEC_NOERR 9
VEC_ERR 10
VEC_ERR 11
VEC_ERR 12
VEC_ERR 13
VEC_ERR 14
VEC_NOERR 15
VEC_NOERR 16
VEC_ERR 17
VEC_NOERR 18
VEC_NOERR 19
.irp n, 20,21,22,23,24,25,26,27,28,29,30,31
VEC_NOERR \n
.endr
.irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
VEC_NOERR \n
.endr

/* Saves the rest of the trap frame and calls fn(frame). */
.macro SAVE_AND_CALL fn
	cld /* user code may have set it; the kernel's string functions need it clear */
	pusha
	push %ds
	push %es
	push %fs
	push %gs
	mov $SEL_KDATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	push %esp
	call \fn
	add $4, %esp
.endm

	.global vec128
vec128:
	push $0
	push $TRAP_SYSCALL
	SAVE_AND_CALL syscall_trap
	jmp trap_return

trap_common:
	SAVE_AND_CALL trap_dispatch
	.global trap_return
trap_return:
	pop %gs
	pop %fs
	pop %es
	pop %ds
	popa
	add $8, %esp
	iret

	.data
	.global vec_table
vec_table:
.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long vec\n
.endr
.irp n, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	.long vec\n
.endr
