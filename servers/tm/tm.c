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
#include <qs/serve.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/tx.h>
#include "tm.h"

#define VOTE_MS_DEFAULT 3000
#define PROCS_MAX 256
/* A commit holds its thread through both phases (and the log's forces),
 * so the table has room for a process's 8 transactions committing at once
 * (QS_TX_OPEN_MAX) and as many joins, outcomes and notices beside them:
 * joins never wait behind commits that wait for those joins' votes. */
#define SERVE_THREADS 16
#define NET_THREADS 8 /* tm.net: subordinates' prepares and commits */

qs_mutex_t tm_lock = QS_MUTEX_INIT;
tm_stats_t tm_stats;
uint32_t tm_node;

static int32_t
tx_owner(uint64_t tx)
{
	return qs_syscall(SYS_TX_OWNER, (uint32_t)tx, (uint32_t)(tx >> 32), 0, 0, 0);
}

/* Ends tx in the kernel; an aborted one's requests are refused from now
 * on (orphans, README.md). */
static void
tx_forget(uint64_t tx, bool aborted)
{
	qs_syscall(SYS_TX_END, (uint32_t)tx, (uint32_t)(tx >> 32), aborted, 0,
		   0);
}

static qs_proc_info_t procs[PROCS_MAX]; /* under tm_lock */

int
tm_proc_name(int32_t pid, char name[QS_NAME_MAX])
{
	int n = qs_proc_list(procs, PROCS_MAX);
	for (int i = 0; i < n; i++) {
		if (procs[i].pid == pid && procs[i].state != QS_PROC_ZOMBIE) {
			memcpy(name, procs[i].name, QS_NAME_MAX);
			name[QS_NAME_MAX - 1] = '\0';
			return 0;
		}
	}
	return QS_ESRCH;
}

/* Whether pid started `owner`, directly or not: the shell that ran it, init. */
static bool
is_ancestor(int32_t pid, int32_t owner)
{
	if (pid <= 0)
		return false; /* the parent of init, and of nothing else */
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

/*
 * The operations below are invokes of the tables at the end of the file:
 * their sizes were checked, and the lock (tm_lock) is held.
 */

static int32_t
do_begin(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)args, (void)reply, (void)ctx;
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
	tx_forget(tx, !commit);
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
do_commit(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)reply, (void)ctx;
	uint64_t tx = *(const uint64_t *)args;
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
do_abort(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)reply, (void)ctx;
	const uint64_t *txp = args;
	int32_t pid = req->hdr.src_pid;
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

/* A class, and a recovery queue unless the class is none. */
static int32_t
decode_join(const qs_msg_t *req, void *args)
{
	const tm_join_t *j = (const tm_join_t *)req->data;
	if (!qs_tx_cls_ok(j->cls) ||
	    (QS_TX_CLASS(j->cls) != QS_TX_NONE && j->rqid <= 0))
		return QS_EINVAL;
	tm_join_t *out = args;
	*out = *j;
	if (QS_TX_CLASS(j->cls) == QS_TX_NONE)
		out->rqid = 0; /* told nothing: no queue to check */
	return 0;
}

/*
 * A participant joins, with its own recovery queue, within its limits
 * (client.c). A transaction of another node gets a record here
 * (the CM's edge usually made it already), coordinated there. The CM learns
 * of a recoverable participant under a transaction with a superior, so its
 * answers up the tree say one phase will not do: told with the lock
 * dropped (the CM calls us holding its own), before the participant's
 * answer, so before its client's.
 */
static int32_t
do_join(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)reply, (void)ctx;
	const tm_join_t *j = args;
	uint64_t tx = req->hdr.txid;
	int32_t pid = req->hdr.src_pid;
	if (req->hdr.src_node != tm_node)
		return QS_EINVAL; /* a participant joins at its own node's TM */
	int rc = j->rqid ? client_check_queue(pid, j->rqid) : 0; /* unlocks */
	if (rc < 0)
		return rc;
	tm_rec_t *r = rec_find(tx);
	if ((rc = client_may_join(pid, !r || !rec_is_part(r, pid))) < 0)
		return rc;
	if (!(r = rec_of(tx, &rc)))
		return rc;
	if (r->state != TM_ACTIVE || r->abort_asked)
		return QS_ENOENT;
	rc = rec_join(r, pid, j->cls, j->rqid);
	if (rc == 0 && QS_TX_CLASS(j->cls) == QS_TX_RECOVERABLE && !r->marked &&
	    (r->superior != TM_NO_NODE || r->owner == 0)) {
		r->marked = true;
		qs_mutex_unlock(&tm_lock);
		tree_mark(tx);
		qs_mutex_lock(&tm_lock);
	}
	return rc;
}

