/*
 * The disk server's protocol (servers/disk): the primary IDE disk, cut into
 * named regions, served to the file server and the TM. The regions are the
 * disk server's arguments (`start disk log.node=10368:log
 * fs.seg=8192:fs spare=*:+admin`: sizes in sectors, `*` the rest), laid out in that
 * order from sector 1; sector 0 is left alone. A client opens a region by
 * name and addresses it from sector 0; the server checks every request
 * against the region's size. Sector data travels out of line (a WRITE's
 * request, a READ's answer). Every request may get QS_ENOSYS (no such
 * opcode) and QS_EINVAL (inline data of another size than its comment
 * says, or out-of-line data it does not take); the others are per
 * operation below. A refused request changes nothing; every one, and
 * every device error, counts in disk_stats_t.errors.
 * servers/disk/README.md has the details.
 */
#ifndef QS_DISK_H
#define QS_DISK_H

#include <stdint.h>

#define DISK_QUEUE "disk"
#define DISK_SECTOR 512
#define DISK_IO_MAX 128        /* sectors per request (64 KiB, out of line) */
#define DISK_REGIONS_MAX 8
#define DISK_NAME_MAX 16       /* region name, with its NUL */

enum {
	DISK_OP_OPEN = 1,  /* data: the region's name and its NUL, nothing
			      after -> disk_region_t; QS_ENAMETOOLONG (the name
			      has DISK_NAME_MAX characters or more), QS_EINVAL
			      (empty, or not just a string), QS_ENOENT (no
			      region of that name), QS_EPERM (the caller is
			      not the region's owner; READ, WRITE and FLUSH
			      say so too) */
	DISK_OP_READ = 2,  /* data: disk_io_t -> count sectors, out of line;
			      QS_EBADF (no such region), QS_EINVAL (count 0,
			      sectors outside the region), QS_E2BIG (count >
			      DISK_IO_MAX), QS_EIO (the device failed or timed
			      out) */
	DISK_OP_WRITE = 3, /* data: disk_io_t; out of line: count sectors -> 0;
			      as READ, and QS_EINVAL if the out-of-line data
			      is not count sectors */
	DISK_OP_FLUSH = 4, /* data: uint32_t region -> 0 once written data is
			      durable; QS_EBADF (no such region), QS_EIO */
	DISK_OP_STATS = 5, /* no data -> disk_stats_t */
};

typedef struct {
	uint32_t region;  /* handle for disk_io_t */
	uint32_t sectors; /* the region's size */
} disk_region_t;

typedef struct {
	uint32_t region;
	uint32_t lba;   /* sector in the region */
	uint32_t count; /* sectors, 1..DISK_IO_MAX */
} disk_io_t;

typedef struct {
	uint32_t disk_sectors; /* the whole disk */
	uint32_t regions;
	uint64_t reads, writes, flushes;   /* requests done */
	uint64_t sectors_read, sectors_written;
	uint64_t errors;                   /* rejected requests and device errors */
	uint64_t bad;  /* of those, refused before any work: no such opcode, a
			  wrong size, a malformed argument (qs/serve.h) */
	struct {
		char name[DISK_NAME_MAX];
		char owner[DISK_NAME_MAX]; /* who may use it: the process a
					      queue name is reserved for, or
					      "+RIGHT": any holding the right */
		uint32_t start, sectors;
		uint64_t writes; /* write requests to this region */
	} region[DISK_REGIONS_MAX];
} disk_stats_t;

/* Client side (libqs/src/disk.c): QS_OK or a QS_E* error. Calls do not
 * split: count is at most DISK_IO_MAX. */
int disk_open(const char *name, disk_region_t *out);
int disk_read(const disk_region_t *r, uint32_t lba, void *buf, uint32_t count);
int disk_write(const disk_region_t *r, uint32_t lba, const void *buf,
               uint32_t count);
int disk_flush(const disk_region_t *r);
int disk_stats(disk_stats_t *out);

#endif
