/*
 * disk, the disk server: the primary IDE master, cut into the named regions
 * its arguments list, served on queue "disk" (the protocol of qs/disk.h).
 *
 * One offering thread serves every request, one at a time: the device
 * takes one command at a time anyway, and so the read buffer and the
 * statistics (which also hold the region table) need no lock. Every request
 * is checked in full before the device is touched, so no request can reach
 * a sector outside its region, nor sector 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/disk.h>
#include <qs/serve.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include "ata.h"

static disk_stats_t stats;
/* A READ's data: the kernel copies it out of here after the handler has
 * returned, before this (only) thread can take the next request. */
static uint8_t read_buf[DISK_IO_MAX * DISK_SECTOR];

static uint32_t node; /* this node: no region is reachable from another */

/* Fits "NAME=SECTORS:OWNER" or "NAME=*:OWNER" (the rest; last only) after
 * the others. */
static int
add_region(const char *arg, int last, uint32_t *next, uint32_t disk)
{
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : 0;
	long size = 0;
	char sz[16];
	const char *colon = eq ? strchr(eq, ':') : NULL;
	size_t szlen = colon ? (size_t)(colon - eq - 1) : 0;
	uint32_t right;

	if (n == 0 || n >= DISK_NAME_MAX || !colon || szlen >= sizeof(sz) ||
	    strlen(colon + 1) == 0 || strlen(colon + 1) >= DISK_NAME_MAX ||
	    (colon[1] == '+' && qs_right_parse(colon + 2, &right) < 0)) {
		printf("disk: bad region '%s': NAME=SECTORS:OWNER, NAME of 1 to "
		       "%d characters, OWNER a reserved queue name or +RIGHT\n",
		       arg, DISK_NAME_MAX - 1);
		return QS_EINVAL;
	}
	memcpy(sz, eq + 1, szlen);
	sz[szlen] = 0;
	if (strcmp(sz, "*") == 0 && last) {
		size = (long)(disk - *next);
	} else if (qs_parse_int(sz, &size) < 0 || size <= 0) {
		printf("disk: bad size in '%s': a number of sectors, or * for "
		       "the rest of the disk in the last region\n", arg);
		return QS_EINVAL;
	}
	if (size <= 0 || (uint32_t)size > disk - *next) {
		printf("disk: region '%s' does not fit: %u of the disk's %u "
		       "sectors are left\n", arg, disk - *next, disk);
		return QS_ENOSPC;
	}
	for (uint32_t i = 0; i < stats.regions; i++) {
		if (strncmp(stats.region[i].name, arg, n) == 0 &&
		    stats.region[i].name[n] == 0) {
			printf("disk: region name '%.*s' given twice\n", (int)n, arg);
			return QS_EEXIST;
		}
	}
	memcpy(stats.region[stats.regions].name, arg, n);
	strlcpy(stats.region[stats.regions].owner, colon + 1, DISK_NAME_MAX);
	stats.region[stats.regions].start = *next;
	stats.region[stats.regions++].sectors = (uint32_t)size;
	*next += (uint32_t)size;
	return 0;
}

/* Lays the regions out from sector 1 on; sector 0 is left alone. */
static int
add_regions(int argc, char **argv, uint32_t disk)
{
	uint32_t next = 1;
	if (argc < 2 || argc - 1 > DISK_REGIONS_MAX) {
		printf("disk: usage: disk NAME=SECTORS:OWNER... [NAME=*:OWNER] "
		       "(1 to %d regions)\n", DISK_REGIONS_MAX);
		return QS_EINVAL;
	}
	for (int i = 1; i < argc; i++) {
		int r = add_region(argv[i], i == argc - 1, &next, disk);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- the table's steps: decode checks all, before the device is touched */

/*
 * May the caller use region i? A caller on this node that is the process
 * its owner's name is reserved for (init's config), or that holds the
 * right "+RIGHT" names. The kernel stamped who the caller is.
 */
static int32_t
may_use(const qs_msg_t *req, uint32_t i)
{
	const char *owner = stats.region[i].owner;
	uint32_t need;
	if (req->hdr.src_node != node)
		return QS_EPERM;
	if (owner[0] == '+')
		return qs_right_parse(owner + 1, &need) == 0 &&
				       (req->hdr.src_rights & need) == need
			       ? 0
			       : QS_EPERM;
	int holder = qs_name_holder(owner);
	return holder > 0 && holder == req->hdr.src_pid ? 0 : QS_EPERM;
}

/* A name of 1 to DISK_NAME_MAX - 1 characters, its NUL, nothing after. */
static int32_t
decode_open(const qs_msg_t *req, void *args)
{
	size_t n = strnlen((const char *)req->data, req->hdr.len);
	if (n >= DISK_NAME_MAX)
		return QS_ENAMETOOLONG;
	if (n == 0 || n + 1 != req->hdr.len)
		return QS_EINVAL; /* empty, not terminated, or more after it */
	memcpy(args, req->data, n + 1);
	return 0;
}

static int32_t
op_open(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)ctx;
	for (uint32_t i = 0; i < stats.regions; i++) {
		if (strcmp(stats.region[i].name, args) == 0) {
			disk_region_t r = { i, stats.region[i].sectors };
			int32_t err = may_use(req, i);
			if (err < 0)
				return err;
			qs_msg_put(reply, &r, sizeof(r));
			return 0;
		}
	}
	return QS_ENOENT;
}

/* The disk_io_t of a READ or WRITE, checked against its region; a WRITE's
 * out-of-line data must be exactly its sectors (a READ has none: the
 * table says so). */
static int32_t
decode_io(const qs_msg_t *req, void *args)
{
	disk_io_t *io = args;
	memcpy(io, req->data, sizeof(*io));
	if (io->region >= stats.regions)
		return QS_EBADF;
	if (may_use(req, io->region) < 0)
		return QS_EPERM;
	if (io->count == 0)
		return QS_EINVAL;
	if (io->count > DISK_IO_MAX)
		return QS_E2BIG;
	uint32_t sectors = stats.region[io->region].sectors;
	if (io->lba >= sectors || io->count > sectors - io->lba)
		return QS_EINVAL;
	uint32_t data = req->hdr.opcode == DISK_OP_WRITE ? io->count * DISK_SECTOR : 0;
	return req->hdr.ool_len == data ? 0 : QS_EINVAL;
}

static int32_t
op_read(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)ctx;
	const disk_io_t *io = args;
	int r = ata_read(stats.region[io->region].start + io->lba, io->count,
			 read_buf);
	if (r < 0)
		return r;
	qs_msg_set_ool(reply, read_buf, io->count * DISK_SECTOR);
	stats.reads++;
	stats.sectors_read += io->count;
	return 0;
}

