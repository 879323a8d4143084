/* Processes: an address space, threads, an exit status and device grants. */
#ifndef KERNEL_PROC_H
#define KERNEL_PROC_H

#include "kernel.h"
#include "sched.h"

#define USER_STACK_TOP 0xC0000000u
#define USER_STACK_SIZE (128 * 1024)
#define USER_DMA_BASE 0xD0000000u  /* DMA pages are mapped from here up */
#define USER_MMIO_BASE 0xE0000000u /* device memory is mapped from here up */
#define USER_HEAP_MAX 0xB0000000u  /* sbrk never crosses into the stack area */
#define MAX_MMIO_GRANTS 8
#define MAX_PCI_GRANTS 4
#define INIT_PID QS_INIT_PID

/* A job: a program a system process started, and every process it starts
 * in turn; they share one set of limits (job.c). */
typedef struct job {
	int id;           /* the pid of the process that started it */
	struct job *up;   /* the job of the process that started it */
	list_t procs;     /* its live processes */
	uint32_t live;    /* its live processes, and the live jobs they started */
	uint32_t requests; /* asynchronous requests not yet collected */
	uint32_t kbytes;  /* bytes of kernel memory its requests and replies hold */
	uint32_t limit[QS_LIMIT_COUNT];
} job_t;

typedef struct proc {
	int pid;
	int parent;
	char name[QS_NAME_MAX];
	int state; /* QS_PROC_* */
	uint32_t pd;
	int pages;
	list_t threads;
	int nthreads;
	uint32_t brk_base, brk;
	int exit_status;
	uint32_t ticks;
	list_t link;       /* all processes */
	wq_t child_exit;   /* the process's threads waiting for a child */
	/* device grants, given by init */
	uint8_t *io_bitmap; /* 8 KiB TSS bitmap, or NULL */
	struct {
		uint32_t base, len;
	} mmio[MAX_MMIO_GRANTS];
	int nmmio;
	uint32_t mmio_next;
	uint32_t dma_quota, dma_used, dma_next;
	struct {
		uint32_t id;  /* vendor << 16 | device */
		uint32_t bdf; /* where it is: bus << 8 | slot << 3 | function */
	} pci[MAX_PCI_GRANTS]; /* devices it drives (`grant pci`) */
	int npci;
	/* service queues and transactions */
	list_t sq_reqs;   /* requests this process made that are not yet reaped */
	list_t sq_deferred; /* requests it serves and put aside (SYS_SQ_DEFER) */
	wq_t sq_done;     /* its threads waiting for a completion */
	uint32_t sq_async; /* outstanding asynchronous requests (its limit) */
	uint64_t default_tx;
	uint64_t own_tx[8];   /* transactions it began that have not ended */
	uint64_t held_tx[16]; /* transactions received in requests, newest last */
	uint32_t held_next;
	/* authority (authority.c) */
	uint32_t rights;  /* QS_RIGHT_* */
	uint32_t src_flags; /* QS_MSG_SRC_*: stamped on its requests */
	bool system;      /* init gave it a right, a name or a device */
	job_t *job;       /* NULL once it has ended */
	list_t job_link;
	uint32_t nqueues; /* queues it owns */
	uint32_t refused;
	struct sq_req *death_notice; /* kept from its birth for its death */
} proc_t;

int proc_spawn(const char *name, const char *args, uint32_t arglen,
	       uint32_t flags, int parent, uint32_t rights);
proc_t *proc_find(int pid);
/* Is p `ancestor` itself or one of its descendants? */
bool proc_descends(proc_t *p, proc_t *ancestor);
/* Ends a process: frees its threads and memory, leaves a zombie. */
void proc_exit(proc_t *p, int status);
int proc_kill(int pid);
int proc_wait(int pid, uint32_t user_status, uint32_t flags);
int proc_resume(int pid);
int proc_sbrk(int32_t incr);
int proc_list(uint32_t user_buf, uint32_t max);
/* The live process for which fn(p, arg) is true, or NULL. */
proc_t *proc_search(bool (*fn)(proc_t *p, uint64_t arg), uint64_t arg);
void proc_fault(trap_frame_t *f);
int proc_thread_create(uint32_t entry, uint32_t arg, uint32_t stack_top,
		       int priority);
