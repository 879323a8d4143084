/*
 * RVM under threads: workers commit (flush and no-flush) and abort on
 * their own stripes of one region while another thread truncates again and
 * again, and commits start automatic truncations too. Segment writes of
 * the truncating thread's epochs wait until workers have committed
 * meanwhile: if an epoch held the library's lock across its I/O, no commit
 * could complete and the wait would time out. At the end every committed
 * value must be in memory and, after a restart, in the segment.
 *
 * Every ten transactions a worker parks until the truncating thread begins
 * its next rvm_truncate or a gate, so that epochs and commits interleave
 * even when the scheduler favours the workers.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "check.h"
#include "rvm_test.h"

#define LOG "conc.log"
#define SEG "conc.seg"
#define LOG_LEN (32 * 1024)
#define SEG_SIZE (64 * 1024)
#define WORKERS 3
#define STRIPE 4096
#define TXNS 200
#define HITS 4       /* segment writes that must see commits meanwhile */
#define GATES_MAX 50 /* segment writes that may try */

static pthread_t truncator;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long commits, releases;
static int workers_left, parked, gates, hits, gate_timeouts;

/* Lets the parked workers go; with mu held. */
static void
unpark(void)
{
	releases++;
	parked = 0;
	pthread_cond_broadcast(&cv);
}

typedef struct {
	rvm_dev_t dev;
	rvm_dev_t *file;
} gate_t;

static int
gate_read(rvm_dev_t *d, uint64_t off, void *buf, uint32_t len)
{
	gate_t *g = d->priv;
	return g->file->read(g->file, off, buf, len);
}

/*
 * Only truncation writes segments. The gate holds the truncating thread's
 * epochs (workers truncate too, when the log is half full), and only
 * while a quarter of the log is free: a commit can complete only if its
 * record fits. It waits for two commits, or until no worker is left that
 * could commit. rvm_query needs the library's lock, so if the epoch held
 * it this would wait too.
 */
static int
gate_write(rvm_dev_t *d, uint64_t off, const void *buf, uint32_t len)
{
	gate_t *g = d->priv;
	rvm_options_t q;
	int room = pthread_equal(pthread_self(), truncator) &&
		   rvm_query(&q, NULL) == RVM_SUCCESS &&
		   q.log_used < q.log_size / 4 * 3;
	pthread_mutex_lock(&mu);
	if (room && hits < HITS && gates < GATES_MAX) {
		long want = commits + 2;
		struct timespec ts;
		gates++;
		unpark();
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 20;
		while (commits < want && workers_left > parked)
			if (pthread_cond_timedwait(&cv, &mu, &ts) == ETIMEDOUT) {
				gate_timeouts++;
				break;
			}
		hits += commits >= want;
	}
	pthread_mutex_unlock(&mu);
	return g->file->write(g->file, off, buf, len);
}

static int
gate_sync(rvm_dev_t *d)
{
	gate_t *g = d->priv;
	return g->file->sync(g->file);
}

static void
gate_close(rvm_dev_t *d)
{
	gate_t *g = d->priv;
	g->file->close(g->file);
	free(g);
}

static rvm_dev_t *
gate_open(const char *name)
{
	rvm_dev_t *file = rvm_dev_open(name, 0);
	if (!file || strcmp(name, SEG))
		return file;
	gate_t *g = calloc(1, sizeof(*g));
	g->file = file;
	g->dev = (rvm_dev_t){ .size = file->size, .read = gate_read,
			      .write = gate_write, .sync = gate_sync,
			      .close = gate_close, .priv = g };
	return &g->dev;
}

typedef struct {
	pthread_t thread;
	int id, errors;
	uint8_t *stripe;
	uint8_t expect[STRIPE]; /* the stripe as last committed */
} worker_t;

