/*
 * The IPC fast path, as in L4: a synchronous call to a queue where a thread
 * waits for it, and the reply to a client blocked in its call. These are
 * the general path's steps (sq.c, sq_server.c) in another order, with the
 * same states and the same checks:
 *
 *   - the message goes once, straight from the sender's buffer into the
 *     receiver's (copy_to_space, through the kernel's identity map of the
 *     receiver's frames), never through a kernel buffer;
 *   - a call starts the server's upcall at once (the request goes from new
 *     to BUSY: it was never queued, so it cannot run twice), and a reply
 *     completes the request with the client's buffer already filled;
 *   - the receiver runs next (sched_block_to): no pass over the ready
 *     queues, unless a thread of higher priority is ready.
 *
 * Anything else goes the general way: requests waiting on the queue (they
 * are older), no idle thread, a thread of higher priority ready (the
 * server would not run at once), a receiver's buffer that cannot take the
 * message (the general path then reports it as it always did), a reply
 * that no thread is blocked for. A call to a queue on another node goes
 * to the network agent's queue (kernel.net), and fast if one of its
 * threads waits.
 */
#include "kernel.h"
#include "sq.h"

/* From send_common: r, stamped, to queue q (served here: a proxy's
 * requests come to the agent's queue), its data still in the sending
 * process at umsg. True if r went straight into an idle thread's upcall
 * (r BUSY and r->server its thread, still blocked: the caller runs it at
 * once, so nothing can come between). */
bool
sq_fast_call(sq_req_t *r, sq_t *q, uint32_t umsg)
{
	if (!q->nidle || q->npending)
		return false;
	thread_t *t = list_entry(q->idle.next, thread_t, sq_idle_link);
	if (!sched_runs_next(t))
		return false;
	if (sq_upcall_start(t, r, (const void *)(umsg + sizeof(r->hdr)),
			    (const void *)r->hdr.ool, true) < 0)
		return false; /* its own upcall will fail, as it always did */
	list_del(&t->sq_idle_link);
	q->nidle--;
	/* nothing of it is held in the kernel, so nothing is charged */
	if (r->charge) {
		r->client->job->kbytes -= r->charge;
		r->charge = 0;
	}
	return true; /* the caller wakes t as it blocks (sched_block_to) */
}

/* From sys_sq_reply: the server's reply at umsg to r, which its thread was
 * serving. If a client thread is blocked in the call, the reply goes
 * straight into its receive buffer and r is complete: returns that thread,
 * still blocked, for the server thread to wake as it goes idle (idle_wait:
 * it runs next). Else NULL, and nothing is changed. */
thread_t *
sq_fast_reply(sq_req_t *r, uint32_t umsg)
{
	thread_t *caller = r->caller;
	if (!caller || !r->client || !r->ubuf)
		return NULL;
	/* the header straight from the server's memory: the kernel runs
	   nothing else meanwhile, so it reads what it checked (only a device
	   could write it between, and a process with DMA can write any
	   memory anyway) */
	const qs_msg_hdr_t *h = (const qs_msg_hdr_t *)umsg;
	if (!user_header(umsg) || msg_check(umsg, h) < 0)
		return NULL; /* the general path tells the client what was bad */
	int32_t status = h->status;
	if (msg_copy_out(r->client->pd, r->ubuf, r->ucap, h,
			 (const void *)(umsg + sizeof(*h)), (const void *)h->ool,
			 r) < 0)
		return NULL; /* its buffer went: the client learns it itself */
	r->delivered = true;
	r->rhdr.len = r->rhdr.ool_len = 0; /* nothing of it held here */
	sq_done(r, status); /* as sq_complete, but the waking is left */
	return caller;
}
