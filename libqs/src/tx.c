/*
 * Transactions in libqs: begin/commit/abort through the TM, joining as a
 * participant, and breadcrumbs. A process that joins anything gets one
 * recovery queue ("tx.rq.PID") with one thread that takes the TM's notices
 * and runs the participant's ops and breadcrumb cleanups, one at a time.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <qs/serve.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/thread.h>
#include <qs/tm.h>
#include <qs/tx.h>

typedef struct crumb {
	crumb_fn_t fn;
	void *obj;
	struct crumb *next;
} crumb_t;

/* What this process knows of a transaction it joined. */
typedef struct part {
	uint64_t tx;
	int cls;     /* QS_TX_VOLATILE or QS_TX_RECOVERABLE */
	bool aborts; /* joined with QS_TX_DEATH_ABORTS */
	qs_tx_ops_t ops;
	crumb_t *crumbs;
	struct part *next;
} part_t;

static qs_mutex_t lock = QS_MUTEX_INIT;
static part_t *parts;
static int ncrumbs;
static int recovery_qid;

typedef struct {
	qs_msg_hdr_t hdr;
	uint8_t data[64];
} small_reply_t;

static int
tm_call(uint32_t op, const void *data, size_t len)
{
	int qid = qs_sq_lookup(TM_QUEUE);
	if (qid < 0)
		return qid;
	qs_msg_t *m = malloc(sizeof(*m));
	if (!m)
		return QS_ENOMEM;
	small_reply_t reply;
	qs_msg_init(m, op);
	qs_msg_put(m, data, len);
	int r = qs_call(qid, m, (qs_msg_t *)&reply, sizeof(reply));
	free(m);
	return r;
}

int
qs_tx_begin(uint64_t *tx)
{
	uint64_t prev = qs_tx_get(), t;
	int r = qs_sq_lookup(TM_QUEUE); /* no TM, no transactions */
	if (r < 0)
		return r;
	r = qs_syscall(SYS_TX_BEGIN, (uint32_t)&t, 0, 0, 0, 0);
	if (r < 0)
		return r;
	r = tm_call(TM_OP_BEGIN, NULL, 0);
	if (r < 0) {
		tm_call(TM_OP_ABORT, &t, sizeof(t)); /* gives the kernel's slot back */
		qs_tx_set(prev);
		return r;
	}
	*tx = t;
	return 0;
}

/* After tx ended: its thread goes back to the default if it was under it. */
static void
tx_leave(uint64_t tx, uint64_t prev)
{
	qs_tx_set(prev == tx ? 0 : prev);
}

int
qs_tx_commit(uint64_t tx)
{
	int r = tm_call(TM_OP_COMMIT, &tx, sizeof(tx));
	if (r == 0 || r == QS_EABORTED)
		tx_leave(tx, qs_tx_get());
	return r;
}

int
qs_tx_delegate(uint64_t tx, uint32_t node)
{
	tm_delegate_t d = { tx, node };
	return tm_call(TM_OP_DELEGATE, &d, sizeof(d));
}

int
qs_tx_abort(uint64_t tx)
{
	int r = tm_call(TM_OP_ABORT, &tx, sizeof(tx));
	if (r == 0)
		tx_leave(tx, qs_tx_get());
	return r;
}

int
qs_tx_outcome(uint64_t tx)
{
	return tm_call(TM_OP_OUTCOME, &tx, sizeof(tx));
}

int
qs_tx_recovered(void)
{
	return tm_call(TM_OP_RECOVERED, NULL, 0);
}

uint64_t
qs_tx_current(void)
{
	return qs_tx_get();
}

int
qs_tx_alive(void)
{
	return qs_syscall(SYS_TX_ALIVE, 0, 0, 0, 0, 0);
}

/* ---- participants ------------------------------------------------------ */

static part_t *
part_find(uint64_t tx, part_t ***link)
{
	part_t **pp = &parts;
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->tx == tx)
			break;
	if (link)
		*link = pp;
	return *pp;
}

/* Takes tx's record out of the table; the caller runs and frees it. */
static part_t *
part_take(uint64_t tx)
{
	part_t **pp;
	qs_mutex_lock(&lock);
	part_t *p = part_find(tx, &pp);
	if (p)
		*pp = p->next;
	qs_mutex_unlock(&lock);
	return p;
}

