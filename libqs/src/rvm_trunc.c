/*
 * Recovery and truncation of the LRVM log.
 *
 * Truncation works in epochs beside forward processing. Under rvm_lock it
 * forces the log and takes the tail as the epoch's end; then, without the
 * lock, it brings the segments up to that end and syncs them; then it
 * writes the new head to the status block. Commits append past the
 * epoch's end meanwhile. The segment sectors that commits changed are
 * written from the mapped regions (rvm_mem.c); the records are read back
 * from the log device and applied through a sector cache only to the
 * sectors that memory cannot give (under open transactions' ranges, whose
 * uncommitted bytes memory holds), or to all of them when the maps do not
 * know what changed (recovery, or after a failed epoch or an unmap). A
 * crash anywhere leaves the old head in the status block and the epoch's
 * records in the log, so applying them again later gives the same
 * segments: truncation is idempotent.
 *
 * Recovery scans from the head for the valid records, rebuilds the list of
 * undecided PREPAREs, and then truncates everything it found: so it is
 * idempotent too.
 *
 * Undecided PREPAREs (of open prepared transactions, or in doubt after a
 * crash) are copied forward: when the epoch holds the latest copy of one,
 * truncation appends a fresh copy past the epoch (and forces it) before it
 * moves the head. If the copies do not fit, the head stops at the oldest
 * of them instead and the records after it are applied again next time.
 */
#include <stdlib.h>
#include <string.h>
#include "rvm_int.h"

#define CACHE_MAX 1024 /* sectors an epoch caches before writing them out */
#define RUN_MAX 128    /* sectors in one segment write */

typedef struct {
	rvm_seg_t *seg;
	uint64_t sector;
	uint8_t data[RVM_SECTOR];
} csec_t;

/* Segment sectors an epoch has changed, sorted by segment and sector. */
typedef struct {
	csec_t **v;
	uint32_t n, cap;
	const rvm_sects_t *only; /* apply records to these sectors; NULL: all */
	uint64_t writes;         /* segment writes, for the stats */
} scache_t;

typedef struct {
	uint64_t start, start_seq, end, end_seq;
} epoch_t;

static int
csec_cmp(const rvm_seg_t *seg, uint64_t sector, const csec_t *c)
{
	if (seg != c->seg)
		return (uintptr_t)seg < (uintptr_t)c->seg ? -1 : 1;
	if (sector != c->sector)
		return sector < c->sector ? -1 : 1;
	return 0;
}

/* The cached sector, read from the segment unless whole will overwrite it. */
static rvm_return_t
scache_get(scache_t *c, rvm_seg_t *seg, uint64_t sector, int whole,
	   csec_t **out)
{
	uint32_t lo = 0, hi = c->n;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		int d = csec_cmp(seg, sector, c->v[mid]);
		if (d == 0) {
			*out = c->v[mid];
			return RVM_SUCCESS;
		}
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (c->n == c->cap) {
		uint32_t cap = c->cap ? 2 * c->cap : 64;
		csec_t **v = realloc(c->v, cap * sizeof(*v));
		if (!v)
			return RVM_ENO_MEMORY;
		c->v = v;
		c->cap = cap;
	}
	csec_t *s = malloc(sizeof(*s));
	if (!s)
		return RVM_ENO_MEMORY;
	s->seg = seg;
	s->sector = sector;
	if (!whole && seg->dev->read(seg->dev, sector * RVM_SECTOR, s->data,
				     RVM_SECTOR) < 0) {
		free(s);
		return RVM_EIO;
	}
	memmove(&c->v[lo + 1], &c->v[lo], (c->n - lo) * sizeof(*c->v));
	c->v[lo] = s;
	c->n++;
	*out = s;
	return RVM_SUCCESS;
}

/* Writes the cached sectors out in runs of adjacent ones and empties the
 * cache. */