/* The owner hands coordination to a subordinate node (qs_tx_delegate). */
static int32_t
do_delegate(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)reply, (void)ctx;
	const tm_delegate_t *d = args;
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

static int32_t
decode_edge(const qs_msg_t *req, void *args)
{
	const tm_edge_t *e = (const tm_edge_t *)req->data;
	if (!e->tx || e->node == tm_node ||
	    (e->dir != TM_EDGE_OUT && e->dir != TM_EDGE_IN))
		return QS_EINVAL;
	memcpy(args, e, sizeof(*e));
	return 0;
}

/*
 * The CM saw a request of tx leave for a node (a subordinate) or arrive
 * from one (the superior), or an answer saying recoverable work is below.
 * Recorded for the tree; a transaction from another node gets a record
 * here, coordinated there.
 */
static int32_t
do_edge(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)reply, (void)ctx;
	const tm_edge_t *e = args;
	int rc;
	tm_rec_t *r = rec_of(e->tx, &rc);
	return r ? rec_edge(r, e) : rc;
}

/* A participant recovering from a crash asks how tx ended. */
static int32_t
do_outcome(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)reply, (void)ctx;
	const uint64_t *txp = args;
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

/* A recoverable participant has nothing in doubt: the commits owed to
 * the earlier incarnations of its program go (log.c). */
static int32_t
do_recovered(const qs_msg_t *req, const void *args, qs_msg_t *reply,
	     void *ctx)
{
	(void)args, (void)reply, (void)ctx;
	char name[QS_NAME_MAX];
	int32_t pid = req->hdr.src_pid;
	if (tm_proc_name(pid, name) < 0)
		return QS_ESRCH;
	tmlog_recovered(name, pid);
	return 0;
}

/* LIST's argument, the first record to list, may be left out (0). */
static int32_t
decode_list(const qs_msg_t *req, void *args)
{
	if (req->hdr.len != 0 && req->hdr.len != sizeof(uint32_t))
		return QS_EINVAL;
	memcpy(args, req->data, req->hdr.len);
	return 0;
}

static int32_t
do_list(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)ctx;
	tm_list_t *l = (tm_list_t *)reply->data;
	tm_tx_info_t *infos = (tm_tx_info_t *)(l + 1);
	uint32_t max = (QS_MSG_INLINE - sizeof(*l)) / sizeof(*infos);
	l->total = tm_stats.records;
	l->count = rec_list(*(const uint32_t *)args, infos, max);
	reply->hdr.len = sizeof(*l) + l->count * sizeof(*infos);
	return 0;
}

static uint32_t refused(void);

static int32_t
do_stats(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)args, (void)ctx;
	tm_stats.log_entries = tmlog_entries();
	tm_stats.log_owed = tmlog_owing();
	tm_stats.heap = (uint32_t)qs_heap_in_use();
	tm_stats.bad = refused();
	return qs_msg_put(reply, &tm_stats, sizeof(tm_stats));
}

/*
 * A process ended. Its default transaction commits if it exited normally;
 * everything else it owned aborts. It can no longer take part in anything.
 */
static int32_t
on_death(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)reply, (void)ctx;
	const qs_death_notice_t *n = args;
	bool normal = !(n->status & (QS_STATUS_KILLED | QS_STATUS_FAULT));
	tm_stats.deaths++;
	rec_forget_pid(n->pid);
	for (tm_rec_t *r; (r = rec_owned_by(n->pid));)
		finish(r, normal && r->tx == n->txid);
	return 0;
}

/*
 * Queue "tm": programs and participants of this node, and other TMs
 * (tree.c). Who may ask what (docs/security.md, "Across nodes"): a
 * transaction's own operations only from this node (the owner, its
 * participants); the tree's only from a TM, as its kernel stamped it
 * (QS_MSG_SRC_TM), whose node tree.c checks is the record's superior or
 * subordinate; outcomes only for system servers (a TM asking its superior,
 * a recovering participant, the shell); the list only for this node's.
 */
