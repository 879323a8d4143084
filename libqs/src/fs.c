/*
 * The file server's client side (qs/fs.h): one synchronous request per call,
 * under the calling thread's transaction. The queue is looked up on every
 * call, so a restarted file server is found again; the queue is FS_QUEUE
 * or the one fs_use_queue named.
 */
#include <stdlib.h>
#include <string.h>
#include <qs/fs.h>
#include <qs/sq.h>

static char queue[QS_NAME_MAX] = FS_QUEUE;

int
fs_use_queue(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n >= sizeof(queue))
		return QS_EINVAL;
	memcpy(queue, name, n + 1);
	return 0;
}

/* Sends op with `len` bytes of `data` (and `extra` after them) to the
 * queue fs_use_queue named; copies up to `cap` bytes of the answer's data
 * to `out` (qs_call_name). */
static int
fs_call(uint32_t op, const void *data, size_t len, const void *extra,
	size_t extra_len, void *out, size_t cap)
{
	if (!extra_len)
		return qs_call_name(queue, op, data, len, NULL, 0, out, cap);
	if (len + extra_len > QS_MSG_INLINE)
		return QS_E2BIG;
	uint8_t *both = malloc(len + extra_len);
	if (!both)
		return QS_ENOMEM;
	memcpy(both, data, len);
	memcpy(both + len, extra, extra_len);
	int r = qs_call_name(queue, op, both, len + extra_len, NULL, 0, out,
			     cap);
	free(both);
	return r;
}

static int
path_call(uint32_t op, const char *path, void *out, size_t cap)
{
	size_t n = strlen(path);
	if (n >= FS_PATH_MAX)
		return QS_ENAMETOOLONG;
	return fs_call(op, path, n + 1, NULL, 0, out, cap);
}

int
fs_open(const char *path, uint32_t flags)
{
	fs_open_t o = { .flags = flags };
	if (strlen(path) >= FS_PATH_MAX)
		return QS_ENAMETOOLONG;
	strcpy(o.path, path);
	return fs_call(FS_OP_OPEN, &o, sizeof(o), NULL, 0, NULL, 0);
}

int
fs_read(int handle, void *buf, uint32_t len)
{
	fs_io_t io = { (uint32_t)handle, len > FS_IO_MAX ? FS_IO_MAX : len };
	return fs_call(FS_OP_READ, &io, sizeof(io), NULL, 0, buf, io.len);
}

int
fs_write(int handle, const void *buf, uint32_t len)
{
	fs_io_t io = { (uint32_t)handle, len > FS_IO_MAX ? FS_IO_MAX : len };
	return fs_call(FS_OP_WRITE, &io, sizeof(io), buf, io.len, NULL, 0);
}

int
fs_seek(int handle, int32_t offset, uint32_t whence)
{
	fs_seek_t s = { (uint32_t)handle, offset, whence };
	return fs_call(FS_OP_SEEK, &s, sizeof(s), NULL, 0, NULL, 0);
}

int
fs_close(int handle)
{
	uint32_t h = (uint32_t)handle;
	return fs_call(FS_OP_CLOSE, &h, sizeof(h), NULL, 0, NULL, 0);
}

int
fs_put(const char *path, const char *text)
{
	int h = fs_open(path, FS_O_CREATE | FS_O_TRUNC);
	if (h < 0)
		return h;
	uint32_t len = (uint32_t)strlen(text), done = 0;
	int r = 0;
	while (r >= 0 && done < len) { /* FS_IO_MAX at a time */
		uint32_t n = len - done < FS_IO_MAX ? len - done : FS_IO_MAX;
		if ((r = fs_write(h, text + done, n)) > 0)
			done += (uint32_t)r;
		else if (r == 0)
			r = QS_ENOSPC; /* nothing written: no progress to make */
	}
	int c = fs_close(h);
	return r < 0 ? r : c < 0 ? c : 0;
}

int
fs_get(const char *path, char *buf, uint32_t cap)
{
	if (cap == 0)
		return QS_EINVAL;
	int h = fs_open(path, 0);
	if (h < 0)
		return h;
	uint32_t got = 0;
	int r = 1;
	while (r > 0 && got < cap - 1) { /* FS_IO_MAX at a time, to the end */
		uint32_t n = cap - 1 - got < FS_IO_MAX ? cap - 1 - got : FS_IO_MAX;
		if ((r = fs_read(h, buf + got, n)) > 0)
			got += (uint32_t)r;
	}
	fs_close(h);
	buf[got] = 0;
	return r < 0 ? r : (int)got;
}

int
fs_unlink(const char *path)
{
	return path_call(FS_OP_UNLINK, path, NULL, 0);
}

int
fs_mkdir(const char *path)
{
	return path_call(FS_OP_MKDIR, path, NULL, 0);
}

int
fs_readdir(const char *path, uint32_t first, fs_dirents_t *out)
{
	fs_readdir_t rd = { .first = first };
	if (strlen(path) >= FS_PATH_MAX)
		return QS_ENAMETOOLONG;
	strcpy(rd.path, path);
	memset(out, 0, sizeof(*out));
	return fs_call(FS_OP_READDIR, &rd, sizeof(rd), NULL, 0, out, sizeof(*out));
}

int
fs_stat(const char *path, fs_stat_t *out)
{
	return path_call(FS_OP_STAT, path, out, sizeof(*out));
}

int
fs_df(fs_df_t *out)
{
	return fs_call(FS_OP_DF, NULL, 0, NULL, 0, out, sizeof(*out));
}

int
fs_log(const char *wm_queue)
{
	size_t n = strlen(wm_queue);
	if (n >= QS_NAME_MAX)
		return QS_EINVAL;
	return fs_call(FS_OP_LOG, wm_queue, n + 1, NULL, 0, NULL, 0);
}
