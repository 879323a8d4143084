/*
 * The look of the screen. A window is a border, a title bar (highlighted
 * on the top window) and a text area; the status line at the bottom says
 * which node this is and how many windows are open. Every redraw repaints
 * a rectangle completely from the window table, so there is no damage
 * bookkeeping to get wrong.
 */
#include <stdio.h>
#include "render.h"
#include "win.h"

#define BORDER 2
#define PAD 4 /* around the title and the text */

#define C_BORDER 0x00202020u
#define C_TITLE_TOP 0x002a6fd6u
#define C_TITLE 0x00808890u
#define C_TITLE_TEXT 0x00ffffffu
#define C_TEXT_BG 0x00f4f4ecu
#define C_TEXT 0x00101010u
#define C_STATUS_BG 0x00181818u
#define C_STATUS_TEXT 0x00d0d0d0u

static const fb_t *screen_fb;
static uint32_t node;
static rect_t screen, status;

static int
title_height(void)
{
	return draw_char_height() + 2 * PAD;
}

rect_t
render_init(const fb_t *fb, uint32_t node_id)
{
	screen_fb = fb;
	node = node_id;
	screen = rect_make(0, 0, fb->width, fb->height);
	int sh = draw_char_height() + PAD;
	status = rect_make(0, fb->height - sh, fb->width, sh);
	return rect_make(0, 0, fb->width, fb->height - sh);
}

static rect_t
text_area(rect_t r)
{
	int top = BORDER + title_height();
	return rect_make(r.x + BORDER + PAD, r.y + top + PAD,
			 r.w - 2 * (BORDER + PAD), r.h - top - BORDER - 2 * PAD);
}

void
render_text_cells(rect_t r, int *cols, int *rows)
{
	rect_t t = text_area(r);
	*cols = t.w / draw_char_width();
	*rows = t.h / draw_char_height();
}

static void
draw_window(const win_t *w, int is_top)
{
	rect_t r = w->r;
	draw_frame(r, BORDER, C_BORDER);
	rect_t bar = rect_make(r.x + BORDER, r.y + BORDER, r.w - 2 * BORDER,
			       title_height());
	draw_fill(bar, is_top ? C_TITLE_TOP : C_TITLE);
	draw_text(bar.x + PAD, bar.y + PAD, w->title,
		  (bar.w - 2 * PAD) / draw_char_width(), C_TITLE_TEXT);
	rect_t body = rect_make(r.x + BORDER, bar.y + bar.h, r.w - 2 * BORDER,
				r.h - 2 * BORDER - bar.h);
	draw_fill(body, C_TEXT_BG);
	rect_t t = text_area(r);
	for (int i = 0; i < w->text.count; i++)
		draw_text(t.x, t.y + i * draw_char_height(), text_row(&w->text, i),
			  w->text.cols, C_TEXT);
}

static void
draw_status(void)
{
	char line[80];
	draw_fill(status, C_STATUS_BG);
	snprintf(line, sizeof(line), "node %u  windows %d", node, win_count());
	draw_text(status.x + PAD, status.y + PAD / 2, line, (int)sizeof(line),
		  C_STATUS_TEXT);
	snprintf(line, sizeof(line), "qs wm %dx%d", screen.w, screen.h);
	int len = 0;
	while (line[len])
		len++;
	draw_text(status.x + status.w - PAD - len * draw_char_width(),
		  status.y + PAD / 2, line, len, C_STATUS_TEXT);
}

void
render_area(rect_t r)
{
	r = rect_intersect(r, screen);
	if (rect_empty(r))
		return;
	draw_clip(r);
	draw_fill(r, RENDER_BACKGROUND);
	win_t *top = win_top();
	for (int i = 0; win_at(i); i++) {
		const win_t *w = win_at(i);
		if (!rect_empty(rect_intersect(w->r, r)))
			draw_window(w, w == top);
	}
	if (!rect_empty(rect_intersect(status, r)))
		draw_status();
	draw_clip(screen);
	draw_present(screen_fb, r);
}

void
render_all(void)
{
	render_area(screen);
}
