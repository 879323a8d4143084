/*
 * Termination, down the tree. A node's part of a transaction is its local
 * participants and its subordinate nodes (requests of the transaction went
 * there); every round goes to both at once, the local ones as notices on
 * their recovery queues, the subordinates as requests to their TMs
 * (tree.c), which do the same below them.
 *
 * The root decides. One phase when no participant anywhere is recoverable:
 * it knows, because a subordinate's answers carry the CM's piggyback
 * "recoverable below" (TM_EDGE_RECOVERABLE). Otherwise two phases, presumed
 * abort: phase one asks every recoverable participant and every subordinate
 * to prepare within the deadline; any "no", any silence, or an abort asked
 * for meanwhile aborts. A subordinate votes for its whole subtree: yes
 * (after forcing "prepared" if anything below is recoverable), no, or
 * read-only when nothing below needs phase two; read-only voters hear
 * nothing more. Log forces: the root's commit decision, once, only when
 * somebody voted yes; a subordinate's "prepared", once, only if recoverable
 * work voted yes in its subtree. Aborts and one-phase commits force
 * nothing.
 *
 * Notices go out through client.c: a participant that leaves
 * TM_UNANSWERED_MAX of them unanswered is not asked to vote (a no), and its
 * commit and abort notices wait there for it to catch up.
 *
 * Locking: entered with tm_lock held. The thread that terminates a record
 * marks it busy and drops the lock while it waits; nobody else changes a
 * busy record (they may set abort_asked).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/tx.h>
#include "tm.h"

typedef struct {
	qs_msg_hdr_t hdr;
	uint8_t data[16];
} notice_reply_t;

int
tree_await(int rid, uint32_t deadline, int32_t pid)
{
	notice_reply_t reply;
	int32_t left = (int32_t)(deadline - qs_uptime_ms());
	int r = qs_wait(rid, (qs_msg_t *)&reply, sizeof(reply), left > 0 ? left : 0);
	if (r == QS_ETIMEDOUT) {
		client_abandon(rid, pid);
		return r;
	}
	return r < 0 ? r : reply.hdr.status;
}

/*
 * One round, the lock dropped: `op` to the local participants and the
 * subordinates marked in the masks, all sent before any is awaited.
 * Answers (statuses, or errors) go to lans[] and sans[].
 */
typedef struct {
	bool local[TM_PARTS_MAX], sub[TM_SUBS_MAX];
	int lans[TM_PARTS_MAX], sans[TM_SUBS_MAX];
} round_t;

static void
round_run(tm_rec_t *r, round_t *rd, uint32_t note, uint32_t op,
	  const void *data, uint32_t len, uint32_t deadline)
{
	int lrid[TM_PARTS_MAX], srid[TM_SUBS_MAX];
	qs_mutex_unlock(&tm_lock);
	for (uint32_t i = 0; i < r->nparts; i++)
		lrid[i] = rd->local[i] ? client_notice(r->tx, &r->parts[i], note)
				       : 0;
	for (uint32_t i = 0; i < r->nsubs; i++)
		srid[i] = rd->sub[i] ? tree_send(r->subs[i].node, r->tx, op, data,
						 len)
				     : 0;
	for (uint32_t i = 0; i < r->nparts; i++)
		rd->lans[i] = lrid[i] > 0 ? tree_await(lrid[i], deadline,
						       r->parts[i].pid)
					  : lrid[i];
	for (uint32_t i = 0; i < r->nsubs; i++)
		rd->sans[i] = srid[i] > 0 ? tree_await(srid[i], deadline, 0)
					  : srid[i];
	qs_mutex_lock(&tm_lock);
}

static const char *
txt(uint64_t tx)
{
	static char b[QS_TX_TEXT]; /* for messages, under tm_lock */
	return qs_tx_format(tx, b);
}

/*
 * Phase one over this node's part, skipping subordinate `skip` (the node
 * that asked, or the one coordination moves to). True if nobody voted no
 * or kept silent; *yes tells whether anyone voted yes (not read-only).
 */
