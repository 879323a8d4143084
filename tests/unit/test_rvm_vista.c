/*
 * Vista mode over a file mapped shared (the host's stand-in for Rio's
 * persistent memory). A crash can come between any two stores, so the
 * library's store hook snapshots the whole image after every ordered store
 * it makes, and the workload snapshots it between its own stores into a
 * range. Recovery of each snapshot must give exactly the committed state
 * (the transaction being committed: before or after), and recovery
 * crashed at each of its own stores, then run again, the same.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "rvm_int.h"
#include "rvm_test.h"

#define PM "vista.pm"
#define UNDO_LEN (16 * 1024)
#define DATA (32 * 1024)
#define LANES 4
#define LANE (DATA / LANES)
#define STEPS 240
#define MAX_STATES 128

static rvm_region_t reg;
static uint8_t *data; /* the region */

static rvm_options_t
opts(void)
{
	rvm_options_t o = { .log_dev = PM, .flags = RVM_VISTA };
	return o;
}

static int
fresh(void)
{
	rvm_options_t o = opts();
	rt_file(PM, UNDO_LEN + DATA);
	return rvm_create_log(&o, UNDO_LEN);
}

static rvm_return_t
start(void)
{
	rvm_options_t o = opts();
	rvm_return_t r = rvm_initialize(NULL, &o);
	if (r)
		return r;
	reg = (rvm_region_t){ .data_dev = PM, .offset = UNDO_LEN,
			      .length = DATA };
	r = rvm_map(&reg, NULL);
	data = reg.vmaddr;
	return r;
}

/* Snapshots of the image, each with the committed states it may recover
 * to. */
typedef struct {
	uint8_t *img;
	int lo, hi;
} snap_t;

static snap_t *snaps;
static int n_snaps, cap_snaps;
static uint8_t *state[MAX_STATES];
static int n_state, lo_now, hi_now;
static uint8_t done[DATA]; /* each lane as last committed */

typedef struct {
	rvm_tid_t tid;
	int open, restore;
	uint32_t off, len; /* the transaction's last range */
} lane_t;

/* The image is the file: mapped shared, it holds every store. */
static void
snap(void)
{
	if (n_snaps == cap_snaps) {
		cap_snaps = cap_snaps ? 2 * cap_snaps : 256;
		snaps = realloc(snaps, cap_snaps * sizeof(*snaps));
	}
	uint8_t *img = malloc(UNDO_LEN + DATA);
	int fd = open(PM, O_RDONLY);
	if (fd < 0 || pread(fd, img, UNDO_LEN + DATA, 0) != UNDO_LEN + DATA)
		perror(PM);
	close(fd);
	snaps[n_snaps++] = (snap_t){ img, lo_now, hi_now };
}

static void
put_image(const uint8_t *img)
{
	FILE *f = fopen(PM, "r+");
	if (!f || fwrite(img, 1, UNDO_LEN + DATA, f) != UNDO_LEN + DATA)
		perror(PM);
	if (f)
		fclose(f);
}

/* Lane k committed (k < 0: the initial state). */
static void
committed(int k)
{
	if (k >= 0)
		memcpy(done + k * LANE, data + k * LANE, LANE);
	state[n_state] = malloc(DATA);
	memcpy(state[n_state++], done, DATA);
}

static int
commit_lane(lane_t *lanes, int k, rvm_mode_t mode)
{
	lanes[k].open = 0;
	hi_now = n_state; /* the commit may be in the image, or not yet */
	if (rvm_end_transaction(&lanes[k].tid, mode))
		return 1;
	committed(k);
	lo_now = hi_now;
	return 0;
}

/* A range of the lane written in two halves, a snapshot between them;
 * one in three overlaps the transaction's range before. */
static int
write_range(lane_t *l, uint8_t *base, uint64_t *seed)
{
	uint32_t off = rt_rand(seed) % (LANE - 300);
	uint32_t len = 2 + rt_rand(seed) % 298;
	if (l->len && rt_rand(seed) % 3 == 0)
		off = l->off + rt_rand(seed) % l->len;
	if (off + len > LANE)
		len = LANE - off;
	if (rvm_set_range(&l->tid, base + off, len))
		return 1;
	for (uint32_t j = 0; j < len; j++) {
		if (j == len / 2)
			snap();
		base[off + j] = rt_rand(seed);
	}
	l->off = off;
	l->len = len;
	return 0;
}

