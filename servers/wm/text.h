/*
 * A window's text: the last rows that fit, as they are shown. Written text
 * is wrapped at the window's width; '\n' starts a new line; a line longer
 * than WM_LINE_MAX - 1 characters is cut. When the rows are full the
 * oldest one scrolls away.
 */
#ifndef WM_TEXT_H
#define WM_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <qs/wm.h>

#define TEXT_ROWS_MAX 40 /* 600 pixels of 16-pixel rows, and some */
#define TEXT_COLS_MAX (WM_LINE_MAX - 1)

typedef struct {
	int cols, rows;  /* the window's size in characters */
	int first;       /* ring index of the oldest row shown */
	int count;       /* rows in use */
	int cur_len;     /* characters in the newest row */
	int line_len;    /* characters of the current line, for the cut */
	bool pending_nl; /* the next character starts a new row */
	char row[TEXT_ROWS_MAX][TEXT_COLS_MAX + 1];
} text_t;

/* cols and rows are clamped to 1..TEXT_COLS_MAX and 1..TEXT_ROWS_MAX. */
void text_init(text_t *t, int cols, int rows);
void text_clear(text_t *t);
void text_write(text_t *t, const char *s, size_t len);
/* Row i of the text shown, 0 the top one, i < t->count; NUL-terminated. */
const char *text_row(const text_t *t, int i);

#endif