static bool
phase_one(tm_rec_t *r, uint32_t deadline, uint32_t skip, bool *yes)
{
	round_t rd;
	memset(&rd, 0, sizeof(rd));
	for (uint32_t i = 0; i < r->nparts; i++)
		rd.local[i] = r->parts[i].cls == QS_TX_RECOVERABLE;
	for (uint32_t i = 0; i < r->nsubs; i++)
		rd.sub[i] = r->subs[i].node != skip && r->subs[i].vote < 0;
	round_run(r, &rd, TM_NOTE_PREPARE, TM_OP_PREPARE, &r->tx, sizeof(r->tx),
		  deadline);
	bool ok = !r->abort_asked;
	*yes = false;
	for (uint32_t i = 0; i < r->nparts; i++) {
		tm_part_t *p = &r->parts[i];
		if (!rd.local[i])
			continue;
		int v = rd.lans[i];
		p->vote = v == QS_VOTE_YES || v == QS_VOTE_READONLY ? v : QS_VOTE_NO;
		if (v == QS_ETIMEDOUT) {
			printf("tm: %s: pid %d did not vote within %u ms: abort\n",
			       txt(r->tx), p->pid, tm_stats.vote_ms);
			tm_stats.vote_timeouts++;
		} else if (v == QS_ELIMIT) {
			printf("tm: %s: pid %d has %d notices unanswered, not "
			       "asked: abort\n", txt(r->tx), p->pid,
			       TM_UNANSWERED_MAX);
		}
		ok = ok && p->vote != QS_VOTE_NO;
		*yes = *yes || p->vote == QS_VOTE_YES;
	}
	for (uint32_t i = 0; i < r->nsubs; i++) {
		tm_sub_t *s = &r->subs[i];
		if (!rd.sub[i])
			continue;
		int v = rd.sans[i];
		/* silent: it may be prepared, so it hears the abort (vote -1) */
		s->vote = v >= QS_VOTE_YES && v <= QS_VOTE_READONLY ? v : -1;
		if (v != QS_VOTE_YES && v != QS_VOTE_READONLY) {
			printf("tm: %s: node %u voted no (%s)\n", txt(r->tx), s->node,
			       v == QS_VOTE_NO ? "its subtree" : qs_strerror(v));
			ok = false;
		}
		*yes = *yes || s->vote == QS_VOTE_YES;
	}
	return ok;
}

/*
 * Phase two (or the one phase): tells every local participant and
 * subordinate that still cares. Subordinates that take the commit are
 * marked acked. Returns how many recoverable participants and prepared
 * subordinates did not acknowledge.
 */
static int
phase_two(tm_rec_t *r, int outcome)
{
	round_t rd;
	memset(&rd, 0, sizeof(rd));
	for (uint32_t i = 0; i < r->nparts; i++)
		rd.local[i] = r->parts[i].cls != QS_TX_NONE &&
			      r->parts[i].vote != QS_VOTE_READONLY;
	for (uint32_t i = 0; i < r->nsubs; i++)
		rd.sub[i] = r->subs[i].vote != QS_VOTE_READONLY &&
			    r->subs[i].vote != QS_VOTE_NO && !r->subs[i].acked;
	tm_end_t e = { r->tx, outcome };
	uint32_t op = outcome == QS_TX_COMMITTED ? TM_NOTE_COMMIT : TM_NOTE_ABORT;
	round_run(r, &rd, op, TM_OP_END, &e, sizeof(e),
		  qs_uptime_ms() + tm_stats.vote_ms);
	int unacked = 0;
	for (uint32_t i = 0; i < r->nparts; i++) {
		/* (or a later incarnation said it recovered: tmlog_recovered) */
		r->parts[i].acked = r->parts[i].acked ||
				    (rd.local[i] && rd.lans[i] == 0);
		unacked += rd.local[i] && r->parts[i].cls == QS_TX_RECOVERABLE &&
			   rd.lans[i] != 0;
	}
	for (uint32_t i = 0; i < r->nsubs; i++) {
		if (!rd.sub[i])
			continue;
		r->subs[i].acked = rd.sans[i] == 0;
		unacked += !r->subs[i].acked && r->subs[i].vote == QS_VOTE_YES;
	}
	return unacked;
}

/* The log entry for r in `state`: the subordinates that voted yes. */
static int
log_force(tm_rec_t *r, uint32_t state)
{
	tm_log_rec_t e;
	memset(&e, 0, sizeof(e));
	e.tx = r->tx;
	e.state = state;
	e.superior = state == TM_LOG_PREPARED ? r->superior : TM_NO_NODE;
	for (uint32_t i = 0; i < r->nsubs; i++)
		if (r->subs[i].vote == QS_VOTE_YES)
			e.subs[e.nsubs++] = (uint8_t)r->subs[i].node;
	tmlog_owed(r, &e); /* who here must hear the commit */
	int rc = tmlog_force(&e);
	r->logged = rc == 0;
	return rc;
}

