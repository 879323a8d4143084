/*
 * In-guest tests of the disk server (qs/disk.h) and the guest's RVM
 * devices (rvm_dev_open). With no arguments: regions and their layout,
 * patterns written and read back, isolation of neighbouring regions, every
 * kind of bad request, the statistics, and a disk region as an RVM device.
 * It writes region "spare"; of the other regions only those whose server
 * is not running (see region_free), one sector at each end, put back after.
 *
 *   disktest fill REGION SEED     writes a pattern on FILL_SECTORS sectors
 *   disktest verify REGION SEED   checks it (after a killed QEMU, say)
 *   disktest garbage N SEED       N random requests, then is the server well?
 *   disktest pmem                 the persistent memory as an RVM device
 *   disktest pmemfill SEED | pmemverify SEED
 *
 * The pmem modes need grants that only init gives, so `disktest pmemd`,
 * started by init (test.conf), does that work for them: it serves queue
 * PMEM_QUEUE and prints the check lines, and the program run from the shell
 * prints the closing line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/disk.h>
#include <qs/rvm.h>
#include <qs/sq.h>
#include <qs/sys.h>
#define CHECK_PREFIX "disktest: "
#include "check.h"

#define SPARE "spare"
#define FILL_SECTORS 384
#define PMEM_QUEUE "disktest.pmem"
/* disktest writes only the last 2 MiB of the persistent memory, away from
 * the file server's data at its start: the checks the first, pmemfill the
 * second. */
#define PMEM_FILL_LEN (1u << 20)
#define PMEM_AREA (2 * PMEM_FILL_LEN)

enum { PMEM_CHECK = 1, PMEM_FILL = 2, PMEM_VERIFY = 3 };
typedef struct {
	int32_t passed, failed;
} pmem_result_t;

static uint8_t buf[DISK_IO_MAX * DISK_SECTOR], back[DISK_IO_MAX * DISK_SECTOR];
static qs_msg_t req;
static union {
	qs_msg_t msg;
	uint8_t room[QS_MSG_BUF_SIZE];
} reply;

/* ---- patterns ---------------------------------------------------------- */

/* A word of the pattern `seed` at byte `off` of a device: every word differs. */
static uint32_t
pattern_word(uint32_t seed, uint64_t off)
{
	uint32_t x = seed * 0x9E3779B1u ^ (uint32_t)(off >> 2) * 0x85EBCA77u;
	x ^= x >> 15;
	x *= 0x2C1B3C6Du;
	x ^= x >> 12;
	return x;
}

/* Fills `len` bytes of p with the pattern as at byte `off` of a device. */
static void
pattern(void *p, uint32_t seed, uint64_t off, uint32_t len)
{
	uint32_t *w = p;
	for (uint32_t i = 0; i < len / 4; i++)
		w[i] = pattern_word(seed, off + 4 * (uint64_t)i);
}

/* Does p hold the pattern? Its first wrong byte offset, or -1. */
static int64_t
pattern_diff(const void *p, uint32_t seed, uint64_t off, uint32_t len)
{
	const uint32_t *w = p;
	for (uint32_t i = 0; i < len / 4; i++)
		if (w[i] != pattern_word(seed, off + 4 * (uint64_t)i))
			return (int64_t)(off + 4 * (uint64_t)i);
	return -1;
}

static uint64_t
sector_off(uint32_t lba)
{
	return (uint64_t)lba * DISK_SECTOR;
}

/* Writes the pattern on sectors [lba, lba+n) and reads it back. */
static int
write_read(const disk_region_t *r, uint32_t seed, uint32_t lba, uint32_t n)
{
	pattern(buf, seed, sector_off(lba), n * DISK_SECTOR);
	memset(back, 0, sizeof(back));
	return disk_write(r, lba, buf, n) == 0 && disk_read(r, lba, back, n) == 0 &&
	       pattern_diff(back, seed, sector_off(lba), n * DISK_SECTOR) < 0;
}

/* ---- the disk server -------------------------------------------------- */

static int raw_refused; /* raw requests the server refused */

static int
raw(uint32_t op, const void *data, size_t len, const void *ool, size_t ool_len)
{
	qs_msg_init(&req, op);
	qs_msg_put(&req, data, len);
	qs_msg_set_ool(&req, ool, ool_len);
	int r = qs_call(qs_sq_lookup(DISK_QUEUE), &req, &reply.msg, sizeof(reply));
	raw_refused += r < 0;
	return r;
}

