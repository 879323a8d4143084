/*
 * Service queues, the only IPC. A request is copied into the kernel when it
 * is sent and lives in one sq_req_t until its client has its answer, so each
 * request has exactly one owner at every moment:
 *
 *   QUEUED   on the queue's pending list, not yet given to a thread
 *   ASSIGNED given to an idle offered thread that has not run yet
 *   BUSY     its thread is in the upcall
 *   DEFERRED put aside by its server, to be answered later (sq_server.c)
 *   DONE     answered; waiting for the client to collect the reply
 *
 * A request moves only forward, except ASSIGNED -> QUEUED when its server
 * dies before the upcall starts, so it is executed at most once, and every
 * path out of QUEUED, ASSIGNED, BUSY and DEFERRED ends in sq_complete: one
 * answer. This file has the queues and the client side; sq_server.c the
 * server side; sq_net.c queues on other nodes.
 */
#include "kernel.h"
#include "cpu.h"
#include "boot.h"
#include "heap.h"
#include "sq.h"
#include "syscall.h"
#include "tx.h"
#include "vmm.h"

#define SQ_BUCKETS 64 /* qids are handed out in order: one per bucket */

static list_t queues = LIST_INIT(queues);
static sq_t *by_qid[SQ_BUCKETS]; /* every call looks its queue up here */
static int next_qid = 1;
static uint32_t next_rid = 1;

sq_t *
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

sq_t *
sq_find_name(const char *name)
{
	for (list_t *l = queues.next; l != &queues; l = l->next) {
		sq_t *q = list_entry(l, sq_t, link);
		if (strcmp(q->name, name) == 0)
			return q;
	}
	return NULL;
}

/* ---- requests ---------------------------------------------------------- */

/*
 * Requests that clients send come from a pool first, and from the heap
 * only when it is used up: most live for one round trip, and a free list
 * costs less than the allocator. (Requests the kernel makes itself come
 * from the heap; req_free tells the two apart by address.)
 */
#define REQ_POOL 64
static sq_req_t req_pool[REQ_POOL];
static uint32_t req_pool_used; /* entries ever taken; those below are */
static sq_req_t *req_spare;    /* ... free on this list, or in use */

static sq_req_t *
req_alloc(void)
{
	sq_req_t *r = req_spare;
	if (r) {
		req_spare = r->spare;
		return r;
	}
	if (req_pool_used < REQ_POOL)
		return &req_pool[req_pool_used++];
	return kmalloc(sizeof(*r));
}

/* Gives r's memory back (its data is the caller's business). */
static void
req_release(sq_req_t *r)
{
	if (r >= req_pool && r < req_pool + REQ_POOL) {
		r->spare = req_spare;
		req_spare = r;
	} else {
		kfree(r);
	}
}

/* The client no longer holds the request (answered and reaped, or dead). */
static void
req_unlink(sq_req_t *r)
{
	list_del(&r->clink); /* (which leaves it empty) */
	if (r->client)
		r->client->job->kbytes -= r->charge;
	r->charge = 0;
}

void
req_free(sq_req_t *r)
{
	req_unlink(r);
	/* most requests and replies carry no data in the kernel */
	if ((uintptr_t)r->data | (uintptr_t)r->ool | (uintptr_t)r->rdata |
	    (uintptr_t)r->rool) {
		kfree(r->data); /* kfree(NULL) does nothing */
		kfree(r->ool);
		kfree(r->rdata);
		kfree(r->rool);
	}
	req_release(r);
}

int
msg_check_data(uint32_t umsg, const qs_msg_hdr_t *hdr)
{
	uint32_t len = hdr->len, ool_len = hdr->ool_len;
	if (len > QS_MSG_INLINE || ool_len > QS_MSG_OOL_MAX)
		return QS_E2BIG;
	if ((len && !user_ok(umsg + sizeof(*hdr), len, false)) ||
	    (ool_len && !user_ok(hdr->ool, ool_len, false)))
		return QS_EFAULT;
	return 0;
}

/* A message's header from user space, checked (msg_check). */
int
msg_header_in(uint32_t umsg, qs_msg_hdr_t *hdr)
{
	_Static_assert(sizeof(*hdr) % 4 == 0, "a header is whole words");
	if (!user_header(umsg))
		return QS_EFAULT;
	copy_words(hdr, (const void *)umsg, sizeof(*hdr) / 4);
	return msg_check(umsg, hdr);
}

