/*
 * A seeded syscall fuzzer: random and boundary arguments to every syscall
 * number, from child processes, so that only the kernel's survival counts.
 *
 *   fuzz SEED CALLS [CHILDREN [t]]
 *                                the run: CALLS calls in slices of at most
 *                                SLICE, CHILDREN children at a time (t: the
 *                                children print every call first)
 *   fuzz child SEED CALLS PPID CTL [t]
 *                                one slice (t: print every call first)
 *   fuzz quiet [c|s|w QID]       what a child spawns: exits at once, or
 *                                first calls (c) or serves (s) the queue
 *                                QID, or waits a little (w)
 *
 * A child reports how many calls it made to the parent's queue CTL (every
 * REPORT_EVERY calls and before it ends itself), so a child that exits, kills
 * itself or ends its main thread early is credited and the rest of its slice
 * goes to a new child. The parent waits for its children (a deadline only
 * detects a hung child), then checks that the free pages and the kernel heap
 * come back to where they were. One seed gives the same calls: with
 * CHILDREN 1 a failing seed reproduces; `fuzz child S N 0 0 t` replays one
 * slice with a trace.
 *
 * A child keeps a few server threads offering on queues it made (the upcall
 * handler replies, defers, answers, sends bad replies or ends its thread), a
 * few helper threads (futex waits, sleeps; now and then one ends the whole
 * child), and a watchdog thread that destroys a queue of its own left with
 * requests and no server (a call there would wait for ever, by design). The
 * calls avoid the child's own image and stack: every pointer it passes is
 * into its scratch arena, the read-only ELF header, or somewhere unmapped
 * or kernel-only (fuzz_args.h has the generators).
 *
 * What the fuzz leaves out: allowed() (what only a rights model will refuse,
 * the UNGUARDED table) and harmless() (what would only make the child wait
 * for ever by its own doing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/thread.h>
#include "check.h"
#include "fuzz_args.h"

#define SLICE 2500
#define REPORT_EVERY 256
#define HANG_MS 120000      /* a child's deadline (it takes seconds) */
#define LEVEL_MS 60000      /* for pages and heap to come back */

typedef struct {
	uint32_t pid, made, ended;
} report_t;

/* ---- the filters ------------------------------------------------------- */

/* Read a string of ours (or say it is not one). */
static int
our_str(uint32_t p, char *out, uint32_t max)
{
	for (uint32_t i = 0; i < max; i++) {
		if (valid(p + i, 1, 0) != V_YES)
			return -1;
		out[i] = *(const char *)(p + i);
		if (!out[i])
			return (int)i;
	}
	return -1;
}

static int
known_bad_msg(uint32_t m)
{
	int v = valid(m, sizeof(qs_msg_hdr_t), 0);
	if (v != V_YES)
		return v == V_NO;
	const qs_msg_hdr_t *h = (const qs_msg_hdr_t *)m;
	if (h->len > QS_MSG_INLINE || h->ool_len > QS_MSG_OOL_MAX)
		return 1;
	return valid(m + sizeof(*h), h->len, 0) == V_NO ||
	       (h->ool_len && valid(h->ool, h->ool_len, 0) == V_NO);
}

static int
known_bad_rbuf(uint32_t b, uint32_t cap)
{
	return cap < sizeof(qs_msg_hdr_t) || cap > (1u << 20) ||
	       valid(b, cap, 1) == V_NO;
}

static int
kid(int pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (pid && kids[i].pid == pid)
			return i;
	return -1;
}

static int
nkids(int suspended_only)
{
	int n = 0;
	for (int i = 0; i < MAX_CHILDREN; i++)
		n += kids[i].pid && (!suspended_only || kids[i].suspended);
	return n;
}

static int
nqueues(void)
{
	int n = 0;
	for (int i = 0; i < MAX_QUEUES; i++)
		n += own_q[i] != 0;
	return n;
}

static const qs_sq_info_t *
queue_of(uint32_t qid)
{
	qlist();
	return qfind((int)qid);
}

