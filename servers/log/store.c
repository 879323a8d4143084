/*
 * The node log on its device: two status copies, then a circular area of
 * records.
 *
 * Layout: sectors 0 and 1 hold the status block (head, the log's
 * incarnation, what was durable when it was written), written alternately
 * by generation so that a torn status write leaves the other copy. A
 * position is a logical byte offset that only grows; position p is at
 * device offset 2 sectors + p % area. Records are packed at 8-byte
 * alignment; a flush rewrites the partial sector at the tail with the
 * bytes it already holds plus the new ones.
 *
 * A record is a header (its owner's name, kind and key, its place pseq,
 * the seq its owner knows it by, `forced`: every pseq below it was durable
 * when it was made), the data, and an end mark with a CRC-32C of all
 * before it. It is valid at a position when header and end mark carry the
 * pseq expected there, the CRC matches and it names the CRC of the record
 * before it (which, with the incarnation bumped by every recovery, rejects
 * a stale record from before a torn tail that sits where a new one goes).
 * The status names the CRC that the head's record names (head_crc), so
 * the first record read is chained too: a stale one where the head moved,
 * past records all released, is not taken.
 *
 * Damage versus a torn tail. Reading from the head, the first invalid
 * record ends the log if it is a torn write: a record of the last flush,
 * which the crash cut short. It is damage if the record had been durable:
 * some valid record after it says so (its `forced` is past the bad one's
 * pseq), or the status says so (`durable`, written with every new head).
 * Then the log refuses to open and says where: recovery never skips a
 * record it cannot read, since the owner's later records may depend on
 * it. What cannot be told apart: the very last records forced before a
 * crash, damaged afterwards, with no later record or status to vouch for
 * them, look like a torn write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/crc.h>
#include "store.h"

#define STATUS_MAGIC 0x474c5351u /* "QSLG" */
#define STATUS_VERSION 3
#define REC_MAGIC 0x524c5351u    /* "QSLR" */
#define END_MAGIC 0x454c5351u    /* "QSLE" */
#define AREA_START (2 * RVM_SECTOR)
#define LOG_MIN (16 * RVM_SECTOR)
#define CHUNK (64 * 1024)
#define RESERVE(s) ((s)->area / 8)
#define SHARE(s) ((s)->area / 2) /* the most one owner's live records hold */
#define ALIGN8(x) (((x) + 7) / 8 * 8)
#define SECT_DOWN(x) ((x) & ~(uint64_t)(RVM_SECTOR - 1))
#define SECT_UP(x) SECT_DOWN((x) + RVM_SECTOR - 1)

enum { T_DATA = 1, T_RELEASE = 2 };

typedef struct {
	uint32_t magic, version;
	uint64_t log_len, head, head_pseq;
	uint64_t durable; /* every pseq below was synced when written */
	uint32_t inc, gen;
	uint32_t crc;
	uint32_t head_crc; /* the CRC the head's record names as before it */
} status_t;

typedef struct {
	uint32_t magic, len;      /* len: header to end mark */
	uint64_t pseq, seq, forced, key;
	char owner[LOG_NAME_MAX];
	uint16_t kind, type;      /* type: T_DATA or T_RELEASE */
	uint32_t dlen, inc, prev_crc, pad;
} rec_hdr_t;

typedef struct {
	uint32_t magic, crc;
	uint64_t pseq;
} rec_end_t;

#define REC_MIN (sizeof(rec_hdr_t) + sizeof(rec_end_t))

/* ---- the status ----------------------------------------------------- */

static uint32_t
status_crc(const status_t *st)
{
	status_t c = *st;
	c.crc = 0;
	return qs_crc32c(0, &c, sizeof(c));
}

static int
status_put(rvm_dev_t *dev, status_t *st)
{
	uint8_t sect[RVM_SECTOR];
	st->magic = STATUS_MAGIC;
	st->version = STATUS_VERSION;
	st->crc = status_crc(st);
	memset(sect, 0, sizeof(sect));
	memcpy(sect, st, sizeof(*st));
	if (dev->write(dev, (uint64_t)(st->gen & 1) * RVM_SECTOR, sect,
		       RVM_SECTOR) < 0 || dev->sync(dev) < 0)
		return QS_EIO;
	return 0;
}

