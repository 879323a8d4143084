/*
 * LRVM over the node's log (qs/log.h): a log_dev "node:OWNER" puts the
 * redo records into the node log, as records of OWNER, instead of a log
 * device of RVM's own. As in Quicksilver, one log per node holds the TM's
 * commit records and the servers' recovery records, so that one force at
 * the TM's commit point covers both: in this mode a PREPARE, the commit
 * of a prepared transaction and the abort of one are appended unforced
 * (the TM forces its own record after them: the subordinate's "prepared"
 * before it votes, the coordinator's decision, the subordinate's
 * "committed" before it acknowledges). A top-level flush commit still
 * forces, and so does the commit of an in-doubt transaction resolved
 * after recovery.
 *
 * The records are the device log's (rvm_int.h), sealed with their crc
 * (the node log checks its own too), each the data of one node-log record,
 * or of several when longer than LOG_DATA_MAX: every part but the last has
 * NODE_MORE in its kind, and all have the same key. The node log is
 * durable in order (a force covers every earlier append), so the last
 * part present means all are; a record whose last part is missing is a
 * torn tail, and any record of this owner after it is damage.
 *
 * Keys: commits, commits of prepared transactions and aborts of them take
 * their position in RVM's own stream of records (rvm.log.tail, growing by
 * their length), so that a truncation epoch that brought the segments up
 * to position E releases keys 0..E-1 in one call (what the status block's
 * head does on a device). PREPAREs take NODE_PREP | a counter, outside
 * that range: the node log keeps them, carried forward as it wraps, until
 * their outcome is logged and they are released one by one. So nothing is
 * copied forward here (no prep_carry).
 *
 * The stats' log_writes and log_forces (the device's) stay 0: the node
 * log's manager counts its own (qs/log.h, log_stats_t).
 *
 * RVM's log "area" in this mode is its allowance: NODE_SHARE_PCT of the
 * node log (whose log manager lets an owner take half of it), so that
 * truncate_pct and make_room work as on a device.
 */
#include <stdlib.h>
#include <string.h>
#include <qs/log.h>
#include "rvm_int.h"

#define NODE_MORE 0x100             /* kind: another part follows */
#define NODE_PREP (1ull << 63)      /* key: a PREPARE's */
#define NODE_SHARE_PCT 37           /* of the node log, for this owner */

static uint32_t handle;
static uint64_t next_prep = 1;

const char *
node_owner(const char *log_dev)
{
	static const char prefix[] = RVM_NODE_LOG;
	if (strncmp(log_dev, prefix, sizeof(prefix) - 1))
		return NULL;
	return log_dev + sizeof(prefix) - 1;
}

static rvm_return_t
node_err(int e)
{
	switch (e) {
	case QS_ENOSPC:
		return RVM_ELOG_FULL;
	case QS_ENOMEM:
		return RVM_ENO_MEMORY;
	default:
		return RVM_EIO;
	}
}

rvm_return_t
node_open(const char *owner)
{
	log_stats_t st;
	int e = qs_log_open(owner, &handle, NULL);
	if (e == QS_ENOENT)
		return RVM_ELOG; /* no log manager on this node */
	if (e < 0)
		return node_err(e);
	if ((e = qs_log_stats(&st)) < 0)
		return node_err(e);
	rvm_log_t *l = &rvm.log;
	l->area = SECT_DOWN(st.size * NODE_SHARE_PCT / 100);
	if (l->area < 8 * RVM_SECTOR)
		return RVM_ELOG;
	rvm.node = 1;
	next_prep = 1;
	return RVM_SUCCESS;
}

/* A failure whose effect on the log is unknown breaks it, as a device
 * error does: later work is refused, and recovery judges. */
static rvm_return_t
node_failed(int e)
{
	rvm_return_t r = node_err(e);
	if (r == RVM_EIO)
		rvm.log.broken = RVM_EIO;
	return r;
}

rvm_return_t
node_append(uint8_t *rec, uint32_t len, int force, uint64_t *pos,
	    uint64_t *seq)
{
	rvm_log_t *l = &rvm.log;
	rec_hdr_t h;
	rec_header(rec, &h);
	int prep = h.kind == REC_PREPARE;
	if (l->broken)
		return l->broken;
	if (!prep && !log_fits(len))
		return RVM_ELOG_FULL;
	uint64_t key = prep ? NODE_PREP | next_prep : l->tail;
	rec_seal(rec, len, l); /* its chain fields unused: the node log chains */
	for (uint32_t at = 0; at < len;) {
		uint32_t n = len - at < LOG_DATA_MAX ? len - at : LOG_DATA_MAX;
		int last = at + n == len;
		uint16_t kind = (uint16_t)(h.kind | (last ? 0 : NODE_MORE));
		int e = qs_log_append(handle, kind, key, rec + at, n,
				      last && force ? LOG_F_FORCE : 0, NULL);
		if (e == QS_ENOSPC && at) /* no room for the rest: none of it */
			return node_release_key(key) ? l->broken
						     : RVM_ELOG_FULL;
		if (e < 0)
			return at ? node_failed(QS_EIO) : node_failed(e);
		at += n;
	}
	if (pos)
		*pos = key;
	if (seq)
		*seq = l->next_seq;
	if (prep)
		next_prep++;
	else
		l->tail += len;
	l->next_seq++;
	rvm.stats.log_bytes += len;
	return RVM_SUCCESS;
}

