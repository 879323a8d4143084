/*
 * In-guest tests of transactions through libqs and the TM: begin, commit,
 * abort, who may do what, participants of each class voting, breadcrumbs,
 * and bad requests. Run with the TM up (test.conf).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/serve.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/thread.h>
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
	qs_tx_begin(&tx);
	check(qs_tx_join(tx, QS_TX_RECOVERABLE | QS_TX_DEATH_LEAVES, &ops) ==
			      QS_EINVAL &&
		      qs_tx_join(tx, QS_TX_NONE | QS_TX_DEATH_ABORTS, &ops) ==
			      QS_EINVAL &&
		      qs_tx_join(tx, QS_TX_VOLATILE | QS_TX_DEATH_ABORTS |
					     QS_TX_DEATH_LEAVES, &ops) ==
			      QS_EINVAL &&
		      qs_tx_join(tx, QS_TX_VOLATILE | 0x400, &ops) == QS_EINVAL &&
		      qs_tx_commit(tx) == 0,
	      "a recoverable participant may not leave at its death, nor "
	      "declare anything without a class or twice");
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

static const tm_stats_t *stats(void);

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
	/* and nobody but the kernel and the CM sends there and to tm.net: the
	 * TM refuses and counts it, as any refusal (tx stats: bad-requests) */
	const tm_stats_t *s = stats();
	uint32_t bad = s ? s->bad : 0;
	qs_death_notice_t death = { qs_getpid(), 0, tx, "tmtest" };
	tm_node_event_t down = { 1, TM_NODE_DOWN, 1 };
	qs_msg_init(&note, QS_NOTICE_DEATH);
	qs_msg_put(&note, &death, sizeof(death));
	int rd = qs_call(qs_sq_lookup(QS_DEATH_QUEUE), &note, &reply, sizeof(reply));
	qs_msg_init(&note, TM_OP_NODE);
	qs_msg_put(&note, &down, sizeof(down));
	int rn = qs_call(qs_sq_lookup(TM_NET_QUEUE), &note, &reply, sizeof(reply));
	s = stats();
	check(rd == QS_EPERM && rn == QS_EPERM && s && s->bad == bad + 2,
	      "a forged death notice or CM notice is refused and counted");
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

static const tm_stats_t *
stats(void)
{
	static qs_msg_t req, reply;
	qs_msg_init(&req, TM_OP_STATS);
	int r = qs_call(qs_sq_lookup(TM_QUEUE), &req, &reply, sizeof(reply));
	return r == 0 ? QS_MSG_AS(&reply, tm_stats_t) : NULL;
}

/* Polls (ms apart) until fn() or the deadline; returns fn()'s last word. */
static bool
wait_until(bool (*fn)(void), uint32_t deadline_ms)
{
	uint32_t end = qs_uptime_ms() + deadline_ms;
	while (!fn() && (int32_t)(end - qs_uptime_ms()) > 0)
		qs_sleep(20);
	return fn();
}

static bool
no_participants(void)
{
	const tm_stats_t *s = stats();
	return s && s->participants == 0;
}

/* A child that takes part in its default transaction (so it has a recovery
 * queue) and waits to be killed. */
static int
victim(void)
{
	int c = 0;
	if (crumb_add(qs_tx_current(), crumb, &c) < 0)
		return 1;
	for (;;)
		qs_sleep(60000);
}

static int victim_pid;

static bool
victim_ready(void)
{
	char name[QS_NAME_MAX];
	qs_sq_info_t q;
	snprintf(name, sizeof(name), TM_RQ_PREFIX "%d", victim_pid);
	return qs_sq_find(name, &q) > 0;
}

