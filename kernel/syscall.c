/*
 * The syscall table: one entry per SYS_* number, one handler per syscall.
 * Each handler decodes its arguments from the trap frame and checks them,
 * including every user pointer, before it acts; it returns a value >= 0 or
 * a qs_err_t. The service-queue and transaction handlers live with their
 * state (sq.c, sq_server.c, sq_net.c, tx.c); the rest are here.
 */
#include "kernel.h"
#include "boot.h"
#include "console.h"
#include "heap.h"
#include "pmm.h"
#include "proc.h"
#include "syscall.h"
#include "x86.h"

int futex_wait(uint32_t addr, uint32_t expected, int32_t timeout_ms);
int futex_wake(uint32_t addr, uint32_t count);

#define IO_CHUNK 256

/* ---- processes and threads --------------------------------------------- */

static int
sys_exit(trap_frame_t *f)
{
	proc_exit(current->proc, (int)(f->ebx & 0xFF));
	return 0;
}

static int
sys_spawn(trap_frame_t *f)
{
	uint32_t uname = f->ebx, uargs = f->ecx, arglen = f->edx, flags = f->esi;
	uint32_t rights = f->edi;
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
	if (rights & ~current->proc->rights)
		return authority_refuse(current->proc, QS_EPERM);
	return proc_spawn(name, args, arglen, flags, current->proc->pid, rights);
}

static int
sys_wait(trap_frame_t *f)
{
	return proc_wait((int)f->ebx, f->ecx, f->edx);
}

static int
sys_kill(trap_frame_t *f)
{
	return proc_kill((int)f->ebx);
}

static int
sys_resume(trap_frame_t *f)
{
	return proc_resume((int)f->ebx);
}

static int
sys_sbrk(trap_frame_t *f)
{
	return proc_sbrk((int32_t)f->ebx);
}

static int
sys_proc_list(trap_frame_t *f)
{
	return proc_list(f->ebx, f->ecx);
}

static int
sys_getpid(trap_frame_t *f)
{
	(void)f;
	return current->proc->pid;
}

static int
sys_thread_create(trap_frame_t *f)
{
	return proc_thread_create(f->ebx, f->ecx, f->edx, (int)f->esi);
}

static int
sys_thread_exit(trap_frame_t *f)
{
	(void)f;
	proc_thread_exit();
	return 0;
}

static int
sys_gettid(trap_frame_t *f)
{
	(void)f;
	return current->tid;
}

static int
sys_yield(trap_frame_t *f)
{
	(void)f;
	sched_yield();
	return 0;
}

static int
sys_set_priority(trap_frame_t *f)
{
	int tid = (int)f->ebx, priority = (int)f->ecx;
	thread_t *t = tid == 0 ? current : thread_find(tid);
	if (priority < QS_PRIO_MIN || priority > QS_PRIO_MAX)
		return QS_EINVAL;
	if (!t)
		return QS_ENOENT;
	if (t->proc != current->proc)
		return authority_refuse(current->proc, QS_EPERM);
	if (priority > QS_PRIO_SERVER) {
		int r = authority_need(current->proc, QS_RIGHT_PRIO);
		if (r < 0)
			return r;
	}
	sched_set_priority(t, priority);
	return 0;
}

static int
sys_futex_wait(trap_frame_t *f)
{
	return futex_wait(f->ebx, f->ecx, (int32_t)f->edx);
}

static int
sys_futex_wake(trap_frame_t *f)
{
	return futex_wake(f->ebx, f->ecx);
}

/* ---- console and time -------------------------------------------------- */

static int
sys_cons_write(trap_frame_t *f)
{
	uint32_t buf = f->ebx, len = f->ecx;
	if (len > CONSOLE_WRITE_MAX)
		len = CONSOLE_WRITE_MAX; /* the caller writes the rest next */
	if (!user_ok(buf, len, false))
		return QS_EFAULT;
	return console_write_user(buf, len);
}

static int
sys_cons_read(trap_frame_t *f)
{
	uint32_t buf = f->ebx, len = f->ecx;
	int32_t timeout_ms = (int32_t)f->edx;
	char kbuf[IO_CHUNK];
	if (!user_ok(buf, len, true))
		return QS_EFAULT;
	if (len == 0)
		return 0;
	if (timeout_ms < -1)
		return QS_EINVAL;
	int r = authority_need(current->proc, QS_RIGHT_CONSOLE);
	if (r < 0)
		return r; /* the user's keystrokes are the shell's */
	int n = console_read(kbuf, len < IO_CHUNK ? len : IO_CHUNK, timeout_ms);
	if (n < 0)
		return n;
	return copy_to_user(buf, kbuf, (uint32_t)n) < 0 ? QS_EFAULT : n;
}

