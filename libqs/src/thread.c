/*
 * Threads, mutexes and condition variables. The mutex is the classic
 * three-state futex lock, so an uncontended lock never enters the kernel.
 */
#include <stdlib.h>
#include <qs/sys.h>
#include <qs/thread.h>

#define THREAD_STACK (64 * 1024)

struct qs_thread {
	qs_thread_fn fn;
	void *arg;
	void *ret;
	int tid;
	volatile uint32_t done;
	char *stack;
};

/*
 * The thread's last steps use no stack: once `done` is set the joiner may
 * free the stack this thread is standing on.
 */
void
qs_thread_finish(qs_thread_t *t, void *ret)
{
	t->ret = ret;
	__asm__ volatile("movl $1, (%%ebx)\n"
			 "int $0x80\n"
			 "mov %2, %%eax\n"
			 "int $0x80\n"
			 :
			 : "a"(SYS_FUTEX_WAKE), "b"(&t->done), "i"(SYS_THREAD_EXIT),
			   "c"(0x7FFFFFFF)
			 : "memory");
	__builtin_unreachable();
}

static void __attribute__((noreturn))
thread_trampoline(qs_thread_t *t)
{
	qs_thread_finish(t, t->fn(t->arg));
}

qs_thread_t *
qs_thread_create(qs_thread_fn fn, void *arg)
{
	qs_thread_t *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->stack = malloc(THREAD_STACK);
	if (!t->stack) {
		free(t);
		return NULL;
	}
	t->fn = fn;
	t->arg = arg;
	int tid = qs_syscall(SYS_THREAD_CREATE, (uint32_t)thread_trampoline,
			     (uint32_t)t, (uint32_t)(t->stack + THREAD_STACK),
			     QS_PRIO_DEFAULT, 0);
	if (tid < 0) {
		free(t->stack);
		free(t);
		return NULL;
	}
	t->tid = tid;
	return t;
}

void *
qs_thread_join(qs_thread_t *t)
{
	while (!t->done)
		qs_futex_wait(&t->done, 0, -1);
	void *ret = t->ret;
	free(t->stack);
	free(t);
	return ret;
}

static uint32_t
cas(volatile uint32_t *p, uint32_t expected, uint32_t desired)
{
	__atomic_compare_exchange_n(p, &expected, desired, 0, __ATOMIC_SEQ_CST,
				    __ATOMIC_SEQ_CST);
	return expected;
}

void
qs_mutex_lock(qs_mutex_t *m)
{
	uint32_t c = cas(&m->state, 0, 1);
	if (c == 0)
		return;
	if (c != 2)
		c = __atomic_exchange_n(&m->state, 2, __ATOMIC_SEQ_CST);
	while (c != 0) {
		qs_futex_wait(&m->state, 2, -1);
		c = __atomic_exchange_n(&m->state, 2, __ATOMIC_SEQ_CST);
	}
}

int
qs_mutex_trylock(qs_mutex_t *m)
{
	return cas(&m->state, 0, 1) == 0 ? 0 : QS_EBUSY;
}

void
qs_mutex_unlock(qs_mutex_t *m)
{
	if (__atomic_fetch_sub(&m->state, 1, __ATOMIC_SEQ_CST) != 1) {
		m->state = 0;
		qs_futex_wake(&m->state, 1);
	}
}

int
qs_cond_timedwait(qs_cond_t *c, qs_mutex_t *m, int32_t timeout_ms)
{
	uint32_t seq = c->seq;
	qs_mutex_unlock(m);
	int r = qs_futex_wait(&c->seq, seq, timeout_ms);
	qs_mutex_lock(m);
	return r == QS_ETIMEDOUT ? QS_ETIMEDOUT : 0;
}

void
qs_cond_wait(qs_cond_t *c, qs_mutex_t *m)
{
	qs_cond_timedwait(c, m, -1);
}

void
qs_cond_signal(qs_cond_t *c)
{
	__atomic_fetch_add(&c->seq, 1, __ATOMIC_SEQ_CST);
	qs_futex_wake(&c->seq, 1);
}

void
qs_cond_broadcast(qs_cond_t *c)
{
	__atomic_fetch_add(&c->seq, 1, __ATOMIC_SEQ_CST);
	qs_futex_wake(&c->seq, 0x7FFFFFFF);
}
