/*
 * fs, the file server: hierarchical files and directories in one RVM
 * segment (store.c), changed under the clients' transactions (txn.c).
 *
 * Boot arguments: fs_mode=lrvm (default: the segment and the redo log are
 * regions of the disk server) or fs_mode=vista (both in persistent memory:
 * the undo log in its first megabyte, the segment after it); fs_size=KIB,
 * the size a new file system is formatted with (default 2048). At start it
 * recovers (RVM replays its log or undoes what a crash interrupted), asks
 * the TM how each transaction left in doubt ended, formats the segment if
 * it holds no file system yet, and serves, with what the transactions
 * still in doubt changed locked until a thread learns how they ended.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/tx.h>
#include "fs.h"

#define LOG_DEV "fs.log"
#define SEG_DEV "fs.seg"
#define PMEM_DEV "pmem.fs"
#define VISTA_UNDO (1u << 20) /* the undo log's share of persistent memory */
#define SIZE_DEFAULT_KIB 2048

static bool vista;
static bool guarded; /* the in-doubt transactions' locks are taken */

/* ---- requests ------------------------------------------------------- */

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
	df->vista = vista;
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

/* ---- start-up ------------------------------------------------------- */

static uint32_t
boot_u32(const char *key, uint32_t dflt)
{
	char buf[16];
	if (qs_boot_arg(key, buf, sizeof(buf)) <= 0)
		return dflt;
	return (uint32_t)strtoul(buf, NULL, 10);
}

/*
 * ---- in-doubt transactions -------------------------------------------
 *
 * A transaction a crash left prepared is in doubt until the TM says how it
 * ended: it may take as long as its coordinator's node is down or cut off.
 * Meanwhile the server serves, and everything the transaction changed
 * stays locked (or its blocks reserved) for it, as for any transaction
 * that has not ended: others get QS_EBUSY for its files and directories
 * and cannot allocate what it allocated or freed. That keeps the bytes of
 * its RVM ranges (rvm_in_doubt_ranges) out of every other transaction, so
 * rvm_resolve, copying its new values in (LRVM commit) or its old ones
 * back (Vista abort), clobbers no one. A thread asks the TM every second
 * and resolves each as soon as the TM knows.
 */

/* With fs_lock: locks and reserves what every in-doubt transaction
 * changed. QS_E2BIG when RVM cannot list them all (more than
 * RVM_IN_DOUBT_MAX): the caller must not serve yet. */
static int
guard_in_doubt(void)
{
	rvm_options_t q;
	memset(&q, 0, sizeof(q));
	if (rvm_query(&q, NULL) != RVM_SUCCESS)
		return QS_EIO;
	if (q.n_in_doubt == 0)
		return 0;
	if (q.n_in_doubt > RVM_IN_DOUBT_MAX)
		return QS_E2BIG;
	uint32_t *owner = malloc(fs_super()->blocks * sizeof(*owner));
	if (!owner)
		return QS_ENOMEM;
	fs_block_owners(owner);
	int r = 0;
	for (uint32_t i = 0; i < q.n_in_doubt && r == 0; i++) {
		uint32_t n = 0;
		rvm_span_t *spans = NULL;
		rvm_return_t rr = rvm_in_doubt_ranges(q.in_doubt[i], NULL, 0, &n);
		if (rr == RVM_SUCCESS && !(spans = malloc((n + 1) * sizeof(*spans))))
			r = QS_ENOMEM;
		else if (rr == RVM_SUCCESS)
			rr = rvm_in_doubt_ranges(q.in_doubt[i], spans, n, &n);
		if (rr != RVM_SUCCESS) {
			printf("fs: the ranges of an in-doubt transaction: %s\n",
			       rvm_strerror(rr));
			r = QS_EIO;
		}
		fs_tx_in_doubt(q.in_doubt[i]);
		for (uint32_t k = 0; r == 0 && k < n; k++)
			fs_guard_range(q.in_doubt[i], spans[k].addr, spans[k].len,
				       owner);
		free(spans);
	}
	free(owner);
	return r;
}

/*
 * Asks the TM once about each in-doubt transaction and resolves those it
 * knows the outcome of (QS_TX_COMMITTED or QS_TX_ABORTED; QS_EAGAIN while
 * it is still finding out). Answers how many are left in doubt, or
 * QS_EIO if RVM cannot be asked.
 */
static int
resolve_known(void)
{
	rvm_options_t q;
	memset(&q, 0, sizeof(q));
	qs_mutex_lock(&fs_lock);
	rvm_return_t rr = rvm_query(&q, NULL);
	qs_mutex_unlock(&fs_lock);
	if (rr != RVM_SUCCESS)
		return QS_EIO;
	uint32_t left = q.n_in_doubt, n = left < RVM_IN_DOUBT_MAX
		? left : RVM_IN_DOUBT_MAX;
	for (uint32_t i = 0; i < n; i++) {
		char txt[QS_TX_TEXT];
		int outcome = qs_tx_outcome(q.in_doubt[i]); /* a call: no fs_lock */
		if (outcome != QS_TX_COMMITTED && outcome != QS_TX_ABORTED)
			continue;
		qs_mutex_lock(&fs_lock);
		rr = rvm_resolve(q.in_doubt[i], outcome == QS_TX_COMMITTED);
		if (rr == RVM_SUCCESS) {
			left--;
			/* Its locks go; the others' are taken again in the
			 * same breath, in case one of them shared one. */
			fs_tx_resolved(q.in_doubt[i]);
			if (guarded && guard_in_doubt() < 0)
				printf("fs: cannot guard the in-doubt transactions"
				       " again\n");
		}
		qs_mutex_unlock(&fs_lock);
		/* An RVM failure is tried again at the next round. */
		printf("fs: in-doubt transaction %s %s\n",
		       qs_tx_format(q.in_doubt[i], txt),
		       rr != RVM_SUCCESS ? rvm_strerror(rr)
		       : outcome == QS_TX_COMMITTED ? "committed" : "aborted");
	}
	return (int)left;
}

