/*
 * The kernel/user ABI: syscall numbers, error codes and the structures that
 * cross the boundary. The kernel and libqs both include this one header.
 *
 * Calling convention: int $0x80, number in eax, arguments in ebx ecx edx esi
 * edi, result in eax. A result >= 0 is success; < 0 is one of qs_err_t.
 */
#ifndef QS_ABI_H
#define QS_ABI_H

#include <stdint.h>

typedef enum {
	QS_OK = 0,
	QS_EINVAL = -1,    /* bad argument */
	QS_EFAULT = -2,    /* bad user pointer or length */
	QS_ENOMEM = -3,    /* out of memory */
	QS_ENOENT = -4,    /* no such module, process or thread */
	QS_EPERM = -5,     /* not allowed for this process */
	QS_ENOSYS = -6,    /* no such syscall or server operation */
	QS_ECHILD = -7,    /* not a child of the caller */
	QS_ETIMEDOUT = -8, /* timeout expired */
	QS_EAGAIN = -9,    /* try again (value changed, resource busy) */
	QS_ENOEXEC = -10,  /* module is not a valid i386 ELF executable */
	QS_E2BIG = -11,    /* argument list or buffer too long */
	QS_ESRCH = -12,    /* process is dead or dying */
	QS_EBUSY = -13,    /* resource already granted or in use */
	QS_EEXIST = -14,   /* name already registered */
	QS_ESRVDIED = -15, /* the server died before it answered */
	QS_EQGONE = -16,   /* the service queue was destroyed */
	QS_EUNREACH = -17, /* the queue's node cannot be reached */
	QS_EABORTED = -18, /* the transaction aborted */
	QS_EIO = -19,          /* a device failed */
	QS_ENOSPC = -20,       /* no space left (disk, log, table) */
	QS_ENOTDIR = -21,      /* a path component is not a directory */
	QS_EISDIR = -22,       /* a directory where a file was meant */
	QS_ENOTEMPTY = -23,    /* the directory is not empty */
	QS_ENAMETOOLONG = -24, /* a name or path is too long */
	QS_EBADF = -25,        /* no such handle */
	QS_ELIMIT = -26,       /* one of the process's limits is reached */
	QS_ERR_MIN = -26
} qs_err_t;

/*
 * Results that are addresses (sbrk, mmio_map, dma_alloc) may look negative
 * as ints; an error is only ever one of the few values above.
 */
#define QS_IS_ERR(r) ((uint32_t)(r) >= (uint32_t)QS_ERR_MIN)