static int
status_valid(const status_t *st, const rvm_dev_t *dev)
{
	return st->magic == STATUS_MAGIC && st->version == STATUS_VERSION &&
	       st->crc == status_crc(st) && st->log_len >= LOG_MIN &&
	       st->log_len % RVM_SECTOR == 0 && st->log_len <= dev->size &&
	       st->head_pseq != 0 && st->head % 8 == 0 &&
	       st->head < UINT64_MAX / 2 && st->head_pseq < UINT64_MAX / 2;
}

/* The status as it stands now; the generation moves on only once written,
 * so a failed write is retried over the same copy. */
static int
status_write(store_t *s)
{
	status_t st = { .log_len = s->area + AREA_START, .head = s->head,
			.head_pseq = s->head_pseq, .durable = s->durable,
			.inc = s->inc, .gen = s->gen + 1,
			.head_crc = s->head_crc };
	int r = status_put(s->dev, &st);
	if (!r) {
		s->gen = st.gen;
		s->disk_head = s->head;
	}
	return r;
}

int
store_format(rvm_dev_t *dev)
{
	uint64_t len = dev->size;
	if (len < LOG_MIN)
		return QS_EINVAL;
	uint8_t *zero = calloc(1, CHUNK);
	if (!zero)
		return QS_ENOMEM;
	int r = 0;
	for (uint64_t off = 0; off < len && !r; off += CHUNK) {
		uint32_t n = len - off < CHUNK ? len - off : CHUNK;
		if (dev->write(dev, off, zero, n) < 0)
			r = QS_EIO;
	}
	free(zero);
	if (r || dev->sync(dev) < 0)
		return QS_EIO;
	status_t st = { .log_len = len, .head = 0, .head_pseq = 1,
			.durable = 1, .inc = 1, .gen = 1 };
	return status_put(dev, &st);
}

/* ---- device positions ------------------------------------------------ */

/* n bytes at position pos (both whole sectors), across the wrap. */
static int
area_io(store_t *s, int write, uint64_t pos, void *buf, uint32_t n)
{
	rvm_dev_t *d = s->dev;
	uint64_t off = pos % s->area;
	uint32_t first = s->area - off < n ? s->area - off : n;
	uint8_t *b = buf;
	int r = write ? d->write(d, AREA_START + off, b, first)
		      : d->read(d, AREA_START + off, b, first);
	if (r == 0 && first < n)
		r = write ? d->write(d, AREA_START, b + first, n - first)
			  : d->read(d, AREA_START, b + first, n - first);
	return r < 0 ? QS_EIO : 0;
}

/* A window on the area for reading records back. */
typedef struct {
	uint8_t *buf;
	uint32_t cap, len;
	uint64_t pos;
	uint32_t chunk; /* the least it reads at once (0: CHUNK) */
} reader_t;

static const uint8_t *
reader_get(store_t *s, reader_t *r, uint64_t pos, uint32_t n)
{
	if (r->buf && pos >= r->pos && pos - r->pos <= r->len &&
	    n <= r->len - (pos - r->pos)) /* no sum to wrap */
		return r->buf + (pos - r->pos);
	uint64_t start = SECT_DOWN(pos), want = SECT_UP(pos + n) - start;
	if (want > s->area)
		return NULL;
	uint32_t chunk = r->chunk ? r->chunk : CHUNK;
	if (want < chunk)
		want = chunk < s->area ? chunk : s->area;
	if (want > r->cap) {
		uint8_t *b = realloc(r->buf, want);
		if (!b)
			return NULL;
		r->buf = b;
		r->cap = want;
	}
	r->len = 0;
	if (area_io(s, 0, start, r->buf, want))
		return NULL;
	r->pos = start;
	r->len = want;
	return r->buf + (pos - start);
}

/* ---- records --------------------------------------------------------- */

/* The record at pos if it is whole and its CRC holds (pseq not checked):
 * its header into *h, its bytes' address, else NULL. */
static const uint8_t *
rec_whole(store_t *s, reader_t *r, uint64_t pos, rec_hdr_t *h)
{
	const uint8_t *p = reader_get(s, r, pos, sizeof(*h));
	if (!p)
		return NULL;
	memcpy(h, p, sizeof(*h));
	if (h->magic != REC_MAGIC || h->len < REC_MIN || h->len % 8 ||
	    h->len > s->area / 2 || h->dlen > h->len - REC_MIN ||
	    h->owner[LOG_NAME_MAX - 1] != '\0')
		return NULL;
	if (!(p = reader_get(s, r, pos, h->len)))
		return NULL;
	rec_end_t e;
	memcpy(&e, p + h->len - sizeof(e), sizeof(e));
	if (e.magic != END_MAGIC || e.pseq != h->pseq ||
	    e.crc != qs_crc32c(0, p, h->len - sizeof(e)))
		return NULL;
	return p;
}

