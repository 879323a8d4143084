/*
 * The fuzzer's parts (tests/guest/fuzz.c says what the program does):
 *
 *   args.c    the child's state, what it knows of its own address space,
 *             and the generators of syscall numbers and arguments
 *   filter.c  what the fuzz leaves out (UNGUARDED, harmless())
 *   srv.c     requests to the node's servers, in their protocols or not
 *   child.c   one child: its calls, its server and helper threads
 *   parent.c  the run: children, their reports, the levels at the end
 *   health.c  the servers after a run: alive, serving, counting
 */
#ifndef TESTS_GUEST_FUZZ_FUZZ_H
#define TESTS_GUEST_FUZZ_FUZZ_H

#include <stdint.h>
#include <qs/sq.h>
#include <qs/sys.h>

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

#define U(x) ((uint32_t)(uintptr_t)(x))
#define SYSCALL(n, a, b, c, d, e) \
	qs_syscall(n, (uint32_t)(a), (uint32_t)(b), (uint32_t)(c), (uint32_t)(d), (uint32_t)(e))

/* A child's report to the parent's control queue. */
typedef struct {
	uint32_t pid, made, ended;
} report_t;

/* ---- the PRNG (splitmix64): args.c --------------------------------------- */

extern uint64_t rng;
uint32_t rnd_of(uint64_t *s);
uint32_t rnd(void);
uint32_t below(uint32_t n);
uint32_t below_of(uint64_t *s, uint32_t n);

/* ---- the child's state: args.c ------------------------------------------- */

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

typedef struct {
	int pid;
	int suspended; /* or may wait a while (a role other than exit) */
} kid_t;

extern slot_t slots[NSLOT];
extern uint8_t *arena;
extern uint32_t brk_start, arena_end, brk_now; /* the break */
extern int mypid, ppid, ctl_qid, watchdog_tid, main_tid;
extern volatile uint32_t ending;
extern volatile int own_q[MAX_QUEUES];
extern volatile uint32_t deferred[32]; /* rids a handler deferred */
extern volatile uint32_t fwords[4];    /* helpers' futex words */
extern uint32_t recent_rid[16];
extern kid_t kids[MAX_CHILDREN];
extern uint64_t txs[10];
extern uint32_t made, qname_seq;
extern int kfault_on, trace, reserved;
extern volatile int rq_qid; /* our recovery queue, tx.rq.PID, once made */
extern int good; /* this call's arguments are meant to pass the checks */
extern qs_sq_info_t qinfo[64];
extern int nqinfo;
extern uint8_t watchdog_stack[4096];
extern const char rodata_text[64];

void helper_entry(uint32_t idx) __attribute__((noreturn));
void server_entry(uint32_t idx) __attribute__((noreturn));
void handler_entry(qs_msg_t *req) __attribute__((noreturn));

/* The thread gives its slot back and ends, using no stack after that. */
static inline void __attribute__((noreturn))
slot_end(slot_t *s)
{
	__asm__ volatile("movl %1, (%%ebx)\n"
			 "int $0x80\n"
			 :
			 : "a"(SYS_THREAD_EXIT), "i"(S_FREE), "b"(&s->state)
			 : "memory");
	__builtin_unreachable();
}

static inline uint32_t
cas(volatile uint32_t *p, uint32_t old, uint32_t new)
{
	return __sync_val_compare_and_swap(p, old, new);
}

/* ---- what is mapped, and the generators: args.c -------------------------- */

enum { V_NO, V_YES, V_MAYBE };

uint32_t mapped_end(void);
int valid(uint32_t p, uint32_t len, int write);
uint32_t any(void);
uint32_t ptr(void);
uint32_t buf(uint32_t n);
uint32_t put_str(const char *s);
int qlist(void);
const qs_sq_info_t *qfind(int qid);
int run_queue(const char *name);
uint32_t slot_top(int i);
uint32_t cap_arg(void);
void pick_tx(uint32_t *a, uint32_t *b);
int pick_nr(void);
void gen(int nr, uint32_t a[5]);
void tame(int nr, uint32_t a[5]);

/* ---- the servers: srv.c --------------------------------------------------- */

#define SRV_PER_MILLE 80 /* calls that are requests to servers, besides the
			    SYS_SQ_CALL and SYS_SQ_SEND that pick one */
extern int to_server;    /* pick_nr chose a request to a server */
void srv_refresh(void);
int srv_queue(uint32_t qid);
void srv_answer(uint32_t qid, int32_t status, uint32_t rbuf, uint32_t cap);
int srv_build(uint64_t *r, qs_msg_t *m, uint8_t *ool, uint32_t ool_room);

/* ---- what is left out: filter.c ------------------------------------------- */

int kid(int pid);
int nkids(int suspended_only);
const qs_sq_info_t *queue_of(uint32_t qid);
int known_bad_rbuf(uint32_t b, uint32_t cap);
int allowed(int nr, const uint32_t a[5]);
int harmless(int nr, const uint32_t a[5]);

/* ---- the child: child.c ---------------------------------------------------- */

int child(uint32_t seed, uint32_t calls, int parent, int ctl);

/* ---- the parent: parent.c ------------------------------------------------- */

int parent(uint32_t seed, uint32_t calls, int par);

#endif
