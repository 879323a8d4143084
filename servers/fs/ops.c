/*
 * The file server's requests: each runs under the sender's transaction
 * (hdr.txid), takes fs_lock for the store and the locks, and is noted in
 * the transaction's log window, if it has one, once its answer is known.
 */
#include <stdlib.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include "fs.h"

/* The inode a path names (the root for "/"), readable by tx. */
static int
resolve(uint64_t tx, const char *path, uint32_t *ino)
{
	uint32_t dir;
	char name[FS_NAME_MAX];
	int r = fs_walk(tx, path, &dir, name);
	if (r < 0)
		return r;
	if (!name[0]) {
		*ino = dir;
		return 0;
	}
	if ((r = fs_dir_find(dir, name, ino)) < 0)
		return r;
	return fs_lock_read(tx, *ino);
}

/* A request's path: NUL-terminated within FS_PATH_MAX. */
static const char *
req_path(const qs_msg_t *req, size_t off)
{
	if (req->hdr.len <= off)
		return NULL;
	size_t n = strnlen((const char *)req->data + off, req->hdr.len - off);
	if (n == req->hdr.len - off)
		return NULL;
	return (const char *)req->data + off;
}

static int32_t
do_open(uint64_t tx, const qs_msg_t *req)
{
	const fs_open_t *o = QS_MSG_AS(req, fs_open_t);
	if (!o || o->flags & ~(uint32_t)(FS_O_CREATE | FS_O_TRUNC | FS_O_EXCL))
		return QS_EINVAL;
	if (strnlen(o->path, FS_PATH_MAX) == FS_PATH_MAX)
		return QS_ENAMETOOLONG;
	/* A reader joins as recoverable too, not only as the volatile owner
	 * of its handle's breadcrumb: at prepare it votes read-only and the
	 * handle goes then, so a node that only read leaves the tree after
	 * phase one (a volatile participant would need phase two). */
	int r = fs_tx_join(tx);
	if (r < 0)
		return r;

	qs_mutex_lock(&fs_lock);
	uint32_t dir, ino = 0;
	char name[FS_NAME_MAX];
	fs_tx_t *t = NULL;
	r = fs_walk(tx, o->path, &dir, name);
	if (r == 0 && !name[0])
		r = QS_EISDIR;
	if (r == 0 && fs_dir_find(dir, name, &ino) >= 0) {
		if ((o->flags & (FS_O_CREATE | FS_O_EXCL)) ==
		    (FS_O_CREATE | FS_O_EXCL))
			r = QS_EEXIST;
		else if (fs_inode(ino)->type == FS_T_DIR)
			r = QS_EISDIR;
		else if (!(o->flags & FS_O_TRUNC))
			r = fs_lock_read(tx, ino);
		else if ((r = fs_lock_write(tx, ino)) == 0 &&
			 (r = fs_tx_get(tx, &t)) == 0)
			r = fs_truncate(t, ino);
	} else if (r == 0 && !(o->flags & FS_O_CREATE)) {
		r = QS_ENOENT;
	} else if (r == 0) {
		uint32_t free_blocks, free_inodes;
		fs_count_free(&free_blocks, &free_inodes);
		if (free_inodes == 0 || free_blocks < 2)
			r = QS_ENOSPC; /* the inode, and room for its entry */
		else if ((r = fs_lock_write(tx, dir)) == 0 &&
			 (r = fs_tx_get(tx, &t)) == 0 &&
			 (r = fs_ialloc(t, FS_T_FILE, &ino)) == 0)
			r = fs_dir_add(t, dir, name, ino);
	}
	if (r == 0)
		r = fs_handle_new(tx, ino);
	qs_mutex_unlock(&fs_lock);
	if (r < 0)
		return r;
	int c = fs_handle_crumb(tx, (uint32_t)r);
	return c < 0 ? c : r;
}

static int32_t
do_read(uint64_t tx, const qs_msg_t *req, qs_msg_t *reply)
{
	const fs_io_t *io = QS_MSG_AS(req, fs_io_t);
	if (!io || io->len > FS_IO_MAX)
		return QS_EINVAL;
	qs_mutex_lock(&fs_lock);
	struct fs_handle *h = fs_handle_get(tx, io->handle);
	int r = h ? fs_lock_read(tx, h->ino) : QS_EBADF;
	if (r == 0)
		r = fs_file_read(h->ino, h->off, reply->data, io->len);
	if (r > 0) {
		h->off += (uint32_t)r;
		reply->hdr.len = (uint32_t)r;
	}
	qs_mutex_unlock(&fs_lock);
	return r;
}