/* One step on a random lane: begin, set a range, commit or abort. */
static int
step(lane_t *lanes, uint64_t *seed)
{
	int k = rt_rand(seed) % LANES, how = rt_rand(seed) % 10;
	lane_t *l = &lanes[k];
	uint8_t *base = data + k * LANE;
	if (!l->open) {
		l->restore = how < 7;
		l->open = 1;
		l->len = 0;
		return rvm_begin_transaction(&l->tid, l->restore
				? RVM_RESTORE : RVM_NO_RESTORE) != 0;
	}
	if (how < 5)
		return write_range(l, base, seed);
	if (how < 7 && l->restore) {
		l->open = 0;
		if (rvm_abort_transaction(&l->tid))
			return 1;
		return memcmp(base, done + k * LANE, LANE) != 0;
	}
	return commit_lane(lanes, k, how < 8 ? RVM_FLUSH : RVM_NO_FLUSH);
}

/* Recovers an image: 0 and the data, or -1. */
static int
recover(const uint8_t *img, uint8_t *out)
{
	rvm_options_t q;
	put_image(img);
	if (start())
		return -1;
	memcpy(out, data, DATA);
	int bad = rvm_query(&q, NULL) || q.n_in_doubt || q.log_used ||
		  q.n_uncommitted;
	return rvm_terminate() || bad ? -1 : 0;
}

static int
state_in(const uint8_t *d, int lo, int hi)
{
	for (int j = lo; j <= hi; j++)
		if (!memcmp(d, state[j], DATA))
			return 1;
	return 0;
}

static void
snaps_free(void)
{
	for (int i = 0; i < n_snaps; i++)
		free(snaps[i].img);
	n_snaps = 0;
}

static void
test_crash_at_every_store(void)
{
	rvm_options_t q;
	lane_t lanes[LANES] = { 0 };
	uint64_t seed = 3;
	int errors = 0, bad = 0, bad_rec = 0;
	CHECK(fresh() == RVM_SUCCESS);
	if (!CHECK(start() == RVM_SUCCESS))
		return;
	memset(done, 0, DATA);
	committed(-1);
	rvm_vista_hook = snap;
	for (int i = 0; i < STEPS && n_state < MAX_STATES - LANES; i++)
		errors += step(lanes, &seed);
	for (int k = 0; k < LANES; k++)
		if (lanes[k].open)
			errors += commit_lane(lanes, k, RVM_FLUSH);
	rvm_vista_hook = NULL;
	CHECK(errors == 0);
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS);
	CHECK(q.stats.log_writes == 0 && q.stats.log_forces == 0 &&
	      q.stats.seg_writes == 0 && q.stats.aborts >= 5 &&
	      q.stats.commits_flush + q.stats.commits_noflush >= 20);
	CHECK(rvm_terminate() == RVM_SUCCESS);

	uint8_t *got = malloc(DATA), *again = malloc(DATA);
	int n = n_snaps;
	snap_t *all = snaps;
	snaps = NULL;
	n_snaps = cap_snaps = 0;
	for (int s = 0; s < n; s++) {
		if (recover(all[s].img, got) ||
		    !state_in(got, all[s].lo, all[s].hi)) {
			printf("snapshot %d: not state %d..%d\n", s, all[s].lo,
			       all[s].hi);
			bad++;
			continue;
		}
		/* Crash recovery at each of its stores: the same again. */
		put_image(all[s].img);
		rvm_options_t o = opts();
		rvm_vista_hook = snap;
		CHECK(rvm_initialize(NULL, &o) == RVM_SUCCESS);
		rvm_vista_hook = NULL;
		CHECK(rvm_terminate() == RVM_SUCCESS);
		for (int r = 0; r < n_snaps; r++)
			if (recover(snaps[r].img, again) ||
			    memcmp(got, again, DATA))
				bad_rec++;
		snaps_free();
	}
	CHECK(n > 300);
	CHECK(bad == 0);
	CHECK(bad_rec == 0);
	for (int s = 0; s < n; s++)
		free(all[s].img);
	free(all);
	free(got);
	free(again);
	for (int i = 0; i < n_state; i++)
		free(state[i]);
	n_state = 0;
}

