/*
 * LRVM over the node log (rvm_node.c), with the log manager's store in
 * the test's process (log_local.c): commits back after a crash, records
 * released once truncation has the segments, a log that wraps many times
 * under a steady load, records longer than one node-log record, and the
 * two-phase commit with unforced PREPAREs and outcomes that a later force
 * of the same log (the TM's) makes durable: in doubt after a crash, never
 * lost, never decided by RVM. A malformed record of the owner is damage.
 * Crashes are child processes that end without rvm_terminate: what the
 * store had not flushed is lost with them, as in a machine crash.
 */
#include <string.h>
#include <qs/log.h>
#include "check.h"
#include "log_local.h"
#include "rvm_test.h"

#define LOG "node:fs"
#define SEG "node.seg"
#define NODE_LOG_LEN (512 * 1024)
#define SEG_SIZE (256 * 1024)

static rvm_region_t reg;

static void
fresh(void)
{
	log_local_reset();
	rt_file(LOG_LOCAL_DEV, NODE_LOG_LEN);
	rt_file(SEG, SEG_SIZE);
}

static uint8_t *
start(void)
{
	rvm_options_t o = { .log_dev = LOG };
	log_local_reset(); /* the log manager restarts with the node */
	if (rvm_initialize(NULL, &o))
		return NULL;
	reg = (rvm_region_t){ .data_dev = SEG, .offset = 0, .length = SEG_SIZE };
	return rvm_map(&reg, NULL) ? NULL : reg.vmaddr;
}

static rvm_return_t
change(rvm_tid_t *t, uint8_t *p, uint32_t off, uint32_t len, int c)
{
	rvm_return_t r = rvm_begin_transaction(t, RVM_RESTORE);
	if (!r)
		r = rvm_set_range(t, p + off, len);
	if (!r)
		memset(p + off, c, len);
	return r;
}

static rvm_return_t
write_tx(uint8_t *p, uint32_t off, uint32_t len, int c, rvm_mode_t mode)
{
	rvm_tid_t t;
	rvm_return_t r = change(&t, p, off, len, c);
	return r ? r : rvm_end_transaction(&t, mode);
}

/* The owner's live records in the node log. */
static uint32_t
live(void)
{
	log_stats_t st;
	return qs_log_stats(&st) ? ~0u : st.live;
}

static int
stop(void)
{
	return rvm_terminate() ? 1 : 0;
}

/* ---- commits ------------------------------------------------------------ */

static int
crash_after_commits(void *arg)
{
	(void)arg;
	uint8_t *p = start();
	if (!p)
		return 1;
	for (int i = 0; i < 20; i++)
		if (write_tx(p, (uint32_t)i * 600, 500, 'a' + i, RVM_FLUSH))
			return 2;
	/* no flush and no force after it: may be lost, never half */
	if (write_tx(p, 30000, 4000, 'z', RVM_NO_FLUSH))
		return 3;
	return 0;
}

static void
test_flush_commits_survive_a_crash(void)
{
	fresh();
	CHECK(rt_child(crash_after_commits, NULL) == 0);
	uint8_t *p = start();
	if (!CHECK(p))
		return;
	for (int i = 0; i < 20; i++)
		CHECK(rt_all(p + i * 600, 'a' + i, 500));
	CHECK(rt_all(p + 30000, 'z', 4000) || rt_all(p + 30000, 0, 4000));
	rvm_options_t q;
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS);
	CHECK(q.stats.recovered >= 20);
	CHECK(live() == 0); /* recovery applied them and let them go */
	CHECK(stop() == 0);
}

static void
test_truncation_releases_and_the_log_wraps(void)
{
	fresh();
	uint8_t *p = start();
	if (!CHECK(p))
		return;
	rvm_options_t q;
	/* about 30 times RVM's part of the node log */
	for (int i = 0; i < 2000; i++)
		if (!CHECK(write_tx(p, (uint32_t)(i % 40) * 4096, 2500, i & 0xff,
				    i % 3 ? RVM_NO_FLUSH : RVM_FLUSH) == 0))
			break;
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS);
	CHECK(q.stats.truncations > 10);
	CHECK(q.log_used <= q.log_size);
	CHECK(rvm_truncate() == RVM_SUCCESS);
	CHECK(live() == 0);
	CHECK(stop() == 0);
	p = start();
	if (!CHECK(p))
		return;
	for (int i = 1960; i < 2000; i++)
		CHECK(rt_all(p + (i % 40) * 4096, i & 0xff, 2500));
	CHECK(stop() == 0);
}

