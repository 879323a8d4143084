/*
 * Service queues, the only IPC. A request is copied into the kernel when it
 * is sent and lives in one sq_req_t until its client has its answer, so each
 * request has exactly one owner at every moment:
 *
 *   QUEUED   on the queue's pending list, not yet given to a thread
 *   ASSIGNED given to an idle offered thread that has not run yet
 *   BUSY     its thread is in the upcall
 *   DONE     answered; waiting for the client to collect the reply
 *
 * A request moves only forward, except ASSIGNED -> QUEUED when its server
 * dies before the upcall starts, so it is executed at most once, and every
 * path out of QUEUED, ASSIGNED and BUSY ends in sq_complete: one answer.
 */
#include "kernel.h"
#include "cpu.h"
#include "boot.h"
#include "heap.h"
#include "proc.h"
#include "tx.h"

enum { RQ_QUEUED, RQ_ASSIGNED, RQ_BUSY, RQ_DONE };
enum { SQT_NONE, SQT_IDLE, SQT_ASSIGNED, SQT_BUSY };

typedef struct sq {
	int qid;
	int owner;
	char name[QS_NAME_MAX];
	uint32_t depth;
	list_t pending; /* QUEUED requests, oldest first */
	uint32_t npending;
	list_t idle;    /* offered threads with nothing to do */
	uint32_t nidle;
	list_t members; /* every thread offering on this queue */
	uint32_t nmembers;
	uint32_t completed;
	wq_t space;     /* synchronous senders waiting for room */
	list_t link;
	struct sq *hnext; /* in its by_qid bucket */
} sq_t;

typedef struct sq_req {
	int state;
	qs_msg_hdr_t hdr;
	uint8_t *data, *ool;
	qs_msg_hdr_t rhdr; /* the reply, once DONE */
	uint8_t *rdata, *rool;
	sq_t *q;
	proc_t *client;  /* NULL: the client died, or the kernel sent it */
	thread_t *caller; /* the client thread blocked in SYS_SQ_CALL, if any */
	thread_t *server;
	list_t qlink;    /* in the queue's pending list */
	list_t clink;    /* in the client's request list */
} sq_req_t;

#define SQ_BUCKETS 64 /* qids are handed out in order: one per bucket */

static list_t queues = LIST_INIT(queues);
static sq_t *by_qid[SQ_BUCKETS]; /* every call looks its queue up here */
static int next_qid = 1;
static uint32_t next_rid = 1;

static sq_t *
sq_find(int qid)
{
	sq_t *q = by_qid[(uint32_t)qid % SQ_BUCKETS];
	while (q && q->qid != qid)
		q = q->hnext;
	return q;
}

static void
sq_unhash(sq_t *q)
{
	sq_t **pp = &by_qid[(uint32_t)q->qid % SQ_BUCKETS];
	while (*pp != q)
		pp = &(*pp)->hnext;
	*pp = q->hnext;
}

static sq_t *
sq_find_name(const char *name)
{
	for (list_t *l = queues.next; l != &queues; l = l->next) {
		sq_t *q = list_entry(l, sq_t, link);
		if (strcmp(q->name, name) == 0)
			return q;
	}
	return NULL;
}

/*
 * Where a name that is not on this node will be resolved: the communication
 * manager will answer for queues on other nodes. Until it exists, a miss is
 * a miss.
 */
static int
sq_lookup_remote(const char *name)
{
	(void)name;
	return QS_ENOENT;
}

/* Is tx the transaction of the request thread t is serving? */
bool
sq_serving_tx(const thread_t *t, uint64_t tx)
{
	return t->sq_state == SQT_BUSY && t->sq_req && t->sq_req->hdr.txid == tx;
}

/* ---- requests ---------------------------------------------------------- */

static void
req_free(sq_req_t *r)
{
	list_del(&r->clink);
	if (r->data) /* most requests and replies carry no data */
		kfree(r->data);
	if (r->ool)
		kfree(r->ool);
	if (r->rdata)
		kfree(r->rdata);
	if (r->rool)
		kfree(r->rool);
	kfree(r);
}

