/*
 * The operation log (FS_OP_LOG): a transaction asks for a window on a
 * window manager, and every later operation of that transaction writes a
 * line into it.
 *
 * The window is asked for by a request the fs sends from inside its
 * handler, so it carries the client's transaction: it is the window
 * manager's breadcrumb of that transaction and goes when the transaction
 * ends; the fs never closes it. What the fs keeps (the table below) is
 * dropped at the transaction's end too: by tx_release for a transaction
 * that changed something, by a breadcrumb of our own for one that only
 * logged or read.
 *
 * The fs serves with one thread, and nothing here waits for a window
 * manager, which may be slow, hung, on a node cut off, or gone. The window
 * is asked for with qs_send and the client's FS_OP_LOG is deferred;
 * oplog_thread collects the window manager's answer (qs_wait) and answers
 * the client with the window's id or the error. A window not made within
 * FS_LOG_TIMEOUT_MS is answered QS_ETIMEDOUT and its entry freed; the late
 * answer is then ignored, and the window it may bring, a breadcrumb of
 * the client's transaction, goes when the transaction ends. Lines go out
 * with qs_send too, as the operations happen, and their answers are
 * dropped (a failure is reported on the console once per window). The
 * window manager serves with several threads, so two lines sent close
 * together may, rarely, show in the other order.
 *
 * Only "wm" and "wm@N" are called (ops.c's decode): names no program but
 * a window manager (or the CM, for its proxies) can create, so a client
 * cannot point the fs at a queue nobody serves. Even so, at most OUT_MAX
 * requests to window managers are left unanswered: past that a log is
 * refused (QS_EAGAIN) and lines are dropped, and a window manager that
 * never answers costs the fs that many of its kernel requests, never its
 * service thread.
 *
 * Nothing else in the fs sends asynchronously (the rest of it uses
 * qs_call), so oplog_thread's qs_wait(0) collects only these answers.
 *
 * Everything here is under fs_lock. qs_send does not block (a full queue
 * is QS_EAGAIN), so it is made holding the lock, and a request is in the
 * table before oplog_thread can collect its answer. The lookup of the
 * queue and crumb_add (the TM) are made without it.
 *
 * A deferred request can be answered only once its handler has returned
 * (qs_answer says QS_ENOENT before), and the window manager may answer
 * first: such an answer is kept (owed) and tried again shortly.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/thread.h>
#include <qs/tx.h>
#include <qs/wm.h>
#include "fs.h"

#define OPLOG_MAX 16
#define PATHS_MAX 4 /* handles per transaction whose path a line shows */
#define OUT_MAX 64  /* requests to window managers not yet answered */
#define RETRY_MS 10 /* an owed answer is tried again this often ... */
#define OWED_MAX_MS 10000 /* ... for this long */

enum {
	LOG_FREE,     /* a free slot (tx 0) */
	LOG_STARTING, /* the handler is asking for the window */
	LOG_WAITING,  /* asked; the client's request is deferred */
	LOG_OPEN,     /* the window is there, the client answered */
};

typedef struct {
	uint64_t tx; /* 0: a free slot */
	int state;   /* LOG_* */
	int qid;     /* the window manager's queue */
	int32_t win;
	bool warned;         /* a failed write has been reported */
	uint32_t client_rid; /* STARTING, WAITING: the client's FS_OP_LOG */
	uint32_t create_rid; /* WAITING: our WM_OP_CREATE */
	uint32_t deadline;   /* WAITING: when it is answered QS_ETIMEDOUT */
	char queue[QS_NAME_MAX];
	struct {
		uint32_t handle;
		char path[FS_PATH_MAX];
	} paths[PATHS_MAX];
	uint32_t paths_next;
} oplog_t;

/* A request to a window manager, not yet answered. */
typedef struct {
	uint32_t rid; /* 0: a free slot */
	uint64_t tx;
	bool create; /* WM_OP_CREATE, else WM_OP_WRITE */
} out_t;

/* An answer to a client that qs_answer did not take yet. */
typedef struct {
	uint32_t rid;
	int32_t status;
	uint32_t since;
} owed_t;

