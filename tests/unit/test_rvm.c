/*
 * RVM in LRVM mode over files: the API and its errors, the no-flush
 * window, torn and garbage log tails, several segments, a full log.
 * Crashes are child processes that end without rvm_terminate.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "rvm_test.h"

#define LOG "rvm.log"
#define SEG "rvm.seg"
#define SEG2 "rvm.seg2"
#define LOG_LEN (64 * 1024)
#define SEG_SIZE (64 * 1024)

static rvm_region_t reg;

static rvm_options_t
opts(void)
{
	rvm_options_t o = { .log_dev = LOG };
	return o;
}

static int
fresh(void)
{
	rvm_options_t o = opts();
	rt_file(LOG, LOG_LEN);
	rt_file(SEG, SEG_SIZE);
	rt_file(SEG2, SEG_SIZE);
	return rvm_create_log(&o, LOG_LEN);
}

/* Initializes and maps [0, len) of SEG; NULL on any error. */
static uint8_t *
start(uint32_t len)
{
	rvm_options_t o = opts();
	if (rvm_initialize(NULL, &o))
		return NULL;
	reg = (rvm_region_t){ .data_dev = SEG, .offset = 0, .length = len };
	return rvm_map(&reg, NULL) ? NULL : reg.vmaddr;
}

/* One transaction writing c over [off, off + len). */
static rvm_return_t
put(uint8_t *base, uint32_t off, uint32_t len, int c, rvm_mode_t end)
{
	rvm_tid_t t;
	rvm_return_t r = rvm_begin_transaction(&t, RVM_RESTORE);
	if (!r)
		r = rvm_set_range(&t, base + off, len);
	if (r)
		return r;
	memset(base + off, c, len);
	return rvm_end_transaction(&t, end);
}

static void
test_errors_before_init(void)
{
	rvm_options_t o = opts();
	rvm_tid_t t;
	CHECK(rvm_begin_transaction(&t, RVM_RESTORE) == RVM_EINIT);
	CHECK(rvm_flush() == RVM_EINIT);
	CHECK(rvm_terminate() == RVM_EINIT);
	rt_file(LOG, LOG_LEN);
	CHECK(rvm_initialize(NULL, &o) == RVM_ELOG); /* no log written */
	CHECK(rvm_initialize(NULL, NULL) == RVM_EOPTIONS);
	o.truncate_pct = 101;
	CHECK(rvm_initialize(NULL, &o) == RVM_EOPTIONS);
	o = opts();
	o.flags = 0x80;
	CHECK(rvm_create_log(&o, LOG_LEN) == RVM_EOPTIONS);
	o = opts();
	CHECK(rvm_create_log(&o, LOG_LEN + RVM_SECTOR) == RVM_EOPTIONS);
	CHECK(rvm_create_log(&o, 1000) == RVM_EOPTIONS);
	o.log_dev = "no.such.device";
	CHECK(rvm_create_log(&o, LOG_LEN) == RVM_ELOG);
	CHECK(strcmp(rvm_strerror(RVM_ERANGE), rvm_strerror(RVM_ETID)) != 0);
}

static void
test_map_errors(void)
{
	rvm_options_t o = opts();
	CHECK(fresh() == RVM_SUCCESS);
	uint8_t *p = start(8192);
	if (!CHECK(p != NULL))
		return;
	CHECK(rt_all(p, 0, 8192));
	CHECK(rvm_initialize(NULL, &o) == RVM_EINIT);
	rvm_region_t r = { .data_dev = SEG, .offset = 100, .length = 512 };
	CHECK(rvm_map(&r, NULL) == RVM_EREGION); /* unaligned offset */
	r = (rvm_region_t){ .data_dev = SEG, .offset = 8192, .length = 1000 };
	CHECK(rvm_map(&r, NULL) == RVM_EREGION); /* unaligned length */
	r.length = 0;
	CHECK(rvm_map(&r, NULL) == RVM_EREGION);
	r = (rvm_region_t){ .data_dev = SEG, .offset = 4096, .length = 8192 };
	CHECK(rvm_map(&r, NULL) == RVM_EREGION); /* overlaps [0, 8192) */
	r = (rvm_region_t){ .data_dev = SEG, .offset = SEG_SIZE - 512,
			    .length = 1024 };
	CHECK(rvm_map(&r, NULL) == RVM_EREGION); /* past the segment */
	r = (rvm_region_t){ .data_dev = "no.such.seg", .length = 512 };
	CHECK(rvm_map(&r, NULL) == RVM_EREGION);
	r.data_dev = LOG;
	CHECK(rvm_map(&r, NULL) == RVM_EREGION);
	r = (rvm_region_t){ .data_dev = SEG, .offset = 8192, .length = 512 };
	CHECK(rvm_map(&r, NULL) == RVM_SUCCESS); /* touching is fine */
	CHECK(rvm_unmap(&r) == RVM_SUCCESS);
	CHECK(rvm_unmap(&r) == RVM_EREGION);
	CHECK(rvm_terminate() == RVM_SUCCESS);
}

