/*
 * The window manager's protocol, on queue "wm". A window belongs to the
 * transaction of the request that created it: it is closed when that
 * transaction ends or aborts (the WM is a volatile participant). Only
 * requests under the same transaction may write, clear or close it.
 *
 * Errors: every request may get QS_ENOSYS (no such opcode) and QS_EINVAL
 * (inline data of another size than its comment says, or any out-of-line
 * data). A request naming a window gets QS_ENOENT if there is no such
 * open window, QS_EPERM if it is not under the window's transaction.
 */
#ifndef QS_WM_H
#define QS_WM_H

#include <stdint.h>

#define WM_QUEUE "wm"
#define WM_TITLE_MAX 32 /* with the NUL */
#define WM_LINE_MAX 128 /* a written line, with the NUL; longer is cut */
/* Windows open at once: all clients' together, and one client process's
 * (the creating request's src_node and src_pid). */
#define WM_WINDOWS_MAX 64
#define WM_CLIENT_WINDOWS 16

enum {
	WM_OP_CREATE = 1, /* data: title (1 byte or more; up to a NUL, cut to
			     WM_TITLE_MAX - 1) -> wm_created_t; QS_ELIMIT
			     (the client has WM_CLIENT_WINDOWS open),
			     QS_EAGAIN (WM_WINDOWS_MAX are open), QS_ENOMEM,
			     QS_ENOENT (the transaction ended, or ends
			     meanwhile), or the TM's error to the join */
	WM_OP_WRITE = 2,  /* data: wm_write_t header, then the text (up to a
			     NUL or the end; longer lines are cut) -> 0;
			     QS_ENOENT, QS_EPERM */
	WM_OP_CLEAR = 3,  /* data: int32_t window id -> 0; QS_ENOENT, QS_EPERM */
	WM_OP_CLOSE = 4,  /* data: int32_t window id -> 0; QS_ENOENT, QS_EPERM */
	WM_OP_LIST = 5,   /* no data -> wm_info_t[] (inline data); the
			     status is their count */
	WM_OP_STATS = 6,  /* no data -> wm_stats_t */
	WM_OP_RAISE = 7,  /* data: int32_t window id: to the top of the z-order
			     -> 0; QS_ENOENT, QS_EPERM */
};

typedef struct {
	int32_t id;
} wm_created_t;

typedef struct {
	int32_t id;
	/* followed by the text; '\n' starts a new line */
} wm_write_t;

/* One window, in z-order from the bottom. Coordinates in pixels. */
typedef struct {
	int32_t id;
	int32_t pid; /* the creating process */
	uint64_t tx; /* the owning transaction */
	int32_t x, y, w, h;
	char title[WM_TITLE_MAX];
} wm_info_t;

typedef struct {
	uint32_t windows; /* open now */
	uint32_t crumbs;  /* the WM's live breadcrumbs */
	uint32_t created, closed_by_client, closed_by_tx;
	uint32_t width, height, bpp; /* the screen */
	uint32_t heap;               /* the WM's heap in use, bytes */
	uint32_t bad;  /* requests refused before any work: no such opcode,
			  a wrong size (qs/serve.h) */
	uint32_t limited; /* creates refused for the client's limit
			     (WM_CLIENT_WINDOWS: QS_ELIMIT) */
} wm_stats_t;

#endif
