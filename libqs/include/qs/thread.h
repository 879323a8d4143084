/* Threads, mutexes and condition variables, built on the kernel's futexes. */
#ifndef QS_THREAD_H
#define QS_THREAD_H

#include <stdint.h>

typedef struct qs_thread qs_thread_t;
typedef void *(*qs_thread_fn)(void *arg);

/* Starts fn(arg) in a new thread of this process; NULL on error. */
qs_thread_t *qs_thread_create(qs_thread_fn fn, void *arg);
/* Waits for the thread to end, frees it and returns what fn returned. */
void *qs_thread_join(qs_thread_t *t);
/* Ends the calling thread, which must be t, as if its function returned. */
void qs_thread_finish(qs_thread_t *t, void *ret) __attribute__((noreturn));

typedef struct {
	volatile uint32_t state; /* 0 free, 1 locked, 2 locked with waiters */
} qs_mutex_t;
#define QS_MUTEX_INIT { 0 }

void qs_mutex_lock(qs_mutex_t *m);
int qs_mutex_trylock(qs_mutex_t *m); /* 0 when taken */
void qs_mutex_unlock(qs_mutex_t *m);

typedef struct {
	volatile uint32_t seq;
} qs_cond_t;
#define QS_COND_INIT { 0 }

void qs_cond_wait(qs_cond_t *c, qs_mutex_t *m);
/* Returns QS_ETIMEDOUT if nothing signalled within timeout_ms. */
int qs_cond_timedwait(qs_cond_t *c, qs_mutex_t *m, int32_t timeout_ms);
void qs_cond_signal(qs_cond_t *c);
void qs_cond_broadcast(qs_cond_t *c);

#endif