static void
test_commit_and_abort(void)
{
	rvm_options_t q;
	rvm_tid_t t, t2;
	CHECK(fresh() == RVM_SUCCESS);
	uint8_t *p = start(8192);
	if (!CHECK(p != NULL))
		return;
	CHECK(put(p, 100, 50, 0x11, RVM_FLUSH) == RVM_SUCCESS);
	CHECK(put(p, 4000, 300, 0x22, RVM_NO_FLUSH) == RVM_SUCCESS);

	/* Overlapping and repeated ranges, then abort: all old bytes back. */
	CHECK(rvm_begin_transaction(&t, RVM_RESTORE) == RVM_SUCCESS);
	CHECK(rvm_set_range(&t, p + 90, 20) == RVM_SUCCESS);
	memset(p + 90, 0x33, 20);
	CHECK(rvm_set_range(&t, p + 100, 100) == RVM_SUCCESS);
	memset(p + 100, 0x44, 100);
	CHECK(rvm_set_range(&t, p + 90, 20) == RVM_SUCCESS);
	CHECK(rvm_set_range(&t, p + 4200, 200) == RVM_SUCCESS);
	memset(p + 4200, 0x55, 200);
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.n_uncommitted == 1);
	CHECK(rvm_abort_transaction(&t) == RVM_SUCCESS);
	CHECK(rt_all(p + 90, 0, 10) && rt_all(p + 100, 0x11, 50) &&
	      rt_all(p + 150, 0, 50) && rt_all(p + 4000, 0x22, 300) &&
	      rt_all(p + 4300, 0, 100));
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.n_uncommitted == 0 &&
	      q.stats.aborts == 1 && q.stats.commits_flush == 1 &&
	      q.stats.commits_noflush == 1);

	/* An ended transaction is gone; no-restore cannot abort. */
	CHECK(rvm_end_transaction(&t, RVM_FLUSH) == RVM_ETID);
	CHECK(rvm_set_range(&t, p, 1) == RVM_ETID);
	CHECK(rvm_begin_transaction(&t, RVM_NO_RESTORE) == RVM_SUCCESS);
	CHECK(rvm_set_range(&t, p + 7000, 10) == RVM_SUCCESS);
	memset(p + 7000, 0x66, 10);
	CHECK(rvm_abort_transaction(&t) == RVM_EMODE);
	CHECK(rvm_end_transaction(&t, RVM_FLUSH) == RVM_SUCCESS);
	CHECK(rvm_abort_transaction(&t) == RVM_ETID);

	/* Bad arguments change nothing. */
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS);
	uint64_t bytes = q.stats.log_bytes;
	CHECK(rvm_begin_transaction(&t, RVM_FLUSH) == RVM_EMODE);
	CHECK(rvm_begin_transaction(&t, RVM_RESTORE) == RVM_SUCCESS);
	CHECK(rvm_set_range(&t, p + 8000, 500) == RVM_ERANGE);
	CHECK(rvm_set_range(&t, p - 1, 2) == RVM_ERANGE);
	CHECK(rvm_set_range(&t, &q, 8) == RVM_ERANGE);
	CHECK(rvm_set_range(NULL, p, 8) == RVM_ETID);
	CHECK(rvm_end_transaction(&t, RVM_RESTORE) == RVM_EMODE);
	CHECK(rvm_unmap(&reg) == RVM_SUCCESS); /* t has no ranges yet */
	CHECK(rvm_map(&reg, NULL) == RVM_SUCCESS);
	p = reg.vmaddr;
	CHECK(rvm_set_range(&t, p + 10, 10) == RVM_SUCCESS);
	CHECK(rvm_unmap(&reg) == RVM_EUNCOMMITTED);
	CHECK(rvm_query(&q, &reg) == RVM_SUCCESS && q.n_uncommitted == 1);
	CHECK(rvm_begin_transaction(&t2, RVM_RESTORE) == RVM_SUCCESS);
	CHECK(rvm_query(&q, &reg) == RVM_SUCCESS && q.n_uncommitted == 1);
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.n_uncommitted == 2);
	CHECK(q.stats.log_bytes == bytes);
	CHECK(rvm_terminate() == RVM_EUNCOMMITTED);
	CHECK(rvm_abort_transaction(&t) == RVM_SUCCESS);
	CHECK(rvm_end_transaction(&t2, RVM_NO_FLUSH) == RVM_SUCCESS);
	CHECK(rvm_terminate() == RVM_SUCCESS);

	/* What committed is in the segment after a restart. */
	p = start(8192);
	if (!CHECK(p != NULL))
		return;
	CHECK(rt_all(p + 90, 0, 10) && rt_all(p + 100, 0x11, 50) &&
	      rt_all(p + 4000, 0x22, 300) && rt_all(p + 7000, 0x66, 10));
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.log_used == 0);
	CHECK(rvm_terminate() == RVM_SUCCESS);
}

