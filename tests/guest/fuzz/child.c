/*
 * One child: a slice of calls from one seed, with a few server threads
 * offering on queues of its own (the upcall handler replies, defers,
 * answers, sends bad replies or ends its thread), a few helper threads
 * (futex waits, sleeps; now and then one ends the whole child), and a
 * watchdog thread that destroys a queue of its own left with requests and
 * no server (a call there would wait for ever, by design).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/thread.h>
#include "fuzz.h"

#define REPORT_EVERY 256

/* ---- reporting to the parent -------------------------------------------- */

#define REPORT_CAP (sizeof(qs_msg_hdr_t) + 64)

static void
report_from(qs_msg_t *m, void *rbuf, uint32_t n, uint32_t ended)
{
	if (!ctl_qid)
		return;
	report_t rep = { (uint32_t)mypid, n, ended };
	qs_msg_init(m, 1);
	qs_msg_put(m, &rep, sizeof(rep));
	qs_call(ctl_qid, m, rbuf, REPORT_CAP);
}

static void
report(uint32_t n, uint32_t ended)
{
	static qs_msg_t m;
	static uint8_t r[REPORT_CAP];
	report_from(&m, r, n, ended);
}

/* ---- threads ------------------------------------------------------------- */

static slot_t *
slot_of(uint32_t tid_or_buf, int by_buf)
{
	for (int i = 0; i < NSLOT; i++)
		if (by_buf ? U(slots[i].mem->rbuf) == tid_or_buf
			   : (uint32_t)slots[i].tid == tid_or_buf)
			return &slots[i];
	return NULL;
}

void
helper_entry(uint32_t idx)
{
	slot_t *s = &slots[idx % NSLOT];
	uint64_t r = s->rng ^ (uint64_t)qs_gettid() << 32;
	if (below_of(&r, 16) == 0) { /* the child ends, whatever main is doing */
		report_from(&s->mem->reply, s->mem->rbuf, made, 1);
		SYSCALL(below_of(&r, 2) ? SYS_EXIT : SYS_KILL, mypid, 0, 0, 0, 0);
	}
	for (uint32_t n = below_of(&r, 5); n--;) {
		volatile uint32_t *w = &fwords[below_of(&r, 4)];
		switch (below_of(&r, 4)) {
		case 0: qs_futex_wait(w, *w, (int32_t)below_of(&r, 15)); break;
		case 1: qs_sleep(below_of(&r, 5)); break;
		case 2: qs_yield(); break;
		default: (*w)++; qs_futex_wake(w, 1); break;
		}
	}
	slot_end(s);
}

static void
defer_push(uint32_t rid)
{
	for (int i = 0; i < 32; i++)
		if (cas(&deferred[i], 0, rid) == 0)
			return;
}

static uint32_t
defer_pop(uint64_t *r)
{
	return __sync_lock_test_and_set(&deferred[below_of(r, 32)], 0);
}

/* A reply: mostly good, sometimes with bad sizes or pointers. */
static uint32_t
reply_msg(slot_t *s)
{
	qs_msg_t *m = &s->mem->reply;
	uint32_t k = below_of(&s->rng, 16);
	if (k == 0)
		return below_of(&s->rng, 2) ? KERNEL_ADDR : UNMAPPED;
	memset(&m->hdr, 0, sizeof(m->hdr));
	m->hdr.status = (int32_t)(rnd_of(&s->rng) % 64) - 32;
	m->hdr.len = k < 8 ? below_of(&s->rng, 64) : k < 12 ? below_of(&s->rng, 4097)
		   : k < 14 ? 4064 + below_of(&s->rng, 40) : 4097;
	if (below_of(&s->rng, 3) == 0) {
		m->hdr.ool = U(s->mem->rbuf);
		m->hdr.ool_len = below_of(&s->rng, SLOT_RBUF + 64);
	}
	return U(m);
}

static void serve_loop(slot_t *s) __attribute__((noreturn));

/* What a handler may do before it answers: under the request's
 * transaction or not, another request, an offer while busy, a pause. */
