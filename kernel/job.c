/*
 * Jobs (docs/security.md, "Limits"): a program that a system process (init,
 * the shell, a server) starts is a job, and so is every process that program
 * starts in turn. A job's processes share one set of limits, so a program
 * cannot multiply its limits by starting children, nor escape them by leaving
 * orphans: an orphan goes to init but stays in its job. A job lives while one
 * of its processes does, and while it lives it counts as one process of the
 * job that started it (the shell's, for a program the user runs).
 *
 * What a job holds:
 *   - pages, threads and queues: summed over its processes when one of them
 *     asks for more (rare calls: sbrk, spawn, thread and queue creation);
 *   - asynchronous requests and the kernel memory of requests and replies:
 *     counted in the job as they come and go, since every send checks them;
 *   - processes: its own, and the live jobs they started.
 */
#include "kernel.h"
#include "heap.h"
#include "proc.h"

/* The process starts a job of its own rather than joining its parent's. */
static bool
starts_job(const proc_t *parent)
{
	return !parent || parent->system || parent->pid == INIT_PID;
}

int
job_join(proc_t *p, proc_t *parent, uint32_t pages)
{
	job_t *up = parent ? parent->job : NULL; /* where p counts */
	int r = 0;

	if (up && parent->pid != INIT_PID) {
		r = authority_limit(parent, QS_LIMIT_PROCS, up->live, 1);
		if (r == 0 && !starts_job(parent))
			r = authority_limit(parent, QS_LIMIT_PAGES,
					    job_held(up, QS_LIMIT_PAGES), pages);
		if (r == 0 && !starts_job(parent))
			r = authority_limit(parent, QS_LIMIT_THREADS,
					    job_held(up, QS_LIMIT_THREADS), 1);
		if (r < 0)
			return r;
	}
	job_t *j = up;
	if (starts_job(parent)) {
		if (!(j = kzalloc(sizeof(*j))))
			return QS_ENOMEM;
		j->id = p->pid;
		j->up = up;
		list_init(&j->procs);
		authority_default_limits(j->limit);
		if (up)
			up->live++;
	}
	j->live++;
	p->job = j;
	list_add_tail(&j->procs, &p->job_link);
	return 0;
}

void
job_leave(proc_t *p)
{
	job_t *j = p->job;

	list_del(&p->job_link);
	p->job = NULL;
	while (j && --j->live == 0) {
		job_t *up = j->up;
		kassert(list_empty(&j->procs) && j->requests == 0 &&
			j->kbytes == 0);
		kfree(j);
		j = up;
	}
}

/* What the job's processes hold of QS_LIMIT_PAGES, _THREADS or _QUEUES. */
uint32_t
job_held(const job_t *j, int kind)
{
	uint32_t n = 0;
	for (const list_t *l = j->procs.next; l != &j->procs; l = l->next) {
		const proc_t *p = list_entry(l, proc_t, job_link);
		n += kind == QS_LIMIT_PAGES     ? (uint32_t)p->pages
		     : kind == QS_LIMIT_THREADS ? (uint32_t)p->nthreads
						: p->nqueues;
	}
	return n;
}