enum {
	SYS_EXIT = 1,          /* (status) -> never returns */
	SYS_SPAWN = 2,         /* (name, argbuf, arglen, flags, rights) -> pid;
	                          rights: some of the caller's, passed on */
	SYS_WAIT = 3,          /* (pid or -1, &status, flags) -> pid */
	SYS_KILL = 4,          /* (pid) -> 0 */
	SYS_THREAD_CREATE = 5, /* (entry, arg, stack_top, priority) -> tid */
	SYS_THREAD_EXIT = 6,   /* () -> never returns */
	SYS_YIELD = 7,         /* () -> 0 */
	SYS_SLEEP = 8,         /* (ms) -> 0 */
	SYS_SBRK = 9,          /* (increment) -> old break address */
	SYS_CONS_WRITE = 10,   /* (buf, len) -> len */
	SYS_CONS_READ = 11,    /* (buf, len, timeout_ms or -1) -> bytes read (>= 1);
	                          needs QS_RIGHT_CONSOLE */
	SYS_FUTEX_WAIT = 12,   /* (addr, expected, timeout_ms or -1) -> 0 */
	SYS_FUTEX_WAKE = 13,   /* (addr, count) -> number woken */
	SYS_PROC_LIST = 14,    /* (qs_proc_info_t *, max) -> count */
	SYS_MEM_INFO = 15,     /* (qs_mem_info_t *) -> 0 */
	SYS_UPTIME = 16,       /* () -> milliseconds since boot */
	SYS_HALT = 17,         /* () -> powers the machine off */
	SYS_NODE_INFO = 18,    /* (qs_node_info_t *) -> 0 */
	SYS_SET_PRIORITY = 19, /* (tid or 0 for self, priority) -> 0 */
	SYS_GETPID = 20,       /* () -> pid */
	SYS_GETTID = 21,       /* () -> tid */
	SYS_RESUME = 22,       /* (pid) -> 0: starts a process spawned suspended */
	SYS_GRANT = 23,        /* (pid, kind, base, length) -> 0; init only */
	SYS_MMIO_MAP = 24,     /* (phys, length) -> user address */
	SYS_DMA_ALLOC = 25,    /* (pages, &phys) -> user address */
	SYS_IRQ_WAIT = 26,     /* (irq, timeout_ms or -1) -> interrupts seen */
	SYS_BOOT_ARG = 27,     /* (key, buf, len) -> length of the value */
	SYS_MODULE_READ = 28,  /* (name, offset, buf, len) -> bytes copied */
	SYS_KERNEL_FAULT = 29, /* () -> faults in the kernel, if booted with kfault=1 */
	/* service queues: see "Service queues" below */
	SYS_SQ_CREATE = 30,  /* (name, depth) -> qid */
	SYS_SQ_DESTROY = 31, /* (qid) -> 0; owner only */
	SYS_SQ_LOOKUP = 32,  /* (name) -> qid */
	SYS_SQ_OFFER = 33,   /* (qid, entry, stack_top, buf, cap) -> upcalls */
	SYS_SQ_REPLY = 34,   /* (reply msg) -> the next upcall */
	SYS_SQ_CALL = 35,    /* (qid, msg, reply buf, reply cap) -> status */
	SYS_SQ_SEND = 36,    /* (qid, msg) -> request id; QS_ELIMIT: too many
	                        outstanding (QS_LIMIT_REQUESTS) */
	SYS_SQ_WAIT = 37,    /* (rid or 0, reply buf, reply cap, timeout) -> rid */
	SYS_SQ_LIST = 38,    /* (qs_sq_info_t *, max) -> count */
	SYS_TX_GET = 39,     /* (uint64_t *) -> 0 */
	SYS_TX_SET = 40,     /* (low 32 bits, high 32 bits; 0: the default) -> 0 */
	SYS_TX_BEGIN = 41,   /* (uint64_t *) -> 0: a new transaction, now current */
	SYS_TX_OWNER = 42,   /* (low, high) -> pid of the live owner */
	SYS_TX_END = 43,     /* (low, high, aborted) -> 0: forget it; with
	                        aborted, also refuse requests stamped with it
	                        from now on (QS_EABORTED), and end the calls
	                        waiting under it with QS_EABORTED; the TM only */
	SYS_SQ_DEFER = 44,   /* () -> the next upcall; the request waits for
	                        SYS_SQ_ANSWER */
	SYS_SQ_ANSWER = 45,  /* (rid, reply msg) -> 0: answers a deferred one */
	SYS_SQ_PROXY = 46,   /* (name, node) -> qid; the network agent only */
	SYS_SQ_INJECT = 47,  /* (qid, msg) -> rid; the network agent only */
	SYS_SQ_ADMIT = 48,   /* (qid, pid) -> 0: pid may offer too; owner only */
	SYS_LIMITS = 49,     /* (pid or 0, qs_limits_t *) -> 0 */
	SYS_NAME_HOLDER = 50, /* (name) -> pid the name is reserved for, or
	                         QS_ENOENT (not reserved) */
	SYS_PCI_READ = 51,   /* (vendor << 16 | device, register, uint32_t *)
	                        -> 0: a configuration dword of a device the
	                        caller drives (`grant pci`); QS_EPERM others */
	SYS_NET_KEY = 52,    /* (uint8_t key[QS_NET_KEY_LEN]) -> QS_NET_KEY_LEN:
	                        the cluster key qsnet gave the node; only the
	                        process kernel.net is reserved for (the CM);
	                        QS_ENOENT if the node was given none */
	SYS_TX_ALIVE = 53,   /* (low, high; 0: the caller's current) -> 0, or
	                        QS_EABORTED: the TM said it aborted */
	SYS_COUNT = 54
};
#define QS_NET_KEY_LEN 32 /* bytes; given as 64 hex digits (fw_cfg opt/qs/key) */

/* SYS_SPAWN flags */
#define QS_SPAWN_SUSPENDED 0x1 /* do not run until SYS_RESUME */

/* SYS_WAIT flags */
#define QS_WAIT_NOHANG 0x1 /* return 0 at once if no child has ended */

/* SYS_GRANT kinds */
enum {
	QS_GRANT_IO = 1,   /* I/O ports [base, base+length) */
	QS_GRANT_MMIO = 2, /* physical range [base, base+length) */
	QS_GRANT_DMA = 3,  /* up to `length` pages of DMA memory; base unused */
	QS_GRANT_IRQ = 4,  /* IRQ line `base`; length unused */
	QS_GRANT_PCI = 5,  /* memory BAR `length` of PCI device `base`
	                      (vendor << 16 | device), wherever it is */
	QS_GRANT_RIGHTS = 6, /* the QS_RIGHT_* bits in `base` */
	QS_GRANT_NAME = 7,   /* the queue name at user address `base`: only
	                        this process may create it (see below) */
	QS_GRANT_LIMIT = 8   /* limit QS_LIMIT_* `base` becomes `length` */
};

