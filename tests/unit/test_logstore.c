/*
 * The node log's store (servers/log/store.c) over files: records read back
 * after a reopen, releases, the head moved on with live records carried,
 * a full log that pushes back, a bit flip in each record found and
 * reported (never taken for the end), a torn tail discarded, a damaged
 * status refused, and crashes at every write of a workload.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "rvm_test.h"
#include "../../servers/log/store.h"

#define LOG "log.node"
#define LOG_LEN (64 * 1024)

static store_t st;

static int
fresh(void)
{
	store_close(&st);
	rt_file(LOG, LOG_LEN);
	rvm_dev_t *d = rvm_dev_open(LOG, 0);
	int r = d ? store_format(d) : -1;
	if (d)
		d->close(d);
	return r;
}

/* Opens the store; its result (0, STORE_*, or an error). */
static int
reopen(store_damage_t *dmg)
{
	store_damage_t ignore;
	store_close(&st);
	return store_open(&st, rvm_dev_open(LOG, 0), dmg ? dmg : &ignore);
}

/* Record i: key i, kind 7, data "record i" padded to len bytes. */
static int
put(int owner, uint32_t i, uint32_t len)
{
	static char data[LOG_DATA_MAX];
	memset(data, 'a' + i % 26, sizeof(data));
	snprintf(data, sizeof(data), "record %u", i);
	return store_append(&st, owner, 7, i, data, len, NULL);
}

/* The owner's live keys in seq order, into keys; how many. */
static int
live_keys(int owner, uint64_t *keys, int max)
{
	int n = 0;
	uint64_t after = 0;
	for (const lrec_t *r; (r = store_next(&st, owner, after)) && n < max;
	     after = r->seq)
		keys[n++] = r->key;
	return n;
}

/* Does record key i read back as put(…, i, len) wrote it? */
static int
reads_back(int owner, uint64_t i, uint32_t len)
{
	static char want[LOG_DATA_MAX], got[LOG_DATA_MAX];
	memset(want, 'a' + i % 26, sizeof(want));
	snprintf(want, sizeof(want), "record %u", (unsigned)i);
	for (const lrec_t *r = store_next(&st, owner, 0); r;
	     r = store_next(&st, owner, r->seq))
		if (r->key == i) {
			lrec_t c = *r;
			return store_read(&st, &c, got, sizeof(got)) ==
				       (int)len && !memcmp(got, want, len);
		}
	return 0;
}

static void
test_records_come_back_in_order(void)
{
	CHECK(fresh() == 0 && reopen(NULL) == 0);
	int tm = store_owner(&st, "tm"), fs = store_owner(&st, "fs");
	for (uint32_t i = 1; i <= 10; i++)
		CHECK(put(i % 2 ? tm : fs, i, 10 + i * 30) == 0);
	CHECK(store_flush(&st) == 0);
	CHECK(reopen(NULL) == 0);
	uint64_t keys[16];
	tm = store_owner(&st, "tm");
	fs = store_owner(&st, "fs");
	CHECK(live_keys(tm, keys, 16) == 5 && keys[0] == 1 && keys[4] == 9);
	CHECK(live_keys(fs, keys, 16) == 5 && keys[0] == 2 && keys[4] == 10);
	CHECK(reads_back(fs, 6, 10 + 6 * 30) && reads_back(tm, 7, 220));
	CHECK(st.stats.recovered == 10);
}

static void
test_unflushed_records_are_lost_released_ones_stay_gone(void)
{
	CHECK(fresh() == 0 && reopen(NULL) == 0);
	int o = store_owner(&st, "tm");
	for (uint32_t i = 1; i <= 4; i++)
		CHECK(put(o, i, 100) == 0);
	CHECK(store_release(&st, o, 2, 2) == 0 && store_flush(&st) == 0);
	CHECK(put(o, 5, 100) == 0); /* never flushed */
	CHECK(reopen(NULL) == 0);
	uint64_t keys[8];
	o = store_owner(&st, "tm");
	CHECK(live_keys(o, keys, 8) == 3 && keys[0] == 1 && keys[1] == 3 &&
	      keys[2] == 4);
}

static void
test_a_range_of_keys_goes_at_once_and_long_records_stay_whole(void)
{
	CHECK(fresh() == 0 && reopen(NULL) == 0);
	int o = store_owner(&st, "fs"), tm = store_owner(&st, "tm");
	for (uint32_t i = 1; i <= 8; i++)
		CHECK(put(i == 4 ? tm : o, i, i == 8 ? LOG_DATA_MAX / 2 : 64) == 0);
	CHECK(store_release(&st, o, 2, 6) == 0 && store_flush(&st) == 0);
	CHECK(reopen(NULL) == 0);
	o = store_owner(&st, "fs");
	tm = store_owner(&st, "tm");
	uint64_t keys[8];
	CHECK(live_keys(o, keys, 8) == 3 && keys[0] == 1 && keys[1] == 7 &&
	      keys[2] == 8);
	CHECK(live_keys(tm, keys, 8) == 1 && keys[0] == 4); /* not fs's */
	CHECK(reads_back(o, 8, LOG_DATA_MAX / 2));
}

