/*
 * The operation log (FS_OP_LOG): a transaction asks for a window on some
 * window manager, and every later operation of that transaction writes a
 * line into it.
 *
 * The window is opened by a request the fs sends from inside its handler,
 * so it carries the client's transaction: it is the window manager's
 * breadcrumb of that transaction and goes when the transaction ends; the
 * fs never closes it. What the fs keeps (the table below) is dropped at the
 * transaction's end too: by tx_release for a transaction that changed
 * something, by a breadcrumb of our own for one that only logged or read.
 *
 * The table is under fs_lock, but the window manager is called without it:
 * it may be on another node, and the recovery thread needs the lock to end
 * transactions meanwhile.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/tx.h>
#include <qs/wm.h>
#include "fs.h"

#define OPLOG_MAX 16
#define PATHS_MAX 4 /* handles per transaction whose path a line shows */

typedef struct {
	uint64_t tx; /* 0: a free slot */
	int qid;     /* the window manager's queue */
	int32_t win;
	bool warned; /* a failed write has been reported */
	char queue[QS_NAME_MAX];
	struct {
		uint32_t handle;
		char path[FS_PATH_MAX];
	} paths[PATHS_MAX];
	uint32_t paths_next;
} oplog_t;

static oplog_t logs[OPLOG_MAX];
static uint32_t nlogs;
static qs_msg_t wm_req, wm_reply; /* the fs's one service thread uses them */

static oplog_t *
oplog_find(uint64_t tx)
{
	for (int i = 0; i < OPLOG_MAX; i++)
		if (logs[i].tx == tx)
			return &logs[i];
	return NULL;
}

void
fs_oplog_forget(uint64_t tx)
{
	oplog_t *l = tx ? oplog_find(tx) : NULL;
	if (l) {
		memset(l, 0, sizeof(*l));
		nlogs--;
	}
}

uint32_t
fs_oplog_count(void)
{
	return nlogs;
}

static void
oplog_crumb(void *obj, uint64_t tx, int outcome)
{
	(void)obj, (void)outcome;
	qs_mutex_lock(&fs_lock);
	fs_oplog_forget(tx);
	qs_mutex_unlock(&fs_lock);
}

/* Opens the window on `queue`, under the request's transaction. */
static int
window_create(const qs_msg_t *req, int qid, int32_t *win)
{
	char title[WM_TITLE_MAX], txt[QS_TX_TEXT];
	snprintf(title, sizeof(title), "fs: tx %s (%u:%d)",
		 qs_tx_format(req->hdr.txid, txt), (unsigned)req->hdr.src_node,
		 (int)req->hdr.src_pid);
	qs_msg_init(&wm_req, WM_OP_CREATE);
	qs_msg_put_str(&wm_req, title);
	int r = qs_call(qid, &wm_req, &wm_reply, sizeof(wm_reply));
	const wm_created_t *c = QS_MSG_AS(&wm_reply, wm_created_t);
	if (r >= 0 && !c)
		r = QS_EINVAL;
	if (r >= 0)
		*win = c->id;
	return r < 0 ? r : 0;
}

int32_t
fs_oplog_start(const qs_msg_t *req, const char *name)
{
	uint64_t tx = req->hdr.txid;
	size_t n = strlen(name);
	qs_mutex_lock(&fs_lock);
	int r = oplog_find(tx) ? QS_EEXIST : nlogs == OPLOG_MAX ? QS_EAGAIN : 0;
	qs_mutex_unlock(&fs_lock);
	if (r < 0)
		return r;
	int qid = qs_sq_lookup(name);
	if (qid < 0)
		return qid;
	int32_t win;
	if ((r = window_create(req, qid, &win)) < 0)
		return r;

	qs_mutex_lock(&fs_lock);
	oplog_t *l = oplog_find(tx) ? NULL : oplog_find(0);
	if (l) {
		memset(l, 0, sizeof(*l));
		*l = (oplog_t){ .tx = tx, .qid = qid, .win = win };
		memcpy(l->queue, name, n + 1);
		nlogs++;
	}
	qs_mutex_unlock(&fs_lock);
	if (!l)
		return QS_EAGAIN; /* the window goes with the transaction */
	r = crumb_add(tx, oplog_crumb, NULL);
	if (r < 0) {
		qs_mutex_lock(&fs_lock);
		fs_oplog_forget(tx);
		qs_mutex_unlock(&fs_lock);
		return r == QS_ENOENT ? QS_EABORTED : r;
	}
	return win;
}

/* ---- lines ------------------------------------------------------------ */

static const char *
handle_path(oplog_t *l, uint32_t h, char buf[16])
{
	for (int i = 0; i < PATHS_MAX; i++)
		if (l->paths[i].handle == h && l->paths[i].path[0])
			return l->paths[i].path;
	snprintf(buf, 16, "handle %u", (unsigned)h);
	return buf;
}

