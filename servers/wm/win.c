/*
 * Window bookkeeping and placement. The first four windows tile the screen
 * in a 2x2 grid, so that several clients are all visible at once; more
 * windows cascade over them. A closed window's tile is reused.
 */
#include <stdlib.h>
#include <string.h>
#include <qs/abi.h>
#include "render.h"
#include "win.h"

#define MARGIN 8        /* between tiles and around them */
#define TILES_X 2
#define TILES_Y 2
#define TILES (TILES_X * TILES_Y)
#define CASCADE_STEP 24 /* each further window is this far down and right */
#define CASCADE_MAX 8   /* then it starts over at the top left */

static win_t *z[WIN_MAX]; /* bottom first */
static int nz;
static int32_t next_id = 1;
static rect_t area;
static uint32_t cascaded; /* windows placed by cascading so far */

void
win_init(rect_t a)
{
	area = a;
}

static int
client_windows(uint32_t node, int32_t pid)
{
	int n = 0;
	for (int i = 0; i < nz; i++)
		n += z[i]->node == node && z[i]->pid == pid;
	return n;
}

win_t *
win_reserve(uint32_t node, int32_t pid, uint64_t tx, const char *title,
	    int *err)
{
	if (client_windows(node, pid) >= WM_CLIENT_WINDOWS) {
		*err = QS_ELIMIT;
		return NULL;
	}
	if (nz == WIN_MAX) {
		*err = QS_EAGAIN;
		return NULL;
	}
	win_t *w = calloc(1, sizeof(*w));
	if (!w) {
		*err = QS_ENOMEM;
		return NULL;
	}
	w->id = next_id++;
	w->node = node;
	w->pid = pid;
	w->tx = tx;
	w->slot = -1;
	w->pending = true;
	strlcpy(w->title, title, sizeof(w->title));
	z[nz++] = w;
	return w;
}

static bool
slot_used(int slot)
{
	for (int i = 0; i < nz; i++)
		if (!z[i]->pending && z[i]->slot == slot)
			return true;
	return false;
}

static rect_t
tile_rect(int slot)
{
	int w = (area.w - (TILES_X + 1) * MARGIN) / TILES_X;
	int h = (area.h - (TILES_Y + 1) * MARGIN) / TILES_Y;
	int col = slot % TILES_X, row = slot / TILES_X;
	return rect_make(area.x + MARGIN + col * (w + MARGIN),
			 area.y + MARGIN + row * (h + MARGIN), w, h);
}

static void
place(win_t *w)
{
	for (int s = 0; s < TILES; s++) {
		if (!slot_used(s)) {
			w->slot = s;
			w->r = tile_rect(s);
			return;
		}
	}
	int k = (int)(cascaded++ % CASCADE_MAX) + 1;
	rect_t t = tile_rect(0);
	w->r = rect_make(t.x + k * CASCADE_STEP, t.y + k * CASCADE_STEP, t.w, t.h);
}

void
win_open(win_t *w)
{
	int cols, rows;
	place(w);
	render_text_cells(w->r, &cols, &rows);
	text_init(&w->text, cols, rows);
	w->pending = false;
	win_raise(w);
}

static int
index_of(const win_t *w)
{
	for (int i = 0; i < nz; i++)
		if (z[i] == w)
			return i;
	return -1;
}

void
win_remove(win_t *w)
{
	int i = index_of(w);
	if (i < 0)
		return;
	memmove(&z[i], &z[i + 1], (size_t)(nz - i - 1) * sizeof(z[0]));
	nz--;
	free(w);
}

void
win_raise(win_t *w)
{
	int i = index_of(w);
	if (i < 0)
		return;
	memmove(&z[i], &z[i + 1], (size_t)(nz - i - 1) * sizeof(z[0]));
	z[nz - 1] = w;
}

win_t *
win_find(int32_t id)
{
	for (int i = 0; i < nz; i++)
		if (z[i]->id == id)
			return z[i];
	return NULL;
}

int
win_count(void)
{
	int n = 0;
	for (int i = 0; i < nz; i++)
		n += !z[i]->pending;
	return n;
}

win_t *
win_at(int i)
{
	for (int k = 0; k < nz; k++)
		if (!z[k]->pending && i-- == 0)
			return z[k];
	return NULL;
}

win_t *
win_top(void)
{
	for (int k = nz - 1; k >= 0; k--)
		if (!z[k]->pending)
			return z[k];
	return NULL;
}

int
win_list(wm_info_t *out, int max)
{
	int n = 0;
	for (win_t *w; n < max && (w = win_at(n)); n++) {
		memset(&out[n], 0, sizeof(out[n]));
		out[n].id = w->id;
		out[n].pid = w->pid;
		out[n].tx = w->tx;
		out[n].x = w->r.x;
		out[n].y = w->r.y;
		out[n].w = w->r.w;
		out[n].h = w->r.h;
		strlcpy(out[n].title, w->title, sizeof(out[n].title));
	}
	return n;
}
