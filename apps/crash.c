/*
 * Faults on purpose, to show that a user fault kills only its process:
 *   pf    page fault (NULL write)     gp  general protection (privileged insn)
 *   ud    invalid opcode              de  divide by zero
 *   kread read kernel memory          kwrite  write kernel memory
 *   io    an I/O port without a grant
 *   kernel  make the kernel fault (only on a node booted with kfault=1)
 */
#include <stdio.h>
#include <string.h>
#include <qs/sys.h>

static int
crash(const char *kind)
{
	int zero = 0;
	if (strcmp(kind, "pf") == 0)
		*(volatile int *)0 = 1;
	else if (strcmp(kind, "gp") == 0)
		__asm__ volatile("cli");
	else if (strcmp(kind, "ud") == 0)
		__asm__ volatile("ud2");
	else if (strcmp(kind, "de") == 0)
		__asm__ volatile("divl %0" : : "r"(zero), "a"(1), "d"(0));
	else if (strcmp(kind, "kread") == 0)
		return *(volatile int *)0x100000;
	else if (strcmp(kind, "kwrite") == 0)
		*(volatile int *)0x100000 = 0;
	else if (strcmp(kind, "kernel") == 0)
		printf("crash: kernel: %s\n",
		       qs_strerror(qs_syscall(SYS_KERNEL_FAULT, 0, 0, 0, 0, 0)));
	else if (strcmp(kind, "io") == 0)
		__asm__ volatile("outb %%al, $0x80" : : "a"(0));
	else
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc != 2 || crash(argv[1]) < 0) {
		printf("crash: usage: crash pf|gp|ud|de\n");
		return 2;
	}
	printf("crash: %s did not fault\n", argv[1]);
	return 1;
}
