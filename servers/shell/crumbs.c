/*
 * `crumbs`: everything a transaction can leave behind on this node, one
 * line per server, from each server's own counters: the TM's records, the
 * file server's handles, uncommitted transactions, locks, in-doubt
 * transactions and log windows, the window manager's windows and
 * breadcrumbs, the CM's requests in flight, remembered answers and
 * recoverable marks, and every one's heap in use. After a transaction
 * ends, however it ends, each returns to what it was before (the heap to
 * its level after a first transaction warmed the caches).
 */
#include <stdio.h>
#include <string.h>
#include <qs/cm.h>
#include <qs/fs.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/tm.h>
#include <qs/wm.h>
#include "crumbs.h"

/* Asks the local server at `queue` for its counters (op, no data). */
static const void *
ask(const char *queue, uint32_t op, uint32_t len)
{
	static qs_msg_t req, reply;
	int qid = qs_sq_lookup(queue);
	int r = qid;
	if (qid >= 0) {
		qs_msg_init(&req, op);
		r = qs_call(qid, &req, &reply, sizeof(reply));
	}
	if (r >= 0 && reply.hdr.len >= len)
		return reply.data;
	printf("%-2s %s\n", queue, qid < 0 ? "not running" : qs_strerror(r < 0 ? r : QS_EINVAL));
	return NULL;
}

void
cmd_crumbs(int argc, char **argv)
{
	(void)argc, (void)argv;
	const tm_stats_t *t = ask(TM_QUEUE, TM_OP_STATS, sizeof(*t));
	if (t)
		printf("tm records %u in-doubt %u owed %u heap %u\n",
		       t->records, t->in_doubt, t->log_owed, t->heap);
	const fs_df_t *f = ask(FS_QUEUE, FS_OP_DF, sizeof(*f));
	if (f)
		printf("fs handles %u transactions %u locks %u in-doubt %u "
		       "log-windows %u heap %u\n", f->handles, f->transactions,
		       f->locks, f->in_doubt, f->log_windows, f->heap);
	const wm_stats_t *w = ask(WM_QUEUE, WM_OP_STATS, sizeof(*w));
	if (w)
		printf("wm windows %u crumbs %u heap %u\n", w->windows, w->crumbs,
		       w->heap);
	const cm_rpc_stats_t *c = ask(CM_QUEUE, CM_OP_RPC_STATS, sizeof(*c));
	if (c)
		printf("cm inflight %u cached %u marks %u heap %u\n", c->inflight,
		       c->cached, c->marks, c->heap);
}
