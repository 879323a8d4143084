/*
 * Termination. One phase when no participant is recoverable: the outcome is
 * decided at once and the volatile participants are told. Otherwise two
 * phases with presumed abort: every recoverable participant is asked to
 * prepare and must vote within the deadline; any "no", any silence, or an
 * abort asked for meanwhile aborts. Read-only voters hear nothing more.
 *
 * The lock is dropped while waiting for participants; a record that is not
 * ACTIVE belongs to the thread terminating it, so nothing else changes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/tx.h>
#include "tm.h"

#define ABANDONED_MAX 256

/* Notices sent and never answered; their completions are reaped later. */
static int abandoned[ABANDONED_MAX];
static qs_mutex_t abandoned_lock = QS_MUTEX_INIT;

typedef struct {
	qs_msg_hdr_t hdr;
	uint8_t data[16];
} notice_reply_t;

static void
abandon(int rid)
{
	qs_mutex_lock(&abandoned_lock);
	for (int i = 0; i < ABANDONED_MAX; i++) {
		if (!abandoned[i]) {
			abandoned[i] = rid;
			tm_stats.unanswered++;
			break;
		}
	}
	qs_mutex_unlock(&abandoned_lock);
}

static void *
reaper(void *arg)
{
	(void)arg;
	notice_reply_t reply;
	static int rids[ABANDONED_MAX];
	for (;;) {
		qs_sleep(500);
		qs_mutex_lock(&abandoned_lock); /* not held while polling */
		memcpy(rids, abandoned, sizeof(rids));
		qs_mutex_unlock(&abandoned_lock);
		for (int i = 0; i < ABANDONED_MAX; i++) {
			if (!rids[i] || qs_wait(rids[i], (qs_msg_t *)&reply,
						sizeof(reply), 0) == QS_ETIMEDOUT)
				continue;
			qs_mutex_lock(&abandoned_lock);
			abandoned[i] = 0;
			tm_stats.unanswered--;
			qs_mutex_unlock(&abandoned_lock);
		}
	}
	return NULL;
}

void
tm_reaper_start(void)
{
	if (!qs_thread_create(reaper, NULL))
		printf("tm: no reaper thread: unanswered notices will pile up\n");
}

static int
send_notice(tm_rec_t *r, const tm_part_t *p, uint32_t op)
{
	qs_msg_hdr_t m = { 0 }; /* a notice carries nothing but its header */
	m.opcode = op;
	qs_tx_set(r->tx);
	int rid = qs_send(p->rqid, (const qs_msg_t *)&m);
	tm_stats.notices += rid > 0;
	return rid;
}

/*
 * Waits until `deadline` (uptime ms) for the answer to rid; gives it up
 * after that. Returns its status, or QS_ETIMEDOUT.
 */
static int
await(int rid, uint32_t deadline)
{
	notice_reply_t reply;
	int32_t left = (int32_t)(deadline - qs_uptime_ms());
	int r = qs_wait(rid, (qs_msg_t *)&reply, sizeof(reply), left > 0 ? left : 0);
	if (r == QS_ETIMEDOUT) {
		abandon(rid);
		return r;
	}
	return r < 0 ? r : reply.hdr.status;
}

/* Phase one; lock held on entry and exit. True if all voted yes or read-only. */
static bool
votes(tm_rec_t *r)
{
	int rids[TM_PARTS_MAX];
	for (uint32_t i = 0; i < r->nparts; i++)
		rids[i] = r->parts[i].cls == QS_TX_RECOVERABLE
				  ? send_notice(r, &r->parts[i], TM_NOTE_PREPARE)
				  : 0;
	qs_mutex_unlock(&tm_lock);
	uint32_t deadline = qs_uptime_ms() + tm_stats.vote_ms;
	bool yes = true;
	uint32_t timeouts = 0;
	for (uint32_t i = 0; i < r->nparts; i++) {
		tm_part_t *p = &r->parts[i];
		if (!rids[i])
			continue;
		int v = rids[i] < 0 ? rids[i] : await(rids[i], deadline);
		p->vote = v == QS_VOTE_YES || v == QS_VOTE_READONLY ? v : QS_VOTE_NO;
		yes = yes && p->vote != QS_VOTE_NO;
		if (v == QS_ETIMEDOUT) {
			char b[QS_TX_TEXT];
			printf("tm: %s: pid %d did not vote within %u ms: abort\n",
			       qs_tx_format(r->tx, b), p->pid, tm_stats.vote_ms);
			timeouts++;
		}
	}
	qs_mutex_lock(&tm_lock);
	tm_stats.vote_timeouts += timeouts;
	return yes && !r->abort_asked;
}

