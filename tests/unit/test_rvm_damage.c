/*
 * Damage to the LRVM log is found and reported, never taken for its end.
 *
 * A log of 40 forced commits of various sizes, not truncated, is damaged
 * one record at a time (a bit flipped in its header, ranges or end mark):
 * recovery must refuse with RVM_ECORRUPT, name that record (position,
 * sequence number, device offset) and where the log continues, and change
 * nothing. Two images: after a crash (each record but the last is proved
 * forced by the next one), and after rvm_terminate (the status block proves
 * the last one too). After a crash, damage to the last record cannot be
 * told from a torn write, and a real torn last record is dropped without
 * error; both recover the other 39.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/crc.h>
#include "check.h"
#include "rvm_int.h"
#include "rvm_test.h"

#define LOG "dmg.log"
#define SEG "dmg.seg"
#define LOG_LEN (64 * 1024)
#define SEG_SIZE (64 * 1024)
#define N 40
#define SLICE (SEG_SIZE / N) /* commit i writes in [i * SLICE, ...) */

static const char *const files[] = { LOG, SEG };
static uint64_t pos[N + 1]; /* record i at pos[i]; pos[N]: the end */
static uint32_t len_of[N];

static rvm_options_t
opts(void)
{
	rvm_options_t o = { .log_dev = LOG, .open_dev = rt_crash_open };
	return o;
}

static uint32_t
size_of(int i)
{
	return i == N - 1 ? 1500 : 20 + (uint32_t)(i * 97) % 700;
}

static rvm_return_t
put(uint8_t *base, int i)
{
	rvm_tid_t t;
	rvm_return_t r = rvm_begin_transaction(&t, RVM_RESTORE);
	if (!r)
		r = rvm_set_range(&t, base + i * SLICE, size_of(i));
	if (r)
		return r;
	memset(base + i * SLICE, 0x40 + i, size_of(i));
	return rvm_end_transaction(&t, RVM_FLUSH);
}

/* Commits the first n of the N records (flush) on a fresh log; records
 * where they went. Leaves RVM up. */
static uint8_t *
commits(int n)
{
	rvm_options_t o = opts(), q;
	rvm_region_t r = { .data_dev = SEG, .length = SEG_SIZE };
	rt_file(LOG, LOG_LEN);
	rt_file(SEG, SEG_SIZE);
	rt_crash_reset(0);
	if (rvm_create_log(&o, LOG_LEN) || rvm_initialize(NULL, &o) ||
	    rvm_map(&r, NULL))
		return NULL;
	for (int i = 0; i < n; i++) {
		if (put(r.vmaddr, i) || rvm_query(&q, NULL))
			return NULL;
		pos[i + 1] = q.log_used; /* nothing truncated: head is 0 */
		len_of[i] = pos[i + 1] - pos[i];
	}
	return r.vmaddr;
}

/* Ends RVM with a crash: the status write of rvm_terminate is lost. */
static int
crash(void)
{
	rt_crash_reset(1);
	int ok = rvm_terminate() == RVM_SUCCESS && rt_crash.crashed;
	rt_crash_reset(0);
	return ok;
}

static void
flip(uint64_t off, int bit)
{
	FILE *f = fopen(LOG, "r+");
	int c = f && fseek(f, off, SEEK_SET) == 0 ? fgetc(f) : EOF;
	CHECK(c != EOF && fseek(f, off, SEEK_SET) == 0 &&
	      fputc(c ^ (1 << bit), f) != EOF);
	if (f)
		fclose(f);
}

/* Where record i is damaged: in turn its magic, length, seq, forced
 * field, ranges, crc, end magic and end seq (rec_hdr_t, rec_end_t). */
static uint32_t
where(int i)
{
	static const int at[] = { 0, 12, 16, 48, -1, -12, -16, -8 };
	int a = at[i % 8];
	if (a == -1)
		return len_of[i] / 2;
	return a < 0 ? len_of[i] + a : (uint32_t)a;
}

static int
seg_blank(void)
{
	static uint8_t buf[SEG_SIZE];
	FILE *f = fopen(SEG, "r");
	int ok = f && fread(buf, 1, SEG_SIZE, f) == SEG_SIZE;
	if (f)
		fclose(f);
	for (int i = 0; ok && i < SEG_SIZE; i++)
		ok = buf[i] == 0;
	return ok;
}

/* Recovers the files as they are, checks record i's damage is reported
 * and refused; 1 if so. */
static int
refused(int i)
{
	rvm_options_t o = opts();
	rvm_return_t r = rvm_initialize(NULL, &o);
	if (r == RVM_SUCCESS)
		rvm_terminate();
	const rvm_damage_t *d = &o.damage;
	int next_ok = i == N - 1 ? d->next_seq == 0
				 : d->next_seq == (uint64_t)i + 2 &&
					   d->next_pos == pos[i + 1];
	int ok = r == RVM_ECORRUPT && d->kind == RVM_DAMAGE_RECORD &&
		 d->pos == pos[i] && d->seq == (uint64_t)i + 1 &&
		 d->dev_off == 2 * RVM_SECTOR + pos[i] &&
		 d->durable_seq >= (uint64_t)i + 1 && next_ok && seg_blank();
	if (!ok)
		printf("record %d (at %llu, bit flipped at +%u): %s, reported "
		       "seq %llu at %llu, next %llu at %llu\n", i,
		       (unsigned long long)pos[i], where(i), rvm_strerror(r),
		       (unsigned long long)d->seq, (unsigned long long)d->pos,
		       (unsigned long long)d->next_seq,
		       (unsigned long long)d->next_pos);
	return ok;
}