static void
part_finish(part_t *p, int outcome)
{
	if (p->ops.end)
		p->ops.end(p->tx, outcome, p->ops.arg);
	while (p->crumbs) {
		crumb_t *c = p->crumbs;
		p->crumbs = c->next;
		c->fn(c->obj, p->tx, outcome);
		free(c);
		qs_mutex_lock(&lock);
		ncrumbs--;
		qs_mutex_unlock(&lock);
	}
	free(p);
}

static int
prepare(uint64_t tx)
{
	qs_mutex_lock(&lock);
	part_t *p = part_find(tx, NULL);
	qs_tx_ops_t ops = p ? p->ops : (qs_tx_ops_t){ 0 };
	qs_mutex_unlock(&lock);
	if (!p)
		return QS_VOTE_NO; /* whatever we did for it is lost */
	int vote = ops.prepare ? ops.prepare(tx, ops.arg) : QS_VOTE_YES;
	if (vote == QS_VOTE_READONLY) {
		/* the outcome cannot change anything of ours: done now */
		p = part_take(tx);
		if (p)
			part_finish(p, QS_TX_COMMITTED);
	}
	return vote;
}

static int32_t
note_prepare(const qs_msg_t *req, const void *args, qs_msg_t *reply,
	     void *ctx)
{
	(void)args, (void)reply, (void)ctx;
	return prepare(req->hdr.txid);
}

static int32_t
note_end(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)args, (void)reply, (void)ctx;
	int outcome = req->hdr.opcode == TM_NOTE_COMMIT ? QS_TX_COMMITTED
							: QS_TX_ABORTED;
	if (outcome == QS_TX_ABORTED)
		qs_tx_set(0); /* its requests would be refused: cleaning up
				 is work of our own */
	part_t *p = part_take(req->hdr.txid);
	if (p)
		part_finish(p, outcome);
	return 0;
}

/* The TM's notices: each is its header, nothing more, and only this
 * node's TM sends them (its kernel says so: QS_MSG_SRC_TM). */
#define NOTE_WHO (QS_WHO_LOCAL | QS_WHO_TM)
static const qs_op_t note_ops[] = {
	[TM_NOTE_PREPARE] = { "prepare", 0, 0, 0, NULL, note_prepare, NOTE_WHO },
	[TM_NOTE_COMMIT] = { "commit", 0, 0, 0, NULL, note_end, NOTE_WHO },
	[TM_NOTE_ABORT] = { "abort", 0, 0, 0, NULL, note_end, NOTE_WHO },
};
static qs_server_t note_server = QS_SERVER("tx.rq", note_ops, NULL);

static void *
recovery_thread(void *arg)
{
	qs_serve_table((int)arg, &note_server, 1);
	return NULL;
}

/* The process's recovery queue, made on first use; lock held. */
static int
recovery_queue(void)
{
	if (recovery_qid > 0)
		return recovery_qid;
	char name[QS_NAME_MAX];
	snprintf(name, sizeof(name), TM_RQ_PREFIX "%d", qs_getpid());
	int qid = qs_sq_create(name, QS_SQ_DEPTH_MAX);
	if (qid < 0)
		return qid;
	if (!qs_thread_create(recovery_thread, (void *)qid)) {
		qs_sq_destroy(qid);
		return QS_ENOMEM;
	}
	return recovery_qid = qid;
}

/* Tells the TM, under tx, that this process takes part in it. */
static int
tm_join(uint64_t tx, int cls, int rqid)
{
	uint64_t prev = qs_tx_get();
	int r = qs_tx_set(tx);
	if (r < 0)
		return r;
	tm_join_t j = { cls, rqid };
	r = tm_call(TM_OP_JOIN, &j, sizeof(j));
	qs_tx_set(prev);
	return r;
}

