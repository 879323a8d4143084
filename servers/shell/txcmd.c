/*
 * `tx`: the TM's records (id, owner, coordinator, state, superior and
 * subordinate nodes, participants with their classes and votes), `tx stats`
 * its counters, `tx abort ID`, and `tx outcome ID`: how the TM says it
 * ended (one it has no record or log entry of is presumed aborted).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/log.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/tm.h>
#include <qs/tx.h>
#include "txcmd.h"

static const char *const states[] = { "?", "active", "preparing", "committed",
				      "aborted", "prepared" };
static const char *const classes[] = { "none", "volatile", "recoverable" };
static const char *const votes[] = { "yes", "no", "read-only" };

static int
tm_request(uint32_t op, const void *data, size_t len, qs_msg_t *reply)
{
	static qs_msg_t req;
	int qid = qs_sq_lookup(TM_QUEUE);
	if (qid < 0)
		return qid;
	qs_msg_init(&req, op);
	qs_msg_put(&req, data, len);
	return qs_call(qid, &req, reply, sizeof(*reply));
}

static void
print_nodes(uint32_t n, const uint32_t *nodes)
{
	char buf[64] = "-";
	size_t at = 0;
	for (uint32_t i = 0; i < n && i < TM_SUBS_MAX && at < sizeof(buf) - 12; i++)
		at += (size_t)snprintf(buf + at, sizeof(buf) - at, "%s%u",
				       i ? "," : "", nodes[i]);
	printf(" %-5s", buf);
}

static void
print_tx(const tm_tx_info_t *t)
{
	char id[QS_TX_TEXT];
	int st = t->state >= 1 && t->state <= 5 ? t->state : 0;
	char owner[12] = "-"; /* another node's transaction */
	if (t->owner > 0)
		snprintf(owner, sizeof(owner), "%d", t->owner);
	printf("%-12s %5s %5u %-9s", qs_tx_format(t->tx, id), owner,
	       t->coordinator, states[st]);
	print_nodes(t->superior == TM_NO_NODE ? 0 : 1, &t->superior);
	print_nodes(t->nsubs, t->subs);
	for (uint32_t i = 0; i < t->nparts && i < TM_PARTS_MAX; i++) {
		const tm_part_info_t *p = &t->parts[i];
		printf(" %d:%s", p->pid,
		       p->cls >= 0 && p->cls <= 2 ? classes[p->cls] : "?");
		if (p->vote >= 0 && p->vote <= 2)
			printf("(%s)", votes[p->vote]);
	}
	printf("\n");
}

static void
tx_list(void)
{
	static qs_msg_t reply;
	uint32_t first = 0;
	printf("TX           OWNER COORD STATE     SUP   SUBS  PARTICIPANTS\n");
	for (;;) {
		int r = tm_request(TM_OP_LIST, &first, sizeof(first), &reply);
		const tm_list_t *l = QS_MSG_AS(&reply, tm_list_t);
		if (r < 0 || !l) {
			printf("tx: %s\n", qs_strerror(r < 0 ? r : QS_EINVAL));
			return;
		}
		const tm_tx_info_t *t = (const tm_tx_info_t *)(l + 1);
		for (uint32_t i = 0; i < l->count; i++)
			print_tx(&t[i]);
		first += l->count;
		if (l->count == 0 || first >= l->total)
			return;
	}
}

static void
tx_stats(void)
{
	static qs_msg_t reply;
	int r = tm_request(TM_OP_STATS, NULL, 0, &reply);
	const tm_stats_t *s = QS_MSG_AS(&reply, tm_stats_t);
	if (r < 0 || !s) {
		printf("tx: %s\n", qs_strerror(r < 0 ? r : QS_EINVAL));
		return;
	}
	printf("tm: records %u participants %u begun %u committed %u aborted %u "
	       "deaths %u vote-timeouts %u notices %u unanswered %u vote-ms %u\n",
	       s->records, s->participants, s->begun, s->committed, s->aborted,
	       s->deaths, s->vote_timeouts, s->notices, s->unanswered,
	       s->vote_ms);
	printf("tm: log %s forces %u entries %u owed %u recovered-committed %u "
	       "recovered-in-doubt %u\n", s->logging ? "on" : "off",
	       s->log_forces, s->log_entries, s->log_owed, s->log_committed,
	       s->log_in_doubt);
	printf("tm: tree msgs-out %u msgs-in %u one-phase %u two-phase %u "
	       "read-only %u in-doubt %u orphans %u resolved %u delegated %u\n",
	       s->msgs_out, s->msgs_in, s->one_phase, s->two_phase, s->read_only,
	       s->in_doubt, s->orphans, s->resolved, s->delegated);
	printf("tm: bad-requests %u refused %u foreign-queue %u unasked %u "
	       "held %u clients %u\n", s->bad, s->refused, s->foreign,
	       s->unasked, s->held, s->clients);
}