static void
test_head_moves_on_carrying_live_records(void)
{
	CHECK(fresh() == 0 && reopen(NULL) == 0);
	int o = store_owner(&st, "fs");
	uint32_t i = 1;
	/* many laps of the area: one record in ten stays live */
	for (; i <= 600; i++) {
		if (!CHECK(put(o, i, 200) == 0))
			return;
		if (i % 10)
			CHECK(store_release(&st, o, i, i) == 0);
	}
	CHECK(store_flush(&st) == 0 && st.stats.carried > 0);
	CHECK(reopen(NULL) == 0);
	o = store_owner(&st, "fs");
	uint64_t keys[256];
	int n = live_keys(o, keys, 256), ok = n == 60;
	for (int k = 0; k < n; k++)
		ok = ok && keys[k] == (uint64_t)(k + 1) * 10 &&
		     reads_back(o, keys[k], 200);
	CHECK(ok);
}

static void
test_a_full_log_pushes_back_and_loses_nothing(void)
{
	CHECK(fresh() == 0 && reopen(NULL) == 0);
	int o = store_owner(&st, "tm");
	uint32_t i = 1;
	int r = 0;
	for (; r == 0 && i < 1000; i++)
		r = put(o, i, 500);
	CHECK(r == LOG_FULL && i < 1000);
	uint32_t kept = i - 2;
	CHECK(store_flush(&st) == 0 && reopen(NULL) == 0);
	uint64_t keys[1000];
	o = store_owner(&st, "tm");
	CHECK(live_keys(o, keys, 1000) == (int)kept);
	CHECK(reads_back(o, 1, 500) && reads_back(o, kept, 500));
	/* released, there is room again */
	for (uint32_t k = 1; k <= kept; k++)
		store_release(&st, o, k, k);
	CHECK(put(o, 5000, 500) == 0);
}

static void
test_one_owner_cannot_fill_the_log_for_the_others(void)
{
	CHECK(fresh() == 0 && reopen(NULL) == 0);
	int fs = store_owner(&st, "fs"), tm = store_owner(&st, "tm");
	uint32_t i = 1;
	while (i < 1000 && put(fs, i, 500) == 0)
		i++;
	CHECK(i < 1000 && st.owner_live[fs] <= st.area / 2);
	for (uint32_t k = 0; k < 20; k++) /* the TM's share is whole */
		CHECK(put(tm, 5000 + k, 200) == 0);
	CHECK(store_flush(&st) == 0 && reopen(NULL) == 0);
	fs = store_owner(&st, "fs");
	CHECK(put(fs, 9999, 500) == LOG_FULL); /* its share, after a restart */
	CHECK(store_release(&st, fs, 1, 10) == 0 && put(fs, 9999, 500) == 0);
}

/* Flips one bit in byte `at` of the log file. */
static void
flip(uint64_t at)
{
	FILE *f = fopen(LOG, "r+b");
	int c;
	fseek(f, at, SEEK_SET);
	c = fgetc(f);
	fseek(f, at, SEEK_SET);
	fputc(c ^ 0x10, f);
	fclose(f);
}

static void
test_a_bit_flip_in_any_record_is_reported(void)
{
	CHECK(fresh() == 0 && reopen(NULL) == 0);
	int o = store_owner(&st, "tm");
	uint64_t pos[41], pseq[41];
	/* 40 records, each forced on its own, then one more that vouches for
	 * the 40th */
	for (uint32_t i = 1; i <= 41; i++) {
		pos[i - 1] = st.tail;
		pseq[i - 1] = st.next_pseq;
		CHECK(put(o, i, 40 + i) == 0 && store_flush(&st) == 0);
	}
	rt_image_t img;
	const char *names[] = { LOG };
	rt_save(&img, names, 1);
	int found = 0;
	for (int i = 0; i < 40; i++) {
		rt_restore(&img);
		flip(2 * RVM_SECTOR + pos[i] + 80 + i % 8); /* in the data */
		store_damage_t d;
		if (reopen(&d) == STORE_DAMAGED && d.pos == pos[i] &&
		    d.pseq == pseq[i] && d.next_pseq == pseq[i] + 1)
			found++;
		else
			printf("record %d: not reported\n", i + 1);
	}
	CHECK(found == 40);
	/* the last one, vouched for by nothing: a torn write, discarded */
	rt_restore(&img);
	flip(2 * RVM_SECTOR + pos[40] + 80);
	CHECK(reopen(NULL) == 0);
	uint64_t keys[64];
	o = store_owner(&st, "tm");
	CHECK(live_keys(o, keys, 64) == 40 && keys[39] == 40);
	rt_image_free(&img);
}

/* Copies n bytes at offset off of file from into file to. */
static void
copy_bytes(const char *from, const char *to, uint64_t off, uint32_t n)
{
	static uint8_t b[8192];
	FILE *f = fopen(from, "rb");
	CHECK(f && n <= sizeof(b) && !fseek(f, off, SEEK_SET) &&
	      fread(b, 1, n, f) == n);
	if (f)
		fclose(f);
	CHECK(rt_poke(to, off, b, n) == 0);
}

