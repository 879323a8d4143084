/*
 * RVM transactions: begin, set_range, end, abort, prepare and resolve.
 *
 * LRVM mode keeps a transaction's set ranges sorted by address and
 * coalesced: a range that overlaps or touches earlier ones of the same
 * region merges with them, keeping the oldest saved value of every byte,
 * so repeated set_range calls on hot data cost neither undo memory nor
 * log space. The redo record is built at commit from the ranges' current
 * contents, i.e. their final values.
 *
 * A prepared transaction keeps its PREPARE record in memory (rvm_prep_t)
 * until the outcome is logged; on a device the PREPARE and the outcome
 * record are forced, so a PREPARE never leaves the log before its outcome
 * is durable. Over the node log (rvm_node.c) they are not: the TM forces
 * the same log after them, and the PREPARE is released only after its
 * outcome is appended (the node log is durable in order). The commit
 * record of a prepared transaction carries the new values again, so it
 * stands alone whatever truncation has done with the PREPARE.
 */
#include <stdlib.h>
#include <string.h>
#include "rvm_int.h"

rvm_txn_t *
txn_find(uint32_t id)
{
	rvm_txn_t *t = rvm.txns;
	while (t && t->id != id)
		t = t->next;
	return t;
}

static void
txn_unlink(rvm_txn_t *t)
{
	rvm_txn_t **pp = &rvm.txns;
	while (*pp != t)
		pp = &(*pp)->next;
	*pp = t->next;
	for (uint32_t i = 0; i < t->n_ranges; i++)
		free(t->ranges[i].old);
	free(t->ranges);
	free(t);
}

/* p's outcome is logged: over the node log, its PREPARE record goes too
 * (rvm_node.c). A failed release breaks the log (node_release_key): no
 * truncation may take the outcome away while the PREPARE stays, and
 * recovery finds the outcome after it. */
static void
prep_done(rvm_prep_t *p)
{
	if (rvm.node)
		node_release_key(p->pos);
	prep_remove(p);
}

void
prep_remove(rvm_prep_t *p)
{
	rvm_prep_t **pp = &rvm.preps;
	while (*pp != p)
		pp = &(*pp)->next;
	*pp = p->next;
	rvm.n_preps--;
	if (p->txn)
		p->txn->prep = NULL;
	free(p->rec);
	free(p);
}

int
txn_touches(const rvm_txn_t *t, const rvm_map_t *m)
{
	if (rvm.vista)
		return vista_touches(t, m);
	for (uint32_t i = 0; i < t->n_ranges; i++)
		if (t->ranges[i].map == m)
			return 1;
	return 0;
}

static int
gtid_busy(uint64_t gtid)
{
	if (rvm.vista)
		return vista_gtid_busy(gtid);
	for (rvm_prep_t *p = rvm.preps; p; p = p->next)
		if (p->gtid == gtid)
			return 1;
	return 0;
}

/*
 * Waits until a record of len bytes fits in the log; with rvm_lock held
 * (dropped meanwhile). While an epoch (or a map) holds rvm_trunc_lock it
 * waits for its end; else it runs an epoch itself, and gives up when its
 * own epoch freed nothing.
 */
static rvm_return_t
make_room(uint32_t len)
{
	while (!log_fits(len)) {
		if (qs_mutex_trylock(&rvm_trunc_lock)) {
			qs_cond_wait(&rvm_room, &rvm_lock);
			continue;
		}
		uint64_t head = rvm.log.head;
		qs_mutex_unlock(&rvm_lock);
		rvm_return_t r = log_truncate_locked(0);
		qs_mutex_lock(&rvm_lock);
		qs_mutex_unlock(&rvm_trunc_lock);
		qs_cond_broadcast(&rvm_room);
		if (r)
			return r;
		if (rvm.log.head == head && !log_fits(len))
			return RVM_ELOG_FULL;
	}
	return RVM_SUCCESS;
}

/* Whether a commit should start an epoch: the log is past truncate_pct. */
static int
want_truncate(void)
{
	rvm_log_t *l = &rvm.log;
	return !rvm.vista && !l->truncating && log_has_work() &&
	       (l->tail - l->head) * 100 > (uint64_t)rvm.truncate_pct * l->area;
}