/* Copies the data a checked header describes into the kernel. */
int
msg_data_in(uint32_t umsg, const qs_msg_hdr_t *hdr, uint8_t **data,
	    uint8_t **ool)
{
	*data = *ool = NULL;
	if ((hdr->len || hdr->ool_len) &&
	    !authority_pages_free((hdr->len + hdr->ool_len) / PAGE_SIZE + 2))
		return QS_ENOMEM;
	if (hdr->len && !(*data = kmalloc(hdr->len)))
		return QS_ENOMEM;
	if (hdr->ool_len && !(*ool = kmalloc(hdr->ool_len))) {
		kfree(*data);
		*data = NULL;
		return QS_ENOMEM;
	}
	if (hdr->len)
		memcpy(*data, (const void *)(umsg + sizeof(*hdr)), hdr->len);
	if (hdr->ool_len)
		memcpy(*ool, (const void *)hdr->ool, hdr->ool_len);
	return 0;
}

int
msg_copy_in(uint32_t umsg, qs_msg_hdr_t *hdr, uint8_t **data, uint8_t **ool)
{
	*data = *ool = NULL;
	int err = msg_header_in(umsg, hdr);
	return err < 0 ? err : msg_data_in(umsg, hdr, data, ool);
}

/*
 * Copies a message into a receive buffer of `cap` bytes in address space
 * pd: inline data after the header, out-of-line data after a whole
 * qs_msg_t. What does not fit is cut and flagged. Only the bytes written
 * are checked, so a big buffer costs nothing per message beyond what the
 * message fills. src, data and ool are kernel memory, or the current
 * process's (checked): the fast path copies from one process straight to
 * another. reply_to: the header is a server's reply to that request, to
 * be stamped (sq_reply_stamp) on its way.
 */
int
msg_copy_out(uint32_t pd, uint32_t ubuf, uint32_t cap, const qs_msg_hdr_t *src,
	     const void *data, const void *ool, const sq_req_t *reply_to)
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
	/* the header in place if it lies in one page (most do), else built
	   here and copied page by page */
	qs_msg_hdr_t tmp, *h = vmm_user_ptr(pd, ubuf, sizeof(*h), true);
	if (!h)
		h = &tmp;
	copy_words(h, src, sizeof(*h) / 4);
	h->len = len;
	h->ool_len = ool_len;
	h->ool = ool_len ? ubuf + sizeof(qs_msg_t) : 0;
	h->flags = (src->flags & QS_MSG_SRC_MASK) | flags;
	if (reply_to) /* its own flags were kept: none are for a reply */
		sq_reply_stamp(reply_to, h, src->status);
	if ((h == &tmp && copy_to_space(pd, ubuf, h, sizeof(*h)) < 0) ||
	    (len && copy_to_space(pd, ubuf + sizeof(*h), data, len) < 0) ||
	    (ool_len && copy_to_space(pd, h->ool, ool, ool_len) < 0))
		return QS_EFAULT;
	return 0;
}

/* The size of a receive buffer is sane (its pages are checked on use). */
static bool
recv_cap_ok(uint32_t cap)
{
	return cap >= sizeof(qs_msg_hdr_t) && cap <= (1u << 20);
}

bool
recv_buf_check(uint32_t ubuf, uint32_t cap)
{
	thread_t *t = current;
	if (!recv_cap_ok(cap) || !user_ok(ubuf, cap, true))
		return false;
	t->rbuf = ubuf;
	t->rbuf_cap = cap;
	t->rbuf_unmaps = vmm_unmaps;
	return true;
}

/* A reply's header h to r as its client gets it: what the server cannot
 * choose. */
void
sq_reply_stamp(const sq_req_t *r, qs_msg_hdr_t *h, int32_t status)
{
	h->rid = r->hdr.rid;
	h->qid = r->hdr.qid;
	h->txid = r->hdr.txid;
	h->status = status;
	h->flags &= ~QS_MSG_SRC_MASK; /* who sent it is for requests */
}

/* r is answered: DONE, its reply's header stamped; nobody woken yet. */
void
sq_done(sq_req_t *r, int32_t status)
{
	if (r->q) {
		r->q->completed++;
		r->q = NULL;
	}
	r->state = RQ_DONE;
	r->server = NULL;
	sq_reply_stamp(r, &r->rhdr, status);
}