static void
in_upcall(slot_t *s, const qs_msg_t *req)
{
	uint64_t tx = req->hdr.txid;
	int qid = own_q[below_of(&s->rng, MAX_QUEUES)];
	switch (below_of(&s->rng, 11)) {
	case 0: SYSCALL(SYS_TX_SET, (uint32_t)tx, (uint32_t)(tx >> 32), 0, 0, 0); break;
	case 1: SYSCALL(SYS_TX_SET, rnd_of(&s->rng), rnd_of(&s->rng), 0, 0, 0); break;
	case 2: SYSCALL(SYS_TX_SET, 0, 0, 0, 0, 0); break;
	case 3:
		qs_msg_init(&s->mem->reply, OP_ASYNC | 9);
		SYSCALL(SYS_SQ_SEND, qid, U(&s->mem->reply), 0, 0, 0);
		break;
	case 4: SYSCALL(SYS_SQ_OFFER, qid, U(handler_entry), slot_top((int)(s - slots)),
			U(s->mem->rbuf), SLOT_RBUF); break;
	case 5: qs_sleep(below_of(&s->rng, 3)); break;
	case 6: qs_set_priority(0, (int)below_of(&s->rng, QS_PRIO_DEFAULT + 1)); break;
	case 7: SYSCALL(SYS_SQ_WAIT, 0, U(s->mem->rbuf), SLOT_RBUF, 0, 0); break;
	case 8: /* a server's request on a client's behalf, under its tx */
		if ((qid = srv_build(&s->rng, &s->mem->reply, NULL, 0)))
			SYSCALL(SYS_SQ_SEND, qid, U(&s->mem->reply), 0, 0, 0);
		break;
	default: break;
	}
}

void
handler_entry(qs_msg_t *req)
{
	slot_t *s = slot_of(U(req), 1);
	if (!s)
		qs_exit(99); /* an upcall into a buffer we never offered */
	s->rng ^= req->hdr.rid;
	uint32_t k = below_of(&s->rng, 100);
	if (k < 2 || ending)
		slot_end(s); /* the request fails with QS_ESRVDIED */
	/* what we sent (not called), and the TM's notices: answered later, or
	 * never (then the child's end fails them) */
	if (k < 20 && ((req->hdr.opcode & OP_ASYNC) ||
		       (rq_qid && req->hdr.qid == (uint32_t)rq_qid &&
			req->hdr.src_pid != mypid))) {
		defer_push(req->hdr.rid);
		SYSCALL(SYS_SQ_DEFER, 0, 0, 0, 0, 0); /* returns on error only */
		serve_loop(s);
	}
	if (k < 35) {
		uint32_t rid = defer_pop(&s->rng);
		if (rid)
			SYSCALL(SYS_SQ_ANSWER, rid, reply_msg(s), 0, 0, 0);
	}
	in_upcall(s, req);
	SYSCALL(SYS_SQ_REPLY, reply_msg(s), 0, 0, 0, 0); /* error only */
	serve_loop(s);
}

/* Offers on a queue of ours (mostly with good arguments) until none is left. */
static void
serve_loop(slot_t *s)
{
	for (;;) {
		int qid = own_q[below_of(&s->rng, MAX_QUEUES)];
		if (ending || ++s->errors > 64)
			slot_end(s);
		if (!qid) {
			qs_sleep(1);
			continue;
		}
		uint32_t entry = U(handler_entry), stack = U(s->mem->stack) + SLOT_STACK;
		uint32_t buf = U(s->mem->rbuf), cap = 40 + below_of(&s->rng, SLOT_RBUF - 39);
		switch (below_of(&s->rng, 24)) {
		case 0: entry = KERNEL_ADDR; break;
		case 1: stack = UNMAPPED; break;
		case 2: buf = KERNEL_ADDR; break;
		case 3: cap = 39; break;
		default: break;
		}
		SYSCALL(SYS_SQ_OFFER, qid, entry, stack, buf, cap);
	}
}

void
server_entry(uint32_t idx)
{
	serve_loop(&slots[idx]);
}

static int
start_thread(int kind)
{
	for (int i = 0; i < NSLOT; i++) {
		slot_t *s = &slots[i];
		if (cas(&s->state, S_FREE, (uint32_t)kind) != S_FREE)
			continue;
		s->rng = rng ^ ((uint64_t)i << 40) ^ made;
		s->errors = 0;
		int tid = SYSCALL(SYS_THREAD_CREATE,
				  kind == S_SERVER ? U(server_entry) : U(helper_entry),
				  i, slot_top(i), below(QS_PRIO_DEFAULT + 1), 0);
		if (tid < 0) {
			s->state = S_FREE;
			return tid;
		}
		s->tid = tid;
		return tid;
	}
	return QS_EAGAIN;
}

/* Destroys a queue of ours that has requests and has had no server for a
 * tick: a request there would wait for ever, by design. */
