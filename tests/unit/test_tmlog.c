/*
 * The TM's log (servers/tm/log.c) over the node log's store, in this
 * process (log_local.c): 1,100 entries, prepared and committed, across a
 * crash of the TM (a child process that ends without closing anything):
 * every one comes back in its state, none is taken for aborted, and those
 * released stay gone. The old TM log kept 1,024 slots and overwrote
 * entries of earlier boots. A log that live entries fill pushes back: the
 * force fails, and every entry forced before is kept. A commit a
 * participant did not acknowledge (it died) is kept, across a crash, until
 * a later incarnation of its program says it has recovered.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "rvm_test.h"
#include "log_local.h"
#include <qs/log.h>
#include <qs/tx.h>
#include "../../servers/tm/tm.h"

#define ENTRIES 1100

extern uint32_t tm_stub_incarnation;
extern tm_rec_t *tm_stub_recs;

static tm_log_rec_t
entry_of(uint64_t tx)
{
	tm_log_rec_t e;
	memset(&e, 0, sizeof(e));
	e.tx = tx;
	e.state = tx % 2 ? TM_LOG_PREPARED : TM_LOG_COMMITTED;
	e.superior = tx % 2 ? 1 : TM_NO_NODE;
	e.nsubs = tx % 2 ? 0 : 1;
	e.subs[0] = 2;
	return e;
}

/* A TM's life: forces ENTRIES entries, ends every twentieth (1,045
 * stay, more than the old 1,024 slots), and crashes. */
static int
first_boot(void *arg)
{
	(void)arg;
	if (tmlog_open() != 0)
		return -1;
	for (uint64_t tx = 1; tx <= ENTRIES; tx++) {
		tm_log_rec_t e = entry_of(tx);
		qs_mutex_lock(&tm_lock);
		int r = tmlog_force(&e);
		if (!r && tx % 20 == 0)
			tmlog_end(tx);
		qs_mutex_unlock(&tm_lock);
		if (r)
			return -2;
	}
	return 0;
}

static void
test_1100_entries_survive_a_crash(void)
{
	rt_file(LOG_LOCAL_DEV, 1024 * 1024);
	log_local_reset();
	CHECK(rt_child(first_boot, NULL) == 0);
	tm_stub_incarnation = 2;
	log_local_reset();
	CHECK(tmlog_open() == 0);
	/* the last release came after the last force: it may be lost, and
	   the entry kept a little longer, which is harmless */
	int wrong = 0, last_kept = tmlog_state(ENTRIES) != 0;
	for (uint64_t tx = 1; tx < ENTRIES; tx++) {
		uint32_t want = tx % 20 == 0 ? 0 : entry_of(tx).state;
		if (tmlog_state(tx) != want && wrong++ < 5)
			printf("tx %llu: state %u, not %u\n",
			       (unsigned long long)tx, tmlog_state(tx), want);
	}
	CHECK(wrong == 0);
	uint32_t live = ENTRIES - ENTRIES / 20 + last_kept;
	CHECK(tmlog_entries() == live);
	CHECK(tm_stats.log_in_doubt == ENTRIES / 2 &&
	      tm_stats.log_committed == live - ENTRIES / 2);
	/* what recovery pushes on: the prepared, the committed with subs */
	tm_log_rec_t e;
	uint32_t i = 0, pending = 0;
	while (tmlog_pending(&i, &e))
		pending += e.state == entry_of(e.tx).state;
	CHECK(pending == live);
}

static void
test_a_full_log_refuses_the_force_and_keeps_the_rest(void)
{
	rt_file(LOG_LOCAL_DEV, 64 * 1024);
	log_local_reset();
	tm_stub_incarnation = 3;
	CHECK(tmlog_open() == 0);
	uint64_t tx = 100000;
	int r = 0;
	qs_mutex_lock(&tm_lock);
	while (r == 0 && tx < 102000) {
		tm_log_rec_t e = entry_of(++tx);
		r = tmlog_force(&e);
	}
	qs_mutex_unlock(&tm_lock);
	CHECK(r == LOG_FULL && tx < 102000);
	uint64_t last_ok = tx - 1;
	tm_stub_incarnation = 4;
	log_local_reset();
	CHECK(tmlog_open() == 0);
	int kept = 1;
	for (uint64_t t = 100001; t <= last_ok; t++)
		kept = kept && tmlog_state(t) == entry_of(t).state;
	CHECK(kept && tmlog_state(tx) == 0);
}

/* A force whose answer is lost after it reached the disk. */
static int
lost_answer(void *arg)
{
	(void)arg;
	if (tmlog_open() != 0)
		return -1;
	tm_log_rec_t e = entry_of(2); /* committed */
	log_local_fail_force(QS_EIO);
	qs_mutex_lock(&tm_lock);
	int r = tmlog_force(&e); /* must not return: either answer is a guess */
	qs_mutex_unlock(&tm_lock);
	return r == 0 ? 10 : 11;
}

static void
test_a_force_of_unknown_fate_stops_the_tm(void)
{
	rt_file(LOG_LOCAL_DEV, 64 * 1024);
	log_local_reset();
	CHECK(rt_child(lost_answer, NULL) == 3); /* the TM's fail-stop */
	tm_stub_incarnation = 5;
	log_local_reset();
	CHECK(tmlog_open() == 0 && tmlog_state(2) == TM_LOG_COMMITTED);
}

/* tx 7 commits here with two recoverable participants, fs (pid 20) and
 * wm (pid 21); wm acknowledges, fs has died; then the TM crashes. */
