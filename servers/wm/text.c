/*
 * Window text as a ring of display rows. Only what can be shown is kept:
 * the WM is a screen, not a log.
 */
#include <string.h>
#include "text.h"

static int
clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void
text_init(text_t *t, int cols, int rows)
{
	t->cols = clamp(cols, 1, TEXT_COLS_MAX);
	t->rows = clamp(rows, 1, TEXT_ROWS_MAX);
	text_clear(t);
}

void
text_clear(text_t *t)
{
	t->first = t->count = t->cur_len = t->line_len = 0;
	t->pending_nl = true; /* the first character opens the first row */
}

static char *
newest(text_t *t)
{
	return t->row[(t->first + t->count - 1) % t->rows];
}

static void
new_row(text_t *t)
{
	if (t->count < t->rows)
		t->count++;
	else
		t->first = (t->first + 1) % t->rows; /* scroll */
	newest(t)[0] = 0;
	t->cur_len = 0;
}

static void
put_char(text_t *t, char c)
{
	if (t->line_len >= WM_LINE_MAX - 1)
		return; /* the rest of an overlong line is cut */
	if (t->pending_nl || t->cur_len == t->cols)
		new_row(t);
	t->pending_nl = false;
	char *r = newest(t);
	r[t->cur_len++] = c == '\t' ? ' ' : c;
	r[t->cur_len] = 0;
	t->line_len++;
}

void
text_write(text_t *t, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n') {
			if (t->pending_nl)
				new_row(t); /* an empty line */
			t->pending_nl = true;
			t->line_len = 0;
		} else if (s[i] != '\r') {
			put_char(t, s[i]);
		}
	}
}

const char *
text_row(const text_t *t, int i)
{
	if (i < 0 || i >= t->count)
		return "";
	return t->row[(t->first + i) % t->rows];
}