static rvm_return_t
scache_write(scache_t *c)
{
	static uint8_t run[RUN_MAX * RVM_SECTOR]; /* under rvm_trunc_lock */
	rvm_return_t r = RVM_SUCCESS;
	uint32_t i = 0;
	while (i < c->n && !r) {
		csec_t *first = c->v[i];
		uint32_t k = 0;
		while (i + k < c->n && k < RUN_MAX &&
		       c->v[i + k]->seg == first->seg &&
		       c->v[i + k]->sector == first->sector + k) {
			memcpy(run + k * RVM_SECTOR, c->v[i + k]->data,
			       RVM_SECTOR);
			k++;
		}
		rvm_dev_t *d = first->seg->dev;
		first->seg->dirty = 1;
		if (d->write(d, first->sector * RVM_SECTOR, run,
			     k * RVM_SECTOR) < 0)
			r = RVM_EIO;
		c->writes++;
		i += k;
	}
	for (i = 0; i < c->n; i++)
		free(c->v[i]);
	c->n = 0;
	return r;
}

/* Syncs the segments the epoch wrote. Only epochs (under rvm_trunc_lock)
 * and rvm_map (which takes it) add to rvm.segs, so the list holds still. */
static rvm_return_t
segs_sync(void)
{
	rvm_return_t r = RVM_SUCCESS;
	for (rvm_seg_t *s = rvm.segs; s; s = s->next) {
		if (s->dirty && s->dev->sync(s->dev) < 0)
			r = RVM_EIO;
		s->dirty = 0;
	}
	return r;
}

static void
scache_free(scache_t *c)
{
	for (uint32_t i = 0; i < c->n; i++)
		free(c->v[i]);
	free(c->v);
}

/* Puts k bytes at segment offset off, all in one sector, unless the epoch
 * applies records to other sectors only. */
static rvm_return_t
scache_put(scache_t *c, rvm_seg_t *seg, uint64_t off, const uint8_t *data,
	   uint32_t k)
{
	csec_t *s;
	rvm_return_t r = RVM_SUCCESS;
	if (c->only && !sects_has(c->only, seg, off / RVM_SECTOR))
		return RVM_SUCCESS;
	if (c->n >= CACHE_MAX)
		r = scache_write(c);
	if (!r)
		r = scache_get(c, seg, off / RVM_SECTOR, k == RVM_SECTOR, &s);
	if (!r)
		memcpy(s->data + off % RVM_SECTOR, data, k);
	return r;
}

static rvm_return_t
scache_apply(scache_t *c, rvm_seg_t *seg, uint64_t off, const uint8_t *data,
	     uint32_t len)
{
	if (off > seg->dev->size || len > seg->dev->size - off)
		return RVM_ELOG;
	while (len) {
		uint32_t in = off % RVM_SECTOR;
		uint32_t k = RVM_SECTOR - in < len ? RVM_SECTOR - in : len;
		rvm_return_t r = scache_put(c, seg, off, data, k);
		if (r)
			return r;
		off += k;
		data += k;
		len -= k;
	}
	return RVM_SUCCESS;
}

static rvm_return_t
apply_record(scache_t *c, const uint8_t *rec, uint32_t len)
{
	rec_iter_t it;
	rec_item_t item;
	int k;
	if (rec_iter_init(&it, rec, len))
		return RVM_ELOG;
	while ((k = rec_next(&it, &item)) > 0) {
		rvm_seg_t *seg = seg_get(item.name, item.name_len);
		if (!seg)
			return RVM_EIO;
		rvm_return_t r = scache_apply(c, seg, item.off, item.data,
					      item.len);
		if (r)
			return r;
	}
	return k < 0 ? RVM_ELOG : RVM_SUCCESS;
}

typedef struct {
	const epoch_t *e;
	scache_t *c;
} node_epoch_t;

/* One of the node log's records, for an epoch: applied if it is a
 * commit within it. */
static rvm_return_t
node_apply(const uint8_t *rec, uint32_t len, uint64_t key, uint64_t seq,
	   void *arg)
{
	const node_epoch_t *a = arg;
	rec_hdr_t h;
	(void)seq;
	rec_header(rec, &h);
	if (h.kind == REC_PREPARE || key < a->e->start || key >= a->e->end)
		return RVM_SUCCESS;
	if (h.kind == REC_COMMIT || h.kind == REC_COMMIT_PREPARED)
		return apply_record(a->c, rec, len);
	return RVM_SUCCESS;
}