/*
 * Two histories from one empty log. In one, X, W (as long as a release
 * record) and Y. In the other, Z (as long as X), released, and the head
 * moved past Z and its release: to where Y is in the first. Y copied
 * there is whole and valid, with the pseq the head expects, but it names
 * W's CRC: it must not come back as a live record (nor as damage).
 */
static void
test_a_stale_record_at_the_head_is_not_taken(void)
{
	CHECK(fresh() == 0 && reopen(NULL) == 0);
	int o = store_owner(&st, "tm");
	CHECK(put(o, 1, 100) == 0 && put(o, 2, 8) == 0 && put(o, 3, 100) == 0 &&
	      store_flush(&st) == 0);
	uint64_t y_pos = st.idx[st.first + 2].pos;
	uint32_t y_len = st.idx[st.first + 2].len;
	store_close(&st);
	CHECK(rename(LOG, "other.log") == 0);
	CHECK(fresh() == 0 && reopen(NULL) == 0);
	o = store_owner(&st, "tm");
	CHECK(put(o, 4, 100) == 0 && store_release(&st, o, 4, 4) == 0 &&
	      store_compact(&st, 0) == 0);
	CHECK(st.head == y_pos && st.head_pseq == 3);
	store_close(&st);
	copy_bytes("other.log", LOG, 2 * RVM_SECTOR + y_pos, y_len);
	store_damage_t d;
	CHECK(reopen(&d) == 0);
	uint64_t keys[4];
	CHECK(live_keys(store_owner(&st, "tm"), keys, 4) == 0);
}

static void
test_status_damage_is_refused_and_a_new_device_is_new(void)
{
	rt_file(LOG, LOG_LEN);
	CHECK(reopen(NULL) == STORE_NEW);
	CHECK(fresh() == 0 && reopen(NULL) == 0);
	flip(8);
	flip(RVM_SECTOR + 8);
	CHECK(reopen(NULL) == STORE_BAD_STATUS);
	flip(RVM_SECTOR + 8); /* one good copy is enough */
	CHECK(reopen(NULL) == 0);
}

/* The crash workload: records forced in groups, some released, the head
 * moved on; returns how many groups were forced (acknowledged). */
static int
workload(void *arg)
{
	(void)arg;
	if (store_open(&st, rt_crash_open(LOG), &(store_damage_t){ 0 }))
		return -1;
	int o = store_owner(&st, "tm"), done = 0;
	for (uint32_t g = 0; g < 40 && !rt_crash.crashed; g++) {
		for (uint32_t k = 0; k < 5; k++) {
			uint32_t i = g * 5 + k + 1;
			put(o, i, 300);
			if (i % 5 != 1)
				store_release(&st, o, i, i);
		}
		if (store_flush(&st) || rt_crash.crashed)
			break;
		done = g + 1;
		if (store_used(&st) > st.area / 4 * 3)
			store_compact(&st, st.area / 2);
	}
	return done;
}

static void
test_a_crash_at_any_write_loses_no_forced_record(void)
{
	int bad = 0, tears[] = { RT_TEAR_NONE, RT_TEAR_HALF, RT_TEAR_BYTES };
	for (int t = 0; t < 3; t++) {
		for (long at = 1; at < 200; at++) {
			CHECK(fresh() == 0);
			rt_crash_reset(at);
			rt_crash.tear = tears[t];
			rt_crash.unsynced = RT_LOSE_SOME;
			int done = rt_child(workload, NULL);
			store_damage_t d;
			int r = reopen(&d);
			uint64_t keys[64];
			int o = store_owner(&st, "tm");
			int n = r ? -1 : live_keys(o, keys, 64);
			/* every group forced is there: its first record */
			int ok = r == 0 && n >= done;
			for (int g = 0; ok && g < done; g++)
				ok = keys[g] == (uint64_t)g * 5 + 1 &&
				     reads_back(o, keys[g], 300);
			if (!ok && bad++ < 5)
				printf("tear %d, crash at write %ld: open %d, "
				       "%d of %d groups\n", t, at, r, n, done);
		}
	}
	CHECK(bad == 0);
}

int
main(void)
{
	rt_scratch();
	RUN(test_records_come_back_in_order);
	RUN(test_unflushed_records_are_lost_released_ones_stay_gone);
	RUN(test_a_range_of_keys_goes_at_once_and_long_records_stay_whole);
	RUN(test_head_moves_on_carrying_live_records);
	RUN(test_a_full_log_pushes_back_and_loses_nothing);
	RUN(test_one_owner_cannot_fill_the_log_for_the_others);
	RUN(test_a_bit_flip_in_any_record_is_reported);
	RUN(test_a_stale_record_at_the_head_is_not_taken);
	RUN(test_status_damage_is_refused_and_a_new_device_is_new);
	RUN(test_a_crash_at_any_write_loses_no_forced_record);
	store_close(&st);
	return check_summary();
}
