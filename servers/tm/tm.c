/*
 * tm, the transaction manager of one node: it keeps a record of every
 * transaction that has participants, drives termination (commit.c), and
 * ends a process's transactions when the kernel reports its death on
 * QS_DEATH_QUEUE: committing the default one at a normal exit, aborting
 * everything at a kill or fault.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/tx.h>
#include "tm.h"

#define VOTE_MS_DEFAULT 3000
#define PROCS_MAX 256
#define SERVE_THREADS 8

qs_mutex_t tm_lock = QS_MUTEX_INIT;
tm_stats_t tm_stats;
uint32_t tm_node;

static int32_t
tx_owner(uint64_t tx)
{
	return qs_syscall(SYS_TX_OWNER, (uint32_t)tx, (uint32_t)(tx >> 32), 0, 0, 0);
}

static void
tx_forget(uint64_t tx)
{
	qs_syscall(SYS_TX_END, (uint32_t)tx, (uint32_t)(tx >> 32), 0, 0, 0);
}

/* Whether pid started `owner`, directly or not: the shell that ran it, init. */
static bool
is_ancestor(int32_t pid, int32_t owner)
{
	static qs_proc_info_t procs[PROCS_MAX];
	int n = qs_proc_list(procs, PROCS_MAX);
	for (int hops = 0; hops < n && owner > 0; hops++) {
		int32_t parent = 0;
		for (int i = 0; i < n; i++)
			if (procs[i].pid == owner)
				parent = procs[i].parent;
		if (parent == pid)
			return true;
		owner = parent;
	}
	return false;
}

static int32_t
do_begin(const qs_msg_t *req)
{
	uint64_t tx = req->hdr.txid;
	if (tx_owner(tx) != req->hdr.src_pid)
		return QS_EPERM;
	if (rec_find(tx))
		return QS_EEXIST;
	if (!rec_new(tx, req->hdr.src_pid))
		return QS_ENOMEM;
	tm_stats.begun++;
	return 0;
}

/* A transaction nobody joined ends with nothing to tell. */
static int32_t
end_unrecorded(uint64_t tx, int32_t owner, bool commit)
{
	tx_forget(tx);
	rec_ended(tx, owner, commit ? QS_TX_COMMITTED : QS_TX_ABORTED);
	if (commit)
		tm_stats.committed++;
	else
		tm_stats.aborted++;
	return 0;
}

/* An ended transaction: its owner learns whether it was aborted. */
static int32_t
ended_outcome(uint64_t tx, int32_t pid)
{
	int32_t owner;
	int outcome = rec_outcome(tx, &owner);
	if (!outcome || owner != pid)
		return QS_ENOENT;
	return outcome == QS_TX_ABORTED ? QS_EABORTED : QS_ENOENT;
}

/* Ends r as its owner's node: here, or where coordination was delegated. */
static int
finish(tm_rec_t *r, bool commit)
{
	if (commit && r->coordinator != tm_node)
		return tm_finish_delegated(r);
	return tm_finish(r, commit);
}

static int32_t
do_commit(const qs_msg_t *req)
{
	const uint64_t *txp = QS_MSG_AS(req, uint64_t);
	if (!txp)
		return QS_EINVAL;
	uint64_t tx = *txp;
	tm_rec_t *r = rec_find(tx);
	if (!r) {
		int32_t owner = tx_owner(tx);
		if (owner < 0)
			return ended_outcome(tx, req->hdr.src_pid);
		if (owner != req->hdr.src_pid)
			return QS_EPERM;
		return end_unrecorded(tx, owner, true);
	}
	if (r->owner != req->hdr.src_pid)
		return QS_EPERM;
	if (r->state == TM_ABORTED)
		return QS_EABORTED; /* someone else's abort is being told */
	if (r->state != TM_ACTIVE)
		return QS_ENOENT;
	return finish(r, true);
}

