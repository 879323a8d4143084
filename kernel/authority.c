/*
 * Authority on a node (docs/security.md): the rights init gives a process,
 * the queue names it reserves for one, and every process's limits.
 *
 *   - Rights are bits (QS_RIGHT_*). A process starts with none; only init
 *     gives them (SYS_GRANT), and nobody passes them on.
 *   - A reserved name can be created as a queue only by the process it is
 *     reserved for. A name that ends in ".PID" (tx.rq.17) is process PID's,
 *     so nobody can take the names a process will make for itself. Names under "kernel." are reserved even when init has
 *     not said for whom. A reservation outlives its holder: init hands the
 *     name to the server it starts in the dead one's place.
 *   - Limits bound what one job (a program and every process it starts,
 *     job.c) holds at once, so that no program can take the node's memory
 *     or tables from the others. Above them, the
 *     kernel keeps RESERVE_PAGES free pages for itself: a process's
 *     allocations fail before the kernel's would.
 *
 * A call refused for a right or a limit is counted with its process.
 */
#include <stdlib.h>
#include "kernel.h"
#include "boot.h"
#include "pmm.h"
#include "proc.h"
#include "syscall.h"

#define NAMES_MAX 64
#define KERNEL_PREFIX "kernel."

static struct {
	char name[QS_NAME_MAX];
	int pid; /* 0: a free slot */
} names[NAMES_MAX];

static const uint32_t limit_default[QS_LIMIT_COUNT] = {
	[QS_LIMIT_PAGES] = 16384, /* 64 MiB: a quarter of a node */
	[QS_LIMIT_THREADS] = 64,
	[QS_LIMIT_QUEUES] = 16,
	[QS_LIMIT_REQUESTS] = QS_SQ_ASYNC_MAX,
	[QS_LIMIT_KBYTES] = 1024,
	[QS_LIMIT_PROCS] = 32,
};

/* What init may raise a limit to: the kernel's own tables' sizes. */
static const uint32_t limit_ceiling[QS_LIMIT_COUNT] = {
	[QS_LIMIT_PAGES] = 1u << 20,
	[QS_LIMIT_THREADS] = 1024,
	[QS_LIMIT_QUEUES] = 1024,
	[QS_LIMIT_REQUESTS] = 4096,
	[QS_LIMIT_KBYTES] = 64 * 1024,
	[QS_LIMIT_PROCS] = 1024,
};

static uint32_t refused_total;

void
authority_default_limits(uint32_t limit[QS_LIMIT_COUNT])
{
	memcpy(limit, limit_default, sizeof(limit_default));
}

void
authority_init_proc(proc_t *p)
{
	p->rights = 0;
	p->system = false;
	p->src_flags = 0;
}

int
authority_refuse(proc_t *p, int err)
{
	p->refused++;
	refused_total++;
	return err;
}

int
authority_need(proc_t *p, uint32_t right)
{
	return (p->rights & right) == right ? 0 : authority_refuse(p, QS_EPERM);
}

int
authority_limit(proc_t *p, int kind, uint32_t used, uint32_t more)
{
	kassert(kind >= 0 && kind < QS_LIMIT_COUNT);
	uint32_t max = p->job->limit[kind];
	if (more > max || used > max - more)
		return authority_refuse(p, QS_ELIMIT);
	return 0;
}

bool
authority_pages_free(uint32_t pages)
{
	uint32_t free = pmm_free_pages();
	return free >= RESERVE_PAGES && pages <= free - RESERVE_PAGES;
}

static int
name_slot(const char *name)
{
	for (int i = 0; i < NAMES_MAX; i++)
		if (names[i].pid && strcmp(names[i].name, name) == 0)
			return i;
	return -1;
}

/* The pid a name of the form "NAME.PID" belongs to, or 0. */
static int
name_pid(const char *name)
{
	const char *dot = strrchr(name, '.');
	int pid = 0;
	if (!dot || !dot[1] || dot == name)
		return 0;
	for (const char *d = dot + 1; *d; d++) {
		if (*d < '0' || *d > '9' || pid > 100000000)
			return 0;
		pid = pid * 10 + (*d - '0');
	}
	return pid;
}

int
authority_may_create(proc_t *p, const char *name)
{
	if (strchr(name, '@'))
		return QS_EINVAL; /* NAME@N names a queue on node N */
	int owner = name_pid(name);
	if (owner && owner != p->pid)
		return authority_refuse(p, QS_EPERM); /* another's own name */
	int i = name_slot(name);
	if (i >= 0)
		return names[i].pid == p->pid ? 0 : authority_refuse(p, QS_EPERM);
	if (strncmp(name, KERNEL_PREFIX, sizeof(KERNEL_PREFIX) - 1) == 0)
		return authority_refuse(p, QS_EPERM);
	return 0;
}

