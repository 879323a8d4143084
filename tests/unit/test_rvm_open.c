/*
 * A server's start (rvm_open_log): a device never formatted gets a new
 * log; a damaged one (status copies, a record, another format version, a
 * Vista header) or an unreadable one is refused and left as it was,
 * unless the format list names it; an intact log is recovered, named or
 * not, and one whose device failed to open once is not taken for new.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "rvm_test.h"

#define LOG "open.log"
#define SEG "open.seg"
#define PM "open.pm"
#define LOG_LEN (32 * 1024)
#define SEG_SIZE 4096
#define UNDO_LEN (8 * 1024)

static const char *const files[] = { LOG, SEG };

static rvm_options_t
opts(void)
{
	rvm_options_t o = { .log_dev = LOG };
	return o;
}

/* A log holding *n commits not yet truncated (0x5a over the first 100
 * bytes of the segment, then 0x5b over the next 100): the process ends
 * without rvm_terminate. */
static int
child_commit(void *arg)
{
	int n = *(int *)arg;
	rvm_options_t o = opts();
	rvm_region_t r = { .data_dev = SEG, .length = SEG_SIZE };
	rvm_tid_t t;
	if (rvm_initialize(NULL, &o) || rvm_map(&r, NULL))
		return 2;
	for (int i = 0; i < n; i++) {
		uint8_t *p = (uint8_t *)r.vmaddr + 100 * i;
		if (rvm_begin_transaction(&t, RVM_RESTORE) ||
		    rvm_set_range(&t, p, 100))
			return 3;
		memset(p, 0x5a + i, 100);
		if (rvm_end_transaction(&t, RVM_FLUSH))
			return 4;
	}
	return 0;
}

static int
with_commits(int n)
{
	rvm_options_t o = opts();
	rt_file(LOG, LOG_LEN);
	rt_file(SEG, SEG_SIZE);
	return rvm_create_log(&o, LOG_LEN) == RVM_SUCCESS &&
	       rt_child(child_commit, &n) == 0;
}

/* Opens with rvm_open_log; 1 if the commit is there, 0 if not, -1 if it
 * could not open (*r says why). Leaves RVM down. */
static int
open_check(const char *format, rvm_return_t *r, rvm_options_t *o)
{
	*o = opts();
	*r = rvm_open_log("test", o, 0, format);
	if (*r)
		return -1;
	rvm_region_t reg = { .data_dev = SEG, .length = SEG_SIZE };
	int has = rvm_map(&reg, NULL) == RVM_SUCCESS &&
		  ((uint8_t *)reg.vmaddr)[99] == 0x5a;
	rvm_terminate();
	return has;
}

/* Whether the files are still those of img. */
static int
unchanged(const rt_image_t *img)
{
	rt_image_t now;
	rt_save(&now, files, 2);
	int same = 1;
	for (int i = 0; i < 2; i++)
		same &= now.size[i] == img->size[i] &&
			!memcmp(now.data[i], img->data[i], img->size[i]);
	rt_image_free(&now);
	return same;
}

static void
test_new_device_created(void)
{
	rvm_options_t o = opts(), q;
	rt_file(LOG, LOG_LEN);
	CHECK(rvm_open_log("test", &o, 0, NULL) == RVM_SUCCESS);
	CHECK(rvm_query(&q, NULL) == RVM_SUCCESS &&
	      q.log_size == LOG_LEN - 2 * RVM_SECTOR);
	CHECK(rvm_terminate() == RVM_SUCCESS);
	CHECK(rvm_initialize(NULL, &o) == RVM_SUCCESS);
	CHECK(rvm_terminate() == RVM_SUCCESS);
	o.log_dev = "no.such.log";
	CHECK(rvm_open_log("test", &o, 0, "no.such.log") == RVM_ELOG);
}

/*
 * Damage of one kind (a function that damages the files), refused and
 * left alone without the format argument, and with a list that does not
 * name the log; formatted when the list names it.
 */
static void
refused_then_formatted(void (*damage)(void), uint32_t kind)
{
	rt_image_t img;
	rvm_return_t r;
	rvm_options_t o;
	if (!CHECK(with_commits(1)))
		return;
	damage();
	rt_save(&img, files, 2);
	CHECK(open_check(NULL, &r, &o) < 0 && r == RVM_ECORRUPT &&
	      o.damage.kind == kind && unchanged(&img));
	CHECK(open_check("", &r, &o) < 0 && r == RVM_ECORRUPT && unchanged(&img));
	CHECK(open_check("open.seg,open.log.x,pen.log", &r, &o) < 0 &&
	      r == RVM_ECORRUPT && unchanged(&img));
	CHECK(open_check("tm.log," LOG, &r, &o) == 0); /* formatted: empty */
	CHECK(open_check(NULL, &r, &o) == 0);
	rt_image_free(&img);
}

static void
garble_status(void)
{
	uint8_t junk[2 * RVM_SECTOR];
	uint64_t seed = 5;
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = rt_rand(&seed);
	CHECK(rt_poke(LOG, 0, junk, sizeof(junk)) == 0);
}

static void
flip_one_status_bit(void) /* in each copy: neither is valid */
{
	CHECK(rt_poke(LOG, 17, "\x01", 1) == 0);
	CHECK(rt_poke(LOG, RVM_SECTOR + 17, "\x01", 1) == 0);
}