int
qs_tx_join(uint64_t tx, int how, const qs_tx_ops_t *ops)
{
	if (!qs_tx_cls_ok(how) || tx == 0)
		return QS_EINVAL;
	int cls = QS_TX_CLASS(how);
	bool aborts = (how & QS_TX_DEATH_ABORTS) != 0;
	if (cls == QS_TX_NONE)
		return tm_join(tx, cls, 0);
	qs_mutex_lock(&lock);
	int rqid = recovery_queue();
	part_t **pp, *p = part_find(tx, &pp);
	if (rqid < 0) {
		qs_mutex_unlock(&lock);
		return rqid;
	}
	if (p) { /* joined already: a higher class, the declaration that its
		    death aborts, or new ops take effect */
		bool raise = cls > p->cls, told = raise || (aborts && !p->aborts);
		if (raise)
			p->cls = cls;
		p->aborts |= aborts;
		if (ops && (raise || (!p->ops.prepare && !p->ops.end)))
			p->ops = *ops;
		int again = p->cls | (p->aborts ? QS_TX_DEATH_ABORTS : 0);
		qs_mutex_unlock(&lock);
		return told ? tm_join(tx, again, rqid) : 0;
	}
	if (!(p = calloc(1, sizeof(*p)))) {
		qs_mutex_unlock(&lock);
		return QS_ENOMEM;
	}
	/* in the table before the TM hears of it: a notice may follow at once */
	p->tx = tx;
	p->cls = cls;
	p->aborts = aborts;
	if (ops)
		p->ops = *ops;
	*pp = p;
	qs_mutex_unlock(&lock);
	int r = tm_join(tx, how, rqid);
	if (r < 0 && (p = part_take(tx)))
		part_finish(p, QS_TX_ABORTED); /* nothing there yet but ops.end */
	return r;
}

/* ---- breadcrumbs ------------------------------------------------------- */

int
crumb_add(uint64_t tx, crumb_fn_t fn, void *obj)
{
	crumb_t *c = malloc(sizeof(*c));
	if (!c || !fn) {
		free(c);
		return c ? QS_EINVAL : QS_ENOMEM;
	}
	qs_mutex_lock(&lock);
	part_t *p = part_find(tx, NULL);
	qs_mutex_unlock(&lock);
	int r = p ? 0 : qs_tx_join(tx, QS_TX_VOLATILE, NULL);
	if (r < 0) {
		free(c);
		return r;
	}
	qs_mutex_lock(&lock);
	if ((p = part_find(tx, NULL))) {
		c->fn = fn;
		c->obj = obj;
		c->next = p->crumbs;
		p->crumbs = c;
		ncrumbs++;
	}
	qs_mutex_unlock(&lock);
	if (!p) {
		free(c);
		return QS_ENOENT; /* it ended while we joined */
	}
	return 0;
}

int
crumb_remove(uint64_t tx, crumb_fn_t fn, void *obj)
{
	int r = QS_ENOENT;
	qs_mutex_lock(&lock);
	part_t *p = part_find(tx, NULL);
	for (crumb_t **cp = p ? &p->crumbs : NULL; cp && *cp; cp = &(*cp)->next) {
		crumb_t *c = *cp;
		if (c->fn == fn && c->obj == obj) {
			*cp = c->next;
			free(c);
			ncrumbs--;
			r = 0;
			break;
		}
	}
	qs_mutex_unlock(&lock);
	return r;
}

int
crumb_count(void)
{
	qs_mutex_lock(&lock);
	int n = ncrumbs;
	qs_mutex_unlock(&lock);
	return n;
}

/* ---- text form --------------------------------------------------------- */

char *
qs_tx_format(uint64_t tx, char buf[QS_TX_TEXT])
{
	snprintf(buf, QS_TX_TEXT, "%u.%u.%u", (unsigned)(tx >> 48),
		 (unsigned)((tx >> 32) & 0xFFFF), (unsigned)(uint32_t)tx);
	return buf;
}

int
qs_tx_parse(const char *s, uint64_t *tx)
{
	uint32_t f[3];
	for (int i = 0; i < 3; i++) {
		char *end;
		unsigned long v = strtoul(s, &end, 10);
		if (end == s || (i < 2 && (*end != '.' || v > 0xFFFF)) ||
		    (i == 2 && *end))
			return QS_EINVAL;
		f[i] = (uint32_t)v;
		s = end + 1;
	}
	*tx = QS_TX(f[0], f[1], f[2]);
	return 0;
}
