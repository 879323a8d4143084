/*
 * Recovery at start: RVM has replayed its log (LRVM) or undone what a
 * crash interrupted (Vista) when it was mapped; what is left are the
 * transactions a crash left prepared. Those the TM knows the outcome of
 * are resolved at once, the segment is checked (and a new one formatted),
 * and what the rest changed is locked until a thread learns how they
 * ended.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sys.h>
#include <qs/tx.h>
#include "fs.h"

static bool guarded; /* the in-doubt transactions' locks are taken */

/*
 * ---- in-doubt transactions -------------------------------------------
 *
 * A transaction a crash left prepared is in doubt until the TM says how it
 * ended: it may take as long as its coordinator's node is down or cut off.
 * Meanwhile the server serves, and everything the transaction changed
 * stays locked (or its blocks reserved) for it, as for any transaction
 * that has not ended: others get QS_EBUSY for its files and directories
 * and cannot allocate what it allocated or freed. That keeps the bytes of
 * its RVM ranges (rvm_in_doubt_ranges) out of every other transaction, so
 * rvm_resolve, copying its new values in (LRVM commit) or its old ones
 * back (Vista abort), clobbers no one. A thread asks the TM every second
 * and resolves each as soon as the TM knows.
 */

/* With fs_lock: locks and reserves what every in-doubt transaction
 * changed. QS_E2BIG when RVM cannot list them all (more than
 * RVM_IN_DOUBT_MAX): the caller must not serve yet. */
static int
guard_in_doubt(void)
{
	rvm_options_t q;
	memset(&q, 0, sizeof(q));
	if (rvm_query(&q, NULL) != RVM_SUCCESS)
		return QS_EIO;
	if (q.n_in_doubt == 0)
		return 0;
	if (q.n_in_doubt > RVM_IN_DOUBT_MAX)
		return QS_E2BIG;
	uint32_t *owner = malloc(fs_super()->blocks * sizeof(*owner));
	if (!owner)
		return QS_ENOMEM;
	fs_block_owners(owner);
	int r = 0;
	for (uint32_t i = 0; i < q.n_in_doubt && r == 0; i++) {
		uint32_t n = 0;
		rvm_span_t *spans = NULL;
		rvm_return_t rr = rvm_in_doubt_ranges(q.in_doubt[i], NULL, 0, &n);
		if (rr == RVM_SUCCESS && !(spans = malloc((n + 1) * sizeof(*spans))))
			r = QS_ENOMEM;
		else if (rr == RVM_SUCCESS)
			rr = rvm_in_doubt_ranges(q.in_doubt[i], spans, n, &n);
		if (rr != RVM_SUCCESS) {
			printf("fs: the ranges of an in-doubt transaction: %s\n",
			       rvm_strerror(rr));
			r = QS_EIO;
		}
		fs_tx_in_doubt(q.in_doubt[i]);
		for (uint32_t k = 0; r == 0 && k < n; k++)
			fs_guard_range(q.in_doubt[i], spans[k].addr, spans[k].len,
				       owner);
		free(spans);
	}
	free(owner);
	return r;
}

/*
 * Asks the TM once about each in-doubt transaction and resolves those it
 * knows the outcome of (QS_TX_COMMITTED or QS_TX_ABORTED; QS_EAGAIN while
 * it is still finding out). Answers how many are left in doubt, or
 * QS_EIO if RVM cannot be asked.
 */
static int
resolve_known(void)
{
	rvm_options_t q;
	memset(&q, 0, sizeof(q));
	qs_mutex_lock(&fs_lock);
	rvm_return_t rr = rvm_query(&q, NULL);
	qs_mutex_unlock(&fs_lock);
	if (rr != RVM_SUCCESS)
		return QS_EIO;
	uint32_t left = q.n_in_doubt, n = left < RVM_IN_DOUBT_MAX
		? left : RVM_IN_DOUBT_MAX;
	for (uint32_t i = 0; i < n; i++) {
		char txt[QS_TX_TEXT];
		int outcome = qs_tx_outcome(q.in_doubt[i]); /* a call: no fs_lock */
		if (outcome != QS_TX_COMMITTED && outcome != QS_TX_ABORTED)
			continue;
		qs_mutex_lock(&fs_lock);
		rr = rvm_resolve(q.in_doubt[i], outcome == QS_TX_COMMITTED);
		if (rr == RVM_SUCCESS) {
			left--;
			/* Its locks go; the others' are taken again in the
			 * same breath, in case one of them shared one. */
			fs_tx_resolved(q.in_doubt[i]);
			if (guarded && guard_in_doubt() < 0)
				printf("fs: cannot guard the in-doubt transactions"
				       " again\n");
		}
		qs_mutex_unlock(&fs_lock);
		/* An RVM failure is tried again at the next round. */
		printf("fs: in-doubt transaction %s %s\n",
		       qs_tx_format(q.in_doubt[i], txt),
		       rr != RVM_SUCCESS ? rvm_strerror(rr)
		       : outcome == QS_TX_COMMITTED ? "committed" : "aborted");
	}
	return (int)left;
}