static int32_t
op_write(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)reply, (void)ctx;
	const disk_io_t *io = args;
	int r = ata_write(stats.region[io->region].start + io->lba, io->count,
			  (const void *)req->hdr.ool);
	if (r < 0)
		return r;
	stats.writes++;
	stats.sectors_written += io->count;
	stats.region[io->region].writes++;
	return 0;
}

static int32_t
decode_flush(const qs_msg_t *req, void *args)
{
	memcpy(args, req->data, sizeof(uint32_t));
	uint32_t region = *(const uint32_t *)args;
	if (region >= stats.regions)
		return QS_EBADF;
	return may_use(req, region);
}

/* The disk has one write cache, so a flush covers every region. */
static int32_t
op_flush(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)args, (void)reply, (void)ctx;
	int r = ata_flush();
	if (r == 0)
		stats.flushes++;
	return r;
}

static int32_t
op_stats(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)args;
	stats.bad = qs_serve_refused(ctx);
	qs_msg_put(reply, &stats, sizeof(stats));
	return 0;
}

/* Longer names than DISK_NAME_MAX are QS_ENAMETOOLONG: decode_open's. */
static const qs_op_t ops[] = {
	[DISK_OP_OPEN] = { "open", 2, QS_MSG_INLINE, 0, decode_open, op_open },
	[DISK_OP_READ] = { "read", QS_LEN(disk_io_t), 0, decode_io, op_read },
	[DISK_OP_WRITE] = { "write", QS_LEN(disk_io_t), DISK_IO_MAX * DISK_SECTOR,
			    decode_io, op_write },
	[DISK_OP_FLUSH] = { "flush", QS_LEN(uint32_t), 0, decode_flush,
			    op_flush },
	[DISK_OP_STATS] = { "stats", 0, 0, 0, NULL, op_stats },
};
/* ctx: itself, for op_stats to read its counters */
static qs_server_t server = QS_SERVER("disk", ops, &server);

/* A request the table refused is counted among the errors too: they are
 * every refused request and every device error. */
static int32_t
handle(const qs_msg_t *req, qs_msg_t *reply, void *ctx)
{
	int32_t r = qs_dispatch(req, reply, ctx);
	if (r < 0)
		stats.errors++;
	return r;
}

static void
print_regions(void)
{
	printf("disk: regions");
	for (uint32_t i = 0; i < stats.regions; i++)
		printf(" %s=%u+%u:%s", stats.region[i].name, stats.region[i].start,
		       stats.region[i].sectors, stats.region[i].owner);
	printf(" (name=first+sectors:owner)\n");
}

int
main(int argc, char **argv)
{
	qs_node_info_t ni;
	qs_node_info(&ni);
	node = ni.node_id;
	if (ata_init(&stats.disk_sectors) < 0 ||
	    add_regions(argc, argv, stats.disk_sectors) < 0)
		return 1; /* they said why */
	print_regions();
	int qid = qs_sq_create(DISK_QUEUE, 0);
	if (qid < 0) {
		printf("disk: cannot create queue %s: %s\n", DISK_QUEUE,
		       qs_strerror(qid));
		return 1;
	}
	printf("disk: serving queue %s (qid %d)\n", DISK_QUEUE, qid);
	return qs_serve(qid, handle, &server, 1) < 0;
}
