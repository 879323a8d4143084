/*
 * LRVM truncation from mapped memory (rvm_mem.c), checked on the segment
 * file itself: overlapping, repeated and adjacent ranges across records
 * give what the last commit wrote, from memory as from the log (recovery);
 * sectors are merged into writes across short gaps only; open and
 * prepared transactions' bytes stay out of the segment though memory holds
 * them; an unmapped region's commits and a failed epoch's are applied
 * from the log by the next epoch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "rvm_test.h"

#define LOG "trunc.log"
#define SEG "trunc.seg"
#define LOG_LEN (64 * 1024)
#define SEG_SIZE (64 * 1024)

static rvm_region_t reg;
static uint8_t want[SEG_SIZE]; /* what the segment must hold */
static int fail_writes;        /* segment writes to fail from now on */

/* A file device whose writes fail while fail_writes says so. */
typedef struct {
	rvm_dev_t dev;
	rvm_dev_t *file;
} flaky_t;

static int
flaky_read(rvm_dev_t *d, uint64_t off, void *buf, uint32_t len)
{
	flaky_t *f = d->priv;
	return f->file->read(f->file, off, buf, len);
}

static int
flaky_write(rvm_dev_t *d, uint64_t off, const void *buf, uint32_t len)
{
	flaky_t *f = d->priv;
	return fail_writes ? -1 : f->file->write(f->file, off, buf, len);
}

static int
flaky_sync(rvm_dev_t *d)
{
	flaky_t *f = d->priv;
	return f->file->sync(f->file);
}

static void
flaky_close(rvm_dev_t *d)
{
	flaky_t *f = d->priv;
	f->file->close(f->file);
	free(f);
}

static rvm_dev_t *
flaky_open(const char *name)
{
	rvm_dev_t *file = rvm_dev_open(name, 0);
	if (!file || strcmp(name, SEG))
		return file;
	flaky_t *f = calloc(1, sizeof(*f));
	f->file = file;
	f->dev = (rvm_dev_t){ .size = file->size, .read = flaky_read,
			      .write = flaky_write, .sync = flaky_sync,
			      .close = flaky_close, .priv = f };
	return &f->dev;
}

static rvm_options_t
opts(void)
{
	rvm_options_t o = { .log_dev = LOG, .open_dev = flaky_open };
	return o;
}

/* A fresh log and segment; initialized, [0, len) mapped. */
static uint8_t *
start(uint32_t len)
{
	rvm_options_t o = opts();
	rt_file(LOG, LOG_LEN);
	rt_file(SEG, SEG_SIZE);
	memset(want, 0, sizeof(want));
	fail_writes = 0;
	if (rvm_create_log(&o, LOG_LEN) || rvm_initialize(NULL, &o))
		return NULL;
	reg = (rvm_region_t){ .data_dev = SEG, .offset = 0, .length = len };
	return rvm_map(&reg, NULL) ? NULL : reg.vmaddr;
}

/* Whether the segment file holds want. */
static int
seg_is_want(void)
{
	static uint8_t got[SEG_SIZE];
	FILE *f = fopen(SEG, "r");
	int ok = f && fread(got, 1, SEG_SIZE, f) == SEG_SIZE &&
		 memcmp(got, want, SEG_SIZE) == 0;
	if (f)
		fclose(f);
	return ok;
}

static uint64_t
seg_writes(void)
{
	rvm_options_t q;
	return rvm_query(&q, NULL) == RVM_SUCCESS ? q.stats.seg_writes : 0;
}

/* Writes c over [off, off + len) in t (region at base), and in want if
 * the transaction will commit. */
static rvm_return_t
change(rvm_tid_t *t, uint8_t *base, uint32_t off, uint32_t len, int c,
       int commits)
{
	rvm_return_t r = rvm_set_range(t, base + off, len);
	memset(base + off, c, len);
	if (commits)
		memset(want + off, c, len);
	return r;
}

/* One committed transaction of one range. */
static rvm_return_t
put(uint8_t *base, uint32_t off, uint32_t len, int c)
{
	rvm_tid_t t;
	rvm_return_t r = rvm_begin_transaction(&t, RVM_RESTORE);
	if (!r)
		r = change(&t, base, off, len, c, 1);
	return r ? r : rvm_end_transaction(&t, RVM_NO_FLUSH);
}

/*
 * Ranges that overlap, repeat and touch, within and across records, in
 * sectors 0-3, 9-10, 39 and 42: the gaps of 5 and 2 clean sectors are
 * spanned (GAP_MAX is 16), the one of 28 is not.
 */
static int
later_wins(uint8_t *p)
{
	rvm_tid_t t;
	int bad = put(p, 100, 200, 1) || put(p, 200, 500, 2) ||
		  put(p, 700, 10, 3) || put(p, 650, 950, 4);
	bad |= rvm_begin_transaction(&t, RVM_NO_RESTORE) ||
	       change(&t, p, 5000, 100, 5, 1) ||
	       change(&t, p, 5100, 100, 6, 1) ||
	       change(&t, p, 5050, 20, 7, 1) ||
	       rvm_end_transaction(&t, RVM_NO_FLUSH);
	bad |= put(p, 5150, 10, 8) || put(p, 20000, 10, 9) ||
	       put(p, 42 * RVM_SECTOR + 5, 10, 10) || put(p, 5000, 1, 11);
	return bad;
}

static int
child_later_wins(void *arg)
{
	(void)arg;
	rvm_options_t o = opts();
	reg = (rvm_region_t){ .data_dev = SEG, .length = SEG_SIZE };
	if (rvm_initialize(NULL, &o) || rvm_map(&reg, NULL))
		return 2;
	return later_wins(reg.vmaddr) || rvm_flush() ? 3 : 0;
}

