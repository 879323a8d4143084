/*
 * In-guest tests of service queues: delivery, flow control, exactly-once
 * under concurrency and failures, transaction stamps, death notices.
 * The same program plays the helper roles, as child processes:
 *   sqtest server QUEUE NTHREADS own|join   a counting server process
 *   sqtest client QUEUE ID COUNT            a client of such servers
 *   sqtest caller QUEUE                     blocks in a call until killed
 *   sqtest settx QUEUE                      asks a server to adopt a transaction
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/thread.h>
#include "check.h"

enum { OP_INFO = 1, OP_HANG, OP_COUNT, OP_REPORT, OP_ECHO, OP_ADOPT, OP_SETTX,
       OP_DEFER, OP_BADREPLY };

#define CLIENTS 3
#define PER_CLIENT 3334 /* 10,002 requests in all */
#define KEYS (CLIENTS * PER_CLIENT)

typedef struct {
	int32_t pid;
	uint64_t req_tx;    /* the txid the request carried */
	uint64_t upcall_tx; /* the thread's transaction during the upcall */
} info_t;

static volatile uint32_t release; /* OP_HANG handlers wait for this */
static volatile uint32_t hang_runs;
static uint8_t counts[KEYS]; /* a server process's executions per key */
static uint64_t adopted;     /* a transaction a server received earlier */
static qs_msg_t req, reply;
static volatile uint32_t deferred; /* OP_DEFER requests put aside */
static uint32_t deferred_rid[4];


static int32_t
handler(const qs_msg_t *rq, qs_msg_t *rp, void *ctx)
{
	(void)ctx;
	switch (rq->hdr.opcode) {
	case OP_INFO: {
		info_t i = { qs_getpid(), rq->hdr.txid, qs_tx_get() };
		qs_msg_put(rp, &i, sizeof(i));
		return 0;
	}
	case OP_HANG:
		__atomic_fetch_add(&hang_runs, 1, __ATOMIC_SEQ_CST);
		while (!release)
			qs_futex_wait(&release, 0, -1);
		return 7;
	case OP_COUNT: {
		const uint32_t *key = QS_MSG_AS(rq, uint32_t);
		if (!key || *key >= KEYS)
			return QS_EINVAL;
		__atomic_fetch_add(&counts[*key], 1, __ATOMIC_SEQ_CST);
		qs_msg_put(rp, key, sizeof(*key));
		return 0;
	}
	case OP_REPORT:
		qs_msg_set_ool(rp, counts, sizeof(counts));
		qs_msg_put(rp, (const void *)&hang_runs, sizeof(hang_runs));
		return 0;
	case OP_ADOPT:
		adopted = rq->hdr.txid;
		return 0;
	case OP_SETTX: {
		/* in another client's request: act under the earlier one */
		int ok = qs_tx_set(adopted) == 0 && qs_tx_get() == adopted &&
			 qs_tx_set(adopted ^ 0x5A5A) == QS_EPERM;
		return ok ? 1 : 0;
	}
	case OP_DEFER:
		deferred_rid[deferred % 4] = rq->hdr.rid;
		__atomic_fetch_add(&deferred, 1, __ATOMIC_SEQ_CST);
		qs_defer(rp); /* answered by test_defer_and_answer */
		return 0;
	case OP_ECHO:
		qs_msg_put(rp, rq->data, rq->hdr.len);
		qs_msg_set_ool(rp, (const void *)rq->hdr.ool, rq->hdr.ool_len);
		return 0;
	case OP_BADREPLY: /* an answer the kernel cannot take (unmapped) */
		qs_msg_set_ool(rp, (const void *)0x90000000u, 16);
		return 0;
	}
	return QS_EINVAL;
}

/* ---- helpers in this process -------------------------------------------- */

typedef struct {
	int qid, nthreads;
	qs_thread_t *thread;
} local_server_t;

static void *
serve_main(void *arg)
{
	local_server_t *s = arg;
	return (void *)qs_serve(s->qid, handler, NULL, s->nthreads);
}

static void
local_serve(local_server_t *s, int qid, int nthreads)
{
	s->qid = qid;
	s->nthreads = nthreads;
	s->thread = qs_thread_create(serve_main, s);
}

static qs_sq_info_t
queue_info(int qid)
{
	static qs_sq_info_t all[64];
	qs_sq_info_t none = { 0 };
	int n = qs_sq_list(all, 64);
	for (int i = 0; i < n; i++)
		if (all[i].qid == qid)
			return all[i];
	return none;
}

/* Waits (yielding, not sleeping) until the queue has `idle` and `busy`. */
static int
await_offers(int qid, uint32_t idle, uint32_t busy)
{
	for (int i = 0; i < 100000; i++) {
		qs_sq_info_t q = queue_info(qid);
		if (q.idle == idle && q.busy == busy)
			return 1;
		qs_yield();
	}
	return 0;
}

