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
 *   fuzz quiet                   exits at once: what the fuzz spawns
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
 * few helper threads (futex waits, sleeps), and a watchdog thread that
 * destroys a queue of its own left with requests and no server (a call
 * there would wait for ever, by design). The calls avoid the child's own
 * image and stack: every pointer it passes is into its scratch arena, the
 * read-only ELF header, or somewhere unmapped or kernel-only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/thread.h>
#include "check.h"

#define SLICE 2500
#define REPORT_EVERY 256
#define HANG_MS 120000      /* a child's deadline (it takes seconds) */
#define LEVEL_MS 60000      /* for pages and heap to come back */
#define NSLOT 4             /* server and helper threads */
#define SLOT_STACK 8192
#define SLOT_RBUF (sizeof(qs_msg_t) + 8192)
#define ARENA (96 * 1024)
#define MAX_CHILDREN 8      /* spawned and not yet waited for */
#define MAX_QUEUES 6
#define SBRK_ROOM (8u << 20) /* how far past the arena the break may go */
#define OP_ASYNC 0x80000000u /* in a request's opcode: sent, not called */
#define KERNEL_ADDR 0x00100000u
#define UNMAPPED 0x90000000u
#define STACK_TOP 0xC0000000u
#define STACK_LOW (STACK_TOP - 0x40000u) /* below the 128 KiB stack, margin */
#define HEAP_MAX 0xB0000000u

typedef struct {
	uint32_t pid, made, ended;
} report_t;

/* ---- the PRNG (splitmix64) ------------------------------------------- */

static uint64_t rng;

