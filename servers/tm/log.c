/*
 * The TM's log: the two-phase commit points that must survive a crash, kept
 * with libqs's RVM on the disk server's regions tm.log (the redo log) and
 * tm.seg (a table of entries). A commit decision is forced before anyone is
 * told (the commit point), with the subordinate nodes that voted yes; the
 * entry is dropped, unforced, once every recoverable participant and those
 * subordinates have acknowledged. A subordinate's "prepared" is forced the
 * same way, with its superior (whom to ask) and its own subordinates.
 * Presumed abort: a transaction with no entry aborted, so aborts and
 * one-phase commits write nothing.
 *
 * At start the TM reads the table: committed entries are answered as such
 * when a participant recovering from the crash asks (TM_OP_OUTCOME);
 * prepared ones stay in doubt until the superior says (tree.c), and
 * committed ones with subordinates are pushed to them again. An entry from an earlier boot is dropped when
 * the table is full: participants ask as they recover, right after boot.
 *
 * Without a disk server (a node booted without one) the TM runs without a
 * log and says so: nothing recoverable can commit durably then.
 */
#include <stdio.h>
#include <string.h>
#include <qs/rvm.h>
#include <qs/sys.h>
#include <qs/tx.h>
#include "tm.h"

#define LOG_MAGIC 0x324C4D54u /* "TML2": entries with superior and subs */
#define SLOTS 1024

typedef struct {
	uint32_t magic;
	uint32_t boots;       /* starts of this TM on this disk */
	uint32_t incarnation; /* the node's, at the last start */
} log_head_t;

typedef struct {
	tm_log_rec_t rec; /* rec.state 0: a free slot */
	uint32_t boot;    /* the boot that wrote it */
} log_entry_t;

typedef struct {
	log_head_t head;
	uint8_t pad[RVM_SECTOR - sizeof(log_head_t)];
	log_entry_t slot[SLOTS];
} log_table_t;

static log_table_t *table; /* NULL: no log */

static int
log_write(void *p, uint32_t len, const void *value, rvm_mode_t mode)
{
	rvm_tid_t tid;
	if (rvm_begin_transaction(&tid, RVM_NO_RESTORE) != RVM_SUCCESS)
		return QS_ENOMEM;
	rvm_return_t r = rvm_set_range(&tid, p, len);
	if (r == RVM_SUCCESS) {
		memcpy(p, value, len);
		r = rvm_end_transaction(&tid, mode);
	} else {
		rvm_end_transaction(&tid, RVM_NO_FLUSH); /* nothing set */
	}
	if (r != RVM_SUCCESS) {
		printf("tm: log write failed: %s\n", rvm_strerror(r));
		return QS_EIO;
	}
	if (mode == RVM_FLUSH)
		tm_stats.log_forces++;
	return 0;
}

int
tmlog_open(void)
{
	rvm_options_t opt;
	memset(&opt, 0, sizeof(opt));
	opt.log_dev = "tm.log";
	rvm_return_t r = rvm_initialize("qs", &opt);
	if (r == RVM_ELOG) {
		rvm_dev_t *d = rvm_dev_open(opt.log_dev, 0);
		if (!d) {
			printf("tm: no disk region %s: running without a log\n",
			       opt.log_dev);
			return QS_ENOENT;
		}
		uint64_t len = d->size;
		d->close(d);
		if ((r = rvm_create_log(&opt, len)) == RVM_SUCCESS)
			r = rvm_initialize("qs", &opt);
	}
	static rvm_region_t region = { "tm.seg", 0, sizeof(log_table_t), NULL };
	if (r == RVM_SUCCESS)
		r = rvm_map(&region, NULL);
	if (r != RVM_SUCCESS) {
		printf("tm: cannot open the log: %s; running without one\n",
		       rvm_strerror(r));
		return QS_EIO;
	}
	table = region.vmaddr;
	log_head_t head = table->head;
	if (head.magic != LOG_MAGIC) {
		static const log_table_t empty = { .head = { LOG_MAGIC, 0 } };
		if (log_write(table, sizeof(*table), &empty, RVM_FLUSH) < 0) {
			table = NULL;
			return QS_EIO;
		}
		head = table->head;
	}
	/* Transaction ids carry the incarnation: if it did not advance, new
	 * ids may repeat ones this log holds. */
	qs_node_info_t ni;
	qs_node_info(&ni);
	if (head.boots && ni.incarnation <= head.incarnation)
		printf("tm: warning: node incarnation %u did not advance past %u: "
		       "transaction ids may repeat earlier ones (boot with "
		       "tools/bin/qsnet, which counts starts)\n", ni.incarnation,
		       head.incarnation);
	head.incarnation = ni.incarnation;
	head.boots++;
	if (log_write(&table->head, sizeof(head), &head, RVM_FLUSH) < 0) {
		table = NULL;
		return QS_EIO;
	}
	uint32_t committed = 0, prepared = 0;
	for (int i = 0; i < SLOTS; i++) {
		committed += table->slot[i].rec.state == TM_LOG_COMMITTED;
		prepared += table->slot[i].rec.state == TM_LOG_PREPARED;
	}
	tm_stats.log_committed = committed;
	tm_stats.log_in_doubt = prepared;
	printf("tm: log: boot %u, %u committed and %u in-doubt transactions "
	       "from before\n", head.boots, committed, prepared);
	return 0;
}

static log_entry_t *
entry(uint64_t tx)
{
	for (int i = 0; table && i < SLOTS; i++)
		if (table->slot[i].rec.state && table->slot[i].rec.tx == tx)
			return &table->slot[i];
	return NULL;
}

/* A slot for a new entry: a free one, else one from an earlier boot. */
static log_entry_t *
free_entry(void)
{
	log_entry_t *old = NULL;
	for (int i = 0; i < SLOTS; i++) {
		if (!table->slot[i].rec.state)
			return &table->slot[i];
		if (table->slot[i].boot < table->head.boots && !old)
			old = &table->slot[i];
	}
	return old;
}

int
tmlog_force(const tm_log_rec_t *rec)
{
	if (!table)
		return 0; /* no log: nothing can be made durable */
	log_entry_t *e = entry(rec->tx);
	if (!e && !(e = free_entry()))
		return QS_ENOSPC;
	log_entry_t v = { *rec, table->head.boots };
	return log_write(e, sizeof(*e), &v, RVM_FLUSH);
}

void
tmlog_end(uint64_t tx)
{
	log_entry_t *e = entry(tx);
	static const log_entry_t none;
	if (e)
		log_write(e, sizeof(*e), &none, RVM_NO_FLUSH);
}

uint32_t
tmlog_state(uint64_t tx)
{
	log_entry_t *e = entry(tx);
	return e ? e->rec.state : 0;
}

int
tmlog_pending(uint32_t *i, tm_log_rec_t *out)
{
	for (; table && *i < SLOTS; (*i)++) {
		const log_entry_t *e = &table->slot[*i];
		if (e->rec.state == TM_LOG_PREPARED ||
		    (e->rec.state == TM_LOG_COMMITTED && e->rec.nsubs)) {
			*out = e->rec;
			(*i)++;
			return 1;
		}
	}
	return 0;
}

uint32_t
tmlog_entries(void)
{
	uint32_t n = 0;
	for (int i = 0; table && i < SLOTS; i++)
		n += table->slot[i].rec.state != 0;
	return n;
}