/* Copies the data a message header describes into the kernel. */
static int
msg_copy_in(uint32_t umsg, qs_msg_hdr_t *hdr, uint8_t **data, uint8_t **ool)
{
	*data = *ool = NULL;
	if (copy_from_user(hdr, umsg, sizeof(*hdr)) < 0)
		return QS_EFAULT;
	if (hdr->len > QS_MSG_INLINE || hdr->ool_len > QS_MSG_OOL_MAX)
		return QS_E2BIG;
	if ((hdr->len && !user_ok(umsg + sizeof(*hdr), hdr->len, false)) ||
	    (hdr->ool_len && !user_ok(hdr->ool, hdr->ool_len, false)))
		return QS_EFAULT;
	if (hdr->len && !(*data = kmalloc(hdr->len)))
		return QS_ENOMEM;
	if (hdr->ool_len && !(*ool = kmalloc(hdr->ool_len))) {
		kfree(*data);
		return QS_ENOMEM;
	}
	if (hdr->len)
		memcpy(*data, (const void *)(umsg + sizeof(*hdr)), hdr->len);
	if (hdr->ool_len)
		memcpy(*ool, (const void *)hdr->ool, hdr->ool_len);
	return 0;
}

/*
 * Copies a message into a receive buffer of `cap` bytes: inline data after
 * the header, out-of-line data after a whole qs_msg_t. What does not fit is
 * cut and flagged. Only the bytes written are checked, so a big buffer
 * costs nothing per message beyond what the message fills.
 */
static int
msg_copy_out(uint32_t ubuf, uint32_t cap, const qs_msg_hdr_t *src,
	     const uint8_t *data, const uint8_t *ool)
{
	uint32_t len = src->len, ool_len = src->ool_len, flags = 0;
	uint32_t ool_room = cap > sizeof(qs_msg_t) ? cap - sizeof(qs_msg_t) : 0;

	if (len > cap - sizeof(*src)) {
		len = cap - sizeof(*src);
		flags |= QS_MSG_TRUNC;
	}
	if (ool_len > ool_room) {
		ool_len = ool_room;
		flags |= QS_MSG_TRUNC;
	}
	uint32_t ool_at = ool_len ? ubuf + sizeof(qs_msg_t) : 0;
	if (!user_ok(ubuf, sizeof(*src) + len, true) ||
	    (ool_len && !user_ok(ool_at, ool_len, true)))
		return QS_EFAULT;
	qs_msg_hdr_t *h = (qs_msg_hdr_t *)ubuf;
	memcpy(h, src, sizeof(*h));
	h->len = len;
	h->ool_len = ool_len;
	h->ool = ool_at;
	h->flags = flags;
	if (len)
		memcpy(h + 1, data, len);
	if (ool_len)
		memcpy((void *)ool_at, ool, ool_len);
	return 0;
}

/* The size of a receive buffer is sane (its pages are checked on use). */
static bool
recv_cap_ok(uint32_t cap)
{
	return cap >= sizeof(qs_msg_hdr_t) && cap <= (1u << 20);
}

static bool
recv_buf_ok(uint32_t ubuf, uint32_t cap)
{
	return recv_cap_ok(cap) && user_ok(ubuf, cap, true);
}

/* The one way a request gets its answer. */
static void
sq_complete(sq_req_t *r, int32_t status)
{
	if (r->q) {
		r->q->completed++;
		r->q = NULL;
	}
	r->state = RQ_DONE;
	r->server = NULL;
	r->rhdr.rid = r->hdr.rid;
	r->rhdr.qid = r->hdr.qid;
	r->rhdr.txid = r->hdr.txid;
	r->rhdr.status = status;
	if (!r->client) {
		req_free(r);
		return;
	}
	if (r->caller)
		sched_wake(r->caller, 0);
	else
		sched_wake_all(&r->client->sq_done);
}

/* A kernel-side failure: the answer is an error and no data. */
static void
sq_fail(sq_req_t *r, int32_t err)
{
	memset(&r->rhdr, 0, sizeof(r->rhdr));
	r->rhdr.src_node = boot_node_id();
	sq_complete(r, err);
}

static void
sq_dispatch(sq_t *q)
{
	while (q->npending && q->nidle) {
		sq_req_t *r = list_entry(q->pending.next, sq_req_t, qlink);
		thread_t *t = list_entry(q->idle.next, thread_t, sq_idle_link);
		list_del(&r->qlink);
		q->npending--;
		list_del(&t->sq_idle_link);
		q->nidle--;
		r->state = RQ_ASSIGNED;
		r->server = t;
		t->sq_req = r;
		t->sq_state = SQT_ASSIGNED;
		sched_wake(t, 0);
		if (!list_empty(&q->space.waiters))
			sched_wake(list_entry(q->space.waiters.next, thread_t,
					      run_link), 0);
	}
}

