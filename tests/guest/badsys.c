/*
 * Calls every syscall with bad pointers, lengths and arguments. Each must
 * come back with the documented error; the kernel must survive all of them.
 */
#include <stdio.h>
#include <qs/sys.h>
#include "check.h"

#define KERNEL_ADDR 0x00100000u  /* the kernel image */
#define UNMAPPED 0x90000000u     /* between heap and stack: never mapped */
#define NEAR_TOP 0xEFFFF000u     /* a range from here runs off user space */

typedef struct {
	const char *what;
	int num;
	uint32_t a, b, c, d;
	int expect;
} bad_call_t;

static const char rodata_buf[64] = "read-only";
static char ok_buf[64];
static const char nul_args[QS_ARGS_MAX]; /* 512 empty arguments */
static volatile uint32_t word;
static const char too_long_name[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

void main_entry_marker(void);

#define U(x) ((uint32_t)(uintptr_t)(x))

static const bad_call_t calls[] = {
	{ "spawn NULL name", SYS_SPAWN, 0, 0, 0, 0, QS_EFAULT },
	{ "spawn kernel name", SYS_SPAWN, KERNEL_ADDR, 0, 0, 0, QS_EFAULT },
	{ "spawn overlong name", SYS_SPAWN, U(too_long_name), 0, 0, 0, QS_ENOENT },
	{ "spawn unknown program", SYS_SPAWN, U("nosuch"), 0, 0, 0, QS_ENOENT },
	{ "spawn bad args pointer", SYS_SPAWN, U("hello"), UNMAPPED, 8, 0, QS_EFAULT },
	{ "spawn huge args length", SYS_SPAWN, U("hello"), U(ok_buf), 0x7FFFFFFF, 0, QS_E2BIG },
	{ "spawn too many arguments", SYS_SPAWN, U("hello"), U(nul_args), sizeof(nul_args), 0, QS_E2BIG },
	{ "read with a bad timeout", SYS_CONS_READ, U(ok_buf), 8, (uint32_t)-5, 0, QS_EINVAL },
	{ "spawn bad flags", SYS_SPAWN, U("hello"), 0, 0, 0x80, QS_EINVAL },
	{ "wait kernel status", SYS_WAIT, (uint32_t)-1, KERNEL_ADDR, 0, 0, QS_EFAULT },
	{ "wait pid 0", SYS_WAIT, 0, 0, 0, 0, QS_EINVAL },
	{ "wait bad flags", SYS_WAIT, (uint32_t)-1, 0, 0x10, 0, QS_EINVAL },
	{ "wait not a child", SYS_WAIT, 99999, 0, 0, 0, QS_ECHILD },
	{ "kill no such pid", SYS_KILL, 99999, 0, 0, 0, QS_ENOENT },
	{ "kill negative pid", SYS_KILL, (uint32_t)-5, 0, 0, 0, QS_ENOENT },
	{ "kill init", SYS_KILL, 1, 0, 0, 0, QS_EPERM },
	{ "thread kernel entry", SYS_THREAD_CREATE, KERNEL_ADDR, 0, U(ok_buf) + 64, 4, QS_EFAULT },
	{ "thread kernel stack", SYS_THREAD_CREATE, U(main_entry_marker), 0, KERNEL_ADDR, 4, QS_EFAULT },
	{ "thread NULL stack", SYS_THREAD_CREATE, U(main_entry_marker), 0, 0, 4, QS_EFAULT },
	{ "thread bad priority", SYS_THREAD_CREATE, U(main_entry_marker), 0, U(ok_buf) + 64, 99, QS_EINVAL },
	{ "sleep negative", SYS_SLEEP, (uint32_t)-1, 0, 0, 0, QS_EINVAL },
	{ "sbrk huge", SYS_SBRK, 0x7FFFFFFF, 0, 0, 0, QS_ENOMEM },
	{ "sbrk below start", SYS_SBRK, (uint32_t)-0x7FFFFFFF, 0, 0, 0, QS_EINVAL },
	{ "write NULL", SYS_CONS_WRITE, 0, 10, 0, 0, QS_EFAULT },
	{ "write kernel", SYS_CONS_WRITE, KERNEL_ADDR, 10, 0, 0, QS_EFAULT },
	{ "write huge length", SYS_CONS_WRITE, U(ok_buf), 0xFFFFFFFF, 0, 0, QS_EFAULT },
	{ "write off user space", SYS_CONS_WRITE, NEAR_TOP, 0x2000, 0, 0, QS_EFAULT },
	{ "read into read-only", SYS_CONS_READ, U(rodata_buf), 8, 0, 0, QS_EFAULT },
	{ "read into kernel", SYS_CONS_READ, KERNEL_ADDR, 8, 0, 0, QS_EFAULT },
	{ "read unmapped", SYS_CONS_READ, UNMAPPED, 8, 0, 0, QS_EFAULT },
	{ "futex wait misaligned", SYS_FUTEX_WAIT, U(&word) + 1, 0, 0, 0, QS_EINVAL },
	{ "futex wait kernel", SYS_FUTEX_WAIT, KERNEL_ADDR, 0, 0, 0, QS_EFAULT },
	{ "futex wait changed value", SYS_FUTEX_WAIT, U(&word), 1, 0, 0, QS_EAGAIN },
	{ "futex wait bad timeout", SYS_FUTEX_WAIT, U(&word), 0, (uint32_t)-2, 0, QS_EINVAL },
	{ "futex wake kernel", SYS_FUTEX_WAKE, KERNEL_ADDR, 1, 0, 0, QS_EFAULT },
	{ "proc list kernel", SYS_PROC_LIST, KERNEL_ADDR, 4, 0, 0, QS_EFAULT },
	{ "proc list huge count", SYS_PROC_LIST, U(ok_buf), 0x10000000, 0, 0, QS_EFAULT },
	{ "mem info kernel", SYS_MEM_INFO, KERNEL_ADDR, 0, 0, 0, QS_EFAULT },
	{ "node info NULL", SYS_NODE_INFO, 0, 0, 0, 0, QS_EFAULT },
	{ "priority out of range", SYS_SET_PRIORITY, 0, 99, 0, 0, QS_EINVAL },
	{ "priority no such thread", SYS_SET_PRIORITY, 99999, 3, 0, 0, QS_ENOENT },
	{ "priority of init's thread", SYS_SET_PRIORITY, 1, 3, 0, 0, QS_EPERM },
	{ "resume no such pid", SYS_RESUME, 99999, 0, 0, 0, QS_ENOENT },
	{ "resume init", SYS_RESUME, 1, 0, 0, 0, QS_EPERM },
	{ "grant from non-init", SYS_GRANT, 1, QS_GRANT_IO, 0x80, 1, QS_EPERM },
	{ "mmio map without grant", SYS_MMIO_MAP, 0xB8000, 4096, 0, 0, QS_EPERM },
	{ "dma alloc without grant", SYS_DMA_ALLOC, 1, U(&word), 0, 0, QS_EPERM },
	{ "irq wait without grant", SYS_IRQ_WAIT, 8, 0, 0, 0, QS_EPERM },
	{ "irq wait bad line", SYS_IRQ_WAIT, 99, 0, 0, 0, QS_EPERM },
	{ "boot arg kernel key", SYS_BOOT_ARG, KERNEL_ADDR, U(ok_buf), 8, 0, QS_EFAULT },
	{ "boot arg kernel buffer", SYS_BOOT_ARG, U("node"), KERNEL_ADDR, 8, 0, QS_EFAULT },
	{ "boot arg unknown key", SYS_BOOT_ARG, U("nosuchkey"), U(ok_buf), 8, 0, QS_ENOENT },
	{ "module read kernel name", SYS_MODULE_READ, KERNEL_ADDR, 0, U(ok_buf), 8, QS_EFAULT },
	{ "module read kernel buffer", SYS_MODULE_READ, U("hello"), 0, KERNEL_ADDR, 8, QS_EFAULT },
	{ "module read unknown", SYS_MODULE_READ, U("nosuch"), 0, U(ok_buf), 8, QS_ENOENT },
	{ "kernel fault injection is off", SYS_KERNEL_FAULT, 0, 0, 0, 0, QS_EPERM },
	{ "sq create NULL name", SYS_SQ_CREATE, 0, 0, 0, 0, QS_EFAULT },
	{ "sq create kernel name", SYS_SQ_CREATE, KERNEL_ADDR, 0, 0, 0, QS_EFAULT },
	{ "sq create empty name", SYS_SQ_CREATE, U(""), 0, 0, 0, QS_EINVAL },
	{ "sq create overlong name", SYS_SQ_CREATE, U(too_long_name), 0, 0, 0, QS_EINVAL },
	{ "sq create huge depth", SYS_SQ_CREATE, U("badsys.q"), 100000, 0, 0, QS_EINVAL },
	{ "sq destroy unknown queue", SYS_SQ_DESTROY, 99999, 0, 0, 0, QS_ENOENT },
	{ "sq lookup kernel name", SYS_SQ_LOOKUP, KERNEL_ADDR, 0, 0, 0, QS_EFAULT },
	{ "sq lookup unknown name", SYS_SQ_LOOKUP, U("no.such.queue"), 0, 0, 0, QS_ENOENT },
	{ "sq offer unknown queue", SYS_SQ_OFFER, 99999, U(main_entry_marker), U(ok_buf) + 64, U(ok_buf), QS_ENOENT },
	{ "sq reply without a request", SYS_SQ_REPLY, U(ok_buf), 0, 0, 0, QS_EINVAL },
	{ "sq call unknown queue", SYS_SQ_CALL, 99999, U(ok_buf), U(ok_buf), 64, QS_ENOENT },
	{ "sq call kernel message", SYS_SQ_CALL, 99999, KERNEL_ADDR, U(ok_buf), 64, QS_EFAULT },
	{ "sq call kernel reply buffer", SYS_SQ_CALL, 99999, U(ok_buf), KERNEL_ADDR, 64, QS_EFAULT },
	{ "sq call tiny reply buffer", SYS_SQ_CALL, 99999, U(ok_buf), U(ok_buf), 8, QS_EFAULT },
	{ "sq call huge reply buffer", SYS_SQ_CALL, 99999, U(ok_buf), U(ok_buf), 0x7FFFFFFF, QS_EFAULT },
	{ "sq send unmapped message", SYS_SQ_SEND, 99999, UNMAPPED, 0, 0, QS_EFAULT },
	{ "sq wait kernel buffer", SYS_SQ_WAIT, 0, KERNEL_ADDR, 64, 0, QS_EFAULT },
	{ "sq wait unknown request", SYS_SQ_WAIT, 12345, U(ok_buf), 64, 0, QS_ENOENT },
	{ "sq wait bad timeout", SYS_SQ_WAIT, 0, U(ok_buf), 64, (uint32_t)-7, QS_EINVAL },
	{ "sq list kernel buffer", SYS_SQ_LIST, KERNEL_ADDR, 4, 0, 0, QS_EFAULT },
	{ "tx get kernel buffer", SYS_TX_GET, KERNEL_ADDR, 0, 0, 0, QS_EFAULT },
	{ "tx set a forged id", SYS_TX_SET, 0xDEAD, 0xBEEF, 0, 0, QS_EPERM },
	{ "syscall 0", 0, 0, 0, 0, 0, QS_ENOSYS },
	{ "syscall 999", 999, 0, 0, 0, 0, QS_ENOSYS },
	{ "syscall -1", -1, 0, 0, 0, 0, QS_ENOSYS },
};

void
main_entry_marker(void)
{
}

int
main(void)
{
	char failure[128];

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		const bad_call_t *c = &calls[i];
		int r = qs_syscall(c->num, c->a, c->b, c->c, c->d, 0);
		snprintf(failure, sizeof(failure), "%s: got %d, expected %d",
			 c->what, r, c->expect);
		check(r == c->expect, r == c->expect ? c->what : failure);
	}
	return check_summary("badsys");
}
