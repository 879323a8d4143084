/*
 * The TM's log: the two-phase commit points that must survive a crash, as
 * records of owner "tm" in the node log (servers/log, qs/log.h), keyed by
 * transaction id. A commit decision is forced before anyone is told (the
 * commit point), with the subordinate nodes that voted yes; the entry is
 * released, unforced, once every recoverable participant and those
 * subordinates have acknowledged. A subordinate's "prepared" is forced the
 * same way, with its superior (whom to ask) and its own subordinates.
 * Presumed abort: a transaction with no entry aborted, so aborts and
 * one-phase commits write nothing. The node log keeps an entry until it is
 * released, however many there are: when live entries fill it, a force
 * fails (the commit aborts) rather than lose one.
 *
 * One more record, key 0: the TM's starts and the node's incarnation at
 * the last one, to warn when transaction ids could repeat.
 *
 * At start the TM reads its records back: committed entries are answered
 * as such when a participant recovering from the crash asks (TM_OP_OUTCOME);
 * prepared ones stay in doubt until the superior says (tree.c), and
 * committed ones with subordinates are pushed to them again.
 *
 * Without a log manager (a node booted without a disk) the TM runs without
 * a log and says so: nothing recoverable can commit durably then. With one
 * whose log is damaged, every force fails, so recoverable work aborts.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/log.h>
#include <qs/sys.h>
#include <qs/tx.h>
#include "tm.h"

#define OWNER "tm"

enum { K_ENTRY = 1, K_BOOT = 2 };

typedef struct {
	uint32_t boots;       /* starts of this TM on this log */
	uint32_t incarnation; /* the node's, at the last start */
} boot_rec_t;

static enum { NO_LOG, LOG_OK, LOG_BROKEN } mode;
static char tx_text[QS_TX_TEXT]; /* for messages, under tm_lock */
static uint32_t owner;
static tm_log_rec_t *entries; /* the live ones; with tm_lock (or at start) */
static uint32_t n_entries, cap_entries;
static uint32_t this_boot; /* boot_rec_t.boots of this start */

static tm_log_rec_t *
entry(uint64_t tx)
{
	for (uint32_t i = 0; i < n_entries; i++)
		if (entries[i].tx == tx)
			return &entries[i];
	return NULL;
}

/* Room for one more entry in the table. */
static int
room(void)
{
	if (n_entries < cap_entries)
		return 0;
	uint32_t cap = cap_entries ? cap_entries * 2 : 64;
	tm_log_rec_t *b = realloc(entries, cap * sizeof(*b));
	if (!b)
		return QS_ENOMEM;
	entries = b;
	cap_entries = cap;
	return 0;
}

static int
keep(const tm_log_rec_t *e)
{
	tm_log_rec_t *o = entry(e->tx);
	if (o) {
		*o = *e;
		return 0;
	}
	int r = room();
	if (!r)
		entries[n_entries++] = *e;
	return r;
}

/* Errors of a force that say the record was not appended, so that the
 * transaction may be aborted; any other leaves it unknown. */
static int
not_logged(int r)
{
	return r == LOG_FULL || r == QS_ELIMIT || r == QS_EPERM ||
	       r == QS_EINVAL || r == QS_ENOMEM || r == QS_ENOENT;
}

/* An entry as read back: one of this size, or of the size before the
 * owed part (kept for good then, as it was). */
static bool
entry_ok(tm_log_rec_t *e, uint32_t len)
{
	if (len == offsetof(tm_log_rec_t, unnamed)) {
		memset(&e->unnamed, 0, sizeof(*e) - len);
		/* a commit kept for whoever did not acknowledge */
		e->unnamed = e->state == TM_LOG_COMMITTED;
	} else if (len != sizeof(*e)) {
		return false;
	}
	if (e->nsubs > TM_SUBS_MAX || e->unnamed > TM_PARTS_MAX)
		return false;
	for (uint32_t i = 0; i < TM_LOG_OWED; i++)
		e->owed[i].name[QS_NAME_MAX - 1] = '\0';
	return true;
}