/*
 * Stamps a request whose hdr, data and ool are filled in with its id, queue,
 * sender and transaction: what user code cannot choose.
 */
static void
req_stamp(sq_req_t *r, sq_t *q, proc_t *client, uint64_t txid)
{
	r->rdata = r->rool = NULL;
	r->caller = NULL;
	r->server = NULL;
	r->hdr.rid = next_rid++;
	if (next_rid == 0)
		next_rid = 1;
	r->hdr.qid = (uint32_t)q->qid;
#ifndef QS_NO_TX_STAMP
	r->hdr.txid = txid;
#else
	(void)txid; /* `make bench` measures IPC without any of the stamping */
#endif
	r->hdr.src_node = boot_node_id();
	r->hdr.src_pid = client ? client->pid : 0;
	r->hdr.status = 0;
	r->hdr.flags = 0;
	r->q = q;
	r->client = client;
	list_init(&r->qlink);
	list_init(&r->clink);
	if (client)
		list_add_tail(&client->sq_reqs, &r->clink);
}

static void
enqueue(sq_t *q, sq_req_t *r)
{
	r->state = RQ_QUEUED;
	list_add_tail(&q->pending, &r->qlink);
	q->npending++;
	sq_dispatch(q);
}

/*
 * Makes a request from the caller's message and queues it, waiting for room
 * if `wait`; returns it, or NULL with *err set.
 */
static sq_req_t *
send_common(int qid, uint32_t umsg, bool wait, int *err)
{
	sq_req_t *r = kmalloc(sizeof(*r));
	sq_t *q;

	if (!r) {
		*err = QS_ENOMEM;
		return NULL;
	}
	*err = msg_copy_in(umsg, &r->hdr, &r->data, &r->ool);
	if (*err < 0) {
		kfree(r);
		return NULL;
	}
	bool waited = false;
	while ((q = sq_find(qid)) && q->npending >= q->depth) {
		if (!wait) {
			*err = QS_EAGAIN;
			goto fail;
		}
		sched_block(&q->space, -1);
		waited = true;
	}
	if (!q) {
		*err = waited ? QS_EQGONE : QS_ENOENT;
		goto fail;
	}
	req_stamp(r, q, current->proc, current->tx);
	r->caller = wait ? current : NULL;
	enqueue(q, r);
	return r;
fail:
	kfree(r->data);
	kfree(r->ool);
	kfree(r);
	return NULL;
}

static int
sq_call(int qid, uint32_t umsg, uint32_t ubuf, uint32_t cap)
{
	int err;
	if (!recv_buf_ok(ubuf, cap))
		return QS_EFAULT;
	sq_req_t *r = send_common(qid, umsg, true, &err);
	if (!r)
		return err;
	while (r->state != RQ_DONE)
		sched_block(&current->proc->sq_done, -1);
	int32_t status = r->rhdr.status;
	if (msg_copy_out(ubuf, cap, &r->rhdr, r->rdata, r->rool) < 0)
		status = QS_EFAULT; /* another thread unmapped it meanwhile */
	req_free(r);
	return status;
}

static int
sq_send(int qid, uint32_t umsg)
{
	int err;
	if (current->proc->sq_async >= QS_SQ_ASYNC_MAX)
		return QS_EAGAIN;
	sq_req_t *r = send_common(qid, umsg, false, &err);
	if (!r)
		return err;
	current->proc->sq_async++;
	return (int)r->hdr.rid;
}

static sq_req_t *
find_done(proc_t *p, uint32_t rid, bool *mine)
{
	*mine = false;
	for (list_t *l = p->sq_reqs.next; l != &p->sq_reqs; l = l->next) {
		sq_req_t *r = list_entry(l, sq_req_t, clink);
		if (r->caller || (rid && r->hdr.rid != rid))
			continue;
		*mine = true;
		if (r->state == RQ_DONE)
			return r;
	}
	return NULL;
}