static int
crash_after_a_long_one(void *arg)
{
	(void)arg;
	uint8_t *p = start();
	if (!p)
		return 1;
	/* three node-log records' worth */
	return write_tx(p, 1000, 3 * LOG_DATA_MAX - 5000, 'L', RVM_FLUSH) ? 2 : 0;
}

static void
test_a_record_longer_than_a_node_record(void)
{
	fresh();
	CHECK(rt_child(crash_after_a_long_one, NULL) == 0);
	uint8_t *p = start();
	if (!CHECK(p))
		return;
	CHECK(rt_all(p + 1000, 'L', 3 * LOG_DATA_MAX - 5000));
	CHECK(rt_all(p + 1000 + 3 * LOG_DATA_MAX - 5000, 0, 1000));
	CHECK(stop() == 0);
}

/* A crash between the parts of a long record: nothing of it is applied,
 * and the parts go. */
static int
crash_in_a_long_one(void *arg)
{
	(void)arg;
	uint8_t *p = start();
	uint32_t h;
	static uint8_t part[LOG_DATA_MAX];
	if (!p || write_tx(p, 0, 100, 'k', RVM_FLUSH))
		return 1;
	memset(part, 'x', sizeof(part));
	/* as rvm_node.c writes a first part: kind COMMIT | more */
	if (qs_log_open("fs", &h, NULL) ||
	    qs_log_append(h, 1 | 0x100, 1u << 20, part, sizeof(part),
			  LOG_F_FORCE, NULL))
		return 2;
	return 0;
}

static void
test_a_torn_long_record_is_dropped(void)
{
	fresh();
	CHECK(rt_child(crash_in_a_long_one, NULL) == 0);
	uint8_t *p = start();
	if (!CHECK(p))
		return;
	CHECK(rt_all(p, 'k', 100));
	CHECK(rt_all(p + 100, 0, 1000));
	CHECK(live() == 0);
	CHECK(stop() == 0);
}

/* A record of the owner that is not RVM's, before the end: damage. */
static int
crash_after_junk(void *arg)
{
	(void)arg;
	uint8_t *p = start();
	uint32_t h;
	static uint8_t junk[300];
	if (!p)
		return 1;
	memset(junk, 0x5a, sizeof(junk));
	if (qs_log_open("fs", &h, NULL) ||
	    qs_log_append(h, 1, 7, junk, sizeof(junk), 0, NULL))
		return 2;
	return write_tx(p, 0, 100, 'k', RVM_FLUSH) ? 3 : 0;
}

static void
test_a_foreign_record_is_damage(void)
{
	fresh();
	CHECK(rt_child(crash_after_junk, NULL) == 0);
	rvm_options_t o = { .log_dev = LOG };
	log_local_reset();
	CHECK(rvm_initialize(NULL, &o) == RVM_ECORRUPT);
	CHECK(o.damage.kind == RVM_DAMAGE_RECORD);
}

/* ---- two phases --------------------------------------------------------- */

enum { NO_FORCE, FORCE_AFTER_PREPARE, COMMIT_THEN_FORCE, ABORT_THEN_FORCE };

static int
crash_prepared(void *arg)
{
	int how = *(int *)arg;
	uint8_t *p = start();
	uint32_t h;
	rvm_tid_t t;
	if (!p || change(&t, p, 5000, 300, 'P'))
		return 1;
	log_stats_t st;
	if (qs_log_stats(&st))
		return 2;
	uint32_t syncs = st.forces; /* recovery's */
	if (rvm_prepare_transaction(&t, 0x1234))
		return 1;
	if (qs_log_stats(&st) || st.forces != syncs)
		return 2; /* the PREPARE is not forced: the TM's force is */
	if (qs_log_open("tm", &h, NULL))
		return 3;
	if (how == COMMIT_THEN_FORCE && rvm_end_transaction(&t, RVM_FLUSH))
		return 4;
	if (how == ABORT_THEN_FORCE && rvm_abort_transaction(&t))
		return 5;
	if (qs_log_stats(&st) || st.forces != syncs)
		return 6; /* nor its outcome */
	if (how != NO_FORCE && qs_log_force(h, 0, 0)) /* the TM's */
		return 7;
	return 0;
}