/* Repeated set_range of hot bytes costs log space once. */
static void
test_coalesce(void)
{
	rvm_options_t q;
	rvm_tid_t t;
	CHECK(fresh() == RVM_SUCCESS);
	uint8_t *p = start(8192);
	if (!CHECK(p != NULL))
		return;
	CHECK(rvm_begin_transaction(&t, RVM_RESTORE) == RVM_SUCCESS);
	for (int i = 0; i < 50; i++) {
		CHECK(rvm_set_range(&t, p + 1000 + i, 100) == RVM_SUCCESS);
		p[1000 + i] = i;
	}
	CHECK(rvm_set_range(&t, p + 1149, 1) == RVM_SUCCESS); /* touches */
	p[1149] = 0x77;
	CHECK(rvm_end_transaction(&t, RVM_FLUSH) == RVM_SUCCESS);
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS);
	CHECK(q.stats.log_bytes < 400 && q.stats.undo_bytes == 150);
	CHECK(rvm_terminate() == RVM_SUCCESS);
	p = start(8192);
	if (!CHECK(p != NULL))
		return;
	for (int i = 0; i < 50; i++)
		CHECK(p[1000 + i] == i);
	CHECK(p[1149] == 0x77 && p[1148] == 0 && p[999] == 0);
	CHECK(rvm_terminate() == RVM_SUCCESS);
}

static void
test_options(void)
{
	rvm_options_t o = opts(), q;
	CHECK(fresh() == RVM_SUCCESS);
	CHECK(start(512) != NULL);
	o.truncate_pct = 80;
	o.log_buf_size = 4096;
	CHECK(rvm_set_options(&o) == RVM_SUCCESS);
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.truncate_pct == 80 &&
	      q.log_buf_size == 4096 && q.flags == 0 &&
	      q.log_size == LOG_LEN - 2 * RVM_SECTOR && q.n_in_doubt == 0);
	o.truncate_pct = 200;
	CHECK(rvm_set_options(&o) == RVM_EOPTIONS);
	CHECK(rvm_query(NULL, NULL) == RVM_EOPTIONS);
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.truncate_pct == 80);
	CHECK(rvm_terminate() == RVM_SUCCESS);
}

static int
child_noflush(void *arg)
{
	int flush = *(int *)arg;
	uint8_t *p = start(8192);
	if (!p || put(p, 0, 64, 0x5a, RVM_FLUSH) ||
	    put(p, 512, 64, 0xa5, RVM_NO_FLUSH))
		return 2;
	return flush && rvm_flush() ? 3 : 0;
}

/* A no-flush commit is lost by a crash before the next flush, and only
 * then. */
static void
test_noflush_window(void)
{
	for (int flush = 0; flush < 2; flush++) {
		CHECK(fresh() == RVM_SUCCESS);
		CHECK(rt_child(child_noflush, &flush) == 0);
		uint8_t *p = start(8192);
		if (!CHECK(p != NULL))
			return;
		CHECK(rt_all(p, 0x5a, 64));
		CHECK(rt_all(p + 512, flush ? 0xa5 : 0, 64));
		CHECK(rvm_terminate() == RVM_SUCCESS);
	}
}

