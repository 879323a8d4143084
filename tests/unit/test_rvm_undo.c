/*
 * Vista mode: a corrupt undo log is refused at recovery (RVM_ECORRUPT),
 * never applied out of bounds. A crash leaves one open transaction with
 * three undo records; the first one's old bytes are themselves shaped
 * like an undo record that would copy far outside the device. Each case
 * corrupts one thing (a link, a length, an offset, a slot, a tid, the
 * end): recovery, in a child process so that a wild copy shows as a
 * crash, must refuse and leave the persistent memory as it was. Built
 * with AddressSanitizer, like every unit test.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "rvm_test.h"

#define PM "undo.pm"
#define UNDO_LEN (16 * 1024)
#define DATA (16 * 1024)
#define SIZE (UNDO_LEN + DATA)

/* The undo log's layout, as rvm_vista.c has it (checked below). */
typedef struct {
	uint32_t slot, tid;
	uint64_t off;
	uint32_t len, prev;
} urec_t;
#define HDR_END 16     /* offset of vista_hdr_t.end */
#define REC_START 536  /* ALIGN8(sizeof(vista_hdr_t)) */
#define R1 REC_START
#define R2 (R1 + sizeof(urec_t) + 64)
#define R3 (R2 + sizeof(urec_t) + 104)

static uint8_t img[SIZE];

static rvm_options_t
opts(void)
{
	rvm_options_t o = { .log_dev = PM, .flags = RVM_VISTA };
	return o;
}

static void
file_io(int write, uint8_t *buf)
{
	int fd = open(PM, write ? O_WRONLY : O_RDONLY);
	ssize_t n = fd < 0 ? -1
		  : write ? pwrite(fd, buf, SIZE, 0) : pread(fd, buf, SIZE, 0);
	CHECK(n == SIZE);
	if (fd >= 0)
		close(fd);
}

/* Begins a transaction with three ranges, stores new values, and crashes.
 * The old bytes of the first range hold a wild undo record. */
static int
child_crash(void *arg)
{
	(void)arg;
	rvm_options_t o = opts();
	rvm_region_t r = { .data_dev = PM, .offset = UNDO_LEN, .length = DATA };
	rvm_tid_t t;
	if (rvm_initialize(NULL, &o) || rvm_map(&r, NULL))
		return 2;
	uint8_t *d = r.vmaddr;
	urec_t wild = { .slot = 0, .tid = 1, .off = 1ull << 40, .len = 1 << 20,
			.prev = 0 };
	memcpy(d, &wild, sizeof(wild));
	if (rvm_begin_transaction(&t, RVM_RESTORE) ||
	    rvm_set_range(&t, d, 64) || rvm_set_range(&t, d + 1000, 100) ||
	    rvm_set_range(&t, d + 2000, 50))
		return 3;
	memset(d, 0xee, 64);
	memset(d + 1000, 0xee, 100);
	memset(d + 2000, 0xee, 50);
	return 0;
}

static urec_t
rec_at(uint32_t off)
{
	urec_t r;
	memcpy(&r, img + off, sizeof(r));
	return r;
}

/* The crash image, with the layout checked. */
static int
crashed_image(void)
{
	rvm_options_t o = opts();
	rt_file(PM, SIZE);
	if (rvm_create_log(&o, UNDO_LEN) || rt_child(child_crash, NULL) != 0)
		return 0;
	file_io(0, img);
	urec_t a = rec_at(R1), b = rec_at(R2), c = rec_at(R3);
	uint32_t end;
	memcpy(&end, img + HDR_END, 4);
	return a.slot == 0 && a.len == 64 && a.prev == 0 &&
	       a.off == UNDO_LEN && b.prev == R1 && b.len == 100 &&
	       c.prev == R2 && c.len == 50 && a.tid == b.tid &&
	       b.tid == c.tid && end == R3 + sizeof(urec_t) + 56;
}

static int
child_recover(void *arg)
{
	(void)arg;
	rvm_options_t o = opts();
	rvm_return_t r = rvm_initialize(NULL, &o);
	if (r == RVM_SUCCESS)
		rvm_terminate();
	return r;
}

