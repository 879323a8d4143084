/*
 * The tree between TMs. A TM reaches another node's TM as queue tm@NODE
 * (a proxy the CM made); its requests go under the transaction they are
 * about, and the CM does not count them as edges of the tree (they are the
 * protocol, not the work). Here: the requests other TMs send us (prepare,
 * end, takeover), the CM's node events, and one thread that keeps the
 * distributed part moving when nobody asks:
 *
 *  - a subordinate that voted yes and heard nothing for ASK_MS asks its
 *    superior how the transaction ended (TM_OP_OUTCOME), again every
 *    ASK_MS: the superior may have died, restarted or been cut off;
 *  - a node that committed and whose yes-voting subordinates did not all
 *    acknowledge sends them the commit again every ASK_MS;
 *  - a transaction whose superior's node died or restarted before it was
 *    prepared here is aborted here (an orphan).
 *
 * After a restart the log's prepared entries come back as in-doubt
 * records and its committed entries with subordinates as records that
 * still push the commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/cm.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/tx.h>
#include "tm.h"

#define ASK_MS 1000
#define TICK_MS 250
#define NODES_MAX 256

static int peer_qid[NODES_MAX]; /* tm@NODE proxies, 0: not looked up */
static qs_mutex_t peer_lock = QS_MUTEX_INIT;
/* One lookup of a node at a time, whose answer the others waiting take:
 * the CM lets a client have only a few lookups under way (QS_ELIMIT past
 * them), and the first commits after a start would all look the same
 * node up. Per node, so that a node that does not answer delays no other
 * (a zeroed mutex is an unlocked one). */
static qs_mutex_t lookup_lock[NODES_MAX];

static int
known_peer(uint32_t node, int stale)
{
	qs_mutex_lock(&peer_lock);
	int qid = peer_qid[node];
	qs_mutex_unlock(&peer_lock);
	return qid > 0 && qid != stale ? qid : 0;
}

/* The proxy of node's TM; stale: one that failed (its node restarted),
 * to look up again unless another thread has already. */
static int
peer(uint32_t node, int stale)
{
	if (node >= NODES_MAX)
		return QS_EINVAL;
	int qid = known_peer(node, stale);
	if (qid)
		return qid;
	qs_mutex_lock(&lookup_lock[node]);
	if (!(qid = known_peer(node, stale))) {
		char name[QS_NAME_MAX];
		snprintf(name, sizeof(name), "%s@%u", TM_QUEUE, node);
		qid = qs_sq_lookup(name); /* may ask the network */
		qs_mutex_lock(&peer_lock);
		peer_qid[node] = qid > 0 ? qid : 0;
		qs_mutex_unlock(&peer_lock);
	}
	qs_mutex_unlock(&lookup_lock[node]);
	return qid;
}

int
tree_send(uint32_t node, uint64_t tx, uint32_t op, const void *data,
	  uint32_t len)
{
	static qs_mutex_t buf_lock = QS_MUTEX_INIT;
	static qs_msg_t m;
	int rid = QS_ENOENT, qid = 0;
	for (int tries = 0; tries < 2 && (rid == QS_ENOENT || rid == QS_EQGONE);
	     tries++) {
		/* a proxy goes when its node restarts: then another */
		qid = peer(node, tries > 0 ? qid : 0);
		if (qid < 0)
			return qid;
		qs_mutex_lock(&buf_lock);
		qs_msg_init(&m, op);
		qs_msg_put(&m, data, len);
		qs_tx_set(tx);
		rid = qs_send(qid, &m);
		qs_mutex_unlock(&buf_lock);
	}
	if (rid > 0) {
		qs_mutex_lock(&tm_lock);
		tm_stats.msgs_out++;
		qs_mutex_unlock(&tm_lock);
	}
	return rid;
}

/* Tells the CM that tx is recoverable here (CM_OP_TX_MARK) or has ended
 * here (CM_OP_TX_UNMARK); not under tm_lock. */