/*
 * Three flushed commits, then a crash (the status write of rvm_terminate
 * is lost), then damage after them: garbage past the last record is
 * ignored; a last record with a changed byte, or a changed checksum, is
 * dropped as a torn write and the others kept (nothing sealed after it
 * says it was forced: test_rvm_damage has the case where something does).
 */
static void
test_torn_tail(void)
{
	rvm_options_t q;
	uint8_t junk[3000];
	uint64_t seed = 42;
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = rt_rand(&seed);
	for (int corrupt = 0; corrupt < 3; corrupt++) {
		uint64_t used[3];
		rvm_options_t o = { .log_dev = LOG, .open_dev = rt_crash_open };
		rvm_region_t r = { .data_dev = SEG, .length = 8192 };
		CHECK(fresh() == RVM_SUCCESS);
		if (!CHECK(rvm_initialize(NULL, &o) == 0 && rvm_map(&r, 0) == 0))
			return;
		uint8_t *p = r.vmaddr;
		for (int i = 0; i < 3; i++) {
			CHECK(put(p, 1000 * i, 200, 0x10 + i, RVM_FLUSH) == 0);
			CHECK(rvm_query(&q, NULL) == RVM_SUCCESS);
			used[i] = q.log_used;
		}
		rt_crash_reset(1); /* the next write: the status block's */
		CHECK(rvm_terminate() == RVM_SUCCESS && rt_crash.crashed);
		rt_crash_reset(0);
		/* Nothing truncated the log: records start at the area. */
		uint64_t area = 2 * RVM_SECTOR;
		CHECK(rt_poke(LOG, area + used[2], junk, sizeof(junk)) == 0);
		if (corrupt == 1) /* a byte of the last record's new values */
			CHECK(rt_poke(LOG, area + used[1] + 100, "\xee", 1) == 0);
		if (corrupt == 2) /* its crc, in the end mark's second word */
			CHECK(rt_poke(LOG, area + used[2] - 12, "\xee", 1) == 0);
		p = start(8192);
		if (!CHECK(p != NULL))
			return;
		CHECK(rt_all(p, 0x10, 200) && rt_all(p + 1000, 0x11, 200));
		CHECK(rt_all(p + 2000, corrupt ? 0 : 0x12, 200));
		CHECK(rvm_query(&q, NULL) == 0 &&
		      q.stats.recovered == (corrupt ? 2u : 3u));
		/* The log goes on past the damage. */
		CHECK(put(p, 3000, 10, 0x13, RVM_FLUSH) == RVM_SUCCESS);
		CHECK(rvm_terminate() == RVM_SUCCESS);
		p = start(8192);
		CHECK(p && rt_all(p + 3000, 0x13, 10) && rt_all(p + 1000, 0x11, 200));
		CHECK(rvm_terminate() == RVM_SUCCESS);
	}
}

/* One transaction over two segments and two regions of one segment. */
static void
test_segments(void)
{
	rvm_tid_t t;
	CHECK(fresh() == RVM_SUCCESS);
	uint8_t *p = start(4096);
	rvm_region_t r2 = { .data_dev = SEG2, .offset = 8192, .length = 4096 };
	rvm_region_t r3 = { .data_dev = SEG, .offset = 4096, .length = 4096 };
	if (!CHECK(p && rvm_map(&r2, NULL) == 0 && rvm_map(&r3, NULL) == 0))
		return;
	uint8_t *p2 = r2.vmaddr, *p3 = r3.vmaddr;
	CHECK(rvm_begin_transaction(&t, RVM_RESTORE) == RVM_SUCCESS);
	CHECK(rvm_set_range(&t, p + 4000, 96) == RVM_SUCCESS);
	CHECK(rvm_set_range(&t, p3, 100) == RVM_SUCCESS); /* adjacent region */
	CHECK(rvm_set_range(&t, p2 + 10, 20) == RVM_SUCCESS);
	CHECK(rvm_set_range(&t, p + 4000, 97) == RVM_ERANGE); /* straddles */
	memset(p + 4000, 1, 96);
	memset(p3, 3, 100);
	memset(p2 + 10, 2, 20);
	CHECK(rvm_end_transaction(&t, RVM_FLUSH) == RVM_SUCCESS);
	CHECK(rvm_terminate() == RVM_SUCCESS);
	p = start(8192);
	r2 = (rvm_region_t){ .data_dev = SEG2, .offset = 8192, .length = 512 };
	if (!CHECK(p && rvm_map(&r2, NULL) == 0))
		return;
	p2 = r2.vmaddr;
	CHECK(rt_all(p + 4000, 1, 96) && rt_all(p + 4096, 3, 100) &&
	      rt_all(p + 4196, 0, 100) && rt_all(p2 + 10, 2, 20) && rt_all(p2, 0, 10));
	CHECK(rvm_terminate() == RVM_SUCCESS);
}