/* Applies the epoch's committed records to the segments (to c->only's
 * sectors, if given) and writes them out. */
static rvm_return_t
epoch_apply(const epoch_t *e, scache_t *c)
{
	if (rvm.node) {
		node_epoch_t a = { e, c };
		rvm_return_t r = node_scan(node_apply, &a, NULL, 1);
		return r ? r : scache_write(c);
	}
	log_reader_t rd = { 0 };
	uint64_t pos = e->start, seq = e->start_seq;
	uint32_t crc = 0;
	rvm_return_t r = RVM_SUCCESS;
	while (pos < e->end && !r) {
		const uint8_t *rec;
		uint32_t len;
		rec_hdr_t h;
		/* The epoch was forced: a record that fails here is damage. */
		r = log_record_at(&rd, pos, seq, pos == e->start ? NULL : &crc,
				  &rec, &len, &crc);
		if (r)
			break;
		rec_header(rec, &h);
		if (h.kind == REC_COMMIT || h.kind == REC_COMMIT_PREPARED)
			r = apply_record(c, rec, len);
		pos += len;
		seq++;
	}
	free(rd.buf);
	if (!r && (pos != e->end || seq != e->end_seq))
		r = RVM_ELOG;
	if (!r)
		r = scache_write(c);
	return r;
}

/*
 * Brings the segments up to the epoch's end and syncs them: from memory,
 * and from the log for the busy sectors; from the log alone when full.
 */
static rvm_return_t
epoch_run(const epoch_t *e, int full, uint64_t *writes)
{
	scache_t c = { 0 };
	rvm_sects_t busy = { 0 };
	rvm_return_t r = full ? RVM_SUCCESS : mem_write(&busy, writes);
	if (!r && (full || busy.n)) {
		c.only = full ? NULL : &busy;
		r = epoch_apply(e, &c);
	}
	if (!r)
		r = segs_sync();
	*writes += c.writes;
	scache_free(&c);
	free(busy.v);
	return r;
}

/*
 * Copies forward the PREPAREs whose latest copy lies in the epoch, and
 * says where the head may go. With rvm_lock held.
 */
static rvm_return_t
prep_carry(const epoch_t *e, uint64_t *head, uint64_t *head_seq)
{
	uint64_t need = 0;
	rvm_prep_t *low = NULL, *p;
	for (p = rvm.preps; p; p = p->next) {
		if (p->pos >= e->end)
			continue;
		need += p->len;
		if (!low || p->pos < low->pos)
			low = p;
	}
	*head = e->end;
	*head_seq = e->end_seq;
	if (!low || rvm.node) /* the node log keeps them, released one by one */
		return RVM_SUCCESS;
	if (!log_fits(need)) {
		*head = low->pos;
		*head_seq = low->seq;
		return RVM_SUCCESS;
	}
	for (p = rvm.preps; p; p = p->next) {
		if (p->pos >= e->end)
			continue;
		rvm_return_t r = log_append(p->rec, p->len, 0, &p->pos, &p->seq);
		if (r)
			return r;
	}
	return log_force();
}

/* The epoch's outcome (r), where the head goes if it succeeded, and its
 * segment writes, for the record; takes rvm_lock. */
static void
epoch_end(const epoch_t *e, rvm_return_t r, uint64_t head,
	  uint64_t head_seq, uint64_t writes)
{
	rvm_log_t *l = &rvm.log;
	qs_mutex_lock(&rvm_lock);
	if (!r) {
		l->head = head;
		l->head_seq = head_seq;
		l->untracked = 0; /* it was at most e->end */
		rvm.stats.truncations++;
		rvm.stats.trunc_bytes += e->end - e->start;
		if (!rvm.node) { /* the status block's write */
			rvm.stats.log_writes++;
			rvm.stats.log_forces++;
		}
	} else if (l->untracked < e->end) {
		/* Its taken bits are lost: the next epoch applies the log. */
		l->untracked = e->end;
	}
	rvm.stats.seg_writes += writes;
	l->truncating = 0;
	qs_mutex_unlock(&rvm_lock);
}

