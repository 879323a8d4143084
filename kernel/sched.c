/*
 * Preemptive priority round robin on one CPU. The kernel itself is not
 * preemptible: it runs with interrupts off, so a switch happens only where
 * the kernel calls schedule() (blocking, yielding, or on the way out of a
 * trap when the tick has asked for one).
 */
#include "kernel.h"
#include "heap.h"
#include "pmm.h"
#include "proc.h"
#include "sched.h"
#include "x86.h"

void switch_context(uint32_t *save_esp, uint32_t new_esp);
void thread_entry(void);
void sched_reap(void);

thread_t *current;
static thread_t idle_thread;
static list_t ready[QS_PRIO_MAX + 1];
/* A bit per priority whose ready list may hold a thread: set as one is
 * added, cleared when the list is found or left empty. */
static uint32_t ready_mask;
static list_t sleepers = LIST_INIT(sleepers);
static list_t dead = LIST_INIT(dead); /* threads whose stack is still in use */
static list_t all_threads = LIST_INIT(all_threads);
static int next_tid = 1;
static int quantum;
bool sched_resched; /* a switch is due on the way out of the kernel */

void
sched_init(void)
{
	for (int i = 0; i <= QS_PRIO_MAX; i++)
		list_init(&ready[i]);
	idle_thread.tid = 0;
	idle_thread.state = T_RUNNING;
	idle_thread.priority = -1;
	list_init(&idle_thread.run_link);
	list_init(&idle_thread.sleep_link);
	current = &idle_thread;
}

/* Builds a kernel stack that "resumes" into user mode at eip with user_esp. */
thread_t *
thread_new(struct proc *p, uint32_t eip, uint32_t user_esp, int priority)
{
	thread_t *t = kzalloc(sizeof(*t));
	if (!t)
		return NULL;
	t->kstack = pmm_alloc_contig(KSTACK_PAGES);
	if (!t->kstack) {
		kfree(t);
		return NULL;
	}
	uint32_t top = t->kstack + KSTACK_PAGES * PAGE_SIZE;
	trap_frame_t *f = (trap_frame_t *)(top - sizeof(trap_frame_t));
	memset(f, 0, sizeof(*f));
	f->ds = f->es = f->fs = f->gs = SEL_UDATA;
	f->cs = SEL_UCODE;
	f->user_ss = SEL_UDATA;
	f->eip = eip;
	f->user_esp = user_esp;
	f->eflags = EFLAGS_IF;
	uint32_t *sp = (uint32_t *)f;
	*--sp = (uint32_t)thread_entry;
	for (int i = 0; i < 4; i++)
		*--sp = 0; /* ebp, ebx, esi, edi */
	t->esp = (uint32_t)sp;
	t->tid = next_tid++;
	t->proc = p;
	t->priority = priority;
	t->state = T_BLOCKED; /* not runnable until sched_ready */
	list_init(&t->run_link);
	list_init(&t->sleep_link);
	list_init(&t->proc_link);
	list_init(&t->sq_idle_link);
	list_init(&t->sq_member_link);
	list_add_tail(&all_threads, &t->all_link);
	return t;
}

/* The thread must not be running; frees its stack now or after the switch. */
void
thread_free(thread_t *t)
{
	sched_remove(t);
	list_del(&t->proc_link);
	list_del(&t->all_link);
	t->state = T_DEAD;
	if (t == current) {
		list_add_tail(&dead, &t->run_link);
		return;
	}
	pmm_free_contig(t->kstack, KSTACK_PAGES);
	kfree(t);
}

void
sched_reap(void)
{
	while (!list_empty(&dead)) {
		thread_t *t = list_entry(dead.next, thread_t, run_link);
		if (t == current)
			break;
		list_del(&t->run_link);
		pmm_free_contig(t->kstack, KSTACK_PAGES);
		kfree(t);
	}
}

thread_t *
thread_find(int tid)
{
	for (list_t *l = all_threads.next; l != &all_threads; l = l->next) {
		thread_t *t = list_entry(l, thread_t, all_link);
		if (t->tid == tid && t->state != T_DEAD)
			return t;
	}
	return NULL;
}

void
sched_ready(thread_t *t)
{
	t->state = T_READY;
	list_add_tail(&ready[t->priority], &t->run_link);
	ready_mask |= 1u << t->priority;
	if (t->priority > current->priority)
		sched_resched = true;
}

/* Takes t off its ready queue (it is on one). */
static inline void
unready(thread_t *t)
{
	list_del(&t->run_link);
	if (list_empty(&ready[t->priority]))
		ready_mask &= ~(1u << t->priority);
}

static thread_t *
pick_next(void)
{
	for (int p = QS_PRIO_MAX; p >= 0; p--) {
		if (!list_empty(&ready[p])) {
			thread_t *t = list_entry(ready[p].next, thread_t, run_link);
			unready(t);
			return t;
		}
		ready_mask &= ~(1u << p);
	}
	return &idle_thread;
}