/*
 * B and C are written one after the other, unsynced; the crash (at D's
 * write) loses B's write and keeps C's, so C sits past the end of the log.
 * B ends on a sector boundary, so rewriting it later leaves C's sector
 * alone (A's record is 208 bytes, and one of a 1224-byte range of
 * "rvm.seg" 1328).
 */
static int
child_lost_middle(void *arg)
{
	(void)arg;
	rvm_options_t o = { .log_dev = LOG, .open_dev = rt_crash_open,
			    .log_buf_size = 1 };
	rvm_region_t r = { .data_dev = SEG, .offset = 0, .length = 8192 };
	if (rvm_initialize(NULL, &o) || rvm_map(&r, NULL))
		return 2;
	uint8_t *p = r.vmaddr;
	if (put(p, 0, 100, 0xa1, RVM_FLUSH))
		return 3;
	rt_crash_reset(3);
	rt_crash.unsynced = RT_LOSE_SOME;
	put(p, 1000, 1224, 0xb1, RVM_NO_FLUSH);
	if (rvm_query(&o, NULL) || o.log_used % RVM_SECTOR)
		return 5;
	put(p, 3000, 10, 0xc1, RVM_NO_FLUSH);
	put(p, 4000, 10, 0xd1, RVM_NO_FLUSH);
	return rt_crash.crashed ? 0 : 4;
}

/* After recovery B is rewritten, same length and place, as B': then C
 * must not come back to life behind it. */
static int
child_rewrite(void *arg)
{
	(void)arg;
	uint8_t *p = start(8192);
	if (!p || !rt_all(p, 0xa1, 100) || !rt_all(p + 1000, 0, 1224) ||
	    !rt_all(p + 3000, 0, 10))
		return 2;
	return put(p, 1000, 1224, 0xb2, RVM_FLUSH) ? 3 : 0;
}

static void
test_stale_record_behind_lost_one(void)
{
	CHECK(fresh() == RVM_SUCCESS);
	CHECK(rt_child(child_lost_middle, NULL) == 0);
	CHECK(rt_child(child_rewrite, NULL) == 0);
	uint8_t *p = start(8192);
	if (!CHECK(p != NULL))
		return;
	CHECK(rt_all(p, 0xa1, 100) && rt_all(p + 1000, 0xb2, 1224));
	CHECK(rt_all(p + 3000, 0, 10) && rt_all(p + 4000, 0, 10));
	CHECK(rvm_terminate() == RVM_SUCCESS);
}

#define BIG_SEG (4 * 1024 * 1024)
#define BIG_LOG (1024 * 1024)

/* 2000 ranges a commit, 1000 sectors apart by k: commits 0 and 2 share
 * their sectors, so do 1 and 3. */
static int
big_commits(uint8_t *p)
{
	int bad = 0;
	for (int k = 0; k < 4; k++) {
		rvm_tid_t t;
		bad |= rvm_begin_transaction(&t, RVM_NO_RESTORE);
		for (uint32_t i = 0; i < 2000; i++) {
			uint32_t off = (i * 4 + k % 2 * 2) * RVM_SECTOR + k * 8;
			bad |= rvm_set_range(&t, p + off, 8);
			memset(p + off, 0x40 + k, 8);
		}
		bad |= rvm_end_transaction(&t, RVM_NO_FLUSH);
	}
	return bad;
}

static int
child_big(void *arg)
{
	(void)arg;
	rvm_options_t o = opts();
	rvm_region_t r = { .data_dev = SEG, .length = BIG_SEG };
	if (rvm_initialize(NULL, &o) || rvm_map(&r, NULL))
		return 2;
	return big_commits(r.vmaddr) || rvm_flush() ? 3 : 0;
}