static int
spawn(const char *const *args)
{
	return qs_spawn("sqtest", args, 0);
}

/* A server process that offers on our queue qid: admitted before it runs
 * (only a queue's owner, and whom it admits, offer on it). */
static int
spawn_joiner(const char *const *args, int qid)
{
	int pid = qs_spawn("sqtest", args, QS_SPAWN_SUSPENDED);
	if (pid > 0 && (qs_sq_admit(qid, pid) < 0 || qs_resume(pid) < 0))
		printf("sqtest: cannot admit pid %d\n", pid);
	return pid;
}

static int
reap(int pid)
{
	int status = -1;
	qs_waitpid(pid, &status, 0);
	return status;
}

/* ---- the tests ------------------------------------------------------------ */

static void
test_calls_and_stamps(int qid)
{
	static uint8_t big[QS_MSG_OOL_MAX];
	static uint8_t rbuf[QS_MSG_BUF_SIZE];
	qs_msg_t *r = (qs_msg_t *)rbuf;

	qs_msg_init(&req, OP_INFO);
	req.hdr.txid = 12345; /* a forgery the kernel must overwrite */
	int st = qs_call(qid, &req, &reply, sizeof(reply));
	const info_t *i = QS_MSG_AS(&reply, info_t);
	check(st == 0 && i && i->pid == qs_getpid(), "sync call answered");
	check(i && i->req_tx == qs_tx_get() && i->req_tx != 12345,
	      "the kernel stamps the caller's transaction");
	check(i && i->upcall_tx == i->req_tx, "the upcall runs under it");
	check(reply.hdr.rid != 0 && reply.hdr.txid == qs_tx_get(),
	      "the reply carries the request's id and transaction");

	for (uint32_t k = 0; k < sizeof(big); k++)
		big[k] = (uint8_t)(k * 7);
	qs_msg_init(&req, OP_ECHO);
	memset(req.data, 'x', QS_MSG_INLINE);
	req.hdr.len = QS_MSG_INLINE;
	qs_msg_set_ool(&req, big, sizeof(big));
	st = qs_call(qid, &req, r, sizeof(rbuf));
	check(st == 0 && r->hdr.len == QS_MSG_INLINE && r->data[4095] == 'x' &&
		      r->hdr.ool_len == sizeof(big) &&
		      memcmp((void *)r->hdr.ool, big, sizeof(big)) == 0,
	      "4 KiB inline and 64 KiB out of line round trip");
	/* sizes that just fill a kernel heap run of pages, or spill by a few */
	int same = 1;
	for (uint32_t n = 4056; n <= QS_MSG_INLINE; n++) {
		req.hdr.len = n;
		qs_msg_set_ool(&req, big, 4096 * (1 + n % 16) - 40 + n % 41);
		st = qs_call(qid, &req, r, sizeof(rbuf));
		same &= st == 0 && r->hdr.len == n && r->hdr.ool_len == req.hdr.ool_len &&
			memcmp(r->data, req.data, n) == 0 &&
			memcmp((void *)r->hdr.ool, big, r->hdr.ool_len) == 0;
	}
	check(same, "messages of every size near a page round trip");
	st = qs_call(qid, &req, &reply, sizeof(reply));
	check(st == 0 && (reply.hdr.flags & QS_MSG_TRUNC) && reply.hdr.ool_len == 0,
	      "a reply too big for the buffer is cut and flagged");
	req.hdr.len = QS_MSG_INLINE + 1;
	check(qs_call(qid, &req, &reply, sizeof(reply)) == QS_E2BIG,
	      "oversize inline length refused");
	req.hdr.len = 0;
	req.hdr.ool_len = QS_MSG_OOL_MAX + 1;
	check(qs_send(qid, &req) == QS_E2BIG, "oversize out-of-line length refused");

	check(qs_tx_set(0x123456789ull) == QS_EPERM, "a foreign transaction is refused");
	check(qs_tx_set(qs_tx_get()) == 0, "the own transaction is accepted");
}