static disk_stats_t
stats(void)
{
	disk_stats_t s;
	memset(&s, 0, sizeof(s));
	disk_stats(&s);
	return s;
}

/* Is region i one disktest may use: owned by "+admin" (run -r admin)? */
static int
ours(const disk_stats_t *s, uint32_t i)
{
	return strcmp(s->region[i].owner, "+admin") == 0;
}

/* The regions are laid out as the server lists them; ours open, with
 * their size; the others' are refused, by name and by a guessed handle. */
static void
test_regions(const disk_stats_t *s)
{
	int ok = s->regions >= 2 && s->regions <= DISK_REGIONS_MAX &&
		 s->region[0].start == 1;
	int opened = 0, refused = 0;
	for (uint32_t i = 0; ok && i < s->regions; i++) {
		disk_region_t r, guess = { i, 1 };
		uint32_t end = s->region[i].start + s->region[i].sectors;
		ok = end <= s->disk_sectors &&
		     (i + 1 == s->regions || s->region[i + 1].start == end);
		if (ours(s, i)) {
			ok &= disk_open(s->region[i].name, &r) == 0 &&
			      r.region == i && r.sectors == s->region[i].sectors;
			opened++;
		} else {
			ok &= disk_open(s->region[i].name, &r) == QS_EPERM &&
			      disk_read(&guess, 0, buf, 1) == QS_EPERM &&
			      disk_write(&guess, 0, buf, 1) == QS_EPERM &&
			      disk_flush(&guess) == QS_EPERM;
			refused++;
		}
	}
	check(ok && opened > 0, "the regions are laid out from sector 1, one "
	      "after another, and ours open");
	check(ok && refused > 0, "another server's region is refused: QS_EPERM "
	      "by name and by handle");
	disk_region_t r;
	check(disk_open("nosuch", &r) == QS_ENOENT, "an unknown region name");
}

static void
test_patterns(const disk_region_t *spare)
{
	check(write_read(spare, 1, 0, 1), "one sector written and read back");
	check(write_read(spare, 2, 1, DISK_IO_MAX),
	      "DISK_IO_MAX sectors written and read back");
	check(write_read(spare, 3, spare->sectors - 1, 1),
	      "the region's last sector written and read back");
	check(write_read(spare, 4, spare->sectors - DISK_IO_MAX, DISK_IO_MAX),
	      "DISK_IO_MAX sectors up to the region's end");
	check(disk_read(spare, 0, back, 1) == 0 &&
		      pattern_diff(back, 1, 0, DISK_SECTOR) < 0,
	      "a sector keeps its data when its neighbours are written");
}

/* Writes sector `lba` of region a with a pattern and checks that sector
 * `other` of region b did not change; puts a's sector back. */
static int
isolated(const disk_region_t *a, uint32_t lba, const disk_region_t *b,
	 uint32_t other)
{
	static uint8_t saved[DISK_SECTOR], before[DISK_SECTOR], after[DISK_SECTOR];
	if (disk_read(a, lba, saved, 1) < 0 || disk_read(b, other, before, 1) < 0)
		return 0;
	int ok = write_read(a, 6 + lba, lba, 1) &&
		 disk_read(b, other, after, 1) == 0 &&
		 memcmp(before, after, DISK_SECTOR) == 0;
	return disk_write(a, lba, saved, 1) == 0 && ok;
}

/*
 * May disktest write this region? A region is named OWNER.USE after the
 * queue of the server that keeps its data there (tm.log: the TM); while
 * that server runs, even a sector put back at once could undo its write.
 */
static int
region_free(const char *name)
{
	char owner[DISK_NAME_MAX];
	const char *dot = strchr(name, '.');
	size_t n = dot ? (size_t)(dot - name) : strlen(name);
	memcpy(owner, name, n);
	owner[n] = 0;
	return qs_sq_lookup(owner) < 0;
}

/* Each boundary both ways: its last sector written, the next region's
 * first unchanged, and the other way round; a live region is not written. */
