/*
 * wm, the window manager: draws text windows on QEMU's standard VGA and
 * serves the protocol of qs/wm.h on queue "wm".
 *
 * A window is a breadcrumb of the transaction that created it (the WM is a
 * volatile participant): when that transaction ends or aborts, the
 * library's recovery thread runs close_crumb and the window goes. Only
 * requests under the same transaction may change the window. One client
 * process may have WM_CLIENT_WINDOWS open (win_reserve), a quarter of the
 * table, so no one client fills it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/serve.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/thread.h>
#include <qs/tx.h>
#include <qs/wm.h>
#include "fb.h"
#include "render.h"
#include "win.h"

#define SCREEN_W 800
#define SCREEN_H 600
#define THREADS 4

_Static_assert(WIN_MAX * sizeof(wm_info_t) <= QS_MSG_INLINE,
	       "WM_OP_LIST answers every window inline");

static qs_mutex_t lock = QS_MUTEX_INIT; /* the window table and the screen */
static wm_stats_t stats;
static fb_t fb;

/* The crumb's object is the window's id: ids are never reused, so a late
 * cleanup can never hit another window, nor a freed one. */
static void *
crumb_obj(int32_t id)
{
	return (void *)(uintptr_t)id;
}

static void
close_crumb(void *obj, uint64_t tx, int outcome)
{
	(void)outcome;
	qs_mutex_lock(&lock);
	win_t *w = win_find((int32_t)(uintptr_t)obj);
	if (w && w->tx == tx) {
		if (w->pending) {
			w->doomed = true; /* op_create sees it and gives up */
		} else {
			win_remove(w);
			stats.closed_by_tx++;
			render_all();
		}
	}
	qs_mutex_unlock(&lock);
}

/* CREATE's title: the data up to its NUL, cut to WM_TITLE_MAX - 1. */
static int32_t
decode_title(const qs_msg_t *req, void *args)
{
	char *title = args;
	size_t n = strnlen((const char *)req->data, req->hdr.len);
	if (n >= WM_TITLE_MAX)
		n = WM_TITLE_MAX - 1;
	memcpy(title, req->data, n);
	title[n] = 0;
	return 0;
}

/*
 * The crumb goes in without the lock held: crumb_add talks to the
 * transaction manager, and the recovery thread may meanwhile need the lock
 * to close another window.
 */
static int32_t
op_create(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)ctx;
	int err;
	qs_mutex_lock(&lock);
	win_t *w = win_reserve(req->hdr.src_node, req->hdr.src_pid,
			       req->hdr.txid, args, &err);
	if (!w && err == QS_ELIMIT)
		stats.limited++;
	qs_mutex_unlock(&lock);
	if (!w)
		return err;
	int32_t id = w->id;
	int r = crumb_add(req->hdr.txid, close_crumb, crumb_obj(id));
	qs_mutex_lock(&lock);
	if (r < 0 || w->doomed) {
		win_remove(w); /* a doomed window's crumb has already run */
		qs_mutex_unlock(&lock);
		return r < 0 ? r : QS_ENOENT;
	}
	win_open(w);
	stats.created++;
	render_all();
	qs_mutex_unlock(&lock);
	wm_created_t created = { id };
	qs_msg_put(reply, &created, sizeof(created));
	return 0;
}

/* The open window `id` if the request's transaction owns it; locked. */
static win_t *
owned(const qs_msg_t *req, int32_t id, int *err)
{
	win_t *w = win_find(id);
	if (!w || w->pending) {
		*err = QS_ENOENT;
		return NULL;
	}
	if (w->tx != req->hdr.txid) {
		*err = QS_EPERM;
		return NULL;
	}
	return w;
}

/* WRITE's window and text: up to a NUL or the end of the data (cut to
 * the window's lines by text_write, not refused). */
typedef struct {
	int32_t id;
	const char *text; /* in the request */
	size_t len;
} write_args_t;

static int32_t
decode_write(const qs_msg_t *req, void *args)
{
	write_args_t *a = args;
	const wm_write_t *wr = (const wm_write_t *)req->data;
	a->id = wr->id;
	a->text = (const char *)req->data + sizeof(*wr);
	a->len = strnlen(a->text, req->hdr.len - sizeof(*wr));
	return 0;
}

static int32_t
op_write(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)reply, (void)ctx;
	const write_args_t *a = args;
	int err = 0;
	qs_mutex_lock(&lock);
	win_t *w = owned(req, a->id, &err);
	if (w) {
		text_write(&w->text, a->text, a->len);
		render_area(w->r);
	}
	qs_mutex_unlock(&lock);
	return err;
}