static void
cm_tell(uint32_t op, uint64_t tx)
{
	static int cm_qid;
	static qs_msg_t m;
	static qs_mutex_t cm_lock = QS_MUTEX_INIT;
	struct {
		qs_msg_hdr_t hdr;
		uint8_t data[16];
	} reply;
	qs_mutex_lock(&cm_lock);
	if (cm_qid <= 0)
		cm_qid = qs_sq_lookup(CM_QUEUE);
	qs_msg_init(&m, op);
	qs_msg_put(&m, &tx, sizeof(tx));
	if (cm_qid > 0 && qs_call(cm_qid, &m, (qs_msg_t *)&reply, sizeof(reply)) < 0)
		cm_qid = 0;
	qs_mutex_unlock(&cm_lock);
}

void
tree_mark(uint64_t tx)
{
	cm_tell(CM_OP_TX_MARK, tx);
}

/*
 * Marks of ended transactions, for the tree thread to take back from the
 * CM outside tm_lock (the CM calls the TM under its own lock). The CM holds
 * at most its MARKS_MAX (4096) marks, never overwritten, so a mark not taken
 * back would stay until its table is full: the queue has room for as many,
 * and the tree thread takes back all of it each tick, in chunks. Should it
 * still overflow (the tree thread starved for 4096 ends), the mark stays
 * and the TM says so once: the CM then answers "recoverable" for it, never
 * wrong.
 */
#define UNMARK_MAX 4096
#define UNMARK_CHUNK 64
static uint64_t unmarks[UNMARK_MAX];
static uint32_t nunmarks;
static bool unmarks_lost;

void
tree_unmark(uint64_t tx)
{
	if (nunmarks < UNMARK_MAX) {
		unmarks[nunmarks++] = tx;
	} else if (!unmarks_lost) {
		unmarks_lost = true;
		printf("tm: too many marks to take back at once: some stay at "
		       "the CM (its answers then say recoverable)\n");
	}
}

static void
unmark_all(void)
{
	uint64_t txs[UNMARK_CHUNK];
	for (uint32_t n = 1; n;) {
		qs_mutex_lock(&tm_lock);
		n = nunmarks < UNMARK_CHUNK ? nunmarks : UNMARK_CHUNK;
		nunmarks -= n; /* from the end: the order does not matter */
		memcpy(txs, unmarks + nunmarks, n * sizeof(txs[0]));
		qs_mutex_unlock(&tm_lock);
		for (uint32_t i = 0; i < n; i++)
			cm_tell(CM_OP_TX_UNMARK, txs[i]);
	}
}

/* ---- requests from other TMs (tm.c's table; lock held) ------------------ */

int32_t
tree_prepare(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)reply, (void)ctx;
	const uint64_t *tx = args;
	if (req->hdr.src_node == tm_node)
		return QS_EINVAL; /* only another node's TM is a superior */
	tm_stats.msgs_in++;
	tm_rec_t *r = rec_find(*tx);
	if (!r)
		return QS_VOTE_NO; /* its work here is gone: a restart, an orphan */
	/* reached twice (the tree has a cycle), or the root itself: the
	 * superior's path has it */
	if ((r->superior != TM_NO_NODE && r->superior != req->hdr.src_node) ||
	    r->coordinator == tm_node || r->state == TM_PREPARING ||
	    r->state == TM_PREPARED)
		return QS_VOTE_READONLY;
	if (r->state != TM_ACTIVE || r->busy)
		return QS_VOTE_NO;
	r->superior = req->hdr.src_node;
	return tm_prepare_sub(r, req->hdr.src_node);
}

int32_t
tree_decode_end(const qs_msg_t *req, void *args)
{
	const tm_end_t *e = (const tm_end_t *)req->data;
	if (e->outcome != QS_TX_COMMITTED && e->outcome != QS_TX_ABORTED)
		return QS_EINVAL;
	memcpy(args, e, sizeof(*e));
	return 0;
}

