/*
 * A program that takes all it may (docs/security.md, "Limits"), then
 * faults. It holds a file server lock in a transaction first, so the test
 * (tests/system/test_authority.py) can see the whole cleanup: the node
 * stays up, others are served, the TM handles the death, the fs releases
 * the lock, and the kernel's memory comes back.
 *
 *   exhaust PATH    write PATH in a transaction, exhaust each limit, fault
 *
 * One line per limit: "exhaust: LIMIT at N: ERROR"; then "exhaust: all
 * limits reached" (or "exhaust: FAIL ...") and the fault.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/fs.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/tx.h>

static qs_msg_t msg;
static uint8_t ool[QS_MSG_OOL_MAX];
static int failed;

static void
reached(const char *what, uint32_t n, int err)
{
	printf("exhaust: %s at %u: %s\n", what, n, qs_strerror(err));
	if (err != QS_ELIMIT) {
		printf("exhaust: FAIL %s ended with %s, not the limit\n", what,
		       qs_strerror(err));
		failed = 1;
	}
}

static void
pages(void)
{
	uint32_t n = 0;
	int r;
	while (!QS_IS_ERR(r = qs_syscall(SYS_SBRK, 64 * 4096, 0, 0, 0, 0)))
		n += 64;
	while (!QS_IS_ERR(r = qs_syscall(SYS_SBRK, 4096, 0, 0, 0, 0)))
		n++;
	reached("pages", n, r);
}

static void *
park(void *arg)
{
	static volatile uint32_t never;
	qs_futex_wait(&never, 0, -1);
	return arg;
}

static void
threads(void)
{
	uint32_t n = 0;
	uint8_t *stack;
	int r;
	/* raw, so that the limit, not the library's table, is what stops it */
	while ((stack = malloc(1024)) &&
	       (r = qs_syscall(SYS_THREAD_CREATE, (uint32_t)(uintptr_t)park, 0,
			       (uint32_t)(uintptr_t)(stack + 1024),
			       QS_PRIO_DEFAULT, 0)) > 0)
		n++;
	reached("threads", n, stack ? r : QS_ENOMEM);
}

static int
queues(void)
{
	char name[QS_NAME_MAX];
	uint32_t n = 0;
	int r, first = 0;
	for (;;) {
		snprintf(name, sizeof(name), "exhaust.q%u", n);
		if ((r = qs_sq_create(name, QS_SQ_DEPTH_MAX)) < 0)
			break;
		if (!first)
			first = r;
		n++;
	}
	reached("queues", n, r);
	return first;
}

/* Requests nobody serves: they wait on our own queue. */
static void
requests(int qid)
{
	uint32_t n = 0;
	int r;
	qs_msg_init(&msg, 1);
	while ((r = qs_send(qid, &msg)) > 0)
		n++;
	reached("requests", n, r);
}

static void
kbytes(int qid)
{
	uint32_t n = 0;
	int r;
	qs_msg_init(&msg, 2);
	qs_msg_set_ool(&msg, ool, sizeof(ool));
	while ((r = qs_send(qid, &msg)) > 0)
		n++;
	reached("kbytes", n, r);
}

static void
procs(void)
{
	const char *none[] = { NULL };
	int pids[QS_LIMIT_COUNT * 64], r;
	uint32_t n = 0;
	while (n < sizeof(pids) / sizeof(pids[0]) &&
	       (r = qs_spawn("spin", none, 0)) > 0)
		pids[n++] = r;
	reached("procs", n, r);
	for (uint32_t i = 0; i < n; i++) { /* they would outlive us as orphans */
		qs_kill(pids[i]);
		qs_waitpid(pids[i], NULL, 0);
	}
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		printf("usage: exhaust PATH\n");
		return 2;
	}
	uint64_t tx;
	int h = qs_tx_begin(&tx) == 0 ? fs_open(argv[1], FS_O_CREATE) : -1;
	if (h < 0 || fs_write(h, "mine", 4) != 4) {
		printf("exhaust: FAIL cannot write %s\n", argv[1]);
		return 1;
	}
	printf("exhaust: holding %s\n", argv[1]);
	/* kbytes first: its requests count among the requests too */
	int qid = queues();
	kbytes(qid);
	requests(qid);
	procs();
	threads();
	pages();
	printf(failed ? "exhaust: FAIL\n" : "exhaust: all limits reached\n");
	*(volatile int *)0 = 1; /* and now the fault */
	return 0;
}