/* Reads the TM's records back; the boot record into *boot. */
static int
read_back(boot_rec_t *boot)
{
	log_rec_t rec;
	union {
		tm_log_rec_t e;
		boot_rec_t b;
	} u;
	int r;
	for (uint64_t after = 0;; after = rec.seq) {
		memset(&u, 0, sizeof(u));
		r = qs_log_read(owner, after, &rec, &u, sizeof(u));
		if (r == QS_ENOENT)
			return 0;
		if (r < 0)
			return r;
		if (rec.kind == K_BOOT && rec.len == sizeof(u.b))
			*boot = u.b;
		else if (rec.kind == K_ENTRY && entry_ok(&u.e, rec.len) &&
			 u.e.tx == rec.key)
			r = keep(&u.e);
		else
			printf("tm: log: skipping a record of kind %u, %u "
			       "bytes: not the TM's\n", rec.kind, rec.len);
		if (r < 0)
			return r;
	}
}

static int
open_log(void)
{
	n_entries = 0;
	mode = NO_LOG;
	/* init's config starts the log manager and awaits its queue first */
	int r = qs_log_open(OWNER, &owner, NULL);
	if (r == QS_ENOENT) {
		printf("tm: no log manager: running without a log\n");
		return r;
	}
	mode = LOG_BROKEN;
	if (r < 0) {
		printf("tm: the node log refuses: %s; recoverable work will "
		       "abort (see the log manager's message)\n",
		       qs_strerror(r));
		return r;
	}
	boot_rec_t boot = { 0, 0 };
	if ((r = read_back(&boot)) < 0) {
		printf("tm: reading the log back: %s; recoverable work will "
		       "abort\n", qs_strerror(r));
		return r;
	}
	qs_node_info_t ni;
	qs_node_info(&ni);
	if (boot.boots && ni.incarnation <= boot.incarnation)
		printf("tm: warning: node incarnation %u did not advance past %u: "
		       "transaction ids may repeat earlier ones (boot with "
		       "tools/bin/qsnet, which counts starts)\n", ni.incarnation,
		       boot.incarnation);
	boot.boots++;
	boot.incarnation = ni.incarnation;
	this_boot = boot.boots;
	mode = LOG_OK;
	/* only for the warning above: a full log does not stop the TM */
	if ((r = qs_log_release(owner, 0, 0)) < 0 ||
	    (r = qs_log_append(owner, K_BOOT, 0, &boot, sizeof(boot),
			       LOG_F_FORCE, NULL)) < 0)
		printf("tm: log: recording this start: %s\n", qs_strerror(r));
	return 0;
}

int
tmlog_open(void)
{
	int r = open_log();
	uint32_t committed = 0, prepared = 0;
	for (uint32_t i = 0; i < n_entries; i++) {
		committed += entries[i].state == TM_LOG_COMMITTED;
		prepared += entries[i].state == TM_LOG_PREPARED;
	}
	tm_stats.log_committed = committed;
	tm_stats.log_in_doubt = prepared;
	if (!r)
		printf("tm: log: %u committed and %u in-doubt transactions "
		       "from before\n", committed, prepared);
	return r;
}

/* With tm_lock held, which it drops while the force waits for the disk
 * (the record is busy: nobody else changes it), so that concurrent commits
 * share a force; while others here are preparing, a group force, which
 * waits a little for theirs (qs/log.h). An error means the entry was not logged; a force whose
 * fate is unknown (the log's device failed, or the log manager died) stops
 * the TM: telling anyone either outcome could contradict the log. */
int
tmlog_force(const tm_log_rec_t *rec)
{
	if (mode == NO_LOG)
		return 0; /* no log: nothing can be made durable */
	if (mode == LOG_BROKEN)
		return QS_EIO;
	tm_log_rec_t e = *rec;
	int r = room(); /* so that a durable entry is never left out */
	if (r < 0)
		return r;
	uint32_t flags = LOG_F_FORCE | (rec_preparing(e.tx) ? LOG_F_GROUP : 0);
	qs_mutex_unlock(&tm_lock);
	r = qs_log_append(owner, K_ENTRY, e.tx, &e, sizeof(e), flags, NULL);
	qs_mutex_lock(&tm_lock);
	if (r < 0 && not_logged(r)) {
		printf("tm: log: forcing %s: %s\n", qs_tx_format(e.tx, tx_text),
		       qs_strerror(r));
		return r;
	}
	if (r < 0) { /* fail-stop: neither outcome may be told */
		printf("tm: the node log failed while forcing %s (%s): whether "
		       "it is logged is unknown, so the TM stops rather than "
		       "guess; restart the node, whose TM reads the log and "
		       "finishes what it holds\n",
		       qs_tx_format(e.tx, tx_text), qs_strerror(r));
		qs_exit(3);
	}
	tm_stats.log_forces++;
	return keep(&e);
}