/* The TM's notices go to a joiner's own recovery queue only. */
static void
test_own_queue(void)
{
	const char *argv[] = { "victim", NULL };
	char name[QS_NAME_MAX];
	int status;
	victim_pid = qs_spawn("tmtest", argv, 0);
	bool ready = victim_pid > 0 && wait_until(victim_ready, 60000);
	snprintf(name, sizeof(name), TM_RQ_PREFIX "%d", victim_pid);
	const tm_stats_t *s = stats();
	uint32_t foreign = s ? s->foreign : 0, records = s ? s->records : 0;
	tm_join_t theirs = { QS_TX_VOLATILE, qs_sq_lookup(name) };
	check(ready && tm_raw(TM_OP_JOIN, &theirs, sizeof(theirs)) == QS_EPERM,
	      "a join naming another process's recovery queue is refused");
	int own = qs_sq_create("tmtest.notrq", 0);
	tm_join_t mine = { QS_TX_RECOVERABLE, own },
		  server = { QS_TX_VOLATILE, qs_sq_lookup("echo") };
	check(own > 0 && tm_raw(TM_OP_JOIN, &mine, sizeof(mine)) == QS_EPERM &&
		      tm_raw(TM_OP_JOIN, &server, sizeof(server)) == QS_EPERM,
	      "so is one naming another queue of its own, or a server's");
	qs_sq_destroy(own);
	s = stats();
	check(s && s->foreign == foreign + 3 && s->records == records,
	      "the TM counts them, and keeps no record of them");
	qs_kill(victim_pid);
	qs_waitpid(victim_pid, &status, 0);
	wait_until(no_participants, 60000); /* the TM has seen it die */
}

/*
 * TM_JOINS_MAX: a participant (this process, serving "tmtest.join") asked
 * to join by JOINERS children, each under its default transaction and the
 * 8 it may begin, all held open.
 */
#define JOINERS 8
#define JOIN_QUEUE "tmtest.join"
static uint32_t joins_ok, joins_limited, joins_other;

static int32_t
do_join_req(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)args, (void)reply, (void)ctx;
	int r = qs_tx_join(req->hdr.txid, QS_TX_VOLATILE, NULL);
	__atomic_add_fetch(r == 0 ? &joins_ok : r == QS_ELIMIT ? &joins_limited
							     : &joins_other,
			   1, __ATOMIC_SEQ_CST);
	return r;
}

static const qs_op_t join_ops[] = {
	[1] = { "join", 0, 0, 0, NULL, do_join_req },
};
static qs_server_t join_server = QS_SERVER("tmtest.join", join_ops, NULL);

static void *
serve_joins(void *arg)
{
	qs_serve_table((int)arg, &join_server, 2);
	return NULL;
}

/* A child: asks the participant to join each of its transactions. */
static int
joiner(void)
{
	static qs_msg_t req, reply;
	int qid = qs_sq_lookup(JOIN_QUEUE);
	uint64_t tx;
	for (int i = 0; i < 9; i++) {
		if (i > 0 && qs_tx_begin(&tx) < 0)
			return 1;
		qs_msg_init(&req, 1);
		qs_call(qid, &req, &reply, sizeof(reply));
	}
	for (;;)
		qs_sleep(60000);
}

static bool
joins_answered(void)
{
	return __atomic_load_n(&joins_ok, __ATOMIC_SEQ_CST) +
		       __atomic_load_n(&joins_limited, __ATOMIC_SEQ_CST) +
		       __atomic_load_n(&joins_other, __ATOMIC_SEQ_CST) ==
	       JOINERS * 9;
}

static void
test_joins_limit(void)
{
	const char *argv[] = { "joiner", NULL };
	int pids[JOINERS], status;
	const tm_stats_t *s = stats();
	uint32_t refused = s ? s->refused : 0;
	int qid = qs_sq_create(JOIN_QUEUE, 0);
	qs_thread_t *t = qid > 0 ? qs_thread_create(serve_joins, (void *)qid) : NULL;
	for (int i = 0; i < JOINERS; i++)
		pids[i] = t ? qs_spawn("tmtest", argv, 0) : -1;
	bool all = t && wait_until(joins_answered, 120000);
	check(all && joins_ok == TM_JOINS_MAX &&
		      joins_limited == JOINERS * 9 - TM_JOINS_MAX,
	      "a process takes part in TM_JOINS_MAX transactions at most");
	s = stats();
	check(s && s->refused == refused + JOINERS * 9 - TM_JOINS_MAX &&
		      s->participants == TM_JOINS_MAX,
	      "the TM counts the refusals");
	for (int i = 0; i < JOINERS; i++) {
		if (pids[i] > 0) {
			qs_kill(pids[i]);
			qs_waitpid(pids[i], &status, 0);
		}
	}
	uint64_t tx;
	qs_tx_begin(&tx);
	check(wait_until(no_participants, 60000) &&
		      qs_tx_join(tx, QS_TX_VOLATILE, &ops) == 0 &&
		      qs_tx_commit(tx) == 0,
	      "once those transactions ended it joins again");
	if (qid > 0)
		qs_sq_destroy(qid); /* the serving threads leave */
	if (t)
		qs_thread_join(t);
}