static void
test_async(int qid)
{
	int rids[10], ok = 1;
	qs_msg_init(&req, OP_INFO);
	for (int i = 0; i < 10; i++)
		ok &= (rids[i] = qs_send(qid, &req)) > 0;
	for (int i = 9; i >= 5; i--)
		ok &= qs_wait(rids[i], &reply, sizeof(reply), -1) == rids[i] &&
		      reply.hdr.status == 0;
	for (int i = 0; i < 5; i++) {
		int got = qs_wait(0, &reply, sizeof(reply), -1);
		int found = 0;
		for (int j = 0; j < 5; j++)
			found |= got == rids[j];
		ok &= found;
	}
	check(ok, "async send, wait by id and wait for any");
	check(qs_wait(0, &reply, sizeof(reply), 0) == QS_ENOENT,
	      "wait with nothing outstanding");
	check(qs_wait(rids[0], &reply, sizeof(reply), 0) == QS_ENOENT,
	      "a collected id cannot be waited for again");

	release = 0;
	qs_msg_init(&req, OP_HANG);
	int slow = qs_send(qid, &req);
	check(qs_wait(slow, &reply, sizeof(reply), 50) == QS_ETIMEDOUT,
	      "wait times out while the answer is not there");
	release = 1;
	qs_futex_wake(&release, 100);
	check(qs_wait(slow, &reply, sizeof(reply), -1) == slow &&
		      reply.hdr.status == 7, "and the answer still comes once");
}

/* A call into a receive buffer that went while it was served. */
typedef struct {
	int qid;
	qs_msg_t *buf;
	int result;
} gone_call_t;

static void *
call_into(void *arg)
{
	gone_call_t *c = arg;
	static qs_msg_t m;
	qs_msg_init(&m, OP_HANG);
	c->result = qs_call(c->qid, &m, c->buf, sizeof(qs_msg_t));
	return NULL;
}

/*
 * The kernel writes a reply straight into the caller's receive buffer (the
 * fast path) and remembers a buffer it found good. A buffer unmapped while
 * its call is served gets QS_EFAULT, once; the next call with it is
 * refused before its request runs.
 */
static void
test_buffer_gone_during_a_call(int qid)
{
	uint32_t grow = 4 * 4096 + sizeof(qs_msg_t);
	int old = qs_syscall(SYS_SBRK, grow, 0, 0, 0, 0);
	check(!QS_IS_ERR(old), "sbrk grows");
	if (QS_IS_ERR(old))
		return;
	gone_call_t c = { qid, (qs_msg_t *)(((uint32_t)old + 4095) & ~4095u), 1 };
	qs_msg_init(&req, OP_INFO);
	check(qs_call(qid, &req, c.buf, sizeof(qs_msg_t)) == 0 &&
		      c.buf->hdr.rid != 0, "a call into fresh pages");

	release = 0;
	uint32_t runs = hang_runs;
	qs_thread_t *t = qs_thread_create(call_into, &c);
	while (hang_runs == runs)
		qs_yield(); /* until the server runs the call */
	check(qs_syscall(SYS_SBRK, (uint32_t)-(int32_t)grow, 0, 0, 0, 0) == old +
		      (int)grow, "sbrk shrinks, unmapping the buffer");
	release = 1;
	qs_futex_wake(&release, 100);
	qs_thread_join(t);
	check(c.result == QS_EFAULT, "the reply finds its buffer gone: QS_EFAULT");

	uint32_t key = 3, before = counts[key];
	qs_msg_init(&req, OP_COUNT);
	qs_msg_put(&req, &key, sizeof(key));
	check(qs_call(qid, &req, c.buf, sizeof(qs_msg_t)) == QS_EFAULT &&
		      counts[key] == before,
	      "the next call with it is refused before it runs");
}

/* One thread takes three requests by deferring each; another answers. */
static void
test_defer_and_answer(void)
{
	static qs_msg_t ans;
	int qid = qs_sq_create("sqtest.defer", 0), rids[3], ok = 1;
	local_server_t one;
	local_serve(&one, qid, 1);
	await_offers(qid, 1, 0);
	deferred = 0;
	qs_msg_init(&req, OP_DEFER);
	for (int i = 0; i < 3; i++)
		ok &= (rids[i] = qs_send(qid, &req)) > 0;
	for (int i = 0; i < 100000 && deferred < 3; i++)
		qs_yield();
	check(ok && deferred == 3 && await_offers(qid, 1, 0),
	      "a deferring thread is free for the next request");
	check(qs_wait(0, &reply, sizeof(reply), 0) == QS_ETIMEDOUT,
	      "deferred requests wait for their answers");
	ok = 1;
	for (int i = 2; i >= 0; i--) {
		qs_msg_init(&ans, OP_DEFER);
		ans.hdr.status = 100 + i;
		qs_msg_put(&ans, &i, sizeof(i));
		ok &= qs_answer(deferred_rid[i], &ans) == 0;
	}
	for (int i = 0; i < 3; i++) {
		int got = qs_wait(rids[i], &reply, sizeof(reply), -1);
		const int *v = QS_MSG_AS(&reply, int);
		ok &= got == rids[i] && v && *v == i && reply.hdr.status == 100 + i;
	}
	check(ok, "qs_answer from another thread gives each its own answer");
	check(qs_answer(deferred_rid[0], &ans) == QS_ENOENT &&
		      qs_answer(0, &ans) == QS_ENOENT,
	      "an answered or unknown request cannot be answered again");
	check(qs_syscall(SYS_SQ_DEFER, 0, 0, 0, 0, 0) == QS_EINVAL,
	      "defer outside an upcall is refused");
	check(qs_syscall(SYS_SQ_PROXY, (uint32_t)"x", 5, 0, 0, 0) == QS_EPERM &&
		      qs_syscall(SYS_SQ_INJECT, (uint32_t)qid, (uint32_t)&req, 0,
				 0, 0) == QS_EPERM,
	      "proxies and injection are the network agent's alone");
	qs_sq_destroy(qid);
	qs_thread_join(one.thread);
}