static int
sys_sleep(trap_frame_t *f)
{
	int32_t ms = (int32_t)f->ebx;
	if (ms < 0)
		return QS_EINVAL;
	sched_block(NULL, ms);
	return 0;
}

static int
sys_uptime(trap_frame_t *f)
{
	(void)f;
	return (int)(timer_ms() & 0x7FFFFFFF);
}

/* ---- the machine ------------------------------------------------------- */

static int
sys_mem_info(trap_frame_t *f)
{
	qs_mem_info_t info = { pmm_total_pages(), pmm_free_pages(), PAGE_SIZE,
			       heap_bytes_used(), authority_refused() };
	return copy_to_user(f->ebx, &info, sizeof(info));
}

static int
sys_node_info(trap_frame_t *f)
{
	qs_node_info_t info = { boot_node_id(), boot_incarnation(), TIMER_HZ,
				sched_idle_tsc };
	return copy_to_user(f->ebx, &info, sizeof(info));
}

static int
sys_halt(trap_frame_t *f)
{
	(void)f;
	int r = authority_need(current->proc, QS_RIGHT_HALT);
	if (r < 0)
		return r;
	klog("halted by pid %d", current->proc->pid);
	console_write_polled("", 0); /* what is buffered, before power-off */
	qs_outw(0x604, 0x2000);  /* QEMU's ACPI power-off on the pc machine */
	qs_outw(0xB004, 0x2000); /* older QEMU and Bochs */
	panic("halt: power-off did not take");
}

