/*
 * The LRVM redo log: its device layout, record format, appends and forces.
 *
 * Layout: sectors 0 and 1 hold two copies of the status block; status
 * writes alternate between them (by generation), so a torn status write
 * leaves the previous one intact. The rest of the log is a circular record
 * area. Records are packed back to back at 8-byte alignment; an append
 * rewrites the partial sector at the end of the log with the same bytes it
 * already holds, plus the new ones, zero-padded to the sector.
 *
 * A record is valid at a position when its header and end mark carry the
 * expected sequence number, its crc matches, and it names the crc of the
 * record before it. The crc is CRC32C (qs/crc.h, the node log's too): it
 * catches any burst of up to 32 bits and any 3 flipped bits in a record
 * (Hamming distance 4 up to 2^31 bits, by Koopman's tables). The sequence
 * number rejects records left over from an earlier lap of the circle; the
 * crc rejects torn writes and damage; the chain of crcs rejects a stale
 * record that sits just where the next record would go, behind a record
 * that was lost and rewritten differently (the incarnation in the header
 * makes a rewrite after recovery differ even when the transaction is the
 * same).
 *
 * Every record also says which records were known forced when it was
 * sealed (rec_hdr_t.forced), and the status block says which were when it
 * was written (durable_seq, at truncation, recovery and rvm_terminate):
 * with them recovery tells damage from a torn tail (rvm_damage.c).
 *
 * Status blocks: both copies all zero is a device never formatted
 * (RVM_ELOG); neither copy valid otherwise is damage (RVM_ECORRUPT), never
 * taken for "no log", so a server does not format over it.
 */
#include <stdlib.h>
#include <string.h>
#include <qs/crc.h>
#include "rvm_int.h"

#define STATUS_MAGIC 0x4c4d5652u /* "RVML" */
#define LOG_VERSION 2 /* 2: CRC32C, forced seqs in records and status */
#define LOG_MIN (8 * RVM_SECTOR)
#define ZERO_CHUNK (64 * 1024)
#define READ_CHUNK (64 * 1024)

typedef struct {
	uint32_t magic, version;
	uint64_t log_len;
	uint64_t head, head_seq;
	uint64_t durable, durable_seq; /* records up to durable_seq, which
					* ends at durable, were forced */
	uint32_t inc, gen;
	uint32_t crc, pad;
} log_status_t;

static rvm_return_t
status_put(rvm_dev_t *dev, log_status_t *st)
{
	uint8_t sect[RVM_SECTOR];
	st->magic = STATUS_MAGIC;
	st->version = LOG_VERSION;
	st->pad = 0;
	st->crc = 0;
	st->crc = qs_crc32c(0, st, sizeof(*st));
	memset(sect, 0, sizeof(sect));
	memcpy(sect, st, sizeof(*st));
	if (dev->write(dev, (uint64_t)(st->gen & 1) * RVM_SECTOR, sect,
		       RVM_SECTOR) < 0 || dev->sync(dev) < 0)
		return RVM_EIO;
	return RVM_SUCCESS;
}

rvm_return_t
log_create(rvm_dev_t *dev, uint64_t len)
{
	if (len < LOG_MIN || len % RVM_SECTOR || len > dev->size)
		return RVM_EOPTIONS;
	/* No stale record may survive into the new log: zero all of it. */
	uint8_t *zero = calloc(1, ZERO_CHUNK);
	if (!zero)
		return RVM_ENO_MEMORY;
	rvm_return_t r = RVM_SUCCESS;
	for (uint64_t off = 0; off < len && !r; off += ZERO_CHUNK) {
		uint32_t n = len - off < ZERO_CHUNK ? len - off : ZERO_CHUNK;
		if (dev->write(dev, off, zero, n) < 0)
			r = RVM_EIO;
	}
	free(zero);
	if (r || dev->sync(dev) < 0)
		return RVM_EIO;
	log_status_t st = { .log_len = len, .head = 0, .head_seq = 1,
			    .inc = 1, .gen = 1 };
	return status_put(dev, &st);
}

static int
status_valid(const log_status_t *st, const rvm_dev_t *dev)
{
	log_status_t c = *st;
	c.crc = 0;
	return st->magic == STATUS_MAGIC && st->version == LOG_VERSION &&
	       st->crc == qs_crc32c(0, &c, sizeof(c)) &&
	       st->log_len >= LOG_MIN && st->log_len % RVM_SECTOR == 0 &&
	       st->log_len <= dev->size && st->head_seq != 0;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	while (n && !*p)
		p++, n--;
	return n == 0;
}