/*
 * An epoch touching more sectors than a round of truncation from memory
 * copies (256), and than truncation from the log caches (1024, in the
 * recovery below): both write them out as they go; later records touch
 * some of them again.
 */
static void
test_big_epoch(void)
{
	rvm_options_t o = opts(), q;
	rt_file(LOG, BIG_LOG);
	rt_file(SEG, BIG_SEG);
	CHECK(rvm_create_log(&o, BIG_LOG) == RVM_SUCCESS);
	CHECK(rvm_initialize(NULL, &o) == RVM_SUCCESS);
	rvm_region_t r = { .data_dev = SEG, .length = BIG_SEG };
	if (!CHECK(rvm_map(&r, NULL) == RVM_SUCCESS))
		return;
	CHECK(big_commits(r.vmaddr) == 0);
	CHECK(rvm_truncate() == RVM_SUCCESS);
	/* One epoch for all four (the other was recovery's). */
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.log_used == 0 &&
	      q.stats.truncations == 2 && q.stats.seg_writes > 1);
	uint8_t *want = malloc(BIG_SEG);
	memcpy(want, r.vmaddr, BIG_SEG);
	CHECK(rvm_terminate() == RVM_SUCCESS);
	CHECK(rvm_initialize(NULL, &o) == RVM_SUCCESS);
	CHECK(rvm_map(&r, NULL) == RVM_SUCCESS);
	CHECK(memcmp(r.vmaddr, want, BIG_SEG) == 0);
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.stats.recovered == 0);
	CHECK(rvm_terminate() == RVM_SUCCESS);

	/* The same commits left in the log by a crash: recovery applies them. */
	rt_file(LOG, BIG_LOG);
	rt_file(SEG, BIG_SEG);
	CHECK(rvm_create_log(&o, BIG_LOG) == RVM_SUCCESS);
	CHECK(rt_child(child_big, NULL) == 0);
	CHECK(rvm_initialize(NULL, &o) == RVM_SUCCESS);
	CHECK(rvm_map(&r, NULL) == RVM_SUCCESS);
	CHECK(memcmp(r.vmaddr, want, BIG_SEG) == 0);
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.stats.recovered == 4);
	CHECK(rvm_terminate() == RVM_SUCCESS);
	free(want);
}

/* A record larger than the log is refused; the transaction can abort. */
static void
test_log_full(void)
{
	rvm_tid_t t;
	CHECK(fresh() == RVM_SUCCESS);
	uint8_t *p = start(SEG_SIZE);
	if (!CHECK(p != NULL))
		return;
	CHECK(rvm_begin_transaction(&t, RVM_RESTORE) == RVM_SUCCESS);
	CHECK(rvm_set_range(&t, p, SEG_SIZE) == RVM_SUCCESS);
	memset(p, 9, SEG_SIZE);
	CHECK(rvm_end_transaction(&t, RVM_FLUSH) == RVM_ELOG_FULL);
	CHECK(rvm_abort_transaction(&t) == RVM_SUCCESS);
	CHECK(rt_all(p, 0, SEG_SIZE));
	/* Many commits fill the log several times over: truncation copes. */
	for (int i = 0; i < 200; i++)
		CHECK(put(p, (i * 997) % (SEG_SIZE - 2000), 1500, i,
			  i % 3 ? RVM_NO_FLUSH : RVM_FLUSH) == RVM_SUCCESS);
	rvm_options_t q;
	CHECK(rvm_query(&q, NULL) == 0 && q.stats.truncations > 3 &&
	      q.stats.log_bytes > 3 * q.log_size);
	CHECK(rvm_terminate() == RVM_SUCCESS);
	p = start(SEG_SIZE);
	CHECK(p && rt_all(p + (199 * 997) % (SEG_SIZE - 2000), 199, 1500));
	CHECK(rvm_terminate() == RVM_SUCCESS);
}

int
main(void)
{
	rt_scratch();
	RUN(test_errors_before_init);
	RUN(test_map_errors);
	RUN(test_commit_and_abort);
	RUN(test_coalesce);
	RUN(test_options);
	RUN(test_noflush_window);
	RUN(test_torn_tail);
	RUN(test_segments);
	RUN(test_stale_record_behind_lost_one);
	RUN(test_log_full);
	RUN(test_big_epoch);
	return check_summary();
}