static int32_t
do_write(uint64_t tx, const qs_msg_t *req)
{
	const fs_io_t *io = QS_MSG_AS(req, fs_io_t);
	if (!io || io->len > FS_IO_MAX || req->hdr.len != sizeof(*io) + io->len)
		return QS_EINVAL;
	int r = fs_tx_join(tx);
	if (r < 0)
		return r;
	qs_mutex_lock(&fs_lock);
	struct fs_handle *h = fs_handle_get(tx, io->handle);
	fs_tx_t *t;
	r = h ? fs_lock_write(tx, h->ino) : QS_EBADF;
	if (r == 0 && (r = fs_tx_get(tx, &t)) == 0)
		r = fs_file_write(t, h->ino, h->off, req->data + sizeof(*io), io->len);
	if (r > 0)
		h->off += (uint32_t)r;
	qs_mutex_unlock(&fs_lock);
	return r;
}

static int32_t
do_seek(uint64_t tx, const qs_msg_t *req)
{
	const fs_seek_t *s = QS_MSG_AS(req, fs_seek_t);
	if (!s)
		return QS_EINVAL;
	qs_mutex_lock(&fs_lock);
	struct fs_handle *h = fs_handle_get(tx, s->handle);
	int64_t base = !h ? 0
		: s->whence == FS_SEEK_SET ? 0
		: s->whence == FS_SEEK_CUR ? (int64_t)h->off
		: s->whence == FS_SEEK_END ? (int64_t)fs_inode(h->ino)->size : -1;
	int64_t pos = base + s->offset;
	int r = !h ? QS_EBADF
		: base < 0 || pos < 0 || pos > FILE_MAX ? QS_EINVAL
		: (int)(h->off = (uint32_t)pos);
	qs_mutex_unlock(&fs_lock);
	return r;
}

static int32_t
do_close(uint64_t tx, const qs_msg_t *req)
{
	const uint32_t *h = QS_MSG_AS(req, uint32_t);
	if (!h)
		return QS_EINVAL;
	qs_mutex_lock(&fs_lock);
	int r = fs_handle_close(tx, *h);
	qs_mutex_unlock(&fs_lock);
	return r;
}

static int32_t
do_unlink(uint64_t tx, const char *path)
{
	int r = fs_tx_join(tx);
	if (r < 0)
		return r;
	qs_mutex_lock(&fs_lock);
	uint32_t dir, ino;
	char name[FS_NAME_MAX];
	fs_tx_t *t;
	r = fs_walk(tx, path, &dir, name);
	if (r == 0 && !name[0])
		r = QS_EBUSY; /* the root stays */
	if (r == 0 && (r = fs_dir_find(dir, name, &ino)) >= 0 &&
	    (r = fs_lock_write(tx, dir)) == 0 &&
	    (r = fs_lock_write(tx, ino)) == 0) {
		if (fs_inode(ino)->type == FS_T_DIR && !fs_dir_empty(ino))
			r = QS_ENOTEMPTY;
		else if (fs_ino_open(ino))
			r = QS_EBUSY;
		else if ((r = fs_tx_get(tx, &t)) == 0 &&
			 (r = fs_dir_remove(t, dir, name)) == 0)
			r = fs_ifree(t, ino);
	}
	qs_mutex_unlock(&fs_lock);
	return r < 0 ? r : 0;
}

static int32_t
do_mkdir(uint64_t tx, const char *path)
{
	int r = fs_tx_join(tx);
	if (r < 0)
		return r;
	qs_mutex_lock(&fs_lock);
	uint32_t dir, ino, free_blocks, free_inodes;
	char name[FS_NAME_MAX];
	fs_tx_t *t;
	r = fs_walk(tx, path, &dir, name);
	if (r == 0 && (!name[0] || fs_dir_find(dir, name, &ino) >= 0))
		r = QS_EEXIST;
	if (r == 0) {
		fs_count_free(&free_blocks, &free_inodes);
		if (free_inodes == 0 || free_blocks < 2)
			r = QS_ENOSPC;
	}
	if (r == 0 && (r = fs_lock_write(tx, dir)) == 0 &&
	    (r = fs_tx_get(tx, &t)) == 0 &&
	    (r = fs_ialloc(t, FS_T_DIR, &ino)) == 0)
		r = fs_dir_add(t, dir, name, ino);
	qs_mutex_unlock(&fs_lock);
	return r;
}

