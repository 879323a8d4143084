/*
 * The file server's requests, served through the table-driven framework
 * (qs/serve.h): the table at the end bounds each operation's sizes, a
 * decode step checks its path, flags, lengths and ranges (nothing that
 * needs the store), and the do_* functions do the work. Each runs under
 * the sender's transaction (hdr.txid) and takes fs_lock for the store and
 * the locks; every request, refused or not, is then noted in its
 * transaction's log window if it has one.
 */
#include <stdlib.h>
#include <string.h>
#include <qs/cm.h>
#include <qs/serve.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/wm.h>
#include "fs.h"

_Static_assert(sizeof(fs_open_t) <= QS_DECODED_MAX &&
	       sizeof(fs_readdir_t) <= QS_DECODED_MAX &&
	       FS_PATH_MAX <= QS_DECODED_MAX, "decoded arguments fit");
_Static_assert(sizeof(fs_dirents_t) <= QS_MSG_INLINE &&
	       sizeof(fs_df_t) <= QS_MSG_INLINE && FS_IO_MAX <= QS_MSG_INLINE &&
	       sizeof(fs_io_t) + FS_IO_MAX <= QS_MSG_INLINE,
	       "requests and answers fit inline");

/* ---- decode ----------------------------------------------------------- */

/*
 * A path's form, checked before anything is looked up: its NUL within
 * FS_PATH_MAX, each name shorter than FS_NAME_MAX, the last one neither
 * "." nor ".." (a name that is not last is looked up, and "." or ".." is
 * then just not found). fs_walk checks the same as it walks: the store
 * does not rely on its callers.
 */
static int32_t
path_check(const char *path)
{
	if (strnlen(path, FS_PATH_MAX) == FS_PATH_MAX)
		return QS_ENAMETOOLONG;
	const char *last = "";
	size_t len = 0, last_len = 0;
	for (const char *p = path; *p; p += len) {
		while (*p == '/')
			p++;
		for (len = 0; p[len] && p[len] != '/'; len++)
			;
		if (len >= FS_NAME_MAX)
			return QS_ENAMETOOLONG;
		if (len) {
			last = p;
			last_len = len;
		}
	}
	if (last[0] == '.' && (last_len == 1 || (last_len == 2 && last[1] == '.')))
		return QS_EINVAL; /* no such links here */
	return 0;
}

/* UNLINK, MKDIR, STAT: the inline data is the path, its NUL the last byte
 * (else QS_EINVAL). args: the path. */
static int32_t
decode_path(const qs_msg_t *req, void *args)
{
	const char *path = (const char *)req->data;
	if (strnlen(path, req->hdr.len) != req->hdr.len - 1)
		return QS_EINVAL;
	int32_t r = path_check(path);
	if (r == 0)
		memcpy(args, path, req->hdr.len); /* < FS_PATH_MAX now */
	return r;
}

static int32_t
decode_open(const qs_msg_t *req, void *args)
{
	const fs_open_t *o = (const fs_open_t *)req->data;
	if (o->flags & ~(uint32_t)(FS_O_CREATE | FS_O_TRUNC | FS_O_EXCL))
		return QS_EINVAL;
	int32_t r = path_check(o->path);
	if (r == 0)
		memcpy(args, o, sizeof(*o));
	return r;
}

static int32_t
decode_readdir(const qs_msg_t *req, void *args)
{
	const fs_readdir_t *rd = (const fs_readdir_t *)req->data;
	int32_t r = path_check(rd->path);
	if (r == 0)
		memcpy(args, rd, sizeof(*rd));
	return r;
}

static int32_t
decode_read(const qs_msg_t *req, void *args)
{
	const fs_io_t *io = (const fs_io_t *)req->data;
	if (io->len > FS_IO_MAX)
		return QS_EINVAL;
	memcpy(args, io, sizeof(*io));
	return 0;
}

/* fs_io_t, then exactly io->len bytes (the table bounds them by
 * FS_IO_MAX). args: the fs_io_t; the bytes stay in the request. */
static int32_t
decode_write(const qs_msg_t *req, void *args)
{
	const fs_io_t *io = (const fs_io_t *)req->data;
	if (req->hdr.len - sizeof(*io) != io->len)
		return QS_EINVAL;
	memcpy(args, io, sizeof(*io));
	return 0;
}