static uint32_t
rnd_of(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

static uint32_t rnd(void) { return rnd_of(&rng); }
static uint32_t below(uint32_t n) { return n ? rnd() % n : 0; }
static uint32_t below_of(uint64_t *s, uint32_t n) { return n ? rnd_of(s) % n : 0; }

/* ---- the child's state ------------------------------------------------ */

enum { S_FREE, S_SERVER, S_HELPER };

typedef struct {
	uint8_t stack[SLOT_STACK];
	uint8_t rbuf[SLOT_RBUF];
	qs_msg_t reply;
} slot_mem_t;

typedef struct {
	volatile uint32_t state;
	volatile int tid;
	uint64_t rng;
	uint32_t errors;
	slot_mem_t *mem;
} slot_t;

static slot_t slots[NSLOT];
static uint8_t *arena;
static uint32_t brk_start, arena_end, brk_now; /* the break */
static int mypid, ppid, ctl_qid, watchdog_tid, main_tid;
static volatile uint32_t ending;
static volatile int own_q[MAX_QUEUES];
static volatile uint32_t deferred[32]; /* rids a handler deferred */
static volatile uint32_t fwords[4];    /* helpers' futex words */
static uint32_t recent_rid[16];
static struct {
	int pid;
	int suspended; /* or may wait a while (a role other than exit) */
} kids[MAX_CHILDREN];
static uint64_t txs[10];
static uint32_t made, qname_seq;
static int kfault_on, trace, reserved = -1;
static int good; /* this call's arguments are meant to pass the checks */
static qs_sq_info_t qinfo[64];
static int nqinfo;
static uint8_t watchdog_stack[4096];
static const char rodata_text[64] = "read-only text for the fuzzer";

void helper_entry(uint32_t idx) __attribute__((noreturn));
void server_entry(uint32_t idx) __attribute__((noreturn));
void handler_entry(qs_msg_t *req) __attribute__((noreturn));

#define U(x) ((uint32_t)(uintptr_t)(x))
#define SYSCALL(n, a, b, c, d, e) \
	qs_syscall(n, (uint32_t)(a), (uint32_t)(b), (uint32_t)(c), (uint32_t)(d), (uint32_t)(e))

/* The thread gives its slot back and ends, using no stack after that. */
static void __attribute__((noreturn))
slot_end(slot_t *s)
{
	__asm__ volatile("movl %1, (%%ebx)\n"
			 "int $0x80\n"
			 :
			 : "a"(SYS_THREAD_EXIT), "i"(S_FREE), "b"(&s->state)
			 : "memory");
	__builtin_unreachable();
}

static uint32_t
cas(volatile uint32_t *p, uint32_t old, uint32_t new)
{
	return __sync_val_compare_and_swap(p, old, new);
}

/* ---- what is mapped: pointers are judged against the child's layout --- */

enum { V_NO, V_YES, V_MAYBE };

static uint32_t
mapped_end(void)
{
	return (brk_now + 4095) & ~4095u;
}

/* Would the kernel accept [p, p+len) for reading (or writing)? */
static int
valid(uint32_t p, uint32_t len, int write)
{
	if (p < QS_USER_BASE || p >= QS_USER_TOP || len > QS_USER_TOP - p)
		return V_NO;
	if (len == 0)
		return V_YES;
	uint32_t end = p + len;
	uint32_t a = U(arena);
	if (p >= a && end <= mapped_end())
		return V_YES;
	if (!write && ((p >= U(rodata_text) && end <= U(rodata_text) + 64) ||
		       end <= QS_USER_BASE + 4096))
		return V_YES;
	if (write && end <= QS_USER_BASE + 4096)
		return V_NO;
	/* touches a page nothing maps: past the break and below the stack,
	 * or above the stack */
	uint32_t lo = p & ~4095u;
	if ((lo < STACK_LOW && end > mapped_end()) || end > STACK_TOP)
		return V_NO;
	return V_MAYBE;
}

/* Our image, bss and stack: a random value must never point there. */
static int
ours(uint32_t v)
{
	return (v >= QS_USER_BASE + 4096 && v < U(arena)) ||
	       (v >= STACK_LOW - 0x10000 && v < STACK_TOP);
}

/* ---- argument generators ---------------------------------------------- */

static const uint32_t edges[] = {
	0, 1, 2, 3, 4, 7, 8, 0x7F, 0x80, 0xFF, 0x100, 0xFFF, 0x1000, 0x1001,
	0x7FFFFFFF, 0x80000000, 0x80000001, 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFF000,
	KERNEL_ADDR, 0xB8000, QS_USER_BASE - 1, QS_USER_TOP, QS_USER_TOP - 1,
	QS_USER_TOP - 4, UNMAPPED, STACK_TOP, 0xD0000000, 0xE0000000, HEAP_MAX,
};

static uint32_t
any(void)
{
	uint32_t v;
	switch (below(4)) {
	case 0: v = edges[below(sizeof(edges) / 4)]; break;
	case 1: v = below(256); break;
	case 2: v = -below(256); break;
	default: v = rnd(); break;
	}
	return ours(v) ? UNMAPPED + (v & 0xFFFF) : v;
}

static uint32_t
ptr(void)
{
	uint32_t a = U(arena);
	switch (below(16)) {
	case 0: case 1: case 2: case 3: return a + below(ARENA);
	case 4: return a + (below(ARENA) & ~15u);
	case 5: return a + ARENA - below(64);
	case 6: return a + 4096 * (1 + below(ARENA / 4096 - 1)) - below(8);
	case 7: return U(rodata_text) + below(64);
	case 8: return QS_USER_BASE + below(64);
	case 9: return KERNEL_ADDR + below(4096);
	case 10: return edges[below(3)] ? 0xFFFFFFFF : below(2);
	case 11: return UNMAPPED + below(4096);
	case 12: return QS_USER_TOP - below(8);
	case 13: return STACK_TOP + below(64);
	case 14: return mapped_end() - below(16);
	default: return any();
	}
}

/* Room for n bytes in the arena (n is small in good calls). */
static uint32_t
buf(uint32_t n)
{
	n = n < ARENA ? n : ARENA;
	return U(arena) + (below(ARENA - n + 1) & ~3u);
}

static uint32_t
len(void)
{
	if (good)
		return below(2) ? below(64) : below(4097);
	static const uint32_t l[] = { 0, 1, 4, 8, 39, 40, 41, 511, 512, 513,
				      4095, 4096, 4097, 8191, 8192, 65535,
				      65536, 65537, 1u << 20, (1u << 20) + 1 };
	switch (below(8)) {
	case 0: case 1: case 2: return below(64);
	case 3: return below(4097);
	case 4: return l[below(sizeof(l) / 4)];
	case 5: return 4064 + below(33) + 4096 * below(17); /* near a page */
	case 6: return below(ARENA);
	default: return any();
	}
}

static uint32_t
ms(void)
{
	static const uint32_t m[] = { (uint32_t)-1, (uint32_t)-2, 0x80000000,
				      0, 1, 1000, 0x7FFFFFFF };
	return below(2) ? below(20) : m[below(sizeof(m) / 4)];
}

static uint32_t
count_arg(void)
{
	static const uint32_t c[] = { 0, 1, 4, 16, 64, 1024, 1025, 0x10000000 };
	if (good)
		return below(64);
	return below(4) ? c[below(sizeof(c) / 4)] : any();
}

static uint32_t
prio(void)
{
	static const uint32_t p[] = { (uint32_t)-1, 8, 99, 0x80000000 };
	if (good)
		return below(QS_PRIO_DEFAULT + 1);
	return below(4) ? below(8) : p[below(4)];
}

static uint32_t
flags(void)
{
	static const uint32_t f[] = { 0, 0, 0, 1, 1, 2, 3, 0x80, 0xFFFFFFFF };
	if (good)
		return below(2);
	return below(8) ? f[below(sizeof(f) / 4)] : any();
}

/* A string at a random place in the arena (or cut off by its end). */
static uint32_t
put_str(const char *s)
{
	uint32_t n = strlen(s) + 1;
	if (below(16) == 0) { /* no NUL before the arena ends */
		n--;
		memcpy(arena + ARENA - n, s, n);
		return U(arena) + ARENA - n;
	}
	if (below(8) == 0)
		return U(rodata_text); /* read-only */
	uint32_t off = below(ARENA - n);
	memcpy(arena + off, s, n);
	return U(arena) + off;
}

static int
qlist(void)
{
	int n = qs_sq_list(qinfo, 64);
	nqinfo = n < 0 ? 0 : n;
	return nqinfo;
}

static const qs_sq_info_t *
qfind(int qid)
{
	for (int i = 0; i < nqinfo; i++)
		if (qinfo[i].qid == qid)
			return &qinfo[i];
	return NULL;
}

/* Ours or a sibling's (same parent): "fzPPID." */
static int
run_queue(const char *name)
{
	char pre[16];
	snprintf(pre, sizeof(pre), "fz%d.", ppid);
	return strncmp(name, pre, strlen(pre)) == 0;
}

static uint32_t
queue_name(void)
{
	static const char *const fixed[] = {
		"echo", "tm", "fs", "kernel.deaths", "kernel.net", "echo@0",
		"nosuch@3", "x@", "@1", "fz@99999", "", "a b", "\x01x",
		"fz.thirty-one-characters-long.x",
		"fz.thirty-two-characters-long.xy", "no.such.queue",
	};
	char buf[48];
	switch (good ? below(5) : below(8)) {
	case 0: case 1: case 2:
		snprintf(buf, sizeof(buf), "fz%d.%d.%u", ppid, mypid, ++qname_seq);
		return put_str(buf);
	case 3: case 4:
		if (qlist() > 0) {
			const qs_sq_info_t *q = &qinfo[below(nqinfo)];
			if (run_queue(q->name) || below(4) == 0)
				return put_str(q->name);
		}
		/* fall through */
	case 5: case 6:
		return put_str(fixed[below(sizeof(fixed) / sizeof(fixed[0]))]);
	default:
		return ptr();
	}
}

static uint32_t
prog_name(void)
{
	static const char *const p[] = { "fuzz", "fuzz", "fuzz", "hello",
					 "nosuch", "init.conf", "", "tm" };
	return below(8) ? put_str(p[below(8)]) : ptr();
}

static uint32_t
key_name(void)
{
	static const char *const k[] = { "node", "incarnation", "conf",
					 "kfault", "nosuchkey", "" };
	return below(8) ? put_str(k[below(6)]) : ptr();
}

static uint32_t
pick_qid(void)
{
	switch (good ? 0 : below(8)) {
	case 0: case 1: case 2: case 3: {
		int q = own_q[below(MAX_QUEUES)];
		if (q)
			return (uint32_t)q;
	}	/* fall through */
	case 4:
		if (qlist() > 0)
			return (uint32_t)qinfo[below(nqinfo)].qid;
		/* fall through */
	case 5: return below(64);
	default: return any();
	}
}

static uint32_t
pick_pid(void)
{
	switch (good ? below(3) : below(8)) {
	case 0: case 1: case 2: {
		int p = kids[below(MAX_CHILDREN)].pid;
		if (p)
			return (uint32_t)p;
	}	/* fall through */
	case 3: return (uint32_t)(below(2) ? ppid : 1);
	case 4: return (uint32_t)mypid;
	case 5: return below(200);
	default: return any();
	}
}

static uint32_t
pick_tid(void)
{
	switch (below(6)) {
	case 0: case 1: return (uint32_t)slots[below(NSLOT)].tid;
	case 2: return below(2) ? 0 : (uint32_t)main_tid;
	case 3: return below(300);
	default: return any();
	}
}

static uint32_t
pick_rid(void)
{
	switch (good ? below(3) : below(6)) {
	case 0: case 1: return recent_rid[below(16)];
	case 2:
		for (uint32_t i = 0, j = below(32); i < 32; i++)
			if (deferred[(i + j) % 32])
				return deferred[(i + j) % 32];
		return 0;
	case 3: return 0;
	default: return any();
	}
}

static void
pick_tx(uint32_t *a, uint32_t *b)
{
	uint64_t t = txs[below(10)];
	qs_node_info_t ni = { 0 };
	switch (below(5)) {
	case 0: t = 0; break;
	case 1: qs_node_info(&ni);
		t = QS_TX(ni.node_id, ni.incarnation, below(1000)); break;
	case 2: t = ((uint64_t)any() << 32) | any(); break;
	default: break;
	}
	*a = (uint32_t)t;
	*b = (uint32_t)(t >> 32);
}

static uint32_t
slot_top(int i)
{
	return U(slots[i].mem->stack) + SLOT_STACK;
}

static uint32_t
stack_arg(void)
{
	static const uint32_t s[] = { 0, 7, 8, 63, 64, KERNEL_ADDR, UNMAPPED,
				      STACK_TOP + 4096, QS_USER_TOP };
	if (!good && below(3) == 0)
		return s[below(sizeof(s) / 4)];
	if (below(8) == 0)
		return ptr();
	return slot_top(below(NSLOT));
}

static uint32_t
entry_arg(uint32_t right)
{
	static const uint32_t e[] = { 0, KERNEL_ADDR, UNMAPPED, QS_USER_TOP,
				      0xFFFFFFFF };
	if (!good && below(4) == 0)
		return below(2) ? e[below(5)] : ptr();
	return right;
}

/* A message in the arena with random, often edge, sizes. */
static uint32_t
msg(int async)
{
	if (!good && below(12) == 0)
		return ptr();
	uint32_t off = below(ARENA - sizeof(qs_msg_hdr_t));
	if (below(2))
		off &= ~3u;
	qs_msg_hdr_t h;
	for (uint32_t i = 0; i < sizeof(h) / 4; i++)
		((uint32_t *)&h)[i] = any();
	h.opcode = (rnd() & ~OP_ASYNC) | (async ? OP_ASYNC : 0);
	if (good) { /* it fits in the arena, inline and out of line */
		h.len = below(2) ? below(256) : below(QS_MSG_INLINE + 1);
		h.ool_len = below(2) ? 0 : below(2) ? below(4096) : below(QS_MSG_OOL_MAX + 1);
		h.ool = buf(h.ool_len);
		off = buf(sizeof(h) + h.len) - U(arena);
		memcpy(arena + off, &h, sizeof(h));
		return U(arena) + off;
	}
	switch (below(6)) {
	case 0: h.len = 0; break;
	case 1: h.len = below(64); break;
	case 2: h.len = below(QS_MSG_INLINE + 1); break;
	case 3: h.len = 4064 + below(40); break;
	case 4: h.len = below(2) ? QS_MSG_INLINE : QS_MSG_INLINE + 1; break;
	default: h.len = below(4) ? 0 : any(); break;
	}
	switch (below(7)) {
	case 0: case 1: case 2: h.ool_len = 0; break;
	case 3: h.ool_len = below(4096); break;
	case 4: h.ool_len = below(QS_MSG_OOL_MAX + 2); break;
	case 5: h.ool_len = 4064 + below(40) + 4096 * below(16); break;
	default: h.ool_len = any(); break;
	}
	h.ool = below(4) ? U(arena) + below(ARENA) : ptr();
	memcpy(arena + off, &h, sizeof(h));
	return U(arena) + off;
}

static uint32_t
cap_arg(void)
{
	static const uint32_t c[] = { 0, 39, 40, 41, sizeof(qs_msg_t),
				      sizeof(qs_msg_t) + QS_MSG_OOL_MAX,
				      1u << 20, (1u << 20) + 1, 0xFFFFFFFF };
	if (good)
		return below(2) ? 40 + below(4096) : sizeof(qs_msg_t) + below(16384);
	switch (below(4)) {
	case 0: return c[below(sizeof(c) / 4)];
	case 1: return below(ARENA);
	default: return 40 + below(sizeof(qs_msg_t) + 4096);
	}
}

static uint32_t
args_block(uint32_t *arglen)
{
	uint32_t off = below(ARENA - 600);
	uint32_t n = 0;
	if (below(4)) {
		memcpy(arena + off, "quiet", 6);
		n = 6;
		if (below(2)) { /* a role: call, serve or wait (see quiet()) */
			int qid = own_q[below(MAX_QUEUES)];
			n += (uint32_t)snprintf((char *)arena + off + n, 32, "%c", "csw"[below(3)]) + 1;
			n += (uint32_t)snprintf((char *)arena + off + n, 32, "%d", qid) + 1;
		}
		for (uint32_t k = below(4); k--;) {
			uint32_t w = below(12);
			for (uint32_t i = 0; i < w && n < 500; i++)
				arena[off + n++] = 'a' + below(26);
			arena[off + n++] = 0;
		}
	}
	switch (below(6)) {
	case 0: *arglen = below(600); break;
	case 1: *arglen = below(2) ? 512 : 513; break;
	case 2: *arglen = any(); break;
	default: *arglen = n; break;
	}
	return below(8) ? U(arena) + off : ptr();
}

static uint32_t
sbrk_arg(void)
{
	static const uint32_t s[] = { 0, 1, (uint32_t)-1, 0x7FFFFFFF, 0x80000000,
				      0x10000000, (uint32_t)-0x10000000 };
	switch (below(5)) {
	case 0: return s[below(sizeof(s) / 4)];
	case 1: return below(8192);
	case 2: return 4096 * below(64);
	case 3: return -below(8192);
	default: return -(4096 * below(16));
	}
}

static uint32_t
futex_arg(void)
{
	switch (below(6)) {
	case 0: case 1: case 2: return U(&fwords[below(4)]);
	case 3: return U(&fwords[below(4)]) + 1 + below(3);
	case 4: return U(arena) + (below(ARENA) & ~3u);
	default: return ptr();
	}
}

/* Syscall numbers, weighted: the ends of a child come rarely. */
static int
pick_nr(void)
{
	uint32_t r = below(1000);
	if (r < 20)
		return below(2) ? (int)(SYS_COUNT + below(20)) : (int)any();
	if (r < 21)
		return below(2) ? SYS_EXIT : SYS_THREAD_EXIT;
	int nr;
	do
		nr = 2 + (int)below(SYS_COUNT - 2);
	while (nr == SYS_THREAD_EXIT);
	return nr;
}

/* A buffer of n bytes: with room in good calls, anywhere otherwise. */
static uint32_t
room(uint32_t n)
{
	return good ? buf(n) : ptr();
}

static void
gen(int nr, uint32_t a[5])
{
	good = below(2);
	for (int i = 0; i < 5; i++)
		a[i] = below(4) || good ? 0 : any();
	if (!good && below(16) == 0)
		return; /* all random */
	switch (nr) {
	case SYS_EXIT: a[0] = rnd(); break;
	case SYS_SPAWN: a[0] = prog_name(); a[1] = args_block(&a[2]); a[3] = flags(); break;
	case SYS_WAIT: a[0] = pick_pid(); a[1] = room(4); a[2] = flags(); break;
	case SYS_KILL: case SYS_RESUME: a[0] = pick_pid(); break;
	case SYS_THREAD_CREATE:
		a[0] = entry_arg(U(helper_entry)); a[1] = below(NSLOT);
		a[2] = stack_arg(); a[3] = prio(); break;
	case SYS_SLEEP: a[0] = ms(); break;
	case SYS_SBRK: a[0] = sbrk_arg(); break;
	case SYS_CONS_WRITE: a[1] = len(); a[0] = room(a[1]); break;
	case SYS_CONS_READ: a[1] = len(); a[0] = room(a[1]); a[2] = ms(); break;
	case SYS_FUTEX_WAIT:
		a[0] = futex_arg();
		a[1] = below(2) ? 0 : any();
		a[2] = ms(); break;
	case SYS_FUTEX_WAKE: a[0] = futex_arg(); a[1] = count_arg(); break;
	case SYS_PROC_LIST: case SYS_SQ_LIST:
		a[1] = count_arg(); a[0] = room(a[1] * sizeof(qs_sq_info_t)); break;
	case SYS_MEM_INFO: case SYS_NODE_INFO: case SYS_TX_GET: case SYS_TX_BEGIN:
		a[0] = room(sizeof(qs_mem_info_t)); break;
	case SYS_SET_PRIORITY: a[0] = pick_tid(); a[1] = prio(); break;
	case SYS_GRANT: a[0] = pick_pid(); a[1] = below(7); a[2] = any(); a[3] = len(); break;
	case SYS_MMIO_MAP: a[0] = below(2) ? 0xB8000 : any(); a[1] = len(); break;
	case SYS_DMA_ALLOC: a[0] = count_arg(); a[1] = ptr(); break;
	case SYS_IRQ_WAIT: a[0] = below(2) ? below(17) : any(); a[1] = ms(); break;
	case SYS_BOOT_ARG: a[0] = key_name(); a[2] = len(); a[1] = room(a[2]); break;
	case SYS_MODULE_READ:
		a[0] = prog_name(); a[1] = below(2) ? below(8192) : any();
		a[3] = len(); a[2] = room(a[3]); break;
	case SYS_SQ_CREATE:
		a[0] = queue_name();
		a[1] = below(2) ? 1 + below(3) : (below(2) ? below(300) : any()); break;
	case SYS_SQ_DESTROY: a[0] = pick_qid(); break;
	case SYS_SQ_LOOKUP: a[0] = queue_name(); break;
	case SYS_SQ_OFFER:
		a[0] = pick_qid(); a[1] = entry_arg(U(handler_entry));
		a[2] = stack_arg(); a[4] = cap_arg(); a[3] = room(a[4]); break;
	case SYS_SQ_REPLY: a[0] = msg(0); break;
	case SYS_SQ_CALL:
		a[0] = pick_qid(); a[1] = msg(0); a[3] = cap_arg(); a[2] = room(a[3]); break;
	case SYS_SQ_SEND: a[0] = pick_qid(); a[1] = msg(1); break;
	case SYS_SQ_WAIT:
		a[0] = pick_rid(); a[2] = cap_arg(); a[1] = room(a[2]); a[3] = ms(); break;
	case SYS_TX_SET: case SYS_TX_OWNER: case SYS_TX_END: pick_tx(&a[0], &a[1]); break;
	case SYS_SQ_ANSWER: good = 1; a[0] = pick_rid(); good = below(2); a[1] = msg(0); break;
	case SYS_SQ_PROXY: a[0] = queue_name(); a[1] = below(2) ? below(4) : any(); break;
	case SYS_SQ_INJECT: a[0] = pick_qid(); a[1] = msg(1); break;
	default: break;
	}
}

/* Blocking calls wait a little at most: a long wait is no kernel bug. */
static void
tame(int nr, uint32_t a[5])
{
	int i = nr == SYS_SLEEP ? 0 : nr == SYS_CONS_READ || nr == SYS_FUTEX_WAIT ? 2
	      : nr == SYS_SQ_WAIT ? 3 : nr == SYS_IRQ_WAIT ? 1 : -1;
	if (i >= 0 && (int32_t)a[i] > 20)
		a[i] %= 21;
	if (i >= 0 && nr != SYS_SLEEP && a[i] == (uint32_t)-1)
		a[i] = 20;
}

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
kill_ok(const uint32_t a[5])
{
	return (int32_t)a[0] <= 0 || a[0] >= (1u << 20) ||
	       a[0] == (uint32_t)mypid || kid((int)a[0]) >= 0;
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
prio_ok(const uint32_t a[5])
{
	uint32_t p = a[1];
	return (int32_t)p <= QS_PRIO_DEFAULT || p > QS_PRIO_MAX;
}

static int
thread_prio_ok(const uint32_t a[5])
{
	uint32_t p = a[3];
	return (int32_t)p <= QS_PRIO_DEFAULT || p > QS_PRIO_MAX;
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
offer_ok(const uint32_t a[5])
{
	const qs_sq_info_t *q = queue_of(a[0]);
	return !q || q->owner == mypid || valid(a[1], 1, 0) == V_NO ||
	       a[2] < 64 || valid(a[2] - 64, 64, 1) == V_NO ||
	       known_bad_rbuf(a[3], a[4]);
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

static int
never(const uint32_t a[5])
{
	(void)a;
	return 0;
}

/*
 * UNGUARDED: calls that any process may make today and that take the node
 * down or break the test run, not by a kernel bug but because no rights
 * model refuses them yet (or no quota limits them). They are filtered out
 * here, and only here (allowed()). When the rights model (issue 16) makes
 * them fail with QS_EPERM (or a quota error), their line goes and the
 * fuzzer makes them too. Each ok() says whether a call is fine anyway:
 * refused for another reason first, or aimed at what the child owns.
 */
static const struct {
	int nr;
	int (*ok)(const uint32_t a[5]);
	const char *why;
} UNGUARDED[] = {
	{ SYS_HALT, never, "powers the node off" },
	{ SYS_KILL, kill_ok, "of a process not its own or its child's" },
	{ SYS_SPAWN, spawn_ok, "of another program than fuzz quiet (init, a "
			       "server...), or past MAX_CHILDREN: no quota" },
	{ SYS_SET_PRIORITY, prio_ok, "above the default: a spinner at 7 starves the node" },
	{ SYS_THREAD_CREATE, thread_prio_ok, "above the default priority, as above" },
	{ SYS_SQ_CREATE, create_ok, "of a name not its own (a server's; kernel.deaths "
				    "makes it the TM, kernel.net the network agent), "
				    "or past MAX_QUEUES: no quota" },
	{ SYS_SQ_OFFER, offer_ok, "on a queue not its own: steals a server's requests" },
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
