/* Syscall stubs: int $0x80 with the number in eax, arguments in ebx..edi. */
#include <string.h>
#include <qs/sys.h>

int
qs_syscall(int num, uint32_t a, uint32_t b, uint32_t c, uint32_t d, uint32_t e)
{
	int r;
	__asm__ volatile("int $0x80"
			 : "=a"(r)
			 : "a"(num), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
			 : "memory");
	return r;
}

#define SC0(n) qs_syscall(n, 0, 0, 0, 0, 0)
#define SC1(n, a) qs_syscall(n, (uint32_t)(a), 0, 0, 0, 0)
#define SC2(n, a, b) qs_syscall(n, (uint32_t)(a), (uint32_t)(b), 0, 0, 0)
#define SC3(n, a, b, c)                                                      \
	qs_syscall(n, (uint32_t)(a), (uint32_t)(b), (uint32_t)(c), 0, 0)
#define SC4(n, a, b, c, d)                                                   \
	qs_syscall(n, (uint32_t)(a), (uint32_t)(b), (uint32_t)(c),           \
		   (uint32_t)(d), 0)
#define SC5(n, a, b, c, d, e)                                                \
	qs_syscall(n, (uint32_t)(a), (uint32_t)(b), (uint32_t)(c),           \
		   (uint32_t)(d), (uint32_t)(e))

void
qs_exit(int status)
{
	SC1(SYS_EXIT, status);
	for (;;)
		;
}

int
qs_spawn(const char *name, const char *const *argv, uint32_t flags)
{
	return qs_spawn_rights(name, argv, flags, 0);
}

int
qs_spawn_rights(const char *name, const char *const *argv, uint32_t flags,
		uint32_t rights)
{
	char block[QS_ARGS_MAX];
	size_t len = 0;

	for (int i = 0; argv && argv[i]; i++) {
		size_t n = strlen(argv[i]) + 1;
		if (n > sizeof(block) - len)
			return QS_E2BIG;
		memcpy(block + len, argv[i], n);
		len += n;
	}
	return SC5(SYS_SPAWN, name, block, len, flags, rights);
}

int qs_waitpid(int pid, int *status, uint32_t flags) { return SC3(SYS_WAIT, pid, status, flags); }
int qs_kill(int pid) { return SC1(SYS_KILL, pid); }
int qs_resume(int pid) { return SC1(SYS_RESUME, pid); }
int qs_getpid(void) { return SC0(SYS_GETPID); }
int qs_gettid(void) { return SC0(SYS_GETTID); }
int qs_yield(void) { return SC0(SYS_YIELD); }
int qs_sleep(uint32_t ms) { return SC1(SYS_SLEEP, ms); }
uint32_t qs_uptime_ms(void) { return (uint32_t)SC0(SYS_UPTIME); }
int qs_set_priority(int tid, int prio) { return SC2(SYS_SET_PRIORITY, tid, prio); }
/* The kernel takes at most what its console buffer has room for. */
int
qs_cons_write(const void *buf, size_t len)
{
	const char *p = buf;
	size_t done = 0;
	while (done < len) {
		int n = SC2(SYS_CONS_WRITE, p + done, len - done);
		if (n <= 0)
			return done ? (int)done : n;
		done += (size_t)n;
	}
	return (int)done;
}
int qs_cons_read(void *buf, size_t len, int32_t timeout_ms) { return SC3(SYS_CONS_READ, buf, len, timeout_ms); }
int qs_proc_list(qs_proc_info_t *buf, int max) { return SC2(SYS_PROC_LIST, buf, max); }
int qs_mem_info(qs_mem_info_t *info) { return SC1(SYS_MEM_INFO, info); }
int qs_node_info(qs_node_info_t *info) { return SC1(SYS_NODE_INFO, info); }
int qs_boot_arg(const char *key, char *buf, size_t len) { return SC3(SYS_BOOT_ARG, key, buf, len); }
int qs_grant(int pid, int kind, uint32_t base, uint32_t len) { return SC4(SYS_GRANT, pid, kind, base, len); }
int qs_irq_wait(int irq, int32_t timeout_ms) { return SC2(SYS_IRQ_WAIT, irq, timeout_ms); }