static int32_t
decode_seek(const qs_msg_t *req, void *args)
{
	const fs_seek_t *s = (const fs_seek_t *)req->data;
	if (s->whence > FS_SEEK_END)
		return QS_EINVAL;
	memcpy(args, s, sizeof(*s));
	return 0;
}

/*
 * LOG: exactly "wm" or "wm@N" (N a node number: decimal, below
 * CM_NODES_MAX, no leading zero), and its NUL. The fs sends to that
 * queue on the client's behalf, so it must be a window manager's: "wm" is
 * reserved for the one init starts, and "NAME@N" only the CM makes. Any
 * other name could be a queue the client made and never serves. args: the
 * name.
 */
static int32_t
decode_log(const qs_msg_t *req, void *args)
{
	int32_t r = qs_decode_str(req, args);
	if (r < 0)
		return r;
	const char *s = args, *node = s + strlen(WM_QUEUE);
	if (strncmp(s, WM_QUEUE, strlen(WM_QUEUE)) != 0)
		return QS_EINVAL;
	if (!*node)
		return 0;
	if (*node++ != '@' || !*node || (node[0] == '0' && node[1]))
		return QS_EINVAL;
	uint32_t n = 0;
	for (; *node; node++) {
		if (*node < '0' || *node > '9' || n >= CM_NODES_MAX)
			return QS_EINVAL;
		n = n * 10 + (uint32_t)(*node - '0');
	}
	return n < CM_NODES_MAX ? 0 : QS_EINVAL;
}

/* ---- the work --------------------------------------------------------- */

/* With fs_lock: the inode a path names (the root for "/"), readable by
 * tx. */
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

/* With fs_lock: a new file or directory `name` in dir, for the request's
 * transaction. Space and the client's limit are checked before anything
 * changes: the inode, and room for its entry. */
static int
create(const qs_msg_t *req, uint32_t dir, const char *name, uint16_t type,
       uint32_t *ino)
{
	uint64_t tx = req->hdr.txid;
	fs_client_t who = fs_client_of(req);
	uint32_t free_blocks, free_inodes;
	fs_count_free(&free_blocks, &free_inodes);
	if (free_inodes == 0 || free_blocks < 2)
		return QS_ENOSPC;
	fs_tx_t *t;
	int r;
	if ((r = fs_tx_room(tx, who)) < 0 || (r = fs_lock_write(tx, dir)) < 0 ||
	    (r = fs_tx_get(tx, who, &t)) < 0 || (r = fs_ialloc(t, type, ino)) < 0)
		return r;
	return fs_dir_add(t, dir, name, *ino);
}

/* With fs_lock: opening the file ino, which exists, as flags say. */
static int
open_existing(const qs_msg_t *req, uint32_t flags, uint32_t ino)
{
	uint64_t tx = req->hdr.txid;
	fs_client_t who = fs_client_of(req);
	if ((flags & (FS_O_CREATE | FS_O_EXCL)) == (FS_O_CREATE | FS_O_EXCL))
		return QS_EEXIST;
	if (fs_inode(ino)->type == FS_T_DIR)
		return QS_EISDIR;
	if (!(flags & FS_O_TRUNC))
		return fs_lock_read(tx, ino);
	fs_tx_t *t;
	int r;
	if ((r = fs_tx_room(tx, who)) < 0 || (r = fs_lock_write(tx, ino)) < 0 ||
	    (r = fs_tx_get(tx, who, &t)) < 0)
		return r;
	return fs_truncate(t, ino);
}

static int32_t
do_open(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)reply, (void)ctx;
	const fs_open_t *o = args;
	uint64_t tx = req->hdr.txid;
	/* The client's limit first, so a refused open does nothing (not even
	 * join); only this thread opens handles, so the room stays. */
	qs_mutex_lock(&fs_lock);
	int r = fs_handle_room(fs_client_of(req));
	qs_mutex_unlock(&fs_lock);
	if (r < 0)
		return r;
	/* A reader joins as recoverable too, not only as the volatile owner
	 * of its handle's breadcrumb: at prepare it votes read-only and the
	 * handle goes then, so a node that only read leaves the tree after
	 * phase one (a volatile participant would need phase two). */
	if ((r = fs_tx_join(tx)) < 0)
		return r;
	qs_mutex_lock(&fs_lock);
	uint32_t dir, ino = 0;
	char name[FS_NAME_MAX];
	r = fs_walk(tx, o->path, &dir, name);
	if (r == 0 && !name[0])
		r = QS_EISDIR; /* the root */
	else if (r == 0 && fs_dir_find(dir, name, &ino) >= 0)
		r = open_existing(req, o->flags, ino);
	else if (r == 0)
		r = o->flags & FS_O_CREATE
			? create(req, dir, name, FS_T_FILE, &ino) : QS_ENOENT;
	if (r == 0)
		r = fs_handle_new(tx, fs_client_of(req), ino);
	qs_mutex_unlock(&fs_lock);
	if (r < 0)
		return r;
	int c = fs_handle_crumb(tx, (uint32_t)r);
	return c < 0 ? c : r;
}