static int
owed_boot(void *arg)
{
	(void)arg;
	if (tmlog_open() != 0)
		return -1;
	static tm_rec_t r;
	memset(&r, 0, sizeof(r));
	r.tx = 7;
	r.nparts = 3;
	r.parts[0] = (tm_part_t){ .pid = 20, .cls = QS_TX_RECOVERABLE,
				  .vote = QS_VOTE_YES, .name = 1 };
	r.parts[1] = (tm_part_t){ .pid = 21, .cls = QS_TX_RECOVERABLE,
				  .vote = QS_VOTE_YES, .name = 2 };
	r.parts[2] = (tm_part_t){ .pid = 22, .cls = QS_TX_VOLATILE, .name = 2 };
	tm_log_rec_t e;
	memset(&e, 0, sizeof(e));
	e.tx = r.tx;
	e.state = TM_LOG_COMMITTED;
	e.superior = TM_NO_NODE;
	qs_mutex_lock(&tm_lock);
	tm_stub_recs = &r;
	tmlog_owed(&r, &e); /* the commit point: nobody has it yet */
	int bad = tmlog_force(&e) != 0 || e.owed[0].pid != 20 ||
		  e.owed[1].pid != 21 || e.owed[2].pid != 0 || e.unnamed;
	r.parts[1].acked = true; /* phase two */
	tmlog_settle(&r, QS_TX_COMMITTED, false);
	tm_stub_recs = NULL; /* the record goes */
	bad |= (tmlog_state(7) != TM_LOG_COMMITTED || tmlog_owing() != 1) << 1;
	/* the same process of the same boot is not a later incarnation */
	tmlog_recovered("fs", 20);
	bad |= (tmlog_state(7) != TM_LOG_COMMITTED) << 2;
	qs_mutex_unlock(&tm_lock);
	return bad;
}

static void
test_a_commit_owed_to_a_dead_participant_goes_at_its_recovery(void)
{
	rt_file(LOG_LOCAL_DEV, 64 * 1024);
	log_local_reset();
	tm_stub_incarnation = 6;
	CHECK(rt_child(owed_boot, NULL) == 0);
	tm_stub_incarnation = 7;
	log_local_reset();
	CHECK(tmlog_open() == 0);
	/* kept; wm's acknowledgement was not forced, so it may be owed too */
	CHECK(tmlog_state(7) == TM_LOG_COMMITTED && tmlog_owing() == 1);
	qs_mutex_lock(&tm_lock);
	tmlog_recovered("wm", 40);
	CHECK(tmlog_state(7) == TM_LOG_COMMITTED); /* fs still needs it */
	tmlog_recovered("fs", 20); /* a new boot's fs, though the same pid */
	CHECK(tmlog_state(7) == 0 && tmlog_owing() == 0);
	/* a subordinate's "prepared" names its yes-voters too: after a
	   restart its record has no participants, and only the entry can say
	   that the commit, when it comes, is owed here */
	static tm_rec_t p, restored;
	memset(&p, 0, sizeof(p));
	p.tx = 9;
	p.nparts = 1;
	p.parts[0] = (tm_part_t){ .pid = 20, .cls = QS_TX_RECOVERABLE,
				  .vote = QS_VOTE_YES, .name = 1 };
	tm_log_rec_t pe;
	memset(&pe, 0, sizeof(pe));
	pe.tx = p.tx;
	pe.state = TM_LOG_PREPARED;
	tmlog_owed(&p, &pe);
	CHECK(tmlog_force(&pe) == 0 && pe.owed[0].pid == 20);
	qs_mutex_unlock(&tm_lock);
	tm_stub_incarnation = 8;
	log_local_reset();
	CHECK(tmlog_open() == 0 && tmlog_state(9) == TM_LOG_PREPARED);
	qs_mutex_lock(&tm_lock);
	memset(&restored, 0, sizeof(restored));
	restored.tx = 9;
	CHECK(tmlog_owes(&restored));
	tmlog_recovered("fs", 20); /* (it cannot while 9 is in doubt) */
	CHECK(!tmlog_owes(&restored) && tmlog_state(9) == TM_LOG_PREPARED);
	tmlog_settle(&restored, QS_TX_COMMITTED, false);
	CHECK(tmlog_state(9) == 0);
	/* one of no known name is kept for good */
	static tm_rec_t r;
	memset(&r, 0, sizeof(r));
	r.tx = 8;
	r.nparts = 1;
	r.parts[0] = (tm_part_t){ .pid = 50, .cls = QS_TX_RECOVERABLE,
				  .vote = QS_VOTE_YES };
	tm_log_rec_t e;
	memset(&e, 0, sizeof(e));
	e.tx = r.tx;
	e.state = TM_LOG_COMMITTED;
	tmlog_owed(&r, &e);
	CHECK(e.unnamed == 1 && tmlog_force(&e) == 0);
	tmlog_settle(&r, QS_TX_COMMITTED, false);
	tmlog_recovered("fs", 60);
	CHECK(tmlog_state(8) == TM_LOG_COMMITTED && tmlog_owing() == 1);
	/* an abort is never kept */
	tmlog_settle(&r, QS_TX_ABORTED, false);
	CHECK(tmlog_state(8) == 0);
	qs_mutex_unlock(&tm_lock);
}

int
main(void)
{
	rt_scratch();
	RUN(test_1100_entries_survive_a_crash);
	RUN(test_a_full_log_refuses_the_force_and_keeps_the_rest);
	RUN(test_a_force_of_unknown_fate_stops_the_tm);
	RUN(test_a_commit_owed_to_a_dead_participant_goes_at_its_recovery);
	log_local_reset();
	return check_summary();
}