static void
test_errors(void)
{
	rvm_options_t o = opts(), q;
	rvm_tid_t t;
	rt_file(PM, UNDO_LEN + DATA);
	CHECK(rvm_initialize(NULL, &o) == RVM_ELOG); /* no undo log yet */
	CHECK(rvm_create_log(&o, UNDO_LEN + DATA + RVM_SECTOR) == RVM_EOPTIONS);
	CHECK(fresh() == RVM_SUCCESS);
	CHECK(start() == RVM_SUCCESS);
	rvm_region_t r = { .data_dev = PM, .offset = 0, .length = 512 };
	CHECK(rvm_map(&r, NULL) == RVM_EREGION); /* the undo area */
	r = (rvm_region_t){ .data_dev = "other", .offset = UNDO_LEN,
			    .length = 512 };
	CHECK(rvm_map(&r, NULL) == RVM_EREGION);
	r.data_dev = NULL;
	CHECK(rvm_map(&r, NULL) == RVM_EREGION); /* overlaps */
	CHECK(rvm_begin_transaction(&t, RVM_NO_RESTORE) == RVM_SUCCESS);
	CHECK(rvm_set_range(&t, data, 100) == RVM_SUCCESS);
	memset(data, 1, 100);
	CHECK(rvm_abort_transaction(&t) == RVM_EMODE);
	CHECK(rvm_unmap(&reg) == RVM_EUNCOMMITTED);
	CHECK(rvm_set_range(&t, data, UNDO_LEN) == RVM_ELOG_FULL);
	CHECK(rvm_end_transaction(&t, RVM_NO_FLUSH) == RVM_SUCCESS);
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.log_used == 0 &&
	      q.flags == RVM_VISTA && q.log_size < UNDO_LEN &&
	      q.log_size > UNDO_LEN - 1024);
	CHECK(rvm_unmap(&reg) == RVM_SUCCESS);
	CHECK(rvm_terminate() == RVM_SUCCESS);
	CHECK(start() == RVM_SUCCESS && data[0] == 1 && data[99] == 1);
	CHECK(rvm_terminate() == RVM_SUCCESS);
}

/* T1 prepared (gtid 5) and T2 open at the crash: T2 is undone, T1 is in
 * doubt with its new values in place, then resolved either way. */
static void
test_prepare_in_doubt(void)
{
	rvm_options_t q;
	rvm_tid_t t1, t2;
	uint8_t *img = malloc(UNDO_LEN + DATA);
	CHECK(fresh() == RVM_SUCCESS);
	if (!CHECK(start() == RVM_SUCCESS))
		return;
	memset(data + 100, 0x10, 50); /* not in any transaction: stays */
	CHECK(rvm_begin_transaction(&t1, RVM_RESTORE) == RVM_SUCCESS);
	CHECK(rvm_begin_transaction(&t2, RVM_RESTORE) == RVM_SUCCESS);
	CHECK(rvm_set_range(&t1, data, 64) == RVM_SUCCESS);
	CHECK(rvm_set_range(&t2, data + 4096, 64) == RVM_SUCCESS);
	memset(data, 0x11, 64);
	memset(data + 4096, 0x22, 64);
	CHECK(rvm_set_range(&t1, data + 32, 64) == RVM_SUCCESS);
	memset(data + 32, 0x33, 64);
	CHECK(rvm_prepare_transaction(&t1, 5) == RVM_SUCCESS);
	CHECK(rvm_prepare_transaction(&t2, 5) == RVM_EMODE);
	CHECK(rvm_set_range(&t1, data + 200, 1) == RVM_EMODE);
	snap(); /* the crash */
	memcpy(img, snaps[0].img, UNDO_LEN + DATA);
	snaps_free();
	CHECK(rvm_abort_transaction(&t2) == RVM_SUCCESS);
	CHECK(rvm_end_transaction(&t1, RVM_FLUSH) == RVM_SUCCESS);
	CHECK(rvm_terminate() == RVM_SUCCESS);
	for (int commit = 0; commit < 2; commit++) {
		put_image(img);
		if (!CHECK(start() == RVM_SUCCESS))
			break;
		CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.n_in_doubt == 1 &&
		      q.in_doubt[0] == 5 && q.n_uncommitted == 0);
		CHECK(data[0] == 0x11 && data[95] == 0x33 && data[4096] == 0);
		/* its undo records' ranges, newest first */
		rvm_span_t sp[2];
		uint32_t n = 9;
		CHECK(rvm_in_doubt_ranges(6, sp, 2, &n) == RVM_ENOT_FOUND);
		CHECK(rvm_in_doubt_ranges(5, sp, 1, &n) == RVM_SUCCESS && n == 2 &&
		      sp[0].addr == data + 32 && sp[0].len == 64);
		CHECK(rvm_in_doubt_ranges(5, sp, 2, &n) == RVM_SUCCESS && n == 2 &&
		      sp[1].addr == data && sp[1].len == 64);
		CHECK(rvm_resolve(6, commit) == RVM_ENOT_FOUND);
		CHECK(rvm_resolve(5, commit) == RVM_SUCCESS);
		CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.n_in_doubt == 0 &&
		      q.log_used == 0);
		CHECK(rvm_terminate() == RVM_SUCCESS);
		CHECK(start() == RVM_SUCCESS);
		CHECK(rvm_query(&q, NULL) == RVM_SUCCESS && q.n_in_doubt == 0);
		CHECK(commit ? data[0] == 0x11 && data[95] == 0x33
			     : data[0] == 0 && data[95] == 0);
		CHECK(data[100] == 0x10 && data[4096] == 0);
		CHECK(rvm_terminate() == RVM_SUCCESS);
	}
	free(img);
}