static void
test_flow_control(void)
{
	int qid = qs_sq_create("sqtest.small", 4);
	int ok = 1;
	qs_msg_init(&req, OP_INFO);
	for (int i = 0; i < 4; i++)
		ok &= qs_send(qid, &req) > 0;
	check(ok && qs_send(qid, &req) == QS_EAGAIN,
	      "a full queue says try again to an async sender");
	check(queue_info(qid).pending == 4, "nothing was dropped");
	local_server_t s;
	local_serve(&s, qid, 1);
	int got = 0;
	for (int i = 0; i < 4; i++)
		got += qs_wait(0, &reply, sizeof(reply), -1) > 0 && reply.hdr.status == 0;
	check(got == 4, "every queued request is answered once served");
	qs_sq_destroy(qid);
	check((int)qs_thread_join(s.thread) == 0, "serving ends when the queue goes");
}

static void *
blocked_caller(void *arg)
{
	static qs_msg_t m, r;
	qs_msg_init(&m, OP_INFO);
	return (void *)qs_call((int)arg, &m, &r, sizeof(r));
}

static void
test_destroy_with_pending(void)
{
	int qid = qs_sq_create("sqtest.doomed", 2);
	int rids[2], ok = 1;
	qs_msg_init(&req, OP_INFO);
	for (int i = 0; i < 2; i++)
		rids[i] = qs_send(qid, &req);
	qs_thread_t *t = qs_thread_create(blocked_caller, (void *)qid);
	/* below it in priority, we run again only once it has blocked */
	qs_set_priority(0, QS_PRIO_DEFAULT - 2);
	qs_yield();
	qs_set_priority(0, QS_PRIO_DEFAULT);
	check(t && qs_sq_destroy(qid) == 0, "destroy a queue with requests pending");
	for (int i = 0; i < 2; i++)
		ok &= qs_wait(rids[i], &reply, sizeof(reply), -1) == rids[i] &&
		      reply.hdr.status == QS_EQGONE;
	check(ok, "pending requests fail with queue destroyed");
	check((int)qs_thread_join(t) == QS_EQGONE,
	      "a sender blocked on the full queue fails too");
	check(qs_sq_lookup("sqtest.doomed") == QS_ENOENT, "the name is gone");
}

/* The last server dies with the queue full and a sender waiting for room:
 * the dead server's requests fail, and the sender gets the room. */
static void
test_room_after_server_dies(void)
{
	int qid = qs_sq_create("sqtest.room", 1);
	const char *args[] = { "server", "sqtest.room", "1", "join", NULL };
	int pa = spawn_joiner(args, qid), rid[2], ok = 1, queued = 0;
	while (!await_offers(qid, 1, 0))
		;
	qs_msg_init(&req, OP_HANG);
	rid[0] = qs_send(qid, &req);
	while (!await_offers(qid, 0, 1))
		; /* A is in the upcall */
	rid[1] = qs_send(qid, &req); /* and the queue is full */
	qs_thread_t *t = qs_thread_create(blocked_caller, (void *)qid);
	qs_set_priority(0, QS_PRIO_DEFAULT - 2);
	qs_yield(); /* it runs and blocks, waiting for room */
	qs_set_priority(0, QS_PRIO_DEFAULT);
	qs_kill(pa);
	for (int i = 0; i < 2; i++)
		ok &= qs_wait(rid[i], &reply, sizeof(reply), -1) == rid[i] &&
		      reply.hdr.status == QS_ESRVDIED;
	for (int i = 0; i < 1000 && !queued; i++, qs_yield())
		queued = queue_info(qid).pending == 1;
	check(ok && queued, "a sender waiting for room sends when the last "
			    "server's death empties the queue");
	local_server_t s;
	if (!queued)
		qs_sq_destroy(qid); /* else it would wait for ever */
	local_serve(&s, qid, 1);
	check((int)qs_thread_join(t) == 0, "and a new server answers it");
	qs_sq_destroy(qid);
	qs_thread_join(s.thread);
	reap(pa);
}

