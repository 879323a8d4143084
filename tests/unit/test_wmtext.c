/*
 * Unit tests for the window manager's text buffer (servers/wm/text.c):
 * lines, wrapping, cutting and scrolling.
 */
#include <stdbool.h>
#include <string.h>

#include "check.h"
#include "../../servers/wm/text.h"

static text_t t;

/* The rows shown, joined with '|'. */
static const char *
shown(void)
{
	static char buf[TEXT_ROWS_MAX * (TEXT_COLS_MAX + 1) + 1];
	size_t n = 0;
	buf[0] = 0;
	for (int i = 0; i < t.count; i++) {
		if (i)
			buf[n++] = '|';
		n += strlcpy(buf + n, text_row(&t, i), sizeof(buf) - n);
	}
	return buf;
}

static void
put(const char *s)
{
	text_write(&t, s, strlen(s));
}

static void
test_lines(void)
{
	text_init(&t, 10, 5);
	CHECK(t.count == 0 && strcmp(shown(), "") == 0);
	put("ab");
	put("c\nde\n");
	CHECK(strcmp(shown(), "abc|de") == 0);
	put("f");
	CHECK(strcmp(shown(), "abc|de|f") == 0);
	put("\n\ng\r");
	CHECK(strcmp(shown(), "abc|de|f||g") == 0);
}

static void
test_wrap_and_scroll(void)
{
	text_init(&t, 4, 3);
	put("abcdefghij");
	CHECK(strcmp(shown(), "abcd|efgh|ij") == 0);
	put("\nxy\n");
	CHECK(strcmp(shown(), "efgh|ij|xy") == 0);
	text_clear(&t);
	CHECK(t.count == 0);
	put("\tz");
	CHECK(strcmp(shown(), " z") == 0);
}

static void
test_long_line_cut(void)
{
	char line[300];
	text_init(&t, TEXT_COLS_MAX, 4);
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = 0;
	put(line);
	put("\nok");
	CHECK(t.count == 2 && strlen(text_row(&t, 0)) == WM_LINE_MAX - 1);
	CHECK(strcmp(text_row(&t, 1), "ok") == 0);
	CHECK(strcmp(text_row(&t, 7), "") == 0);
}

static void
test_sizes_clamped(void)
{
	text_init(&t, 0, 1000);
	CHECK(t.cols == 1 && t.rows == TEXT_ROWS_MAX);
	put("ab");
	CHECK(strcmp(shown(), "a|b") == 0);
}

int
main(void)
{
	RUN(test_lines);
	RUN(test_wrap_and_scroll);
	RUN(test_long_line_cut);
	RUN(test_sizes_clamped);
	return check_summary();
}