/*
 * Phase two (or the one phase): tells whoever still cares; lock held.
 * Returns how many recoverable participants did not acknowledge.
 */
static int
tell(tm_rec_t *r, int outcome)
{
	int rids[TM_PARTS_MAX];
	uint32_t op = outcome == QS_TX_COMMITTED ? TM_NOTE_COMMIT : TM_NOTE_ABORT;
	for (uint32_t i = 0; i < r->nparts; i++) {
		tm_part_t *p = &r->parts[i];
		bool told = p->cls != QS_TX_NONE && p->vote != QS_VOTE_READONLY;
		rids[i] = told ? send_notice(r, p, op) : 0;
	}
	qs_mutex_unlock(&tm_lock);
	uint32_t deadline = qs_uptime_ms() + tm_stats.vote_ms;
	int unacked = 0;
	for (uint32_t i = 0; i < r->nparts; i++) {
		bool ok = rids[i] > 0 && await(rids[i], deadline) == 0;
		unacked += r->parts[i].cls == QS_TX_RECOVERABLE && rids[i] && !ok;
	}
	qs_mutex_lock(&tm_lock);
	return unacked;
}

static bool
any_recoverable(const tm_rec_t *r)
{
	for (uint32_t i = 0; i < r->nparts; i++)
		if (r->parts[i].cls == QS_TX_RECOVERABLE)
			return true;
	return false;
}

/*
 * For the crash tests: boot argument tm_stall=voted (after the votes, before
 * the commit point) or tm_stall=logged (after it, before anyone is told)
 * stops the first two-phase commit there for good, so the test can kill the
 * node at that point.
 */
static void
stall(const char *point, tm_rec_t *r)
{
	static char want[8];
	static bool read;
	if (!read) { /* once: reading a boot argument costs port I/O */
		qs_boot_arg("tm_stall", want, sizeof(want));
		read = true;
	}
	if (strcmp(want, point) != 0)
		return;
	char b[QS_TX_TEXT];
	printf("tm: stalled %s: %s\n", point, qs_tx_format(r->tx, b));
	qs_mutex_unlock(&tm_lock);
	for (;;)
		qs_sleep(60000);
}

int
tm_finish(tm_rec_t *r, bool commit)
{
	int outcome = QS_TX_ABORTED;
	bool logged = false;
	if (commit) {
		r->state = TM_PREPARING;
		if (!any_recoverable(r)) {
			outcome = QS_TX_COMMITTED; /* one phase: nothing to log */
		} else if (votes(r)) {
			stall("voted", r);
			/* the commit point */
			logged = tmlog_force(r->tx, TM_LOG_COMMITTED) == 0;
			outcome = logged ? QS_TX_COMMITTED : QS_TX_ABORTED;
			stall("logged", r);
		}
	}
	r->state = outcome == QS_TX_COMMITTED ? TM_COMMITTED : TM_ABORTED;
	/* decided: its owner goes on under a fresh transaction at once */
	qs_syscall(SYS_TX_END, (uint32_t)r->tx, (uint32_t)(r->tx >> 32), 0, 0, 0);
	/* everyone has it: the entry can go; else they ask after recovery */
	if (tell(r, outcome) == 0 && logged)
		tmlog_end(r->tx);
	if (outcome == QS_TX_COMMITTED)
		tm_stats.committed++;
	else
		tm_stats.aborted++;
	rec_ended(r->tx, r->owner, outcome);
	rec_free(r);
	return outcome == QS_TX_COMMITTED ? QS_OK : QS_EABORTED;
}
