/*
 * More transactions with recoverable work on another node than the CMs
 * once had room to mark (servers/cm/rpc.c), all live at once:
 *
 *   marktest N QUEUE...   N transactions, each with one request to a
 *                         QUEUE (in turn): voteno's (apps/voteno.c), which
 *                         joins it as a recoverable participant on its
 *                         node. With all N live it prints the marks this
 *                         node's CM and the participants' node's CM hold;
 *                         then they commit, one after the other.
 *
 * A process holds at most 8 open transactions (the kernel's own_tx), so
 * the transactions are its children's, 8 each. Each child, once its
 * requests are answered, waits in a call on a queue of the parent's that
 * nobody serves ("marktest.goXX"); the parent sees every child waiting there
 * (the queues' pending requests), prints the marks, and then destroys the
 * queues all at once, each child's call then failing and the child
 * committing its transactions: many end together, and every mark must
 * still be taken back.
 *
 * Prints "marktest: holding N marks here H there T" and then "marktest:
 * committed C of N, marks here H there T", or "marktest: error: ...".
 * Each voteno process takes part in at most TM_JOINS_MAX live transactions:
 * give it QUEUEs enough.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/cm.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/tx.h>
#include <qs/voteno.h>

#define PER_CHILD 8 /* the kernel's open transactions per process */
#define CHILDREN_MAX 32
#define QUEUES_MAX 8
#define READY_MS 120000

static void
go_name(char *buf, int child)
{
	/* not "NAME.DIGITS": the kernel keeps those for pid NAME.DIGITS */
	snprintf(buf, QS_NAME_MAX, "marktest.go%c%c", 'a' + child / 26,
		 'a' + child % 26);
}

/* The marks the CM serving queue `cm` holds now; -1 if it cannot tell. */
static int
marks(int cm)
{
	static qs_msg_t req, reply;
	qs_msg_init(&req, CM_OP_RPC_STATS);
	if (cm < 0 || qs_call(cm, &req, &reply, sizeof(reply)) < 0)
		return -1;
	const cm_rpc_stats_t *s = QS_MSG_AS(&reply, cm_rpc_stats_t);
	return s ? (int)s->marks : -1;
}

/* marktest -child K FIRST COUNT QUEUE...: its transactions, then the wait. */
static int
child(int k, int first, int count, int nq, char **queues)
{
	static qs_msg_t req, reply;
	uint64_t tx[PER_CHILD], home = qs_tx_current();
	char go[QS_NAME_MAX];
	for (int i = 0; i < count; i++) {
		int q = qs_sq_lookup(queues[(first + i) % nq]);
		int r = q < 0 ? q : qs_tx_begin(&tx[i]);
		if (r == 0) {
			qs_msg_init(&req, VOTENO_OP_JOIN);
			r = qs_call(q, &req, &reply, sizeof(reply));
		}
		qs_tx_set(home);
		if (r < 0) {
			printf("marktest: error: transaction %d: %s\n", first + i,
			       qs_strerror(r));
			return 100;
		}
	}
	go_name(go, k);
	int q = qs_sq_lookup(go);
	qs_msg_init(&req, 1);
	if (q > 0)
		qs_call(q, &req, &reply, sizeof(reply)); /* until it goes */
	int committed = 0;
	for (int i = 0; i < count; i++) {
		int r = qs_tx_commit(tx[i]);
		if (r < 0)
			printf("marktest: error: commit %d: %s\n", first + i,
			       qs_strerror(r));
		else
			committed++;
	}
	return committed;
}

int
main(int argc, char **argv)
{
	char *end;
	if (argc >= 6 && strcmp(argv[1], "-child") == 0)
		return child(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]),
			     argc - 5, argv + 5);
	long n = argc >= 3 ? strtol(argv[1], &end, 10) : 0;
	int nq = argc - 2, kids = (int)((n + PER_CHILD - 1) / PER_CHILD);
	if (argc < 3 || *end || n < 1 || kids > CHILDREN_MAX || nq > QUEUES_MAX) {
		printf("usage: marktest N QUEUE...\n");
		return 2;
	}
	/* the participants' node: "NAME@N" */
	const char *at = strrchr(argv[2], '@');
	char there[QS_NAME_MAX];
	snprintf(there, sizeof(there), "%s%s", CM_QUEUE, at ? at : "");
	int cm_here = qs_sq_lookup(CM_QUEUE), cm_there = qs_sq_lookup(there);
	int go[CHILDREN_MAX], pid[CHILDREN_MAX];
	for (int k = 0; k < kids; k++) {
		char name[QS_NAME_MAX], sk[12], sf[12], sc[12];
		const char *cargv[6 + QUEUES_MAX] = { "-child", sk, sf, sc };
		go_name(name, k);
		if ((go[k] = qs_sq_create(name, 0)) < 0) {
			printf("marktest: error: queue %s: %s\n", name,
			       qs_strerror(go[k]));
			return 1;
		}
		int first = k * PER_CHILD;
		snprintf(sk, sizeof(sk), "%d", k);
		snprintf(sf, sizeof(sf), "%d", first);
		snprintf(sc, sizeof(sc), "%ld",
			 n - first < PER_CHILD ? n - first : PER_CHILD);
		for (int i = 0; i < nq; i++)
			cargv[4 + i] = argv[2 + i];
		cargv[4 + nq] = NULL;
		if ((pid[k] = qs_spawn("marktest", cargv, 0)) < 0) {
			printf("marktest: error: spawn: %s\n", qs_strerror(pid[k]));
			return 1;
		}
	}
	/* every child waiting on its queue: all N transactions live */
	for (int k = 0, t0 = (int)qs_uptime_ms(); k < kids;) {
		char name[QS_NAME_MAX];
		qs_sq_info_t info;
		int status;
		go_name(name, k);
		if (qs_sq_find(name, &info) > 0 && info.pending == 1) {
			k++;
			continue;
		}
		if (qs_waitpid(pid[k], &status, QS_WAIT_NOHANG) == pid[k] ||
		    (int)qs_uptime_ms() - t0 > READY_MS) {
			printf("marktest: error: child %d did not get ready\n", k);
			return 1;
		}
		qs_sleep(10); /* polling the queue, not a stand-in for an event */
	}
	printf("marktest: holding %ld marks here %d there %d\n", n,
	       marks(cm_here), marks(cm_there));
	/* all let go at once: many end within one tick of the TM's, whose
	 * marks it must all take back */
	long committed = 0;
	for (int k = 0; k < kids; k++)
		qs_sq_destroy(go[k]);
	for (int k = 0; k < kids; k++) {
		int status = 0;
		qs_waitpid(pid[k], &status, 0);
		if (status <= PER_CHILD)
			committed += status;
	}
	printf("marktest: committed %ld of %ld, marks here %d there %d\n",
	       committed, n, marks(cm_here), marks(cm_there));
	return committed == n ? 0 : 1;
}