static int
spawn_ok(const uint32_t a[5])
{
	char name[QS_NAME_MAX], args[8];
	if (a[3] & ~QS_SPAWN_SUSPENDED || a[2] > QS_ARGS_MAX)
		return 1; /* refused before the program matters */
	if (our_str(a[0], name, sizeof(name)) < 0)
		return valid(a[0], 1, 0) == V_NO;
	if (SYSCALL(SYS_MODULE_READ, a[0], 0, arena, 0, 0) < 0)
		return 1; /* no such program */
	if (nkids(0) >= MAX_CHILDREN)
		return 0;
	int v = valid(a[1], a[2], 0);
	if (a[2] && v == V_NO)
		return 1;
	if (strcmp(name, "hello") == 0)
		return a[2] == 0 && below(8) == 0; /* it prints a line */
	if (strcmp(name, "fuzz") != 0 || a[2] < 6 || v != V_YES)
		return 0;
	memcpy(args, (const void *)a[1], 6);
	return memcmp(args, "quiet", 6) == 0;
}

static int
create_ok(const uint32_t a[5])
{
	char name[QS_NAME_MAX];
	if (our_str(a[0], name, sizeof(name)) < 0)
		return valid(a[0], 1, 0) == V_NO;
	for (const char *c = name; *c; c++)
		if (*c <= ' ' || *c > '~')
			return 1;
	if (!name[0] || a[1] > QS_SQ_DEPTH_MAX)
		return 1;
	return run_queue(name) && nqueues() < MAX_QUEUES;
}

static int
request_ok(const uint32_t a[5])
{
	const qs_sq_info_t *q = queue_of(a[0]);
	return !q || q->owner == mypid || (run_queue(q->name) && q->qid != ctl_qid) ||
	       known_bad_msg(a[1]);
}

static int
call_ok(const uint32_t a[5])
{
	return known_bad_rbuf(a[2], a[3]) || request_ok(a);
}

static int
sbrk_ok(const uint32_t a[5])
{
	int32_t n = (int32_t)a[0];
	return n <= 0 || (uint32_t)n > HEAP_MAX - brk_now ||
	       brk_now + (uint32_t)n <= arena_end + SBRK_ROOM;
}

static int
kfault_ok(const uint32_t a[5])
{
	(void)a;
	return !kfault_on;
}

/*
 * UNGUARDED: calls that any process may make today and that take the node
 * down or break the test run, not by a kernel bug but because no rights
 * model refuses them yet (or no quota limits them). They are filtered out
 * here, and only here (allowed()). When the rights model (issue 16) makes
 * them fail with QS_EPERM (or a quota error), their line goes and the
 * fuzzer makes them too. Each ok() says whether a call is fine anyway:
 * refused for another reason first, or aimed at what the child owns.
 *
 * Not here, so fuzzed with any arguments: what the kernel keeps to its
 * holders and refuses the child (QS_EPERM, docs/security.md): SYS_HALT,
 * SYS_KILL of a process not its own, priorities above the servers'
 * (SYS_SET_PRIORITY, SYS_THREAD_CREATE), SYS_SQ_OFFER on a queue not its
 * own, SYS_GRANT (init's),
 * SYS_MMIO_MAP, SYS_DMA_ALLOC and SYS_IRQ_WAIT (a driver's, by grant),
 * SYS_TX_END (the TM's), SYS_SQ_PROXY and SYS_SQ_INJECT (the network
 * agent's, which the child cannot become: kernel.net is not its name).
 */
static const struct {
	int nr;
	int (*ok)(const uint32_t a[5]);
	const char *why;
} UNGUARDED[] = {
	{ SYS_SPAWN, spawn_ok, "of another program than fuzz quiet (init, a "
			       "server...), or past MAX_CHILDREN: no quota" },
	{ SYS_SQ_CREATE, create_ok, "of a name not its own (a server's; kernel.deaths "
				    "makes it the TM, kernel.net the network agent), "
				    "or past MAX_QUEUES: no quota" },
	{ SYS_SQ_CALL, call_ok, "to a server's queue: the servers' protocols and "
				"state are not this test's (the TM's, the fs's...)" },
	{ SYS_SQ_SEND, request_ok, "to a server's queue, as above" },
	{ SYS_SBRK, sbrk_ok, "past SBRK_ROOM: no page quota" },
	{ SYS_KERNEL_FAULT, kfault_ok, "when booted with kfault=1" },
};