/* Nothing is in doubt here: the TM lets go of the commits it kept for
 * this server's earlier incarnations (qs_tx_recovered). */
static void
recovered(void)
{
	int r = qs_tx_recovered();
	if (r < 0)
		printf("fs: telling the TM it has recovered: %s\n",
		       qs_strerror(r));
}

/* Resolves the in-doubt transactions in the background, asking the TM
 * every second (a poll of the TM's state: it learns from the coordinator
 * at its own pace), until none is left. */
static void *
in_doubt_thread(void *arg)
{
	(void)arg;
	int left;
	while ((left = resolve_known()) != 0) {
		if (left < 0)
			printf("fs: cannot list the in-doubt transactions;"
			       " trying again\n");
		qs_sleep(1000);
	}
	printf("fs: no transaction in doubt any more\n");
	recovered();
	return NULL;
}


static int
format(uint32_t size)
{
	fs_tx_t t;
	memset(&t, 0, sizeof(t));
	if (rvm_begin_transaction(&t.tid, RVM_RESTORE) != RVM_SUCCESS)
		return QS_ENOMEM;
	int r = fs_format(&t, size);
	if (r < 0) {
		rvm_abort_transaction(&t.tid);
		return r;
	}
	return rvm_end_transaction(&t.tid, RVM_FLUSH) == RVM_SUCCESS ? 0 : QS_EIO;
}

/*
 * Checks the segment once what the TM knows is resolved, and formats it if
 * it holds no file system yet. The layout must be sound to tell what the
 * in-doubt transactions changed, and formatting must not overwrite them:
 * a segment that fails its check waits for their outcomes (a new file
 * system has none; a damaged one is not served anyway).
 */
static int
check_segment(uint32_t size)
{
	int left = resolve_known();
	int r = fs_check(size);
	if (r < 0 && left != 0) {
		printf("fs: waiting for the TM to resolve the in-doubt"
		       " transactions\n");
		while (resolve_known() != 0)
			qs_sleep(1000);
		r = fs_check(size);
	}
	if (r == QS_ENOENT) {
		printf("fs: formatting %u KiB\n", size / 1024);
		r = format(size);
	}
	return r;
}

/* Locks what the in-doubt transactions changed before anything is served:
 * unguarded, they could be clobbered, so until the TM has resolved enough
 * of them for RVM to list the rest, nothing is. */
static void
guard_all(void)
{
	int r;
	qs_mutex_lock(&fs_lock);
	while ((r = guard_in_doubt()) < 0) {
		qs_mutex_unlock(&fs_lock);
		printf("fs: cannot lock what the in-doubt transactions changed"
		       " (%s); waiting for the TM\n", qs_strerror(r));
		int left;
		do {
			left = resolve_known();
			qs_sleep(1000);
		} while (left > RVM_IN_DOUBT_MAX);
		qs_mutex_lock(&fs_lock);
	}
	guarded = true;
	qs_mutex_unlock(&fs_lock);
}

int
fs_recover(uint32_t size)
{
	int r = check_segment(size);
	if (r < 0) {
		printf("fs: the file system is damaged (%s); not serving it\n",
		       qs_strerror(r));
		return r;
	}
	if ((r = fs_txn_init(fs_super()->inodes, fs_super()->blocks)) < 0)
		return r;
	guard_all();
	int left = resolve_known();
	if (left == 0) {
		recovered();
	} else {
		printf("fs: %d transaction(s) in doubt: serving, with what they"
		       " changed locked until the TM knows how they ended\n", left);
		if (!qs_thread_create(in_doubt_thread, NULL)) {
			printf("fs: cannot start the in-doubt thread\n");
			return QS_ENOMEM;
		}
	}
	return 0;
}