typedef struct {
	const char *what;
	uint32_t off;   /* where to write */
	uint32_t field; /* which bytes of the record (or header) */
	uint64_t value;
	uint32_t size;
	uint32_t bad;   /* the offset the damage report names (0: header) */
} case_t;

static const case_t cases[] = {
	{ "link into old bytes", R3, 20, R1 + sizeof(urec_t), 4, R3 },
	{ "link into a header", R3, 20, R1 + 8, 4, R3 },
	{ "link forward", R2, 20, R3, 4, R2 },
	{ "link to itself", R2, 20, R2, 4, R2 },
	{ "link before the records", R2, 20, 8, 4, R2 },
	{ "link skipping a record", R3, 20, R1, 4, R3 },
	{ "huge length", R2, 16, 0x7fffffff, 4, R2 },
	{ "length past end", R3, 16, 64, 4, R3 },
	{ "offset in the undo area", R1, 8, 0, 8, R1 },
	{ "offset past the device", R1, 8, SIZE - 8, 8, R1 },
	{ "offset wrapping", R1, 8, ~0ull - 8, 8, R1 },
	{ "bad slot", R2, 0, 40, 4, R2 },
	{ "tid of another transaction", R1, 4, 77, 4, R2 },
	{ "tid 0", R1, 4, 0, 4, R1 },
	{ "end past the log", 0, HDR_END, UNDO_LEN + 8, 4, 0 },
	{ "end inside a record", 0, HDR_END, R3 + 8, 4, R3 },
};

static void
test_corrupt_undo_refused(void)
{
	uint8_t *now = malloc(SIZE);
	if (!CHECK(crashed_image()))
		return;
	int bad = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const case_t *c = &cases[i];
		uint8_t *bad_img = malloc(SIZE);
		memcpy(bad_img, img, SIZE);
		memcpy(bad_img + c->off + c->field, &c->value, c->size);
		file_io(1, bad_img);
		int r = rt_child(child_recover, NULL);
		file_io(0, now);
		if (r != RVM_ECORRUPT || memcmp(now, bad_img, SIZE)) {
			printf("%s: recovery gave %d, memory %s\n", c->what, r,
			       memcmp(now, bad_img, SIZE) ? "changed" : "kept");
			bad++;
		}
		free(bad_img);
	}
	CHECK(bad == 0);
	/* Uncorrupted, the same image recovers: the old values come back. */
	file_io(1, img);
	CHECK(rt_child(child_recover, NULL) == RVM_SUCCESS);
	file_io(0, now);
	CHECK(memcmp(now + UNDO_LEN, img + R1 + sizeof(urec_t), 64) == 0 &&
	      now[UNDO_LEN + 1000] == 0 && now[UNDO_LEN + 2000] == 0);
	free(now);
}

/* The report names the bad record (in process: the damage is checked
 * before anything is copied, so this is safe once the above passed). */
static void
test_corrupt_undo_reported(void)
{
	if (!CHECK(crashed_image()))
		return;
	int bad = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const case_t *c = &cases[i];
		rvm_options_t o = opts();
		file_io(1, img);
		int fd = open(PM, O_WRONLY);
		CHECK(pwrite(fd, &c->value, c->size, c->off + c->field) ==
		      (ssize_t)c->size);
		close(fd);
		rvm_return_t r = rvm_initialize(NULL, &o);
		uint32_t kind = c->bad ? RVM_DAMAGE_UNDO : RVM_DAMAGE_STATUS;
		if (r != RVM_ECORRUPT || o.damage.kind != kind ||
		    o.damage.pos != c->bad) {
			printf("%s: %d, kind %u at %llu\n", c->what, r,
			       o.damage.kind, (unsigned long long)o.damage.pos);
			bad++;
		}
		if (r == RVM_SUCCESS)
			rvm_terminate();
	}
	CHECK(bad == 0);
}

int
main(void)
{
	rt_scratch();
	RUN(test_corrupt_undo_refused);
	RUN(test_corrupt_undo_reported);
	return check_summary();
}