rvm_return_t
node_force(void)
{
	rvm_log_t *l = &rvm.log;
	if (l->broken)
		return l->broken;
	int e = qs_log_force(handle, 0, 0);
	return e < 0 ? node_failed(e) : RVM_SUCCESS;
}

/* The segments hold every record below head: their keys go. */
rvm_return_t
node_release(uint64_t head)
{
	int e = head ? qs_log_release(handle, 0, head - 1) : 0;
	return e < 0 ? node_failed(e) : RVM_SUCCESS;
}

/* One record: a PREPARE whose outcome is logged, a torn tail, the parts
 * of one that did not fit. A failure breaks the log whatever it was: a
 * PREPARE left behind its outcome, once a truncation took the outcome
 * away, would be in doubt again after a restart, and its values applied
 * over later commits. */
rvm_return_t
node_release_key(uint64_t key)
{
	int e = qs_log_release(handle, key, key);
	if (e < 0 && !rvm.log.broken)
		rvm.log.broken = RVM_EIO;
	return e < 0 ? rvm.log.broken : RVM_SUCCESS;
}

/* Whether rec (len bytes, reassembled) is a sealed record of its kind. */
static int
node_valid(const uint8_t *rec, uint32_t len, int kind)
{
	rec_hdr_t h;
	if (len < REC_MIN)
		return 0;
	rec_header(rec, &h);
	return h.magic == REC_MAGIC && h.len == len && h.kind == kind &&
	       rec_sealed(rec, len);
}

static rvm_return_t
damaged(uint64_t seq, uint64_t key, const char *what)
{
	rvm.damage.kind = RVM_DAMAGE_RECORD;
	rvm.damage.pos = key;
	rvm.damage.seq = seq;
	damage_say("the node log's record %llu (key %#llx) %s",
		   (unsigned long long)seq, (unsigned long long)key, what);
	return RVM_ECORRUPT;
}

/*
 * Calls fn for each of the owner's records in the log's order, parts put
 * together and checked. A record whose last part is missing at the end is
 * a torn tail: skipped (and *torn set to its key, for release); anywhere
 * else, or any record that is not a sealed RVM record, is damage.
 *
 * live: a truncation epoch's scan, beside commits that release PREPAREs
 * (only they: commit records go with epochs). A record released while it
 * is read is read past: the read fails once (QS_EIO, "released or moved
 * meanwhile") and the next one starts from the same place; a PREPARE
 * whose later parts went is dropped, not taken for damage.
 */
rvm_return_t
node_scan(node_fn fn, void *arg, uint64_t *torn, int live)
{
	log_rec_t lr;
	uint8_t *rec = NULL, *piece = malloc(LOG_DATA_MAX);
	uint32_t have = 0, cap = 0;
	uint64_t after = 0, key = 0, first_seq = 0;
	int kind = 0, retried = 0;
	rvm_return_t r = piece ? RVM_SUCCESS : RVM_ENO_MEMORY;
	if (torn)
		*torn = ~0ull;
	while (!r) {
		memset(&lr, 0, sizeof(lr));
		int e = qs_log_read(handle, after, &lr, piece, LOG_DATA_MAX);
		if (e == QS_ENOENT)
			break;
		if (e == QS_EIO && live && !retried++)
			continue; /* released while read: the next from here */
		if (e < 0) {
			r = node_err(e);
			break;
		}
		retried = 0;
		after = lr.seq;
		int k = lr.kind & ~NODE_MORE;
		if (have && live && (key & NODE_PREP) &&
		    (lr.key != key || k != kind))
			have = 0; /* a PREPARE released between its parts */
		if (have && (lr.key != key || k != kind)) {
			r = damaged(first_seq, key, "is missing its last part");
			break;
		}
		if (!have) {
			key = lr.key;
			kind = k;
			first_seq = lr.seq;
		}
		if (lr.len > rvm.log.area - have) { /* longer than rec_build's */
			r = damaged(first_seq, key, "is longer than any record");
			break;
		}
		if (have + lr.len > cap) {
			uint32_t c = have + lr.len;
			uint8_t *b = realloc(rec, c);
			if (!b) {
				r = RVM_ENO_MEMORY;
				break;
			}
			rec = b;
			cap = c;
		}
		memcpy(rec + have, piece, lr.len);
		have += lr.len;
		if (lr.kind & NODE_MORE)
			continue;
		if (!node_valid(rec, have, kind) ||
		    (kind == REC_PREPARE) != ((key & NODE_PREP) != 0)) {
			r = damaged(first_seq, key, "is not a valid RVM record");
			break;
		}
		r = fn(rec, have, key, first_seq, arg);
		have = 0;
	}
	if (!r && have && torn)
		*torn = key; /* the tail's parts: never finished */
	free(rec);
	free(piece);
	return r;
}

void
node_saw_prep(uint64_t key)
{
	if ((key & ~NODE_PREP) >= next_prep)
		next_prep = (key & ~NODE_PREP) + 1;
}
