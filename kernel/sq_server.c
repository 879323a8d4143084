/*
 * The server side of service queues: threads offer themselves on a queue,
 * each request starts one of them afresh in an upcall, and SYS_SQ_REPLY
 * answers it and makes the thread idle again.
 *
 * A server that cannot answer at once (the communication manager waits for
 * another node) defers the request: SYS_SQ_DEFER frees the thread and keeps
 * the request with the process, and any of its threads answers it later with
 * SYS_SQ_ANSWER. If the process dies first, the request fails.
 */
#include "kernel.h"
#include "cpu.h"
#include "heap.h"
#include "sq.h"
#include "syscall.h"
#include "tx.h"
#include "vmm.h"

/* Is tx the transaction of the request thread t is serving? */
bool
sq_serving_tx(const thread_t *t, uint64_t tx)
{
	return t->sq_state == SQT_BUSY && t->sq_req && t->sq_req->hdr.txid == tx;
}

int
sq_upcall_start(thread_t *t, sq_req_t *r, const void *data, const void *ool,
		bool live)
{
	uint32_t sp = (t->sq_stack & ~15u) - 8; /* in one page */
	uint32_t pd = t->proc->pd;
	uint32_t *frame = vmm_user_ptr(pd, sp, 8, true);
	uint32_t entry[2] = { 0, t->sq_buf }; /* return address, argument */

	if (frame) {
		frame[0] = entry[0];
		frame[1] = entry[1];
	} else if (copy_to_space(pd, sp, entry, sizeof(entry)) < 0) {
		return QS_EFAULT; /* (a stack the identity map does not reach
				     is written through the thread's own space) */
	}
	if (msg_copy_out(pd, t->sq_buf, t->sq_cap, &r->hdr, data, ool, NULL) < 0)
		return QS_EFAULT;
	r->state = RQ_BUSY;
	r->server = t;
	t->sq_req = r;
	t->sq_state = SQT_BUSY;
#ifndef QS_NO_TX_STAMP
	t->sq_saved_tx = t->tx;
	t->sq_saved_dead = t->tx_dead;
	t->tx = r->hdr.txid;
	t->tx_dead = !live && tx_aborted(r->hdr.txid);
	tx_hold(t->proc, r->hdr.txid);
#else
	(void)live;
#endif
	t->sq_upcall_sp = sp;
	return 0;
}

/* The current thread leaves the kernel into its upcall (sq_upcall_start). */
static int
upcall_enter(void)
{
	thread_t *t = current;
	/* the user frame it entered the kernel with, at its stack's top */
	trap_frame_t *f =
		(trap_frame_t *)(t->kstack + KSTACK_PAGES * PAGE_SIZE) - 1;
	f->eip = t->sq_entry;
	f->user_esp = t->sq_upcall_sp;
	return 0;
}

