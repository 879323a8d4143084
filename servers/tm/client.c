/*
 * What each participant process holds in the TM, so that no one process can
 * wedge it for the others (docs/security.md), and the notices nobody waits
 * for any more.
 *
 * A notice (or a request to another TM) not answered by its deadline is
 * abandoned: the thread that waited goes on, and the reaper collects the
 * answer when it comes, or the kernel's error when the participant's queue
 * goes (it died). Until then the request counts against the TM's own
 * kernel limit on outstanding requests: if that were reached, every notice
 * to anyone would fail and every two-phase commit abort. So, per process
 * (by pid: participants join only at their own node's TM):
 *
 *  - its recovery queue must be its own, TM_RQ_PREFIX "PID", which the
 *    kernel lets no other process create: else the notices of a process's
 *    transactions would go to a victim's queue. Checked at its first join
 *    (qs_sq_find lists the node's queues) and kept: the kernel reuses
 *    neither pids nor qids, so a kept (pid, qid) pair stays true;
 *  - at most TM_JOINS_MAX participations in live records;
 *  - once it has TM_UNANSWERED_MAX notices unanswered it may not join
 *    again, it is not asked to vote (its vote is no), and its commit and
 *    abort notices wait here, in order, to be sent as the reaper collects
 *    its answers. So it has at most about TM_UNANSWERED_MAX (plus the
 *    rounds that were under way) in the kernel at once, and what waits here
 *    is bounded by its participations.
 *
 * And for all: once half the TM's request limit is abandoned, a process
 * with any notice unanswered is treated as at its limit. Processes that
 * answer in time are never affected.
 *
 * The abandoned table is sized at start to the TM's request limit: every
 * entry is one of the TM's outstanding requests, so it cannot overflow.
 * All under tm_lock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/tx.h>
#include "tm.h"

#define REAP_MS 500
#define IDLE_KEPT 64 /* entries of live processes holding nothing, kept for
			their checked queue */
#define REQUESTS_DEFAULT 4096

/* A commit or abort notice waiting for its participant to catch up. */
typedef struct held {
	uint64_t tx;
	uint32_t op;
	int32_t rqid;
	struct held *next;
} held_t;

typedef struct client {
	int32_t pid;
	int32_t rqid;        /* its recovery queue, checked; 0: not yet */
	uint32_t joins;      /* participations in live records */
	uint32_t unanswered; /* its abandoned notices, not yet reaped */
	bool dead;
	uint8_t name;        /* its program (client_name) */
	uint32_t used;       /* uptime of the last join: the oldest idle goes */
	held_t *held, **held_tail;
	struct client *next;
} client_t;

typedef struct {
	int rid;
	int32_t pid; /* the participant; 0 for a request to another TM */
} abandoned_t;

static client_t *clients;
/* The program names of recoverable participants: a few (fs, ...), kept
 * for good, so that a record can name a participant that died. */
#define NAMES_MAX 32
static char names[NAMES_MAX][QS_NAME_MAX];
static uint32_t nnames = 1; /* 0: not known */
static abandoned_t *abandoned;
static uint32_t nabandoned, abandoned_max, global_max;

typedef struct {
	qs_msg_hdr_t hdr;
	uint8_t data[16];
} notice_reply_t;

static client_t *
client_find(int32_t pid)
{
	for (client_t *c = clients; c; c = c->next)
		if (c->pid == pid)
			return c;
	return NULL;
}

static bool
idle(const client_t *c)
{
	return !c->joins && !c->unanswered && !c->held;
}

static void
client_free(client_t *c)
{
	for (client_t **cp = &clients; *cp; cp = &(*cp)->next) {
		if (*cp == c) {
			*cp = c->next;
			while (c->held) {
				held_t *h = c->held;
				c->held = h->next;
				free(h);
				tm_stats.held--;
			}
			free(c);
			tm_stats.clients--;
			return;
		}
	}
}

/* c may hold nothing now: if it is dead it goes; so does the oldest idle
 * one past IDLE_KEPT (a join that raced with its process's death made it). */
