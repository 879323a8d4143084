/*
 * Service queues inside the kernel, shared by sq.c (queues, clients,
 * process death), sq_server.c (offers, upcalls, replies) and sq_net.c (the
 * network agent: proxies, injection, lookups on other nodes).
 */
#ifndef KERNEL_SQ_H
#define KERNEL_SQ_H

#include "kernel.h"
#include "proc.h"
#include "vmm.h"

/*
 * A request's life: QUEUED on a queue, ASSIGNED to an idle offered thread,
 * BUSY in its upcall, DEFERRED (its server put it aside to answer later from
 * any thread: SYS_SQ_DEFER), DONE (answered, for its client to collect).
 */
enum { RQ_QUEUED, RQ_ASSIGNED, RQ_BUSY, RQ_DEFERRED, RQ_DONE };
enum { SQT_NONE, SQT_IDLE, SQT_ASSIGNED, SQT_BUSY };

#define SQ_ADMIT_MAX 4

typedef struct sq {
	int qid;
	int owner;
	char name[QS_NAME_MAX];
	uint32_t depth;
	bool proxy;     /* a queue on another node: requests go to the agent */
	uint32_t node;  /* where it is served */
	list_t pending; /* QUEUED requests, oldest first */
	uint32_t npending;
	list_t idle;    /* offered threads with nothing to do */
	uint32_t nidle;
	list_t members; /* every thread offering on this queue */
	uint32_t nmembers;
	uint32_t completed;
	int admitted[SQ_ADMIT_MAX]; /* other processes that may offer on it */
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
	sq_t *q;          /* where it waits or is served; NULL once answered
			     or deferred */
	proc_t *client;   /* NULL: the client died, or the kernel sent it */
	uint32_t charge;  /* bytes counted against the client's limit */
	thread_t *caller; /* the client thread blocked for it, if any */
	int to_owner;     /* the owner of the queue it was sent to */
	thread_t *server;
	uint32_t ubuf, ucap; /* a call's: the caller's receive buffer */
	bool delivered;   /* the reply is in it already (the fast path) */
	struct sq_req *spare; /* in the pool's free list (sq.c) */
	list_t qlink;     /* in q's pending list, or the server's deferred list */
	list_t clink;     /* in the client's request list */
} sq_req_t;

/* sq.c */
sq_t *sq_find(int qid);
sq_t *sq_find_name(const char *name);
int sq_name_from_user(char name[QS_NAME_MAX], uint32_t uname);
int sq_make(const char *name, uint32_t depth, int owner, sq_t **out);
void sq_done(sq_req_t *r, int32_t status);
void sq_complete(sq_req_t *r, int32_t status);
void sq_fail(sq_req_t *r, int32_t err);
/* tx aborted: a thread blocked in a call under it returns QS_EABORTED. */
void sq_tx_aborted(uint64_t tx);
void sq_reply_charged(sq_req_t *r, uint8_t *data, uint8_t *ool);
/*
 * The server's answer to r, its header in r->rhdr, its data taken. Data is
 * charged to the client's job until the client collects it; past the job's
 * kbytes limit the client gets QS_ELIMIT instead, so that replies nobody
 * collects cannot take the kernel's memory.
 */
static inline void
sq_reply_with(sq_req_t *r, uint8_t *data, uint8_t *ool)
{
	if ((r->rhdr.len | r->rhdr.ool_len) && r->client) {
		sq_reply_charged(r, data, ool);
		return;
	}
	r->rdata = data;
	r->rool = ool;
	sq_complete(r, r->rhdr.status);
}
/* One more asynchronous request of p's outstanding (d 1), or fewer. */
void req_async(proc_t *p, int32_t d);
void sq_dispatch(sq_t *q);
void req_stamp(sq_req_t *r, sq_t *q, proc_t *client, uint64_t txid);
void req_free(sq_req_t *r);
void enqueue(sq_t *q, sq_req_t *r);
/* Is the header at umsg the current process's to read? */
static inline bool
user_header(uint32_t umsg)
{
	return vmm_one_user_page(umsg, sizeof(qs_msg_hdr_t))
		       ? vmm_user_pte(current->proc->pd, umsg, false) != 0
		       : user_ok(umsg, sizeof(qs_msg_hdr_t), false);
}
/* The header (of a message at umsg) is sane: its sizes, and the data it
 * describes is the sender's to read. Most messages carry none. */
int msg_check_data(uint32_t umsg, const qs_msg_hdr_t *hdr);
static inline int
msg_check(uint32_t umsg, const qs_msg_hdr_t *hdr)
{
	return hdr->len | hdr->ool_len ? msg_check_data(umsg, hdr) : 0;
}
int msg_header_in(uint32_t umsg, qs_msg_hdr_t *hdr);
int msg_data_in(uint32_t umsg, const qs_msg_hdr_t *hdr, uint8_t **data,
		uint8_t **ool);
int msg_copy_in(uint32_t umsg, qs_msg_hdr_t *hdr, uint8_t **data,
		uint8_t **ool);
int msg_copy_out(uint32_t pd, uint32_t ubuf, uint32_t cap,
		 const qs_msg_hdr_t *src, const void *data, const void *ool,
		 const sq_req_t *reply_to);
void sq_reply_stamp(const sq_req_t *r, qs_msg_hdr_t *h, int32_t status);
/* A receive buffer of cap bytes at ubuf is sane and writable now: checked
 * page by page (recv_buf_check), unless it is the one the thread's last
 * check found good and nothing has been unmapped since. */
bool recv_buf_check(uint32_t ubuf, uint32_t cap);
static inline bool
recv_buf_ok(uint32_t ubuf, uint32_t cap)
{
	const thread_t *t = current;
	if (ubuf == t->rbuf && cap == t->rbuf_cap && ubuf &&
	    vmm_unmaps == t->rbuf_unmaps)
		return true; /* a client calls with the same buffer each time */
	return recv_buf_check(ubuf, cap);
}
sq_req_t *send_common(int qid, uint32_t umsg, bool wait, bool keep_origin,
		      int *err);

/* sq_server.c */
void sq_kill_members(sq_t *q, int32_t err);
/* Starts t's upcall for r (ASSIGNED to it, or by the fast path): the
 * message into t's buffer from data and ool (kernel memory, or the current
 * process's), r BUSY with t; t enters it when it next leaves the kernel,
 * if r is still its own then. live: r's transaction is known not to have
 * aborted (its sender's was checked just now), else the table is asked. QS_EFAULT, and nothing changed (but t's
 * buffer), if t's buffer or stack cannot take it. */
int sq_upcall_start(thread_t *t, sq_req_t *r, const void *data,
		    const void *ool, bool live);

/* sq_fast.c */
bool sq_fast_call(sq_req_t *r, sq_t *q, uint32_t umsg);
thread_t *sq_fast_reply(sq_req_t *r, uint32_t umsg);
void sq_fail_deferred(proc_t *p, int32_t err);

/* sq_net.c */
extern sq_t *net_q; /* QS_NET_QUEUE, while its owner lives */
bool sq_net_agent(const proc_t *p);
int sq_lookup_remote(const char *name);

#endif
