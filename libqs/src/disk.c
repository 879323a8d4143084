/*
 * The disk server's client calls (qs/disk.h). The queue is looked up once
 * and its qid kept; it is forgotten when the server is gone. Every call is
 * idempotent (sectors written again are the same sectors), so one that the
 * server's death cut short (QS_ESRVDIED, QS_EQGONE), or that found its
 * queue gone (QS_ENOENT from the kernel), is sent again to the
 * server init starts in its place (servers/init), for up to
 * DISK_RESTART_MS after the death was seen (a hung server's may come only
 * after its keep-alive's time): a log manager's force or a file server's read goes on
 * across a disk server's restart. A WRITE sends the
 * caller's buffer out of line as it is; a READ's data arrives out of line
 * in the one receive buffer, which a mutex guards (the server takes one
 * request at a time in any case).
 */
#include <stdbool.h>
#include <string.h>
#include <qs/disk.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/thread.h>

#define DISK_RESTART_MS 30000
#define DISK_RETRY_MS 50

static qs_mutex_t lock = QS_MUTEX_INIT; /* the qid and the buffers */
static int qid = -1;
static int served; /* a server answered once: one missing now comes back */
static qs_msg_t req;
static union {
	qs_msg_t msg;
	uint8_t room[QS_MSG_BUF_SIZE];
} reply;

/* One request, once; locked. */
static int
call_once(uint32_t op, const void *data, size_t len, const void *ool,
	  size_t ool_len)
{
	if (qid < 0 && (qid = qs_sq_lookup(DISK_QUEUE)) < 0) {
		int err = qid;
		qid = -1;
		return err;
	}
	qs_msg_init(&req, op);
	int r = qs_msg_put(&req, data, len);
	if (r < 0)
		return r;
	qs_msg_set_ool(&req, ool, ool_len);
	r = qs_call(qid, &req, &reply.msg, sizeof(reply));
	if (r == QS_ENOENT && qs_sq_lookup(DISK_QUEUE) != qid)
		r = QS_EQGONE; /* the kept qid's server went before this call:
				  the kernel's "no such queue", not the
				  server's "no such region" */
	if (r == QS_EQGONE || r == QS_ESRVDIED)
		qid = -1;
	if (r == 0 && (reply.msg.hdr.flags & QS_MSG_TRUNC))
		r = QS_EIO; /* never: the buffer has room for any reply */
	if (r != QS_EQGONE && r != QS_ESRVDIED && r != QS_ENOENT)
		served = 1;
	return r;
}

/* One request with `len` inline and `ool_len` out-of-line bytes, again
 * while the server is dead or starting again; locked. Under the caller's
 * own default transaction: the device is shared, its I/O nobody's client
 * work, so a client's aborted transaction (orphans) cannot fail it. */
static int
call(uint32_t op, const void *data, size_t len, const void *ool, size_t ool_len)
{
	uint32_t since = 0; /* the server gone: since when (uptime ms) */
	bool seen = false;
	uint64_t was = qs_tx_get();
	qs_tx_set(0);
	for (;;) {
		int r = call_once(op, data, len, ool, ool_len);
		bool gone = r == QS_EQGONE || r == QS_ESRVDIED ||
			    (r == QS_ENOENT && qid < 0);
		if (gone && !seen) {
			seen = true;
			since = qs_uptime_ms();
		}
		if (!gone || !served ||
		    qs_uptime_ms() - since >= DISK_RESTART_MS) {
			qs_tx_set(was);
			return r;
		}
		qs_sleep(DISK_RETRY_MS);
	}
}

/* sectors of data a request may carry: the server says the same. */
static int
count_ok(uint32_t count)
{
	return count == 0 ? QS_EINVAL : count > DISK_IO_MAX ? QS_E2BIG : 0;
}

int
disk_open(const char *name, disk_region_t *out)
{
	size_t n = strnlen(name, DISK_NAME_MAX);
	if (n == DISK_NAME_MAX)
		return QS_ENAMETOOLONG;
	qs_mutex_lock(&lock);
	int r = call(DISK_OP_OPEN, name, n + 1, NULL, 0);
	const disk_region_t *reg = QS_MSG_AS(&reply.msg, disk_region_t);
	if (r == 0 && reg)
		*out = *reg;
	else if (r == 0)
		r = QS_EIO; /* a reply without the region */
	qs_mutex_unlock(&lock);
	return r;
}

int
disk_read(const disk_region_t *reg, uint32_t lba, void *buf, uint32_t count)
{
	disk_io_t io = { reg->region, lba, count };
	int r = count_ok(count);
	if (r < 0)
		return r;
	qs_mutex_lock(&lock);
	r = call(DISK_OP_READ, &io, sizeof(io), NULL, 0);
	if (r == 0 && reply.msg.hdr.ool_len != count * DISK_SECTOR)
		r = QS_EIO;
	if (r == 0)
		memcpy(buf, (const void *)reply.msg.hdr.ool, count * DISK_SECTOR);
	qs_mutex_unlock(&lock);
	return r;
}

int
disk_write(const disk_region_t *reg, uint32_t lba, const void *buf,
	   uint32_t count)
{
	disk_io_t io = { reg->region, lba, count };
	int r = count_ok(count);
	if (r < 0)
		return r;
	qs_mutex_lock(&lock);
	r = call(DISK_OP_WRITE, &io, sizeof(io), buf, count * DISK_SECTOR);
	qs_mutex_unlock(&lock);
	return r;
}

int
disk_flush(const disk_region_t *reg)
{
	qs_mutex_lock(&lock);
	int r = call(DISK_OP_FLUSH, &reg->region, sizeof(reg->region), NULL, 0);
	qs_mutex_unlock(&lock);
	return r;
}

int
disk_stats(disk_stats_t *out)
{
	qs_mutex_lock(&lock);
	int r = call(DISK_OP_STATS, NULL, 0, NULL, 0);
	const disk_stats_t *s = QS_MSG_AS(&reply.msg, disk_stats_t);
	if (r == 0 && s)
		*out = *s;
	else if (r == 0)
		r = QS_EIO;
	qs_mutex_unlock(&lock);
	return r;
}