static int
parse_tx(const char *arg, uint64_t *tx)
{
	if (qs_tx_parse(arg, tx) == 0)
		return 0;
	printf("tx: bad transaction id: %s (NODE.INCARNATION.COUNTER)\n", arg);
	return -1;
}

static void
tx_outcome(const char *arg)
{
	uint64_t tx;
	if (parse_tx(arg, &tx) < 0)
		return;
	int r = qs_tx_outcome(tx);
	if (r == QS_TX_COMMITTED || r == QS_TX_ABORTED)
		printf("tx %s %s\n", arg, r == QS_TX_COMMITTED ? "committed" : "aborted");
	else if (r == QS_EAGAIN)
		printf("tx %s undecided\n", arg);
	else
		printf("tx: outcome %s: %s\n", arg, qs_strerror(r));
}

static void
tx_abort(const char *arg)
{
	uint64_t tx;
	if (parse_tx(arg, &tx) < 0)
		return;
	int r = qs_tx_abort(tx);
	if (r < 0)
		printf("tx: abort %s: %s\n", arg, qs_strerror(r));
	else
		printf("tx %s aborted\n", arg);
}

void
cmd_tx(int argc, char **argv)
{
	if (argc == 1)
		tx_list();
	else if (argc == 2 && strcmp(argv[1], "stats") == 0)
		tx_stats();
	else if (argc == 3 && strcmp(argv[1], "abort") == 0)
		tx_abort(argv[2]);
	else if (argc == 3 && strcmp(argv[1], "outcome") == 0)
		tx_outcome(argv[2]);
	else
		printf("usage: tx [stats|abort txid|outcome txid]\n");
}

/* `log`: the node log manager's counters (servers/log). */
void
cmd_log(int argc, char **argv)
{
	static const char *const hows[] = { "before", "torn", "after" };
	log_stats_t s;
	if (argc == 4 && strcmp(argv[1], "crash") == 0) {
		long n;
		int how = 0;
		for (int i = 0; i < 3; i++)
			if (strcmp(argv[3], hows[i]) == 0)
				how = LOG_CRASH_BEFORE + i;
		if (qs_parse_int(argv[2], &n) < 0 || n < 1 || !how) {
			printf("usage: log [crash flush before|torn|after]\n");
			return;
		}
		int e = qs_log_crash_at((uint32_t)n, (uint32_t)how);
		printf("log: crash point: %s\n", e < 0 ? qs_strerror(e) : "armed");
		return;
	}
	if (argc != 1) {
		printf("usage: log [crash flush before|torn|after]\n");
		return;
	}
	int r = qs_log_stats(&s);
	if (r < 0) {
		printf("log: %s\n", qs_strerror(r));
		return;
	}
	printf("log: size %llu KiB used %llu KiB live %u owners %u "
	       "recovered %u\n", (unsigned long long)(s.size / 1024),
	       (unsigned long long)(s.used / 1024), s.live, s.owners,
	       s.recovered);
	printf("log: appends %llu bytes %llu forces %u forced %u lazy %u "
	       "lazy-flushes %u group %u group-flushes %u\n",
	       (unsigned long long)s.appends, (unsigned long long)s.bytes,
	       s.forces, s.forced, s.lazy, s.lazy_flushes, s.group,
	       s.group_flushes);
	printf("log: releases %u carried %u full %u bad-requests %u\n",
	       s.releases, s.carried, s.full, s.refused);
}