/* Makes every record appended to the node log so far durable, whoever
 * appended it: the commits that the participants here logged unforced.
 * While other transactions here are about to force, lazily (qs/log.h):
 * one of their flushes takes these records too, so a subordinate's commit
 * costs no sync of its own under load; alone, at once. A refusal that
 * leaves nothing done (not_logged) is returned, to try again; a failure
 * of unknown effect is fail-stop, as in tmlog_force. */
int
tmlog_sync(uint64_t tx)
{
	if (mode != LOG_OK)
		return mode == NO_LOG ? 0 : QS_EIO;
	uint32_t flags = rec_forcing_soon(tx) ? LOG_FORCE_LAZY : 0;
	qs_mutex_unlock(&tm_lock);
	int r = qs_log_force(owner, 0, flags);
	qs_mutex_lock(&tm_lock);
	if (r < 0 && not_logged(r)) { /* nothing happened: try again later */
		printf("tm: log: forcing the commit of %s: %s\n",
		       qs_tx_format(tx, tx_text), qs_strerror(r));
		return r;
	}
	if (r < 0) {
		printf("tm: the node log failed while forcing the commit of %s "
		       "(%s): whether its participants' records are durable is "
		       "unknown, so the TM stops rather than acknowledge it; "
		       "restart the node\n", qs_tx_format(tx, tx_text),
		       qs_strerror(r));
		qs_exit(3);
	}
	tm_stats.log_forces++;
	return 0;
}

void
tmlog_end(uint64_t tx)
{
	tm_log_rec_t *e = entry(tx);
	if (!e)
		return;
	int r = qs_log_release(owner, tx, tx);
	if (r < 0) /* kept: the outcome is still known, and asked again */
		printf("tm: log: releasing %s: %s\n", qs_tx_format(tx, tx_text),
		       qs_strerror(r));
	else /* in order: tree.c walks them with tmlog_pending */
		memmove(e, e + 1, (entries + --n_entries - e) * sizeof(*e));
}

/* Whether owed o is a participant of r that has acknowledged. */
static bool
acked_in(const tm_rec_t *r, const tm_owed_t *o)
{
	for (uint32_t i = 0; i < r->nparts; i++)
		if (r->parts[i].pid == o->pid && r->parts[i].acked &&
		    o->boot == this_boot)
			return true;
	return false;
}

void
tmlog_owed(const tm_rec_t *r, tm_log_rec_t *e)
{
	/* those its entry already names (a record restored after a restart
	   has no participants: only its entry knows them), less those that
	   acknowledged since, and its yes-voters that have not */
	tm_owed_t list[TM_LOG_OWED];
	uint32_t n = 0, unnamed = 0;
	memset(list, 0, sizeof(list));
	const tm_log_rec_t *old = entry(r->tx);
	if (old) {
		unnamed = old->unnamed;
		for (uint32_t k = 0; k < TM_LOG_OWED; k++)
			if (old->owed[k].pid && !acked_in(r, &old->owed[k]))
				list[n++] = old->owed[k];
	}
	for (uint32_t i = 0; i < r->nparts; i++) {
		const tm_part_t *p = &r->parts[i];
		if (p->cls != QS_TX_RECOVERABLE || p->vote != QS_VOTE_YES ||
		    p->acked)
			continue;
		bool named = false;
		for (uint32_t k = 0; k < n; k++)
			named = named || (list[k].pid == p->pid &&
					  list[k].boot == this_boot);
		const char *name = client_name_text(p->name);
		if (named)
			continue;
		if (name && n < TM_LOG_OWED) {
			list[n].pid = p->pid;
			list[n].boot = this_boot;
			strcpy(list[n++].name, name);
		} else {
			unnamed++;
		}
	}
	e->unnamed = unnamed;
	memcpy(e->owed, list, sizeof(list));
}

