/*
 * What the fuzz leaves out: allowed() (what only a rights model or a quota
 * will refuse, the UNGUARDED table) and harmless() (what would only make the
 * child wait for ever, or write over itself, by its own doing).
 */
#include <stdio.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include "fuzz.h"


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

int
known_bad_rbuf(uint32_t b, uint32_t cap)
{
	return cap < sizeof(qs_msg_hdr_t) || cap > (1u << 20) ||
	       valid(b, cap, 1) == V_NO;
}

int
kid(int pid)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (pid && kids[i].pid == pid)
			return i;
	return -1;
}

int
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

const qs_sq_info_t *
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
	/* names the kernel keeps from it: a server's, kernel.*, NAME@N */
	if (qs_name_holder(name) > 0 || strncmp(name, "kernel.", 7) == 0 ||
	    strchr(name, '@'))
		return 1;
	return run_queue(name) && nqueues() < MAX_QUEUES;
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
 * UNGUARDED: calls left out for the test run's sake, not the kernel's. The
 * kernel refuses or bounds each of them (docs/security.md): a program and
 * every process it starts are one job, which spawn, queues and memory are
 * charged to (test_authority.py exhausts each), and reserved names are
 * refused. The filter keeps the run itself sane:
 *   - spawn: another program would run code of its own (a server, a test)
 *     that is not this test's subject; MAX_CHILDREN is the fuzz's table;
 *   - queue names: outside the run's own (fz<ppid>.), a name the kernel
 *     does not keep could be one another test needs; names it keeps (a
 *     server's, kernel.*, NAME@N) are made, and refused;
 *   - sbrk past SBRK_ROOM: the children share their job's pages with the
 *     parent, which must keep the memory it checks the level with.
 * Each ok() says whether a call is fine anyway: refused for another reason
 * first, or aimed at what the child owns.
 *
 * Not here, so fuzzed with any arguments: what the kernel keeps to its
 * holders and refuses the child (QS_EPERM, docs/security.md): SYS_HALT,
 * SYS_KILL of a process not its own, priorities above the servers'
 * (SYS_SET_PRIORITY, SYS_THREAD_CREATE), SYS_SQ_OFFER on a queue not its
 * own, SYS_GRANT (init's), SYS_CONS_READ (the shell's),
 * SYS_MMIO_MAP, SYS_DMA_ALLOC and SYS_IRQ_WAIT (a driver's, by grant),
 * SYS_TX_END (the TM's), SYS_SQ_PROXY and SYS_SQ_INJECT (the network
 * agent's, which the child cannot become: kernel.net is not its name),
 * SYS_NET_KEY (the CM's); and SYS_SQ_CALL and SYS_SQ_SEND to any queue, the
 * servers' included (srv.c), since every server checks what it is sent
 * (qs/serve.h).
 */
static const struct {
	int nr;
	int (*ok)(const uint32_t a[5]);
	const char *why;
} UNGUARDED[] = {
	{ SYS_SPAWN, spawn_ok, "of another program than fuzz quiet, or past "
			       "MAX_CHILDREN: its code is not this test's" },
	{ SYS_SQ_CREATE, create_ok, "of a name outside the run's that the kernel "
				    "does not keep, or past MAX_QUEUES" },
	{ SYS_SBRK, sbrk_ok, "past SBRK_ROOM: the parent shares the job's pages" },
	{ SYS_KERNEL_FAULT, kfault_ok, "when booted with kfault=1" },
};

int
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
int
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
	case SYS_SQ_SEND: /* the parent's control queue: the run's accounts */
		return a[0] != (uint32_t)ctl_qid || known_bad_msg(a[1]);
	case SYS_SQ_CALL: /* waits for ever on a queue nobody serves (a server
			     always answers, at once or by a deadline) */
		if (known_bad_rbuf(a[2], a[3]) || known_bad_msg(a[1]))
			return 1;
		q = queue_of(a[0]);
		return !q || (q->owner == mypid && q->idle + q->busy > 0) ||
		       (srv_queue(a[0]) && a[0] != (uint32_t)ctl_qid);
	default:
		return 1;
	}
}