int
qs_module_read(const char *name, uint32_t offset, void *buf, size_t len)
{
	return SC4(SYS_MODULE_READ, name, offset, buf, len);
}

int
qs_futex_wait(volatile uint32_t *addr, uint32_t expected, int32_t timeout_ms)
{
	return SC3(SYS_FUTEX_WAIT, addr, expected, timeout_ms);
}

int
qs_futex_wake(volatile uint32_t *addr, uint32_t count)
{
	return SC2(SYS_FUTEX_WAKE, addr, count);
}

int
qs_halt(void)
{
	return SC0(SYS_HALT);
}

int qs_limits(int pid, qs_limits_t *out) { return SC2(SYS_LIMITS, pid, out); }
int qs_name_holder(const char *name) { return SC1(SYS_NAME_HOLDER, name); }
int qs_net_key(uint8_t key[QS_NET_KEY_LEN]) { return SC1(SYS_NET_KEY, key); }

void *
qs_mmio_map(uint32_t phys, uint32_t len)
{
	int r = SC2(SYS_MMIO_MAP, phys, len);
	return QS_IS_ERR(r) ? NULL : (void *)r;
}

void *
qs_dma_alloc(uint32_t pages, uint32_t *phys)
{
	int r = SC2(SYS_DMA_ALLOC, pages, phys);
	return QS_IS_ERR(r) ? NULL : (void *)r;
}

void *
qs_sbrk(intptr_t increment)
{
	int r = SC1(SYS_SBRK, increment);
	return QS_IS_ERR(r) ? (void *)-1 : (void *)r;
}

const char *
qs_strerror(int err)
{
	static const char *const msgs[] = {
		"success", "invalid argument", "bad address", "out of memory",
		"no such entry", "not permitted", "no such system call",
		"not a child", "timed out", "try again", "not an executable",
		"argument list too long", "no such process", "busy",
		"already exists", "server died", "queue destroyed",
		"node unreachable", "transaction aborted", "I/O error",
		"no space left", "not a directory", "is a directory",
		"directory not empty", "name too long", "bad handle",
		"over a limit of the process",
	};
	_Static_assert(sizeof msgs / sizeof msgs[0] == 1 - QS_ERR_MIN,
	               "one message per error");
	if (err > 0 || err < QS_ERR_MIN)
		return "unknown error";
	return msgs[-err];
}

static const char *const right_names[] = { "halt", "prio", "kill", "kill-any",
					   "raw-net", "admin", "console", "svc" };
static const char *const limit_names[QS_LIMIT_COUNT] = {
	"pages", "threads", "queues", "requests", "kbytes", "procs"
};
_Static_assert(sizeof right_names / sizeof right_names[0] ==
		       __builtin_ctz(QS_RIGHTS_ALL + 1),
	       "a name for every right");

const char *
qs_right_name(int bit)
{
	return bit >= 0 && bit < (int)(sizeof right_names / sizeof right_names[0])
		       ? right_names[bit]
		       : NULL;
}

int
qs_right_parse(const char *list, uint32_t *out)
{
	*out = 0;
	while (*list) {
		const char *comma = strchr(list, ',');
		size_t n = comma ? (size_t)(comma - list) : strlen(list);
		int bit = -1;
		for (int i = 0; qs_right_name(i); i++)
			if (strlen(right_names[i]) == n &&
			    strncmp(list, right_names[i], n) == 0)
				bit = i;
		if (bit < 0)
			return QS_EINVAL;
		*out |= 1u << bit;
		list += n + (list[n] == ',');
	}
	return 0;
}

const char *
qs_limit_name(int kind)
{
	return kind >= 0 && kind < QS_LIMIT_COUNT ? limit_names[kind] : NULL;
}

int
qs_limit_parse(const char *name)
{
	for (int i = 0; i < QS_LIMIT_COUNT; i++)
		if (strcmp(name, limit_names[i]) == 0)
			return i;
	return QS_EINVAL;
}
