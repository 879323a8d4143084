/*
 * LRVM crash consistency: a workload of transactions (flush and no-flush
 * commits, aborts, no-restore, overlapping ranges, flushes, explicit and
 * automatic truncations, a log that wraps, and two prepared transactions
 * left open across truncations, one committed and one aborted later, the
 * first sharing a sector with committed changes) is crashed at every
 * device write it makes, in several ways (see rvm_test.h). Each time,
 * recovery must give exactly a committed state:
 * at least every commit that a force had made durable before the crash, at
 * most the one in flight, only whole transactions in commit order, and the
 * prepared transactions in doubt exactly while they were undecided. Then
 * recovery itself is crashed at each of its writes and run again: it must
 * give the same state.
 *
 * A reference run records the model: the state after each commit, and at
 * each library call the number of writes so far, the durable state, the
 * last committed one and the undecided prepared transactions. Crashed runs
 * repeat the workload in a child process, deterministic up to the crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "rvm_test.h"

#define LOG "crash.log"
#define SEG "crash.seg"
#define LOG_LEN (12 * 1024)
#define SEG_SIZE (64 * 1024)
#define STRIPE 2048 /* the prepared transactions' own, at the end */
/* The stripes begin mid-sector, after the others' span: truncation finds
 * that sector changed by commits and under an open prepared transaction. */
#define STRIPES (SEG_SIZE - 2 * STRIPE - RVM_SECTOR / 2)
#define SPAN STRIPES
#define N_TXNS 40
#define MAX_EVENTS 512
#define MAX_STATES (N_TXNS + 1)

static const char *const files[] = { LOG, SEG };
static rt_image_t pristine;

typedef struct {
	long writes; /* before the call */
	int durable; /* states up to this one survive any crash */
	int last;    /* the newest committed state */
	int commit;  /* the call may commit state last + 1 */
	int doubt;   /* prepared transactions undecided before the call */
	int delta;   /* +1: the call prepares one; -1: it decides one */
} event_t;

static int recording;
static event_t ev[MAX_EVENTS];
static int n_ev;
static uint8_t *state[MAX_STATES];
static int n_state, durable, doubt;
static uint8_t stripe_done[2][STRIPE]; /* committed contents of the stripes */
static rvm_stats_t ref_stats;

static rvm_options_t
opts(void)
{
	rvm_options_t o = { .log_dev = LOG, .open_dev = rt_crash_open,
			    .truncate_pct = 50, .log_buf_size = 2048 };
	return o;
}

static void
event(int commit, int delta)
{
	if (recording && n_ev < MAX_EVENTS)
		ev[n_ev++] = (event_t){ rt_crash.writes, durable, n_state - 1,
					commit, doubt, delta };
}

/* Runs one library call of the workload: 1 if the crash came, 2 if the
 * call failed otherwise. */
#define CALL(expr, commit, delta)                                           \
	do {                                                                \
		event(commit, delta);                                       \
		rvm_return_t r_ = (expr);                                   \
		if (rt_crash.crashed)                                       \
			return 1;                                           \
		if (r_) {                                                   \
			printf("workload: %s: %s\n", #expr,                 \
			       rvm_strerror(r_));                           \
			return 2;                                           \
		}                                                           \
	} while (0)

/* The committed contents behind memory p: undecided stripes as committed. */
static void
snapshot(const uint8_t *p, uint8_t *out)
{
	memcpy(out, p, SEG_SIZE);
	for (int s = 0; s < 2; s++)
		memcpy(out + STRIPES + s * STRIPE, stripe_done[s], STRIPE);
}

static void
committed(const uint8_t *p, int forced)
{
	if (!recording)
		return;
	state[n_state] = malloc(SEG_SIZE);
	snapshot(p, state[n_state++]);
	if (forced)
		durable = n_state - 1;
}

static void
forced(void)
{
	if (recording)
		durable = n_state - 1;
}

/* Sets n ranges in [base, base + span) and fills them; some overlap the
 * range before. */
static rvm_return_t
fill(rvm_tid_t *t, uint8_t *base, uint32_t span, int n, uint64_t *seed)
{
	uint32_t off = 0, len = 0;
	for (int k = 0; k < n; k++) {
		if (k && rt_rand(seed) % 3 == 0)
			off += rt_rand(seed) % len;
		else
			off = rt_rand(seed) % (span - 300);
		len = 1 + rt_rand(seed) % 500;
		if (off + len > span)
			len = span - off;
		rvm_return_t r = rvm_set_range(t, base + off, len);
		if (r)
			return r;
		for (uint32_t j = 0; j < len; j++)
			base[off + j] = rt_rand(seed);
	}
	return RVM_SUCCESS;
}

/* One ordinary transaction: committed (flush or not) or aborted. An edge
 * one also changes the span's last bytes, next to the first stripe. */