/* Recovers and checks that exactly the first n commits survived. */
static int
recovered(int n)
{
	rvm_options_t o = opts();
	rvm_region_t r = { .data_dev = SEG, .length = SEG_SIZE };
	if (rvm_initialize(NULL, &o) || rvm_map(&r, NULL))
		return 0;
	uint8_t *p = r.vmaddr;
	int ok = 1;
	for (int i = 0; i < N; i++)
		for (uint32_t k = 0; k < size_of(i); k++)
			ok &= p[i * SLICE + k] == (i < n ? 0x40 + i : 0);
	return rvm_terminate() == RVM_SUCCESS && ok;
}

/* Damages each record of img in turn: refused, unless last_torn and it
 * is the last one (then a torn write: the others recovered). */
static void
each_record(const rt_image_t *img, int last_torn)
{
	int bad = 0;
	for (int i = 0; i < N; i++) {
		rt_restore(img);
		flip(2 * RVM_SECTOR + pos[i] + where(i), (i + i / 8) % 8);
		if (last_torn && i == N - 1)
			bad += !recovered(N - 1);
		else
			bad += !refused(i);
	}
	CHECK(bad == 0);
	rt_restore(img);
	CHECK(recovered(N)); /* undamaged, the image is fine */
}

static void
test_crc32c(void)
{
	CHECK(qs_crc32c(0, "123456789", 9) == 0xe3069283u);
	CHECK(qs_crc32c(qs_crc32c(0, "1234", 4), "56789", 5) == 0xe3069283u);
	CHECK(qs_crc32c(0, "", 0) == 0);
}

static void
test_damage_after_crash(void)
{
	rt_image_t img;
	if (!CHECK(commits(N) && crash()))
		return;
	rt_save(&img, files, 2);
	each_record(&img, 1);
	rt_image_free(&img);
}

static void
test_damage_after_terminate(void)
{
	rt_image_t img;
	if (!CHECK(commits(N) && rvm_terminate() == RVM_SUCCESS))
		return;
	rt_save(&img, files, 2);
	each_record(&img, 0);
	rt_image_free(&img);
}

/* The machine crashes while the last record is written (torn two ways):
 * the log ends before it, without error. */
static void
test_torn_last_record(void)
{
	static const int tears[] = { RT_TEAR_BYTES, RT_TEAR_HALF };
	for (int k = 0; k < 2; k++) {
		uint8_t *p = commits(N - 1);
		if (!CHECK(p != NULL))
			return;
		rt_crash_reset(1);
		rt_crash.tear = tears[k];
		CHECK(put(p, N - 1) == RVM_SUCCESS && rt_crash.crashed);
		CHECK(rvm_terminate() == RVM_SUCCESS);
		rt_crash_reset(0);
		rt_crash.tear = RT_TEAR_NONE;
		CHECK(recovered(N - 1));
	}
}

/* Damage is refused again and again (recovery changed nothing); a
 * damaged record after a truncation is found as well. */
static void
test_damage_stays_refused(void)
{
	rvm_options_t o = opts();
	uint8_t *p = commits(10);
	if (!CHECK(p && rvm_truncate() == RVM_SUCCESS))
		return;
	rvm_options_t q;
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.log_used == 0);
	uint64_t head = pos[10];
	for (int i = 10; i < 13; i++) {
		CHECK(put(p, i) == RVM_SUCCESS && rvm_query(&q, NULL) == 0);
		pos[i + 1] = head + q.log_used;
	}
	CHECK(crash());
	flip(2 * RVM_SECTOR + pos[11] + 30, 3);
	for (int k = 0; k < 2; k++) {
		rvm_return_t r = rvm_initialize(NULL, &o);
		CHECK(r == RVM_ECORRUPT && o.damage.seq == 12 &&
		      o.damage.pos == pos[11] && o.damage.next_seq == 13 &&
		      o.damage.next_pos == pos[12]);
		if (r == RVM_SUCCESS)
			rvm_terminate();
	}
}

/* A valid record that cannot be applied (its segment has shrunk) is
 * damage too, never RVM_ELOG, which would read as "no log: create one". */
static void
test_unappliable_record(void)
{
	rvm_options_t o = opts();
	if (!CHECK(commits(N) && crash()))
		return;
	rt_file(SEG, 2 * RVM_SECTOR); /* commit 1 lies past it */
	CHECK(rvm_initialize(NULL, &o) == RVM_ECORRUPT &&
	      o.damage.kind == RVM_DAMAGE_APPLY);
}

int
main(void)
{
	rt_scratch();
	RUN(test_crc32c);
	RUN(test_damage_after_crash);
	RUN(test_damage_after_terminate);
	RUN(test_torn_last_record);
	RUN(test_damage_stays_refused);
	RUN(test_unappliable_record);
	return check_summary();
}
