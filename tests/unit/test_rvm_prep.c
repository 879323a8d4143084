/*
 * Two-phase commit in LRVM mode: prepare then commit or abort in one run;
 * prepare, crash, and the transaction in doubt (listed, not applied) until
 * rvm_resolve commits it (applied, durable) or aborts it (gone); in-doubt
 * and open prepared transactions surviving truncations and log wraps.
 * Crashes are child processes that end without rvm_terminate.
 */
#include <string.h>
#include "check.h"
#include "rvm_test.h"

#define LOG "prep.log"
#define SEG "prep.seg"
#define LOG_LEN (16 * 1024)
#define SEG_SIZE (64 * 1024)

static rvm_region_t reg;

static int
fresh(void)
{
	rvm_options_t o = { .log_dev = LOG };
	rt_file(LOG, LOG_LEN);
	rt_file(SEG, SEG_SIZE);
	return rvm_create_log(&o, LOG_LEN);
}

static rvm_return_t
init(void)
{
	rvm_options_t o = { .log_dev = LOG };
	return rvm_initialize(NULL, &o);
}

static uint8_t *
map(void)
{
	reg = (rvm_region_t){ .data_dev = SEG, .offset = 0, .length = SEG_SIZE };
	return rvm_map(&reg, NULL) ? NULL : reg.vmaddr;
}

static uint8_t *
start(void)
{
	return init() ? NULL : map();
}

/* Begins t and writes c over two ranges at off and off + 1000. */
static rvm_return_t
change(rvm_tid_t *t, uint8_t *p, uint32_t off, int c)
{
	rvm_return_t r = rvm_begin_transaction(t, RVM_RESTORE);
	if (!r)
		r = rvm_set_range(t, p + off, 100);
	if (!r)
		r = rvm_set_range(t, p + off + 1000, 50);
	if (r)
		return r;
	memset(p + off, c, 100);
	memset(p + off + 1000, c, 50);
	return RVM_SUCCESS;
}

static int
changed(const uint8_t *p, uint32_t off, int c)
{
	return rt_all(p + off, c, 100) && rt_all(p + off + 1000, c, 50);
}

/* Commits n small transactions at [off, off + 300): the log wraps. */
static rvm_return_t
churn(uint8_t *p, uint32_t off, int n)
{
	for (int i = 0; i < n; i++) {
		rvm_tid_t t;
		rvm_return_t r = rvm_begin_transaction(&t, RVM_NO_RESTORE);
		if (!r)
			r = rvm_set_range(&t, p + off, 300);
		if (r)
			return r;
		memset(p + off, i, 300);
		r = rvm_end_transaction(&t, i % 2 ? RVM_FLUSH : RVM_NO_FLUSH);
		if (r)
			return r;
	}
	return RVM_SUCCESS;
}

static void
test_prepare_then_end_or_abort(void)
{
	rvm_options_t q;
	rvm_tid_t t, u;
	CHECK(fresh() == RVM_SUCCESS);
	uint8_t *p = start();
	if (!CHECK(p != NULL))
		return;
	CHECK(change(&t, p, 0, 0x11) == RVM_SUCCESS);
	CHECK(rvm_prepare_transaction(&t, 0) == RVM_EMODE);
	CHECK(rvm_prepare_transaction(&t, 7) == RVM_SUCCESS);
	CHECK(rvm_prepare_transaction(&t, 8) == RVM_EMODE);
	CHECK(rvm_set_range(&t, p + 5000, 10) == RVM_EMODE);
	CHECK(change(&u, p, 10000, 0x22) == RVM_SUCCESS);
	CHECK(rvm_prepare_transaction(&u, 7) == RVM_EMODE); /* gtid taken */
	CHECK(rvm_prepare_transaction(&u, 9) == RVM_SUCCESS);
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.n_uncommitted == 2 &&
	      q.n_in_doubt == 0 && q.stats.prepares == 2);
	CHECK(rvm_resolve(7, 1) == RVM_ENOT_FOUND); /* open, not in doubt */
	CHECK(rvm_end_transaction(&t, RVM_NO_FLUSH) == RVM_SUCCESS);
	CHECK(rvm_abort_transaction(&u) == RVM_SUCCESS);
	CHECK(changed(p, 0, 0x11) && changed(p, 10000, 0));
	CHECK(rvm_terminate() == RVM_SUCCESS);
	p = start();
	if (!CHECK(p != NULL))
		return;
	CHECK(changed(p, 0, 0x11) && changed(p, 10000, 0));
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.n_in_doubt == 0);
	/* A no-restore transaction cannot abort, prepared or not. */
	CHECK(rvm_begin_transaction(&t, RVM_NO_RESTORE) == RVM_SUCCESS);
	CHECK(rvm_prepare_transaction(&t, 3) == RVM_SUCCESS);
	CHECK(rvm_abort_transaction(&t) == RVM_EMODE);
	CHECK(rvm_end_transaction(&t, RVM_FLUSH) == RVM_SUCCESS);
	CHECK(rvm_terminate() == RVM_SUCCESS);
}

