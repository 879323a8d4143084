/*
 * Truncation from mapped memory, LRVM's incremental truncation: an epoch
 * writes the segment sectors that commits changed from the mapped regions
 * themselves, and reads neither the log nor the segments.
 *
 * Each commit marks the sectors of its ranges in its region's dirty bitmap
 * (map_mark). At its end E (the log forced to E, under rvm_lock) an epoch
 * takes the bitmaps, then writes the taken sectors in rounds: a round
 * forces the log again and copies the next runs of sectors under rvm_lock,
 * then writes them without it, so commits go on meanwhile. A sector
 * written thus holds the committed state at some moment t >= E, with every
 * record behind it durable; the head moves only to E, and recovery replays
 * the records from E on over it, which gives the same bytes (redo is
 * idempotent). A torn sector write is harmless the same way: every byte
 * that differs between what the sector held and what it gets was set by a
 * record the log still holds.
 *
 * Memory holds the committed state except under the ranges of open
 * transactions (prepared ones too): set_range comes before every change,
 * as LRVM requires, and an abort puts the old values back under rvm_lock.
 * A taken sector under such a range is busy: the epoch applies the log's
 * records to it instead (rvm_trunc.c, for those sectors only).
 *
 * Clean sectors between two taken ones go along when the gap is short
 * (GAP_MAX): one disk request for the lot is cheaper than one each side
 * (under QEMU a request costs about as much as 16 more sectors in it).
 * They hold what the segment holds, so a torn write leaves them as they
 * were, provided a crash leaves a sector with old or new bytes and not
 * garbage, which the unchanged bytes of taken sectors, and the log's
 * rewrite of its partial last sector, rely on already.
 *
 * Records the bitmaps may lack (recovery's, a failed epoch's, those of a
 * region unmapped since) lie below rvm.log.untracked: an epoch that starts
 * below it applies the whole log instead, as recovery does.
 */
#include <stdlib.h>
#include <string.h>
#include "rvm_int.h"

#define ROUND_MAX 256 /* sectors a round copies (128 KiB) */
#define RUN_MAX 128   /* sectors in one segment write */
#define GAP_MAX 16    /* clean sectors a write may span */

static uint32_t
words(const rvm_map_t *m)
{
	return (m->length / RVM_SECTOR + 31) / 32;
}

static int
bit(const uint32_t *v, uint32_t i)
{
	return v[i / 32] >> (i % 32) & 1;
}

/* The first set bit in [i, n), or n. */
static uint32_t
next_bit(const uint32_t *v, uint32_t i, uint32_t n)
{
	while (i < n) {
		uint32_t w = v[i / 32] >> (i % 32);
		if (w) {
			i += __builtin_ctz(w);
			return i < n ? i : n;
		}
		i = (i / 32 + 1) * 32;
	}
	return n;
}

/* Sets the bits of sectors [off / sector, (off + len - 1) / sector];
 * returns how many were clear. */
static uint32_t
set_bits(uint32_t *v, uint32_t off, uint32_t len)
{
	uint32_t fresh = 0;
	for (uint32_t s = off / RVM_SECTOR; s <= (off + len - 1) / RVM_SECTOR;
	     s++) {
		fresh += !bit(v, s);
		v[s / 32] |= 1u << (s % 32);
	}
	return fresh;
}

rvm_return_t
map_bits_alloc(rvm_map_t *m)
{
	uint32_t n = words(m);
	m->dirty = calloc(3 * n, sizeof(uint32_t));
	m->taken = m->dirty + n;
	m->busy = m->taken + n;
	return m->dirty ? RVM_SUCCESS : RVM_ENO_MEMORY;
}

void
map_bits_free(rvm_map_t *m)
{
	free(m->dirty);
}

/* A commit changed [off, off + len) of m; rvm_lock held. */
void
map_mark(rvm_map_t *m, uint32_t off, uint32_t len)
{
	if (m->dirty && len)
		m->n_dirty += set_bits(m->dirty, off, len);
}

/* The epoch's end: its sectors are the dirty ones; rvm_lock held. */
void
mem_take(void)
{
	for (rvm_map_t *m = rvm.maps; m; m = m->next) {
		if (!m->dirty)
			continue;
		uint32_t n = words(m) * sizeof(uint32_t);
		memcpy(m->taken, m->dirty, n);
		if (m->n_dirty)
			memset(m->dirty, 0, n);
		m->n_dirty = 0;
	}
}

static int
sect_cmp(const rvm_seg_t *seg, uint64_t sector, const struct rvm_sect *e)
{
	if (seg != e->seg)
		return (uintptr_t)seg < (uintptr_t)e->seg ? -1 : 1;
	return sector < e->sector ? -1 : sector > e->sector;
}