/* Runs next, which is not the current thread and is on no list. */
static void
switch_to(thread_t *next)
{
	thread_t *prev = current;

	next->state = T_RUNNING;
	current = next;
	if (next->proc) {
		if (next->proc != prev->proc)
			proc_enter(next->proc);
		tss_set_kernel_stack(next->kstack + KSTACK_PAGES * PAGE_SIZE);
	}
	switch_context(&prev->esp, next->esp);
	if (!list_empty(&dead))
		sched_reap();
}

/* The current thread has already been queued, blocked or killed. */
void
schedule(void)
{
	thread_t *next = pick_next();

	sched_resched = false;
	quantum = QUANTUM_TICKS;
	if (next == current) {
		current->state = T_RUNNING;
		return;
	}
	switch_to(next);
}

void
sched_yield(void)
{
	if (current != &idle_thread)
		sched_ready(current);
	schedule();
}

int
sched_block(wq_t *wq, int32_t timeout_ms)
{
	current->state = T_BLOCKED;
	current->wq = wq;
	current->wait_result = 0;
	if (wq)
		list_add_tail(&wq->waiters, &current->run_link);
	if (timeout_ms >= 0) {
		uint64_t t = (uint64_t)timeout_ms * TIMER_HZ / 1000;
		current->wake_tick = timer_ticks() + (t ? t : 1);
		list_add_tail(&sleepers, &current->sleep_link);
	}
	schedule();
	return current->wait_result;
}

/* Is a thread of priority above prio ready? */
static inline __attribute__((always_inline)) bool
higher_ready(int prio)
{
	for (uint32_t m = ready_mask & ~((2u << prio) - 1); m; m &= m - 1) {
		int p = __builtin_ctz(m);
		if (!list_empty(&ready[p]))
			return true;
		ready_mask &= ~(1u << p);
	}
	return false;
}

bool
sched_runs_next(const thread_t *t)
{
	return !higher_ready(t->priority);
}

int
sched_block_to(wq_t *wq, thread_t *next)
{
	if (!next)
		return sched_block(wq, -1);
	current->state = T_BLOCKED;
	current->wq = wq;
	current->wait_result = 0;
	if (wq)
		list_add_tail(&wq->waiters, &current->run_link);
	if (next->state == T_BLOCKED) { /* woken here */
		sched_remove(next);
		next->wait_result = 0;
	} else {
		unready(next);
	}
	if (higher_ready(next->priority)) {
		sched_ready(next);
		schedule();
	} else {
		sched_resched = quantum <= 0; /* nothing higher is ready: the tick's */
		switch_to(next);
	}
	return current->wait_result;
}

void
sched_remove(thread_t *t)
{
	if (!list_empty(&t->run_link)) /* a ready or wait queue */
		list_del(&t->run_link);
	if (!list_empty(&t->sleep_link)) /* the timeout list */
		list_del(&t->sleep_link);
	t->wq = NULL;
}

void
sched_wake(thread_t *t, int result)
{
	if (t->state != T_BLOCKED)
		return;
	sched_remove(t);
	t->wait_result = result;
	sched_ready(t);
}

int
sched_wake_all(wq_t *wq)
{
	int n = 0;
	while (!list_empty(&wq->waiters)) {
		sched_wake(list_entry(wq->waiters.next, thread_t, run_link), 0);
		n++;
	}
	return n;
}

void
sched_tick(void)
{
	if (current->proc)
		current->proc->ticks++;
	for (list_t *l = sleepers.next; l != &sleepers;) {
		thread_t *t = list_entry(l, thread_t, sleep_link);
		l = l->next;
		if (timer_ticks() >= t->wake_tick)
			sched_wake(t, QS_ETIMEDOUT);
	}
	if (--quantum <= 0)
		sched_resched = true;
}


void
sched_set_priority(thread_t *t, int priority)
{
	if (t->state == T_READY) {
		list_del(&t->run_link);
		t->priority = priority;
		sched_ready(t);
	} else {
		t->priority = priority;
	}
	sched_resched = true;
}

/* The boot context becomes the idle thread. It halts until an interrupt;
 * sched_idle_end, as the interrupt's handling starts, counts how long. */
uint64_t sched_idle_tsc;
static uint64_t idle_since;

void
sched_idle_end(void)
{
	if (idle_since) {
		sched_idle_tsc += qs_rdtsc() - idle_since;
		idle_since = 0;
	}
}

void
sched_start(void)
{
	for (;;) {
		schedule();
		idle_since = qs_rdtsc();
		sti();
		hlt();
		cli();
		sched_idle_end(); /* woken without an interrupt's handling */
	}
}