/* CLEAR, CLOSE and RAISE: the request is one window id. */
static int32_t
op_close(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)reply, (void)ctx;
	int32_t id = *(const int32_t *)args;
	int err = 0;
	qs_mutex_lock(&lock);
	win_t *w = owned(req, id, &err);
	uint64_t tx = w ? w->tx : 0;
	if (w) {
		win_remove(w);
		stats.closed_by_client++;
		render_all();
	}
	qs_mutex_unlock(&lock);
	if (w) /* if the transaction is ending meanwhile, close_crumb finds none */
		crumb_remove(tx, close_crumb, crumb_obj(id));
	return err;
}

static int32_t
op_clear(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)reply, (void)ctx;
	int err = 0;
	qs_mutex_lock(&lock);
	win_t *w = owned(req, *(const int32_t *)args, &err);
	if (w) {
		text_clear(&w->text);
		render_area(w->r);
	}
	qs_mutex_unlock(&lock);
	return err;
}

static int32_t
op_raise(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)reply, (void)ctx;
	int err = 0;
	qs_mutex_lock(&lock);
	win_t *w = owned(req, *(const int32_t *)args, &err);
	if (w) {
		win_raise(w);
		render_all(); /* the title bars change colour */
	}
	qs_mutex_unlock(&lock);
	return err;
}

static int32_t
op_list(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)args, (void)ctx;
	static wm_info_t info[WIN_MAX]; /* only touched under the lock */
	qs_mutex_lock(&lock);
	int n = win_list(info, WIN_MAX);
	qs_msg_put(reply, info, (size_t)n * sizeof(info[0]));
	qs_mutex_unlock(&lock);
	return n;
}

static int32_t
op_stats(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)args;
	qs_mutex_lock(&lock);
	wm_stats_t s = stats;
	s.windows = (uint32_t)win_count();
	qs_mutex_unlock(&lock);
	int crumbs = crumb_count();
	s.crumbs = crumbs > 0 ? (uint32_t)crumbs : 0;
	s.heap = (uint32_t)qs_heap_in_use();
	s.bad = qs_serve_refused(ctx);
	qs_msg_put(reply, &s, sizeof(s));
	return 0;
}

/* The invokes take the lock themselves: create and close must drop it to
 * talk to the TM. */
static const qs_op_t ops[] = {
	[WM_OP_CREATE] = { "create", 1, QS_MSG_INLINE, 0, decode_title,
			   op_create },
	[WM_OP_WRITE] = { "write", sizeof(wm_write_t), QS_MSG_INLINE, 0,
			  decode_write, op_write },
	[WM_OP_CLEAR] = { "clear", QS_LEN(int32_t), 0, NULL, op_clear },
	[WM_OP_CLOSE] = { "close", QS_LEN(int32_t), 0, NULL, op_close },
	[WM_OP_LIST] = { "list", 0, 0, 0, NULL, op_list },
	[WM_OP_STATS] = { "stats", 0, 0, 0, NULL, op_stats },
	[WM_OP_RAISE] = { "raise", QS_LEN(int32_t), 0, NULL, op_raise },
};
/* ctx: itself, for op_stats to read its counters */
static qs_server_t server = QS_SERVER("wm", ops, &server);

int
main(void)
{
	qs_node_info_t node;
	qs_node_info(&node);
	if (fb_init(&fb, SCREEN_W, SCREEN_H) < 0)
		return 1; /* fb_init said why */
	if (draw_init(fb.width, fb.height) < 0) {
		printf("wm: no memory for a %dx%d back buffer\n", fb.width, fb.height);
		return 1;
	}
	stats.width = (uint32_t)fb.width;
	stats.height = (uint32_t)fb.height;
	stats.bpp = (uint32_t)fb.bpp;
	win_init(render_init(&fb, node.node_id));
	render_all();
	int qid = qs_sq_create(WM_QUEUE, 0);
	if (qid < 0) {
		printf("wm: cannot create queue %s: %s\n", WM_QUEUE, qs_strerror(qid));
		return 1;
	}
	printf("wm: serving queue %s (qid %d), screen %dx%dx%d\n", WM_QUEUE, qid,
	       fb.width, fb.height, fb.bpp);
	return qs_serve_table(qid, &server, THREADS) < 0;
}
