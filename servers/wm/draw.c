/*
 * The back buffer: every change is drawn here first and then copied to the
 * framebuffer a rectangle at a time, so the screen never shows a window
 * half drawn and the (uncached) framebuffer is only ever written.
 */
#include <stdlib.h>
#include <string.h>
#include <qs/abi.h>
#include "draw.h"
#include "font.h"

static uint32_t *back;
static int scr_w, scr_h;
static rect_t clip;

static int
imax(int a, int b)
{
	return a > b ? a : b;
}

static int
imin(int a, int b)
{
	return a < b ? a : b;
}

rect_t
rect_intersect(rect_t a, rect_t b)
{
	int x0 = imax(a.x, b.x), y0 = imax(a.y, b.y);
	int x1 = imin(a.x + a.w, b.x + b.w), y1 = imin(a.y + a.h, b.y + b.h);
	if (x1 <= x0 || y1 <= y0)
		return rect_make(0, 0, 0, 0);
	return rect_make(x0, y0, x1 - x0, y1 - y0);
}

int
draw_init(int width, int height)
{
	back = malloc((size_t)width * (size_t)height * sizeof(*back));
	if (!back)
		return QS_ENOMEM;
	scr_w = width;
	scr_h = height;
	clip = rect_make(0, 0, width, height);
	return 0;
}

void
draw_clip(rect_t r)
{
	clip = rect_intersect(r, rect_make(0, 0, scr_w, scr_h));
}

void
draw_fill(rect_t r, uint32_t color)
{
	r = rect_intersect(r, clip);
	for (int y = r.y; y < r.y + r.h; y++) {
		uint32_t *p = back + (size_t)y * scr_w + r.x;
		for (int x = 0; x < r.w; x++)
			p[x] = color;
	}
}

void
draw_frame(rect_t r, int t, uint32_t color)
{
	draw_fill(rect_make(r.x, r.y, r.w, t), color);
	draw_fill(rect_make(r.x, r.y + r.h - t, r.w, t), color);
	draw_fill(rect_make(r.x, r.y + t, t, r.h - 2 * t), color);
	draw_fill(rect_make(r.x + r.w - t, r.y + t, t, r.h - 2 * t), color);
}

static const uint8_t *
glyph(unsigned char c)
{
	int i = c >= FONT_FIRST && c <= FONT_LAST ? c - FONT_FIRST : FONT_CHARS - 1;
	return font_glyphs + (size_t)i * font_height * font_row_bytes;
}

static void
draw_glyph(int x0, int y0, unsigned char c, uint32_t color)
{
	rect_t r = rect_intersect(rect_make(x0, y0, font_width, font_height), clip);
	const uint8_t *g = glyph(c);
	for (int y = r.y; y < r.y + r.h; y++) {
		const uint8_t *row = g + (y - y0) * font_row_bytes;
		uint32_t *p = back + (size_t)y * scr_w;
		for (int x = r.x; x < r.x + r.w; x++) {
			int bit = x - x0;
			if (row[bit / 8] & (0x80 >> (bit % 8)))
				p[x] = color;
		}
	}
}

void
draw_text(int x, int y, const char *s, int max, uint32_t color)
{
	for (int i = 0; i < max && s[i]; i++, x += font_width)
		if (x < clip.x + clip.w && x + font_width > clip.x)
			draw_glyph(x, y, (unsigned char)s[i], color);
}

int
draw_char_width(void)
{
	return font_width;
}

int
draw_char_height(void)
{
	return font_height;
}

void
draw_present(const fb_t *fb, rect_t r)
{
	r = rect_intersect(r, rect_make(0, 0, scr_w, scr_h));
	for (int y = r.y; y < r.y + r.h; y++)
		memcpy((void *)(fb->pixels + (size_t)y * fb->pitch + r.x),
		       back + (size_t)y * scr_w + r.x, (size_t)r.w * 4);
}
