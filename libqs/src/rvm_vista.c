/*
 * Vista mode: an undo log in persistent memory, no redo log, no device
 * I/O. The first log_len bytes of the device hold a header, a table of
 * transaction slots and the undo records; segments are mapped in place
 * behind them.
 *
 * Every change to the persistent state is ordered by persist(): the bytes
 * a store depends on are written first, then one aligned 32-bit word makes
 * them count:
 *   begin:     slot.prepared = 0; then slot.tid = tid (the slot is live)
 *   set_range: the record (slot, tid, offset, old bytes, link to the
 *              transaction's previous record) past `end`; then end moves
 *              over it (the record is valid)
 *   prepare:   slot.gtid; then slot.prepared = 1
 *   commit:    slot.tid = 0: every record of the transaction is dead
 *   abort:     the old values copied back, newest record first; then
 *              slot.tid = 0
 * A record is live while its slot still holds its tid. After a commit or
 * abort, end moves back over the dead records at the top of the log, to
 * the start when no slot is live; dead records below a live one wait
 * until it ends.
 *
 * Recovery undoes every live transaction that is not prepared, exactly as
 * an abort would: copying old values back is idempotent, so a crash during
 * recovery or abort is harmless. Prepared live transactions are in doubt:
 * their new values stay in place until rvm_resolve.
 *
 * Tids of new transactions are above every tid in the log, so a dead
 * record never comes back to life when its slot is reused.
 *
 * Recovery trusts nothing it reads: the header, every record's slot,
 * range, length and link are checked before anything is undone, and an
 * undo log that breaks the rules is refused (RVM_ECORRUPT), never applied
 * out of bounds (vista_scan).
 */
#include <string.h>
#include "rvm_int.h"

#define VISTA_MAGIC 0x54534956u /* "VIST" */
#define VISTA_VERSION 1
#define VISTA_SLOTS 32

typedef struct {
	uint32_t tid;      /* 0: free; else the live transaction's tid */
	uint32_t prepared; /* 1: prepared, gtid holds its global id */
	uint64_t gtid;
} vista_slot_t;

typedef struct {
	uint32_t magic, version;
	uint64_t log_len;
	uint32_t end; /* undo records are valid below this offset */
	uint32_t pad;
	vista_slot_t slot[VISTA_SLOTS];
} vista_hdr_t;

typedef struct {
	uint32_t slot, tid;
	uint64_t off; /* of the old bytes, in the device */
	uint32_t len;
	uint32_t prev; /* the transaction's previous record; 0: none */
} vista_rec_t;

#define REC_START ALIGN8(sizeof(vista_hdr_t))
#define VISTA_MIN (4 * RVM_SECTOR)

void (*rvm_vista_hook)(void);

/* Open transaction of each slot (NULL: free or in doubt), and the offset
 * of the newest record of the slot's transaction. */
static rvm_txn_t *owner[VISTA_SLOTS];
static uint32_t last[VISTA_SLOTS];

static vista_hdr_t *
hdr(void)
{
	return rvm.dev->mem;
}

/* Orders the stores before it ahead of those after it. On x86 the CPU
 * keeps stores in order; only the compiler needs telling. */
static void
persist(void)
{
	__asm__ volatile("" ::: "memory");
	if (rvm_vista_hook)
		rvm_vista_hook();
}

rvm_return_t
vista_create(rvm_dev_t *dev, uint64_t len)
{
	if (!dev->mem)
		return RVM_ELOG;
	if (len < VISTA_MIN || len % RVM_SECTOR || len > dev->size ||
	    len > UINT32_MAX)
		return RVM_EOPTIONS;
	vista_hdr_t *h = dev->mem;
	h->magic = 0;
	persist();
	memset(h, 0, sizeof(*h));
	h->version = VISTA_VERSION;
	h->log_len = len;
	h->end = REC_START;
	persist();
	h->magic = VISTA_MAGIC;
	persist();
	return RVM_SUCCESS;
}

static void
rec_get(uint32_t off, vista_rec_t *r)
{
	memcpy(r, (uint8_t *)rvm.dev->mem + off, sizeof(*r));
}

/* Copies back the old values of slot s's transaction, newest first. */
static uint32_t
undo_slot(int s)
{
	uint8_t *mem = rvm.dev->mem;
	uint32_t n = 0;
	for (uint32_t off = last[s]; off; n++) {
		vista_rec_t r;
		rec_get(off, &r);
		memcpy(mem + r.off, mem + off + sizeof(r), r.len);
		persist();
		off = r.prev;
	}
	return n;
}

/*
 * Drops the dead records at the top of the log: end goes back to just
 * past the newest record of a live transaction (to the start when none is
 * live). A slot's records are in log order, so its newest is its highest.
 */