/* Neither status copy is valid: a device never formatted, or damage. */
static rvm_return_t
status_refused(const uint8_t *sect, const log_status_t *st)
{
	if (all_zero(sect, 2 * RVM_SECTOR))
		return RVM_ELOG;
	for (int i = 0; i < 2; i++) {
		if (st[i].magic == STATUS_MAGIC && st[i].version != LOG_VERSION) {
			rvm.damage.kind = RVM_DAMAGE_VERSION;
			damage_say("a log of format version %u, this library's "
				   "is %u", st[i].version, LOG_VERSION);
			return RVM_ECORRUPT;
		}
	}
	rvm.damage.kind = RVM_DAMAGE_STATUS;
	damage_say("neither copy of the status block (sectors 0 and 1) is "
		   "valid, and they are not blank");
	return RVM_ECORRUPT;
}

/* Reads the newer valid status copy into rvm.log; recovery comes next. */
rvm_return_t
log_open(rvm_dev_t *dev)
{
	uint8_t sect[2 * RVM_SECTOR];
	log_status_t st[2];
	if (dev->read(dev, 0, sect, sizeof(sect)) < 0)
		return RVM_EIO;
	memcpy(&st[0], sect, sizeof(st[0]));
	memcpy(&st[1], sect + RVM_SECTOR, sizeof(st[1]));
	int ok0 = status_valid(&st[0], dev), ok1 = status_valid(&st[1], dev);
	if (!ok0 && !ok1)
		return status_refused(sect, st);
	const log_status_t *s = &st[ok0 ? 0 : 1];
	if (ok0 && ok1 && (int32_t)(st[1].gen - st[0].gen) > 0)
		s = &st[1];
	rvm_log_t *l = &rvm.log;
	l->area = s->log_len - LOG_AREA_START;
	l->head = s->head;
	l->head_seq = s->head_seq;
	l->forced_seq = s->durable_seq;
	l->forced_pos = s->durable;
	l->inc = s->inc;
	l->gen = s->gen;
	l->buf_cap = rvm.log_buf_size + 2 * RVM_SECTOR;
	l->buf = malloc(l->buf_cap);
	return l->buf ? RVM_SUCCESS : RVM_ENO_MEMORY;
}

/* Truncation, recovery and rvm_terminate, serialised by rvm_trunc_lock;
 * the caller counts the I/O. */
rvm_return_t
log_write_status(uint64_t head, uint64_t head_seq)
{
	rvm_log_t *l = &rvm.log;
	if (rvm.node)
		return node_release(head);
	log_status_t st = { .log_len = l->area + LOG_AREA_START, .head = head,
			    .head_seq = head_seq, .inc = l->inc,
			    .gen = l->gen + 1 };
	/* Commits force beside an epoch: read their progress under the lock. */
	qs_mutex_lock(&rvm_lock);
	st.durable = l->forced_pos;
	st.durable_seq = l->forced_seq;
	qs_mutex_unlock(&rvm_lock);
	/* The generation moves on only once written, so a failed write is
	 * retried on the same copy and the other one stays good. */
	rvm_return_t r = status_put(rvm.dev, &st);
	if (!r)
		l->gen = st.gen;
	return r;
}

/* Reads or writes n bytes of the log at position pos (both in sectors). */
rvm_return_t
log_io(int write, uint64_t pos, void *buf, uint32_t n)
{
	rvm_dev_t *d = rvm.dev;
	uint64_t area = rvm.log.area, off = pos % area;
	uint32_t first = area - off < n ? area - off : n;
	uint8_t *b = buf;
	int r = write ? d->write(d, LOG_AREA_START + off, b, first)
		      : d->read(d, LOG_AREA_START + off, b, first);
	if (r == 0 && first < n)
		r = write ? d->write(d, LOG_AREA_START, b + first, n - first)
			  : d->read(d, LOG_AREA_START, b + first, n - first);
	return r < 0 ? RVM_EIO : RVM_SUCCESS;
}

/* The padding up to the next sector must not reach the head's sector. */
int
log_fits(uint64_t len)
{
	rvm_log_t *l = &rvm.log;
	return SECT_UP(l->tail + len) <= SECT_DOWN(l->head) + l->area;
}