static bool
owes(const tm_log_rec_t *e)
{
	if (e->unnamed)
		return true;
	for (uint32_t i = 0; i < TM_LOG_OWED; i++)
		if (e->owed[i].pid)
			return true;
	return false;
}

/* The changed entry, appended unforced: a crash that loses it leaves the
 * one before, which owes more (let go at those participants' recovery). */
static void
rewrite(const tm_log_rec_t *e)
{
	if (mode != LOG_OK)
		return;
	int r = qs_log_append(owner, K_ENTRY, e->tx, e, sizeof(*e), 0, NULL);
	if (r < 0)
		printf("tm: log: rewriting %s: %s\n",
		       qs_tx_format(e->tx, tx_text), qs_strerror(r));
}

bool
tmlog_owes(const tm_rec_t *r)
{
	tm_log_rec_t e;
	tmlog_owed(r, &e);
	return owes(&e);
}

void
tmlog_settle(const tm_rec_t *r, int outcome, bool pending)
{
	tm_log_rec_t *e = entry(r->tx);
	if (!e)
		return;
	if (outcome != QS_TX_COMMITTED) {
		tmlog_end(r->tx); /* presumed abort: nobody needs an abort kept */
		return;
	}
	tm_log_rec_t now = *e; /* those that acknowledged are owed nothing */
	tmlog_owed(r, &now);
	bool changed = memcmp(&now, e, sizeof(now)) != 0;
	*e = now;
	if (!pending && !owes(e)) {
		tmlog_end(r->tx);
		return;
	}
	if (changed)
		rewrite(e);
	if (pending)
		return;
	const char *who = NULL;
	for (uint32_t k = 0; k < TM_LOG_OWED && !who; k++)
		who = e->owed[k].pid ? e->owed[k].name : NULL;
	if (e->unnamed)
		printf("tm: %s committed: kept for good (a participant of no "
		       "known name did not acknowledge)\n",
		       qs_tx_format(r->tx, tx_text));
	else
		printf("tm: %s committed: kept until %s, which did not "
		       "acknowledge, recovers\n", qs_tx_format(r->tx, tx_text),
		       who);
}

void
tmlog_recovered(const char *name, int32_t pid)
{
	for (tm_rec_t *r = rec_first(); r; r = r->next)
		for (uint32_t i = 0; i < r->nparts; i++) {
			tm_part_t *p = &r->parts[i];
			const char *pn = client_name_text(p->name);
			if (p->pid != pid && pn && strcmp(pn, name) == 0)
				p->acked = true; /* a dead incarnation */
		}
	for (uint32_t i = 0; i < n_entries;) {
		tm_log_rec_t *e = &entries[i];
		bool was = owes(e), changed = false;
		for (uint32_t k = 0; k < TM_LOG_OWED; k++) {
			tm_owed_t *o = &e->owed[k];
			if (o->pid && strcmp(o->name, name) == 0 &&
			    (o->pid != pid || o->boot != this_boot)) {
				memset(o, 0, sizeof(*o));
				changed = true;
			}
		}
		if (changed && was && !owes(e) && !rec_find(e->tx) &&
		    e->state == TM_LOG_COMMITTED) {
			tmlog_end(e->tx); /* moves the ones after down */
			continue;
		}
		if (changed)
			rewrite(e);
		i++;
	}
}

uint32_t
tmlog_state(uint64_t tx)
{
	tm_log_rec_t *e = entry(tx);
	return e ? e->state : 0;
}

int
tmlog_pending(uint32_t *i, tm_log_rec_t *out)
{
	for (; *i < n_entries; (*i)++) {
		const tm_log_rec_t *e = &entries[*i];
		if (e->state == TM_LOG_PREPARED ||
		    (e->state == TM_LOG_COMMITTED && e->nsubs)) {
			*out = *e;
			(*i)++;
			return 1;
		}
	}
	return 0;
}

uint32_t
tmlog_entries(void)
{
	return n_entries;
}

uint32_t
tmlog_owing(void)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < n_entries; i++)
		n += entries[i].state == TM_LOG_COMMITTED && owes(&entries[i]) &&
		     !rec_find(entries[i].tx);
	return n;
}