static void
trim(void)
{
	vista_hdr_t *h = hdr();
	uint32_t top = REC_START;
	for (int s = 0; s < VISTA_SLOTS; s++) {
		vista_rec_t r;
		if (!h->slot[s].tid || !last[s])
			continue;
		rec_get(last[s], &r);
		if (last[s] + sizeof(r) + ALIGN8(r.len) > top)
			top = last[s] + sizeof(r) + ALIGN8(r.len);
	}
	if (top < h->end) {
		h->end = top;
		persist();
	}
}

static void
slot_free(int s)
{
	hdr()->slot[s].tid = 0;
	persist();
	owner[s] = NULL;
	last[s] = 0;
	trim();
}

/* Whether the record at off, read into r, keeps the rules: inside the
 * log below end, old bytes of a segment past the undo area, linked to the
 * record before it of the same transaction (prev, which the scan knows). */
static int
rec_ok(const vista_hdr_t *h, uint32_t off, const vista_rec_t *r,
       uint32_t prev)
{
	return r->slot < VISTA_SLOTS && r->off >= h->log_len &&
	       r->off <= rvm.dev->size && r->len <= rvm.dev->size - r->off &&
	       ALIGN8((uint64_t)r->len) <= h->end - off - sizeof(*r) &&
	       r->prev == prev;
}

/* Says what is wrong with the undo log at offset off, and refuses. */
static rvm_return_t
undo_damaged(uint32_t off, const char *what)
{
	rvm.damage.kind = off ? RVM_DAMAGE_UNDO : RVM_DAMAGE_STATUS;
	rvm.damage.pos = off;
	damage_say("%s at offset %u: the undo log is not ours to apply", what,
		   (unsigned)off);
	return RVM_ECORRUPT;
}

/*
 * Checks every record below end and finds each live slot's newest one,
 * and the largest tid. A record that breaks the rules was not written by
 * us, and following its links or lengths could copy anywhere: the log is
 * refused (RVM_ECORRUPT) before anything is undone. Links are checked
 * exactly: a record's prev is the newest earlier record of its slot with
 * its tid (a slot holds one transaction at a time and tids are never
 * reused), so undo only ever visits records this scan checked.
 */
static rvm_return_t
vista_scan(uint32_t *max_tid)
{
	vista_hdr_t *h = hdr();
	uint32_t seen[VISTA_SLOTS], seen_tid[VISTA_SLOTS];
	*max_tid = 1;
	for (int s = 0; s < VISTA_SLOTS; s++) {
		last[s] = seen[s] = seen_tid[s] = 0;
		owner[s] = NULL;
		if (h->slot[s].tid > *max_tid)
			*max_tid = h->slot[s].tid;
	}
	uint32_t off = REC_START;
	while (off < h->end) {
		vista_rec_t r;
		if (h->end - off < sizeof(r))
			return undo_damaged(off, "a record cut short by end");
		rec_get(off, &r);
		uint32_t k = r.slot < VISTA_SLOTS ? r.slot : 0;
		uint32_t prev = seen_tid[k] == r.tid ? seen[k] : 0;
		if (!r.tid || !rec_ok(h, off, &r, prev))
			return undo_damaged(off, "a record with a bad slot, "
					    "range, length or link");
		if (r.tid > *max_tid)
			*max_tid = r.tid;
		seen[k] = off;
		seen_tid[k] = r.tid;
		if (h->slot[k].tid == r.tid)
			last[k] = off;
		off += sizeof(r) + ALIGN8(r.len);
	}
	return RVM_SUCCESS;
}

/* The header: all zero is a log never made (RVM_ELOG); anything else that
 * is not a header of ours is damage. */
static rvm_return_t
header_check(const rvm_dev_t *d, const vista_hdr_t *h)
{
	if (!h || d->size < VISTA_MIN)
		return RVM_ELOG;
	const uint8_t *b = (const uint8_t *)h;
	uint32_t i = 0;
	while (i < sizeof(*h) && !b[i])
		i++;
	if (i == sizeof(*h))
		return RVM_ELOG;
	if (h->magic == VISTA_MAGIC && h->version != VISTA_VERSION) {
		rvm.damage.kind = RVM_DAMAGE_VERSION;
		damage_say("an undo log of format version %u, this library's is "
			   "%u", h->version, VISTA_VERSION);
		return RVM_ECORRUPT;
	}
	if (h->magic != VISTA_MAGIC || h->log_len < VISTA_MIN ||
	    h->log_len > d->size || h->log_len > UINT32_MAX ||
	    h->end < REC_START || h->end > h->log_len)
		return undo_damaged(0, "a bad header");
	return RVM_SUCCESS;
}

/* Opens the undo log and recovers: live unprepared transactions are
 * undone, prepared ones stay in doubt. */