/* A sender killed while it waits for room leaves nothing in the kernel. */
static void
test_sender_killed_waiting_for_room(void)
{
	int qid = qs_sq_create("sqtest.full", 1);
	const char *args[] = { "caller", "sqtest.full", NULL };
	qs_mem_info_t m0, m;
	qs_msg_init(&req, OP_INFO);
	qs_msg_put(&req, "pad", 4);
	int rid = qs_send(qid, &req); /* nobody serves it: the queue is full */
	qs_mem_info(&m0);
	int pc = spawn(args);
	qs_set_priority(0, QS_PRIO_DEFAULT - 2);
	qs_yield(); /* it runs and blocks, waiting for room */
	qs_set_priority(0, QS_PRIO_DEFAULT);
	int full = queue_info(qid).pending == 1;
	qs_kill(pc);
	reap(pc);
	uint32_t t0 = qs_uptime_ms();
	do /* the dead thread's stack goes at the next switch */
		qs_mem_info(&m);
	while (m.heap_bytes != m0.heap_bytes && qs_uptime_ms() - t0 < 2000 &&
	       qs_sleep(10) == 0);
	check(full && m.heap_bytes == m0.heap_bytes,
	      "a sender killed while waiting for room leaves no kernel memory");
	qs_sq_destroy(qid);
	qs_wait(rid, &reply, sizeof(reply), -1);
}

static int
report_hang_runs(int pid)
{
	char name[32];
	snprintf(name, sizeof(name), "sqtest.rep%d", pid);
	qs_msg_init(&req, OP_REPORT);
	if (qs_call(qs_sq_lookup(name), &req, &reply, sizeof(reply)) != 0)
		return -1;
	return (int)*QS_MSG_AS(&reply, uint32_t);
}

static void
test_server_dies_mid_upcall(void)
{
	int qid = qs_sq_create("sqtest.hang", 0);
	const char *args[] = { "server", "sqtest.hang", "1", "join", NULL };
	int pa = spawn_joiner(args, qid);
	while (!await_offers(qid, 1, 0))
		;
	qs_msg_init(&req, OP_HANG);
	int rid = qs_send(qid, &req);
	while (!await_offers(qid, 0, 1))
		; /* A is in the upcall */
	int pb = spawn_joiner(args, qid);
	while (!await_offers(qid, 1, 1))
		;
	qs_kill(pa);
	check(qs_wait(rid, &reply, sizeof(reply), -1) == rid &&
		      reply.hdr.status == QS_ESRVDIED,
	      "server killed mid-upcall: the client gets server died");
	check(report_hang_runs(pb) == 0, "and the request is not run again");
	qs_sq_destroy(qid);
	reap(pa);
	reap(pb); /* its offer ended with the queue: it exits */
}

static void
test_server_dies_before_upcall(void)
{
	int qid = qs_sq_create("sqtest.early", 0);
	const char *a[] = { "server", "sqtest.early", "1", "join", NULL };
	int pa = spawn_joiner(a, qid);
	while (!await_offers(qid, 1, 0))
		;
	/* outranking the server, we kill it before its thread can start */
	qs_set_priority(0, QS_PRIO_MAX);
	qs_msg_init(&req, OP_INFO);
	int rid = qs_send(qid, &req);
	int handed = queue_info(qid).pending == 0;
	qs_kill(pa);
	qs_set_priority(0, QS_PRIO_DEFAULT);
	check(handed, "the request was handed to the server's thread");
	check(qs_wait(rid, &reply, sizeof(reply), -1) == rid &&
		      reply.hdr.status == QS_ESRVDIED,
	      "server killed before the upcall, none left: server died");
	qs_sq_destroy(qid);
	reap(pa);
}

static void
test_request_moves_to_another_server(void)
{
	int qid = qs_sq_create("sqtest.move", 0);
	const char *args[] = { "server", "sqtest.move", "1", "join", NULL };
	int pa = spawn_joiner(args, qid);
	while (!await_offers(qid, 1, 0))
		;
	int pb = spawn_joiner(args, qid);
	while (!await_offers(qid, 2, 0))
		;
	qs_set_priority(0, QS_PRIO_MAX);
	qs_msg_init(&req, OP_INFO);
	int rid = qs_send(qid, &req); /* A, first in line, has it */
	qs_kill(pa);
	qs_set_priority(0, QS_PRIO_DEFAULT);
	int r = qs_wait(rid, &reply, sizeof(reply), -1);
	const info_t *i = QS_MSG_AS(&reply, info_t);
	check(r == rid && reply.hdr.status == 0 && i && i->pid == pb,
	      "server killed before the upcall: another server runs it");
	qs_sq_destroy(qid);
	reap(pa);
	reap(pb);
}