static int
one_txn(uint8_t *p, int edge, uint64_t *seed)
{
	rvm_tid_t t;
	int restore = rt_rand(seed) % 4 != 0;
	CALL(rvm_begin_transaction(&t, restore ? RVM_RESTORE : RVM_NO_RESTORE),
	     0, 0);
	if (edge) {
		CALL(rvm_set_range(&t, p + SPAN - 8, 8), 0, 0);
		memset(p + SPAN - 8, rt_rand(seed), 8);
	}
	CALL(fill(&t, p, SPAN, 1 + rt_rand(seed) % 4, seed), 0, 0);
	int how = rt_rand(seed) % 10;
	if (restore && how < 2) {
		CALL(rvm_abort_transaction(&t), 0, 0);
		if (recording) {
			uint8_t *now = malloc(SEG_SIZE);
			snapshot(p, now);
			CHECK(memcmp(now, state[n_state - 1], SEG_SIZE) == 0);
			free(now);
		}
	} else {
		rvm_mode_t m = how < 6 ? RVM_FLUSH : RVM_NO_FLUSH;
		CALL(rvm_end_transaction(&t, m), 1, 0);
		committed(p, m == RVM_FLUSH);
	}
	return 0;
}

/* 0: ran to the end; 1: stopped at the crash; 2: an unexpected error. */
static int
workload(void)
{
	uint64_t seed = 7;
	rvm_options_t o = opts();
	rvm_region_t reg = { .data_dev = SEG, .offset = 0, .length = SEG_SIZE };
	rvm_tid_t pt[2];
	CALL(rvm_initialize(NULL, &o), 0, 0);
	CALL(rvm_map(&reg, NULL), 0, 0);
	uint8_t *p = reg.vmaddr, *stripe = p + STRIPES;
	for (int i = 0; i < N_TXNS; i++) {
		int r = one_txn(p, i % 4 == 0, &seed);
		if (r)
			return r;
		if (i == 12 || i == 20) { /* prepare one, leave it open */
			int s = i == 20;
			uint8_t *mine = stripe + s * STRIPE;
			CALL(rvm_begin_transaction(&pt[s], RVM_RESTORE), 0, 0);
			CALL(rvm_set_range(&pt[s], mine, 8), 0, 0);
			memset(mine, rt_rand(&seed), 8);
			CALL(fill(&pt[s], mine, STRIPE, 3, &seed), 0, 0);
			CALL(rvm_prepare_transaction(&pt[s], 100 + s), 0, 1);
			doubt += recording;
		}
		if (i == 26) {
			CALL(rvm_abort_transaction(&pt[1]), 0, -1);
			doubt -= recording;
		}
		if (i == 30) {
			CALL(rvm_end_transaction(&pt[0], RVM_NO_FLUSH), 1, -1);
			doubt -= recording;
			memcpy(stripe_done[0], stripe, STRIPE);
			committed(p, 1);
		}
		if (i % 6 == 5) {
			CALL(rvm_flush(), 0, 0);
			forced();
		}
		if (i % 11 == 10) {
			CALL(rvm_truncate(), 0, 0);
			forced();
		}
	}
	rvm_options_t q;
	CALL(rvm_query(&q, NULL), 0, 0);
	ref_stats = q.stats;
	CALL(rvm_terminate(), 0, 0);
	forced();
	event(0, 0); /* the end: writes after it are none */
	return 0;
}

static int
child_workload(void *arg)
{
	(void)arg;
	return workload();
}

/* Recovers the files as they are: the segment's committed contents and
 * the number of transactions in doubt. */
static int
recover(uint8_t *out, uint32_t *n_doubt)
{
	rvm_options_t o = opts();
	rvm_region_t reg = { .data_dev = SEG, .offset = 0, .length = SEG_SIZE };
	if (rvm_initialize(NULL, &o) || rvm_map(&reg, NULL))
		return -1;
	memcpy(out, reg.vmaddr, SEG_SIZE);
	rvm_query(&o, NULL);
	*n_doubt = o.n_in_doubt;
	return rvm_terminate() ? -1 : 0;
}

static int
state_in(const uint8_t *s, int lo, int hi)
{
	for (int j = lo; j <= hi; j++)
		if (memcmp(s, state[j], SEG_SIZE) == 0)
			return 1;
	return 0;
}

/* Whether a recovery after a crash during call e is right. */
static int
recovered_ok(const event_t *e, const uint8_t *got, uint32_t nd)
{
	int lo = e->doubt + (e->delta < 0 ? e->delta : 0);
	int hi = e->doubt + (e->delta > 0 ? e->delta : 0);
	if ((int)nd < lo || (int)nd > hi ||
	    !state_in(got, e->durable, e->last + e->commit))
		return 0;
	/* A prepared transaction's commit: decided exactly when applied. */
	if (e->commit && e->delta < 0)
		return ((int)nd == lo) ==
		       !memcmp(got, state[e->last + 1], SEG_SIZE);
	return 1;
}

/* The call during which write n happened. */
static const event_t *
event_of(long n)
{
	int i = 0;
	while (i + 1 < n_ev && ev[i + 1].writes < n)
		i++;
	return &ev[i];
}