rvm_return_t
rvm_begin_transaction(rvm_tid_t *tid, rvm_mode_t mode)
{
	if (!rvm.up)
		return RVM_EINIT;
	if (!tid)
		return RVM_ETID;
	if (mode != RVM_RESTORE && mode != RVM_NO_RESTORE)
		return RVM_EMODE;
	rvm_txn_t *t = calloc(1, sizeof(*t));
	if (!t)
		return RVM_ENO_MEMORY;
	t->mode = mode;
	qs_mutex_lock(&rvm_lock);
	t->id = rvm.next_tid++;
	if (!rvm.next_tid)
		rvm.next_tid = 1;
	rvm_return_t r = rvm.vista ? vista_begin(t) : RVM_SUCCESS;
	if (!r) {
		t->next = rvm.txns;
		rvm.txns = t;
		tid->id = t->id;
	}
	qs_mutex_unlock(&rvm_lock);
	if (r)
		free(t);
	return r;
}

/* Merges [a, a + len) of region m into t's ranges; rvm_lock held. */
static rvm_return_t
range_add(rvm_txn_t *t, rvm_map_t *m, uint8_t *a, uint32_t len)
{
	uint8_t *b = a + len;
	uint32_t i = 0, j;
	while (i < t->n_ranges && t->ranges[i].addr + t->ranges[i].len < a)
		i++;
	/* A range of the region before m can end just where m begins. */
	if (i < t->n_ranges && t->ranges[i].map != m && t->ranges[i].addr < a)
		i++;
	for (j = i; j < t->n_ranges && t->ranges[j].addr <= b &&
		    t->ranges[j].map == m; j++)
		;
	uint8_t *lo = a, *hi = b;
	if (j > i) {
		if (t->ranges[i].addr < lo)
			lo = t->ranges[i].addr;
		if (t->ranges[j - 1].addr + t->ranges[j - 1].len > hi)
			hi = t->ranges[j - 1].addr + t->ranges[j - 1].len;
	}
	if (j == i && t->n_ranges == t->cap) {
		uint32_t cap = t->cap ? 2 * t->cap : 8;
		rvm_range_t *v = realloc(t->ranges, cap * sizeof(*v));
		if (!v)
			return RVM_ENO_MEMORY;
		t->ranges = v;
		t->cap = cap;
	}
	uint8_t *old = NULL;
	if (t->mode == RVM_RESTORE) {
		/* Bytes no earlier range saved still hold their old values. */
		old = malloc(hi - lo);
		if (!old)
			return RVM_ENO_MEMORY;
		memcpy(old, lo, hi - lo);
		uint32_t saved = 0;
		for (uint32_t k = i; k < j; k++) {
			memcpy(old + (t->ranges[k].addr - lo), t->ranges[k].old,
			       t->ranges[k].len);
			saved += t->ranges[k].len;
		}
		rvm.stats.undo_bytes += (hi - lo) - saved;
	}
	for (uint32_t k = i; k < j; k++)
		free(t->ranges[k].old);
	if (j == i)
		memmove(&t->ranges[i + 1], &t->ranges[i],
			(t->n_ranges - i) * sizeof(*t->ranges));
	else if (j > i + 1)
		memmove(&t->ranges[i + 1], &t->ranges[j],
			(t->n_ranges - j) * sizeof(*t->ranges));
	t->n_ranges += 1 - (j - i);
	t->ranges[i] = (rvm_range_t){ .map = m, .addr = lo, .len = hi - lo,
				      .old = old };
	return RVM_SUCCESS;
}

rvm_return_t
rvm_set_range(rvm_tid_t *tid, void *dest, uint32_t length)
{
	if (!rvm.up)
		return RVM_EINIT;
	if (!tid)
		return RVM_ETID;
	qs_mutex_lock(&rvm_lock);
	rvm_txn_t *t = txn_find(tid->id);
	rvm_map_t *m = length ? map_of(dest, length) : NULL;
	rvm_return_t r = !t ? RVM_ETID
		       : t->prepared ? RVM_EMODE
		       : !length ? RVM_SUCCESS
		       : !m ? RVM_ERANGE
		       : rvm.vista ? vista_set_range(t, dest, length)
		       : range_add(t, m, dest, length);
	qs_mutex_unlock(&rvm_lock);
	return r;
}

/* t committed: truncation writes its ranges' sectors from memory. */
static void
txn_mark(const rvm_txn_t *t)
{
	for (uint32_t i = 0; i < t->n_ranges; i++) {
		const rvm_range_t *rg = &t->ranges[i];
		map_mark(rg->map, rg->addr - rg->map->mem, rg->len);
	}
}

