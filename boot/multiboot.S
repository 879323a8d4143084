/*
 * Multiboot v1 header and the kernel's entry point. GRUB enters in 32-bit
 * protected mode with paging off, eax = magic, ebx = multiboot info.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* page-align modules, give us the memory map */

	.section .multiboot
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .bss
	.align 16
boot_stack:
	.skip 16384
boot_stack_top:

	.section .text
	.global _start
_start:
	cli
	mov $boot_stack_top, %esp
	xor %ebp, %ebp
	push %ebx
	push %eax
	call kmain
1:	hlt
	jmp 1b