/*
 * One truncation epoch; the caller holds rvm_trunc_lock, not rvm_lock.
 * force_status: write the status block even with nothing to truncate
 * (recovery, which bumps the incarnation).
 */
rvm_return_t
log_truncate_locked(int force_status)
{
	rvm_log_t *l = &rvm.log;
	uint64_t head = 0, head_seq = 0, writes = 0;
	qs_mutex_lock(&rvm_lock);
	rvm_return_t r = log_force();
	if (r || (!force_status && !log_has_work())) {
		qs_mutex_unlock(&rvm_lock);
		return r;
	}
	epoch_t e = { l->head, l->head_seq, l->tail, l->next_seq };
	/* Recovery's records are in no map's dirty bits. */
	int full = force_status || l->untracked > l->head;
	mem_take();
	l->truncating = 1;
	qs_mutex_unlock(&rvm_lock);

	r = epoch_run(&e, full, &writes);

	qs_mutex_lock(&rvm_lock);
	if (!r)
		r = prep_carry(&e, &head, &head_seq);
	qs_mutex_unlock(&rvm_lock);
	if (!r)
		r = log_write_status(head, head_seq);
	epoch_end(&e, r, head, head_seq, writes);
	return r;
}

/* Releases rvm_trunc_lock and wakes the commits waiting for log space;
 * under rvm_lock, so that a waiter cannot miss it (see make_room). */
void
trunc_unlock(void)
{
	qs_mutex_lock(&rvm_lock);
	qs_mutex_unlock(&rvm_trunc_lock);
	qs_cond_broadcast(&rvm_room);
	qs_mutex_unlock(&rvm_lock);
}

rvm_return_t
log_truncate(void)
{
	qs_mutex_lock(&rvm_trunc_lock);
	rvm_return_t r = log_truncate_locked(0);
	trunc_unlock();
	return r;
}

static rvm_prep_t *
prep_find(uint64_t gtid)
{
	rvm_prep_t *p = rvm.preps;
	while (p && p->gtid != gtid)
		p = p->next;
	return p;
}

/* Recovery's view of one record: PREPAREs wait for their outcome. */
static rvm_return_t
scan_record(const uint8_t *rec, uint32_t len, uint64_t pos, uint64_t seq)
{
	rec_hdr_t h;
	rec_header(rec, &h);
	rvm_prep_t *p = prep_find(h.gtid);
	switch (h.kind) {
	case REC_PREPARE: {
		uint8_t *copy = malloc(len);
		if (!copy)
			return RVM_ENO_MEMORY;
		memcpy(copy, rec, len);
		if (!p) {
			p = calloc(1, sizeof(*p));
			if (!p) {
				free(copy);
				return RVM_ENO_MEMORY;
			}
			p->gtid = h.gtid;
			p->next = rvm.preps;
			rvm.preps = p;
			rvm.n_preps++;
		}
		free(p->rec); /* an older copy of the same record */
		p->rec = copy;
		p->len = len;
		p->pos = pos;
		p->seq = seq;
		break;
	}
	case REC_COMMIT_PREPARED:
	case REC_ABORT_PREPARED:
		if (p)
			prep_remove(p);
		break;
	}
	if (h.kind == REC_COMMIT || h.kind == REC_COMMIT_PREPARED)
		rvm.stats.recovered++;
	return RVM_SUCCESS;
}

/*
 * The log ends at pos, before record seq, after the record whose crc is
 * crc: appends go on from there.
 */
static rvm_return_t
recover_end(log_reader_t *rd, uint64_t pos, uint64_t seq, uint32_t crc)
{
	rvm_log_t *l = &rvm.log;
	l->tail = l->written = pos;
	l->next_seq = seq;
	l->last_crc = pos == l->head ? 0 : crc;
	/* What was found may be only in a cache (a crashed process, not a
	 * crashed machine): sync it before the records sealed from now on,
	 * and the status block, say it was forced. */
	if (rvm.dev->sync(rvm.dev) < 0)
		return RVM_EIO;
	l->forced_seq = seq - 1;
	l->forced_pos = pos;
	l->buf_len = pos % RVM_SECTOR;
	if (l->buf_len) {
		const uint8_t *part = log_read(rd, SECT_DOWN(pos), l->buf_len);
		if (!part)
			return RVM_EIO;
		memcpy(l->buf, part, l->buf_len);
	}
	return RVM_SUCCESS;
}