static uint32_t
rec_crc(const uint8_t *p, uint32_t len)
{
	rec_end_t e;
	memcpy(&e, p + len - sizeof(e), sizeof(e));
	return e.crc;
}

static int
idx_push(store_t *s, const lrec_t *r)
{
	if (s->n == s->cap) {
		if (s->first > s->cap / 2) { /* slide down what is kept */
			memmove(s->idx, s->idx + s->first,
				(s->n - s->first) * sizeof(*s->idx));
			s->n -= s->first;
			s->first = 0;
		} else {
			uint32_t cap = s->cap ? s->cap * 2 : 256;
			lrec_t *b = realloc(s->idx, cap * sizeof(*b));
			if (!b)
				return QS_ENOMEM;
			s->idx = b;
			s->cap = cap;
		}
	}
	s->idx[s->n++] = *r;
	return 0;
}

int
store_owner(store_t *s, const char *name)
{
	for (uint32_t i = 0; i < s->n_owners; i++)
		if (!strcmp(s->owners[i], name))
			return i;
	if (s->n_owners == LOG_OWNERS_MAX || strlen(name) >= LOG_NAME_MAX)
		return -1;
	strcpy(s->owners[s->n_owners], name);
	return s->n_owners++;
}

static int
keyed(const lrec_t *o, int owner, uint64_t key, uint64_t last)
{
	return o->live && o->owner == owner && o->key >= key && o->key <= last;
}

/* Kills the owner's live records with keys key..last (only those before
 * pseq `before`: a release kills what came before it). */
static uint32_t
kill_keys(store_t *s, int owner, uint64_t key, uint64_t last, uint64_t before)
{
	uint32_t n = 0;
	for (uint32_t i = s->first; i < s->n && s->idx[i].pseq < before; i++)
		if (keyed(&s->idx[i], owner, key, last)) {
			s->idx[i].live = 0;
			s->owner_live[owner] -= s->idx[i].len;
			n++;
		}
	return n;
}

/* The effect of a record read back at start on the index. */
static int
replay(store_t *s, const rec_hdr_t *h, const uint8_t *data, uint64_t pos)
{
	int owner = store_owner(s, h->owner);
	if (owner < 0)
		return QS_ELIMIT;
	lrec_t r = { .pos = pos, .pseq = h->pseq, .seq = h->seq, .key = h->key,
		     .len = h->len, .kind = h->kind, .owner = owner,
		     .live = h->type == T_DATA };
	if (h->type == T_RELEASE) {
		uint64_t last;
		if (h->dlen != sizeof(last))
			return QS_EINVAL;
		memcpy(&last, data, sizeof(last));
		kill_keys(s, owner, h->key, last, h->pseq);
	}
	if (h->type == T_DATA)
		s->owner_live[owner] += h->len;
	for (uint32_t i = s->first; h->type == T_DATA && i < s->n; i++) {
		lrec_t *o = &s->idx[i];
		if (o->live && o->owner == owner && o->seq == h->seq) {
			o->live = 0; /* an older copy */
			s->owner_live[owner] -= o->len;
		}
	}
	return idx_push(s, &r);
}

/* After an invalid record at pos (pseq), a valid later one that vouches
 * for it: was it durable? *d gets where the log goes on. */
static int
vouched(store_t *s, reader_t *r, uint64_t pos, uint64_t pseq,
	store_damage_t *d)
{
	rec_hdr_t h;
	for (uint64_t p = pos + 8; p < s->head + s->area; p += 8) {
		if (!rec_whole(s, r, p, &h) || h.pseq <= pseq)
			continue;
		if (h.forced > pseq) {
			d->next_pos = p;
			d->next_pseq = h.pseq;
			return 1;
		}
	}
	return 0;
}