static void
test_isolation(const disk_stats_t *s)
{
	int ok = 1, forward = 0, back = 0;
	for (uint32_t i = 0; i + 1 < s->regions; i++) {
		disk_region_t a, b;
		if (!ours(s, i) || !ours(s, i + 1))
			continue; /* another server's: disktest may not look */
		if (disk_open(s->region[i].name, &a) < 0 ||
		    disk_open(s->region[i + 1].name, &b) < 0) {
			ok = 0;
			continue;
		}
		if (region_free(s->region[i].name) && ++forward)
			ok &= isolated(&a, a.sectors - 1, &b, 0);
		if (region_free(s->region[i + 1].name) && ++back)
			ok &= isolated(&b, 0, &a, a.sectors - 1);
	}
	printf("disktest: %d boundaries checked forward, %d backward (regions "
	       "in use are not written)\n", forward, back);
	check(ok && forward > 0 && back > 0,
	      "a region's last sector and the next one's first are apart");
}

/* Bad handles, ranges and counts, through the library. */
static void
test_bad_io(const disk_region_t *spare)
{
	disk_region_t bad = { DISK_REGIONS_MAX, 8 };
	uint32_t n = spare->sectors;
	check(disk_read(&bad, 0, buf, 1) == QS_EBADF &&
		      disk_write(&bad, 0, buf, 1) == QS_EBADF &&
		      disk_flush(&bad) == QS_EBADF,
	      "a bad region handle");
	check(disk_read(spare, n, buf, 1) == QS_EINVAL &&
		      disk_write(spare, 0xFFFFFFFFu, buf, 1) == QS_EINVAL,
	      "a sector beyond the region");
	/* a handle that claims more sectors than the region has */
	disk_region_t big = { spare->region, n + 1 };
	static uint8_t last[DISK_SECTOR];
	pattern(buf, 7, 0, 2 * DISK_SECTOR);
	check(disk_read(spare, n - 1, last, 1) == 0 &&
		      disk_write(spare, n - 1, buf, 2) == QS_EINVAL &&
		      disk_write(&big, n, buf, 1) == QS_EINVAL &&
		      disk_read(spare, n - 1, back, 1) == 0 &&
		      memcmp(back, last, DISK_SECTOR) == 0,
	      "a write across the region's end is refused, and writes nothing");
	check(disk_read(spare, 0, buf, 0) == QS_EINVAL &&
		      disk_read(spare, 0, buf, DISK_IO_MAX + 1) == QS_E2BIG,
	      "the library refuses 0 and more than DISK_IO_MAX sectors");
}

/* Malformed requests, sent raw. */
static void
test_raw(const disk_region_t *spare)
{
	disk_io_t io = { spare->region, 0, 1 };
	uint8_t longer[sizeof(io) + 4] = { 0 };
	memcpy(longer, &io, sizeof(io));
	check(raw(DISK_OP_READ, &io, 4, NULL, 0) == QS_EINVAL &&
		      raw(DISK_OP_READ, longer, sizeof(longer), NULL, 0) == QS_EINVAL &&
		      raw(DISK_OP_READ, &io, sizeof(io), buf, DISK_SECTOR) == QS_EINVAL,
	      "a short, a long, and a READ with data");
	io.count = 0;
	int zero = raw(DISK_OP_READ, &io, sizeof(io), NULL, 0);
	io.count = DISK_IO_MAX + 1;
	int many = raw(DISK_OP_WRITE, &io, sizeof(io), buf, sizeof(buf));
	check(zero == QS_EINVAL && many == QS_E2BIG,
	      "the server refuses 0 and more than DISK_IO_MAX sectors");
	io.count = 2;
	check(raw(DISK_OP_WRITE, &io, sizeof(io), buf, DISK_SECTOR) == QS_EINVAL &&
		      raw(DISK_OP_WRITE, &io, sizeof(io), NULL, 0) == QS_EINVAL,
	      "a WRITE whose data is not its sectors");
	check(raw(0, NULL, 0, NULL, 0) == QS_ENOSYS &&
		      raw(99, &io, sizeof(io), NULL, 0) == QS_ENOSYS,
	      "unknown operations");
	char name[24];
	memset(name, 'x', sizeof(name));
	name[sizeof(name) - 1] = 0;
	check(raw(DISK_OP_OPEN, name, sizeof(name), NULL, 0) == QS_ENAMETOOLONG &&
		      raw(DISK_OP_OPEN, SPARE, strlen(SPARE), NULL, 0) == QS_EINVAL &&
		      raw(DISK_OP_OPEN, "", 1, NULL, 0) == QS_EINVAL &&
		      raw(DISK_OP_OPEN, SPARE "\0x", sizeof(SPARE) + 2, NULL, 0) == QS_EINVAL,
	      "bad names: too long, not terminated, empty, trailing bytes");
	uint16_t half = 0;
	check(raw(DISK_OP_FLUSH, &half, sizeof(half), NULL, 0) == QS_EINVAL &&
		      raw(DISK_OP_STATS, &half, sizeof(half), NULL, 0) == QS_EINVAL,
	      "a short FLUSH and a STATS with data");
}