int32_t
tree_end(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)reply, (void)ctx;
	const tm_end_t *e = args;
	if (req->hdr.src_node == tm_node)
		return QS_EINVAL;
	tm_stats.msgs_in++;
	tm_rec_t *r = rec_find(e->tx);
	if (!r)
		return 0; /* nothing here: read-only, or ended already */
	if (r->superior != req->hdr.src_node)
		return QS_EPERM; /* only the superior ends it; never the root */
	if (r->busy) {
		if (e->outcome == QS_TX_ABORTED)
			r->abort_asked = true;
		return e->outcome == QS_TX_ABORTED ? 0 : QS_EAGAIN;
	}
	if (r->state == TM_ACTIVE || r->state == TM_PREPARED ||
	    (r->state == TM_COMMITTED && e->outcome == QS_TX_COMMITTED))
		return tm_end_sub(r, e->outcome); /* QS_EAGAIN: not yet */
	return 0;
}

/*
 * The owner's node hands coordination to us: its part voted (the data),
 * our part has not. We are the root from now on, and that node is a
 * subordinate that must hear the outcome.
 */
int32_t
tree_decode_takeover(const qs_msg_t *req, void *args)
{
	const int32_t *vote = (const int32_t *)req->data;
	if (*vote != QS_VOTE_YES && *vote != QS_VOTE_READONLY)
		return QS_EINVAL;
	memcpy(args, vote, sizeof(*vote));
	return 0;
}

int32_t
tree_takeover(const qs_msg_t *req, const void *args, qs_msg_t *reply,
	      void *ctx)
{
	(void)reply, (void)ctx;
	const int32_t *vote = args;
	uint32_t from = req->hdr.src_node;
	if (from == tm_node)
		return QS_EINVAL;
	tm_stats.msgs_in++;
	tm_rec_t *r = rec_find(req->hdr.txid);
	if (!r || r->state != TM_ACTIVE || r->busy)
		return QS_TX_ABORTED; /* our part is gone */
	if (r->superior != from)
		return QS_EPERM;
	r->superior = TM_NO_NODE;
	r->coordinator = tm_node;
	tm_edge_t e = { r->tx, from, TM_EDGE_OUT, 0, 0 };
	if (rec_edge(r, &e) < 0)
		return QS_TX_ABORTED;
	rec_sub(r, from)->vote = *vote;
	return tm_finish(r, true) == QS_OK ? QS_TX_COMMITTED : QS_TX_ABORTED;
}

/*
 * The CM says a node died or restarted. What came from it (from an earlier
 * incarnation, if it restarted: its new one may already have sent new
 * work) and was not prepared here is an orphan; the tree thread aborts it.
 * Prepared records stay in doubt and keep asking.
 */
int32_t
tree_decode_node(const qs_msg_t *req, void *args)
{
	const tm_node_event_t *ev = (const tm_node_event_t *)req->data;
	if (ev->node == tm_node ||
	    (ev->event != TM_NODE_DOWN && ev->event != TM_NODE_RESTARTED))
		return QS_EINVAL;
	memcpy(args, ev, sizeof(*ev));
	return 0;
}

int32_t
tree_node_event(const qs_msg_t *req, const void *args, qs_msg_t *reply,
		void *ctx)
{
	(void)req, (void)reply, (void)ctx;
	const tm_node_event_t *ev = args;
	for (tm_rec_t *r = rec_first(); r; r = r->next) {
		bool sup = r->superior == ev->node;
		uint32_t inc = sup ? r->sup_inc : (uint32_t)(r->tx >> 32) & 0xFFFF;
		uint32_t now = sup ? ev->inc : ev->inc & 0xFFFF; /* ids keep 16 bits */
		bool from = (sup || (r->superior == TM_NO_NODE &&
				     r->coordinator == ev->node)) &&
			    (ev->event == TM_NODE_DOWN || inc < now);
		if (from && r->state == TM_ACTIVE && !r->abort_asked) {
			r->abort_asked = true;
			tm_stats.orphans++;
		}
		if (from && r->state == TM_PREPARED)
			r->since = 0; /* ask at once */
	}
	return 0;
}