static int
sys_boot_arg(trap_frame_t *f)
{
	uint32_t ukey = f->ebx, ubuf = f->ecx, len = f->edx;
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
sys_module_read(trap_frame_t *f)
{
	uint32_t uname = f->ebx, offset = f->ecx, ubuf = f->edx, len = f->esi;
	char name[QS_NAME_MAX];
	int r = copy_str_from_user(name, uname, sizeof(name));
	if (r < 0)
		return r == QS_E2BIG ? QS_ENOENT : r;
	if (!user_ok(ubuf, len, true))
		return QS_EFAULT;
	return module_read(name, offset, ubuf, len);
}

/*
 * Fault injection for the tests of the kernel's own fault path. Only the
 * host can turn it on (boot argument kfault=1), never a process.
 */
static volatile uint32_t kfault_addr = 4; /* in the unmapped page 0 */

static int
sys_kernel_fault(trap_frame_t *f)
{
	char on[4];
	(void)f;
	if (boot_arg("kfault", on, sizeof(on)) < 0 || strcmp(on, "1") != 0)
		return QS_EPERM;
	klog("pid %d asked for a kernel fault", current->proc->pid);
	return *(volatile int *)kfault_addr;
}

/* ---- device grants (grant.c) ------------------------------------------- */

static int
sys_grant(trap_frame_t *f)
{
	return grant_give((int)f->ebx, (int)f->ecx, f->edx, f->esi);
}

static int
sys_mmio_map(trap_frame_t *f)
{
	return grant_mmio_map(f->ebx, f->ecx);
}

static int
sys_dma_alloc(trap_frame_t *f)
{
	return grant_dma_alloc(f->ebx, f->ecx);
}

static int
sys_irq_wait(trap_frame_t *f)
{
	return grant_irq_wait((int)f->ebx, (int32_t)f->ecx);
}

static int
sys_pci_read(trap_frame_t *f)
{
	return grant_pci_read(f->ebx, f->ecx, f->edx);
}

/* ---- the table --------------------------------------------------------- */

typedef struct {
	int (*fn)(trap_frame_t *f);
	const char *name; /* for the kernel's fault report */
} syscall_t;

/* Sized by the ABI, so that a number past SYS_COUNT cannot be filled in. */
static const syscall_t syscalls[SYS_COUNT] = {
	[SYS_EXIT] = { sys_exit, "exit" },
	[SYS_SPAWN] = { sys_spawn, "spawn" },
	[SYS_WAIT] = { sys_wait, "wait" },
	[SYS_KILL] = { sys_kill, "kill" },
	[SYS_THREAD_CREATE] = { sys_thread_create, "thread_create" },
	[SYS_THREAD_EXIT] = { sys_thread_exit, "thread_exit" },
	[SYS_YIELD] = { sys_yield, "yield" },
	[SYS_SLEEP] = { sys_sleep, "sleep" },
	[SYS_SBRK] = { sys_sbrk, "sbrk" },
	[SYS_CONS_WRITE] = { sys_cons_write, "cons_write" },
	[SYS_CONS_READ] = { sys_cons_read, "cons_read" },
	[SYS_FUTEX_WAIT] = { sys_futex_wait, "futex_wait" },
	[SYS_FUTEX_WAKE] = { sys_futex_wake, "futex_wake" },
	[SYS_PROC_LIST] = { sys_proc_list, "proc_list" },
	[SYS_MEM_INFO] = { sys_mem_info, "mem_info" },
	[SYS_UPTIME] = { sys_uptime, "uptime" },
	[SYS_HALT] = { sys_halt, "halt" },
	[SYS_NODE_INFO] = { sys_node_info, "node_info" },
	[SYS_SET_PRIORITY] = { sys_set_priority, "set_priority" },
	[SYS_GETPID] = { sys_getpid, "getpid" },
	[SYS_GETTID] = { sys_gettid, "gettid" },
	[SYS_RESUME] = { sys_resume, "resume" },
	[SYS_GRANT] = { sys_grant, "grant" },
	[SYS_MMIO_MAP] = { sys_mmio_map, "mmio_map" },
	[SYS_DMA_ALLOC] = { sys_dma_alloc, "dma_alloc" },
	[SYS_IRQ_WAIT] = { sys_irq_wait, "irq_wait" },
	[SYS_BOOT_ARG] = { sys_boot_arg, "boot_arg" },
	[SYS_MODULE_READ] = { sys_module_read, "module_read" },
	[SYS_KERNEL_FAULT] = { sys_kernel_fault, "kernel_fault" },
	[SYS_SQ_CREATE] = { sys_sq_create, "sq_create" },
	[SYS_SQ_DESTROY] = { sys_sq_destroy, "sq_destroy" },
	[SYS_SQ_LOOKUP] = { sys_sq_lookup, "sq_lookup" },
	[SYS_SQ_OFFER] = { sys_sq_offer, "sq_offer" },
	[SYS_SQ_REPLY] = { sys_sq_reply, "sq_reply" },
	[SYS_SQ_CALL] = { sys_sq_call, "sq_call" },
	[SYS_SQ_SEND] = { sys_sq_send, "sq_send" },
	[SYS_SQ_WAIT] = { sys_sq_wait, "sq_wait" },
	[SYS_SQ_LIST] = { sys_sq_list, "sq_list" },
	[SYS_TX_GET] = { sys_tx_get, "tx_get" },
	[SYS_TX_SET] = { sys_tx_set, "tx_set" },
	[SYS_TX_BEGIN] = { sys_tx_begin, "tx_begin" },
	[SYS_TX_OWNER] = { sys_tx_owner, "tx_owner" },
	[SYS_TX_END] = { sys_tx_end, "tx_end" },
	[SYS_SQ_DEFER] = { sys_sq_defer, "sq_defer" },
	[SYS_SQ_ANSWER] = { sys_sq_answer, "sq_answer" },
	[SYS_SQ_PROXY] = { sys_sq_proxy, "sq_proxy" },
	[SYS_SQ_INJECT] = { sys_sq_inject, "sq_inject" },
	[SYS_SQ_ADMIT] = { sys_sq_admit, "sq_admit" },
	[SYS_LIMITS] = { sys_limits, "limits" },
	[SYS_NAME_HOLDER] = { sys_name_holder, "name_holder" },
	[SYS_PCI_READ] = { sys_pci_read, "pci_read" },
	[SYS_NET_KEY] = { sys_net_key, "net_key" },
	[SYS_TX_ALIVE] = { sys_tx_alive, "tx_alive" },
};

static const syscall_t *
syscall_entry(uint32_t nr)
{
	if (nr >= ARRAY_LEN(syscalls) || !syscalls[nr].fn)
		return NULL;
	return &syscalls[nr];
}

void
syscall_trap(trap_frame_t *f)
{
	const syscall_t *s = syscall_entry(f->eax);
	f->eax = s ? (uint32_t)s->fn(f) : (uint32_t)QS_ENOSYS;
	if (sched_need_resched())
		sched_yield(); /* the tick asked, or a wake-up outranks us */
}

const char *
syscall_name(const trap_frame_t *f)
{
	const syscall_t *s = syscall_entry(f->eax);
	return f->trapno == TRAP_SYSCALL && s ? s->name : NULL;
}