static int32_t
do_abort(const qs_msg_t *req)
{
	const uint64_t *txp = QS_MSG_AS(req, uint64_t);
	int32_t pid = req->hdr.src_pid;
	if (!txp)
		return QS_EINVAL;
	tm_rec_t *r = rec_find(*txp);
	int32_t owner = r ? r->owner : tx_owner(*txp);
	if (owner < 0)
		return QS_ENOENT;
	if (pid != owner && !(r && rec_is_part(r, pid)) && !is_ancestor(pid, owner))
		return QS_EPERM;
	if (!r)
		return end_unrecorded(*txp, owner, false);
	if (r->state == TM_PREPARING)
		r->abort_asked = true; /* its terminator will abort */
	else if (r->state == TM_ACTIVE)
		tm_finish(r, false);
	else if (r->state == TM_COMMITTED)
		return QS_ENOENT; /* past the commit point */
	return 0;
}

/*
 * tx's record, made if there is none: a transaction of another node is
 * coordinated there, one of ours is owned by whom the kernel says. NULL
 * with *err QS_ENOENT if it has ended, QS_ENOMEM.
 */
static tm_rec_t *
rec_of(uint64_t tx, int *err)
{
	tm_rec_t *r = rec_find(tx);
	if (r)
		return r;
	bool remote = QS_TX_NODE(tx) != tm_node;
	int32_t owner = remote ? 0 : tx_owner(tx);
	*err = QS_ENOENT;
	if (owner < 0 || (remote && rec_outcome(tx, &owner)))
		return NULL;
	*err = QS_ENOMEM;
	if (!(r = rec_new(tx, owner)))
		return NULL;
	if (remote)
		r->coordinator = QS_TX_NODE(tx);
	return r;
}

/*
 * A participant joins. A transaction of another node gets a record here
 * (the CM's edge usually made it already), coordinated there. The CM learns
 * of a recoverable participant under a transaction with a superior, so its
 * answers up the tree say one phase will not do: *mark.
 */
static int32_t
do_join(const qs_msg_t *req, bool *mark)
{
	const tm_join_t *j = QS_MSG_AS(req, tm_join_t);
	uint64_t tx = req->hdr.txid;
	if (!j || j->cls < QS_TX_NONE || j->cls > QS_TX_RECOVERABLE ||
	    (j->cls != QS_TX_NONE && j->rqid <= 0) || req->hdr.src_node != tm_node)
		return QS_EINVAL;
	int rc;
	tm_rec_t *r = rec_of(tx, &rc);
	if (!r)
		return rc;
	if (r->state != TM_ACTIVE || r->abort_asked)
		return QS_ENOENT;
	rc = rec_join(r, req->hdr.src_pid, j->cls, j->rqid);
	if (rc == 0 && j->cls == QS_TX_RECOVERABLE && !r->marked &&
	    (r->superior != TM_NO_NODE || r->owner == 0))
		*mark = r->marked = true;
	return rc;
}

/* The owner hands coordination to a subordinate node (qs_tx_delegate). */
static int32_t
do_delegate(const qs_msg_t *req)
{
	const tm_delegate_t *d = QS_MSG_AS(req, tm_delegate_t);
	if (!d || req->hdr.len != sizeof(*d))
		return QS_EINVAL;
	tm_rec_t *r = rec_find(d->tx);
	if (!r)
		return tx_owner(d->tx) < 0 ? QS_ENOENT : QS_EINVAL;
	if (r->owner != req->hdr.src_pid || req->hdr.src_node != tm_node)
		return QS_EPERM;
	if (r->state != TM_ACTIVE)
		return QS_ENOENT;
	if (d->node == tm_node) {
		r->coordinator = tm_node;
		return 0;
	}
	if (!rec_sub(r, d->node))
		return QS_EINVAL; /* only a node the transaction reached */
	r->coordinator = d->node;
	return 0;
}