static int32_t
do_readdir(uint64_t tx, const qs_msg_t *req, qs_msg_t *reply)
{
	const fs_readdir_t *rd = QS_MSG_AS(req, fs_readdir_t);
	if (!rd)
		return QS_EINVAL;
	if (strnlen(rd->path, FS_PATH_MAX) == FS_PATH_MAX)
		return QS_ENAMETOOLONG;
	fs_dirents_t *out = (fs_dirents_t *)reply->data;
	memset(out, 0, sizeof(*out));
	qs_mutex_lock(&fs_lock);
	uint32_t ino;
	int r = resolve(tx, rd->path, &ino);
	if (r == 0 && fs_inode(ino)->type != FS_T_DIR)
		r = QS_ENOTDIR;
	dirent_t e;
	for (uint32_t i = 0, seen = 0; r == 0 && fs_dir_entry(ino, i, &e); i++) {
		if (!e.inode || seen++ < rd->first)
			continue;
		if (out->count == FS_DIRENTS_MAX) {
			out->more = 1;
			break;
		}
		fs_dirent_t *d = &out->ent[out->count++];
		inode_t *in = fs_inode(e.inode);
		d->type = in->type;
		d->size = in->size;
		strcpy(d->name, e.name);
	}
	qs_mutex_unlock(&fs_lock);
	reply->hdr.len = sizeof(*out);
	return r;
}

static int32_t
do_stat(uint64_t tx, const char *path, qs_msg_t *reply)
{
	fs_stat_t *st = (fs_stat_t *)reply->data;
	qs_mutex_lock(&fs_lock);
	uint32_t ino;
	int r = resolve(tx, path, &ino);
	if (r == 0) {
		inode_t *in = fs_inode(ino);
		*st = (fs_stat_t){ ino, in->type, in->size, fs_inode_blocks(ino) };
		reply->hdr.len = sizeof(*st);
	}
	qs_mutex_unlock(&fs_lock);
	return r;
}

static int32_t
do_df(qs_msg_t *reply)
{
	fs_df_t *df = (fs_df_t *)reply->data;
	rvm_options_t q;
	memset(df, 0, sizeof(*df));
	memset(&q, 0, sizeof(q));
	qs_mutex_lock(&fs_lock);
	super_t *s = fs_super();
	df->block_size = BLOCK;
	df->blocks = s->blocks - s->data_start;
	df->inodes = s->inodes - 2; /* 0 is unused, 1 the root */
	fs_count_free(&df->blocks_free, &df->inodes_free);
	df->vista = fs_vista;
	df->handles = fs_handles_open();
	df->transactions = fs_txs_open();
	df->locks = fs_locks_held();
	df->log_windows = fs_oplog_count();
	df->heap = (uint32_t)qs_heap_in_use();
	if (rvm_query(&q, NULL) == RVM_SUCCESS) {
		df->in_doubt = q.n_in_doubt;
		df->log_size = q.log_size;
		df->log_used = q.log_used;
		df->commits = q.stats.commits_flush + q.stats.commits_noflush;
		df->aborts = q.stats.aborts;
		df->prepares = q.stats.prepares;
		df->log_forces = q.stats.log_forces;
		df->truncations = q.stats.truncations;
	}
	qs_mutex_unlock(&fs_lock);
	reply->hdr.len = sizeof(*df);
	return 0;
}

static int32_t
dispatch(const qs_msg_t *req, qs_msg_t *reply)
{
	uint64_t tx = req->hdr.txid;
	const char *path;
	switch (req->hdr.opcode) {
	case FS_OP_OPEN: return do_open(tx, req);
	case FS_OP_READ: return do_read(tx, req, reply);
	case FS_OP_WRITE: return do_write(tx, req);
	case FS_OP_SEEK: return do_seek(tx, req);
	case FS_OP_CLOSE: return do_close(tx, req);
	case FS_OP_READDIR: return do_readdir(tx, req, reply);
	case FS_OP_DF: return do_df(reply);
	case FS_OP_LOG: return fs_oplog_start(req);
	case FS_OP_UNLINK:
	case FS_OP_MKDIR:
	case FS_OP_STAT:
		if (!(path = req_path(req, 0)))
			return QS_EINVAL;
		if (strlen(path) >= FS_PATH_MAX)
			return QS_ENAMETOOLONG;
		return req->hdr.opcode == FS_OP_UNLINK ? do_unlink(tx, path)
			: req->hdr.opcode == FS_OP_MKDIR ? do_mkdir(tx, path)
			: do_stat(tx, path, reply);
	default:
		return QS_EINVAL;
	}
}

static int32_t
handle(const qs_msg_t *req, qs_msg_t *reply, void *ctx)
{
	(void)ctx;
	int32_t r = dispatch(req, reply);
	fs_oplog_note(req, r);
	return r;
}

int
fs_serve(int qid)
{
	/* One thread: oplog.c's messages to the window manager are shared. */
	return qs_serve(qid, handle, NULL, 1);
}