/*
 * What a participant's death means, as it declared (qs/tx.h): a child
 * serving DECLARE_QUEUE joins the transaction of each request as a
 * volatile participant, with the declaration the request's opcode names,
 * and is then killed before the commit.
 */
#define DECLARE_QUEUE "tmtest.declare"
enum { DECLARE_LEAVES = 1, DECLARE_ABORTS = 2, DECLARE_DEFAULT = 3 };

static int32_t
do_declare(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)args, (void)reply, (void)ctx;
	static const int how[] = { 0, QS_TX_VOLATILE | QS_TX_DEATH_LEAVES,
				   QS_TX_VOLATILE | QS_TX_DEATH_ABORTS,
				   QS_TX_VOLATILE };
	return qs_tx_join(req->hdr.txid, how[req->hdr.opcode], &ops);
}

static const qs_op_t declare_table[] = {
	[DECLARE_LEAVES] = { "leaves", 0, 0, 0, NULL, do_declare },
	[DECLARE_ABORTS] = { "aborts", 0, 0, 0, NULL, do_declare },
	[DECLARE_DEFAULT] = { "default", 0, 0, 0, NULL, do_declare },
};
static qs_server_t declare_server =
	QS_SERVER("tmtest.declare", declare_table, NULL);

static int
declarer(void)
{
	int qid = qs_sq_create(DECLARE_QUEUE, 0);
	return qid < 0 || qs_serve_table(qid, &declare_server, 1) < 0;
}

/* A new declarer joins a transaction of ours as `op` says, and dies
 * before the commit: what the commit answers. */
static int
commit_after_death(uint32_t op)
{
	static qs_msg_t req, reply;
	const char *argv[] = { "declarer", NULL };
	uint64_t tx;
	int status, r = QS_EIO;
	int pid = qs_spawn("tmtest", argv, 0), qid = QS_ENOENT;
	for (int i = 0; pid > 0 && i < 600 && qid < 0; i++) {
		qs_sq_info_t q;
		if (qs_sq_find(DECLARE_QUEUE, &q) > 0 && q.owner == pid &&
		    q.idle > 0)
			qid = q.qid;
		else
			qs_sleep(50);
	}
	if (qid < 0 || qs_tx_begin(&tx) < 0)
		goto out;
	qs_msg_init(&req, op);
	if (qs_call(qid, &req, &reply, sizeof(reply)) != 0) {
		qs_tx_abort(tx);
		goto out;
	}
	qs_kill(pid);
	qs_waitpid(pid, &status, 0);
	pid = 0;
	/* the TM has the death notice once the participant is gone */
	if (!wait_until(no_participants, 60000)) {
		qs_tx_abort(tx);
		goto out;
	}
	r = qs_tx_commit(tx);
out:
	if (pid > 0) {
		qs_kill(pid);
		qs_waitpid(pid, &status, 0);
	}
	return r;
}

static void
test_declared_death(void)
{
	check(commit_after_death(DECLARE_LEAVES) == 0,
	      "a volatile participant that declared it leaves dies: the "
	      "transaction commits without it");
	check(commit_after_death(DECLARE_DEFAULT) == 0,
	      "so does one that declared nothing");
	check(commit_after_death(DECLARE_ABORTS) == QS_EABORTED,
	      "one that declared its death aborts dies: the commit aborts");
}

/*
 * TM_UNANSWERED_MAX: a child that joins, recoverably, the transaction of
 * each request on SILENT_QUEUE and never answers a prepare.
 */
#define SILENT_QUEUE "tmtest.silent"

static int
never_vote(uint64_t tx, void *arg)
{
	(void)tx, (void)arg;
	for (;;)
		qs_sleep(60000);
	return QS_VOTE_NO; /* not reached */
}

static const qs_tx_ops_t silent_ops = { never_vote, NULL, NULL };

static int32_t
do_silent_join(const qs_msg_t *req, const void *args, qs_msg_t *reply,
	       void *ctx)
{
	(void)args, (void)reply, (void)ctx;
	return qs_tx_join(req->hdr.txid, QS_TX_RECOVERABLE, &silent_ops);
}

static const qs_op_t silent_table[] = {
	[1] = { "join", 0, 0, 0, NULL, do_silent_join },
};
static qs_server_t silent_server = QS_SERVER("tmtest.silent", silent_table, NULL);