static void
handle_remember(oplog_t *l, uint32_t h, const char *path)
{
	uint32_t i = l->paths_next++ % PATHS_MAX;
	l->paths[i].handle = h;
	snprintf(l->paths[i].path, FS_PATH_MAX, "%s", path);
}

/* A request's path, or "?" if it has none within its length. */
static const char *
req_path(const qs_msg_t *req, size_t off, char buf[FS_PATH_MAX])
{
	size_t len = req->hdr.len > off ? req->hdr.len - off : 0;
	if (len > FS_PATH_MAX - 1)
		len = FS_PATH_MAX - 1;
	memcpy(buf, req->data + off, len);
	buf[len] = 0;
	return len ? buf : "?";
}

static void
line_open(oplog_t *l, const qs_msg_t *req, int32_t r, char *s, size_t cap)
{
	char path[FS_PATH_MAX];
	const fs_open_t *o = QS_MSG_AS(req, fs_open_t);
	uint32_t flags = o ? o->flags : 0;
	req_path(req, offsetof(fs_open_t, path), path);
	if (r >= 0)
		handle_remember(l, (uint32_t)r, path);
	snprintf(s, cap, "open %s%s%s%s -> ", path,
		 flags & FS_O_CREATE ? " create" : "",
		 flags & FS_O_TRUNC ? " trunc" : "",
		 flags & FS_O_EXCL ? " excl" : "");
	if (r >= 0)
		snprintf(s + strlen(s), cap - strlen(s), "handle %d", (int)r);
}

/* The line for an operation, without its result if that is generic. */
static bool
line_for(oplog_t *l, const qs_msg_t *req, int32_t r, char *s, size_t cap)
{
	char path[FS_PATH_MAX], hb[16];
	const fs_io_t *io = QS_MSG_AS(req, fs_io_t);
	const uint32_t *h = QS_MSG_AS(req, uint32_t);
	uint32_t op = req->hdr.opcode;
	struct fs_handle *fh;
	switch (op) {
	case FS_OP_OPEN:
		line_open(l, req, r, s, cap);
		return true;
	case FS_OP_READ:
	case FS_OP_WRITE:
		if (!io)
			return false;
		fh = fs_handle_get(req->hdr.txid, io->handle);
		snprintf(s, cap, "%s %s %u bytes at %u -> ",
			 op == FS_OP_READ ? "read" : "write",
			 handle_path(l, io->handle, hb), (unsigned)io->len,
			 fh ? (unsigned)(fh->off - (r > 0 ? (uint32_t)r : 0)) : 0);
		break;
	case FS_OP_SEEK:
	case FS_OP_CLOSE:
		if (!h)
			return false;
		snprintf(s, cap, "%s %s -> ", op == FS_OP_SEEK ? "seek" : "close",
			 handle_path(l, *h, hb));
		break;
	case FS_OP_UNLINK:
	case FS_OP_MKDIR:
		snprintf(s, cap, "%s %s -> ", op == FS_OP_UNLINK ? "unlink" : "mkdir",
			 req_path(req, 0, path));
		break;
	default:
		return false;
	}
	size_t n = strlen(s);
	if (r < 0)
		snprintf(s + n, cap - n, "%s", qs_strerror(r));
	else if (op == FS_OP_CLOSE || op == FS_OP_UNLINK || op == FS_OP_MKDIR)
		snprintf(s + n, cap - n, "ok");
	else
		snprintf(s + n, cap - n, "%d", (int)r);
	return true;
}

void
fs_oplog_note(const qs_msg_t *req, int32_t result)
{
	char line[WM_LINE_MAX];
	wm_write_t w = { 0 };
	int qid = -1;
	qs_mutex_lock(&fs_lock);
	oplog_t *l = nlogs ? oplog_find(req->hdr.txid) : NULL;
	if (l && req->hdr.txid &&
	    line_for(l, req, result, line, sizeof(line) - 1)) {
		size_t n = strlen(line);
		line[n] = '\n';
		line[n + 1] = 0;
		qid = l->qid;
		w.id = l->win;
	}
	qs_mutex_unlock(&fs_lock);
	if (qid < 0)
		return;

	qs_msg_init(&wm_req, WM_OP_WRITE);
	qs_msg_put(&wm_req, &w, sizeof(w));
	qs_msg_put_str(&wm_req, line);
	int r = qs_call(qid, &wm_req, &wm_reply, sizeof(wm_reply));
	if (r >= 0)
		return;
	qs_mutex_lock(&fs_lock);
	l = oplog_find(req->hdr.txid);
	if (l && !l->warned) {
		char txt[QS_TX_TEXT];
		l->warned = true;
		printf("fs: log window %d on %s for tx %s: write failed: %s\n",
		       (int)w.id, l->queue, qs_tx_format(l->tx, txt),
		       qs_strerror(r));
	}
	qs_mutex_unlock(&fs_lock);
}
