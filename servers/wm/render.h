/*
 * Drawing the scene: the background, the windows bottom to top, and the
 * status line, then copying the changed area to the screen. Called under
 * the WM's lock.
 */
#ifndef WM_RENDER_H
#define WM_RENDER_H

#include <stdint.h>
#include "draw.h"
#include "fb.h"

#define RENDER_BACKGROUND 0x00305070u /* uniform: tests look for it */

/* Sets up for `fb`; returns the area windows may use (above the status). */
rect_t render_init(const fb_t *fb, uint32_t node_id);
/* How many characters fit in the text area of a window at r. */
void render_text_cells(rect_t r, int *cols, int *rows);
/* Redraws r of the screen from the window table. */
void render_area(rect_t r);
void render_all(void);

#endif