/*
 * The CM saw a request of tx leave for a node (a subordinate) or arrive
 * from one (the superior), or an answer saying recoverable work is below.
 * Recorded for the tree; a transaction from another node gets a record
 * here, coordinated there.
 */
static int32_t
do_edge(const qs_msg_t *req)
{
	const tm_edge_t *e = QS_MSG_AS(req, tm_edge_t);
	if (!e || req->hdr.len != sizeof(*e) || !e->tx || e->node == tm_node ||
	    (e->dir != TM_EDGE_OUT && e->dir != TM_EDGE_IN))
		return QS_EINVAL;
	int rc;
	tm_rec_t *r = rec_of(e->tx, &rc);
	return r ? rec_edge(r, e) : rc;
}

/* A participant recovering from a crash asks how tx ended. */
static int32_t
do_outcome(const qs_msg_t *req)
{
	const uint64_t *txp = QS_MSG_AS(req, uint64_t);
	if (!txp)
		return QS_EINVAL;
	tm_rec_t *r = rec_find(*txp);
	if (r)
		return r->state == TM_COMMITTED ? QS_TX_COMMITTED
			: r->state == TM_ABORTED ? QS_TX_ABORTED
						 : QS_EAGAIN;
	int32_t owner;
	int outcome = rec_outcome(*txp, &owner);
	if (outcome)
		return outcome;
	switch (tmlog_state(*txp)) {
	case TM_LOG_COMMITTED: return QS_TX_COMMITTED;
	case TM_LOG_PREPARED: return QS_EAGAIN; /* in doubt here too */
	default: return QS_TX_ABORTED; /* presumed */
	}
}

static int32_t
do_list(const qs_msg_t *req, qs_msg_t *reply)
{
	const uint32_t *first = QS_MSG_AS(req, uint32_t);
	tm_list_t *l = (tm_list_t *)reply->data;
	tm_tx_info_t *infos = (tm_tx_info_t *)(l + 1);
	uint32_t max = (QS_MSG_INLINE - sizeof(*l)) / sizeof(*infos);
	l->total = tm_stats.records;
	l->count = rec_list(first ? *first : 0, infos, max);
	reply->hdr.len = sizeof(*l) + l->count * sizeof(*infos);
	return 0;
}

static int32_t
handle(const qs_msg_t *req, qs_msg_t *reply, void *ctx)
{
	(void)ctx;
	int32_t r;
	bool mark = false;
	qs_mutex_lock(&tm_lock);
	switch (req->hdr.opcode) {
	case TM_OP_BEGIN: r = do_begin(req); break;
	case TM_OP_COMMIT: r = do_commit(req); break;
	case TM_OP_ABORT: r = do_abort(req); break;
	case TM_OP_JOIN: r = do_join(req, &mark); break;
	case TM_OP_LIST: r = do_list(req, reply); break;
	case TM_OP_OUTCOME: r = do_outcome(req); break;
	case TM_OP_DELEGATE: r = do_delegate(req); break;
	case TM_OP_PREPARE: r = tree_prepare(req); break;
	case TM_OP_END: r = tree_end(req); break;
	case TM_OP_TAKEOVER: r = tree_takeover(req); break;
	case TM_OP_STATS:
		tm_stats.log_entries = tmlog_entries();
		tm_stats.heap = (uint32_t)qs_heap_in_use();
		r = qs_msg_put(reply, &tm_stats, sizeof(tm_stats));
		break;
	default: r = QS_EINVAL;
	}
	qs_mutex_unlock(&tm_lock);
	if (mark) /* before the participant's answer, so before its client's */
		tree_mark(req->hdr.txid);
	return r;
}

/* Is pid the network agent, the only one who may report edges and nodes? */
static bool
is_cm(int32_t pid)
{
	static qs_sq_info_t qs[64];
	int n = qs_sq_list(qs, 64);
	for (int i = 0; i < n; i++)
		if (strcmp(qs[i].name, QS_NET_QUEUE) == 0)
			return qs[i].owner == pid;
	return false;
}