static void
old_version(void)
{
	uint32_t v = 1;
	CHECK(rt_poke(LOG, 4, &v, 4) == 0);
	CHECK(rt_poke(LOG, RVM_SECTOR + 4, &v, 4) == 0);
}

static void
test_damaged_status_refused(void)
{
	refused_then_formatted(garble_status, RVM_DAMAGE_STATUS);
	refused_then_formatted(flip_one_status_bit, RVM_DAMAGE_STATUS);
	refused_then_formatted(old_version, RVM_DAMAGE_VERSION);
}

static void
test_damaged_record_refused(void)
{
	rvm_return_t r;
	rvm_options_t o;
	/* The first of two records: the second proves it was forced. */
	if (!CHECK(with_commits(2)))
		return;
	rt_image_t img;
	CHECK(rt_poke(LOG, 2 * RVM_SECTOR + 8, "\xff", 1) == 0); /* its n_ranges */
	rt_save(&img, files, 2);
	CHECK(open_check(NULL, &r, &o) < 0 && r == RVM_ECORRUPT &&
	      o.damage.kind == RVM_DAMAGE_RECORD && o.damage.seq == 1 &&
	      unchanged(&img));
	/* Formatted: both commits were only in the log. */
	CHECK(open_check(LOG, &r, &o) == 0);
	rt_image_free(&img);
}

/* One status copy damaged is the normal torn status write: the other one
 * serves, and the log is recovered. */
static void
test_one_status_copy_damaged(void)
{
	rvm_return_t r;
	rvm_options_t o;
	if (!CHECK(with_commits(1)))
		return;
	CHECK(rt_poke(LOG, 1, "\x77", 1) == 0);
	CHECK(open_check(NULL, &r, &o) == 1);
}

static void
test_intact_log_not_formatted(void)
{
	rvm_return_t r;
	rvm_options_t o;
	CHECK(with_commits(1) && open_check(LOG, &r, &o) == 1);
}

/* A log device whose reads fail: RVM_EIO, refused, never formatted. */
static int (*file_read)(rvm_dev_t *, uint64_t, void *, uint32_t);

static int
read_fails(rvm_dev_t *d, uint64_t off, void *buf, uint32_t len)
{
	(void)d, (void)off, (void)buf, (void)len;
	return -1;
}

static rvm_dev_t *
bad_open(const char *name)
{
	rvm_dev_t *d = rvm_dev_open(name, 0);
	if (d && !strcmp(name, LOG)) {
		file_read = d->read;
		d->read = read_fails;
	}
	return d;
}

static void
test_unreadable_refused(void)
{
	rt_image_t img;
	if (!CHECK(with_commits(1)))
		return;
	rt_save(&img, files, 2);
	rvm_options_t o = opts();
	o.open_dev = bad_open;
	CHECK(rvm_open_log("test", &o, 0, NULL) == RVM_EIO && unchanged(&img));
	CHECK(file_read != NULL);
	rt_image_free(&img);
}

/* The log device fails to open once, then opens: rvm_initialize's
 * RVM_ELOG must not get an existing log formatted. */
static int fails_left;

static rvm_dev_t *
flaky_open(const char *name)
{
	if (!strcmp(name, LOG) && fails_left > 0) {
		fails_left--;
		return NULL;
	}
	return rvm_dev_open(name, 0);
}

static void
test_flaky_open_not_formatted(void)
{
	rt_image_t img;
	if (!CHECK(with_commits(1)))
		return;
	rt_save(&img, files, 2);
	rvm_options_t o = opts();
	o.open_dev = flaky_open;
	fails_left = 1;
	rvm_return_t r = rvm_open_log("test", &o, 0, NULL);
	CHECK(r == RVM_ECORRUPT && unchanged(&img));
	if (r == RVM_SUCCESS)
		rvm_terminate();
	rt_image_free(&img);
}

static void
test_vista_header(void)
{
	rvm_options_t o = { .log_dev = PM, .flags = RVM_VISTA }, q;
	rt_file(PM, 2 * UNDO_LEN);
	CHECK(rvm_open_log("test", &o, UNDO_LEN, NULL) == RVM_SUCCESS);
	CHECK(rvm_query(&q, NULL) == 0 && q.log_size < UNDO_LEN &&
	      q.log_size > UNDO_LEN - 1024);
	CHECK(rvm_terminate() == RVM_SUCCESS);
	CHECK(rt_poke(PM, 0, "\x13", 1) == 0); /* the magic */
	CHECK(rvm_open_log("test", &o, UNDO_LEN, NULL) == RVM_ECORRUPT &&
	      o.damage.kind == RVM_DAMAGE_STATUS);
	CHECK(rvm_open_log("test", &o, UNDO_LEN, PM) == RVM_SUCCESS);
	CHECK(rvm_terminate() == RVM_SUCCESS);
	uint32_t v = 9;
	CHECK(rt_poke(PM, 4, &v, 4) == 0);
	CHECK(rvm_open_log("test", &o, UNDO_LEN, NULL) == RVM_ECORRUPT &&
	      o.damage.kind == RVM_DAMAGE_VERSION);
}

int
main(void)
{
	rt_scratch();
	RUN(test_new_device_created);
	RUN(test_damaged_status_refused);
	RUN(test_damaged_record_refused);
	RUN(test_one_status_copy_damaged);
	RUN(test_intact_log_not_formatted);
	RUN(test_unreadable_refused);
	RUN(test_flaky_open_not_formatted);
	RUN(test_vista_header);
	return check_summary();
}