/* Prepares gtid 11 at 0 and gtid 12 at 20000, then crashes. */
static int
child_prepare(void *arg)
{
	(void)arg;
	rvm_tid_t t, u, v;
	uint8_t *p = start();
	if (!p || change(&t, p, 0, 0x31) || rvm_prepare_transaction(&t, 11) ||
	    change(&u, p, 20000, 0x32) || rvm_prepare_transaction(&u, 12))
		return 2;
	/* Never prepared: simply lost. */
	if (change(&v, p, 40000, 0x33))
		return 3;
	return 0;
}

static int
in_doubt(uint64_t a, uint64_t b)
{
	rvm_options_t q;
	if (rvm_query(&q, NULL))
		return 0;
	if (b == 0)
		return a ? q.n_in_doubt == 1 && q.in_doubt[0] == a
			 : q.n_in_doubt == 0;
	return q.n_in_doubt == 2 &&
	       ((q.in_doubt[0] == a && q.in_doubt[1] == b) ||
		(q.in_doubt[0] == b && q.in_doubt[1] == a));
}

/* Resolves gtid 11 (commit or abort) and 12 (the other way), then crashes. */
static int
child_resolve(void *arg)
{
	int commit = *(int *)arg;
	if (init() || !in_doubt(11, 12))
		return 2;
	if (rvm_resolve(11, commit) != (commit ? RVM_EREGION : RVM_SUCCESS))
		return 3; /* a commit needs the regions mapped */
	rvm_span_t sp[3];
	uint32_t n;
	if (rvm_in_doubt_ranges(12, sp, 3, &n) != RVM_EREGION)
		return 7; /* its ranges are not mapped yet */
	uint8_t *p = map();
	if (!p || !changed(p, 0, 0) || !changed(p, 20000, 0))
		return 4; /* in doubt: not applied */
	/* what it changed, in the mapped region, by address */
	if (rvm_in_doubt_ranges(12, sp, 3, &n) || n != 2 ||
	    sp[0].addr != p + 20000 || sp[0].len != 100 ||
	    sp[1].addr != p + 21000 || sp[1].len != 50 ||
	    rvm_in_doubt_ranges(12, NULL, 0, &n) || n != 2 ||
	    rvm_in_doubt_ranges(13, sp, 3, &n) != RVM_ENOT_FOUND)
		return 8;
	if ((commit && rvm_resolve(11, 1)) || rvm_resolve(12, !commit) ||
	    rvm_resolve(12, 1) != RVM_ENOT_FOUND)
		return 5;
	if (!changed(p, 0, commit ? 0x31 : 0) ||
	    !changed(p, 20000, commit ? 0 : 0x32) || !in_doubt(0, 0))
		return 6;
	return 0;
}

static void
test_in_doubt_resolved(void)
{
	for (int commit = 0; commit < 2; commit++) {
		CHECK(fresh() == RVM_SUCCESS);
		CHECK(rt_child(child_prepare, NULL) == 0);
		CHECK(rt_child(child_resolve, &commit) == 0);
		uint8_t *p = start();
		if (!CHECK(p != NULL))
			return;
		CHECK(in_doubt(0, 0));
		CHECK(changed(p, 0, commit ? 0x31 : 0));
		CHECK(changed(p, 20000, commit ? 0 : 0x32));
		CHECK(changed(p, 40000, 0));
		CHECK(rvm_terminate() == RVM_SUCCESS);
	}
}

static int
child_churn(void *arg)
{
	(void)arg;
	uint8_t *p = start();
	if (!p || !in_doubt(11, 12) || churn(p, 30000, 100))
		return 2;
	return rvm_truncate() || !in_doubt(11, 12) ? 3 : 0;
}