static void
note_commit(void)
{
	pthread_mutex_lock(&mu);
	commits++;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static int
one_txn(worker_t *w, int i, uint64_t *seed)
{
	rvm_tid_t t;
	if (rvm_begin_transaction(&t, RVM_RESTORE))
		return 1;
	for (int n = 1 + rt_rand(seed) % 3; n > 0; n--) {
		uint32_t off = rt_rand(seed) % (STRIPE - 200);
		uint32_t len = 1 + rt_rand(seed) % 200;
		if (rvm_set_range(&t, w->stripe + off, len))
			return 1;
		for (uint32_t j = 0; j < len; j++)
			w->stripe[off + j] = rt_rand(seed);
	}
	if (i % 7 == 3)
		return rvm_abort_transaction(&t) ||
		       memcmp(w->stripe, w->expect, STRIPE);
	if (rvm_end_transaction(&t, i % 3 ? RVM_NO_FLUSH : RVM_FLUSH))
		return 1;
	memcpy(w->expect, w->stripe, STRIPE);
	note_commit();
	return 0;
}

/* Waits until the truncating thread begins another rvm_truncate or gate. */
static void
park(void)
{
	pthread_mutex_lock(&mu);
	long c = releases;
	parked++;
	pthread_cond_broadcast(&cv);
	while (releases == c)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void *
worker(void *arg)
{
	worker_t *w = arg;
	uint64_t seed = w->id + 1;
	for (int i = 0; i < TXNS; i++) {
		if (i % 10 == 9)
			park();
		w->errors += one_txn(w, i, &seed);
	}
	pthread_mutex_lock(&mu);
	workers_left--;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void
test_truncation_beside_commits(void)
{
	rvm_options_t o = { .log_dev = LOG, .open_dev = gate_open }, q;
	static worker_t w[WORKERS];
	int truncate_errors = 0;
	rt_file(LOG, LOG_LEN);
	rt_file(SEG, SEG_SIZE);
	CHECK(rvm_create_log(&o, LOG_LEN) == RVM_SUCCESS);
	CHECK(rvm_initialize(NULL, &o) == RVM_SUCCESS);
	rvm_region_t reg = { .data_dev = SEG, .length = SEG_SIZE };
	if (!CHECK(rvm_map(&reg, NULL) == RVM_SUCCESS))
		return;
	truncator = pthread_self();
	workers_left = WORKERS;
	for (int i = 0; i < WORKERS; i++) {
		w[i].id = i;
		w[i].stripe = (uint8_t *)reg.vmaddr + i * STRIPE;
		CHECK(pthread_create(&w[i].thread, NULL, worker, &w[i]) == 0);
	}
	for (;;) {
		pthread_mutex_lock(&mu);
		int left = workers_left;
		unpark();
		pthread_mutex_unlock(&mu);
		if (!left)
			break;
		truncate_errors += rvm_truncate() != RVM_SUCCESS;
		sched_yield();
	}
	for (int i = 0; i < WORKERS; i++) {
		pthread_join(w[i].thread, NULL);
		CHECK(w[i].errors == 0);
	}
	CHECK(truncate_errors == 0);
	CHECK(hits == HITS && gate_timeouts == 0);
	CHECK(rvm_query(&o, NULL) == RVM_SUCCESS);
	CHECK(o.stats.truncations >= 10 && o.stats.log_bytes > 3 * o.log_size &&
	      o.n_uncommitted == 0);
	for (int i = 0; i < WORKERS; i++)
		CHECK(memcmp(w[i].stripe, w[i].expect, STRIPE) == 0);
	CHECK(rvm_terminate() == RVM_SUCCESS);

	o.open_dev = NULL;
	CHECK(rvm_initialize(NULL, &o) == RVM_SUCCESS);
	CHECK(rvm_map(&reg, NULL) == RVM_SUCCESS);
	for (int i = 0; i < WORKERS; i++)
		CHECK(memcmp((uint8_t *)reg.vmaddr + i * STRIPE, w[i].expect,
			     STRIPE) == 0);
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.n_in_doubt == 0);
	CHECK(rvm_terminate() == RVM_SUCCESS);
}

int
main(void)
{
	/* A library that blocks commits or queries during an epoch hangs this
	 * test: the alarm turns that into a failure. */
	alarm(120);
	rt_scratch();
	RUN(test_truncation_beside_commits);
	return check_summary();
}