/*
 * For the crash tests: boot argument tm_stall=voted (after the votes, before
 * the commit point), logged (after it, before anyone is told), prepared (a
 * subordinate, after forcing "prepared", before it answers), handed (the
 * owner's node, after handing coordination over, before the answer) or
 * resolved (a prepared subordinate told the outcome, after telling its
 * participants and subordinates, before it forgets the transaction: after
 * a restart, a crash half-way through recovery) stops the first such
 * transaction there, so the test can kill the node or cut
 * its link at that point: for good, or for tm_stall_ms.
 */
void
tm_stall(const char *point, tm_rec_t *r)
{
	static char want[12], ms[12];
	static bool read, done;
	if (!read) { /* once: reading a boot argument costs port I/O */
		qs_boot_arg("tm_stall", want, sizeof(want));
		qs_boot_arg("tm_stall_ms", ms, sizeof(ms));
		read = true;
	}
	if (done || strcmp(want, point) != 0)
		return;
	done = true;
	long pause = 0;
	bool timed = qs_parse_int(ms, &pause) == 0 && pause > 0;
	printf("tm: stalled %s: %s\n", point, txt(r->tx));
	qs_mutex_unlock(&tm_lock);
	do
		qs_sleep(timed ? (uint32_t)pause : 60000);
	while (!timed);
	qs_mutex_lock(&tm_lock);
	printf("tm: going on after %s: %s\n", point, txt(r->tx));
}

/* The end of r here once phase two is done: the log and the record. */
static void
settle(tm_rec_t *r, int outcome)
{
	bool pending = false;
	for (uint32_t i = 0; i < r->nsubs; i++)
		pending = pending || (outcome == QS_TX_COMMITTED &&
				      r->subs[i].vote == QS_VOTE_YES &&
				      !r->subs[i].acked);
	if (r->logged) /* it goes, or names who here still needs it */
		tmlog_settle(r, outcome, pending);
	if (pending) { /* tree.c pushes the commit until they have it */
		rec_drop_parts(r); /* they have been told */
		r->busy = false;
		r->since = qs_uptime_ms();
		return;
	}
	rec_ended(r->tx, r->owner, outcome);
	rec_free(r);
}

int
tm_finish(tm_rec_t *r, bool commit)
{
	int outcome = QS_TX_ABORTED;
	bool yes = false;
	r->busy = true;
	if (commit && !r->abort_asked) {
		rec_set_state(r, TM_PREPARING);
		if (!rec_recoverable(r)) {
			outcome = QS_TX_COMMITTED; /* one phase: nothing to log */
			tm_stats.one_phase++;
		} else if (phase_one(r, qs_uptime_ms() + tm_stats.vote_ms,
				     TM_NO_NODE, &yes)) {
			tm_stall("voted", r);
			outcome = QS_TX_COMMITTED;
			if (yes) { /* the commit point */
				outcome = log_force(r, TM_LOG_COMMITTED) == 0
						  ? QS_TX_COMMITTED : QS_TX_ABORTED;
				tm_stats.two_phase++;
				tm_stall("logged", r);
			} else {
				tm_stats.read_only++;
			}
		}
	}
	rec_set_state(r, outcome == QS_TX_COMMITTED ? TM_COMMITTED : TM_ABORTED);
	/* decided: its owner goes on under a fresh transaction at once */
	qs_syscall(SYS_TX_END, (uint32_t)r->tx, (uint32_t)(r->tx >> 32), 0, 0, 0);
	phase_two(r, outcome);
	if (outcome == QS_TX_COMMITTED)
		tm_stats.committed++;
	else
		tm_stats.aborted++;
	settle(r, outcome);
	return outcome == QS_TX_COMMITTED ? QS_OK : QS_EABORTED;
}

/* Does anything here or below still need the outcome? */
static bool
needs_phase_two(const tm_rec_t *r)
{
	for (uint32_t i = 0; i < r->nparts; i++)
		if (r->parts[i].cls != QS_TX_NONE &&
		    r->parts[i].vote != QS_VOTE_READONLY)
			return true;
	for (uint32_t i = 0; i < r->nsubs; i++)
		if (r->subs[i].vote == QS_VOTE_YES)
			return true;
	return false;
}

