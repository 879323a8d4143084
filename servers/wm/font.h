/*
 * The WM's bitmap font, generated at build time by scripts/psf2c.py from a
 * Debian console font (build/gen/wm/font.c). Glyph i is code point
 * FONT_FIRST + i; the last one is the '?' shown for anything else.
 */
#ifndef WM_FONT_H
#define WM_FONT_H

#include <stdint.h>

#define FONT_FIRST 0x20
#define FONT_LAST 0x7E
#define FONT_CHARS (FONT_LAST - FONT_FIRST + 2)

extern const int font_width, font_height, font_row_bytes;
extern const uint8_t font_glyphs[];

#endif
