/*
 * Telling the end of the LRVM log from damage, at recovery.
 *
 * Recovery reads the log from the head, record after record, until one is
 * not valid there (a wrong magic, sequence number, length, end mark, crc or
 * crc chain: rvm_log.c). That is the normal end after a crash when the
 * record was being written (a torn tail) or never was; but it may also be
 * a record that was forced and later damaged (a bad sector, a bit flip),
 * and taking it for the end would silently drop every commit after it. So
 * recovery asks: was record s, the first one not valid, ever known forced?
 *
 *  - Each record carries `forced`, the highest sequence number known
 *    forced (synced) when it was sealed. A record with a valid crc, seq > s
 *    and forced >= s anywhere past s proves that s was durable. Such a
 *    record was sealed after a sync that covered s, so it lies past s in
 *    the log; recovery scans for it at every 8-byte position (records are
 *    8-aligned) from s to where a record could end at most, one lap of the
 *    circle past the head's sector. Records found valid are skipped whole.
 *  - The status block carries durable_seq, the same for when it was
 *    written: at each truncation, at recovery and at rvm_terminate. So
 *    damage to the last records before a clean shutdown (nothing sealed
 *    after them) is found too.
 *
 * If either says s was forced, the log is damaged: recovery reports the
 * record (position, sequence number), how far the log was known forced and
 * the first valid record past the damage (where the log continues), and
 * refuses (RVM_ECORRUPT): which commits to give up is for a person to
 * decide, by formatting the log. Otherwise s is a torn tail and the log
 * ends there, as before.
 *
 * No stale record can pass for a proof. One from an earlier lap has a
 * lower sequence number than s. One left past the end by an earlier run
 * (written, never forced, before a crash) says forced below the point
 * where that run's recovery ended the log, since every record it knew
 * forced was found valid there: if s lies before that point, s was found
 * valid then and is still live, so it was durable and this is damage
 * indeed; if s lies at or past it, the stale record does not count for s.
 * A record's forced only counts syncs that succeeded (and recovery syncs
 * what it found before saying so), so a torn write is never taken for
 * damage. As the appends already do, this assumes a sector rewritten with
 * the bytes it holds keeps them, whatever becomes of the write.
 *
 * What cannot be told apart: a record forced last before a crash, with
 * nothing sealed after it reaching the device and the status block older,
 * and then damaged, looks exactly like a torn write, and is dropped as
 * one: that commit is lost, and since an epoch may have written some of
 * its sectors from memory already (rvm_mem.c), the segment may keep part
 * of it. A damaged record
 * whose proof was itself lost in an unforced write is the same case.
 * Records never forced (no-flush commits in their window of
 * vulnerability) are not promised: damage to one drops it and the records
 * after it, as a crash before the force would have. The scan cannot look
 * where a device read fails: recovery then fails with RVM_EIO rather than
 * guess.
 *
 * Cost: the scan reads the rest of the lap on every recovery (at most the
 * log's size, once), unless the status block has proved the damage.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "rvm_int.h"

/* Prints a line about the damage found, naming the log. */
void
damage_say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("rvm: log %s: ", rvm.log_name ? rvm.log_name : "?");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

typedef struct {
	uint64_t next_pos, next_seq; /* the first valid record past s */
	uint64_t forced;             /* a proof's forced, or 0 */
} scan_t;

/*
 * Scans [pos, limit) for valid records with seq > s: the first one, and
 * one that says s was forced. Stops at the proof, or at the first record
 * when the status block has proved s already.
 */
static rvm_return_t
scan_past(log_reader_t *rd, uint64_t pos, uint64_t s, uint64_t limit,
	  int proved, scan_t *out)
{
	uint64_t q = pos;
	while (q + REC_MIN <= limit) {
		uint32_t magic;
		const uint8_t *p = log_read(rd, q, sizeof(magic)), *rec;
		if (!p)
			return RVM_EIO;
		memcpy(&magic, p, sizeof(magic));
		rec_hdr_t h;
		rvm_return_t r = magic == REC_MAGIC
					 ? log_record_check(rd, q, &h, &rec)
					 : RVM_ELOG;
		if (r == RVM_EIO)
			return r;
		if (r || h.seq <= s || q + h.len > limit) {
			q += 8;
			continue;
		}
		if (!out->next_seq) {
			out->next_pos = q;
			out->next_seq = h.seq;
		}
		if (h.forced >= s) {
			out->forced = h.forced;
			return RVM_SUCCESS;
		}
		if (proved)
			return RVM_SUCCESS;
		q += h.len;
	}
	return RVM_SUCCESS;
}

static void
report(uint64_t pos, uint64_t s, uint64_t durable, const scan_t *sc)
{
	rvm_damage_t *d = &rvm.damage;
	d->kind = RVM_DAMAGE_RECORD;
	d->pos = pos;
	d->seq = s;
	d->dev_off = LOG_AREA_START + pos % rvm.log.area;
	d->durable_seq = durable;
	d->next_pos = sc->next_pos;
	d->next_seq = sc->next_seq;
	damage_say("record %llu at log position %llu (device offset %llu) is "
		   "damaged, but records up to %llu were forced (%s says so)",
		   (unsigned long long)s, (unsigned long long)pos,
		   (unsigned long long)d->dev_off, (unsigned long long)durable,
		   sc->forced >= s ? "a later record" : "the status block");
	if (sc->next_seq)
		damage_say("the log continues at position %llu with record "
			   "%llu: records %llu..%llu are lost; recovery refused",
			   (unsigned long long)sc->next_pos,
			   (unsigned long long)sc->next_seq,
			   (unsigned long long)s,
			   (unsigned long long)sc->next_seq - 1);
	else
		damage_say("no valid record follows it: records %llu..%llu "
			   "(at least) are lost; recovery refused",
			   (unsigned long long)s, (unsigned long long)durable);
}

/*
 * Recovery found no valid record s at pos. RVM_SUCCESS: a torn tail, the
 * log ends there. RVM_ECORRUPT: s was forced, so this is damage (reported
 * in rvm.damage and printed). RVM_EIO: the device failed.
 */
rvm_return_t
log_end_check(log_reader_t *rd, uint64_t pos, uint64_t s)
{
	rvm_log_t *l = &rvm.log;
	uint64_t limit = SECT_DOWN(l->head) + l->area;
	int proved = l->forced_seq >= s; /* by the status block */
	scan_t sc = { 0 };
	rvm_return_t r = scan_past(rd, pos, s, limit, proved, &sc);
	if (r) {
		damage_say("cannot read the log past record %llu, to tell its "
			   "end from damage", (unsigned long long)s);
		return r;
	}
	uint64_t durable = l->forced_seq > sc.forced ? l->forced_seq
						     : sc.forced;
	if (durable < s)
		return RVM_SUCCESS;
	report(pos, s, durable, &sc);
	return RVM_ECORRUPT;
}
