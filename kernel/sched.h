/* Threads, wait queues and the preemptive priority scheduler. */
#ifndef KERNEL_SCHED_H
#define KERNEL_SCHED_H

#include "kernel.h"
#include "cpu.h"

#define KSTACK_PAGES 2
#define QUANTUM_TICKS 2

typedef struct wq {
	list_t waiters;
} wq_t;
#define WQ_INIT(name) { LIST_INIT((name).waiters) }

typedef enum { T_READY, T_RUNNING, T_BLOCKED, T_DEAD } tstate_t;

struct proc;

typedef struct thread {
	int tid;
	struct proc *proc; /* NULL for the idle thread */
	tstate_t state;
	int priority;
	uint32_t kstack; /* lowest address of the kernel stack */
	uint32_t esp;    /* saved kernel stack pointer while switched out */
	list_t run_link; /* ready queue, wait queue or the dead list */
	list_t proc_link;  /* in its process's thread list */
	list_t all_link;   /* in the list of every thread */
	list_t sleep_link; /* on the timeout list while blocked with one */
	wq_t *wq;
	uint64_t wake_tick;
	int wait_result;
	uint32_t wait_key; /* what the thread waits for, meaning set by the waiter */
	uint64_t tx;       /* current transaction, stamped on every request */
	bool tx_dead;      /* tx aborted, as the TM said: its requests are
	                      refused (tx.c keeps it; one look per request) */
	/* service queues (sq.c): the thread's offer and the request it serves */
	struct sq *sq_q;
	int sq_state;
	uint32_t sq_entry, sq_stack, sq_buf, sq_cap;
	struct sq_req *sq_req;
	uint64_t sq_saved_tx; /* the thread's own transaction during an upcall */
	bool sq_saved_dead;   /* ... and whether it aborted */
	uint32_t sq_upcall_sp; /* the upcall's stack, once started */
	/* the receive buffer its last call's check found writable, while no
	 * memory has been unmapped since (recv_buf_ok, vmm_unmaps) */
	uint32_t rbuf, rbuf_cap, rbuf_unmaps;
	list_t sq_idle_link;  /* in the queue's idle list */
	list_t sq_member_link; /* in the queue's list of offering threads */
} thread_t;

extern thread_t *current;

void sched_init(void);
void sched_start(void) __attribute__((noreturn));
thread_t *thread_new(struct proc *p, uint32_t eip, uint32_t user_esp,
		     int priority);
void thread_free(thread_t *t);
void sched_ready(thread_t *t);
void sched_yield(void);
void schedule(void);
/* Blocks the current thread; returns 0 when woken, QS_ETIMEDOUT on timeout. */
int sched_block(wq_t *wq, int32_t timeout_ms);
/* As sched_block(wq, -1), but wakes next if it is blocked, and runs it at
 * once unless a thread of higher priority is ready: a direct hand-off (the
 * IPC fast path), in the time slice of the thread that blocks. next must be
 * ready or blocked; with next NULL, as sched_block. */
int sched_block_to(wq_t *wq, thread_t *next);
/* Would sched_block_to(..., t) run t at once (no higher thread ready)? */
bool sched_runs_next(const thread_t *t);
void sched_wake(thread_t *t, int result);
int sched_wake_all(wq_t *wq);
void sched_remove(thread_t *t); /* take a thread off every queue */
void sched_tick(void);
/* Halted time so far (rdtsc ticks), for qs_node_info. */
extern uint64_t sched_idle_tsc;
void sched_idle_end(void); /* an interrupt ends the idle halt, if any */
void sched_set_priority(thread_t *t, int priority);
extern bool sched_resched;
/* Is a switch due (the tick's, or a wake-up that outranks the thread)? */
static inline bool
sched_need_resched(void)
{
	return sched_resched;
}
thread_t *thread_find(int tid);

#endif
