/*
 * In-guest tests of transactions through libqs and the TM: begin, commit,
 * abort, who may do what, participants of each class voting, breadcrumbs,
 * and bad requests. Run with the TM up (test.conf).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/tm.h>
#include <qs/tx.h>
#define CHECK_PREFIX "tmtest: "
#include "check.h"

static int prepared, ended, vote = QS_VOTE_YES;

static void
crumb(void *obj, uint64_t tx, int outcome)
{
	(void)tx;
	*(int *)obj = outcome;
}

static int
on_prepare(uint64_t tx, void *arg)
{
	(void)tx, (void)arg;
	prepared++;
	return vote;
}

static void
on_end(uint64_t tx, int outcome, void *arg)
{
	(void)tx, (void)arg;
	ended = outcome;
}

static const qs_tx_ops_t ops = { on_prepare, on_end, NULL };

static int
sys_tx(int num, uint64_t tx)
{
	return qs_syscall(num, (uint32_t)tx, (uint32_t)(tx >> 32), 0, 0, 0);
}

static void
test_begin_commit(void)
{
	uint64_t def = qs_tx_current(), tx;
	qs_node_info_t ni;
	qs_node_info(&ni);
	check(qs_tx_begin(&tx) == 0 && tx != def && qs_tx_current() == tx &&
		      QS_TX_NODE(tx) == ni.node_id,
	      "begin makes a new current transaction on this node");
	check(sys_tx(SYS_TX_OWNER, tx) == qs_getpid(), "the kernel knows its owner");
	check(qs_tx_commit(tx) == 0 && qs_tx_current() == def,
	      "commit; the thread is back under its default");
	check(qs_tx_commit(tx) < 0 && qs_tx_set(tx) == QS_EPERM &&
		      sys_tx(SYS_TX_OWNER, tx) == QS_ENOENT,
	      "an ended transaction cannot be committed or resumed");
	int c = 0;
	check(crumb_add(tx, crumb, &c) < 0 && crumb_count() == 0,
	      "no breadcrumb for an ended transaction");
}

static void
test_crumbs(void)
{
	uint64_t tx;
	int a = 0, b = 0;
	qs_tx_begin(&tx);
	check(crumb_add(tx, crumb, &a) == 0 && crumb_add(tx, crumb, &b) == 0 &&
		      crumb_count() == 2,
	      "breadcrumbs added");
	check(crumb_remove(tx, crumb, &b) == 0 && crumb_count() == 1 &&
		      crumb_remove(tx, crumb, &b) == QS_ENOENT,
	      "a breadcrumb removed");
	check(qs_tx_commit(tx) == 0 && a == QS_TX_COMMITTED && b == 0 &&
		      crumb_count() == 0,
	      "commit runs the cleanups that are left, before it returns");
	a = 0;
	qs_tx_begin(&tx);
	crumb_add(tx, crumb, &a);
	check(qs_tx_abort(tx) == 0 && a == QS_TX_ABORTED && crumb_count() == 0 &&
		      qs_tx_current() != tx,
	      "abort runs them with the abort outcome");
	check(qs_tx_commit(tx) == QS_EABORTED,
	      "a commit after the abort says it aborted");
}

static int
commit_with_vote(int v)
{
	uint64_t tx;
	prepared = ended = 0;
	vote = v;
	qs_tx_begin(&tx);
	int r = qs_tx_join(tx, QS_TX_RECOVERABLE, &ops);
	if (r < 0)
		return r;
	return qs_tx_commit(tx);
}

static void
test_two_phase(void)
{
	check(commit_with_vote(QS_VOTE_YES) == 0 && prepared == 1 &&
		      ended == QS_TX_COMMITTED,
	      "recoverable, votes yes: prepared, then committed");
	check(commit_with_vote(QS_VOTE_NO) == QS_EABORTED && prepared == 1 &&
		      ended == QS_TX_ABORTED,
	      "votes no: the commit aborts");
	check(commit_with_vote(QS_VOTE_READONLY) == 0 && prepared == 1 &&
		      ended == QS_TX_COMMITTED,
	      "votes read-only: commits, and it is done at its vote");
	uint64_t tx;
	qs_tx_begin(&tx);
	ended = 0;
	check(qs_tx_join(tx, QS_TX_VOLATILE, &ops) == 0 &&
		      qs_tx_join(tx, QS_TX_VOLATILE, &ops) == 0 &&
		      qs_tx_commit(tx) == 0 && ended == QS_TX_COMMITTED,
	      "volatile, joined twice: one end notice");
	int c = 0;
	qs_tx_begin(&tx);
	prepared = 0;
	vote = QS_VOTE_NO;
	check(crumb_add(tx, crumb, &c) == 0 &&
		      qs_tx_join(tx, QS_TX_RECOVERABLE, &ops) == 0 &&
		      qs_tx_commit(tx) == QS_EABORTED && prepared == 1 &&
		      c == QS_TX_ABORTED,
	      "volatile, then joined as recoverable: asked to vote");
	check(qs_tx_join(tx, 7, &ops) == QS_EINVAL &&
		      qs_tx_join(0, QS_TX_VOLATILE, &ops) == QS_EINVAL,
	      "join with a bad class or no transaction is refused");
}

static void
test_limits(void)
{
	uint64_t tx[9];
	int n = 0, last = 0;
	check(qs_syscall(SYS_TX_BEGIN, 0x10, 0, 0, 0, 0) == QS_EFAULT,
	      "begin with a bad pointer");
	while (n < 9 && (last = qs_tx_begin(&tx[n])) == 0)
		n++;
	check(n == 8 && last == QS_EAGAIN, "eight open transactions at most");
	int ok = 0;
	while (n > 0)
		ok += qs_tx_commit(tx[--n]) == 0;
	check(ok == 8, "and all of them commit");
	check(sys_tx(SYS_TX_END, qs_tx_current()) == QS_EPERM,
	      "only the TM ends transactions in the kernel");
	check(sys_tx(SYS_TX_OWNER, 12345) == QS_ENOENT, "no owner for a made-up id");
}

/* The child: it may neither abort nor take over its parent's transaction. */
static int
stranger(const char *id)
{
	uint64_t tx;
	if (qs_tx_parse(id, &tx) < 0)
		return 3;
	return (qs_tx_abort(tx) == QS_EPERM ? 0 : 1) |
	       (qs_tx_set(tx) == QS_EPERM ? 0 : 2);
}

