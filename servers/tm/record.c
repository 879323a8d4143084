/*
 * The TM's transaction records: who owns a transaction, who takes part in
 * it and how, and its place in the tree: the superior node (where its
 * requests came from) and the subordinate nodes (where they went). All
 * under tm_lock.
 */
#include <stdlib.h>
#include <string.h>
#include <qs/sys.h>
#include <qs/tx.h>
#include "tm.h"

#define ENDED_MAX 64

static tm_rec_t *recs;
static struct {
	uint64_t tx;
	int32_t owner, outcome;
} ended[ENDED_MAX];
static uint32_t ended_next;

void
rec_ended(uint64_t tx, int32_t owner, int outcome)
{
	ended[ended_next % ENDED_MAX].tx = tx;
	ended[ended_next % ENDED_MAX].owner = owner;
	ended[ended_next++ % ENDED_MAX].outcome = outcome;
}

int
rec_outcome(uint64_t tx, int32_t *owner)
{
	for (uint32_t i = 0; i < ENDED_MAX; i++) {
		if (ended[i].tx == tx && tx) {
			*owner = ended[i].owner;
			return ended[i].outcome;
		}
	}
	return 0;
}

tm_rec_t *
rec_find(uint64_t tx)
{
	for (tm_rec_t *r = recs; r; r = r->next)
		if (r->tx == tx)
			return r;
	return NULL;
}

tm_rec_t *
rec_new(uint64_t tx, int32_t owner)
{
	tm_rec_t *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->tx = tx;
	r->owner = owner;
	r->coordinator = tm_node; /* the owner's node, until delegated */
	r->superior = TM_NO_NODE;
	r->state = TM_ACTIVE;
	r->since = qs_uptime_ms();
	r->next = recs;
	recs = r;
	tm_stats.records++;
	return r;
}

void
rec_free(tm_rec_t *r)
{
	for (tm_rec_t **rp = &recs; *rp; rp = &(*rp)->next) {
		if (*rp == r) {
			*rp = r->next;
			tm_stats.records--;
			rec_drop_parts(r);
			tm_stats.in_doubt -= r->state == TM_PREPARED;
			if (r->marked)
				tree_unmark(r->tx);
			free(r);
			return;
		}
	}
}

bool
rec_recoverable(const tm_rec_t *r)
{
	for (uint32_t i = 0; i < r->nparts; i++)
		if (r->parts[i].cls == QS_TX_RECOVERABLE)
			return true;
	for (uint32_t i = 0; i < r->nsubs; i++)
		if (r->subs[i].flags & TM_SUB_RECOVERABLE)
			return true;
	return false;
}

/* Others likely to force the node log soon: those collecting votes or
 * preparing (a commit point, a "prepared" to force), and those under way
 * with recoverable work (their commits to come). A guess: a lazy force
 * that it misleads waits LOG_LAZY_MS at most. */
uint32_t
rec_forcing_soon(uint64_t tx)
{
	uint32_t n = 0;
	for (tm_rec_t *r = recs; r; r = r->next)
		n += r->tx != tx && (r->state == TM_PREPARING ||
				     (r->state == TM_ACTIVE && rec_recoverable(r)));
	return n;
}

/* Others in the commit protocol here (collecting votes, or preparing),
 * whose commit point or "prepared" is about to be forced. */
uint32_t
rec_preparing(uint64_t tx)
{
	uint32_t n = 0;
	for (tm_rec_t *r = recs; r; r = r->next)
		n += r->tx != tx && r->state == TM_PREPARING;
	return n;
}

tm_rec_t *
rec_first(void)
{
	return recs;
}

tm_rec_t *
rec_owned_by(int32_t pid)
{
	for (tm_rec_t *r = recs; r; r = r->next)
		if (r->owner == pid && r->state == TM_ACTIVE)
			return r;
	return NULL;
}

static tm_part_t *
part_of(tm_rec_t *r, int32_t pid)
{
	for (uint32_t i = 0; i < r->nparts; i++)
		if (r->parts[i].pid == pid)
			return &r->parts[i];
	return NULL;
}

bool
rec_is_part(const tm_rec_t *r, int32_t pid)
{
	return part_of((tm_rec_t *)r, pid) != NULL;
}

void
rec_drop_parts(tm_rec_t *r)
{
	for (uint32_t i = 0; i < r->nparts; i++)
		client_joins_add(r->parts[i].pid, -1);
	tm_stats.participants -= r->nparts;
	r->nparts = 0;
}