/*
 * A prepared transaction commits, and the next one takes its slot: at no
 * store of that begin may a crash make the new one look prepared.
 */
static void
test_slot_reuse_after_prepare(void)
{
	rvm_tid_t t;
	uint8_t *got = malloc(DATA);
	int bad = 0;
	CHECK(fresh() == RVM_SUCCESS);
	if (!CHECK(start() == RVM_SUCCESS))
		return;
	CHECK(rvm_begin_transaction(&t, RVM_RESTORE) == RVM_SUCCESS);
	CHECK(rvm_set_range(&t, data, 10) == RVM_SUCCESS);
	memset(data, 7, 10);
	CHECK(rvm_prepare_transaction(&t, 9) == RVM_SUCCESS);
	CHECK(rvm_end_transaction(&t, RVM_FLUSH) == RVM_SUCCESS);
	rvm_vista_hook = snap;
	CHECK(rvm_begin_transaction(&t, RVM_RESTORE) == RVM_SUCCESS);
	rvm_vista_hook = NULL;
	CHECK(rvm_end_transaction(&t, RVM_FLUSH) == RVM_SUCCESS);
	CHECK(rvm_terminate() == RVM_SUCCESS);
	CHECK(n_snaps >= 2);
	for (int i = 0; i < n_snaps; i++)
		bad += recover(snaps[i].img, got) || got[9] != 7;
	CHECK(bad == 0);
	snaps_free();
	free(got);
}

typedef struct {
	pthread_t thread;
	int id, errors;
	uint8_t expect[LANE];
} vworker_t;

static void *
vworker(void *arg)
{
	vworker_t *w = arg;
	uint64_t seed = 11 + w->id;
	uint8_t *base = data + w->id * LANE;
	for (int i = 0; i < 300; i++) {
		rvm_tid_t t;
		uint32_t off = rt_rand(&seed) % (LANE - 100);
		w->errors += rvm_begin_transaction(&t, RVM_RESTORE) != 0 ||
			     rvm_set_range(&t, base + off, 100) != 0;
		memset(base + off, i, 100);
		if (i % 5 == 4) {
			w->errors += rvm_abort_transaction(&t) != 0 ||
				     memcmp(base, w->expect, LANE) != 0;
		} else {
			w->errors += rvm_end_transaction(&t, RVM_NO_FLUSH) != 0;
			memcpy(w->expect, base, LANE);
		}
	}
	return NULL;
}

/* Transactions of several threads share the undo log. */
static void
test_threads(void)
{
	static vworker_t w[LANES];
	CHECK(fresh() == RVM_SUCCESS);
	if (!CHECK(start() == RVM_SUCCESS))
		return;
	for (int i = 0; i < LANES; i++) {
		w[i].id = i;
		CHECK(pthread_create(&w[i].thread, NULL, vworker, &w[i]) == 0);
	}
	for (int i = 0; i < LANES; i++) {
		pthread_join(w[i].thread, NULL);
		CHECK(w[i].errors == 0);
	}
	CHECK(rvm_terminate() == RVM_SUCCESS);
	CHECK(start() == RVM_SUCCESS);
	for (int i = 0; i < LANES; i++)
		CHECK(memcmp(data + i * LANE, w[i].expect, LANE) == 0);
	CHECK(rvm_terminate() == RVM_SUCCESS);
}

int
main(void)
{
	rt_scratch();
	RUN(test_errors);
	RUN(test_crash_at_every_store);
	RUN(test_prepare_in_doubt);
	RUN(test_slot_reuse_after_prepare);
	RUN(test_threads);
	return check_summary();
}
