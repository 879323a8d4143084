/*
 * The shell's input handling, kept free of I/O so it can be unit tested:
 * splitting a command line into arguments and a minimal line editor.
 */
#ifndef SH_PARSE_H
#define SH_PARSE_H

#define SH_PARSE_EQUOTE (-1)   /* a double quote was never closed */
#define SH_PARSE_ETOOMANY (-2) /* more than max_args arguments */

/*
 * Splits line in place into arguments separated by spaces and tabs.
 * Double quotes group text into one argument and are removed; they may
 * appear inside a word (a"b c"d is the single argument "ab cd") and ""
 * is an empty argument. Inside quotes \" and \\ stand for " and \; any
 * other backslash is literal, as is every backslash outside quotes.
 *
 * argv must have room for max_args + 1 pointers (max_args >= 0): on
 * success argv[0..argc-1] point into line, argv[argc] is NULL and argc is
 * returned. On error the line is checked completely before anything is
 * written, so line and argv are left untouched; SH_PARSE_EQUOTE wins if
 * both errors apply.
 */
int sh_parse_line(char *line, char **argv, int max_args);

#define SH_LINE_MAX 256 /* buffer size; a line holds SH_LINE_MAX - 1 chars */

typedef struct {
	char buf[SH_LINE_MAX]; /* always NUL-terminated */
	int len;
	int killed; /* chars removed by the last SH_EDIT_KILL */
} sh_line_t;

enum {
	SH_EDIT_NONE,    /* char appended: echo it */
	SH_EDIT_ERASE,   /* last char removed: echo "\b \b" */
	SH_EDIT_IGNORED, /* nothing changed: echo nothing */
	SH_EDIT_DONE,    /* Enter: buf holds the line; process it, then reset */
	SH_EDIT_CANCEL,  /* Ctrl-C: line discarded (buf is empty) */
	SH_EDIT_KILL     /* Ctrl-U: line emptied; erase `killed` chars on screen */
};

void sh_line_reset(sh_line_t *ed);

/*
 * Feeds one input char (any int) and returns an SH_EDIT_* value. Only
 * printable ASCII is stored; once the line is full further chars are
 * dropped but Enter still accepts what was kept. '\r' and '\n' both end
 * the line, so a terminal sending "\r\n" yields a second, empty line.
 */
int sh_line_edit(sh_line_t *ed, int ch);

#endif