static void
test_reference_run(void)
{
	rvm_options_t o = { .log_dev = LOG };
	rt_file(LOG, LOG_LEN);
	rt_file(SEG, SEG_SIZE);
	CHECK(rvm_create_log(&o, LOG_LEN) == RVM_SUCCESS);
	rt_save(&pristine, files, 2);
	state[0] = calloc(1, SEG_SIZE);
	n_state = 1;
	recording = 1;
	rt_crash_reset(0);
	CHECK(workload() == 0);
	recording = 0;
	/* The workload covers what it should. */
	CHECK(ref_stats.truncations >= 4 && ref_stats.aborts >= 3 &&
	      ref_stats.commits_noflush >= 5 && ref_stats.commits_flush >= 10 &&
	      ref_stats.log_bytes > 2 * (LOG_LEN - 2 * RVM_SECTOR) &&
	      n_ev < MAX_EVENTS);
	uint8_t *got = malloc(SEG_SIZE);
	uint32_t nd;
	CHECK(recover(got, &nd) == 0 && nd == 0 &&
	      memcmp(got, state[n_state - 1], SEG_SIZE) == 0);
	free(got);
}

/*
 * Crashes recovery of img at each of its writes, then recovers again: the
 * result must be good every time. Returns the number of bad results.
 */
static int
recovery_crashes(const rt_image_t *img, const uint8_t *good, uint32_t good_nd,
		 uint8_t *got)
{
	int bad = 0;
	uint32_t nd;
	for (long m = 1;; m++) {
		rt_restore(img);
		rt_crash_reset(m);
		rvm_options_t o = opts();
		if (rvm_initialize(NULL, &o) == RVM_SUCCESS)
			rvm_terminate();
		if (!rt_crash.crashed)
			break;
		rt_crash_reset(0);
		if (recover(got, &nd) || nd != good_nd ||
		    memcmp(got, good, SEG_SIZE))
			bad++;
	}
	return bad;
}

static void
crash_everywhere(int tear, int unsynced, int crash_recovery)
{
	long total = ev[n_ev - 1].writes;
	uint8_t *got = malloc(SEG_SIZE), *again = malloc(SEG_SIZE);
	int bad = 0, bad_rec = 0;
	for (long n = 1; n <= total; n++) {
		const event_t *e = event_of(n);
		rt_image_t img;
		rt_restore(&pristine);
		rt_crash_reset(n);
		rt_crash.tear = tear;
		rt_crash.unsynced = unsynced;
		int r = rt_child(child_workload, NULL);
		rt_crash_reset(0);
		if (r != 1) {
			printf("crash at write %ld: workload gave %d\n", n, r);
			bad++;
			continue;
		}
		rt_save(&img, files, 2);
		uint32_t nd;
		if (recover(got, &nd) || !recovered_ok(e, got, nd)) {
			printf("crash at write %ld: wrong recovery (%u in doubt; "
			       "states %d..%d allowed)\n", n, nd, e->durable,
			       e->last + e->commit);
			bad++;
		} else if (crash_recovery) {
			bad_rec += recovery_crashes(&img, got, nd, again);
		}
		rt_image_free(&img);
	}
	CHECK(bad == 0);
	CHECK(bad_rec == 0);
	free(got);
	free(again);
}

static void
test_crash_torn_none(void)
{
	crash_everywhere(RT_TEAR_NONE, RT_KEEP_UNSYNCED, 0);
}

static void
test_crash_torn_half(void)
{
	crash_everywhere(RT_TEAR_HALF, RT_KEEP_UNSYNCED, 1);
}

static void
test_crash_torn_bytes(void)
{
	crash_everywhere(RT_TEAR_BYTES, RT_KEEP_UNSYNCED, 0);
}

static void
test_crash_unsynced_lost(void)
{
	crash_everywhere(RT_TEAR_NONE, RT_LOSE_UNSYNCED, 0);
}

static void
test_crash_torn_bytes_unsynced_lost(void)
{
	crash_everywhere(RT_TEAR_BYTES, RT_LOSE_UNSYNCED, 1);
}

static void
test_crash_torn_half_some_unsynced_lost(void)
{
	crash_everywhere(RT_TEAR_HALF, RT_LOSE_SOME, 0);
}

static void
test_crash_torn_bytes_some_unsynced_lost(void)
{
	crash_everywhere(RT_TEAR_BYTES, RT_LOSE_SOME, 1);
}

int
main(void)
{
	rt_scratch();
	RUN(test_reference_run);
	RUN(test_crash_torn_none);
	RUN(test_crash_torn_half);
	RUN(test_crash_torn_bytes);
	RUN(test_crash_unsynced_lost);
	RUN(test_crash_torn_bytes_unsynced_lost);
	RUN(test_crash_torn_half_some_unsynced_lost);
	RUN(test_crash_torn_bytes_some_unsynced_lost);
	for (int i = 0; i < n_state; i++)
		free(state[i]);
	rt_image_free(&pristine);
	return check_summary();
}