/* Logs t's commit; rvm_lock held (dropped while making room). */
static rvm_return_t
lrvm_commit(rvm_txn_t *t, rvm_mode_t mode)
{
	rvm_prep_t *p = t->prep;
	uint32_t len;
	rvm_return_t r;
	if (p) {
		r = make_room(p->len);
		if (r)
			return r;
		/* Over the node log, the TM's force covers it (rvm_node.c). */
		rec_set_kind(p->rec, REC_COMMIT_PREPARED);
		r = log_append(p->rec, p->len, !rvm.node, NULL, NULL);
		if (r)
			rec_set_kind(p->rec, REC_PREPARE);
		else
			prep_done(p);
	} else if (t->n_ranges) {
		uint8_t *rec;
		r = rec_build(REC_COMMIT, t, 0, &rec, &len);
		if (r)
			return r;
		r = make_room(len);
		if (!r)
			r = log_append(rec, len, mode == RVM_FLUSH, NULL, NULL);
		free(rec);
	} else {
		r = RVM_SUCCESS;
	}
	if (!r)
		txn_mark(t);
	return r;
}

/* A failed commit leaves the transaction open: it may still abort. */
rvm_return_t
rvm_end_transaction(rvm_tid_t *tid, rvm_mode_t mode)
{
	if (!rvm.up)
		return RVM_EINIT;
	if (!tid)
		return RVM_ETID;
	if (mode != RVM_FLUSH && mode != RVM_NO_FLUSH)
		return RVM_EMODE;
	qs_mutex_lock(&rvm_lock);
	rvm_txn_t *t = txn_find(tid->id);
	rvm_return_t r = RVM_ETID;
	if (t && rvm.vista) {
		vista_end(t);
		r = RVM_SUCCESS;
	} else if (t) {
		r = lrvm_commit(t, mode);
	}
	if (!r) {
		if (mode == RVM_FLUSH)
			rvm.stats.commits_flush++;
		else
			rvm.stats.commits_noflush++;
		txn_unlink(t);
	}
	int trunc = !r && want_truncate();
	qs_mutex_unlock(&rvm_lock);
	/* Skipped if another epoch has begun meanwhile. The commit stands
	 * whatever the epoch does: a failure there shows at the next
	 * explicit flush, truncate or map. */
	if (trunc && qs_mutex_trylock(&rvm_trunc_lock) == 0) {
		log_truncate_locked(0);
		trunc_unlock();
	}
	return r;
}

/* Logs the abort of a prepared transaction or in-doubt PREPARE p. */
static rvm_return_t
log_abort_prepared(rvm_prep_t *p)
{
	uint32_t len;
	uint8_t *rec;
	rvm_return_t r = rec_build(REC_ABORT_PREPARED, NULL, p->gtid, &rec,
				   &len);
	if (r)
		return r;
	r = make_room(len);
	if (!r) /* presumed abort: over the node log, no force */
		r = log_append(rec, len, !rvm.node, NULL, NULL);
	free(rec);
	if (!r)
		prep_done(p);
	return r;
}

rvm_return_t
rvm_abort_transaction(rvm_tid_t *tid)
{
	if (!rvm.up)
		return RVM_EINIT;
	if (!tid)
		return RVM_ETID;
	qs_mutex_lock(&rvm_lock);
	rvm_txn_t *t = txn_find(tid->id);
	rvm_return_t r = !t ? RVM_ETID
		       : t->mode == RVM_NO_RESTORE ? RVM_EMODE : RVM_SUCCESS;
	if (!r && rvm.vista)
		vista_abort(t);
	else if (!r && t->prep)
		r = log_abort_prepared(t->prep);
	if (!r && !rvm.vista)
		for (uint32_t i = t->n_ranges; i-- > 0;)
			memcpy(t->ranges[i].addr, t->ranges[i].old,
			       t->ranges[i].len);
	if (!r) {
		rvm.stats.aborts++;
		txn_unlink(t);
	}
	qs_mutex_unlock(&rvm_lock);
	return r;
}

static rvm_return_t
lrvm_prepare(rvm_txn_t *t, uint64_t gtid)
{
	uint32_t len;
	uint8_t *rec;
	rvm_return_t r = rec_build(REC_PREPARE, t, gtid, &rec, &len);
	if (r)
		return r;
	rvm_prep_t *p = calloc(1, sizeof(*p));
	r = p ? make_room(len) : RVM_ENO_MEMORY;
	if (!r) /* over the node log, the TM's force covers it */
		r = log_append(rec, len, !rvm.node, &p->pos, &p->seq);
	if (r) {
		free(rec);
		free(p);
		return r;
	}
	p->gtid = gtid;
	p->rec = rec;
	p->len = len;
	p->txn = t;
	p->next = rvm.preps;
	rvm.preps = p;
	rvm.n_preps++;
	t->prep = p;
	return RVM_SUCCESS;
}