/* Reads the records from the head; the tail is where they end. */
static int
scan(store_t *s, uint64_t durable, store_damage_t *d)
{
	reader_t rd = { 0 };
	uint64_t pos = s->head, pseq = s->head_pseq;
	uint32_t crc = s->head_crc; /* the head's record too is chained */
	int r = 0;
	for (;;) {
		rec_hdr_t h;
		const uint8_t *p = rec_whole(s, &rd, pos, &h);
		if (!p || h.pseq != pseq || pos + h.len > s->head + s->area ||
		    h.prev_crc != crc) {
			if (pseq < durable || vouched(s, &rd, pos, pseq, d)) {
				d->pos = pos;
				d->pseq = pseq;
				r = STORE_DAMAGED;
			}
			break;
		}
		if ((r = replay(s, &h, p + sizeof(h), pos)) < 0) {
			/* whole and checked, but not a record this reads */
			*d = (store_damage_t){ pos, pseq, pos + h.len, pseq + 1 };
			r = r == QS_ENOMEM ? r : STORE_DAMAGED;
			break;
		}
		crc = rec_crc(p, h.len);
		s->idx[s->n - 1].crc = crc;
		pos += h.len;
		pseq++;
	}
	free(rd.buf);
	s->tail = s->written = pos;
	s->next_pseq = s->durable = pseq;
	s->last_crc = crc;
	return r;
}

/* The partial sector at the tail, which the next flush rewrites. */
static int
load_tail(store_t *s)
{
	s->buf_cap = CHUNK;
	if (!(s->buf = malloc(s->buf_cap)))
		return QS_ENOMEM;
	s->buf_len = s->tail % RVM_SECTOR;
	if (s->buf_len)
		return area_io(s, 0, SECT_DOWN(s->tail), s->buf, RVM_SECTOR);
	return 0;
}

static int
all_zero(const uint8_t *p, uint32_t n)
{
	while (n--)
		if (*p++)
			return 0;
	return 1;
}

int
store_open(store_t *s, rvm_dev_t *dev, store_damage_t *damage)
{
	uint8_t sect[2 * RVM_SECTOR];
	status_t st[2];
	memset(s, 0, sizeof(*s));
	s->dev = dev;
	if (dev->read(dev, 0, sect, sizeof(sect)) < 0)
		return QS_EIO;
	if (all_zero(sect, sizeof(sect)))
		return STORE_NEW;
	memcpy(&st[0], sect, sizeof(st[0]));
	memcpy(&st[1], sect + RVM_SECTOR, sizeof(st[1]));
	int ok0 = status_valid(&st[0], dev), ok1 = status_valid(&st[1], dev);
	if (!ok0 && !ok1)
		return STORE_BAD_STATUS;
	const status_t *v = &st[ok0 ? 0 : 1];
	if (ok0 && ok1 && (int32_t)(st[1].gen - st[0].gen) > 0)
		v = &st[1];
	s->area = v->log_len - AREA_START;
	s->head = s->disk_head = v->head;
	s->head_pseq = v->head_pseq;
	s->head_crc = v->head_crc;
	s->gen = v->gen;
	int r = scan(s, v->durable, damage);
	if (r)
		return r;
	s->stats.size = s->area;
	for (uint32_t i = s->first; i < s->n; i++)
		s->stats.recovered += s->idx[i].live;
	s->stats.live = s->stats.recovered;
	/* a new incarnation: records from now on differ from any stale ones
	 * past the tail, even with the same pseq and contents */
	s->inc = v->inc + 1;
	if ((r = load_tail(s)) || (r = status_write(s)))
		return r;
	return 0;
}

void
store_close(store_t *s)
{
	if (s->dev)
		s->dev->close(s->dev);
	free(s->buf);
	free(s->idx);
	memset(s, 0, sizeof(*s));
}

uint64_t
store_used(const store_t *s)
{
	return s->tail - s->head;
}

/* Room for len more bytes: the flush pads to the sector, which must not
 * reach the sector of the head the status names (recovery starts there
 * until a new head is written). */
static int
fits(const store_t *s, uint64_t len)
{
	return SECT_UP(s->tail + len) <= SECT_DOWN(s->disk_head) + s->area;
}

/*
 * Appends a record to the buffer. A new record (not a carried copy, with
 * seq 0) of data leaves RESERVE free: releases and the copies that move
 * the head on may use it, so a log full of live records can still be
 * emptied by releasing them.
 */
