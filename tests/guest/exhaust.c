/*
 * A program that takes all it may (docs/security.md, "Limits"), then
 * faults. It holds a file server lock in a transaction first, so the test
 * (tests/system/test_authority.py) can see the whole cleanup: the node
 * stays up, others are served, the TM handles the death, the fs releases
 * the lock, and the kernel's memory comes back.
 *
 *   exhaust PATH    write PATH in a transaction, exhaust each limit, fault
 *   exhaust job N   start N hogs, which take all the pages they can and
 *                   stay; report what the job holds, and end, leaving the
 *                   hogs as orphans (still in its job)
 *   exhaust hog QID what a hog does: pages, then a report to QID, then wait
 *   exhaust lookups N NAME
 *                   floods the CM with N remote lookups of names nobody has
 *                   (kernel.net takes them from anyone), then has a child
 *                   look NAME up while they are under way: the CM's table
 *                   must still have room for another client
 *   exhaust find NAME  look NAME up: exit 0 if found
 *   exhaust pings NODE N
 *                   N pings at once to NODE, which does not answer, then
 *                   another request to the CM: it is answered first, since
 *                   no ping holds the CM's thread
 *
 * One line per limit: "exhaust: LIMIT at N: ERROR"; then "exhaust: all
 * limits reached" (or "exhaust: FAIL ...") and the fault.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/cm.h>
#include <qs/fs.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/thread.h>
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

static int32_t
big_reply(const qs_msg_t *req, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)ctx;
	qs_msg_set_ool(reply, ool, sizeof(ool));
	return 0;
}

static void *
serve_big(void *arg)
{
	qs_serve((int)(uintptr_t)arg, big_reply, NULL, 1);
	return NULL;
}

/* Replies of QS_MSG_OOL_MAX bytes to requests of none, left uncollected
 * until the last is answered: they are charged to the job too. */