static int
sq_wait(uint32_t rid, uint32_t ubuf, uint32_t cap, int32_t timeout_ms)
{
	proc_t *p = current->proc;
	bool mine;
	uint32_t deadline = timer_ms() + (uint32_t)timeout_ms;

	if (!recv_buf_ok(ubuf, cap))
		return QS_EFAULT;
	if (timeout_ms < -1)
		return QS_EINVAL;
	for (;;) {
		sq_req_t *r = find_done(p, rid, &mine);
		if (r) {
			int id = (int)r->hdr.rid;
			int err = msg_copy_out(ubuf, cap, &r->rhdr, r->rdata, r->rool);
			p->sq_async--;
			req_free(r);
			return err < 0 ? err : id;
		}
		if (!mine)
			return QS_ENOENT; /* not an outstanding request of ours */
		/* any completion of ours wakes us: wait only for what is left */
		int32_t left = timeout_ms < 0 ? -1 : (int32_t)(deadline - timer_ms());
		if ((left < 0 && timeout_ms >= 0) ||
		    (sched_block(&p->sq_done, left) == QS_ETIMEDOUT &&
		     !find_done(p, rid, &mine)))
			return QS_ETIMEDOUT;
	}
}

/* ---- servers ----------------------------------------------------------- */

/* Starts the upcall for the thread's assigned request on the way out. */
static int
upcall(trap_frame_t *f)
{
	thread_t *t = current;
	sq_req_t *r = t->sq_req;
	uint32_t frame[2] = { 0, t->sq_buf }; /* return address, argument */
	uint32_t sp = (t->sq_stack & ~15u) - sizeof(frame);

	if (copy_to_user(sp, frame, sizeof(frame)) < 0 ||
	    msg_copy_out(t->sq_buf, t->sq_cap, &r->hdr, r->data, r->ool) < 0) {
		/* the server broke its own offer: it cannot take the request */
		t->sq_req = NULL;
		sq_fail(r, QS_ESRVDIED);
		return QS_EFAULT;
	}
	r->state = RQ_BUSY;
	t->sq_state = SQT_BUSY;
#ifndef QS_NO_TX_STAMP
	t->sq_saved_tx = t->tx;
	t->tx = r->hdr.txid;
	tx_hold(t->proc, r->hdr.txid);
#endif
	f->eip = t->sq_entry;
	f->user_esp = sp;
	return 0;
}

static void
offer_leave(thread_t *t)
{
	sq_t *q = t->sq_q;
	if (q) {
		if (t->sq_state == SQT_IDLE) {
			list_del(&t->sq_idle_link);
			q->nidle--;
		}
		list_del(&t->sq_member_link);
		q->nmembers--;
	}
	t->sq_q = NULL;
	t->sq_state = SQT_NONE;
	t->sq_req = NULL;
}

/* Idle until a request comes (then upcall) or the queue goes (error). */
static int
idle_wait(trap_frame_t *f)
{
	thread_t *t = current;
	sq_t *q = t->sq_q;

	t->sq_state = SQT_IDLE;
	list_add_tail(&q->idle, &t->sq_idle_link);
	q->nidle++;
	sq_dispatch(q);
	while (t->sq_state == SQT_IDLE && t->sq_q)
		sched_block(NULL, -1);
	if (!t->sq_req) {
		offer_leave(t);
		return QS_EQGONE;
	}
	int r = upcall(f);
	if (r < 0)
		offer_leave(t);
	return r;
}

static int
sq_offer(trap_frame_t *f, int qid, uint32_t entry, uint32_t stack,
	 uint32_t ubuf, uint32_t cap)
{
	thread_t *t = current;
	sq_t *q = sq_find(qid);

	if (t->sq_q || t->sq_state != SQT_NONE)
		return QS_EBUSY;
	if (!q)
		return QS_ENOENT;
	if (q->owner != t->proc->pid && strcmp(q->name, QS_DEATH_QUEUE) == 0)
		return QS_EPERM; /* deaths are the TM's business alone */
	if (!user_ok(entry, 1, false) || !recv_buf_ok(ubuf, cap) ||
	    stack < 64 || !user_ok(stack - 64, 64, true))
		return QS_EFAULT;
	t->sq_q = q;
	t->sq_entry = entry;
	t->sq_stack = stack;
	t->sq_buf = ubuf;
	t->sq_cap = cap;
	list_add_tail(&q->members, &t->sq_member_link);
	q->nmembers++;
	return idle_wait(f);
}