static int
allowed(int nr, const uint32_t a[5])
{
	for (size_t i = 0; i < sizeof(UNGUARDED) / sizeof(UNGUARDED[0]); i++)
		if (UNGUARDED[i].nr == nr && !UNGUARDED[i].ok(a))
			return 0;
	return 1;
}

/*
 * What would make the child wait for ever, or write over itself, by its
 * own doing rather than the kernel's: not a kernel bug, so not made.
 */
static int
harmless(int nr, const uint32_t a[5])
{
	const qs_sq_info_t *q;
	int32_t n;

	switch (nr) {
	case SYS_KILL: /* itself now and then: an end of the child */
		return a[0] != (uint32_t)mypid || below(8) == 0;
	case SYS_WAIT: /* for ever, on a child that waits to be resumed */
		return (a[2] & QS_WAIT_NOHANG) || a[2] > 1 || !nkids(1);
	case SYS_SET_PRIORITY:
		return (int)a[0] != watchdog_tid;
	case SYS_THREAD_CREATE: /* a thread runs our helper on a free stack */
		if (valid(a[0], 1, 0) == V_NO || a[2] < 8 ||
		    valid((a[2] & ~15u) - 8, 8, 1) == V_NO || (int32_t)a[3] < 0 ||
		    a[3] > QS_PRIO_MAX)
			return 1;
		return a[0] == U(helper_entry) && a[1] < NSLOT &&
		       a[2] == slot_top((int)a[1]) && slots[a[1]].state == S_FREE;
	case SYS_SBRK: /* never below the arena */
		n = (int32_t)a[0];
		if (n < 0 && -(uint32_t)n > brk_now - brk_start)
			return 1;
		return (int64_t)brk_now + n >= arena_end;
	case SYS_CONS_WRITE: /* quiet: what fails, or now and then a word */
		return a[1] == 0 || valid(a[0], a[1], 0) == V_NO ||
		       (a[1] <= 4 && a[0] == U(rodata_text) && below(16) == 0);
	case SYS_SQ_OFFER: /* the main thread offers only to fail */
		q = queue_of(a[0]);
		return !q || valid(a[1], 1, 0) == V_NO || a[2] < 64 ||
		       valid(a[2] - 64, 64, 1) == V_NO || known_bad_rbuf(a[3], a[4]);
	case SYS_SQ_CALL: /* waits for ever on a queue nobody serves */
		if (known_bad_rbuf(a[2], a[3]) || known_bad_msg(a[1]))
			return 1;
		q = queue_of(a[0]);
		return !q || (q->owner == mypid && q->idle + q->busy > 0);
	default:
		return 1;
	}
}

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
	switch (below_of(&s->rng, 10)) {
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
	if (k < 20 && (req->hdr.opcode & OP_ASYNC)) {
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

static int
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

/* ---- the parent ---------------------------------------------------------- */

typedef struct {
	int pid;
	uint32_t seed, calls, start_ms;
	volatile uint32_t made, ended;
	int hung;
} run_t;

static run_t runs[16];

static int32_t
ctl_handler(const qs_msg_t *req, qs_msg_t *reply, void *ctx)
{
	const report_t *r = QS_MSG_AS(req, report_t);
	(void)reply;
	(void)ctx;
	for (int i = 0; r && i < 16; i++)
		if (runs[i].pid == (int)r->pid && r->made <= runs[i].calls) {
			runs[i].made = r->made;
			runs[i].ended |= r->ended;
		}
	return 0;
}

static void *
ctl_thread(void *arg)
{
	return (void *)(intptr_t)qs_serve((int)(intptr_t)arg, ctl_handler, NULL, 1);
}

static uint64_t pseed;

static int
spawn_child(run_t *c, uint32_t calls, int ctl)
{
	char s[16], n[16], p[16], q[16];
	const char *argv[] = { "child", s, n, p, q, trace ? "t" : NULL, NULL };
	c->seed = rnd_of(&pseed);
	c->calls = calls;
	c->made = c->ended = 0;
	c->hung = 0;
	snprintf(s, sizeof(s), "%u", c->seed);
	snprintf(n, sizeof(n), "%u", calls);
	snprintf(p, sizeof(p), "%d", qs_getpid());
	snprintf(q, sizeof(q), "%d", ctl);
	c->start_ms = qs_uptime_ms();
	c->pid = qs_spawn("fuzz", argv, 0);
	printf("fuzz: child %d: seed %u, %u calls\n", c->pid, c->seed, calls);
	return c->pid;
}

/* The level before the run: the same twice in a row (the servers may still
 * be busy with what ran before, e.g. the TM with death notices). */
static void
quiet_level(qs_mem_info_t *m)
{
	qs_mem_info_t prev = { 0 };
	uint32_t t0 = qs_uptime_ms();
	for (;;) {
		qs_mem_info(m);
		if ((m->free_pages == prev.free_pages && m->heap_bytes == prev.heap_bytes) ||
		    qs_uptime_ms() - t0 > LEVEL_MS)
			return;
		prev = *m;
		qs_sleep(20);
	}
}

/* Waits (polling, with a deadline) for pages and heap to be back where they
 * were, or better; a leak stays. */
static int
level_back(const qs_mem_info_t *m0, qs_mem_info_t *m)
{
	uint32_t t0 = qs_uptime_ms();
	do {
		qs_mem_info(m);
		if (m->free_pages >= m0->free_pages && m->heap_bytes <= m0->heap_bytes)
			return 1;
		qs_sleep(50);
	} while (qs_uptime_ms() - t0 < LEVEL_MS);
	return 0;
}

static int
parent(uint32_t seed, uint32_t calls, int par)
{
	char name[QS_NAME_MAX];
	qs_mem_info_t m0, m;
	uint32_t left = calls, total = 0, faults = 0, hung = 0, early = 0;
	uint32_t nchildren = 0, stuck = 0;
	int running = 0, status;

	pseed = seed;
	if (par < 1 || par > 16)
		par = 2;
	snprintf(name, sizeof(name), "fz%d.ctl", qs_getpid());
	int ctl = qs_sq_create(name, 64);
	qs_thread_t *t = ctl > 0 ? qs_thread_create(ctl_thread, (void *)(intptr_t)ctl) : NULL;
	if (!t) {
		check(0, "control queue");
		return check_summary("fuzz");
	}
	/* the levels are taken with the control queue's server in place */
	const qs_sq_info_t *cq = NULL;
	for (uint32_t t0 = qs_uptime_ms(); qs_uptime_ms() - t0 < LEVEL_MS; qs_sleep(1)) {
		qlist();
		if ((cq = qfind(ctl)) && cq->idle == 1)
			break;
	}
	quiet_level(&m0);
	printf("fuzz: seed %u, %u calls, %d at a time; %u free pages, heap %u\n",
	       seed, calls, par, m0.free_pages, m0.heap_bytes);
	uint32_t t0 = qs_uptime_ms();
	for (;;) {
		for (int i = 0; i < par && left && stuck < 32; i++) {
			if (runs[i].pid)
				continue;
			uint32_t n = left < SLICE ? left : SLICE;
			if (spawn_child(&runs[i], n, ctl) < 0) {
				runs[i].pid = 0;
				stuck++;
				continue;
			}
			left -= n;
			running++;
			nchildren++;
		}
		if (!running)
			break;
		int pid = qs_waitpid(-1, &status, QS_WAIT_NOHANG);
		run_t *c = NULL;
		for (int i = 0; pid > 0 && i < par; i++)
			if (runs[i].pid == pid)
				c = &runs[i];
		if (!c) {
			for (int i = 0; i < par; i++) {
				run_t *h = &runs[i];
				if (h->pid && !h->hung &&
				    qs_uptime_ms() - h->start_ms > HANG_MS) {
					printf("fuzz: child %d (seed %u) hung after %u calls\n",
					       h->pid, h->seed, h->made);
					h->hung = 1;
					hung++;
					qs_kill(h->pid);
				}
			}
			qs_sleep(10);
			continue;
		}
		if ((status & QS_STATUS_FAULT) && !c->hung) {
			printf("fuzz: child %d (seed %u) died of fault %d after %u calls\n",
			       pid, c->seed, status & 0xFF, c->made);
			faults++;
		}
		total += c->made;
		early += c->made < c->calls;
		left += c->calls - c->made;
		stuck = c->made ? 0 : stuck + 1;
		c->pid = 0;
		running--;
	}
	uint32_t dt = qs_uptime_ms() - t0;
	/* as at the start: the control queue and its thread still here */
	int back = level_back(&m0, &m);
	qs_sq_destroy(ctl);
	qs_thread_join(t);
	printf("fuzz: %u calls by %u children (%u ended early) in %u ms: %u calls/s\n",
	       total, nchildren, early, dt, dt ? (uint32_t)((uint64_t)total * 1000 / dt) : 0);
	check(hung == 0, "no child hung");
	check(faults == 0, "no child died of a fault");
	check(total >= calls, "every call made");
	if (!back)
		printf("fuzz: free pages %u (was %u), heap %u (was %u)\n",
		       m.free_pages, m0.free_pages, m.heap_bytes, m0.heap_bytes);
	check(m.free_pages >= m0.free_pages, "no leaked pages");
	check(m.heap_bytes <= m0.heap_bytes, "kernel heap back to its level");
	return check_summary("fuzz");
}

static int32_t
echo_handler(const qs_msg_t *req, qs_msg_t *reply, void *ctx)
{
	(void)ctx;
	qs_msg_put(reply, req->data, req->hdr.len < 64 ? req->hdr.len : 64);
	return (int32_t)req->hdr.opcode & 0xFF;
}

/* What a child spawns: exit, or first call (c), serve (s) a queue of the
 * child's, or wait a little (w): to be killed or orphaned meanwhile. */
static int
quiet(int argc, char **argv)
{
	static qs_msg_t m, r;
	static volatile uint32_t never;
	int qid = argc >= 4 ? atoi(argv[3]) : 0;

	if (argc < 4)
		return 0;
	switch (argv[2][0]) {
	case 'c':
		qs_msg_init(&m, 5);
		m.hdr.len = 100;
		return qs_call(qid, &m, &r, sizeof(r)) & 0xFF;
	case 's':
		return qs_serve(qid, echo_handler, NULL, 1) & 0xFF;
	case 'w':
		return qs_futex_wait(&never, 0, 200) & 0xFF;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	long calls, par = 2, pp, ctl;
	char *end = NULL;
	uint32_t seed = argc >= 3 ? (uint32_t)strtoul(argv[argc >= 6 ? 2 : 1], &end, 0) : 0;
	int seed_ok = end && *end == 0;

	if (argc >= 2 && strcmp(argv[1], "quiet") == 0)
		return quiet(argc, argv);
	if (argc >= 6 && strcmp(argv[1], "child") == 0 && seed_ok &&
	    qs_parse_int(argv[3], &calls) == 0 &&
	    qs_parse_int(argv[4], &pp) == 0 && qs_parse_int(argv[5], &ctl) == 0) {
		trace = argc >= 7 && argv[6][0] == 't';
		return child(seed, (uint32_t)calls, (int)pp, (int)ctl);
	}
	trace = argc == 5 && argv[4][0] == 't';
	if (argc >= 3 && argc <= 5 && seed_ok &&
	    qs_parse_int(argv[2], &calls) == 0 && calls > 0 &&
	    (argc < 4 || qs_parse_int(argv[3], &par) == 0))
		return parent(seed, (uint32_t)calls, (int)par);
	printf("usage: fuzz SEED CALLS [CHILDREN [t]]\n");
	return 2;
}