/* gtid must be non-zero and not that of another undecided transaction. */
rvm_return_t
rvm_prepare_transaction(rvm_tid_t *tid, uint64_t gtid)
{
	if (!rvm.up)
		return RVM_EINIT;
	if (!tid)
		return RVM_ETID;
	qs_mutex_lock(&rvm_lock);
	rvm_txn_t *t = txn_find(tid->id);
	rvm_return_t r = !t ? RVM_ETID
		       : t->prepared || !gtid || gtid_busy(gtid) ? RVM_EMODE
		       : RVM_SUCCESS;
	if (!r && rvm.vista)
		vista_prepare(t, gtid);
	else if (!r)
		r = lrvm_prepare(t, gtid);
	if (!r) {
		t->prepared = 1;
		rvm.stats.prepares++;
	}
	qs_mutex_unlock(&rvm_lock);
	return r;
}

/* The region a record's range is mapped in, or NULL. */
static rvm_map_t *
item_map(const rec_item_t *item)
{
	rvm_seg_t *s = rvm.segs;
	while (s && (strlen(s->name) != item->name_len ||
		     memcmp(s->name, item->name, item->name_len)))
		s = s->next;
	return s ? map_find(s, item->off, item->len) : NULL;
}

/*
 * Walks an in-doubt record's ranges: checks that they are all mapped,
 * copies their new values in (apply: it committed, so truncation writes
 * them from memory), and lists them in spans (at most max; *n says how
 * many there are).
 */
static rvm_return_t
prep_walk(const rvm_prep_t *p, int apply, rvm_span_t *spans, uint32_t max,
	  uint32_t *n)
{
	rec_iter_t it;
	rec_item_t item;
	int k;
	*n = 0;
	if (rec_iter_init(&it, p->rec, p->len))
		return RVM_ELOG;
	while ((k = rec_next(&it, &item)) > 0) {
		rvm_map_t *m = item_map(&item);
		if (!m)
			return RVM_EREGION;
		uint8_t *addr = m->mem + (item.off - m->offset);
		if (apply) {
			memcpy(addr, item.data, item.len);
			map_mark(m, item.off - m->offset, item.len);
		}
		if (*n < max)
			spans[*n] = (rvm_span_t){ addr, item.len };
		(*n)++;
	}
	return k < 0 ? RVM_ELOG : RVM_SUCCESS;
}

static rvm_prep_t *
in_doubt(uint64_t gtid)
{
	rvm_prep_t *p = rvm.preps;
	while (p && (p->txn || p->gtid != gtid))
		p = p->next;
	return p;
}

/* With room made: the log appends below do not drop rvm_lock. */
static rvm_return_t
lrvm_resolve(rvm_prep_t *p, int commit)
{
	if (!commit)
		return log_abort_prepared(p);
	uint32_t n;
	rvm_return_t r = prep_walk(p, 0, NULL, 0, &n);
	if (r)
		return r;
	rec_set_kind(p->rec, REC_COMMIT_PREPARED);
	r = log_append(p->rec, p->len, 1, NULL, NULL);
	if (r) {
		rec_set_kind(p->rec, REC_PREPARE);
		return r;
	}
	prep_walk(p, 1, NULL, 0, &n);
	prep_done(p);
	return RVM_SUCCESS;
}

rvm_return_t
rvm_resolve(uint64_t gtid, int commit)
{
	if (!rvm.up)
		return RVM_EINIT;
	qs_mutex_lock(&rvm_lock);
	rvm_return_t r;
	if (rvm.vista) {
		r = vista_resolve(gtid, commit);
	} else {
		/* Make room first: another thread may resolve it meanwhile. */
		rvm_prep_t *p = in_doubt(gtid);
		r = p ? make_room(commit ? p->len : REC_MIN) : RVM_ENOT_FOUND;
		if (!r)
			p = in_doubt(gtid);
		r = r ? r : p ? lrvm_resolve(p, commit) : RVM_ENOT_FOUND;
	}
	if (!r && commit)
		rvm.stats.commits_flush++;
	else if (!r)
		rvm.stats.aborts++;
	qs_mutex_unlock(&rvm_lock);
	return r;
}

rvm_return_t
rvm_in_doubt_ranges(uint64_t gtid, rvm_span_t *spans, uint32_t max,
		    uint32_t *n)
{
	if (!rvm.up)
		return RVM_EINIT;
	if (!n || (max && !spans))
		return RVM_EOPTIONS;
	qs_mutex_lock(&rvm_lock);
	rvm_return_t r;
	if (rvm.vista) {
		r = vista_ranges(gtid, spans, max, n);
	} else {
		rvm_prep_t *p = in_doubt(gtid);
		r = p ? prep_walk(p, 0, spans, max, n) : RVM_ENOT_FOUND;
	}
	qs_mutex_unlock(&rvm_lock);
	return r;
}