/*
 * Rights (docs/security.md). Init gives them, from its config, to the
 * processes it starts; every other process has none, unless its parent
 * passed on some of its own (SYS_SPAWN's rights). The kernel checks the first four; a server checks the
 * others against the caller's, which the kernel stamps on every request
 * (qs_msg_hdr_t.src_rights). A process init gave anything (a right, a name,
 * a device) is a system server.
 */
#define QS_RIGHT_HALT 0x01     /* power the node off */
#define QS_RIGHT_PRIO 0x02     /* priorities above QS_PRIO_SERVER */
#define QS_RIGHT_KILL 0x04     /* kill any process that is not a system
                                  server (the shell, for its user) */
#define QS_RIGHT_KILL_ANY 0x08 /* kill any process but init */
#define QS_RIGHT_RAW_NET 0x10  /* the CM: send raw frames */
#define QS_RIGHT_ADMIN 0x20    /* servers' administrative operations
                                  (e.g. resetting a counter) */
#define QS_RIGHT_CONSOLE 0x40  /* read the console's input: the user's
                                  keystrokes (the shell) */
#define QS_RIGHT_SVC 0x80      /* ask init to kill or hang a service it
                                  watches (the shell's svc, for its user) */
#define QS_RIGHTS_ALL 0xFF

#define QS_INIT_PID 1 /* init, the first process */

/*
 * Limits: what one job may hold at once. A job is a program that a system
 * process (init, the shell, a server) started, with every process it
 * starts in turn, orphans included: they share its limits. Every job starts
 * with the defaults; init's config can raise a server's (QS_GRANT_LIMIT).
 * A call that would pass one fails with QS_ELIMIT.
 */
enum {
	QS_LIMIT_PAGES = 0,    /* physical pages: memory and page tables */
	QS_LIMIT_THREADS = 1,  /* live threads */
	QS_LIMIT_QUEUES = 2,   /* service queues its processes own */
	QS_LIMIT_REQUESTS = 3, /* asynchronous requests not yet collected */
	QS_LIMIT_KBYTES = 4,   /* kernel memory of its requests and of their
	                          replies until collected (KiB) */
	QS_LIMIT_PROCS = 5,    /* live processes, and live jobs they started */
	QS_LIMIT_COUNT = 6
};

typedef struct {
	uint32_t max[QS_LIMIT_COUNT];
	uint32_t used[QS_LIMIT_COUNT]; /* by the whole job */
	uint32_t rights; /* QS_RIGHT_* of the process */
	uint32_t refused; /* the process's calls refused for a right (QS_EPERM)
	                     or a limit */
	uint32_t job; /* the job's id: the pid of the process that started it */
} qs_limits_t;

/*
 * Exit status of a process killed by another process or by a fault. Normal
 * exits use 0..255.
 */
#define QS_STATUS_KILLED 0x100
#define QS_STATUS_FAULT 0x200

#define QS_PRIO_MIN 0
#define QS_PRIO_DEFAULT 4
#define QS_PRIO_SERVER 4 /* above this needs QS_RIGHT_PRIO */
#define QS_PRIO_MAX 7

#define QS_NAME_MAX 32  /* module/process name, including the NUL */
#define QS_ARGS_MAX 512 /* argument block: NUL-separated strings */
#define QS_ARGC_MAX 64  /* arguments in the block */

#define QS_USER_BASE 0x40000000u
#define QS_USER_TOP 0xF0000000u

enum { QS_PROC_RUNNING = 1, QS_PROC_SUSPENDED = 2, QS_PROC_ZOMBIE = 3 };

typedef struct {
	int32_t pid;
	int32_t parent;
	int32_t state;   /* QS_PROC_* */
	int32_t threads; /* live threads */
	int32_t pages;   /* physical pages owned: user memory and page tables */
	uint32_t ticks;  /* timer ticks spent running */
	char name[QS_NAME_MAX];
} qs_proc_info_t;

typedef struct {
	uint32_t total_pages;
	uint32_t free_pages;
	uint32_t page_size;
	uint32_t heap_bytes; /* bytes in use by the kernel heap */
	uint32_t refused;    /* calls refused for a right or a limit */
} qs_mem_info_t;

typedef struct {
	uint32_t node_id;
	uint32_t incarnation; /* how many times this node has started (boot
	                         argument "incarnation"; tools/bin/qsnet counts) */
	uint32_t hz;          /* timer frequency */
	uint64_t idle_tsc;    /* time-stamp counter ticks spent halted with
	                         nothing to run: under -icount (make bench),
	                         where rdtsc counts instructions while the CPU
	                         runs, the node's instructions executed are
	                         rdtsc minus this */
} qs_node_info_t;

/*
 * Service queues. A message is a header, up to QS_MSG_INLINE bytes inline,
 * and optionally up to QS_MSG_OOL_MAX bytes out of line, all copied by the
 * kernel. A receive buffer is a qs_msg_t followed by room for the
 * out-of-line part; the kernel sets hdr.ool to where it put it.
 *
 * An offering thread does not return from SYS_SQ_OFFER: each request starts
 * it afresh at `entry(qs_msg_t *request)` on `stack_top`; SYS_SQ_REPLY
 * completes the request and makes the thread idle again. Both return only
 * when the queue goes away (QS_EQGONE) or on a bad argument.
 */
#define QS_MSG_INLINE 4096
#define QS_MSG_OOL_MAX (64 * 1024)
#define QS_SQ_DEPTH_MAX 256   /* undelivered requests a queue holds */
#define QS_SQ_DEPTH_DEFAULT 32
#define QS_SQ_ASYNC_MAX 256   /* a process's outstanding async requests, by
                                 default (QS_LIMIT_REQUESTS) */
#define QS_MSG_TRUNC 0x1      /* flags: the receive buffer was too small */
/*
 * Who sent a request, in its flags: stamped by the sender's kernel (never
 * the sender), carried across nodes by the CMs, and only in requests.
 */
#define QS_MSG_SRC_TM 0x10000     /* its node's TM (it serves QS_DEATH_QUEUE) */
#define QS_MSG_SRC_SYSTEM 0x20000 /* a system server of its node (init
                                     gave it a right, name, device or limit) */