/* Joining again may raise the class, never lower it. */
int
rec_join(tm_rec_t *r, int32_t pid, int32_t how, int32_t rqid)
{
	int32_t cls = QS_TX_CLASS(how);
	tm_part_t *p = part_of(r, pid);
	if (!p) {
		if (r->nparts == TM_PARTS_MAX)
			return QS_ENOMEM;
		p = &r->parts[r->nparts++];
		p->pid = pid;
		p->cls = QS_TX_NONE;
		p->aborts = false;
		tm_stats.participants++;
		client_joins_add(pid, 1);
	}
	if (cls >= p->cls) {
		p->cls = cls;
		p->rqid = rqid;
	}
	p->aborts |= qs_tx_death_aborts(how) != 0;
	p->vote = -1;
	p->acked = false;
	p->name = client_name(pid);
	return 0;
}

/* A participant that died can no longer be told anything; what the TM
 * holds for it goes once nothing refers to it. */
void
rec_forget_pid(int32_t pid)
{
	for (tm_rec_t *r = recs; r; r = r->next) {
		tm_part_t *p = r->state == TM_ACTIVE ? part_of(r, pid) : NULL;
		if (!p)
			continue;
		/* as it declared (qs/tx.h): a recoverable one's uncommitted
		   work is lost, so the transaction cannot commit */
		if (p->aborts)
			r->abort_asked = true;
		*p = r->parts[--r->nparts];
		tm_stats.participants--;
		client_joins_add(pid, -1);
	}
	client_died(pid);
}

uint32_t
rec_list(uint32_t first, tm_tx_info_t *out, uint32_t max)
{
	uint32_t i = 0, n = 0;
	for (tm_rec_t *r = recs; r && n < max; r = r->next, i++) {
		if (i < first)
			continue;
		tm_tx_info_t *t = &out[n++];
		memset(t, 0, sizeof(*t));
		t->tx = r->tx;
		t->owner = r->owner;
		t->coordinator = r->coordinator;
		t->state = r->state;
		t->superior = r->superior;
		t->nsubs = r->nsubs;
		for (uint32_t k = 0; k < r->nsubs; k++) {
			t->subs[k] = r->subs[k].node;
			t->sub_flags[k] = (uint8_t)r->subs[k].flags;
			t->sub_votes[k] = (int8_t)r->subs[k].vote;
		}
		t->nparts = r->nparts;
		for (uint32_t k = 0; k < r->nparts; k++)
			t->parts[k] = (tm_part_info_t){ r->parts[k].pid,
							r->parts[k].cls,
							r->parts[k].vote };
	}
	return n;
}

tm_sub_t *
rec_sub(tm_rec_t *r, uint32_t node)
{
	for (uint32_t i = 0; i < r->nsubs; i++)
		if (r->subs[i].node == node)
			return &r->subs[i];
	return NULL;
}

/*
 * The root takes no superior (a request may come back to its node); a
 * record being terminated takes no new edges (the request went out after
 * the commit began: its work there is cut off, aborted when its superior's
 * end does not come).
 */
int
rec_edge(tm_rec_t *r, const tm_edge_t *e)
{
	uint32_t node = e->node;
	if (e->dir == TM_EDGE_IN) {
		if (r->superior == TM_NO_NODE && r->coordinator != tm_node) {
			r->superior = node; /* the first one it came from */
			r->sup_inc = e->inc;
		}
		return 0;
	}
	tm_sub_t *s = rec_sub(r, node);
	if (!s) {
		if (r->state != TM_ACTIVE)
			return QS_ENOENT;
		if (r->nsubs == TM_SUBS_MAX)
			return QS_ENOMEM;
		s = &r->subs[r->nsubs++];
		*s = (tm_sub_t){ node, 0, -1, false };
	}
	if (e->flags & TM_EDGE_RECOVERABLE) {
		s->flags |= TM_SUB_RECOVERABLE;
		r->marked = true; /* the CM marked it as it told us */
	}
	return 0;
}

void
rec_set_state(tm_rec_t *r, int32_t state)
{
	tm_stats.in_doubt += (state == TM_PREPARED) - (r->state == TM_PREPARED);
	/* orphans stop: the kernel refuses their requests from now on, on
	   every node of the tree (each TM hears of the abort) */
	if (state == TM_ABORTED && r->state != TM_ABORTED)
		qs_syscall(SYS_TX_END, (uint32_t)r->tx, (uint32_t)(r->tx >> 32),
			   1, 0, 0);
	r->state = state;
	r->since = qs_uptime_ms();
}