/* The CM's notices: quick, never waiting for anything but the lock (the
 * CM sends them holding its own). */
static int32_t
handle_net(const qs_msg_t *req, qs_msg_t *reply, void *ctx)
{
	(void)ctx, (void)reply;
	if (req->hdr.src_node != tm_node || !is_cm(req->hdr.src_pid))
		return QS_EPERM;
	int32_t r;
	qs_mutex_lock(&tm_lock);
	switch (req->hdr.opcode) {
	case TM_OP_EDGE: r = do_edge(req); break;
	case TM_OP_NODE: r = tree_node_event(req); break;
	default: r = QS_EINVAL;
	}
	qs_mutex_unlock(&tm_lock);
	return r;
}

/*
 * A process ended. Its default transaction commits if it exited normally;
 * everything else it owned aborts. It can no longer take part in anything.
 */
static int32_t
on_death(const qs_msg_t *req, qs_msg_t *reply, void *ctx)
{
	(void)reply, (void)ctx;
	const qs_death_notice_t *n = QS_MSG_AS(req, qs_death_notice_t);
	if (req->hdr.opcode != QS_NOTICE_DEATH || !n || req->hdr.src_pid != 0)
		return QS_EINVAL;
	bool normal = !(n->status & (QS_STATUS_KILLED | QS_STATUS_FAULT));
	qs_mutex_lock(&tm_lock);
	tm_stats.deaths++;
	rec_forget_pid(n->pid);
	for (tm_rec_t *r; (r = rec_owned_by(n->pid));)
		finish(r, normal && r->tx == n->txid);
	qs_mutex_unlock(&tm_lock);
	return 0;
}

static void *
serve_deaths(void *arg)
{
	qs_serve((int)arg, on_death, NULL, 2);
	return NULL;
}

static void *
serve_net(void *arg)
{
	qs_serve((int)arg, handle_net, NULL, 2);
	return NULL;
}

static uint32_t
vote_ms(void)
{
	char buf[16];
	long v;
	if (qs_boot_arg("tm_vote_ms", buf, sizeof(buf)) > 0 &&
	    qs_parse_int(buf, &v) == 0 && v > 0)
		return (uint32_t)v;
	return VOTE_MS_DEFAULT;
}

int
main(void)
{
	qs_node_info_t ni;
	qs_node_info(&ni);
	tm_node = ni.node_id;
	tm_stats.vote_ms = vote_ms();
	tm_stats.logging = tmlog_open() == 0;
	int qid = qs_sq_create(TM_QUEUE, QS_SQ_DEPTH_MAX);
	int dqid = qid < 0 ? qid : qs_sq_create(QS_DEATH_QUEUE, QS_SQ_DEPTH_MAX);
	if (qid < 0 || dqid < 0) {
		printf("tm: cannot create queues %s and %s: %s\n", TM_QUEUE,
		       QS_DEATH_QUEUE, qs_strerror(qid < 0 ? qid : dqid));
		return 1;
	}
	int nqid = qs_sq_create(TM_NET_QUEUE, QS_SQ_DEPTH_MAX);
	if (nqid < 0) {
		printf("tm: cannot create queue %s: %s\n", TM_NET_QUEUE,
		       qs_strerror(nqid));
		return 1;
	}
	tm_reaper_start();
	tree_start();
	if (!qs_thread_create(serve_deaths, (void *)dqid) ||
	    !qs_thread_create(serve_net, (void *)nqid)) {
		printf("tm: cannot start the death notice and network threads\n");
		return 1;
	}
	printf("tm: serving queue %s (vote deadline %u ms)\n", TM_QUEUE,
	       tm_stats.vote_ms);
	/* subordinates wait for their own parts while serving a prepare */
	return qs_serve(qid, handle, NULL, SERVE_THREADS) < 0;
}