static void
test_client_dies(int qid)
{
	const char *c[] = { "caller", "sqtest.local", NULL };
	uint32_t before = queue_info(qid).completed;
	release = 0;
	hang_runs = 0;
	int pc = spawn(c);
	while (!await_offers(qid, 1, 1))
		; /* the caller's request is in our handler */
	qs_kill(pc);
	check(reap(pc) == QS_STATUS_KILLED, "client killed mid-wait");
	release = 1;
	qs_futex_wake(&release, 100);
	while (!await_offers(qid, 2, 0))
		;
	check(queue_info(qid).completed == before + 1 && hang_runs == 1,
	      "its request ran once; the late answer was dropped");

	/* undelivered requests of a dead client leave the queue */
	int q2 = qs_sq_create("sqtest.noserver", 0);
	const char *c2[] = { "caller", "sqtest.noserver", NULL };
	pc = spawn(c2);
	while (queue_info(q2).pending < 1)
		qs_yield();
	qs_kill(pc);
	reap(pc);
	check(queue_info(q2).pending == 0, "a dead client's queued request is removed");
	qs_sq_destroy(q2);
}

/*
 * A reply the kernel refuses (here out-of-line bytes unmapped; as well a
 * reply the kernel has no memory for, when a client has driven the node to
 * its reserve) fails its request, and the serving thread goes on serving:
 * it is not lost to its queue.
 */
static void
test_bad_reply_keeps_server(void)
{
	static qs_msg_t m, r;
	int qid = qs_sq_create("sqtest.badreply", 0);
	local_server_t s;
	local_serve(&s, qid, 1);
	int ready = await_offers(qid, 1, 0);
	qs_msg_init(&m, OP_BADREPLY);
	int bad = qs_call(qid, &m, &r, sizeof(r));
	qs_msg_init(&m, OP_ECHO);
	qs_msg_put(&m, "again", 6);
	int good = ready && bad == QS_EFAULT && await_offers(qid, 1, 0)
			   ? qs_call(qid, &m, &r, sizeof(r)) : QS_ETIMEDOUT;
	check(bad == QS_EFAULT && good == 0 && r.hdr.len == 6 &&
		      memcmp(r.data, "again", 6) == 0,
	      "a reply the kernel refuses fails, and its thread serves the next");
	qs_sq_destroy(qid);
	qs_thread_join(s.thread);
}

static void
test_wait_on_foreign_id(void)
{
	const char *c[] = { "caller", "sqtest.local", NULL };
	release = 0;
	qs_msg_init(&req, OP_INFO);
	int mine = qs_send(qs_sq_lookup("sqtest.local"), &req);
	qs_wait(mine, &reply, sizeof(reply), -1);
	int pc = spawn(c);
	int qid = qs_sq_lookup("sqtest.local");
	while (!await_offers(qid, 1, 1))
		;
	/* the caller's request id is between ours and the next one */
	int bad = 0;
	for (int rid = mine + 1; rid < mine + 4; rid++)
		bad |= qs_wait(rid, &reply, sizeof(reply), 0) != QS_ENOENT;
	check(!bad, "waiting on another process's request id is refused");
	release = 1;
	qs_futex_wake(&release, 100);
	check(reap(pc) == 7, "and its owner still gets the answer");
}

/*
 * Death notices go to QS_DEATH_QUEUE, a name reserved for the process
 * init's config names: bare.conf starts `sqtest deaths` for it, which
 * keeps the notices and answers "the notice of pid N" on sqtest.deaths.
 */
#define DEATHS_SEEN 64
static qs_death_notice_t seen[DEATHS_SEEN];
static volatile uint32_t nseen;
static qs_mutex_t seen_lock = QS_MUTEX_INIT;

static int32_t
death_handler(const qs_msg_t *rq, qs_msg_t *rp, void *ctx)
{
	const qs_death_notice_t *n = QS_MSG_AS(rq, qs_death_notice_t);
	(void)rp, (void)ctx;
	if (rq->hdr.opcode != QS_NOTICE_DEATH || !n || rq->hdr.src_pid != 0)
		return QS_EINVAL;
	qs_mutex_lock(&seen_lock);
	seen[nseen++ % DEATHS_SEEN] = *n;
	qs_mutex_unlock(&seen_lock);
	return 0;
}

static int32_t
notice_query(const qs_msg_t *rq, qs_msg_t *rp, void *ctx)
{
	const int32_t *pid = QS_MSG_AS(rq, int32_t);
	int32_t r = QS_ENOENT;
	(void)ctx;
	if (!pid)
		return QS_EINVAL;
	qs_mutex_lock(&seen_lock);
	for (uint32_t i = 0; i < DEATHS_SEEN; i++) {
		if (seen[i].pid == *pid) {
			qs_msg_put(rp, &seen[i], sizeof(seen[i]));
			r = 0;
		}
	}
	qs_mutex_unlock(&seen_lock);
	return r;
}

