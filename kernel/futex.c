/*
 * Futexes: the one blocking primitive libqs builds mutexes, condition
 * variables and thread joins on. A waiter is keyed by its process and the
 * address it waits on.
 */
#include "kernel.h"
#include "proc.h"

static wq_t futex_waiters = WQ_INIT(futex_waiters);

int
futex_wait(uint32_t addr, uint32_t expected, int32_t timeout_ms)
{
	uint32_t v;

	/* below -1 is no timeout at all, not "for ever" (as cons_read, sq_wait) */
	if ((addr & 3) || timeout_ms < -1)
		return QS_EINVAL;
	if (copy_from_user(&v, addr, 4) < 0)
		return QS_EFAULT;
	if (v != expected)
		return QS_EAGAIN;
	current->wait_key = addr;
	return sched_block(&futex_waiters, timeout_ms);
}

int
futex_wake(uint32_t addr, uint32_t count)
{
	int n = 0;

	if (addr & 3)
		return QS_EINVAL;
	if (!user_ok(addr, 4, false))
		return QS_EFAULT;
	for (list_t *l = futex_waiters.waiters.next;
	     l != &futex_waiters.waiters && (uint32_t)n < count;) {
		thread_t *t = list_entry(l, thread_t, run_link);
		l = l->next;
		if (t->proc == current->proc && t->wait_key == addr) {
			sched_wake(t, 0);
			n++;
		}
	}
	return n;
}