static void
replies(void)
{
	enum { SENT = 64 };
	static int rid[SENT];
	int qid = qs_sq_create("exhaust.replies", QS_SQ_DEPTH_MAX);
	if (qid < 0 || !qs_thread_create(serve_big, (void *)(uintptr_t)qid)) {
		printf("exhaust: FAIL no server for the replies\n");
		failed = 1;
		return;
	}
	qs_msg_init(&msg, 3);
	for (int i = 0; i < SENT; i++)
		if ((rid[i] = qs_send(qid, &msg)) < 0) {
			printf("exhaust: FAIL send %d: %s\n", i,
			       qs_strerror(rid[i]));
			failed = 1;
			return;
		}
	static uint8_t buf[sizeof(qs_msg_t) + QS_MSG_OOL_MAX];
	qs_msg_t *rep = (qs_msg_t *)buf;
	/* served in order: once the last is answered, all are */
	qs_wait(rid[SENT - 1], rep, sizeof(buf), -1);
	int last = rep->hdr.status;
	uint32_t n = 0;
	int err = 0;
	for (int i = 0; i < SENT - 1; i++) {
		qs_wait(rid[i], rep, sizeof(buf), -1);
		if (rep->hdr.status == 0 && rep->hdr.ool_len == sizeof(ool) &&
		    !err)
			n++;
		else if (!err)
			err = rep->hdr.status;
	}
	if (last != QS_ELIMIT)
		err = last;
	reached("replies", n, err);
	qs_sq_destroy(qid);
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

/* ---- one job, many processes ---------------------------------------------- */

static volatile uint32_t reports;
static uint32_t hog_pages;
static int hog_err;

static int32_t
hog_report(const qs_msg_t *req, qs_msg_t *reply, void *ctx)
{
	size_t off = 0;
	const int32_t *r = qs_msg_get(req, &off, 2 * sizeof(int32_t));
	(void)reply, (void)ctx;
	if (!r)
		return QS_EINVAL;
	hog_pages += (uint32_t)r[0];
	if (r[1] != QS_ELIMIT)
		hog_err = r[1];
	__atomic_add_fetch(&reports, 1, __ATOMIC_SEQ_CST);
	qs_futex_wake(&reports, 1);
	return 0;
}

static void *
serve_reports(void *arg)
{
	qs_serve((int)(uintptr_t)arg, hog_report, NULL, 1);
	return NULL;
}

static int
hog(int qid)
{
	int r;
	uint32_t n = 0;
	static volatile uint32_t never;
	while (!QS_IS_ERR(r = qs_syscall(SYS_SBRK, 64 * 4096, 0, 0, 0, 0)))
		n += 64;
	while (!QS_IS_ERR(r = qs_syscall(SYS_SBRK, 4096, 0, 0, 0, 0)))
		n++;
	int32_t rep[2] = { (int32_t)n, r };
	qs_msg_init(&msg, 1);
	qs_msg_put(&msg, rep, sizeof(rep));
	qs_call(qid, &msg, &msg, sizeof(msg));
	qs_futex_wait(&never, 0, -1);
	return 0;
}

static int
job(uint32_t n)
{
	char name[QS_NAME_MAX], arg[16];
	qs_limits_t l;
	snprintf(name, sizeof(name), "exhaust.job.%d", qs_getpid());
	int qid = qs_sq_create(name, 0);
	if (qid < 0 || !qs_thread_create(serve_reports, (void *)(uintptr_t)qid)) {
		printf("exhaust: FAIL no queue for the hogs' reports\n");
		return 1;
	}
	snprintf(arg, sizeof(arg), "%d", qid);
	const char *args[] = { "hog", arg, NULL };
	for (uint32_t i = 0; i < n; i++) {
		int pid = qs_spawn("exhaust", args, 0);
		if (pid < 0) {
			printf("exhaust: FAIL hog %u: %s\n", i, qs_strerror(pid));
			return 1;
		}
		printf("exhaust: hog %d\n", pid);
	}
	for (uint32_t got; (got = reports) < n;)
		qs_futex_wait(&reports, got, -1);
	qs_limits(0, &l);
	printf("exhaust: job %u: %u processes, %u pages of at most %u; the hogs "
	       "took %u and stopped at %s\n", l.job, l.used[QS_LIMIT_PROCS],
	       l.used[QS_LIMIT_PAGES], l.max[QS_LIMIT_PAGES], hog_pages,
	       qs_strerror(hog_err ? hog_err : QS_ELIMIT));
	return hog_err ? 1 : 0;
}

/* ---- a server's table: the CM's lookups ----------------------------------- */

static int
lookups(uint32_t n, const char *name)
{
	static int rid[64];
	char nosuch[QS_NAME_MAX];
	int net = qs_sq_lookup(QS_NET_QUEUE), status;
	uint32_t limited = 0, other = 0;
	if (net < 0 || n > 64) {
		printf("exhaust: FAIL lookups: %s\n", qs_strerror(net));
		return 1;
	}
	for (uint32_t i = 0; i < n; i++) {
		snprintf(nosuch, sizeof(nosuch), "nosuch.%d.%u", qs_getpid(), i);
		qs_msg_init(&msg, QS_NOTICE_LOOKUP);
		qs_msg_put_str(&msg, nosuch);
		rid[i] = qs_send(net, &msg);
	}
	const char *args[] = { "find", name, NULL };
	int child = qs_spawn("exhaust", args, 0);
	int found = child > 0 && qs_waitpid(child, &status, 0) == child &&
		    status == 0;
	for (uint32_t i = 0; i < n; i++) {
		if (rid[i] < 0 || qs_wait(rid[i], &msg, sizeof(msg), -1) < 0)
			other++;
		else if (msg.hdr.status == QS_ELIMIT)
			limited++;
	}
	printf("exhaust: lookups: %u sent, %u limited; %s %s by another "
	       "client\n", n, limited, name, found ? "found" : "not found");
	return found ? 0 : 1;
}

static int
pings(uint32_t node, uint32_t n)
{
	static int rid[64];
	int cm = qs_sq_lookup(CM_QUEUE);
	uint32_t limited = 0, timedout = 0;
	if (cm < 0 || n > 64) {
		printf("exhaust: FAIL pings: %s\n", qs_strerror(cm));
		return 1;
	}
	for (uint32_t i = 0; i < n; i++) {
		cm_ping_t p = { node, i + 1 };
		qs_msg_init(&msg, CM_OP_PING);
		qs_msg_put(&msg, &p, sizeof(p));
		rid[i] = qs_send(cm, &msg);
	}
	qs_msg_init(&msg, CM_OP_RPC_STATS);
	int stats = qs_send(cm, &msg);
	int first = qs_wait(0, &msg, sizeof(msg), -1);
	/* the refused pings are answered at once too: skip them */
	while (first > 0 && first != stats && msg.hdr.status == QS_ELIMIT) {
		limited++;
		first = qs_wait(0, &msg, sizeof(msg), -1);
	}
	int stats_first = first == stats;
	for (uint32_t i = 0; i < n; i++) {
		if (qs_wait(rid[i], &msg, sizeof(msg), -1) != rid[i])
			continue; /* collected above */
		limited += msg.hdr.status == QS_ELIMIT;
		timedout += msg.hdr.status == QS_ETIMEDOUT;
	}
	if (!stats_first)
		qs_wait(stats, &msg, sizeof(msg), -1);
	printf("exhaust: pings: %u sent, %u limited, %u timed out; the CM "
	       "answered another request %s\n", n, limited, timedout,
	       stats_first ? "first" : "after them");
	return stats_first ? 0 : 1;
}

int
main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "pings") == 0)
		return pings((uint32_t)atoi(argv[2]), (uint32_t)atoi(argv[3]));
	if (argc == 4 && strcmp(argv[1], "lookups") == 0)
		return lookups((uint32_t)atoi(argv[2]), argv[3]);
	if (argc == 3 && strcmp(argv[1], "find") == 0)
		return qs_sq_lookup(argv[2]) > 0 ? 0 : 1;
	if (argc == 3 && strcmp(argv[1], "job") == 0)
		return job((uint32_t)atoi(argv[2]));
	if (argc == 3 && strcmp(argv[1], "hog") == 0)
		return hog(atoi(argv[2]));
	if (argc != 2) {
		printf("usage: exhaust PATH | job N | hog QID | lookups N NAME | "
		       "find NAME | pings NODE N\n");
		return 2;
	}
	uint64_t tx;
	int h = qs_tx_begin(&tx) == 0 ? fs_open(argv[1], FS_O_CREATE) : -1;
	if (h < 0 || fs_write(h, "mine", 4) != 4) {
		printf("exhaust: FAIL cannot write %s\n", argv[1]);
		return 1;
	}
	printf("exhaust: holding %s\n", argv[1]);
	/* replies first: they need a thread and a queue; kbytes before
	 * requests, since its requests count among the requests too */
	replies();
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