static void __attribute__((noreturn))
watchdog(uint32_t unused)
{
	static qs_sq_info_t wq[64];
	int stale[MAX_QUEUES] = { 0 };
	(void)unused;
	while (!ending) {
		qs_sleep(25);
		int n = qs_sq_list(wq, 64);
		for (int i = 0; i < MAX_QUEUES; i++) {
			int qid = own_q[i], found = 0;
			for (int j = 0; j < n && qid; j++) {
				if (wq[j].qid != qid)
					continue;
				found = 1;
				int idle = wq[j].idle + wq[j].busy == 0 && wq[j].pending;
				if (idle && stale[i] == qid) {
					qs_sq_destroy(qid);
					cas((volatile uint32_t *)&own_q[i], (uint32_t)qid, 0);
				}
				stale[i] = idle ? qid : 0;
			}
			if (qid && !found)
				cas((volatile uint32_t *)&own_q[i], (uint32_t)qid, 0);
		}
	}
	qs_syscall(SYS_THREAD_EXIT, 0, 0, 0, 0, 0);
	for (;;)
		;
}

/* ---- the child ------------------------------------------------------------ */

static void
kid_add(int pid, int suspended)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (!kids[i].pid) {
			kids[i].pid = pid;
			kids[i].suspended = suspended;
			return;
		}
}

/* What a call did that later calls need to know. */
static void
after(int nr, const uint32_t a[5], int r)
{
	int i;
	switch (nr) {
	case SYS_SPAWN:
		if (r > 0)
			kid_add(r, (a[3] & QS_SPAWN_SUSPENDED) || a[2] > 7);
		break;
	case SYS_WAIT:
		if (r > 0 && (i = kid(r)) >= 0)
			kids[i].pid = 0;
		break;
	case SYS_KILL:
		if (r == 0 && (i = kid((int)a[0])) >= 0)
			kids[i].suspended = 0;
		break;
	case SYS_THREAD_CREATE:
		if (reserved >= 0 && r > 0)
			slots[reserved].tid = r;
		else if (reserved >= 0)
			slots[reserved].state = S_FREE;
		reserved = -1;
		break;
	case SYS_SBRK:
		if (!QS_IS_ERR(r))
			brk_now = (uint32_t)r + a[0];
		break;
	case SYS_SQ_CREATE:
		for (i = 0; r > 0 && i < MAX_QUEUES; i++)
			if (cas((volatile uint32_t *)&own_q[i], 0, (uint32_t)r) == 0)
				break;
		break;
	case SYS_SQ_DESTROY:
		for (i = 0; r == 0 && i < MAX_QUEUES; i++)
			cas((volatile uint32_t *)&own_q[i], a[0], 0);
		break;
	case SYS_SQ_SEND:
		if (r > 0)
			recent_rid[below(16)] = (uint32_t)r;
		break;
	case SYS_SQ_CALL:
		srv_answer(a[0], r, a[2], a[3]);
		break;
	case SYS_TX_BEGIN:
		if (r == 0 && valid(a[0], 8, 1) == V_YES)
			memcpy(&txs[below(10)], (const void *)a[0], 8);
		break;
	}
}

/* Before a call that starts a helper on a free slot: the slot is taken
 * (a call that fails first may name a slot in use: that one stays). */
static void
before(int nr, const uint32_t a[5])
{
	if (nr == SYS_THREAD_CREATE && a[0] == U(helper_entry) && a[1] < NSLOT &&
	    a[2] == slot_top((int)a[1]) && a[3] <= QS_PRIO_MAX &&
	    cas(&slots[a[1]].state, S_FREE, S_HELPER) == S_FREE)
		reserved = (int)a[1];
}

/* An end of the child: the parent learns first; the threads go with the
 * main one only when nothing of ours would keep them. */
static void
ending_call(int nr, const uint32_t a[5])
{
	if (nr != SYS_EXIT && nr != SYS_THREAD_EXIT &&
	    !(nr == SYS_KILL && a[0] == (uint32_t)mypid))
		return;
	report(made + 1, 1);
	if (nr == SYS_THREAD_EXIT) {
		ending = 1;
		for (int i = 0; i < MAX_QUEUES; i++)
			if (own_q[i])
				qs_sq_destroy(own_q[i]);
	}
}