/* The counters move by what was done; errors by every refused request. */
static void
test_stats(const disk_region_t *spare)
{
	disk_stats_t s0 = stats();
	test_raw(spare);
	test_bad_io(spare);
	int refused = raw_refused + 7; /* and test_bad_io's that reach the server */
	disk_stats_t s1 = stats();
	disk_write(spare, 0, buf, 3);
	disk_write(spare, 3, buf, 1);
	disk_read(spare, 0, back, 4);
	disk_flush(spare);
	disk_stats_t s2 = stats();
	check(s1.errors - s0.errors == (uint64_t)refused && s2.errors == s1.errors,
	      "stats: every refused request is an error, and only those");
	check(s2.writes - s1.writes >= 2 && s2.sectors_written - s1.sectors_written >= 4 &&
		      s2.reads - s1.reads >= 1 && s2.sectors_read - s1.sectors_read >= 4 &&
		      s2.flushes - s1.flushes >= 1 &&
		      s2.region[spare->region].writes - s1.region[spare->region].writes == 2,
	      "stats: requests, sectors and the region's writes counted");
	check(s2.disk_sectors == s0.disk_sectors && s2.regions == s0.regions,
	      "the server still serves");
}

/* A disk region as an RVM device: cut into requests, checked ranges. */
static void
test_rvm_dev(const disk_region_t *spare)
{
	static uint8_t big[300 * DISK_SECTOR], got[300 * DISK_SECTOR];
	rvm_dev_t *d = rvm_dev_open(SPARE, 0);
	check(d && !d->mem && d->size == sector_off(spare->sectors),
	      "rvm_dev_open(spare): a device of the region's size, no memory");
	if (!d)
		return;
	uint64_t off = sector_off(5);
	pattern(big, 8, off, sizeof(big));
	check(d->write(d, off, big, sizeof(big)) == 0 &&
		      d->read(d, off, got, sizeof(got)) == 0 &&
		      memcmp(big, got, sizeof(big)) == 0 && d->sync(d) == 0,
	      "rvm_dev: 300 sectors written, read back (three requests), synced");
	check(d->read(d, off + 1, got, DISK_SECTOR) < 0 &&
		      d->read(d, off, got, 100) < 0 &&
		      d->write(d, d->size - DISK_SECTOR, big, 2 * DISK_SECTOR) < 0 &&
		      d->read(d, d->size, got, DISK_SECTOR) < 0,
	      "rvm_dev: unaligned and out-of-range requests fail");
	d->close(d);
	check(rvm_dev_open("nosuch", 0) == NULL, "rvm_dev_open of an unknown region");
}

static int
all(void)
{
	disk_stats_t s = stats();
	disk_region_t spare;
	check(s.disk_sectors > 0 && disk_open(SPARE, &spare) == 0,
	      "the disk server answers; region " SPARE " opens");
	if (check_failed)
		return check_summary("disktest");
	test_regions(&s);
	test_patterns(&spare);
	test_isolation(&s);
	test_stats(&spare);
	test_rvm_dev(&spare);
	return check_summary("disktest");
}

/* disktest fill|verify REGION SEED */
static int
fill_verify(int fill, const char *name, uint32_t seed)
{
	disk_region_t r;
	int ok = disk_open(name, &r) == 0 && r.sectors >= FILL_SECTORS;
	for (uint32_t lba = 0; ok && lba < FILL_SECTORS; lba += DISK_IO_MAX) {
		uint32_t len = DISK_IO_MAX * DISK_SECTOR;
		if (fill) {
			pattern(buf, seed, sector_off(lba), len);
			ok = disk_write(&r, lba, buf, DISK_IO_MAX) == 0;
		} else {
			ok = disk_read(&r, lba, buf, DISK_IO_MAX) == 0 &&
			     pattern_diff(buf, seed, sector_off(lba), len) < 0;
		}
	}
	if (fill)
		ok = ok && disk_flush(&r) == 0;
	printf("disktest: %s %s, %d sectors, seed %u\n", fill ? "fill" : "verify",
	       name, FILL_SECTORS, seed);
	check(ok, fill ? "pattern written and flushed" : "pattern found");
	return check_summary("disktest");
}