bool
authority_reserved(const char *name)
{
	return name_slot(name) >= 0 ||
	       strncmp(name, KERNEL_PREFIX, sizeof(KERNEL_PREFIX) - 1) == 0;
}

static int
reserve_name(proc_t *p, uint32_t uname)
{
	char name[QS_NAME_MAX];
	int n = copy_str_from_user(name, uname, sizeof(name));
	if (n < 0)
		return n == QS_E2BIG ? QS_ENAMETOOLONG : n;
	if (n == 0 || strchr(name, '@'))
		return QS_EINVAL;
	int i = name_slot(name);
	if (i < 0) {
		for (i = 0; i < NAMES_MAX && names[i].pid; i++)
			;
		if (i == NAMES_MAX)
			return QS_ENOSPC;
		strlcpy(names[i].name, name, sizeof(names[i].name));
	} else {
		proc_t *holder = proc_find(names[i].pid);
		if (holder && holder != p && holder->state != QS_PROC_ZOMBIE)
			return QS_EBUSY; /* its server lives: it keeps its name */
	}
	names[i].pid = p->pid;
	return 0;
}

/* SYS_GRANT of a right, a name or a limit; init has been checked. */
int
authority_grant(proc_t *p, int kind, uint32_t base, uint32_t len)
{
	int r = 0;
	switch (kind) {
	case QS_GRANT_RIGHTS:
		if (base & ~(uint32_t)QS_RIGHTS_ALL)
			return QS_EINVAL;
		p->rights |= base;
		break;
	case QS_GRANT_NAME:
		r = reserve_name(p, base);
		break;
	case QS_GRANT_LIMIT:
		if (base >= QS_LIMIT_COUNT || len > limit_ceiling[base])
			return QS_EINVAL;
		p->job->limit[base] = len; /* its job's, so its children's */
		break;
	default:
		return QS_EINVAL;
	}
	if (r == 0) {
		p->system = true;
		p->src_flags |= QS_MSG_SRC_SYSTEM;
	}
	return r;
}

int
sys_name_holder(trap_frame_t *f)
{
	char name[QS_NAME_MAX];
	int n = copy_str_from_user(name, f->ebx, sizeof(name));
	if (n < 0)
		return n == QS_E2BIG ? QS_ENOENT : n;
	int i = name_slot(name);
	return i < 0 ? QS_ENOENT : names[i].pid;
}

uint32_t
authority_refused(void)
{
	return refused_total;
}

int
sys_limits(trap_frame_t *f)
{
	int pid = (int)f->ebx;
	proc_t *p = pid == 0 ? current->proc : proc_find(pid);
	qs_limits_t l;

	if (!p || p->state == QS_PROC_ZOMBIE)
		return QS_ENOENT;
	const job_t *j = p->job;
	memcpy(l.max, j->limit, sizeof(l.max));
	l.used[QS_LIMIT_PAGES] = job_held(j, QS_LIMIT_PAGES);
	l.used[QS_LIMIT_THREADS] = job_held(j, QS_LIMIT_THREADS);
	l.used[QS_LIMIT_QUEUES] = job_held(j, QS_LIMIT_QUEUES);
	l.used[QS_LIMIT_REQUESTS] = j->requests;
	l.used[QS_LIMIT_KBYTES] = (j->kbytes + 1023) / 1024;
	l.used[QS_LIMIT_PROCS] = j->live;
	l.job = (uint32_t)j->id;
	l.rights = p->rights;
	l.refused = p->refused;
	return copy_to_user(f->ecx, &l, sizeof(l));
}

/*
 * The cluster key (docs/security.md, "The cluster key"): 64 hex digits the
 * host tool gives every node of a cluster (fw_cfg opt/qs/key, a file, so
 * the key is on no command line). Only the communication manager reads it:
 * the process the name kernel.net is reserved for.
 */
int
sys_net_key(trap_frame_t *f)
{
	char hex[2 * QS_NET_KEY_LEN + 2];
	uint8_t key[QS_NET_KEY_LEN];
	int i = name_slot(QS_NET_QUEUE);

	if (i < 0 || names[i].pid != current->proc->pid)
		return authority_refuse(current->proc, QS_EPERM);
	int n = boot_arg("key", hex, sizeof(hex));
	if (n < 0 || n > (int)sizeof(hex) - 1)
		return QS_ENOENT; /* none, or not a key */
	while (n > 0 && (hex[n - 1] == '\n' || hex[n - 1] == ' '))
		n--; /* a key file may end its line */
	if (n != 2 * QS_NET_KEY_LEN || qs_hex_decode(hex, key, sizeof(key)) < 0)
		return QS_ENOENT;
	int r = copy_to_user(f->ebx, key, sizeof(key));
	memset(key, 0, sizeof(key));
	memset(hex, 0, sizeof(hex));
	return r < 0 ? r : QS_NET_KEY_LEN;
}