static int
sq_reply(trap_frame_t *f, uint32_t umsg)
{
	thread_t *t = current;
	sq_req_t *r = t->sq_req;
	qs_msg_hdr_t scratch; /* for a reply that nobody waits for any more */
	uint8_t *data, *ool;

	if (t->sq_state != SQT_BUSY)
		return QS_EINVAL;
#ifndef QS_NO_TX_STAMP
	t->tx = t->sq_saved_tx;
#endif
	int err = msg_copy_in(umsg, r ? &r->rhdr : &scratch, &data, &ool);
	if (r) {
		t->sq_req = NULL;
		if (err < 0) {
			sq_fail(r, err); /* the client learns the reply was bad */
		} else {
			r->rdata = data;
			r->rool = ool;
			sq_complete(r, r->rhdr.status);
			data = ool = NULL;
		}
	}
	if (data)
		kfree(data);
	if (ool)
		kfree(ool);
	if (err < 0 || !t->sq_q) {
		offer_leave(t);
		return err < 0 ? err : QS_EQGONE;
	}
	return idle_wait(f);
}

/* ---- queues ------------------------------------------------------------ */

static int
sq_create(uint32_t uname, uint32_t depth)
{
	char name[QS_NAME_MAX];
	int n = copy_str_from_user(name, uname, sizeof(name));

	if (n < 0)
		return n == QS_E2BIG ? QS_EINVAL : n;
	if (n == 0 || depth > QS_SQ_DEPTH_MAX)
		return QS_EINVAL;
	for (int i = 0; i < n; i++)
		if (name[i] <= ' ' || name[i] > '~')
			return QS_EINVAL;
	if (sq_find_name(name))
		return QS_EEXIST;
	sq_t *q = kzalloc(sizeof(*q));
	if (!q)
		return QS_ENOMEM;
	q->qid = next_qid++;
	q->owner = current->proc->pid;
	memcpy(q->name, name, (size_t)n + 1);
	q->depth = depth ? depth : QS_SQ_DEPTH_DEFAULT;
	list_init(&q->pending);
	list_init(&q->idle);
	list_init(&q->members);
	list_init(&q->space.waiters);
	list_add_tail(&queues, &q->link);
	q->hnext = by_qid[(uint32_t)q->qid % SQ_BUCKETS];
	by_qid[(uint32_t)q->qid % SQ_BUCKETS] = q;
	return q->qid;
}

/* Every request still on the queue fails with err; offered threads leave. */
static void
sq_kill(sq_t *q, int32_t err)
{
	list_del(&q->link);
	sq_unhash(q);
	while (!list_empty(&q->pending)) {
		sq_req_t *r = list_entry(q->pending.next, sq_req_t, qlink);
		list_del(&r->qlink);
		sq_fail(r, err);
	}
	while (!list_empty(&q->members)) {
		thread_t *t = list_entry(q->members.next, thread_t, sq_member_link);
		list_del(&t->sq_member_link);
		list_del(&t->sq_idle_link);
		if (t->sq_req) {
			sq_fail(t->sq_req, err);
			t->sq_req = NULL;
		}
		t->sq_q = NULL; /* the thread sees this when it next runs */
		if (t->sq_state == SQT_IDLE)
			sched_wake(t, 0);
	}
	sched_wake_all(&q->space); /* they look the queue up again and fail */
	kfree(q);
}

static int
sq_destroy(int qid)
{
	sq_t *q = sq_find(qid);
	if (!q)
		return QS_ENOENT;
	if (q->owner != current->proc->pid)
		return QS_EPERM;
	sq_kill(q, QS_EQGONE);
	return 0;
}

static int
sq_lookup(uint32_t uname)
{
	char name[QS_NAME_MAX];
	int n = copy_str_from_user(name, uname, sizeof(name));
	if (n < 0)
		return n == QS_E2BIG ? QS_ENOENT : n;
	sq_t *q = sq_find_name(name);
	return q ? q->qid : sq_lookup_remote(name);
}

static int
sq_list(uint32_t ubuf, uint32_t max)
{
	uint32_t n = 0;
	if (max > 1024 || !user_ok(ubuf, max * sizeof(qs_sq_info_t), true))
		return QS_EFAULT;
	for (list_t *l = queues.next; l != &queues && n < max; l = l->next) {
		sq_t *q = list_entry(l, sq_t, link);
		qs_sq_info_t info = { q->qid, q->owner, q->nidle,
				      q->nmembers - q->nidle, q->npending,
				      q->completed, q->depth, { 0 } };
		memcpy(info.name, q->name, sizeof(info.name));
		copy_to_user(ubuf + n++ * sizeof(info), &info, sizeof(info));
	}
	return (int)n;
}

/* ---- process death ------------------------------------------------------ */