/* The one way a request gets its answer (the fast path's: sq_fast.c). */
void
sq_complete(sq_req_t *r, int32_t status)
{
	sq_done(r, status);
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
void
sq_fail(sq_req_t *r, int32_t err)
{
	memset(&r->rhdr, 0, sizeof(r->rhdr));
	r->rhdr.src_node = boot_node_id();
	sq_complete(r, err);
}

void
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
void
req_stamp(sq_req_t *r, sq_t *q, proc_t *client, uint64_t txid)
{
	r->rdata = r->rool = NULL;
	r->caller = NULL;
	r->server = NULL;
	r->ubuf = r->ucap = 0;
	r->delivered = false;
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
	r->hdr.src_rights = client ? client->rights : 0;
	r->hdr.status = 0;
	r->hdr.flags = client ? client->src_flags : 0;
	r->q = q;
	r->client = client;
	r->charge = 0;
	list_init(&r->qlink);
	if (client) {
		list_add_tail(&client->sq_reqs, &r->clink);
		if ((r->charge = r->hdr.len + r->hdr.ool_len))
			client->job->kbytes += r->charge;
	} else {
		list_init(&r->clink);
	}
}

/* May p have one more request of `bytes` outstanding, an asynchronous one
 * if `async`? (Synchronous ones are bounded by the threads that wait.) On
 * every send: the refusal is the rare path. */
static inline int
req_within_limits(proc_t *p, uint32_t bytes, bool async)
{
	const job_t *j = p->job;
	if (__builtin_expect((async && j->requests >=
					       j->limit[QS_LIMIT_REQUESTS]) ||
				     (bytes && j->kbytes + bytes >
						       j->limit[QS_LIMIT_KBYTES] *
							       1024),
			     0))
		return authority_refuse(p, QS_ELIMIT);
	return 0;
}

/* One more asynchronous request of p's is outstanding (d 1), or one fewer. */
void
req_async(proc_t *p, int32_t d)
{
	p->sq_async += d;
	p->job->requests += d;
}

void
sq_reply_charged(sq_req_t *r, uint8_t *data, uint8_t *ool)
{
	uint32_t bytes = r->rhdr.len + r->rhdr.ool_len;
	job_t *j = r->client->job;

	if (j->kbytes + bytes > j->limit[QS_LIMIT_KBYTES] * 1024) {
		kfree(data);
		kfree(ool);
		authority_refuse(r->client, QS_ELIMIT);
		sq_fail(r, QS_ELIMIT);
		return;
	}
	r->charge += bytes;
	j->kbytes += bytes;
	r->rdata = data;
	r->rool = ool;
	sq_complete(r, r->rhdr.status);
}

void
enqueue(sq_t *q, sq_req_t *r)
{
	r->state = RQ_QUEUED;
	list_add_tail(&q->pending, &r->qlink);
	q->npending++;
	sq_dispatch(q);
}

/*
 * Makes a request from the caller's message and queues it, waiting for room
 * if `wait`; returns it, or NULL with *err set. A request for a proxy goes
 * to the network agent's queue. With keep_origin (the agent injecting a
 * request from another node) the message's node, pid and transaction stay.
 */
sq_req_t *
send_common(int qid, uint32_t umsg, bool wait, bool keep_origin, int *err)
{
	sq_req_t *r;
	sq_t *q, *to;

	/* copied afresh after a wait for room: a sender killed while it waits
	 * holds nothing, since nobody else would know to free it */
	for (bool waited = false;; waited = true) {
		if (!(r = req_alloc())) {
			*err = QS_ENOMEM;
			return NULL;
		}
		*err = msg_header_in(umsg, &r->hdr);
		if (*err < 0) {
			req_release(r);
			return NULL;
		}
		r->data = r->ool = NULL; /* copied once the request goes */
		*err = req_within_limits(current->proc,
					 r->hdr.len + r->hdr.ool_len, !wait);
		if (*err < 0)
			goto fail;
		if (!(q = sq_find(qid))) {
			*err = waited ? QS_EQGONE : QS_ENOENT;
			goto fail;
		}
		if (!(to = q->proxy ? net_q : q)) {
			*err = QS_EUNREACH;
			goto fail;
		}
		if (to->npending < to->depth)
			break;
		if (!wait) {
			*err = QS_EAGAIN;
			goto fail;
		}
		req_release(r);
		sched_block(&to->space, -1);
	}
	/* an orphan's: its transaction aborted. A TM's go on, this node's or
	   another's (its kernel stamped it; the CM injects it as it came):
	   they are the protocol ending the transaction, asking and telling
	   its outcome. Checked before the stamp, which charges the sender */
#ifndef QS_NO_TX_STAMP
	if ((keep_origin ? tx_aborted(r->hdr.txid) &&
				   !(r->hdr.flags & QS_MSG_SRC_TM)
			 : current->tx_dead &&
				   !(current->proc->src_flags & QS_MSG_SRC_TM))) {
		*err = QS_EABORTED;
		goto fail;
	}
#endif
	if (keep_origin) {
		uint32_t node = r->hdr.src_node, flags = r->hdr.flags;
		int32_t pid = r->hdr.src_pid;
		req_stamp(r, q, current->proc, r->hdr.txid);
		r->hdr.src_node = node;
		r->hdr.src_pid = pid;
		r->hdr.src_rights = 0; /* rights are a node's own */
		r->hdr.flags = flags & QS_MSG_SRC_MASK; /* as its node
						stamped it: the CMs carry it */
	} else {
		req_stamp(r, q, current->proc, current->tx);
	}
	r->q = to;
	r->to_owner = to->owner;
	r->caller = wait ? current : NULL;
	/* a call to a thread that waits for it: straight there (sq_fast.c) */
	if (wait && !keep_origin && sq_fast_call(r, to, umsg))
		return r;
	if ((*err = msg_data_in(umsg, &r->hdr, &r->data, &r->ool)) < 0) {
		req_free(r);
		return NULL;
	}
	enqueue(to, r);
	return r;
fail:
	req_release(r);
	return NULL;
}

/* A call's request under a transaction that has aborted since it was
 * sent. The TM's own go on, and so do calls to the TM: they end it (an
 * owner's commit or abort is sent under the transaction, and waits for
 * the abort's phase two). */
static bool
orphan_call(const sq_req_t *r)
{
#ifndef QS_NO_TX_STAMP
	return tx_aborted(r->hdr.txid) && !(r->hdr.flags & QS_MSG_SRC_TM) &&
	       r->to_owner != sq_tm_pid();
#else
	(void)r;
	return false;
#endif
}

/* The client gives up r (it died, or the call is an orphan's): still
 * queued or answered, it goes; taken by a server, its answer is discarded
 * when it comes. */
static void
req_abandon(sq_req_t *r)
{
	req_unlink(r);
	r->client = NULL;
	r->caller = NULL;
	if (r->state == RQ_QUEUED) {
		list_del(&r->qlink);
		r->q->npending--;
		sched_wake_all(&r->q->space);
		req_free(r);
	} else if (r->state == RQ_DONE) {
		req_free(r);
	} /* ASSIGNED or BUSY: sq_complete frees it */
}

/* Wakes p's threads blocked in a call under aborted transaction tx. */
static bool
wake_orphan_callers(proc_t *p, uint64_t tx)
{
	for (list_t *l = p->sq_reqs.next; l != &p->sq_reqs; l = l->next) {
		sq_req_t *r = list_entry(l, sq_req_t, clink);
		if (r->caller && r->state != RQ_DONE && r->hdr.txid == tx &&
		    orphan_call(r))
			sched_wake(r->caller, 0);
	}
	return false; /* every process */
}

void
sq_tx_aborted(uint64_t tx)
{
	proc_search(wake_orphan_callers, tx);
}

int
sys_sq_call(trap_frame_t *f)
{
	int qid = (int)f->ebx;
	uint32_t umsg = f->ecx, ubuf = f->edx, cap = f->esi;
	int err;

	if (!recv_buf_ok(ubuf, cap))
		return QS_EFAULT;
	sq_req_t *r = send_common(qid, umsg, true, false, &err);
	if (!r)
		return err;
	r->ubuf = ubuf; /* where the fast path may put the reply */
	r->ucap = cap;
	/* the fast path started the server's upcall: it runs now */
	thread_t *next = r->state == RQ_BUSY ? r->server : NULL;
	while (r->state != RQ_DONE) {
		sched_block_to(NULL, next); /* r->caller names us */
		next = NULL;
		if (r->state != RQ_DONE && orphan_call(r)) {
			/* the TM said its transaction aborted: an orphan is
			   told at once, whatever the server does with it */
			req_abandon(r);
			return QS_EABORTED;
		}
	}
	int32_t status = r->rhdr.status;
	if (!r->delivered && msg_copy_out(current->proc->pd, ubuf, cap,
					  &r->rhdr, r->rdata, r->rool, NULL) < 0)
		status = QS_EFAULT; /* another thread unmapped it meanwhile */
	req_free(r);
	return status;
}

int
sys_sq_send(trap_frame_t *f)
{
	int qid = (int)f->ebx;
	uint32_t umsg = f->ecx;
	int err;

	sq_req_t *r = send_common(qid, umsg, false, false, &err);
	if (!r)
		return err;
	req_async(current->proc, 1);
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

int
sys_sq_wait(trap_frame_t *f)
{
	uint32_t rid = f->ebx, ubuf = f->ecx, cap = f->edx;
	int32_t timeout_ms = (int32_t)f->esi;
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
			int err = msg_copy_out(p->pd, ubuf, cap, &r->rhdr,
					       r->rdata, r->rool, NULL);
			req_async(p, -1);
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

/* ---- queues ------------------------------------------------------------ */

/* A queue name from user space: printable, no spaces, not empty. */
int
sq_name_from_user(char name[QS_NAME_MAX], uint32_t uname)
{
	int n = copy_str_from_user(name, uname, QS_NAME_MAX);

	if (n < 0)
		return n == QS_E2BIG ? QS_EINVAL : n;
	if (n == 0)
		return QS_EINVAL;
	for (int i = 0; i < n; i++)
		if (name[i] <= ' ' || name[i] > '~')
			return QS_EINVAL;
	return n;
}

int
sq_make(const char *name, uint32_t depth, int owner, sq_t **out)
{
	proc_t *p = proc_find(owner);
	if (!p)
		return QS_ESRCH;
	if (depth > QS_SQ_DEPTH_MAX)
		return QS_EINVAL;
	if (sq_find_name(name))
		return QS_EEXIST;
	int r = authority_limit(p, QS_LIMIT_QUEUES,
				job_held(p->job, QS_LIMIT_QUEUES), 1);
	if (r < 0)
		return r;
	sq_t *q = kzalloc(sizeof(*q));
	if (!q)
		return QS_ENOMEM;
	p->nqueues++;
	q->qid = next_qid++;
	q->owner = owner;
	q->node = boot_node_id();
	strlcpy(q->name, name, sizeof(q->name));
	q->depth = depth ? depth : QS_SQ_DEPTH_DEFAULT;
	list_init(&q->pending);
	list_init(&q->idle);
	list_init(&q->members);
	list_init(&q->space.waiters);
	list_add_tail(&queues, &q->link);
	q->hnext = by_qid[(uint32_t)q->qid % SQ_BUCKETS];
	by_qid[(uint32_t)q->qid % SQ_BUCKETS] = q;
	if (strcmp(name, QS_NET_QUEUE) == 0)
		net_q = q; /* its owner is the network agent from now on */
	if (strcmp(name, QS_DEATH_QUEUE) == 0)
		p->src_flags |= QS_MSG_SRC_TM; /* the TM from now on */
	*out = q;
	return q->qid;
}

static void sq_kill(sq_t *q, int32_t err);

int
sys_sq_create(trap_frame_t *f)
{
	uint32_t uname = f->ebx, depth = f->ecx;
	char name[QS_NAME_MAX];
	sq_t *q;
	int n = sq_name_from_user(name, uname);
	if (n < 0)
		return n;
	if ((n = authority_may_create(current->proc, name)) < 0)
		return n;
	/* A lookup made before this queue existed may have found one of the
	 * same name elsewhere: the local queue takes its name back. */
	if ((q = sq_find_name(name)) && q->proxy && depth <= QS_SQ_DEPTH_MAX)
		sq_kill(q, QS_EQGONE);
	return sq_make(name, depth, current->proc->pid, &q);
}

/* Every request still on the queue fails with err; offered threads leave. */
static void
sq_kill(sq_t *q, int32_t err)
{
	proc_t *owner = proc_find(q->owner);
	if (owner)
		owner->nqueues--;
	list_del(&q->link);
	sq_unhash(q);
	if (q == net_q)
		net_q = NULL;
	if (owner && strcmp(q->name, QS_DEATH_QUEUE) == 0)
		owner->src_flags &= ~QS_MSG_SRC_TM;
	while (!list_empty(&q->pending)) {
		sq_req_t *r = list_entry(q->pending.next, sq_req_t, qlink);
		list_del(&r->qlink);
		sq_fail(r, err);
	}
	sq_kill_members(q, err);
	sched_wake_all(&q->space); /* they look the queue up again and fail */
	kfree(q);
}

int
sys_sq_destroy(trap_frame_t *f)
{
	sq_t *q = sq_find((int)f->ebx);
	if (!q)
		return QS_ENOENT;
	if (q->owner != current->proc->pid)
		return authority_refuse(current->proc, QS_EPERM);
	sq_kill(q, QS_EQGONE);
	return 0;
}

int
sys_sq_lookup(trap_frame_t *f)
{
	char name[QS_NAME_MAX];
	int n = copy_str_from_user(name, f->ebx, sizeof(name));
	if (n < 0)
		return n == QS_E2BIG ? QS_ENOENT : n;
	sq_t *q = sq_find_name(name);
	return q ? q->qid : sq_lookup_remote(name);
}

int
sys_sq_list(trap_frame_t *f)
{
	uint32_t ubuf = f->ebx, max = f->ecx;
	uint32_t n = 0;
	if (max > 1024 || !user_ok(ubuf, max * sizeof(qs_sq_info_t), true))
		return QS_EFAULT;
	for (list_t *l = queues.next; l != &queues && n < max; l = l->next) {
		sq_t *q = list_entry(l, sq_t, link);
		qs_sq_info_t info = { q->qid, q->owner, q->nidle,
				      q->nmembers - q->nidle, q->npending,
				      q->completed, q->depth, q->node, { 0 } };
		memcpy(info.name, q->name, sizeof(info.name));
		copy_to_user(ubuf + n++ * sizeof(info), &info, sizeof(info));
	}
	return (int)n;
}

/* ---- process death ------------------------------------------------------ */

static void
drop_client_requests(proc_t *p)
{
	while (!list_empty(&p->sq_reqs))
		req_abandon(list_entry(p->sq_reqs.next, sq_req_t, clink));
}

int
sq_tm_pid(void)
{
	sq_t *q = sq_find_name(QS_DEATH_QUEUE);
	return q ? q->owner : 0;
}

/*
 * What a death notice needs is set aside when the process is made, so that
 * its death is reported however short of memory the node is then.
 */
int
sq_proc_new(proc_t *p)
{
	sq_req_t *r = kzalloc(sizeof(*r));
	if (!r || !(r->data = kzalloc(sizeof(qs_death_notice_t)))) {
		kfree(r);
		return QS_ENOMEM;
	}
	p->death_notice = r;
	return 0;
}

void
sq_proc_free(proc_t *p)
{
	if (p->death_notice) {
		kfree(p->death_notice->data);
		kfree(p->death_notice);
		p->death_notice = NULL;
	}
}

static void
post_death_notice(proc_t *p)
{
	sq_t *q = sq_find_name(QS_DEATH_QUEUE);
	sq_req_t *r = p->death_notice;

	if (!q || q->owner == p->pid || !r)
		return;
	p->death_notice = NULL;
	qs_death_notice_t *n = (qs_death_notice_t *)r->data;
	n->pid = p->pid;
	n->status = p->exit_status;
	n->txid = p->default_tx;
	memcpy(n->name, p->name, sizeof(n->name));
	memset(&r->hdr, 0, sizeof(r->hdr));
	r->hdr.opcode = QS_NOTICE_DEATH;
	r->hdr.len = sizeof(*n);
	r->ool = NULL;
	req_stamp(r, q, NULL, p->default_tx);
	enqueue(q, r); /* past the depth limit: a notice is never dropped */
}

void
sq_proc_exit(proc_t *p)
{
	/* what went through the network agent cannot reach its node now */
	int32_t gone = sq_net_agent(p) ? QS_EUNREACH : QS_ESRVDIED;

	drop_client_requests(p);
	req_async(p, -(int32_t)p->sq_async);
	for (list_t *l = p->threads.next; l != &p->threads; l = l->next)
		sq_thread_gone(list_entry(l, thread_t, proc_link));
	sq_fail_deferred(p, gone);
	for (list_t *l = queues.next; l != &queues;) {
		sq_t *q = list_entry(l, sq_t, link);
		l = l->next;
		if (q->owner == p->pid)
			sq_kill(q, gone);
	}
	post_death_notice(p);
}
