/*
 * Program entry. The kernel leaves [0, argc, argv] on the stack, like a call
 * frame; realign to 16 bytes and hand over to C.
 */
	.text
	.global _start
_start:
	mov 4(%esp), %eax
	mov 8(%esp), %edx
	xor %ebp, %ebp
	and $-16, %esp
	sub $8, %esp
	push %edx
	push %eax
	call qs_libc_start
	hlt