/* ---- the tree thread -------------------------------------------------------- */

/* A record that needs the thread, made busy; or NULL. Lock held. */
static tm_rec_t *
next_work(uint32_t now)
{
	for (tm_rec_t *r = rec_first(); r; r = r->next) {
		if (r->busy)
			continue;
		bool orphan = r->state == TM_ACTIVE && r->abort_asked &&
			      r->owner == 0;
		bool due = (r->state == TM_PREPARED || r->state == TM_COMMITTED) &&
			   now - r->since >= ASK_MS;
		if (orphan || due)
			return r;
	}
	return NULL;
}

/* An in-doubt record asks its superior; lock held, r busy. */
static void
ask(tm_rec_t *r)
{
	uint64_t tx = r->tx;
	uint32_t up = r->superior != TM_NO_NODE ? r->superior : r->coordinator;
	qs_mutex_unlock(&tm_lock);
	int rid = tree_send(up, tx, TM_OP_OUTCOME, &tx, sizeof(tx));
	int outcome = rid > 0 ? tree_await(rid, qs_uptime_ms() + ASK_MS, 0) : rid;
	qs_mutex_lock(&tm_lock);
	if (outcome == QS_TX_COMMITTED || outcome == QS_TX_ABORTED) {
		char b[QS_TX_TEXT];
		printf("tm: in-doubt %s %s (node %u said)\n", qs_tx_format(tx, b),
		       outcome == QS_TX_COMMITTED ? "committed" : "aborted", up);
		tm_stats.resolved++;
		tm_end_sub(r, outcome);
		return;
	}
	r->busy = false;
	r->since = qs_uptime_ms();
}

static void
work(tm_rec_t *r)
{
	r->busy = true;
	if (r->state == TM_ACTIVE) { /* an orphan */
		char b[QS_TX_TEXT];
		printf("tm: %s: its superior's node is gone: abort\n",
		       qs_tx_format(r->tx, b));
		tm_end_sub(r, QS_TX_ABORTED);
	} else if (r->state == TM_PREPARED) {
		ask(r);
	} else { /* committed; subordinates that have not acknowledged */
		tm_end_sub(r, QS_TX_COMMITTED);
	}
}

static void *
tree_loop(void *arg)
{
	(void)arg;
	for (;;) {
		qs_sleep(TICK_MS);
		qs_mutex_lock(&tm_lock);
		for (tm_rec_t *r; (r = next_work(qs_uptime_ms()));)
			work(r);
		qs_mutex_unlock(&tm_lock);
		unmark_all();
	}
	return NULL;
}

/* The log's unfinished business from before a restart, as records. */
static void
restore(void)
{
	tm_log_rec_t e;
	uint32_t i = 0;
	qs_mutex_lock(&tm_lock);
	while (tmlog_pending(&i, &e)) {
		tm_rec_t *r = rec_find(e.tx) ? NULL : rec_new(e.tx, 0);
		if (!r)
			continue;
		r->coordinator = QS_TX_NODE(e.tx);
		r->logged = true;
		for (uint32_t k = 0; k < e.nsubs && k < TM_SUBS_MAX; k++)
			r->subs[r->nsubs++] = (tm_sub_t){ e.subs[k], 0, QS_VOTE_YES,
							  false };
		if (e.state == TM_LOG_PREPARED) {
			r->superior = e.superior;
			rec_set_state(r, TM_PREPARED);
		} else {
			rec_set_state(r, TM_COMMITTED);
		}
		r->since = 0;
	}
	qs_mutex_unlock(&tm_lock);
}

void
tree_start(void)
{
	restore();
	if (!qs_thread_create(tree_loop, NULL))
		printf("tm: no tree thread: in-doubt transactions will not ask\n");
}