/* Whether truncation would free anything: every record in the log but the
 * latest copies of undecided PREPAREs can go. */
int
log_has_work(void)
{
	if (rvm.node) /* PREPAREs are not in the range: the node log keeps them */
		return rvm.log.tail > rvm.log.head;
	return rvm.log.next_seq - rvm.log.head_seq > rvm.n_preps;
}

uint32_t
rec_seal(uint8_t *rec, uint32_t len, const rvm_log_t *l)
{
	rec_hdr_t h;
	rec_end_t e;
	memcpy(&h, rec, sizeof(h));
	h.seq = l->next_seq;
	h.inc = l->inc;
	h.prev_crc = l->last_crc;
	h.pad = 0;
	h.forced = l->forced_seq;
	memcpy(rec, &h, sizeof(h));
	e.magic = END_MAGIC;
	e.seq = h.seq;
	e.crc = qs_crc32c(0, rec, len - sizeof(e));
	memcpy(rec + len - sizeof(e), &e, sizeof(e));
	return e.crc;
}

static rvm_return_t
log_write_buf(void)
{
	rvm_log_t *l = &rvm.log;
	if (l->tail == l->written)
		return RVM_SUCCESS;
	uint64_t start = SECT_DOWN(l->written);
	uint32_t n = SECT_UP(l->buf_len);
	memset(l->buf + l->buf_len, 0, n - l->buf_len);
	if (log_io(1, start, l->buf, n)) {
		l->broken = RVM_EIO;
		return RVM_EIO;
	}
	rvm.stats.log_writes += start % l->area + n > l->area ? 2 : 1;
	l->written = l->tail;
	l->unsynced = 1;
	/* Keep the partial last sector: the next write starts with it. */
	l->buf_len = l->tail % RVM_SECTOR;
	if (l->buf_len)
		memmove(l->buf, l->buf + n - RVM_SECTOR, l->buf_len);
	uint32_t normal = rvm.log_buf_size + 2 * RVM_SECTOR;
	if (l->buf_cap > normal) {
		uint8_t *b = realloc(l->buf, normal);
		if (b) {
			l->buf = b;
			l->buf_cap = normal;
		}
	}
	return RVM_SUCCESS;
}

/* Writes what is buffered and syncs; with rvm_lock held. */
rvm_return_t
log_force(void)
{
	rvm_log_t *l = &rvm.log;
	if (rvm.node)
		return node_force();
	if (l->broken)
		return l->broken;
	rvm_return_t r = log_write_buf();
	if (r || !l->unsynced)
		return r;
	if (rvm.dev->sync(rvm.dev) < 0) {
		l->broken = RVM_EIO;
		return RVM_EIO;
	}
	l->unsynced = 0;
	/* Every record appended so far is durable: the next one says so. */
	l->forced_seq = l->next_seq - 1;
	l->forced_pos = l->tail;
	rvm.stats.log_forces++;
	return RVM_SUCCESS;
}

/*
 * Appends a built record (sealing it in place) and reports where it went.
 * force: written and synced before returning; else buffered, and written
 * once the buffer holds log_buf_size bytes. A failed log write or sync
 * leaves the log refusing work (l->broken): what reached the device is
 * for recovery to judge. With rvm_lock held; the caller made room.
 */
rvm_return_t
log_append(uint8_t *rec, uint32_t len, int force, uint64_t *pos,
	   uint64_t *seq)
{
	rvm_log_t *l = &rvm.log;
	if (rvm.node)
		return node_append(rec, len, force, pos, seq);
	if (l->broken)
		return l->broken;
	if (!log_fits(len))
		return RVM_ELOG_FULL;
	uint32_t need = l->buf_len + len + RVM_SECTOR;
	if (need > l->buf_cap) {
		uint8_t *b = realloc(l->buf, need);
		if (!b)
			return RVM_ENO_MEMORY;
		l->buf = b;
		l->buf_cap = need;
	}
	l->last_crc = rec_seal(rec, len, l);
	memcpy(l->buf + l->buf_len, rec, len);
	if (pos)
		*pos = l->tail;
	if (seq)
		*seq = l->next_seq;
	l->buf_len += len;
	l->tail += len;
	l->next_seq++;
	rvm.stats.log_bytes += len;
	if (force)
		return log_force();
	if (l->buf_len >= rvm.log_buf_size)
		return log_write_buf();
	return RVM_SUCCESS;
}