rvm_return_t
vista_open(void)
{
	rvm_dev_t *d = rvm.dev;
	vista_hdr_t *h = d->mem;
	uint32_t max_tid;
	rvm_return_t r = header_check(d, h);
	if (!r)
		r = vista_scan(&max_tid);
	if (r)
		return r;
	rvm.vista_len = h->log_len;
	rvm.next_tid = max_tid + 1;
	for (int s = 0; s < VISTA_SLOTS; s++) {
		if (!h->slot[s].tid || h->slot[s].prepared)
			continue;
		rvm.stats.recovered += undo_slot(s);
		slot_free(s);
	}
	/* A crash may have come between a commit and its trim. */
	trim();
	return RVM_SUCCESS;
}

rvm_return_t
vista_begin(rvm_txn_t *t)
{
	vista_hdr_t *h = hdr();
	int s = 0;
	while (s < VISTA_SLOTS && h->slot[s].tid)
		s++;
	if (s == VISTA_SLOTS)
		return RVM_ENO_MEMORY;
	h->slot[s].prepared = 0;
	persist();
	h->slot[s].tid = t->id;
	persist();
	t->slot = s;
	owner[s] = t;
	last[s] = 0;
	return RVM_SUCCESS;
}

rvm_return_t
vista_set_range(rvm_txn_t *t, const uint8_t *addr, uint32_t len)
{
	vista_hdr_t *h = hdr();
	uint8_t *mem = rvm.dev->mem;
	uint64_t size = sizeof(vista_rec_t) + ALIGN8((uint64_t)len);
	if (size > h->log_len - h->end)
		return RVM_ELOG_FULL;
	vista_rec_t r = { .slot = t->slot, .tid = t->id,
			  .off = addr - mem, .len = len, .prev = last[t->slot] };
	memcpy(mem + h->end, &r, sizeof(r));
	memcpy(mem + h->end + sizeof(r), addr, len);
	persist();
	last[t->slot] = h->end;
	h->end += size;
	persist();
	rvm.stats.undo_bytes += len;
	rvm.stats.log_bytes += size;
	return RVM_SUCCESS;
}

void
vista_end(rvm_txn_t *t)
{
	slot_free(t->slot);
}

void
vista_abort(rvm_txn_t *t)
{
	undo_slot(t->slot);
	slot_free(t->slot);
}

void
vista_prepare(rvm_txn_t *t, uint64_t gtid)
{
	vista_hdr_t *h = hdr();
	h->slot[t->slot].gtid = gtid;
	persist();
	h->slot[t->slot].prepared = 1;
	persist();
}

static int
in_doubt(int s)
{
	vista_hdr_t *h = hdr();
	return h->slot[s].tid && h->slot[s].prepared && !owner[s];
}

rvm_return_t
vista_resolve(uint64_t gtid, int commit)
{
	int s = 0;
	while (s < VISTA_SLOTS && !(in_doubt(s) && hdr()->slot[s].gtid == gtid))
		s++;
	if (s == VISTA_SLOTS)
		return RVM_ENOT_FOUND;
	if (!commit)
		undo_slot(s);
	slot_free(s);
	return RVM_SUCCESS;
}

int
vista_touches(const rvm_txn_t *t, const rvm_map_t *m)
{
	for (uint32_t off = last[t->slot]; off;) {
		vista_rec_t r;
		rec_get(off, &r);
		if (r.off < m->offset + m->length && m->offset < r.off + r.len)
			return 1;
		off = r.prev;
	}
	return 0;
}

uint32_t
vista_in_doubt(uint64_t *gtids, uint32_t max)
{
	uint32_t n = 0;
	for (int s = 0; s < VISTA_SLOTS; s++)
		if (in_doubt(s) && n++ < max)
			gtids[n - 1] = hdr()->slot[s].gtid;
	return n;
}

/* The ranges of in-doubt gtid's undo records, newest first, as
 * rvm_in_doubt_ranges. */
rvm_return_t
vista_ranges(uint64_t gtid, rvm_span_t *spans, uint32_t max, uint32_t *n)
{
	int s = 0;
	while (s < VISTA_SLOTS && !(in_doubt(s) && hdr()->slot[s].gtid == gtid))
		s++;
	if (s == VISTA_SLOTS)
		return RVM_ENOT_FOUND;
	uint8_t *mem = rvm.dev->mem;
	*n = 0;
	for (uint32_t off = last[s]; off;) {
		vista_rec_t r;
		rec_get(off, &r);
		if (!map_of(mem + r.off, r.len))
			return RVM_EREGION;
		if (*n < max)
			spans[*n] = (rvm_span_t){ mem + r.off, r.len };
		(*n)++;
		off = r.prev;
	}
	return RVM_SUCCESS;
}

/* Bytes for undo records, and in use. */
void
vista_usage(uint64_t *size, uint64_t *used)
{
	*size = rvm.vista_len - REC_START;
	*used = hdr()->end - REC_START;
}

int
vista_gtid_busy(uint64_t gtid)
{
	vista_hdr_t *h = hdr();
	for (int s = 0; s < VISTA_SLOTS; s++)
		if (h->slot[s].tid && h->slot[s].prepared &&
		    h->slot[s].gtid == gtid)
			return 1;
	return 0;
}