static void *
serve_deaths(void *arg)
{
	return (void *)qs_serve((int)arg, death_handler, NULL, 1);
}

static int
role_deaths(void)
{
	int dq = qs_sq_create(QS_DEATH_QUEUE, 0);
	int q = qs_sq_create("sqtest.deaths", 0);
	if (dq < 0 || q < 0) {
		printf("sqtest deaths: cannot serve %s: %s\n", QS_DEATH_QUEUE,
		       qs_strerror(dq < 0 ? dq : q));
		return 1;
	}
	qs_thread_create(serve_deaths, (void *)dq);
	return qs_serve(q, notice_query, NULL, 1) < 0;
}

/* The notice of pid, once it has come (the deadline is generous: it is
 * posted as the process ends, but TCG on a busy machine is slow). */
static int
notice_of(int pid, qs_death_notice_t *out)
{
	int qid = qs_sq_lookup("sqtest.deaths");
	for (uint32_t t0 = qs_uptime_ms(); qs_uptime_ms() - t0 < 60000;) {
		qs_msg_init(&req, OP_INFO);
		qs_msg_put(&req, &pid, sizeof(pid));
		if (qid > 0 && qs_call(qid, &req, &reply, sizeof(reply)) == 0 &&
		    reply.hdr.len == sizeof(*out)) {
			memcpy(out, reply.data, sizeof(*out));
			return 0;
		}
		qs_sleep(10);
	}
	return QS_ETIMEDOUT;
}

static void
test_death_notice(void)
{
	const char *none[] = { NULL };
	qs_death_notice_t n;
	check(qs_sq_create(QS_DEATH_QUEUE, 0) == QS_EPERM,
	      "only the process init names serves the death notices");
	int pid = qs_spawn("hello", none, 0);
	reap(pid);
	check(notice_of(pid, &n) == 0 && n.pid == pid && n.status == 0 &&
		      strcmp(n.name, "hello") == 0 && n.txid != qs_tx_get() &&
		      QS_TX_NODE(n.txid) == QS_TX_NODE(qs_tx_get()),
	      "the kernel posts a death notice with the transaction");
	pid = qs_spawn("spin", none, 0);
	qs_kill(pid);
	reap(pid);
	check(notice_of(pid, &n) == 0 && n.pid == pid &&
		      n.status == QS_STATUS_KILLED,
	      "a killed process's notice says killed");
}

static void
test_concurrency(void)
{
	const char *s2[] = { "server", "sqtest.count", "3", "join", NULL };
	int ps2 = qs_spawn("sqtest", s2, QS_SPAWN_SUSPENDED), qid;
	char admit[16], rep[32];
	snprintf(admit, sizeof(admit), "%d", ps2);
	const char *s1[] = { "server", "sqtest.count", "3", "own", admit, NULL };
	int ps1 = spawn(s1);
	snprintf(rep, sizeof(rep), "sqtest.rep%d", ps1);
	/* its report queue comes after the queue and the admission */
	while (qs_sq_lookup(rep) < 0 || (qid = qs_sq_lookup("sqtest.count")) < 0)
		qs_yield();
	qs_resume(ps2);
	while (!await_offers(qid, 6, 0))
		;
	int pcs[CLIENTS], ok = 1;
	for (int i = 0; i < CLIENTS; i++) {
		char id[8];
		snprintf(id, sizeof(id), "%d", i);
		const char *c[] = { "client", "sqtest.count", id, NULL };
		pcs[i] = spawn(c);
	}
	for (int i = 0; i < CLIENTS; i++)
		ok &= reap(pcs[i]) == 0;
	check(ok, "3 clients saw all 10,002 requests answered correctly");

	/* each server reports its counts on its own queue */
	static uint8_t total[KEYS];
	static uint8_t rbuf[QS_MSG_BUF_SIZE];
	qs_msg_t *r = (qs_msg_t *)rbuf;
	int servers[2] = { ps1, ps2 }, reported = 0;
	memset(total, 0, sizeof(total));
	for (int s = 0; s < 2; s++) {
		char name[32];
		snprintf(name, sizeof(name), "sqtest.rep%d", servers[s]);
		qs_msg_init(&req, OP_REPORT);
		if (qs_call(qs_sq_lookup(name), &req, r, sizeof(rbuf)) == 0 &&
		    r->hdr.ool_len == KEYS) {
			reported++;
			for (int k = 0; k < KEYS; k++)
				total[k] += ((uint8_t *)r->hdr.ool)[k];
		}
	}
	int once = reported == 2;
	for (int k = 0; k < KEYS; k++)
		once &= total[k] == 1;
	check(once, "every request id ran exactly once across 2 servers");
	qs_kill(ps1);
	qs_kill(ps2);
	reap(ps1);
	reap(ps2);
}