static void
maintain(void)
{
	int servers = 0, q = 0;
	for (int i = 0; i < NSLOT; i++)
		servers += slots[i].state == S_SERVER;
	for (int i = 0; i < MAX_QUEUES; i++)
		q += own_q[i] != 0;
	if (q && servers < 2 && below(8) == 0)
		start_thread(S_SERVER);
	if (!q && below(16) == 0) { /* most requests want a queue of ours */
		char name[QS_NAME_MAX];
		snprintf(name, sizeof(name), "fz%d.%d.%u", ppid, mypid, ++qname_seq);
		int qid = qs_sq_create(name, below(2) ? 1 + below(3) : 0);
		for (int i = 0; qid > 0 && i < MAX_QUEUES; i++)
			if (cas((volatile uint32_t *)&own_q[i], 0, (uint32_t)qid) == 0)
				break;
	}
	if (below(64) == 0)
		start_thread(S_HELPER);
	if (below(256) == 0)
		srv_refresh(); /* a server's recovery queue comes at its first join */
	for (uint32_t n = below(64) ? 0 : below(16); n--;) /* answers we sent for */
		if (SYSCALL(SYS_SQ_WAIT, 0, U(arena), ARENA, 0, 0) < 0)
			break;
	int rq = 0;
	for (int i = 0; rq_qid && i < MAX_QUEUES; i++)
		rq |= own_q[i] == rq_qid;
	if (!rq) /* destroyed: it may be made again */
		rq_qid = 0;
	if (!rq_qid && below(made ? 256 : 2) == 0) { /* the TM's notices come to us */
		char name[QS_NAME_MAX];
		snprintf(name, sizeof(name), "tx.rq.%d", mypid);
		int qid = qs_sq_create(name, below(2) ? 1 : 0);
		rq_qid = qid > 0 ? qid : 0;
		for (int i = 0; qid > 0 && i < MAX_QUEUES; i++)
			if (cas((volatile uint32_t *)&own_q[i], 0, (uint32_t)qid) == 0)
				break;
	}
	if (nkids(0) >= MAX_CHILDREN) { /* reap the quiet ones */
		int pid = qs_waitpid(-1, NULL, QS_WAIT_NOHANG);
		int i = pid > 0 ? kid(pid) : -1;
		if (i >= 0)
			kids[i].pid = 0;
		else
			for (i = 0; i < MAX_CHILDREN; i++)
				if (kids[i].suspended && qs_kill(kids[i].pid) == 0)
					kids[i].suspended = 0;
	}
}

int
child(uint32_t seed, uint32_t calls, int parent, int ctl)
{
	char on[4];
	uint32_t a[5];

	rng = seed;
	mypid = qs_getpid();
	main_tid = qs_gettid();
	ppid = parent ? parent : mypid;
	ctl_qid = ctl;
	kfault_on = qs_boot_arg("kfault", on, sizeof(on)) >= 0 && on[0] == '1';
	brk_start = (uint32_t)SYSCALL(SYS_SBRK, 0, 0, 0, 0, 0);
	int r0 = SYSCALL(SYS_SBRK, NSLOT * sizeof(slot_mem_t) + ARENA, 0, 0, 0, 0);
	if (QS_IS_ERR(r0))
		return 3;
	slot_mem_t *mem = (slot_mem_t *)(uintptr_t)(uint32_t)r0;
	for (int i = 0; i < NSLOT; i++)
		slots[i].mem = &mem[i];
	arena = (uint8_t *)&mem[NSLOT];
	arena_end = brk_now = U(arena) + ARENA;
	for (uint32_t i = 0; i < ARENA; i++)
		arena[i] = (uint8_t)rnd();
	txs[0] = qs_tx_get();
	srv_refresh();
	watchdog_tid = SYSCALL(SYS_THREAD_CREATE, U(watchdog), 0,
			       U(watchdog_stack) + sizeof(watchdog_stack),
			       QS_PRIO_DEFAULT, 0);
	for (uint32_t tries = 0; made < calls && tries < calls * 64; tries++) {
		maintain();
		int nr = pick_nr();
		gen(nr, a);
		tame(nr, a);
		if (!allowed(nr, a) || !harmless(nr, a))
			continue;
		if (trace)
			printf("fz %u: %d %x %x %x %x %x\n", made, nr, a[0], a[1],
			       a[2], a[3], a[4]);
		ending_call(nr, a);
		before(nr, a);
		int r = SYSCALL(nr, a[0], a[1], a[2], a[3], a[4]);
		made++;
		after(nr, a, r);
		if (trace)
			printf("fz = %d\n", r);
		if (trace && (nr == SYS_SQ_CALL || nr == SYS_SQ_SEND) && srv_queue(a[0]) &&
		    valid(a[1], sizeof(qs_msg_hdr_t), 0) != V_NO)
			printf("fz srv %u op %u len %u ool %u = %d\n", a[0],
			       ((const qs_msg_hdr_t *)a[1])->opcode,
			       ((const qs_msg_hdr_t *)a[1])->len,
			       ((const qs_msg_hdr_t *)a[1])->ool_len, r);
		if (made % REPORT_EVERY == 0)
			report(made, 0);
	}
	report(made, 1);
	ending = 1;
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (kids[i].pid)
			qs_kill(kids[i].pid);
	return 0;
}