/* Where (seg, sector) is in s, or would go; *found says which. */
static uint32_t
sects_find(const rvm_sects_t *s, const rvm_seg_t *seg, uint64_t sector,
	   int *found)
{
	uint32_t lo = 0, hi = s->n;
	*found = 0;
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		int d = sect_cmp(seg, sector, &s->v[mid]);
		if (d == 0) {
			*found = 1;
			return mid;
		}
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

int
sects_has(const rvm_sects_t *s, const rvm_seg_t *seg, uint64_t sector)
{
	int found;
	sects_find(s, seg, sector, &found);
	return found;
}

static rvm_return_t
sects_add(rvm_sects_t *s, const rvm_seg_t *seg, uint64_t sector)
{
	int found;
	uint32_t i = sects_find(s, seg, sector, &found);
	if (found)
		return RVM_SUCCESS;
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? 2 * s->cap : 16;
		struct rvm_sect *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return RVM_ENO_MEMORY;
		s->v = v;
		s->cap = cap;
	}
	memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(*s->v));
	s->v[i] = (struct rvm_sect){ seg, sector };
	s->n++;
	return RVM_SUCCESS;
}

/* A run of sectors of the region, copied into the round's buffer. */
typedef struct {
	uint32_t first, n;
} run_t;

typedef struct {
	rvm_map_t *m;
	uint32_t sectors; /* m's */
	uint32_t next;    /* the next sector of m to look at */
	uint8_t *buf;     /* ROUND_MAX sectors: the runs, one after another */
	run_t runs[ROUND_MAX];
	uint32_t n_runs, used; /* runs, and sectors of buf they fill */
	rvm_sects_t *busy;
} round_t;

/* Marks the sectors of m under open transactions' ranges; rvm_lock held. */
static void
mark_busy(rvm_map_t *m)
{
	memset(m->busy, 0, words(m) * sizeof(uint32_t));
	for (rvm_txn_t *t = rvm.txns; t; t = t->next)
		for (uint32_t i = 0; i < t->n_ranges; i++)
			if (t->ranges[i].map == m)
				set_bits(m->busy, t->ranges[i].addr - m->mem,
					 t->ranges[i].len);
}

/* The end of a run from taken sector s: it takes in the next taken
 * sector while the gap is short, nothing busy lies there, and the run
 * stays within max sectors. */
static uint32_t
run_end(const round_t *rd, uint32_t s, uint32_t max)
{
	const rvm_map_t *m = rd->m;
	uint32_t end = s + 1;
	for (;;) {
		uint32_t nx = next_bit(m->taken, end, rd->sectors);
		if (nx == rd->sectors || nx - end > GAP_MAX ||
		    nx + 1 - s > max || next_bit(m->busy, end, nx + 1) <= nx)
			return end;
		end = nx + 1;
	}
}

/* Copies the round's runs from memory; rvm_lock held. */
static rvm_return_t
round_fill(round_t *rd)
{
	rvm_map_t *m = rd->m;
	rd->n_runs = rd->used = 0;
	mark_busy(m);
	while (rd->used < ROUND_MAX) {
		uint32_t s = next_bit(m->taken, rd->next, rd->sectors);
		rd->next = s;
		if (s == rd->sectors)
			break;
		if (bit(m->busy, s)) {
			rvm_return_t r = sects_add(rd->busy, m->seg,
						   m->offset / RVM_SECTOR + s);
			if (r)
				return r;
			rd->next = s + 1;
			continue;
		}
		uint32_t room = ROUND_MAX - rd->used;
		uint32_t end = run_end(rd, s, room < RUN_MAX ? room : RUN_MAX);
		memcpy(rd->buf + rd->used * RVM_SECTOR, m->mem + s * RVM_SECTOR,
		       (end - s) * RVM_SECTOR);
		rd->runs[rd->n_runs++] = (run_t){ s, end - s };
		rd->used += end - s;
		rd->next = end;
	}
	return RVM_SUCCESS;
}

/* One round: the copies under rvm_lock, after the log is forced so that
 * every commit they hold is durable; then their writes. */
static rvm_return_t
round_run(round_t *rd, uint64_t *writes)
{
	qs_mutex_lock(&rvm_lock);
	rvm_return_t r = log_force();
	if (!r)
		r = round_fill(rd);
	qs_mutex_unlock(&rvm_lock);
	rvm_seg_t *seg = rd->m->seg;
	const uint8_t *p = rd->buf;
	for (uint32_t i = 0; i < rd->n_runs && !r; i++) {
		const run_t *u = &rd->runs[i];
		uint64_t off = rd->m->offset + (uint64_t)u->first * RVM_SECTOR;
		seg->dirty = 1;
		if (seg->dev->write(seg->dev, off, p, u->n * RVM_SECTOR) < 0)
			r = RVM_EIO;
		else
			(*writes)++;
		p += u->n * RVM_SECTOR;
	}
	return r;
}

/*
 * Writes the epoch's taken sectors from memory, and lists in busy those
 * that open transactions cover. Under rvm_trunc_lock, which keeps the
 * maps (rvm_map and rvm_unmap take it) and their taken bits.
 */
rvm_return_t
mem_write(rvm_sects_t *busy, uint64_t *writes)
{
	round_t rd = { .busy = busy, .buf = malloc(ROUND_MAX * RVM_SECTOR) };
	if (!rd.buf)
		return RVM_ENO_MEMORY;
	rvm_return_t r = RVM_SUCCESS;
	for (rvm_map_t *m = rvm.maps; m && !r; m = m->next) {
		rd.m = m;
		rd.sectors = m->length / RVM_SECTOR;
		rd.next = 0;
		while (m->taken && !r &&
		       next_bit(m->taken, rd.next, rd.sectors) < rd.sectors)
			r = round_run(&rd, writes);
	}
	free(rd.buf);
	return r;
}