#define OWN QS_WHO_LOCAL
#define TREE QS_WHO_TM
static const qs_op_t tm_ops[] = {
	[TM_OP_BEGIN] = { "begin", 0, 0, 0, NULL, do_begin, OWN },
	[TM_OP_COMMIT] = { "commit", QS_LEN(uint64_t), 0, NULL, do_commit, OWN },
	[TM_OP_ABORT] = { "abort", QS_LEN(uint64_t), 0, NULL, do_abort, OWN },
	[TM_OP_JOIN] = { "join", QS_LEN(tm_join_t), 0, decode_join, do_join,
			 OWN },
	[TM_OP_LIST] = { "list", 0, sizeof(uint32_t), 0, decode_list, do_list,
			 QS_WHO_LOCAL | QS_WHO_SYSTEM },
	[TM_OP_STATS] = { "stats", 0, 0, 0, NULL, do_stats },
	[TM_OP_OUTCOME] = { "outcome", QS_LEN(uint64_t), 0, NULL, do_outcome,
			    QS_WHO_SYSTEM },
	[TM_OP_RECOVERED] = { "recovered", 0, 0, 0, NULL, do_recovered,
			      QS_WHO_LOCAL | QS_WHO_SYSTEM },
	[TM_OP_PREPARE] = { "prepare", QS_LEN(uint64_t), 0, NULL, tree_prepare,
			    TREE },
	[TM_OP_END] = { "end", QS_LEN(tm_end_t), 0, tree_decode_end, tree_end,
			TREE },
	[TM_OP_DELEGATE] = { "delegate", QS_LEN(tm_delegate_t), 0, NULL,
			     do_delegate, OWN },
	[TM_OP_TAKEOVER] = { "takeover", QS_LEN(int32_t), 0,
			     tree_decode_takeover, tree_takeover, TREE },
};
/* Queue "tm.net": the CM's notices. Quick, never waiting for anything but
 * the lock (the CM sends them holding its own). */
static const qs_op_t net_ops[] = {
	[TM_OP_EDGE] = { "edge", QS_LEN(tm_edge_t), 0, decode_edge, do_edge },
	[TM_OP_NODE] = { "node", QS_LEN(tm_node_event_t), 0, tree_decode_node,
			 tree_node_event },
};
/* QS_DEATH_QUEUE: the kernel's notices. */
static const qs_op_t death_ops[] = {
	[QS_NOTICE_DEATH] = { "death", QS_LEN(qs_death_notice_t), 0, NULL,
			      on_death, QS_WHO_KERNEL },
};
static qs_server_t tm_server = QS_SERVER_LOCKED("tm", tm_ops, NULL, &tm_lock);
static qs_server_t net_server =
	QS_SERVER_LOCKED("tm.net", net_ops, NULL, &tm_lock);
static qs_server_t death_server =
	QS_SERVER_LOCKED("tm.deaths", death_ops, NULL, &tm_lock);

static uint32_t
refused(void)
{
	return qs_serve_refused(&tm_server) + qs_serve_refused(&net_server) +
	       qs_serve_refused(&death_server);
}

/* Is pid the network agent, the only one who may report edges and nodes?
 * Asked on every edge, so the answer is kept: the kernel never reuses a
 * pid, so a kept one can never name another process. */
static bool
is_cm(int32_t pid)
{
	static int32_t cm_pid;
	qs_sq_info_t q;
	if (pid > 0 && pid == __atomic_load_n(&cm_pid, __ATOMIC_RELAXED))
		return true;
	if (qs_sq_find(QS_NET_QUEUE, &q) < 0 || q.owner != pid)
		return false;
	__atomic_store_n(&cm_pid, pid, __ATOMIC_RELAXED);
	return true;
}

/* tm.net: the table, for the CM of this node only. */
static int32_t
net_handle(const qs_msg_t *req, qs_msg_t *reply, void *server)
{
	if (req->hdr.src_node != tm_node || !is_cm(req->hdr.src_pid))
		return qs_serve_refuse(server);
	return qs_dispatch(req, reply, server);
}

/* The death queue: for the kernel only (it stamps pid 0), by its table. */
static void *
serve_deaths(void *arg)
{
	qs_serve_table((int)arg, &death_server, 2);
	return NULL;
}

static void *
serve_net(void *arg)
{
	qs_serve((int)arg, net_handle, &net_server, NET_THREADS);
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
	client_start();
	tree_start();
	if (!qs_thread_create(serve_deaths, (void *)dqid) ||
	    !qs_thread_create(serve_net, (void *)nqid)) {
		printf("tm: cannot start the death notice and network threads\n");
		return 1;
	}
	printf("tm: serving queue %s (vote deadline %u ms)\n", TM_QUEUE,
	       tm_stats.vote_ms);
	/* subordinates wait for their own parts while serving a prepare */
	return qs_serve_table(qid, &tm_server, SERVE_THREADS) < 0;
}
