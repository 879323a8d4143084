/*
 * The syscall table. Each handler checks its arguments, including every user
 * pointer, and returns a value >= 0 or a qs_err_t.
 */
#include "kernel.h"
#include "boot.h"
#include "console.h"
#include "heap.h"
#include "pmm.h"
#include "proc.h"
#include "tx.h"
#include "x86.h"

int futex_wait(uint32_t addr, uint32_t expected, int32_t timeout_ms);
int futex_wake(uint32_t addr, uint32_t count);

#define IO_CHUNK 256

static int
sys_spawn(uint32_t uname, uint32_t uargs, uint32_t arglen, uint32_t flags)
{
	char name[QS_NAME_MAX];
	char args[QS_ARGS_MAX];
	int r = copy_str_from_user(name, uname, sizeof(name));

	if (r < 0)
		return r == QS_E2BIG ? QS_ENOENT : r;
	if (flags & ~QS_SPAWN_SUSPENDED)
		return QS_EINVAL;
	if (arglen > QS_ARGS_MAX)
		return QS_E2BIG;
	if (arglen && (r = copy_from_user(args, uargs, arglen)) < 0)
		return r;
	return proc_spawn(name, args, arglen, flags, current->proc->pid);
}

static int
sys_cons_write(uint32_t buf, uint32_t len)
{
	if (!user_ok(buf, len, false))
		return QS_EFAULT;
	console_write((const char *)buf, len);
	return (int)len;
}

static int
sys_cons_read(uint32_t buf, uint32_t len, int32_t timeout_ms)
{
	char kbuf[IO_CHUNK];
	if (!user_ok(buf, len, true))
		return QS_EFAULT;
	if (len == 0)
		return 0;
	if (timeout_ms < -1)
		return QS_EINVAL;
	int n = console_read(kbuf, len < IO_CHUNK ? len : IO_CHUNK, timeout_ms);
	if (n < 0)
		return n;
	return copy_to_user(buf, kbuf, (uint32_t)n) < 0 ? QS_EFAULT : n;
}

static int
sys_sleep(int32_t ms)
{
	if (ms < 0)
		return QS_EINVAL;
	sched_block(NULL, ms);
	return 0;
}

static int
sys_mem_info(uint32_t uinfo)
{
	qs_mem_info_t info = { pmm_total_pages(), pmm_free_pages(), PAGE_SIZE,
			       heap_bytes_used() };
	return copy_to_user(uinfo, &info, sizeof(info));
}

static int
sys_node_info(uint32_t uinfo)
{
	qs_node_info_t info = { boot_node_id(), boot_incarnation(), TIMER_HZ };
	return copy_to_user(uinfo, &info, sizeof(info));
}

static int
sys_set_priority(int tid, int priority)
{
	thread_t *t = tid == 0 ? current : thread_find(tid);
	if (priority < QS_PRIO_MIN || priority > QS_PRIO_MAX)
		return QS_EINVAL;
	if (!t)
		return QS_ENOENT;
	if (t->proc != current->proc)
		return QS_EPERM;
	sched_set_priority(t, priority);
	return 0;
}

static int
sys_boot_arg(uint32_t ukey, uint32_t ubuf, uint32_t len)
{
	char key[QS_NAME_MAX], val[IO_CHUNK];
	int r = copy_str_from_user(key, ukey, sizeof(key));
	if (r < 0)
		return r == QS_E2BIG ? QS_ENOENT : r;
	if (!user_ok(ubuf, len, true))
		return QS_EFAULT;
	r = boot_arg(key, val, sizeof(val));
	if (r < 0)
		return r;
	uint32_t n = strlen(val) + 1;
	if (len) {
		if (n > len) {
			n = len;
			val[n - 1] = 0;
		}
		copy_to_user(ubuf, val, n);
	}
	return r;
}