void
log_free(void)
{
	free(rvm.log.buf);
	memset(&rvm.log, 0, sizeof(rvm.log));
}

/* Distinct segments of t's ranges, in order of first use. */
static uint32_t
rec_segs(const rvm_txn_t *t, rvm_seg_t **segs)
{
	uint32_t n = 0;
	for (uint32_t i = 0; t && i < t->n_ranges; i++) {
		rvm_seg_t *s = t->ranges[i].map->seg;
		uint32_t k = 0;
		while (k < n && segs[k] != s)
			k++;
		if (k == n)
			segs[n++] = s;
	}
	return n;
}

static uint32_t
seg_index(rvm_seg_t **segs, uint32_t n, const rvm_seg_t *s)
{
	uint32_t k = 0;
	while (k < n - 1 && segs[k] != s)
		k++;
	return k;
}

/*
 * Builds a record of t's ranges holding their current values (t NULL: no
 * ranges). RVM_ELOG_FULL if it would not fit even in an empty log.
 */
rvm_return_t
rec_build(int kind, const rvm_txn_t *t, uint64_t gtid, uint8_t **out,
	  uint32_t *len)
{
	uint32_t nr = t ? t->n_ranges : 0;
	rvm_seg_t **segs = malloc((nr ? nr : 1) * sizeof(*segs));
	if (!segs)
		return RVM_ENO_MEMORY;
	uint32_t ns = rec_segs(t, segs);
	uint64_t size = REC_MIN;
	for (uint32_t k = 0; k < ns; k++)
		size += ALIGN8(4 + strlen(segs[k]->name));
	for (uint32_t i = 0; i < nr; i++)
		size += sizeof(rec_range_t) + ALIGN8((uint64_t)t->ranges[i].len);
	uint8_t *rec = NULL;
	rvm_return_t r = RVM_ELOG_FULL;
	if (size <= rvm.log.area - 2 * RVM_SECTOR) {
		rec = calloc(1, size);
		r = rec ? RVM_SUCCESS : RVM_ENO_MEMORY;
	}
	if (rec) {
		rec_hdr_t h = { .magic = REC_MAGIC, .kind = kind, .n_segs = ns,
				.n_ranges = nr, .len = size, .gtid = gtid,
				.tid = t ? t->id : 0 };
		memcpy(rec, &h, sizeof(h));
		uint8_t *p = rec + sizeof(h);
		for (uint32_t k = 0; k < ns; k++) {
			uint32_t n = strlen(segs[k]->name);
			memcpy(p, &n, 4);
			memcpy(p + 4, segs[k]->name, n);
			p += ALIGN8(4 + n);
		}
		for (uint32_t i = 0; i < nr; i++) {
			const rvm_range_t *rg = &t->ranges[i];
			const rvm_map_t *m = rg->map;
			rec_range_t rr = { .seg = seg_index(segs, ns, m->seg),
					   .len = rg->len,
					   .off = m->offset + (rg->addr - m->mem) };
			memcpy(p, &rr, sizeof(rr));
			memcpy(p + sizeof(rr), rg->addr, rg->len);
			p += sizeof(rr) + ALIGN8(rg->len);
		}
		*out = rec;
		*len = size;
	}
	free(segs);
	return r;
}

void
rec_header(const uint8_t *rec, rec_hdr_t *h)
{
	memcpy(h, rec, sizeof(*h));
}

void
rec_set_kind(uint8_t *rec, int kind)
{
	rec_hdr_t h;
	memcpy(&h, rec, sizeof(h));
	h.kind = kind;
	memcpy(rec, &h, sizeof(h));
}

/* Sets up a walk over a checked record's ranges; -1 if it is malformed. */
int
rec_iter_init(rec_iter_t *it, const uint8_t *rec, uint32_t len)
{
	rec_hdr_t h;
	memcpy(&h, rec, sizeof(h));
	it->rec = rec;
	it->len = len - sizeof(rec_end_t);
	it->n_segs = h.n_segs;
	it->left = h.n_ranges;
	it->names = sizeof(h);
	it->at = it->names;
	for (uint32_t k = 0; k < h.n_segs; k++) {
		uint32_t n;
		if (it->at + 4 > it->len)
			return -1;
		memcpy(&n, rec + it->at, 4);
		if (n > it->len - it->at - 4)
			return -1;
		it->at += ALIGN8(4 + n);
	}
	return it->at <= it->len ? 0 : -1;
}

