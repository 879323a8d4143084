/*
 * The windows: a table in z-order (bottom first), placement on the screen,
 * and each window's text. All of it runs under the WM's lock.
 *
 * A window is "pending" from the moment its slot is reserved until its
 * breadcrumb is in place; a pending window is not shown, listed or usable,
 * but it counts against WIN_MAX.
 */
#ifndef WM_WIN_H
#define WM_WIN_H

#include <stdbool.h>
#include <stdint.h>
#include <qs/wm.h>
#include "draw.h"
#include "text.h"

#define WIN_MAX WM_WINDOWS_MAX

typedef struct {
	int32_t id;  /* never reused */
	uint32_t node; /* the creating process: its node ... */
	int32_t pid;   /* ... and pid */
	uint64_t tx; /* the owning transaction */
	rect_t r;
	int slot;     /* tiling slot, or -1 when cascaded */
	bool pending; /* reserved, not yet open */
	bool doomed;  /* its transaction ended while it was pending */
	char title[WM_TITLE_MAX];
	text_t text;
} win_t;

/* The area windows are placed in (the screen above the status line). */
void win_init(rect_t area);
/*
 * Reserves a window (pending) for process pid of node. NULL with *err
 * QS_ELIMIT when that process has WM_CLIENT_WINDOWS open or pending,
 * QS_EAGAIN when WIN_MAX are, QS_ENOMEM when memory is short.
 */
win_t *win_reserve(uint32_t node, int32_t pid, uint64_t tx, const char *title,
		   int *err);
/* Places a pending window and puts it on top. */
void win_open(win_t *w);
/* Takes a window (pending or open) out and frees it. */
void win_remove(win_t *w);
void win_raise(win_t *w);
win_t *win_find(int32_t id); /* pending ones too */
int win_count(void);         /* open windows */
/* The i-th open window from the bottom, NULL past the top. */
win_t *win_at(int i);
win_t *win_top(void);
int win_list(wm_info_t *out, int max);

#endif