static int
silent(void)
{
	int qid = qs_sq_create(SILENT_QUEUE, 0);
	return qid < 0 || qs_serve_table(qid, &silent_server, 2) < 0;
}

static bool
silent_ready(void)
{
	qs_sq_info_t q;
	return qs_sq_find(SILENT_QUEUE, &q) > 0;
}

/* The silent child joins tx: the answer to a request under it. */
static int
ask_silent(uint64_t tx)
{
	static qs_msg_t req, reply;
	uint64_t prev = qs_tx_current();
	qs_tx_set(tx);
	qs_msg_init(&req, 1);
	int r = qs_call(qs_sq_lookup(SILENT_QUEUE), &req, &reply, sizeof(reply));
	qs_tx_set(prev);
	return r;
}

static void *
commit_thread(void *arg)
{
	return (void *)qs_tx_commit(*(uint64_t *)arg);
}

static uint32_t unanswered0, held0;

static bool
silent_reaped(void)
{
	const tm_stats_t *s = stats();
	return s && s->unanswered == unanswered0 && s->held == held0;
}

static void
test_silent_participant(void)
{
	const char *argv[] = { "silent", NULL };
	int status, joined = 0, aborted = 0;
	uint64_t tx[6];
	qs_thread_t *t[4];
	const tm_stats_t *s = stats();
	if (!s) {
		check(0, "the TM's counters");
		return;
	}
	uint32_t unasked = s->unasked, refused = s->refused, vote_ms = s->vote_ms;
	unanswered0 = s->unanswered;
	held0 = s->held;
	int pid = qs_spawn("tmtest", argv, 0);
	bool ready = pid > 0 && wait_until(silent_ready, 60000);
	for (int i = 0; i < 5; i++) {
		qs_tx_begin(&tx[i]);
		joined += ready && ask_silent(tx[i]) == 0;
	}
	/* four commits at once: four prepares, then four aborts, unanswered */
	for (int i = 0; i < 4; i++)
		t[i] = qs_thread_create(commit_thread, &tx[i + 1]);
	for (int i = 0; i < 4; i++)
		aborted += t[i] && (int)qs_thread_join(t[i]) == QS_EABORTED;
	s = stats();
	check(joined == 5 && aborted == 4 && s &&
		      s->unanswered == unanswered0 + TM_UNANSWERED_MAX,
	      "a participant that never answers: its transactions abort");
	uint32_t t0 = qs_uptime_ms();
	int r = qs_tx_commit(tx[0]);
	uint32_t took = qs_uptime_ms() - t0;
	s = stats();
	check(r == QS_EABORTED && took < vote_ms && s &&
		      s->unasked == unasked + 1 && s->held == held0 + 1,
	      "at TM_UNANSWERED_MAX it is not asked to vote; its abort waits");
	qs_tx_begin(&tx[5]);
	r = ask_silent(tx[5]);
	s = stats();
	check(r == QS_ELIMIT && s && s->refused == refused + 1 &&
		      qs_tx_commit(tx[5]) == 0,
	      "nor may it join again");
	check(commit_with_vote(QS_VOTE_YES) == 0 && ended == QS_TX_COMMITTED,
	      "another participant's two-phase commit commits");
	if (pid > 0) {
		qs_kill(pid);
		qs_waitpid(pid, &status, 0);
	}
	check(wait_until(silent_reaped, 60000),
	      "once it is gone, its notices are collected");
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "stranger") == 0)
		return stranger(argv[2]);
	if (argc == 2 && strcmp(argv[1], "victim") == 0)
		return victim();
	if (argc == 2 && strcmp(argv[1], "joiner") == 0)
		return joiner();
	if (argc == 2 && strcmp(argv[1], "silent") == 0)
		return silent();
	if (argc == 2 && strcmp(argv[1], "declarer") == 0)
		return declarer();
	check(qs_sq_lookup(TM_QUEUE) >= 0, "the TM's queue exists");
	if (check_failed)
		return check_summary("tmtest");
	test_begin_commit();
	test_crumbs();
	test_two_phase();
	test_limits();
	test_stranger();
	test_forgeries();
	test_own_queue();
	test_joins_limit();
	test_silent_participant();
	test_declared_death();
	test_bad_requests();
	return check_summary("tmtest");
}