static int32_t
do_read(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)ctx;
	const fs_io_t *io = args;
	uint64_t tx = req->hdr.txid;
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
do_write(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)reply, (void)ctx;
	const fs_io_t *io = args;
	uint64_t tx = req->hdr.txid;
	int r = fs_tx_join(tx);
	if (r < 0)
		return r;
	qs_mutex_lock(&fs_lock);
	struct fs_handle *h = fs_handle_get(tx, io->handle);
	fs_tx_t *t;
	r = h ? fs_tx_room(tx, fs_client_of(req)) : QS_EBADF;
	if (r == 0)
		r = fs_lock_write(tx, h->ino);
	if (r == 0 && (r = fs_tx_get(tx, fs_client_of(req), &t)) == 0)
		r = fs_file_write(t, h->ino, h->off, req->data + sizeof(*io),
				  io->len);
	if (r > 0)
		h->off += (uint32_t)r;
	qs_mutex_unlock(&fs_lock);
	return r;
}

static int32_t
do_seek(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)reply, (void)ctx;
	const fs_seek_t *s = args;
	qs_mutex_lock(&fs_lock);
	struct fs_handle *h = fs_handle_get(req->hdr.txid, s->handle);
	int64_t base = !h ? 0
		: s->whence == FS_SEEK_CUR ? (int64_t)h->off
		: s->whence == FS_SEEK_END ? (int64_t)fs_inode(h->ino)->size : 0;
	int64_t pos = base + s->offset;
	int r = !h ? QS_EBADF
		: pos < 0 || pos > FILE_MAX ? QS_EINVAL
		: (int)(h->off = (uint32_t)pos);
	qs_mutex_unlock(&fs_lock);
	return r;
}

static int32_t
do_close(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)reply, (void)ctx;
	const uint32_t *h = args;
	qs_mutex_lock(&fs_lock);
	int r = fs_handle_close(req->hdr.txid, *h);
	qs_mutex_unlock(&fs_lock);
	return r;
}

static int32_t
do_unlink(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)reply, (void)ctx;
	uint64_t tx = req->hdr.txid;
	int r = fs_tx_join(tx);
	if (r < 0)
		return r;
	qs_mutex_lock(&fs_lock);
	uint32_t dir, ino;
	char name[FS_NAME_MAX];
	fs_tx_t *t;
	r = fs_walk(tx, args, &dir, name);
	if (r == 0 && !name[0])
		r = QS_EBUSY; /* the root stays */
	if (r == 0 && (r = fs_dir_find(dir, name, &ino)) >= 0 &&
	    (r = fs_tx_room(tx, fs_client_of(req))) == 0 &&
	    (r = fs_lock_write(tx, dir)) == 0 &&
	    (r = fs_lock_write(tx, ino)) == 0) {
		if (fs_inode(ino)->type == FS_T_DIR && !fs_dir_empty(ino))
			r = QS_ENOTEMPTY;
		else if (fs_ino_open(ino))
			r = QS_EBUSY;
		else if ((r = fs_tx_get(tx, fs_client_of(req), &t)) == 0 &&
			 (r = fs_dir_remove(t, dir, name)) == 0)
			r = fs_ifree(t, ino);
	}
	qs_mutex_unlock(&fs_lock);
	return r < 0 ? r : 0;
}

static int32_t
do_mkdir(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)reply, (void)ctx;
	uint64_t tx = req->hdr.txid;
	int r = fs_tx_join(tx);
	if (r < 0)
		return r;
	qs_mutex_lock(&fs_lock);
	uint32_t dir, ino;
	char name[FS_NAME_MAX];
	r = fs_walk(tx, args, &dir, name);
	if (r == 0 && (!name[0] || fs_dir_find(dir, name, &ino) >= 0))
		r = QS_EEXIST;
	if (r == 0)
		r = create(req, dir, name, FS_T_DIR, &ino);
	qs_mutex_unlock(&fs_lock);
	return r;
}