/* Starts the upcall for the thread's assigned request on the way out. */
static int
upcall(void)
{
	thread_t *t = current;
	sq_req_t *r = t->sq_req;

	if (sq_upcall_start(t, r, r->data, r->ool, false) < 0) {
		/* the server broke its own offer: it cannot take the request */
		t->sq_req = NULL;
		sq_fail(r, QS_ESRVDIED);
		return QS_EFAULT;
	}
	return upcall_enter();
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

/*
 * Idle until a request comes (then upcall) or the queue goes (error).
 * next: a client this thread just answered and has yet to wake, which runs
 * at once if this thread has nothing more to do (the fast path's hand-off
 * back).
 */
static int
idle_wait(thread_t *next)
{
	thread_t *t = current;
	sq_t *q = t->sq_q;

	t->sq_state = SQT_IDLE;
	list_add_tail(&q->idle, &t->sq_idle_link);
	q->nidle++;
	if (q->npending)
		sq_dispatch(q);
	if (t->sq_state != SQT_IDLE || !t->sq_q) {
		if (next)
			sched_wake(next, 0); /* we go on: it waits its turn */
	} else {
		do {
			sched_block_to(NULL, next);
			next = NULL;
		} while (t->sq_state == SQT_IDLE && t->sq_q);
	}
	if (t->sq_state == SQT_BUSY && t->sq_req)
		return upcall_enter(); /* a caller's fast path started it */
	if (!t->sq_req) { /* its queue went, and its request was answered */
		offer_leave(t);
		return QS_EQGONE;
	}
	int r = upcall();
	if (r < 0)
		offer_leave(t);
	return r;
}

/* Its owner, and the processes the owner admitted, serve a queue. */
static bool
may_offer(const sq_t *q, const proc_t *p)
{
	if (q->owner == p->pid)
		return true;
	for (int i = 0; i < SQ_ADMIT_MAX; i++)
		if (q->admitted[i] == p->pid)
			return true;
	return false;
}

int
sys_sq_admit(trap_frame_t *f)
{
	sq_t *q = sq_find((int)f->ebx);
	proc_t *p = proc_find((int)f->ecx);

	if (!q)
		return QS_ENOENT;
	if (q->owner != current->proc->pid || q->proxy)
		return authority_refuse(current->proc, QS_EPERM);
	if (!p || p->state == QS_PROC_ZOMBIE)
		return QS_ESRCH;
	int free = -1;
	for (int i = 0; i < SQ_ADMIT_MAX; i++) {
		if (q->admitted[i] == p->pid || p == current->proc)
			return 0;
		proc_t *a = proc_find(q->admitted[i]);
		if (free < 0 && (!a || a->state == QS_PROC_ZOMBIE))
			free = i; /* empty, or its process is gone: pids never
				     come back */
	}
	if (free < 0)
		return authority_refuse(current->proc, QS_ELIMIT);
	q->admitted[free] = p->pid;
	return 0;
}

int
sys_sq_offer(trap_frame_t *f)
{
	uint32_t entry = f->ecx, stack = f->edx, ubuf = f->esi, cap = f->edi;
	thread_t *t = current;
	sq_t *q = sq_find((int)f->ebx);

	if (t->sq_q || t->sq_state != SQT_NONE)
		return QS_EBUSY;
	if (!q)
		return QS_ENOENT;
	if (q->proxy)
		return QS_EPERM; /* its requests go to the network agent */
	if (!may_offer(q, t->proc))
		return authority_refuse(t->proc, QS_EPERM);
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
	return idle_wait(NULL);
}

/* The thread is done with its upcall: idle again, or out if its queue went.
 * next: as for idle_wait. */
static int
upcall_end(int err, thread_t *next)
{
	thread_t *t = current;
	if (err < 0 || !t->sq_q) {
		if (next)
			sched_wake(next, 0);
		offer_leave(t);
		return err < 0 ? err : QS_EQGONE;
	}
	return idle_wait(next);
}

int
sys_sq_reply(trap_frame_t *f)
{
	uint32_t umsg = f->ebx;
	thread_t *t = current;
	sq_req_t *r = t->sq_req;
	qs_msg_hdr_t scratch; /* for a reply that nobody waits for any more */
	uint8_t *data, *ool;

	if (t->sq_state != SQT_BUSY)
		return QS_EINVAL;
#ifndef QS_NO_TX_STAMP
	t->tx = t->sq_saved_tx;
	t->tx_dead = t->sq_saved_dead;
#endif
	thread_t *client;
	if (r && (client = sq_fast_reply(r, umsg))) {
		t->sq_req = NULL;
		return upcall_end(0, client);
	}
	int err = msg_copy_in(umsg, r ? &r->rhdr : &scratch, &data, &ool);
	if (r) {
		t->sq_req = NULL;
		if (err < 0) {
			sq_fail(r, err); /* the client learns the reply was bad */
		} else {
			sq_reply_with(r, data, ool);
			data = ool = NULL;
		}
	}
	if (data)
		kfree(data);
	if (ool)
		kfree(ool);
	return upcall_end(err, NULL);
}

int
sys_sq_defer(trap_frame_t *f)
{
	(void)f;
	thread_t *t = current;
	sq_req_t *r = t->sq_req;

	if (t->sq_state != SQT_BUSY)
		return QS_EINVAL;
#ifndef QS_NO_TX_STAMP
	t->tx = t->sq_saved_tx;
	t->tx_dead = t->sq_saved_dead;
#endif
	if (r) { /* else its queue went and it was answered */
		t->sq_req = NULL;
		r->server = NULL;
		r->q->completed++;
		r->q = NULL; /* the queue may go; the request stays */
		r->state = RQ_DEFERRED;
		list_add_tail(&t->proc->sq_deferred, &r->qlink);
	}
	return upcall_end(0, NULL);
}

int
sys_sq_answer(trap_frame_t *f)
{
	uint32_t rid = f->ebx, umsg = f->ecx;
	proc_t *p = current->proc;
	list_t *l;
	sq_req_t *r = NULL;
	uint8_t *data, *ool;

	for (l = p->sq_deferred.next; l != &p->sq_deferred; l = l->next) {
		r = list_entry(l, sq_req_t, qlink);
		if (r->hdr.rid == rid)
			break;
	}
	if (l == &p->sq_deferred)
		return QS_ENOENT;
	qs_msg_hdr_t hdr;
	int err = msg_copy_in(umsg, &hdr, &data, &ool);
	if (err < 0)
		return err; /* still deferred: a good answer may follow */
	list_del(&r->qlink);
	r->rhdr = hdr;
	sq_reply_with(r, data, ool);
	return 0;
}

/* A dying server's deferred requests get err as their answer. */
void
sq_fail_deferred(proc_t *p, int32_t err)
{
	while (!list_empty(&p->sq_deferred)) {
		sq_req_t *r = list_entry(p->sq_deferred.next, sq_req_t, qlink);
		list_del(&r->qlink);
		sq_fail(r, err);
	}
}

/* The queue is going: its threads' requests fail and the threads leave. */
void
sq_kill_members(sq_t *q, int32_t err)
{
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
	bool drained = false;
	while (q->nmembers == 0 && !list_empty(&q->pending)) {
		sq_req_t *pr = list_entry(q->pending.next, sq_req_t, qlink);
		list_del(&pr->qlink);
		q->npending--;
		sq_fail(pr, QS_ESRVDIED);
		drained = true;
	}
	if (drained) /* senders waiting for room have it now */
		sched_wake_all(&q->space);
	sq_dispatch(q);
}
