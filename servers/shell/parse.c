/*
 * Command line splitting and line editing for the shell. Pure logic: no
 * I/O, no allocation.
 */
#include <stdbool.h>
#include <stddef.h>

#include "parse.h"

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * One pass over the line. With store false nothing is written, so the
 * caller can validate and count before committing to modify the line.
 * The write position never passes the read position, which is what makes
 * splitting in place safe.
 */
static int
scan(char *line, char **argv, bool store)
{
	char *r = line, *w = line;
	int argc = 0;

	for (;;) {
		char *start;
		bool quoted = false;

		while (is_blank(*r))
			r++;
		if (*r == '\0')
			return argc;

		start = w;
		while (*r != '\0' && (quoted || !is_blank(*r))) {
			char c = *r++;

			if (c == '"') {
				quoted = !quoted;
				continue;
			}
			if (quoted && c == '\\' && (*r == '"' || *r == '\\'))
				c = *r++;
			if (store)
				*w = c;
			w++;
		}
		if (quoted)
			return SH_PARSE_EQUOTE;
		/* Step over the separator before the terminator may cover it. */
		if (*r != '\0')
			r++;
		if (store) {
			*w = '\0';
			argv[argc] = start;
		}
		w++;
		argc++;
	}
}

int
sh_parse_line(char *line, char **argv, int max_args)
{
	int argc = scan(line, NULL, false);

	if (argc < 0)
		return argc;
	if (argc > max_args)
		return SH_PARSE_ETOOMANY;
	scan(line, argv, true);
	argv[argc] = NULL;
	return argc;
}

void
sh_line_reset(sh_line_t *ed)
{
	ed->len = 0;
	ed->killed = 0;
	ed->buf[0] = '\0';
}

int
sh_line_edit(sh_line_t *ed, int ch)
{
	switch (ch) {
	case '\r':
	case '\n':
		return SH_EDIT_DONE;
	case 0x08:
	case 0x7f:
		if (ed->len == 0)
			return SH_EDIT_IGNORED;
		ed->buf[--ed->len] = '\0';
		return SH_EDIT_ERASE;
	case 0x03:
		sh_line_reset(ed);
		return SH_EDIT_CANCEL;
	case 0x15:
		if (ed->len == 0)
			return SH_EDIT_IGNORED;
		ed->killed = ed->len;
		ed->len = 0;
		ed->buf[0] = '\0';
		return SH_EDIT_KILL;
	}
	if (ch < 0x20 || ch > 0x7e || ed->len >= SH_LINE_MAX - 1)
		return SH_EDIT_IGNORED;
	ed->buf[ed->len++] = (char)ch;
	ed->buf[ed->len] = '\0';
	return SH_EDIT_NONE;
}
