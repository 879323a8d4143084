/*
 * wm, the window manager: draws text windows on QEMU's standard VGA and
 * serves the protocol of qs/wm.h on queue "wm".
 *
 * A window is a breadcrumb of the transaction that created it (the WM is a
 * volatile participant): when that transaction ends or aborts, the
 * library's recovery thread runs close_crumb and the window goes. Only
 * requests under the same transaction may change the window.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* The title: the request's data up to its NUL, cut to WM_TITLE_MAX - 1. */
static int
get_title(const qs_msg_t *req, char title[WM_TITLE_MAX])
{
	if (req->hdr.len == 0)
		return QS_EINVAL;
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
op_create(const qs_msg_t *req, qs_msg_t *reply)
{
	char title[WM_TITLE_MAX];
	int err = get_title(req, title);
	if (err < 0)
		return err;
	qs_mutex_lock(&lock);
	win_t *w = win_reserve(req->hdr.src_pid, req->hdr.txid, title, &err);
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

static int32_t
op_write(const qs_msg_t *req)
{
	const wm_write_t *wr = QS_MSG_AS(req, wm_write_t);
	if (!wr)
		return QS_EINVAL;
	const char *s = (const char *)req->data + sizeof(*wr);
	size_t len = strnlen(s, req->hdr.len - sizeof(*wr));
	int err = 0;
	qs_mutex_lock(&lock);
	win_t *w = owned(req, wr->id, &err);
	if (w) {
		text_write(&w->text, s, len);
		render_area(w->r);
	}
	qs_mutex_unlock(&lock);
	return err;
}

static int32_t
op_close(const qs_msg_t *req, int32_t id)
{
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

/* CLEAR, CLOSE and RAISE: the request is one window id. */
static int32_t
op_window(const qs_msg_t *req)
{
	const int32_t *id = QS_MSG_AS(req, int32_t);
	if (!id)
		return QS_EINVAL;
	if (req->hdr.opcode == WM_OP_CLOSE)
		return op_close(req, *id);
	int err = 0;
	qs_mutex_lock(&lock);
	win_t *w = owned(req, *id, &err);
	if (w && req->hdr.opcode == WM_OP_CLEAR) {
		text_clear(&w->text);
		render_area(w->r);
	} else if (w) {
		win_raise(w);
		render_all(); /* the title bars change colour */
	}
	qs_mutex_unlock(&lock);
	return err;
}

static int32_t
op_list(qs_msg_t *reply)
{
	static wm_info_t info[WIN_MAX]; /* only touched under the lock */
	qs_mutex_lock(&lock);
	int n = win_list(info, WIN_MAX);
	qs_msg_put(reply, info, (size_t)n * sizeof(info[0]));
	qs_mutex_unlock(&lock);
	return n;
}

static int32_t
op_stats(qs_msg_t *reply)
{
	qs_mutex_lock(&lock);
	wm_stats_t s = stats;
	s.windows = (uint32_t)win_count();
	qs_mutex_unlock(&lock);
	int crumbs = crumb_count();
	s.crumbs = crumbs > 0 ? (uint32_t)crumbs : 0;
	s.heap = (uint32_t)qs_heap_in_use();
	qs_msg_put(reply, &s, sizeof(s));
	return 0;
}

static int32_t
handle(const qs_msg_t *req, qs_msg_t *reply, void *ctx)
{
	(void)ctx;
	switch (req->hdr.opcode) {
	case WM_OP_CREATE:
		return op_create(req, reply);
	case WM_OP_WRITE:
		return op_write(req);
	case WM_OP_CLEAR:
	case WM_OP_CLOSE:
	case WM_OP_RAISE:
		return op_window(req);
	case WM_OP_LIST:
		return op_list(reply);
	case WM_OP_STATS:
		return op_stats(reply);
	default:
		return QS_EINVAL;
	}
}

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
	return qs_serve(qid, handle, NULL, THREADS) < 0;
}