#define QS_MSG_SRC_MASK 0x30000

typedef struct {
	uint32_t rid;      /* request id, unique on the sending node (kernel) */
	uint32_t qid;      /* target queue (kernel) */
	uint64_t txid;     /* transaction id (kernel: the sender's current) */
	uint32_t src_node; /* sending node (kernel) */
	int32_t src_pid;   /* sending process (kernel) */
	uint32_t opcode;   /* what the sender asks for */
	int32_t status;    /* in a reply: the handler's status or a QS_E* */
	uint32_t len;      /* inline bytes in data[] */
	uint32_t ool_len;  /* out-of-line bytes */
	uint32_t ool;      /* address of the out-of-line bytes */
	uint32_t flags;    /* QS_MSG_*; QS_MSG_SRC_* (kernel) */
	uint32_t src_rights; /* the sender's QS_RIGHT_* (kernel; 0 from
	                        another node) */
} qs_msg_hdr_t;

typedef struct {
	qs_msg_hdr_t hdr;
	uint8_t data[QS_MSG_INLINE];
} qs_msg_t;

typedef struct {
	int32_t qid;
	int32_t owner;
	uint32_t idle, busy;  /* offered threads waiting, and in an upcall */
	uint32_t pending;     /* requests not yet delivered */
	uint32_t completed;   /* requests completed since the queue was made */
	uint32_t depth;
	uint32_t node;        /* where it is served (a proxy's is elsewhere) */
	char name[QS_NAME_MAX];
} qs_sq_info_t;

/*
 * The kernel posts one request to this queue, if it exists, for every
 * process that ends: opcode QS_NOTICE_DEATH, payload qs_death_notice_t.
 */
#define QS_DEATH_QUEUE "kernel.deaths"
#define QS_NOTICE_DEATH 1

/*
 * Queues on other nodes. The process that creates QS_NET_QUEUE (the
 * communication manager) becomes the network agent:
 *   - a lookup that misses on this node becomes a request to that queue,
 *     opcode QS_NOTICE_LOOKUP with the name (NUL-terminated) as data; the
 *     answer's status is a queue id (> 0) or an error for the caller;
 *   - SYS_SQ_PROXY makes a local queue entry for a queue served on another
 *     node: requests for it arrive on QS_NET_QUEUE, header intact (hdr.qid is
 *     the proxy's);
 *   - SYS_SQ_INJECT sends an asynchronous request that keeps the message's
 *     txid, src_node and src_pid: a request from another node's client.
 * A lookup of "NAME@N" asks node N only.
 */
#define QS_NET_QUEUE "kernel.net"
#define QS_NOTICE_LOOKUP 2

typedef struct {
	int32_t pid;
	int32_t status; /* as SYS_WAIT reports it */
	uint64_t txid;  /* the process's default transaction */
	char name[QS_NAME_MAX];
} qs_death_notice_t;

/* A transaction id: node (16 bits), node incarnation (16), counter (32). */
#define QS_TX(node, inc, n)                                                  \
	(((uint64_t)(node) << 48) | ((uint64_t)((inc) & 0xFFFF) << 32) |      \
	 (uint32_t)(n))
#define QS_TX_NODE(tx) ((uint32_t)((tx) >> 48))

#endif