void proc_thread_exit(void);
void proc_enter(proc_t *p); /* address space and I/O bitmap of p */

/* authority.c: rights, reserved names, limits */
#define RESERVE_PAGES 1024 /* free pages only the kernel may take */
void authority_init_proc(proc_t *p);
void authority_default_limits(uint32_t limit[QS_LIMIT_COUNT]);
/* Counts a refusal and returns err. */
int authority_refuse(proc_t *p, int err);
/* 0 if p holds the right, else QS_EPERM (counted). */
int authority_need(proc_t *p, uint32_t right);
/* 0 if `used` + `more` is within the limit `kind` of p's job, else
 * QS_ELIMIT (counted). */
int authority_limit(proc_t *p, int kind, uint32_t used, uint32_t more);
/* Can a process have `pages` more without touching the kernel's reserve? */
bool authority_pages_free(uint32_t pages);
/* 0 if p may create a queue of that name: QS_EINVAL, QS_EPERM. */
int authority_may_create(proc_t *p, const char *name);
int authority_grant(proc_t *p, int kind, uint32_t base, uint32_t len);
/* Is the name reserved on this node (a system server's, or kernel.*)? */
bool authority_reserved(const char *name);
uint32_t authority_refused(void);

/* job.c: jobs and what they hold */
/* Puts p, which parent (NULL for init) is starting with about `pages`
 * pages, in its job: the parent's, or a new one if the parent is a system
 * process. QS_ELIMIT if that passes a limit of the parent's job. */
int job_join(proc_t *p, proc_t *parent, uint32_t pages);
/* p has ended: it leaves its job, which ends with its last process. */
void job_leave(proc_t *p);
/* Pages, threads or queues (QS_LIMIT_*) its processes hold, summed. */
uint32_t job_held(const job_t *j, int kind);

/* grant.c: device grants */
int grant_give(int pid, int kind, uint32_t base, uint32_t len);
int grant_mmio_map(uint32_t phys, uint32_t len);
int grant_dma_alloc(uint32_t pages, uint32_t user_phys);
int grant_irq_wait(int irq, int32_t timeout_ms);
int grant_pci_read(uint32_t id, uint32_t reg, uint32_t user_out);
bool grant_irq(int irq); /* an IRQ a process owns: true if handled */
void grant_release(proc_t *p);

/* pci.c: where a device's memory BAR is; its configuration; bus mastering */
int pci_find(uint16_t vendor, uint16_t device); /* bdf, or -1 */
int pci_bar(uint16_t vendor, uint16_t device, uint32_t bar, uint32_t *base,
	    uint32_t *size);
uint32_t pci_config(uint32_t bdf, uint32_t reg);
void pci_master(uint32_t bdf, bool on);
bool pci_is_master(uint32_t bdf);

/* sq.c: service queues and the transaction stamp */
void sq_proc_exit(proc_t *p);
/* Sets aside what p's death notice will need; frees it if unused. */
int sq_proc_new(proc_t *p);
void sq_proc_free(proc_t *p);
void sq_thread_gone(thread_t *t);
int sq_tm_pid(void); /* the owner of QS_DEATH_QUEUE: the transaction manager */

/* uaccess: copies between the kernel and the current process */
bool user_ok(uint32_t va, uint32_t len, bool write);
int copy_from_user(void *dst, uint32_t src, uint32_t len);
int copy_to_user(uint32_t dst, const void *src, uint32_t len);
/* len bytes from src (kernel memory, or the current process's, checked) to
 * dst in address space pd; QS_EFAULT at a page that is not the process's
 * to write, or (in another space) a frame the kernel's identity map does
 * not reach; what came before it may be written. */
int copy_to_space(uint32_t pd, uint32_t dst, const void *src, uint32_t len);
int copy_str_from_user(char *dst, uint32_t src, uint32_t max);

#endif