static int32_t
do_readdir(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)ctx;
	const fs_readdir_t *rd = args;
	uint64_t tx = req->hdr.txid;
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
do_stat(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)ctx;
	fs_stat_t *st = (fs_stat_t *)reply->data;
	qs_mutex_lock(&fs_lock);
	uint32_t ino;
	int r = resolve(req->hdr.txid, args, &ino);
	if (r == 0) {
		inode_t *in = fs_inode(ino);
		*st = (fs_stat_t){ ino, in->type, in->size, fs_inode_blocks(ino) };
		reply->hdr.len = sizeof(*st);
	}
	qs_mutex_unlock(&fs_lock);
	return r;
}

/* RVM's figures, from rvm_query. */
static void
df_rvm(fs_df_t *df)
{
	rvm_options_t q;
	memset(&q, 0, sizeof(q));
	if (rvm_query(&q, NULL) != RVM_SUCCESS)
		return;
	df->in_doubt = q.n_in_doubt;
	df->log_size = q.log_size;
	df->log_used = q.log_used;
	df->commits = q.stats.commits_flush + q.stats.commits_noflush;
	df->aborts = q.stats.aborts;
	df->prepares = q.stats.prepares;
	df->log_forces = q.stats.log_forces;
	df->truncations = q.stats.truncations;
}

/* ctx: the server, whose counters of refused requests df shows. */
static int32_t
do_df(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)args;
	fs_df_t *df = (fs_df_t *)reply->data;
	qs_serve_stats_t st;
	memset(df, 0, sizeof(*df));
	qs_serve_stats(ctx, &st);
	df->served = st.served;
	df->bad = st.bad_opcode + st.bad_size + st.bad_decode;
	qs_mutex_lock(&fs_lock);
	df->limited = fs_limited();
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
	df_rvm(df);
	qs_mutex_unlock(&fs_lock);
	reply->hdr.len = sizeof(*df);
	return 0;
}

/* Deferred: oplog.c answers when the window manager has. */
static int32_t
do_log(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)ctx;
	return fs_oplog_start(req, args, reply);
}

/* ---- the table -------------------------------------------------------- */

/*
 * Sizes: fixed-size requests exactly their struct; a path up to a whole
 * message, so that a long one is QS_ENAMETOOLONG (decode) rather than a
 * bad size, as it always was; a log's queue name with its NUL within
 * QS_NAME_MAX. Nothing carries out-of-line data.
 */
#define FIXED(type) sizeof(type), sizeof(type), 0
static const qs_op_t ops[] = {
	[FS_OP_OPEN] = { "open", FIXED(fs_open_t), decode_open, do_open },
	[FS_OP_READ] = { "read", FIXED(fs_io_t), decode_read, do_read },
	[FS_OP_WRITE] = { "write", sizeof(fs_io_t), sizeof(fs_io_t) + FS_IO_MAX,
			  0, decode_write, do_write },
	[FS_OP_SEEK] = { "seek", FIXED(fs_seek_t), decode_seek, do_seek },
	[FS_OP_CLOSE] = { "close", FIXED(uint32_t), NULL, do_close },
	[FS_OP_UNLINK] = { "unlink", 1, QS_MSG_INLINE, 0, decode_path,
			   do_unlink },
	[FS_OP_MKDIR] = { "mkdir", 1, QS_MSG_INLINE, 0, decode_path, do_mkdir },
	[FS_OP_READDIR] = { "readdir", FIXED(fs_readdir_t), decode_readdir,
			    do_readdir },
	[FS_OP_STAT] = { "stat", 1, QS_MSG_INLINE, 0, decode_path, do_stat },
	[FS_OP_DF] = { "df", 0, 0, 0, NULL, do_df },
	[FS_OP_LOG] = { "log", 2, QS_NAME_MAX, 0, decode_log, do_log },
};
static qs_server_t server = QS_SERVER("fs", ops, &server);

/* Through the table, then the line for the transaction's log window,
 * once the answer is known (oplog.c sends it; it does not wait). */
static int32_t
handle(const qs_msg_t *req, qs_msg_t *reply, void *ctx)
{
	int32_t r = qs_dispatch(req, reply, ctx);
	fs_oplog_note(req, r);
	return r;
}

int
fs_serve(int qid)
{
	/* One thread: oplog.c's message to the window manager is shared, and
	 * nothing a request does waits for another client. */
	return qs_serve(qid, handle, &server, 1);
}