/* The next range: 1, or 0 at the end, or -1 if the record is malformed. */
int
rec_next(rec_iter_t *it, rec_item_t *item)
{
	rec_range_t rr;
	if (!it->left)
		return it->at == it->len ? 0 : -1;
	if (it->len - it->at < sizeof(rr))
		return -1;
	memcpy(&rr, it->rec + it->at, sizeof(rr));
	it->at += sizeof(rr);
	if (rr.seg >= it->n_segs || ALIGN8((uint64_t)rr.len) > it->len - it->at)
		return -1;
	uint32_t name = it->names, n;
	for (uint32_t k = 0;; k++) {
		memcpy(&n, it->rec + name, 4);
		if (k == rr.seg)
			break;
		name += ALIGN8(4 + n);
	}
	item->name = (const char *)it->rec + name + 4;
	item->name_len = n;
	item->off = rr.off;
	item->len = rr.len;
	item->data = it->rec + it->at;
	it->at += ALIGN8(rr.len);
	it->left--;
	return 1;
}

/* A pointer to log bytes [pos, pos + n), read through a window. */
const uint8_t *
log_read(log_reader_t *r, uint64_t pos, uint32_t n)
{
	uint64_t area = rvm.log.area;
	if (r->buf && pos >= r->pos && pos + n <= r->pos + r->len)
		return r->buf + (pos - r->pos);
	uint64_t start = SECT_DOWN(pos), want = SECT_UP(pos + n) - start;
	if (want > area)
		return NULL;
	if (want < READ_CHUNK)
		want = READ_CHUNK < area ? READ_CHUNK : area;
	if (want > r->cap) {
		uint8_t *b = realloc(r->buf, want);
		if (!b)
			return NULL;
		r->buf = b;
		r->cap = want;
	}
	r->len = 0;
	if (log_io(0, start, r->buf, want))
		return NULL;
	r->pos = start;
	r->len = want;
	return r->buf + (pos - start);
}

/*
 * Checks the record at pos on its own: its magic, a length that fits the
 * log, its end mark and its crc. RVM_SUCCESS: *h holds its header and
 * *rec points at it (valid until the next read). RVM_ELOG: no record
 * there. RVM_EIO: the device failed.
 */
rvm_return_t
log_record_check(log_reader_t *r, uint64_t pos, rec_hdr_t *h,
		 const uint8_t **rec)
{
	const uint8_t *p = log_read(r, pos, sizeof(*h));
	if (!p)
		return RVM_EIO;
	memcpy(h, p, sizeof(*h));
	if (h->magic != REC_MAGIC || h->len < REC_MIN || h->len % 8 ||
	    h->len > rvm.log.area - 2 * RVM_SECTOR)
		return RVM_ELOG;
	p = log_read(r, pos, h->len);
	if (!p)
		return RVM_EIO;
	if (!rec_sealed(p, h->len))
		return RVM_ELOG;
	*rec = p;
	return RVM_SUCCESS;
}

int
rec_sealed(const uint8_t *rec, uint32_t len)
{
	rec_hdr_t h;
	rec_end_t e;
	memcpy(&h, rec, sizeof(h));
	memcpy(&e, rec + len - sizeof(e), sizeof(e));
	return e.magic == END_MAGIC && e.seq == h.seq &&
	       e.crc == qs_crc32c(0, rec, len - sizeof(e));
}

/*
 * Checks the record at pos as the log's record seq, following the record
 * whose crc is *prev_crc (NULL: the first one). RVM_SUCCESS: *rec points
 * at it (valid until the next read), *len and *crc describe it. RVM_ELOG:
 * no such record there (the end of the log, or damage: rvm_damage.c
 * tells). RVM_EIO: the device failed.
 */
rvm_return_t
log_record_at(log_reader_t *r, uint64_t pos, uint64_t seq,
	      const uint32_t *prev_crc, const uint8_t **rec, uint32_t *len,
	      uint32_t *crc)
{
	rec_hdr_t h;
	rec_end_t e;
	const uint8_t *p;
	rvm_return_t ret = log_record_check(r, pos, &h, &p);
	if (ret)
		return ret;
	if (h.seq != seq || (prev_crc && h.prev_crc != *prev_crc))
		return RVM_ELOG;
	memcpy(&e, p + h.len - sizeof(e), sizeof(e));
	*rec = p;
	*len = h.len;
	*crc = e.crc;
	return RVM_SUCCESS;
}