/* Resolves the in-doubt transactions in the background, asking the TM
 * every second (a poll of the TM's state: it learns from the coordinator
 * at its own pace), until none is left. */
static void *
in_doubt_thread(void *arg)
{
	(void)arg;
	int left;
	while ((left = resolve_known()) != 0) {
		if (left < 0)
			printf("fs: cannot list the in-doubt transactions;"
			       " trying again\n");
		qs_sleep(1000);
	}
	printf("fs: no transaction in doubt any more\n");
	return NULL;
}

static int
open_rvm(uint32_t size)
{
	rvm_options_t opt;
	memset(&opt, 0, sizeof(opt));
	opt.log_dev = vista ? PMEM_DEV : LOG_DEV;
	opt.flags = vista ? RVM_VISTA : 0;
	rvm_return_t r = rvm_initialize("qs", &opt);
	if (r == RVM_ELOG) { /* a new node: no log yet */
		rvm_dev_t *d = rvm_dev_open(opt.log_dev, vista);
		if (!d) {
			printf("fs: no device %s\n", opt.log_dev);
			return QS_ENOENT;
		}
		uint64_t len = vista ? VISTA_UNDO : d->size;
		d->close(d);
		if ((r = rvm_create_log(&opt, len)) == RVM_SUCCESS)
			r = rvm_initialize("qs", &opt);
	}
	if (r != RVM_SUCCESS) {
		printf("fs: cannot open the log %s: %s\n", opt.log_dev, rvm_strerror(r));
		return QS_EIO;
	}
	static rvm_region_t region;
	region.data_dev = vista ? PMEM_DEV : SEG_DEV;
	region.offset = vista ? VISTA_UNDO : 0;
	region.length = size;
	if ((r = rvm_map(&region, NULL)) != RVM_SUCCESS) {
		printf("fs: cannot map %s: %s\n", region.data_dev, rvm_strerror(r));
		return QS_EIO;
	}
	fs_base = region.vmaddr;
	fs_size = size;
	return 0;
}

static int
format(uint32_t size)
{
	fs_tx_t t;
	memset(&t, 0, sizeof(t));
	if (rvm_begin_transaction(&t.tid, RVM_RESTORE) != RVM_SUCCESS)
		return QS_ENOMEM;
	int r = fs_format(&t, size);
	if (r < 0) {
		rvm_abort_transaction(&t.tid);
		return r;
	}
	return rvm_end_transaction(&t.tid, RVM_FLUSH) == RVM_SUCCESS ? 0 : QS_EIO;
}

int
main(void)
{
	char mode[8] = "lrvm";
	qs_boot_arg("fs_mode", mode, sizeof(mode));
	vista = strcmp(mode, "vista") == 0;
	uint32_t size = boot_u32("fs_size", SIZE_DEFAULT_KIB) * 1024;
	if (size < 64 * 1024 || size > 64 * 1024 * 1024) {
		printf("fs: fs_size must be 64..65536 KiB\n");
		return 1;
	}
	if (open_rvm(size) < 0)
		return 1;
	/* What the TM knows already is resolved before anything else. */
	int left = resolve_known();
	int r = fs_check(size);
	/* The layout must be sound to tell what the in-doubt transactions
	 * changed, and formatting must not overwrite them: wait for their
	 * outcomes then (a new file system has none; a damaged one is not
	 * served anyway). */
	if (r < 0 && left != 0) {
		printf("fs: waiting for the TM to resolve the in-doubt"
		       " transactions\n");
		while ((left = resolve_known()) != 0)
			qs_sleep(1000);
		r = fs_check(size);
	}
	if (r == QS_ENOENT) {
		printf("fs: formatting %u KiB\n", size / 1024);
		r = format(size);
	}
	if (r < 0) {
		printf("fs: the file system is damaged (%s); not serving it\n",
		       qs_strerror(r));
		return 1;
	}
	if (fs_txn_init(fs_super()->inodes, fs_super()->blocks) < 0)
		return 1;
	qs_mutex_lock(&fs_lock);
	while ((r = guard_in_doubt()) < 0) {
		/* Unguarded, they could be clobbered: serve nothing until the
		 * TM has resolved enough of them. */
		qs_mutex_unlock(&fs_lock);
		printf("fs: cannot lock what the in-doubt transactions changed"
		       " (%s); waiting for the TM\n", qs_strerror(r));
		do {
			left = resolve_known();
			qs_sleep(1000);
		} while (left > RVM_IN_DOUBT_MAX);
		qs_mutex_lock(&fs_lock);
	}
	guarded = true;
	qs_mutex_unlock(&fs_lock);
	if ((left = resolve_known()) != 0) {
		printf("fs: %d transaction(s) in doubt: serving, with what they"
		       " changed locked until the TM knows how they ended\n", left);
		if (!qs_thread_create(in_doubt_thread, NULL)) {
			printf("fs: cannot start the in-doubt thread\n");
			return 1;
		}
	}
	int qid = qs_sq_create(FS_QUEUE, 0);
	if (qid < 0) {
		printf("fs: cannot create queue %s: %s\n", FS_QUEUE, qs_strerror(qid));
		return 1;
	}
	uint32_t fb, fi;
	fs_count_free(&fb, &fi);
	printf("fs: serving queue %s (%s, %u KiB, %u blocks free)\n", FS_QUEUE,
	       vista ? "vista" : "lrvm", size / 1024, fb);
	qs_serve(qid, handle, NULL, 1);
	return 0;
}