static int
put(store_t *s, int owner, int type, uint16_t kind, uint64_t key,
    uint64_t seq, const void *data, uint32_t dlen)
{
	uint32_t len = ALIGN8(sizeof(rec_hdr_t) + dlen) + sizeof(rec_end_t);
	uint64_t need = type == T_DATA && !seq ? len + RESERVE(s) : len;
	if (s->broken)
		return s->broken;
	if (len > s->area / 2 || !fits(s, need))
		return LOG_FULL;
	if (s->buf_len + len > s->buf_cap) {
		uint32_t cap = s->buf_cap;
		while (cap < s->buf_len + len)
			cap *= 2;
		uint8_t *b = realloc(s->buf, cap);
		if (!b)
			return QS_ENOMEM;
		s->buf = b;
		s->buf_cap = cap;
	}
	uint8_t *p = s->buf + s->buf_len;
	memset(p, 0, len);
	rec_hdr_t h = { .magic = REC_MAGIC, .len = len, .pseq = s->next_pseq,
			.seq = seq ? seq : s->next_pseq, .forced = s->durable,
			.key = key, .kind = kind, .type = type, .dlen = dlen,
			.inc = s->inc, .prev_crc = s->last_crc };
	strcpy(h.owner, s->owners[owner]);
	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), data, dlen);
	rec_end_t e = { END_MAGIC, qs_crc32c(0, p, len - sizeof(e)), h.pseq };
	memcpy(p + len - sizeof(e), &e, sizeof(e));
	lrec_t r = { .pos = s->tail, .pseq = h.pseq, .seq = h.seq, .key = key,
		     .len = len, .kind = kind, .owner = owner,
		     .live = type == T_DATA, .crc = e.crc };
	int rc = idx_push(s, &r);
	if (rc)
		return rc;
	s->last_crc = e.crc;
	if (type == T_DATA)
		s->owner_live[owner] += len;
	s->buf_len += len;
	s->tail += len;
	s->next_pseq++;
	return 0;
}

/* Before a new record of dlen bytes: once the log is three quarters full
 * (or the record does not fit), the head moves on first, while there is
 * still room at the tail for the live records it carries (not for the
 * copies compaction itself makes). */
static void
make_room(store_t *s, uint32_t dlen)
{
	if (store_wants_flush(s, dlen, NULL))
		store_compact(s, s->area / 2);
}

int
store_append(store_t *s, int owner, uint16_t kind, uint64_t key,
	     const void *data, uint32_t len, uint64_t *seq)
{
	uint32_t need = ALIGN8(sizeof(rec_hdr_t) + len) + sizeof(rec_end_t);
	if (s->owner_live[owner] + need > SHARE(s)) {
		s->stats.full++; /* its share is full: the others keep theirs */
		return LOG_FULL;
	}
	make_room(s, len);
	int r = put(s, owner, T_DATA, kind, key, 0, data, len);
	if (r == LOG_FULL)
		s->stats.full++;
	if (r)
		return r;
	s->stats.appends++;
	s->stats.bytes += len;
	s->stats.live++;
	if (seq)
		*seq = s->next_pseq - 1;
	return 0;
}

/* The release record first: a release that is not logged did not happen. */
int
store_release(store_t *s, int owner, uint64_t key, uint64_t last)
{
	uint32_t i = s->first, end = s->n;
	while (i < end && !keyed(&s->idx[i], owner, key, last))
		i++;
	if (i == end)
		return 0;
	make_room(s, sizeof(uint64_t));
	uint64_t before = s->next_pseq;
	int r = put(s, owner, T_RELEASE, 0, key, 0, &last, sizeof(last));
	if (r)
		return r;
	s->stats.live -= kill_keys(s, owner, key, last, before);
	s->stats.releases++;
	return 0;
}

const lrec_t *
store_next(const store_t *s, int owner, uint64_t after)
{
	const lrec_t *best = NULL;
	for (uint32_t i = s->first; i < s->n; i++) {
		const lrec_t *o = &s->idx[i];
		if (o->live && o->owner == owner && o->seq > after &&
		    (!best || o->seq < best->seq))
			best = o;
	}
	return best;
}

int
store_read(store_t *s, const lrec_t *r, void *data, uint32_t cap)
{
	reader_t rd = { .chunk = RVM_SECTOR }; /* its own sectors only */
	rec_hdr_t h;
	/* a record still in the buffer is written first */
	int rc = r->pos + r->len > s->written ? store_flush(s) : 0;
	const uint8_t *p = rc || !reader_get(s, &rd, r->pos, r->len)
		? NULL : rec_whole(s, &rd, r->pos, &h);
	if (!p || h.pseq != r->pseq) {
		free(rd.buf);
		return rc ? rc : QS_EIO;
	}
	uint32_t n = h.dlen < cap ? h.dlen : cap;
	memcpy(data, p + sizeof(h), n);
	free(rd.buf);
	return h.dlen;
}