static uint32_t
rnd(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/*
 * One random request: any opcode, up to 40 bytes of random words, maybe
 * out-of-line bytes. A READ, WRITE or FLUSH names region spare, with a
 * sector and count near its range, is often of the right length, and a
 * WRITE often carries its count's worth of data: so some requests are
 * valid, and any write lands in spare.
 */
static void
garbage_one(const disk_region_t *spare, uint32_t *x)
{
	uint32_t op = rnd(x) % 7, len = rnd(x) % 41, w[10];
	for (int i = 0; i < 10; i++)
		w[i] = rnd(x);
	if (op == DISK_OP_READ || op == DISK_OP_WRITE || op == DISK_OP_FLUSH) {
		w[0] = spare->region;
		w[1] = rnd(x) % (spare->sectors + 8);
		w[2] = rnd(x) % (DISK_IO_MAX + 8);
		if (rnd(x) % 2)
			len = op == DISK_OP_FLUSH ? sizeof(w[0]) : sizeof(disk_io_t);
	}
	uint32_t ool = rnd(x) % 3 ? 0 : rnd(x) % sizeof(buf);
	if (op == DISK_OP_WRITE && rnd(x) % 2 && w[2] <= DISK_IO_MAX)
		ool = w[2] * DISK_SECTOR;
	raw(op, w, len, buf, ool);
}

/* disktest garbage N SEED */
static int
garbage(uint32_t n, uint32_t seed)
{
	disk_region_t spare;
	uint32_t x = seed | 1;
	disk_stats_t s0 = stats();
	check(disk_open(SPARE, &spare) == 0, "region " SPARE " opens");
	if (check_failed)
		return check_summary("disktest");
	for (uint32_t i = 0; i < n; i++)
		garbage_one(&spare, &x);
	disk_stats_t s1 = stats();
	printf("disktest: %u random requests, %d refused\n", n, raw_refused);
	check(raw_refused > 0 && s1.errors - s0.errors == (uint64_t)raw_refused,
	      "the server counted every refused request");
	check(write_read(&spare, seed, 0, DISK_IO_MAX),
	      "and still reads and writes");
	return check_summary("disktest");
}

/* ---- persistent memory (in disktest pmemd) ------------------------------ */

static void
pmem_check(void)
{
	rvm_dev_t *d = rvm_dev_open("pmem", 1), *d2 = rvm_dev_open("pmem", 1);
	printf("disktest: pmem is %u MiB\n", d ? (uint32_t)(d->size >> 20) : 0);
	check(d && d->mem && d->size >= (8u << 20) && d->size % RVM_SECTOR == 0,
	      "rvm_dev_open(pmem): persistent memory, mapped");
	if (!d || !d2)
		return;
	check(d2->mem == d->mem && d2->size == d->size,
	      "a second open shares the mapping");
	uint64_t off = d->size - PMEM_AREA;
	uint8_t *m = (uint8_t *)d->mem + off;
	pattern(m, 9, off, sizeof(buf));
	check(d->read(d, off, back, sizeof(back)) == 0 &&
		      pattern_diff(back, 9, off, sizeof(back)) < 0,
	      "pmem: stored through mem, read back through read");
	pattern(buf, 10, off, sizeof(buf));
	check(d->write(d, off, buf, sizeof(buf)) == 0 &&
		      memcmp(m, buf, sizeof(buf)) == 0 && d->sync(d) == 0,
	      "pmem: written through write, seen in mem; sync");
	check(d->read(d, d->size, back, DISK_SECTOR) < 0 &&
		      d->write(d, off + 2, buf, DISK_SECTOR) < 0 &&
		      d->read(d, off, back, 3) < 0,
	      "pmem: unaligned and out-of-range requests fail");
	d2->close(d2);
	d->close(d);
}

static void
pmem_fill_verify(int fill, uint32_t seed)
{
	rvm_dev_t *d = rvm_dev_open("pmem", 1);
	int ok = d && d->size >= PMEM_AREA;
	uint64_t at = ok ? d->size - PMEM_FILL_LEN : 0;
	if (ok && fill)
		pattern((uint8_t *)d->mem + at, seed, at, PMEM_FILL_LEN);
	for (uint32_t o = 0; ok && !fill && o < PMEM_FILL_LEN; o += sizeof(buf))
		ok = d->read(d, at + o, buf, sizeof(buf)) == 0 &&
		     pattern_diff(buf, seed, at + o, sizeof(buf)) < 0;
	printf("disktest: pmem%s %u MiB at %u MiB, seed %u\n",
	       fill ? "fill" : "verify", PMEM_FILL_LEN >> 20, (uint32_t)(at >> 20),
	       seed);
	check(ok, fill ? "pmem pattern stored" : "pmem pattern found");
	if (d)
		d->close(d);
}

static int32_t
pmem_handle(const qs_msg_t *rq, qs_msg_t *rp, void *ctx)
{
	const uint32_t *seed = QS_MSG_AS(rq, uint32_t);
	(void)ctx;
	check_passed = check_failed = 0;
	if (rq->hdr.opcode == PMEM_CHECK)
		pmem_check();
	else if (seed && (rq->hdr.opcode == PMEM_FILL || rq->hdr.opcode == PMEM_VERIFY))
		pmem_fill_verify(rq->hdr.opcode == PMEM_FILL, *seed);
	else
		return QS_EINVAL;
	pmem_result_t res = { check_passed, check_failed };
	qs_msg_put(rp, &res, sizeof(res));
	return 0;
}

static int
pmem_serve(void)
{
	rvm_dev_t *d = rvm_dev_open("pmem", 1);
	if (!d)
		return 1; /* rvm_dev_open said why */
	printf("disktest: pmemd: %u MiB of persistent memory\n",
	       (uint32_t)(d->size >> 20));
	d->close(d);
	int qid = qs_sq_create(PMEM_QUEUE, 0);
	if (qid < 0) {
		printf("disktest: pmemd: cannot create %s: %s\n", PMEM_QUEUE,
		       qs_strerror(qid));
		return 1;
	}
	return qs_serve(qid, pmem_handle, NULL, 1) < 0;
}

/* disktest pmem|pmemfill|pmemverify: asks pmemd, prints its verdict. */
static int
pmem_ask(uint32_t op, uint32_t seed)
{
	int r = qs_sq_lookup(PMEM_QUEUE);
	if (r >= 0) {
		qs_msg_init(&req, op);
		qs_msg_put(&req, &seed, sizeof(seed));
		r = qs_call(r, &req, &reply.msg, sizeof(reply));
	}
	const pmem_result_t *res = QS_MSG_AS(&reply.msg, pmem_result_t);
	check(r == 0 && res, "disktest pmemd (started by init) answers");
	if (r == 0 && res) {
		check_passed += res->passed;
		check_failed += res->failed;
	}
	return check_summary("disktest");
}

static int
usage(void)
{
	printf("usage: disktest [fill|verify REGION SEED | garbage N SEED | pmem |"
	       " pmemfill SEED | pmemverify SEED | pmemd]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	long seed = 0;
	const char *mode = argc > 1 ? argv[1] : "";
	const char *num = argc > 2 ? argv[argc - 1] : "x";
	int has_seed = qs_parse_int(num, &seed) == 0;

	if (argc == 1)
		return all();
	if (argc == 4 && has_seed && (!strcmp(mode, "fill") || !strcmp(mode, "verify")))
		return fill_verify(!strcmp(mode, "fill"), argv[2], (uint32_t)seed);
	long n = 0;
	if (argc == 4 && has_seed && !strcmp(mode, "garbage") &&
	    qs_parse_int(argv[2], &n) == 0 && n > 0)
		return garbage((uint32_t)n, (uint32_t)seed);
	if (argc == 2 && !strcmp(mode, "pmemd"))
		return pmem_serve();
	if (argc == 2 && !strcmp(mode, "pmem"))
		return pmem_ask(PMEM_CHECK, 0);
	if (argc == 3 && has_seed && !strcmp(mode, "pmemfill"))
		return pmem_ask(PMEM_FILL, (uint32_t)seed);
	if (argc == 3 && has_seed && !strcmp(mode, "pmemverify"))
		return pmem_ask(PMEM_VERIFY, (uint32_t)seed);
	return usage();
}