/* In-doubt records stay in doubt across truncations, wraps and crashes. */
static void
test_in_doubt_survives_truncation(void)
{
	rvm_options_t q;
	CHECK(fresh() == RVM_SUCCESS);
	CHECK(rt_child(child_prepare, NULL) == 0);
	uint8_t *p = start();
	if (!CHECK(p != NULL))
		return;
	CHECK(in_doubt(11, 12));
	CHECK(churn(p, 30000, 100) == RVM_SUCCESS);
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS &&
	      q.stats.truncations >= 3 && q.stats.log_bytes > 2 * q.log_size);
	CHECK(in_doubt(11, 12));
	CHECK(rvm_terminate() == RVM_SUCCESS);
	CHECK(rt_child(child_churn, NULL) == 0);
	p = start();
	if (!CHECK(p != NULL))
		return;
	CHECK(in_doubt(11, 12) && changed(p, 0, 0) && rt_all(p + 30000, 99, 300));
	CHECK(rvm_resolve(11, 1) == RVM_SUCCESS);
	CHECK(rvm_resolve(12, 0) == RVM_SUCCESS);
	CHECK(churn(p, 30000, 100) == RVM_SUCCESS); /* truncates the outcomes */
	CHECK(rvm_terminate() == RVM_SUCCESS);
	p = start();
	if (!CHECK(p != NULL))
		return;
	CHECK(in_doubt(0, 0) && changed(p, 0, 0x31) && changed(p, 20000, 0));
	CHECK(rvm_terminate() == RVM_SUCCESS);
}

/* An open prepared transaction outlives truncations, then a crash. */
static int
child_prepared_open(void *arg)
{
	int end = *(int *)arg;
	rvm_tid_t t;
	uint8_t *p = start();
	if (!p || change(&t, p, 0, 0x41) || rvm_prepare_transaction(&t, 21) ||
	    churn(p, 30000, 100))
		return 2;
	if (end && rvm_end_transaction(&t, RVM_NO_FLUSH))
		return 3;
	return in_doubt(0, 0) ? 0 : 4;
}

static void
test_prepared_open_across_truncation(void)
{
	for (int end = 0; end < 2; end++) {
		CHECK(fresh() == RVM_SUCCESS);
		CHECK(rt_child(child_prepared_open, &end) == 0);
		uint8_t *p = start();
		if (!CHECK(p != NULL))
			return;
		CHECK(end ? in_doubt(0, 0) : in_doubt(21, 0));
		CHECK(changed(p, 0, end ? 0x41 : 0) && rt_all(p + 30000, 99, 300));
		if (!end)
			CHECK(rvm_resolve(21, 1) == RVM_SUCCESS &&
			      changed(p, 0, 0x41));
		CHECK(rvm_terminate() == RVM_SUCCESS);
	}
}

/*
 * Commits, then a PREPARE of 40% of the log: the first truncation has no
 * room to copy it forward, so the head stops at it (freeing the commits
 * before it); the next one, after more commits, copies it. Then more
 * commits and a crash: it is in doubt.
 */
static int
child_big_prepare(void *arg)
{
	(void)arg;
	rvm_options_t q;
	rvm_tid_t t;
	uint8_t *p = start();
	if (!p || churn(p, 30000, 10) || rvm_query(&q, NULL))
		return 2;
	uint64_t before = q.log_used;
	uint32_t big = q.log_size * 2 / 5;
	if (rvm_begin_transaction(&t, RVM_RESTORE) ||
	    rvm_set_range(&t, p + 1000, big))
		return 3;
	memset(p + 1000, 0x51, big);
	if (rvm_prepare_transaction(&t, 31) || rvm_query(&q, NULL))
		return 4;
	uint64_t bytes = q.stats.log_bytes, used = q.log_used;
	if (rvm_truncate() || rvm_query(&q, NULL))
		return 5;
	/* No copy: the head moved just past the commits. */
	if (q.stats.log_bytes != bytes || q.log_used != used - before)
		return 6;
	if (churn(p, 30000, 3) || rvm_truncate() || rvm_query(&q, NULL))
		return 7;
	/* Copied: the log holds the copy alone. */
	if (q.log_used != used - before)
		return 8;
	return churn(p, 30000, 30) ? 9 : 0;
}

static void
test_prepare_larger_than_free_space(void)
{
	CHECK(fresh() == RVM_SUCCESS);
	CHECK(rt_child(child_big_prepare, NULL) == 0);
	uint8_t *p = start();
	if (!CHECK(p != NULL))
		return;
	CHECK(in_doubt(31, 0) && rt_all(p + 1000, 0, 100));
	CHECK(rvm_resolve(31, 1) == RVM_SUCCESS && rt_all(p + 1000, 0x51, 100));
	CHECK(rvm_terminate() == RVM_SUCCESS);
	p = start();
	CHECK(p && in_doubt(0, 0) && rt_all(p + 1000, 0x51, 100));
	CHECK(rvm_terminate() == RVM_SUCCESS);
}

int
main(void)
{
	rt_scratch();
	RUN(test_prepare_then_end_or_abort);
	RUN(test_in_doubt_resolved);
	RUN(test_in_doubt_survives_truncation);
	RUN(test_prepared_open_across_truncation);
	RUN(test_prepare_larger_than_free_space);
	return check_summary();
}
