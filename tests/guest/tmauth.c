/*
 * The TM's remote permission matrix (docs/security.md, "Across nodes"):
 * every TM operation a program may try on a transaction it does not own,
 * from where it may try it. Each is refused with QS_EPERM; the test
 * (tests/system/test_remote_authority.py) checks the transaction lives on
 * and the TMs counted the refusals.
 *
 *   tmauth owner NODE TX   from another node than TX's owner, the owner's
 *                          operations on tm@NODE (the test gives this
 *                          process the owner's pid: only the node differs)
 *   tmauth tree NODE TX    from the superior's node, an ordinary program:
 *                          the TMs' own operations on tm@NODE (the
 *                          subordinate)
 *   tmauth local TX        on this node's tm: what only system servers learn
 *   tmauth notice PID      a forged commit notice to PID's recovery queue
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/tm.h>
#include <qs/tx.h>
#include "check.h"

static qs_msg_t req, reply;

static int
ask(int qid, uint32_t op, const void *data, size_t len)
{
	qs_msg_init(&req, op);
	qs_msg_put(&req, data, len);
	return qs_call(qid, &req, &reply, sizeof(reply));
}

static int
queue(const char *name, int node)
{
	char q[QS_NAME_MAX];
	if (node >= 0)
		snprintf(q, sizeof(q), "%s@%d", name, node);
	else
		snprintf(q, sizeof(q), "%s", name);
	int qid = qs_sq_lookup(q);
	if (qid < 0)
		printf("tmauth: no queue %s: %s\n", q, qs_strerror(qid));
	return qid;
}

static void
refused(int r, const char *what)
{
	char name[128];
	snprintf(name, sizeof(name), "%s is refused (%s)", what, qs_strerror(r));
	check(r == QS_EPERM, name);
}

static void
owner_ops(int tm, uint64_t tx)
{
	tm_delegate_t d = { tx, 0 };
	tm_join_t j = { QS_TX_VOLATILE, 1 };
	refused(ask(tm, TM_OP_COMMIT, &tx, sizeof(tx)),
		"committing another node's transaction, with its owner's pid");
	refused(ask(tm, TM_OP_ABORT, &tx, sizeof(tx)),
		"aborting another node's transaction, with its owner's pid");
	refused(ask(tm, TM_OP_DELEGATE, &d, sizeof(d)),
		"moving the coordination of another node's transaction");
	refused(ask(tm, TM_OP_JOIN, &j, sizeof(j)),
		"joining at another node's TM");
	refused(ask(tm, TM_OP_BEGIN, NULL, 0), "beginning at another node's TM");
	refused(ask(tm, TM_OP_LIST, NULL, 0),
		"listing another node's transactions");
	refused(ask(tm, TM_OP_OUTCOME, &tx, sizeof(tx)),
		"asking an outcome, not being a system server");
}

static void
tree_ops(int tm, uint64_t tx)
{
	tm_end_t commit = { tx, QS_TX_COMMITTED }, abort = { tx, QS_TX_ABORTED };
	int32_t vote = QS_VOTE_YES;
	refused(ask(tm, TM_OP_END, &commit, sizeof(commit)),
		"telling a subordinate TM to commit, not being a TM");
	refused(ask(tm, TM_OP_END, &abort, sizeof(abort)),
		"telling a subordinate TM to abort, not being a TM");
	refused(ask(tm, TM_OP_PREPARE, &tx, sizeof(tx)),
		"asking a subordinate TM to prepare, not being a TM");
	refused(ask(tm, TM_OP_TAKEOVER, &vote, sizeof(vote)),
		"handing coordination over, not being a TM");
}

int
main(int argc, char **argv)
{
	uint64_t tx = 0;
	int tm;

	if (argc == 4 && (strcmp(argv[1], "owner") == 0 ||
			  strcmp(argv[1], "tree") == 0) &&
	    qs_tx_parse(argv[3], &tx) == 0) {
		if ((tm = queue(TM_QUEUE, atoi(argv[2]))) < 0)
			return 1;
		if (argv[1][0] == 'o')
			owner_ops(tm, tx);
		else
			tree_ops(tm, tx);
	} else if (argc == 3 && strcmp(argv[1], "local") == 0 &&
		   qs_tx_parse(argv[2], &tx) == 0) {
		if ((tm = queue(TM_QUEUE, -1)) < 0)
			return 1;
		refused(ask(tm, TM_OP_OUTCOME, &tx, sizeof(tx)),
			"asking an outcome here, not being a system server");
		refused(ask(tm, TM_OP_LIST, NULL, 0),
			"listing transactions here, not being a system server");
	} else if (argc == 3 && strcmp(argv[1], "notice") == 0) {
		char rq[QS_NAME_MAX];
		snprintf(rq, sizeof(rq), TM_RQ_PREFIX "%s", argv[2]);
		int qid = queue(rq, -1);
		if (qid < 0)
			return 1;
		refused(ask(qid, TM_NOTE_COMMIT, NULL, 0),
			"a commit notice to a participant, not from its TM");
		refused(ask(qid, TM_NOTE_ABORT, NULL, 0),
			"an abort notice to a participant, not from its TM");
	} else {
		printf("usage: tmauth owner|tree NODE TX | local TX | notice PID\n");
		return 2;
	}
	return check_summary("tmauth");
}