static void
test_stranger(void)
{
	uint64_t tx;
	char id[QS_TX_TEXT];
	int a = 0, status = -1;
	qs_tx_begin(&tx);
	crumb_add(tx, crumb, &a);
	const char *argv[] = { "stranger", qs_tx_format(tx, id), NULL };
	int pid = qs_spawn("tmtest", argv, 0);
	qs_waitpid(pid, &status, 0);
	check(status == 0 && a == 0, "a process that does not own it cannot abort it");
	check(qs_tx_commit(tx) == 0 && a == QS_TX_COMMITTED, "the owner still commits");
}

static int
tm_raw(uint32_t op, const void *data, size_t len)
{
	static qs_msg_t req, reply;
	qs_msg_init(&req, op);
	qs_msg_put(&req, data, len);
	return qs_call(qs_sq_lookup(TM_QUEUE), &req, &reply, sizeof(reply));
}

/* Only the TM's notices count; only the TM serves death notices. */
static void
test_forgeries(void)
{
	uint64_t tx;
	char name[QS_NAME_MAX];
	int c = 0;
	qs_tx_begin(&tx);
	crumb_add(tx, crumb, &c);
	snprintf(name, sizeof(name), "tx.rq.%d", qs_getpid());
	static qs_msg_t note, reply;
	qs_msg_init(&note, TM_NOTE_ABORT);
	int r = qs_call(qs_sq_lookup(name), &note, &reply, sizeof(reply));
	check(r == QS_EPERM && c == 0 && crumb_count() == 1,
	      "a notice that does not come from the TM is refused");
	check(qs_tx_commit(tx) == 0 && c == QS_TX_COMMITTED, "and the TM's is not");
	static char stack[256];
	r = qs_syscall(SYS_SQ_OFFER, (uint32_t)qs_sq_lookup(QS_DEATH_QUEUE),
		       (uint32_t)crumb, (uint32_t)(stack + sizeof(stack)),
		       (uint32_t)&reply, sizeof(reply));
	check(r == QS_EPERM, "nobody but the TM offers on the death queue");
}

static void
test_bad_requests(void)
{
	tm_join_t bad_class = { 9, 1 }, no_queue = { QS_TX_VOLATILE, 0 };
	check(tm_raw(99, NULL, 0) == QS_ENOSYS, "unknown opcode");
	check(tm_raw(TM_OP_ABORT, "x", 1) == QS_EINVAL, "short abort");
	check(tm_raw(TM_OP_JOIN, &bad_class, sizeof(bad_class)) == QS_EINVAL &&
		      tm_raw(TM_OP_JOIN, &no_queue, sizeof(no_queue)) == QS_EINVAL,
	      "join with a bad class or without a recovery queue");
	uint64_t other = QS_TX(77, 0, 1);
	check(tm_raw(TM_OP_ABORT, &other, sizeof(other)) == QS_ENOENT,
	      "abort of an unknown transaction");
	uint64_t def = qs_tx_current();
	check(tm_raw(TM_OP_COMMIT, NULL, 0) == QS_EINVAL, "short commit");
	check(tm_raw(TM_OP_COMMIT, &def, sizeof(def)) == QS_OK &&
		      qs_tx_current() != def,
	      "commit of one's default transaction with nobody in it: a new one");
	static qs_msg_t reply;
	static qs_msg_t req;
	qs_msg_init(&req, TM_OP_STATS);
	int r = qs_call(qs_sq_lookup(TM_QUEUE), &req, &reply, sizeof(reply));
	const tm_stats_t *s = QS_MSG_AS(&reply, tm_stats_t);
	check(r == 0 && s && s->records == 0 && s->participants == 0,
	      "the TM still serves, and holds no records");
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "stranger") == 0)
		return stranger(argv[2]);
	check(qs_sq_lookup(TM_QUEUE) >= 0, "the TM's queue exists");
	if (check_failed)
		return check_summary("tmtest");
	test_begin_commit();
	test_crumbs();
	test_two_phase();
	test_limits();
	test_stranger();
	test_forgeries();
	test_bad_requests();
	return check_summary("tmtest");
}