static void
client_tidy(client_t *c)
{
	if (!idle(c))
		return;
	if (c->dead) {
		client_free(c);
		return;
	}
	uint32_t nidle = 0;
	client_t *oldest = NULL;
	for (client_t *o = clients; o; o = o->next) {
		if (!idle(o))
			continue;
		nidle++;
		if (!oldest || (int32_t)(o->used - oldest->used) < 0)
			oldest = o;
	}
	if (nidle > IDLE_KEPT)
		client_free(oldest);
}

static client_t *
client_get(int32_t pid)
{
	client_t *c = client_find(pid);
	if (c)
		return c;
	if (!(c = calloc(1, sizeof(*c))))
		return NULL;
	c->pid = pid;
	c->used = qs_uptime_ms();
	c->held_tail = &c->held;
	c->next = clients;
	clients = c;
	tm_stats.clients++;
	return c;
}

/* At its limit: it gets no notice now, and may not join. */
static bool
at_limit(const client_t *c)
{
	return c->held || c->unanswered >= TM_UNANSWERED_MAX ||
	       (c->unanswered && tm_stats.unanswered >= global_max);
}

int
client_check_queue(int32_t pid, int32_t rqid)
{
	client_t *c = client_get(pid);
	if (!c)
		return QS_ENOMEM;
	if (c->rqid == rqid)
		return 0;
	char name[QS_NAME_MAX];
	qs_sq_info_t q;
	snprintf(name, sizeof(name), "%s%d", TM_RQ_PREFIX, (int)pid);
	qs_mutex_unlock(&tm_lock); /* it lists every queue of the node */
	int qid = qs_sq_find(name, &q);
	qs_mutex_lock(&tm_lock);
	if (qid != rqid || q.owner != pid || q.node != tm_node) {
		tm_stats.foreign++;
		return qid == QS_ENOMEM ? QS_ENOMEM : QS_EPERM;
	}
	if (!(c = client_get(pid))) /* it may have gone meanwhile */
		return 0;
	c->rqid = rqid;
	if (tm_proc_name(pid, name) < 0)
		return 0;
	for (uint32_t i = 1; i < nnames && !c->name; i++)
		if (strcmp(names[i], name) == 0)
			c->name = (uint8_t)i;
	if (!c->name && nnames < NAMES_MAX) {
		strcpy(names[nnames], name);
		c->name = (uint8_t)nnames++;
	}
	return 0;
}

uint8_t
client_name(int32_t pid)
{
	client_t *c = client_find(pid);
	return c ? c->name : 0;
}

const char *
client_name_text(uint8_t name)
{
	return name && name < nnames ? names[name] : NULL;
}

int
client_may_join(int32_t pid, bool new_part)
{
	client_t *c = client_get(pid);
	if (!c)
		return QS_ENOMEM;
	if (c->dead)
		return QS_ESRCH; /* a request sent just before its death */
	c->used = qs_uptime_ms();
	if (at_limit(c) || (new_part && c->joins >= TM_JOINS_MAX)) {
		tm_stats.refused++;
		return QS_ELIMIT;
	}
	return 0;
}

void
client_joins_add(int32_t pid, int delta)
{
	client_t *c = delta > 0 ? client_get(pid) : client_find(pid);
	if (!c)
		return; /* no memory for an entry: its joins go uncounted */
	c->joins += (uint32_t)delta;
	if (delta < 0)
		client_tidy(c);
}

void
client_died(int32_t pid)
{
	client_t *c = client_find(pid);
	if (!c)
		return;
	c->dead = true;
	while (c->held) { /* nobody is left to tell */
		held_t *h = c->held;
		c->held = h->next;
		free(h);
		tm_stats.held--;
	}
	c->held_tail = &c->held;
	client_tidy(c);
}

/* rid, awaited by nobody from now on; lock held. */
static void
abandon_locked(int rid, int32_t pid)
{
	if (nabandoned == abandoned_max) {
		/* cannot be: every entry is an outstanding request of ours */
		printf("tm: %u requests abandoned, more than our limit: request "
		       "%d left uncollected\n", nabandoned, rid);
		return;
	}
	abandoned[nabandoned++] = (abandoned_t){ rid, pid };
	tm_stats.unanswered++;
	client_t *c = pid ? client_find(pid) : NULL;
	if (c)
		c->unanswered++;
}

void
client_abandon(int rid, int32_t pid)
{
	qs_mutex_lock(&tm_lock);
	abandon_locked(rid, pid);
	qs_mutex_unlock(&tm_lock);
}