int
store_flush_take(store_t *s, store_io_t *io)
{
	if (s->broken)
		return s->broken;
	io->start = SECT_DOWN(s->written);
	io->n = SECT_UP(s->buf_len);
	io->tail = s->tail;
	io->pseq = s->next_pseq;
	if (s->tail == s->written)
		return 0;
	if (io->n > io->cap) {
		uint8_t *b = realloc(io->buf, io->n);
		if (!b)
			return QS_ENOMEM; /* the caller flushes in place instead */
		io->buf = b;
		io->cap = io->n;
	}
	memcpy(io->buf, s->buf, s->buf_len);
	memset(io->buf + s->buf_len, 0, io->n - s->buf_len);
	s->flushing = 1;
	return 0;
}

int
store_flush_io(store_t *s, const store_io_t *io)
{
	if (area_io(s, 1, io->start, io->buf, io->n) || s->dev->sync(s->dev) < 0)
		return QS_EIO;
	return 0;
}

int
store_flush_io_torn(store_t *s, const store_io_t *io)
{
	uint32_t sectors = io->n / RVM_SECTOR;
	return area_io(s, 1, io->start, io->buf,
		       (sectors + 1) / 2 * RVM_SECTOR);
}

int
store_flush_done(store_t *s, const store_io_t *io, int err)
{
	if (!s->flushing)
		return err;
	s->flushing = 0;
	if (err) {
		s->broken = QS_EIO;
		return QS_EIO;
	}
	s->stats.forces++;
	/* the buffer holds [SECT_DOWN(written), tail): from the new written's
	 * sector on, it stays */
	uint32_t gone = (uint32_t)(SECT_DOWN(io->tail) - io->start);
	memmove(s->buf, s->buf + gone, s->buf_len - gone);
	s->buf_len -= gone;
	s->written = io->tail;
	s->durable = io->pseq;
	return 0;
}

/* In place, from the buffer itself: no allocation can fail, so a record
 * appended is never reported unlogged for want of memory. */
int
store_flush(store_t *s)
{
	if (s->broken)
		return s->broken;
	if (s->tail == s->written)
		return 0;
	store_io_t io = { s->buf, SECT_UP(s->buf_len), s->buf_cap,
			  SECT_DOWN(s->written), s->tail, s->next_pseq };
	memset(s->buf + s->buf_len, 0, io.n - s->buf_len);
	s->flushing = 1;
	return store_flush_done(s, &io, store_flush_io(s, &io));
}

int
store_wants_flush(const store_t *s, uint32_t dlen, const lrec_t *read)
{
	if (read) /* store_read writes a record still in the buffer first */
		return read->pos + read->len > s->written;
	return store_used(s) > s->area / 4 * 3 || /* make_room compacts */
	       !fits(s, ALIGN8(sizeof(rec_hdr_t) + dlen) + sizeof(rec_end_t));
}

/* Copies live record r to the tail (it keeps its seq) and retires it. */
static int
carry(store_t *s, lrec_t *r)
{
	static uint8_t data[LOG_DATA_MAX];
	lrec_t copy = *r;
	int n = store_read(s, &copy, data, sizeof(data));
	if (n < 0)
		return n;
	if (n > (int)sizeof(data))
		return QS_EIO;
	int rc = put(s, copy.owner, T_DATA, copy.kind, copy.key, copy.seq,
		     data, n);
	if (rc)
		return rc;
	s->idx[s->first].live = 0; /* r may have moved as the index grew */
	s->owner_live[copy.owner] -= copy.len;
	s->stats.carried++;
	return 0;
}

int
store_compact(store_t *s, uint64_t target)
{
	uint64_t stop = s->tail; /* never carry what this pass carried */
	int r = 0;
	while (s->first < s->n && store_used(s) > target &&
	       s->idx[s->first].pos < stop) {
		lrec_t *h = &s->idx[s->first];
		if (h->live && (r = carry(s, h)) != 0)
			break;
		h = &s->idx[s->first];
		s->head = h->pos + h->len;
		s->head_pseq = h->pseq + 1;
		s->head_crc = h->crc;
		s->first++;
	}
	if (s->first == s->n) {
		s->head = s->tail;
		s->head_pseq = s->next_pseq;
		s->head_crc = s->last_crc;
	}
	/* the new head only once the copies are durable */
	int f = store_flush(s);
	if (!f)
		f = status_write(s);
	s->stats.used = store_used(s);
	return r == LOG_FULL ? f : (r ? r : f);
}
