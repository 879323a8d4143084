/*
 * The child's state, what it knows of its own address space, and the
 * generators of syscall numbers and arguments: random, edge-case, or built
 * to pass the kernel's checks (`good`).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include "fuzz.h"

/* ---- the PRNG (splitmix64) ------------------------------------------- */

uint64_t rng;

uint32_t
rnd_of(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return (uint32_t)((z ^ (z >> 31)) >> 32);
}

uint32_t rnd(void) { return rnd_of(&rng); }
uint32_t below(uint32_t n) { return n ? rnd() % n : 0; }
uint32_t below_of(uint64_t *s, uint32_t n) { return n ? rnd_of(s) % n : 0; }

/* ---- the child's state ------------------------------------------------ */

slot_t slots[NSLOT];
uint8_t *arena;
uint32_t brk_start, arena_end, brk_now;
int mypid, ppid, ctl_qid, watchdog_tid, main_tid;
volatile uint32_t ending;
volatile int own_q[MAX_QUEUES];
volatile uint32_t deferred[32];
volatile uint32_t fwords[4];
uint32_t recent_rid[16];
kid_t kids[MAX_CHILDREN];
uint64_t txs[10];
uint32_t made, qname_seq;
int kfault_on, trace, reserved = -1;
volatile int rq_qid;
int good;
int to_server;
qs_sq_info_t qinfo[64];
int nqinfo;
uint8_t watchdog_stack[4096];
const char rodata_text[64] = "read-only text for the fuzzer";

/* ---- what is mapped: pointers are judged against the child's layout --- */

uint32_t
mapped_end(void)
{
	return (brk_now + 4095) & ~4095u;
}

/* Would the kernel accept [p, p+len) for reading (or writing)? */
int
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

uint32_t
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

uint32_t
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
uint32_t
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
uint32_t
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

int
qlist(void)
{
	int n = qs_sq_list(qinfo, 64);
	nqinfo = n < 0 ? 0 : n;
	return nqinfo;
}

const qs_sq_info_t *
qfind(int qid)
{
	for (int i = 0; i < nqinfo; i++)
		if (qinfo[i].qid == qid)
			return &qinfo[i];
	return NULL;
}

/* Ours or a sibling's (same parent): "fzPPID." */
int
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

void
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

uint32_t
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

uint32_t
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
int
pick_nr(void)
{
	uint32_t r = below(1000);
	to_server = 0;
	if (r < 20)
		return below(2) ? (int)(SYS_COUNT + below(20)) : (int)any();
	if (r < 21)
		return below(2) ? SYS_EXIT : SYS_THREAD_EXIT;
	if (r < 21 + SRV_PER_MILLE) {
		to_server = 1;
		return below(2) ? SYS_SQ_CALL : SYS_SQ_SEND;
	}
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

/* A request to a server (srv.c), called or sent: 1, or 0 if none. */
static int
srv_req(int nr, uint32_t a[5])
{
	static qs_msg_t m;
	static uint8_t ool[QS_MSG_OOL_MAX];
	if (!to_server && below(4))
		return 0;
	int qid = srv_build(&rng, &m, ool, sizeof(ool));
	if (!qid)
		return 0;
	a[0] = (uint32_t)qid;
	a[1] = U(&m);
	if (nr == SYS_SQ_CALL) {
		a[3] = below(4) ? sizeof(qs_msg_t) + below(QS_MSG_OOL_MAX + 1) : cap_arg();
		a[2] = below(8) ? buf(a[3]) : ptr();
	}
	return 1;
}

void
gen(int nr, uint32_t a[5])
{
	good = below(2);
	for (int i = 0; i < 5; i++)
		a[i] = below(4) || good ? 0 : any();
	if ((nr == SYS_SQ_CALL || nr == SYS_SQ_SEND) && srv_req(nr, a))
		return;
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
void
tame(int nr, uint32_t a[5])
{
	int i = nr == SYS_SLEEP ? 0 : nr == SYS_CONS_READ || nr == SYS_FUTEX_WAIT ? 2
	      : nr == SYS_SQ_WAIT ? 3 : nr == SYS_IRQ_WAIT ? 1 : -1;
	if (i >= 0 && (int32_t)a[i] > 20)
		a[i] %= 21;
	if (i >= 0 && nr != SYS_SLEEP && a[i] == (uint32_t)-1)
		a[i] = 20;
}