/* A notice with nothing but its header, under tx; a rid or an error. */
static int
notice_send(uint64_t tx, int32_t rqid, uint32_t op)
{
	qs_msg_hdr_t m = { 0 };
	m.opcode = op;
	qs_tx_set(tx);
	return qs_send(rqid, (const qs_msg_t *)&m);
}

int
client_notice(uint64_t tx, const tm_part_t *p, uint32_t op)
{
	qs_mutex_lock(&tm_lock);
	client_t *c = client_find(p->pid);
	if (c && at_limit(c)) {
		int r = QS_ELIMIT;
		held_t *h = op == TM_NOTE_PREPARE ? NULL : malloc(sizeof(*h));
		if (h) {
			*h = (held_t){ tx, op, p->rqid, NULL };
			*c->held_tail = h;
			c->held_tail = &h->next;
			tm_stats.held++;
		} else if (op != TM_NOTE_PREPARE) {
			printf("tm: no memory to keep a notice for pid %d\n", p->pid);
			r = QS_ENOMEM;
		}
		if (op == TM_NOTE_PREPARE)
			tm_stats.unasked++;
		qs_mutex_unlock(&tm_lock);
		return r;
	}
	qs_mutex_unlock(&tm_lock);
	int rid = notice_send(tx, p->rqid, op);
	if (rid > 0) {
		qs_mutex_lock(&tm_lock);
		tm_stats.notices++;
		qs_mutex_unlock(&tm_lock);
	}
	return rid;
}

/* c answered one: what waits for it goes out while it is below its limit,
 * and one at least if it has nothing out (so that something will bring the
 * rest); qs_send does not block: sent holding the lock. */
static void
release(client_t *c)
{
	while (c->held && !c->dead && c->unanswered < TM_UNANSWERED_MAX &&
	       (!c->unanswered || tm_stats.unanswered < global_max)) {
		held_t *h = c->held;
		if (!(c->held = h->next))
			c->held_tail = &c->held;
		tm_stats.held--;
		int rid = notice_send(h->tx, h->rqid, h->op);
		free(h);
		if (rid > 0) {
			tm_stats.notices++;
			abandon_locked(rid, c->pid);
		}
	}
}

/* Entry i's request is answered and collected; lock held. */
static void
reaped(uint32_t i)
{
	int32_t pid = abandoned[i].pid;
	abandoned[i] = abandoned[--nabandoned];
	tm_stats.unanswered--;
	client_t *c = pid ? client_find(pid) : NULL;
	if (!c)
		return;
	c->unanswered--;
	release(c);
	client_tidy(c);
}

/*
 * Only the reaper removes entries, and others only append, so going down
 * from the count it saw, an index it reaches holds an entry it has not
 * polled yet this round, or one it has (moved down by its own removal),
 * or one appended since (polled next round).
 */
static void *
reaper(void *arg)
{
	(void)arg;
	notice_reply_t reply;
	for (;;) {
		qs_sleep(REAP_MS);
		qs_mutex_lock(&tm_lock);
		uint32_t i = nabandoned;
		qs_mutex_unlock(&tm_lock);
		while (i-- > 0) {
			qs_mutex_lock(&tm_lock);
			int rid = abandoned[i].rid;
			qs_mutex_unlock(&tm_lock);
			if (qs_wait(rid, (qs_msg_t *)&reply, sizeof(reply), 0) ==
			    QS_ETIMEDOUT)
				continue;
			qs_mutex_lock(&tm_lock);
			reaped(i);
			qs_mutex_unlock(&tm_lock);
		}
	}
	return NULL;
}

void
client_start(void)
{
	qs_limits_t l;
	uint32_t max = REQUESTS_DEFAULT;
	if (qs_limits(0, &l) == 0 && l.max[QS_LIMIT_REQUESTS] > 0)
		max = l.max[QS_LIMIT_REQUESTS];
	abandoned = calloc(max, sizeof(*abandoned));
	abandoned_max = abandoned ? max : 0;
	global_max = max / 2;
	if (!abandoned || !qs_thread_create(reaper, NULL))
		printf("tm: no reaper: unanswered notices will pile up\n");
}