static void
test_later_records_win(void)
{
	uint8_t *p = start(SEG_SIZE);
	if (!CHECK(p != NULL))
		return;
	uint64_t w = seg_writes();
	CHECK(later_wins(p) == 0);
	CHECK(rvm_truncate() == RVM_SUCCESS);
	CHECK(seg_writes() - w == 2);
	CHECK(seg_is_want());
	rvm_options_t q;
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.log_used == 0);
	CHECK(rvm_terminate() == RVM_SUCCESS);

	/* The same records applied from the log, by recovery. */
	static uint8_t model[SEG_SIZE];
	memcpy(model, want, SEG_SIZE);
	CHECK(start(SEG_SIZE) != NULL && rvm_terminate() == RVM_SUCCESS);
	CHECK(rt_child(child_later_wins, NULL) == 0);
	memcpy(want, model, SEG_SIZE);
	rvm_options_t o = opts();
	CHECK(rvm_initialize(NULL, &o) == RVM_SUCCESS);
	CHECK(seg_is_want());
	CHECK(rvm_terminate() == RVM_SUCCESS);
}

/*
 * Commits change sectors 1, 3 and 5; an open transaction changes sector 1
 * too, and sector 4 between them: the segment gets the commits' bytes
 * (sector 1's from the log) and none of the others, and sector 4 splits
 * what would have been one write.
 */
static void
test_open_transactions_stay_out(void)
{
	rvm_tid_t t;
	uint8_t *p = start(8192);
	if (!CHECK(p != NULL))
		return;
	CHECK(put(p, 600, 10, 1) == RVM_SUCCESS);
	CHECK(put(p, 3 * RVM_SECTOR + 3, 10, 1) == RVM_SUCCESS);
	CHECK(put(p, 5 * RVM_SECTOR + 3, 10, 1) == RVM_SUCCESS);
	CHECK(rvm_begin_transaction(&t, RVM_RESTORE) == RVM_SUCCESS);
	CHECK(change(&t, p, 700, 10, 0xee, 0) == RVM_SUCCESS);
	CHECK(change(&t, p, 4 * RVM_SECTOR + 5, 10, 0xee, 0) == RVM_SUCCESS);
	uint64_t w = seg_writes();
	CHECK(rvm_truncate() == RVM_SUCCESS);
	CHECK(seg_writes() - w == 3);
	CHECK(seg_is_want());
	CHECK(rvm_abort_transaction(&t) == RVM_SUCCESS);

	/* Prepared: its values are durable, but not the segment's yet. */
	CHECK(rvm_begin_transaction(&t, RVM_RESTORE) == RVM_SUCCESS);
	CHECK(change(&t, p, 700, 10, 0xdd, 0) == RVM_SUCCESS);
	CHECK(rvm_prepare_transaction(&t, 7) == RVM_SUCCESS);
	CHECK(put(p, 800, 10, 2) == RVM_SUCCESS);
	CHECK(rvm_truncate() == RVM_SUCCESS);
	CHECK(seg_is_want());
	CHECK(rvm_end_transaction(&t, RVM_FLUSH) == RVM_SUCCESS);
	memset(want + 700, 0xdd, 10);
	CHECK(rvm_truncate() == RVM_SUCCESS);
	CHECK(seg_is_want());
	CHECK(rvm_terminate() == RVM_SUCCESS);
}

/* An unmapped region's commits reach the segment through the log. */
static void
test_unmap_leaves_them_to_the_log(void)
{
	uint8_t *p = start(8192);
	if (!CHECK(p != NULL))
		return;
	CHECK(put(p, 100, 10, 1) == RVM_SUCCESS);
	CHECK(rvm_unmap(&reg) == RVM_SUCCESS);
	CHECK(rvm_truncate() == RVM_SUCCESS);
	CHECK(seg_is_want());
	CHECK(rvm_map(&reg, NULL) == RVM_SUCCESS);
	p = reg.vmaddr;
	CHECK(p[100] == 1 && put(p, 200, 10, 2) == RVM_SUCCESS);
	CHECK(rvm_truncate() == RVM_SUCCESS);
	CHECK(seg_is_want());
	CHECK(rvm_terminate() == RVM_SUCCESS);
}

/* A failed epoch loses its taken sectors: the next applies the log. */
static void
test_failed_epoch(void)
{
	uint8_t *p = start(SEG_SIZE);
	if (!CHECK(p != NULL))
		return;
	CHECK(put(p, 100, 10, 1) == RVM_SUCCESS);
	CHECK(put(p, 40000, 10, 1) == RVM_SUCCESS);
	fail_writes = 1;
	CHECK(rvm_truncate() == RVM_EIO);
	fail_writes = 0;
	CHECK(put(p, 200, 10, 2) == RVM_SUCCESS);
	CHECK(rvm_truncate() == RVM_SUCCESS);
	CHECK(seg_is_want());
	CHECK(put(p, 300, 10, 3) == RVM_SUCCESS);
	CHECK(rvm_truncate() == RVM_SUCCESS);
	CHECK(seg_is_want());
	CHECK(rvm_terminate() == RVM_SUCCESS);
}

int
main(void)
{
	rt_scratch();
	RUN(test_later_records_win);
	RUN(test_open_transactions_stay_out);
	RUN(test_unmap_leaves_them_to_the_log);
	RUN(test_failed_epoch);
	return check_summary();
}