static void
test_a_prepare_the_tm_forced_is_in_doubt(void)
{
	int how = FORCE_AFTER_PREPARE;
	fresh();
	CHECK(rt_child(crash_prepared, &how) == 0);
	uint8_t *p = start();
	if (!CHECK(p))
		return;
	rvm_options_t q;
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS);
	CHECK(q.n_in_doubt == 1 && q.in_doubt[0] == 0x1234);
	CHECK(rt_all(p + 5000, 0, 300)); /* not applied before the outcome */
	CHECK(rvm_truncate() == RVM_SUCCESS);
	CHECK(live() == 1); /* the PREPARE stays across truncations */
	CHECK(stop() == 0);
	/* still in doubt after another restart; then committed */
	p = start();
	if (!CHECK(p))
		return;
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.n_in_doubt == 1);
	CHECK(rvm_resolve(0x1234, 1) == RVM_SUCCESS);
	CHECK(rt_all(p + 5000, 'P', 300));
	CHECK(rvm_truncate() == RVM_SUCCESS);
	CHECK(live() == 0);
	CHECK(stop() == 0);
	p = start();
	if (!CHECK(p))
		return;
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.n_in_doubt == 0);
	CHECK(rt_all(p + 5000, 'P', 300));
	CHECK(stop() == 0);
}

static void
test_an_unforced_prepare_is_lost_whole(void)
{
	int how = NO_FORCE;
	fresh();
	CHECK(rt_child(crash_prepared, &how) == 0);
	uint8_t *p = start();
	if (!CHECK(p))
		return;
	rvm_options_t q;
	/* the TM never forced its "prepared": it presumes abort */
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.n_in_doubt == 0);
	CHECK(rt_all(p + 5000, 0, 300));
	CHECK(stop() == 0);
}

static void
test_an_outcome_the_tm_forced_stands(void)
{
	for (int how = COMMIT_THEN_FORCE; how <= ABORT_THEN_FORCE; how++) {
		fresh();
		CHECK(rt_child(crash_prepared, &how) == 0);
		uint8_t *p = start();
		if (!CHECK(p))
			return;
		rvm_options_t q;
		CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.n_in_doubt == 0);
		CHECK(rt_all(p + 5000, how == COMMIT_THEN_FORCE ? 'P' : 0, 300));
		CHECK(live() == 0); /* the PREPARE went with its outcome */
		CHECK(stop() == 0);
	}
}

/* The commit of a prepared transaction whose PREPARE cannot be released
 * (a full log): the log is broken, so no truncation takes the commit
 * record away while the PREPARE stays; after a restart the commit is
 * found after it, applied, and nothing is in doubt. */
static int
crash_after_a_failed_release(void *arg)
{
	(void)arg;
	uint8_t *p = start();
	uint32_t h;
	rvm_tid_t t;
	if (!p || change(&t, p, 7000, 200, 'R') ||
	    rvm_prepare_transaction(&t, 0x77) || qs_log_open("tm", &h, NULL) ||
	    qs_log_force(h, 0, 0))
		return 1;
	log_local_fail_release(QS_ENOSPC);
	if (rvm_end_transaction(&t, RVM_FLUSH)) /* logged; its PREPARE stays */
		return 2;
	if (qs_log_force(h, 0, 0)) /* the TM's */
		return 3;
	if (write_tx(p, 7000, 200, 'S', RVM_FLUSH) != RVM_EIO ||
	    rvm_truncate() != RVM_EIO)
		return 4; /* broken: no more commits, no truncation */
	return 0;
}

static void
test_a_prepare_that_cannot_go_breaks_the_log(void)
{
	fresh();
	CHECK(rt_child(crash_after_a_failed_release, NULL) == 0);
	uint8_t *p = start();
	if (!CHECK(p))
		return;
	rvm_options_t q;
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.n_in_doubt == 0);
	CHECK(rt_all(p + 7000, 'R', 200));
	CHECK(live() == 0);
	CHECK(stop() == 0);
}

int
main(void)
{
	rt_scratch();
	RUN(test_flush_commits_survive_a_crash);
	RUN(test_truncation_releases_and_the_log_wraps);
	RUN(test_a_record_longer_than_a_node_record);
	RUN(test_a_torn_long_record_is_dropped);
	RUN(test_a_foreign_record_is_damage);
	RUN(test_a_prepare_the_tm_forced_is_in_doubt);
	RUN(test_an_unforced_prepare_is_lost_whole);
	RUN(test_an_outcome_the_tm_forced_stands);
	RUN(test_a_prepare_that_cannot_go_breaks_the_log);
	return check_summary();
}