static oplog_t logs[OPLOG_MAX];
static uint32_t nlogs; /* slots in use, in any state */
static out_t outs[OUT_MAX];
static uint32_t nouts;
/* At most one per slot that is STARTING or WAITING (see room()). */
static owed_t owed[OPLOG_MAX];
static uint32_t nowed;
static qs_cond_t work = QS_COND_INIT; /* nouts or nowed went up */
static qs_msg_t wm_req, answer_msg;

static oplog_t *
oplog_find(uint64_t tx)
{
	for (int i = 0; i < OPLOG_MAX; i++)
		if (logs[i].tx == tx)
			return &logs[i];
	return NULL;
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

/* Frees the slot; and its breadcrumb, unless that is what runs. */
static void
release(oplog_t *l, bool crumb)
{
	uint64_t tx = l->tx;
	memset(l, 0, sizeof(*l));
	nlogs--;
	if (crumb)
		crumb_remove(tx, oplog_crumb, NULL);
}

/* ---- answers to clients ------------------------------------------------ */

static void
owe(uint32_t rid, int32_t status)
{
	if (nowed == OPLOG_MAX) { /* room() keeps this from happening */
		printf("fs: log: no room to keep the answer to request %u\n",
		       (unsigned)rid);
		return;
	}
	owed[nowed++] = (owed_t){ rid, status, qs_uptime_ms() };
	qs_cond_signal(&work);
}

static int
answer_now(uint32_t rid, int32_t status)
{
	qs_msg_init(&answer_msg, FS_OP_LOG);
	answer_msg.hdr.status = status;
	return qs_answer(rid, &answer_msg);
}

/* Answers the client's deferred FS_OP_LOG: the window's id or an error. */
static void
answer(uint32_t rid, int32_t status)
{
	if (answer_now(rid, status) < 0)
		owe(rid, status); /* its handler has not returned yet */
}

static void
owed_retry(uint32_t now)
{
	for (uint32_t i = 0; i < nowed;) {
		owed_t *o = &owed[i];
		int r = answer_now(o->rid, o->status);
		if (r < 0 && now - o->since < OWED_MAX_MS) {
			i++;
			continue;
		}
		if (r < 0)
			printf("fs: log: cannot answer request %u: %s\n",
			       (unsigned)o->rid, qs_strerror(r));
		*o = owed[--nowed];
	}
}

/* ---- requests to window managers ---------------------------------------- */

/* Sends `m` to qid for tx's log, holding fs_lock: its request id, or an
 * error. */
static int
out_send(int qid, const qs_msg_t *m, uint64_t tx, bool create)
{
	if (nouts == OUT_MAX)
		return QS_EAGAIN;
	int rid = qs_send(qid, m);
	if (rid <= 0)
		return rid < 0 ? rid : QS_EINVAL;
	for (int i = 0; i < OUT_MAX; i++) {
		if (!outs[i].rid) {
			outs[i] = (out_t){ (uint32_t)rid, tx, create };
			nouts++;
			break;
		}
	}
	qs_cond_signal(&work);
	return rid;
}

static bool
out_take(uint32_t rid, out_t *out)
{
	for (int i = 0; i < OUT_MAX; i++) {
		if (outs[i].rid == rid) {
			*out = outs[i];
			outs[i].rid = 0;
			nouts--;
			return true;
		}
	}
	return false;
}

static void
warn(oplog_t *l, int32_t err)
{
	char txt[QS_TX_TEXT];
	if (l->warned)
		return;
	l->warned = true;
	printf("fs: log window %d on %s for tx %s: write failed: %s\n",
	       (int)l->win, l->queue, qs_tx_format(l->tx, txt), qs_strerror(err));
}

/* ---- starting a log ------------------------------------------------------ */

static uint32_t
starting_or_waiting(void)
{
	uint32_t n = 0;
	for (int i = 0; i < OPLOG_MAX; i++)
		n += logs[i].state == LOG_STARTING || logs[i].state == LOG_WAITING;
	return n;
}

/* Room for one more log: a slot, a request, and a place for its answer
 * should qs_answer not take it at once. */
static bool
room(void)
{
	return nlogs < OPLOG_MAX && nouts < OUT_MAX &&
	       nowed + starting_or_waiting() < OPLOG_MAX;
}

/* The slot this handler reserved, if the transaction has not ended
 * meanwhile (fs_oplog_forget frees a STARTING slot). */
static bool
still_mine(const oplog_t *l, uint64_t tx, uint32_t rid)
{
	return l->tx == tx && l->state == LOG_STARTING && l->client_rid == rid;
}

/* Asks qid for the window, under the request's transaction. -> rid */
static int
send_create(const qs_msg_t *req, int qid)
{
	char title[WM_TITLE_MAX], txt[QS_TX_TEXT];
	snprintf(title, sizeof(title), "fs: tx %s (%u:%d)",
		 qs_tx_format(req->hdr.txid, txt), (unsigned)req->hdr.src_node,
		 (int)req->hdr.src_pid);
	qs_msg_init(&wm_req, WM_OP_CREATE);
	qs_msg_put_str(&wm_req, title);
	return out_send(qid, &wm_req, req->hdr.txid, true);
}

int32_t
fs_oplog_start(const qs_msg_t *req, const char *name, qs_msg_t *reply)
{
	uint64_t tx = req->hdr.txid;
	uint32_t rid = req->hdr.rid;
	qs_mutex_lock(&fs_lock);
	int r = !tx ? QS_EINVAL : oplog_find(tx) ? QS_EEXIST
		: room() ? 0 : QS_EAGAIN;
	oplog_t *l = r == 0 ? oplog_find(0) : NULL;
	if (l) {
		memset(l, 0, sizeof(*l));
		l->tx = tx;
		l->state = LOG_STARTING;
		l->client_rid = rid;
		strlcpy(l->queue, name, sizeof(l->queue));
		nlogs++;
	}
	qs_mutex_unlock(&fs_lock);
	if (r < 0)
		return r;
	/* first the crumb, so an entry never outlives its transaction */
	if ((r = crumb_add(tx, oplog_crumb, NULL)) < 0) {
		qs_mutex_lock(&fs_lock);
		if (still_mine(l, tx, rid))
			release(l, false);
		qs_mutex_unlock(&fs_lock);
		return r == QS_ENOENT ? QS_EABORTED : r;
	}
	int qid = qs_sq_lookup(name);
	qs_mutex_lock(&fs_lock);
	if (!still_mine(l, tx, rid)) {
		r = QS_EABORTED; /* the transaction ended: its crumb ran */
	} else if ((r = qid) >= 0 && (r = send_create(req, qid)) > 0) {
		l->state = LOG_WAITING;
		l->qid = qid;
		l->create_rid = (uint32_t)r;
		l->deadline = qs_uptime_ms() + FS_LOG_TIMEOUT_MS;
		r = 0;
	} else {
		release(l, true);
	}
	qs_mutex_unlock(&fs_lock);
	if (r == 0)
		qs_defer(reply); /* oplog_thread answers */
	return r;
}

/* ---- oplog_thread ------------------------------------------------------- */

/* A window manager answered our request rid. */
static void
collected(uint32_t rid, const qs_msg_t *m)
{
	out_t o;
	if (!out_take(rid, &o))
		return;
	oplog_t *l = oplog_find(o.tx);
	int32_t r = m->hdr.status;
	if (!o.create) {
		if (r < 0 && l && l->state == LOG_OPEN)
			warn(l, r);
		return;
	}
	if (!l || l->state != LOG_WAITING || l->create_rid != rid)
		return; /* answered already (timed out, or the tx ended) */
	const wm_created_t *c = QS_MSG_AS(m, wm_created_t);
	if (r >= 0 && (!c || c->id < 0))
		r = QS_EINVAL;
	if (r >= 0) {
		l->state = LOG_OPEN;
		l->win = c->id;
		answer(l->client_rid, c->id);
	} else {
		answer(l->client_rid, r);
		release(l, true);
	}
}

/* Windows not made by their deadline: QS_ETIMEDOUT. */
static void
expire(uint32_t now)
{
	char txt[QS_TX_TEXT];
	for (int i = 0; i < OPLOG_MAX; i++) {
		oplog_t *l = &logs[i];
		if (l->state != LOG_WAITING || (int32_t)(now - l->deadline) < 0)
			continue;
		printf("fs: log window on %s for tx %s: no answer in %u ms\n",
		       l->queue, qs_tx_format(l->tx, txt),
		       (unsigned)FS_LOG_TIMEOUT_MS);
		answer(l->client_rid, QS_ETIMEDOUT);
		release(l, true);
	}
}

/* How long oplog_thread may wait: until the next deadline, at most
 * FS_LOG_TIMEOUT_MS (so a window asked for while it waits is not late),
 * and RETRY_MS while it owes answers. */
static int32_t
next_wait(uint32_t now)
{
	int32_t wait = nowed ? RETRY_MS : FS_LOG_TIMEOUT_MS;
	for (int i = 0; i < OPLOG_MAX; i++) {
		int32_t left = (int32_t)(logs[i].deadline - now);
		if (logs[i].state == LOG_WAITING && left < wait)
			wait = left > 0 ? left : 0;
	}
	return wait;
}

static void *
oplog_thread(void *arg)
{
	static uint8_t buf[QS_MSG_BUF_SIZE]; /* any answer fits */
	qs_msg_t *m = (qs_msg_t *)buf;
	(void)arg;
	qs_mutex_lock(&fs_lock);
	for (;;) {
		uint32_t now = qs_uptime_ms();
		expire(now);
		owed_retry(now);
		int32_t wait = next_wait(now);
		if (!nouts) { /* nothing to collect: wait for a send */
			qs_cond_timedwait(&work, &fs_lock,
					  nowed || starting_or_waiting() ? wait : -1);
			continue;
		}
		qs_mutex_unlock(&fs_lock);
		int rid = qs_wait(0, m, QS_MSG_BUF_SIZE, wait);
		qs_mutex_lock(&fs_lock);
		if (rid > 0) {
			collected((uint32_t)rid, m);
		} else if (rid == QS_ENOENT) { /* none outstanding after all */
			printf("fs: log: %u requests to window managers lost\n",
			       (unsigned)nouts);
			memset(outs, 0, sizeof(outs));
			nouts = 0; /* a WAITING entry's deadline still comes */
		} else if (rid != QS_ETIMEDOUT) {
			printf("fs: log: waiting for window managers: %s\n",
			       qs_strerror(rid));
		}
	}
	return NULL;
}

int
fs_oplog_init(void)
{
	return qs_thread_create(oplog_thread, NULL) ? 0 : QS_ENOMEM;
}

/* With fs_lock, at the transaction's end: the entry goes, and a client
 * still waiting for its window is answered. */
void
fs_oplog_forget(uint64_t tx)
{
	oplog_t *l = tx ? oplog_find(tx) : NULL;
	if (!l)
		return;
	if (l->state == LOG_WAITING)
		answer(l->client_rid, QS_EABORTED);
	release(l, false); /* a STARTING handler sees it and answers */
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
	qs_mutex_lock(&fs_lock);
	oplog_t *l = nlogs && req->hdr.txid ? oplog_find(req->hdr.txid) : NULL;
	if (l && l->state == LOG_OPEN &&
	    line_for(l, req, result, line, sizeof(line) - 1)) {
		size_t n = strlen(line);
		line[n] = '\n';
		line[n + 1] = 0;
		wm_write_t w = { l->win };
		qs_msg_init(&wm_req, WM_OP_WRITE);
		qs_msg_put(&wm_req, &w, sizeof(w));
		qs_msg_put_str(&wm_req, line);
		int r = out_send(l->qid, &wm_req, l->tx, false);
		if (r < 0)
			warn(l, r);
	}
	qs_mutex_unlock(&fs_lock);
}