static int
sys_module_read(uint32_t uname, uint32_t offset, uint32_t ubuf, uint32_t len)
{
	char name[QS_NAME_MAX];
	int r = copy_str_from_user(name, uname, sizeof(name));
	if (r < 0)
		return r == QS_E2BIG ? QS_ENOENT : r;
	if (!user_ok(ubuf, len, true))
		return QS_EFAULT;
	return module_read(name, offset, ubuf, len);
}

static void __attribute__((noreturn))
sys_halt(void)
{
	klog("halted by pid %d", current->proc->pid);
	qs_outw(0x604, 0x2000);  /* QEMU's ACPI power-off on the pc machine */
	qs_outw(0xB004, 0x2000); /* older QEMU and Bochs */
	panic("halt: power-off did not take");
}

/*
 * Fault injection for the tests of the kernel's own fault path. Only the
 * host can turn it on (boot argument kfault=1), never a process.
 */
static volatile uint32_t kfault_addr = 4; /* in the unmapped page 0 */

static int
sys_kernel_fault(void)
{
	char on[4];
	if (boot_arg("kfault", on, sizeof(on)) < 0 || strcmp(on, "1") != 0)
		return QS_EPERM;
	klog("pid %d asked for a kernel fault", current->proc->pid);
	return *(volatile int *)kfault_addr;
}

static int
syscall_run(trap_frame_t *f)
{
	uint32_t a = f->ebx, b = f->ecx, c = f->edx, d = f->esi;

	switch (f->eax) {
	case SYS_EXIT: proc_exit(current->proc, (int)(a & 0xFF)); return 0;
	case SYS_SPAWN: return sys_spawn(a, b, c, d);
	case SYS_WAIT: return proc_wait((int)a, b, c);
	case SYS_KILL: return proc_kill((int)a);
	case SYS_THREAD_CREATE: return proc_thread_create(a, b, c, (int)d);
	case SYS_THREAD_EXIT: proc_thread_exit(); return 0;
	case SYS_YIELD: sched_yield(); return 0;
	case SYS_SLEEP: return sys_sleep((int32_t)a);
	case SYS_SBRK: return proc_sbrk((int32_t)a);
	case SYS_CONS_WRITE: return sys_cons_write(a, b);
	case SYS_CONS_READ: return sys_cons_read(a, b, (int32_t)c);
	case SYS_FUTEX_WAIT: return futex_wait(a, b, (int32_t)c);
	case SYS_FUTEX_WAKE: return futex_wake(a, b);
	case SYS_PROC_LIST: return proc_list(a, b);
	case SYS_MEM_INFO: return sys_mem_info(a);
	case SYS_UPTIME: return (int)(timer_ms() & 0x7FFFFFFF);
	case SYS_HALT: sys_halt();
	case SYS_NODE_INFO: return sys_node_info(a);
	case SYS_SET_PRIORITY: return sys_set_priority((int)a, (int)b);
	case SYS_GETPID: return current->proc->pid;
	case SYS_GETTID: return current->tid;
	case SYS_RESUME: return proc_resume((int)a);
	case SYS_GRANT: return grant_give((int)a, (int)b, c, d);
	case SYS_MMIO_MAP: return grant_mmio_map(a, b);
	case SYS_DMA_ALLOC: return grant_dma_alloc(a, b);
	case SYS_IRQ_WAIT: return grant_irq_wait((int)a, (int32_t)b);
	case SYS_BOOT_ARG: return sys_boot_arg(a, b, c);
	case SYS_MODULE_READ: return sys_module_read(a, b, c, d);
	case SYS_KERNEL_FAULT: return sys_kernel_fault();
	}
	return QS_ENOSYS;
}

void
syscall_dispatch(trap_frame_t *f)
{
	if ((f->eax >= SYS_SQ_CREATE && f->eax <= SYS_SQ_LIST) ||
	    (f->eax >= SYS_SQ_DEFER && f->eax <= SYS_SQ_INJECT))
		sq_syscall(f); /* it may turn the return into an upcall */
	else if (f->eax >= SYS_TX_GET && f->eax <= SYS_TX_END)
		tx_syscall(f);
	else
		f->eax = (uint32_t)syscall_run(f);
}