/* ---- helper roles --------------------------------------------------------- */

static int
role_server(char **argv)
{
	int own = strcmp(argv[4], "own") == 0;
	int qid = own ? qs_sq_create(argv[2], 0) : qs_sq_lookup(argv[2]);
	if (own && argv[5] && qs_sq_admit(qid, atoi(argv[5])) < 0)
		return 2; /* argv[5]: a server process that joins */
	char name[32];
	snprintf(name, sizeof(name), "sqtest.rep%d", qs_getpid());
	int rep = qs_sq_create(name, 0);
	local_server_t r;
	local_serve(&r, rep, 1);
	int st = qs_serve(qid, handler, NULL, atoi(argv[3]));
	return st == 0 ? 0 : 1;
}

static int
role_client(char **argv)
{
	int qid = qs_sq_lookup(argv[2]), id = atoi(argv[3]), bad = 0;
	for (uint32_t i = 0; i < PER_CLIENT; i++) {
		uint32_t key = (uint32_t)id * PER_CLIENT + i;
		qs_msg_init(&req, OP_COUNT);
		qs_msg_put(&req, &key, sizeof(key));
		if (i % 2) { /* half synchronous, half asynchronous */
			bad |= qs_call(qid, &req, &reply, sizeof(reply)) != 0 ||
			       *QS_MSG_AS(&reply, uint32_t) != key;
		} else {
			int rid;
			/* full, or at our limit of outstanding requests:
			   collect an answer of ours, or let others run */
			while ((rid = qs_send(qid, &req)) == QS_EAGAIN ||
			       rid == QS_ELIMIT) {
				if (qs_wait(0, &reply, sizeof(reply), -1) > 0)
					bad |= reply.hdr.status != 0;
				else
					qs_yield();
			}
			bad |= rid < 0;
		}
	}
	while (qs_wait(0, &reply, sizeof(reply), -1) > 0)
		bad |= reply.hdr.status != 0;
	return bad;
}

static int
role_settx(char **argv)
{
	qs_msg_init(&req, OP_SETTX);
	return qs_call(qs_sq_lookup(argv[2]), &req, &reply, sizeof(reply));
}

static void
test_adopt_received_transaction(void)
{
	int qid = qs_sq_create("sqtest.adopt", 0);
	const char *srv[] = { "server", "sqtest.adopt", "1", "join", NULL };
	const char *cli[] = { "settx", "sqtest.adopt", NULL };
	int ps = spawn_joiner(srv, qid);
	while (!await_offers(qid, 1, 0))
		;
	qs_msg_init(&req, OP_ADOPT);
	qs_call(qid, &req, &reply, sizeof(reply));
	int pc = spawn(cli);
	check(reap(pc) == 1, "a server may act under a transaction it received");
	qs_sq_destroy(qid);
	reap(ps);
}

static int
role_caller(char **argv)
{
	qs_msg_init(&req, OP_HANG);
	return qs_call(qs_sq_lookup(argv[2]), &req, &reply, sizeof(reply));
}

int
main(int argc, char **argv)
{
	if (argc >= 5 && strcmp(argv[1], "server") == 0)
		return role_server(argv);
	if (argc >= 4 && strcmp(argv[1], "client") == 0)
		return role_client(argv);
	if (argc >= 3 && strcmp(argv[1], "caller") == 0)
		return role_caller(argv);
	if (argc >= 3 && strcmp(argv[1], "settx") == 0)
		return role_settx(argv);
	if (argc == 2 && strcmp(argv[1], "deaths") == 0)
		return role_deaths();

	int qid = qs_sq_create("sqtest.local", 0);
	local_server_t local;
	local_serve(&local, qid, 2);
	await_offers(qid, 2, 0);
	test_calls_and_stamps(qid);
	test_buffer_gone_during_a_call(qid);
	test_async(qid);
	test_defer_and_answer();
	test_flow_control();
	test_destroy_with_pending();
	test_room_after_server_dies();
	test_sender_killed_waiting_for_room();
	test_server_dies_mid_upcall();
	test_server_dies_before_upcall();
	test_request_moves_to_another_server();
	test_client_dies(qid);
	test_bad_reply_keeps_server();
	test_wait_on_foreign_id();
	test_death_notice();
	test_adopt_received_transaction();
	test_concurrency();
	qs_sq_destroy(qid);
	qs_thread_join(local.thread);
	return check_summary("sqtest");
}