static void
drop_client_requests(proc_t *p)
{
	while (!list_empty(&p->sq_reqs)) {
		sq_req_t *r = list_entry(p->sq_reqs.next, sq_req_t, clink);
		list_del(&r->clink);
		r->client = NULL;
		r->caller = NULL;
		if (r->state == RQ_QUEUED) {
			list_del(&r->qlink);
			r->q->npending--;
			sched_wake_all(&r->q->space);
			req_free(r);
		} else if (r->state == RQ_DONE) {
			req_free(r);
		} /* ASSIGNED or BUSY: the server's answer is discarded */
	}
}

int
sq_tm_pid(void)
{
	sq_t *q = sq_find_name(QS_DEATH_QUEUE);
	return q ? q->owner : 0;
}

/*
 * A server thread that is going away gives back what it held: a request it
 * has not started goes back to the queue for another thread; one it started
 * fails, since it must never run twice. When the last offering thread of a
 * queue goes, the requests still waiting there fail too.
 */
void
sq_thread_gone(thread_t *t)
{
	sq_t *q = t->sq_q;
	sq_req_t *r = t->sq_req;

	if (!q) {
		t->sq_req = NULL; /* its queue is gone and its request answered */
		return;
	}
	if (t->sq_state == SQT_ASSIGNED && r) {
		r->state = RQ_QUEUED;
		r->server = NULL;
		list_add_tail(q->pending.next, &r->qlink); /* at the head */
		q->npending++;
	} else if (t->sq_state == SQT_BUSY && r) {
		sq_fail(r, QS_ESRVDIED);
	}
	offer_leave(t);
	while (q->nmembers == 0 && !list_empty(&q->pending)) {
		sq_req_t *pr = list_entry(q->pending.next, sq_req_t, qlink);
		list_del(&pr->qlink);
		q->npending--;
		sq_fail(pr, QS_ESRVDIED);
	}
	sq_dispatch(q);
}

static void
post_death_notice(proc_t *p)
{
	sq_t *q = sq_find_name(QS_DEATH_QUEUE);
	qs_death_notice_t *n;
	qs_msg_hdr_t hdr = { 0 };

	if (!q || q->owner == p->pid || !(n = kzalloc(sizeof(*n))))
		return;
	n->pid = p->pid;
	n->status = p->exit_status;
	n->txid = p->default_tx;
	memcpy(n->name, p->name, sizeof(n->name));
	hdr.opcode = QS_NOTICE_DEATH;
	hdr.len = sizeof(*n);
	sq_req_t *r = kmalloc(sizeof(*r));
	if (!r) {
		kfree(n);
		return;
	}
	r->hdr = hdr;
	r->data = (uint8_t *)n;
	r->ool = NULL;
	req_stamp(r, q, NULL, p->default_tx);
	enqueue(q, r); /* past the depth limit: a notice is never dropped */
}

void
sq_proc_exit(proc_t *p)
{
	drop_client_requests(p);
	p->sq_async = 0;
	for (list_t *l = p->threads.next; l != &p->threads; l = l->next)
		sq_thread_gone(list_entry(l, thread_t, proc_link));
	for (list_t *l = queues.next; l != &queues;) {
		sq_t *q = list_entry(l, sq_t, link);
		l = l->next;
		if (q->owner == p->pid)
			sq_kill(q, QS_ESRVDIED);
	}
	post_death_notice(p);
}

/* ---- syscalls ---------------------------------------------------------- */

void
sq_syscall(trap_frame_t *f)
{
	uint32_t a = f->ebx, b = f->ecx, c = f->edx, d = f->esi, e = f->edi;
	int r;

	switch (f->eax) {
	case SYS_SQ_CREATE: r = sq_create(a, b); break;
	case SYS_SQ_DESTROY: r = sq_destroy((int)a); break;
	case SYS_SQ_LOOKUP: r = sq_lookup(a); break;
	case SYS_SQ_OFFER: r = sq_offer(f, (int)a, b, c, d, e); break;
	case SYS_SQ_REPLY: r = sq_reply(f, a); break;
	case SYS_SQ_CALL: r = sq_call((int)a, b, c, d); break;
	case SYS_SQ_SEND: r = sq_send((int)a, b); break;
	case SYS_SQ_WAIT: r = sq_wait(a, b, c, (int32_t)d); break;
	case SYS_SQ_LIST: r = sq_list(a, b); break;
	default: r = QS_ENOSYS;
	}
	f->eax = (uint32_t)r;
}