int
tm_prepare_sub(tm_rec_t *r, uint32_t superior)
{
	bool yes;
	r->busy = true;
	rec_set_state(r, TM_PREPARING);
	tm_sub_t *up = rec_sub(r, superior);
	if (up) /* a request went back up the tree: that node has its own part */
		up->vote = QS_VOTE_READONLY;
	/* half the deadline: the answer must reach the superior in time */
	uint32_t deadline = qs_uptime_ms() + tm_stats.vote_ms / 2;
	if (!phase_one(r, deadline, TM_NO_NODE, &yes)) {
		tm_end_sub(r, QS_TX_ABORTED);
		return QS_VOTE_NO;
	}
	if (!needs_phase_two(r)) {
		tm_end_sub(r, QS_TX_COMMITTED); /* tells nobody: all read-only */
		return QS_VOTE_READONLY;
	}
	if (yes && log_force(r, TM_LOG_PREPARED) < 0) {
		tm_end_sub(r, QS_TX_ABORTED);
		return QS_VOTE_NO;
	}
	tm_stall("prepared", r);
	rec_set_state(r, TM_PREPARED);
	r->busy = false;
	return QS_VOTE_YES;
}

int
tm_end_sub(tm_rec_t *r, int outcome)
{
	r->busy = true;
	rec_set_state(r, outcome == QS_TX_COMMITTED ? TM_COMMITTED : TM_ABORTED);
	int unacked = phase_two(r, outcome);
	/* Our superior forgets once we answer: a commit that someone here
	 * has not taken must survive us. If it cannot be logged (a full
	 * log), we do not answer: the superior asks again, and so does the
	 * tree thread here, until it is. */
	bool held = false;
	if (outcome == QS_TX_COMMITTED && (unacked || tmlog_owes(r)) &&
	    r->logged && tmlog_state(r->tx) != TM_LOG_COMMITTED) {
		held = log_force(r, TM_LOG_COMMITTED) < 0;
		r->logged = true; /* its "prepared" entry is there in any case */
	} else if (outcome == QS_TX_COMMITTED && r->logged &&
		   tmlog_state(r->tx) == TM_LOG_PREPARED) {
		/* A subordinate: the participants here appended their commits
		 * to the node log unforced (RVM over it): durable before we
		 * answer (R*'s subordinate commit force). */
		held = tmlog_sync(r->tx) < 0;
	}
	if (held) {
		r->busy = false;
		r->since = qs_uptime_ms();
		return QS_EAGAIN;
	}
	if (r->logged)
		tm_stall("resolved", r);
	settle(r, outcome);
	return 0;
}

int
tm_finish_delegated(tm_rec_t *r)
{
	bool yes;
	uint32_t to = r->coordinator;
	r->busy = true;
	rec_set_state(r, TM_PREPARING);
	if (!phase_one(r, qs_uptime_ms() + tm_stats.vote_ms, to, &yes)) {
		tm_finish(r, false);
		return QS_EABORTED;
	}
	/* this part is a subordinate of the new coordinator now */
	r->superior = to;
	rec_sub(r, to)->vote = QS_VOTE_READONLY; /* it needs nothing from us */
	if (yes && log_force(r, TM_LOG_PREPARED) < 0) {
		tm_finish(r, false);
		return QS_EABORTED;
	}
	rec_set_state(r, TM_PREPARED);
	tm_stats.delegated++;
	int vote = yes || needs_phase_two(r) ? QS_VOTE_YES : QS_VOTE_READONLY;
	qs_mutex_unlock(&tm_lock);
	int rid = tree_send(to, r->tx, TM_OP_TAKEOVER, &vote, sizeof(vote));
	qs_mutex_lock(&tm_lock);
	tm_stall("handed", r);
	qs_mutex_unlock(&tm_lock);
	/* the new coordinator runs a whole phase one of its own first */
	int outcome = rid > 0 ? tree_await(rid, qs_uptime_ms() + 3 * tm_stats.vote_ms,
					   0)
			      : rid;
	qs_mutex_lock(&tm_lock);
	qs_syscall(SYS_TX_END, (uint32_t)r->tx, (uint32_t)(r->tx >> 32), 0, 0, 0);
	if (outcome != QS_TX_COMMITTED && outcome != QS_TX_ABORTED) {
		/* in doubt: tree.c asks the new coordinator until it knows */
		printf("tm: %s: no answer from coordinator node %u (%s): in "
		       "doubt\n", txt(r->tx), to, qs_strerror(outcome));
		r->busy = false;
		r->since = qs_uptime_ms();
		tm_stats.in_doubt++;
		return QS_EUNREACH;
	}
	tm_end_sub(r, outcome);
	if (outcome == QS_TX_COMMITTED)
		tm_stats.committed++;
	else
		tm_stats.aborted++;
	return outcome == QS_TX_COMMITTED ? QS_OK : QS_EABORTED;
}