/* Truncates everything recovery found, in a new incarnation. */
static rvm_return_t
recover_truncate(void)
{
	rvm_log_t *l = &rvm.log;
	uint64_t head = l->head;
	l->inc++;
	qs_mutex_lock(&rvm_trunc_lock);
	rvm_return_t r = log_truncate_locked(1);
	qs_mutex_unlock(&rvm_trunc_lock);
	if (r == RVM_ELOG) { /* never "no log": damage (epoch_apply) */
		rvm.damage.kind = RVM_DAMAGE_APPLY;
		damage_say("a record between positions %llu and %llu cannot be "
			   "read back or applied (malformed, or past its "
			   "segment's end)", (unsigned long long)head,
			   (unsigned long long)l->tail);
		r = RVM_ECORRUPT;
	}
	return r;
}

/* Recovery's view of one of the node log's records. The outcome of a
 * PREPARE lets it go (the record itself goes with its epoch). */
static rvm_return_t
node_found(const uint8_t *rec, uint32_t len, uint64_t key, uint64_t seq,
	   void *arg)
{
	rvm_log_t *l = &rvm.log;
	int *any = arg;
	rec_hdr_t h;
	rec_header(rec, &h);
	if (h.kind == REC_PREPARE) {
		node_saw_prep(key);
	} else {
		if (h.kind == REC_COMMIT_PREPARED || h.kind == REC_ABORT_PREPARED) {
			rvm_prep_t *p = prep_find(h.gtid);
			rvm_return_t r = p ? node_release_key(p->pos) : RVM_SUCCESS;
			if (r)
				return r;
		}
		if (!*any || key < l->head)
			l->head = key;
		if (key + len > l->tail)
			l->tail = key + len;
		*any = 1;
	}
	l->next_seq++;
	return scan_record(rec, len, key, seq);
}

/*
 * The node log's records of this owner: PREPAREs to the list, then every
 * commit applied and released, in a new epoch. A record torn at the end
 * (its last part missing: node_scan finds one anywhere else) is
 * released.
 */
static rvm_return_t
node_recover(void)
{
	rvm_log_t *l = &rvm.log;
	uint64_t torn;
	int any = 0;
	rvm_return_t r = node_scan(node_found, &any, &torn, 0);
	if (!r && torn != ~0ull)
		r = node_release_key(torn);
	if (!any)
		l->head = l->tail;
	l->head_seq = 0;
	return r ? r : recover_truncate();
}

/*
 * Finds the log's valid records from the head, then truncates all of them.
 * The first record that is not valid ends the log if it is a torn tail,
 * and fails recovery with RVM_ECORRUPT if it was forced (damage:
 * rvm_damage.c). log_open has read the status block.
 */
rvm_return_t
log_recover(void)
{
	if (rvm.node)
		return node_recover();
	rvm_log_t *l = &rvm.log;
	log_reader_t rd = { 0 };
	uint64_t pos = l->head, seq = l->head_seq;
	uint32_t crc = 0;
	rvm_return_t r;
	for (;;) {
		const uint8_t *rec;
		uint32_t len;
		r = log_record_at(&rd, pos, seq, pos == l->head ? NULL : &crc,
				  &rec, &len, &crc);
		if (r == RVM_ELOG ||
		    (!r && SECT_UP(pos + len) > SECT_DOWN(l->head) + l->area)) {
			r = log_end_check(&rd, pos, seq);
			break;
		}
		if (!r)
			r = scan_record(rec, len, pos, seq);
		if (r)
			break;
		pos += len;
		seq++;
	}
	if (!r)
		r = recover_end(&rd, pos, seq, crc);
	free(rd.buf);
	return r ? r : recover_truncate();
}
