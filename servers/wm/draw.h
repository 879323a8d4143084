/*
 * Drawing into the WM's back buffer (ordinary memory), then copying
 * rectangles of it to the framebuffer. Everything drawn is cut to the
 * current clip rectangle. Not thread-safe: the WM draws under its lock.
 */
#ifndef WM_DRAW_H
#define WM_DRAW_H

#include <stdbool.h>
#include <stdint.h>
#include "fb.h"

typedef struct {
	int x, y, w, h;
} rect_t;

static inline rect_t
rect_make(int x, int y, int w, int h)
{
	rect_t r = { x, y, w, h };
	return r;
}

static inline bool
rect_empty(rect_t r)
{
	return r.w <= 0 || r.h <= 0;
}

rect_t rect_intersect(rect_t a, rect_t b);

/* Allocates a width x height back buffer; QS_ENOMEM if it cannot. */
int draw_init(int width, int height);
/* Sets the clip rectangle (cut to the screen); the whole screen at first. */
void draw_clip(rect_t r);
void draw_fill(rect_t r, uint32_t color);
/* A frame `t` pixels thick just inside r. */
void draw_frame(rect_t r, int t, uint32_t color);
/*
 * Text at (x, y), top left of the first glyph, at most `max` characters
 * (stops at a NUL); only the glyphs' set pixels are drawn. Characters the
 * font lacks show as '?'.
 */
void draw_text(int x, int y, const char *s, int max, uint32_t color);
int draw_char_width(void);
int draw_char_height(void);
/* Copies r of the back buffer to the framebuffer. */
void draw_present(const fb_t *fb, rect_t r);

#endif
