/* Threads, mutexes and condition variables, checked from user space. */
#include <stdio.h>
#include <qs/sys.h>
#include <qs/thread.h>
#include "check.h"

#define NTHREADS 4
#define ROUNDS 2000

static qs_mutex_t lock = QS_MUTEX_INIT;
static qs_cond_t turn_changed = QS_COND_INIT;
static volatile int counter, turn;


static void *
add(void *arg)
{
	for (int i = 0; i < ROUNDS; i++) {
		qs_mutex_lock(&lock);
		int v = counter;
		if (i % 100 == 0)
			qs_yield(); /* invite a race the mutex must prevent */
		counter = v + 1;
		qs_mutex_unlock(&lock);
	}
	return arg;
}

/* Each thread waits for its turn: a strict order only a condvar gives. */
static void *
take_turn(void *arg)
{
	int me = (int)(intptr_t)arg;
	qs_mutex_lock(&lock);
	while (turn != me)
		qs_cond_wait(&turn_changed, &lock);
	turn++;
	qs_cond_broadcast(&turn_changed);
	qs_mutex_unlock(&lock);
	return NULL;
}

int
main(void)
{
	qs_thread_t *t[NTHREADS];
	int created = 0, joined = 0;

	for (int i = 0; i < NTHREADS; i++)
		created += (t[i] = qs_thread_create(add, (void *)(intptr_t)i)) != 0;
	check(created == NTHREADS, "create");
	for (int i = 0; i < created; i++)
		joined += qs_thread_join(t[i]) == (void *)(intptr_t)i;
	check(joined == NTHREADS, "join returns each thread's value");
	check(counter == NTHREADS * ROUNDS, "mutex keeps the counter exact");

	for (int i = NTHREADS - 1; i >= 0; i--)
		t[i] = qs_thread_create(take_turn, (void *)(intptr_t)i);
	for (int i = 0; i < NTHREADS; i++)
		qs_thread_join(t[i]);
	check(turn == NTHREADS, "condition variable orders the threads");

	qs_mutex_lock(&lock);
	uint32_t before = qs_uptime_ms();
	int r = qs_cond_timedwait(&turn_changed, &lock, 50);
	qs_mutex_unlock(&lock);
	check(r == QS_ETIMEDOUT && qs_uptime_ms() - before >= 40,
	      "timed wait times out");

	return check_summary("threads");
}
