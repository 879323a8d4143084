/*
 * Unit tests for the shell's line splitter and line editor.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "check.h"
#include "../../servers/shell/parse.h"

#define MAX_ARGS 8

/*
 * Parses src (copied, since parsing is in place) and compares with the
 * expected arguments, given as a NULL-terminated list.
 */
static bool
parses_as(const char *src, const char *const *want)
{
	char line[128];
	char *argv[MAX_ARGS + 1];
	int n = 0;

	strlcpy(line, src, sizeof(line));
	while (want[n] != NULL)
		n++;
	if (sh_parse_line(line, argv, MAX_ARGS) != n || argv[n] != NULL)
		return false;
	for (int i = 0; i < n; i++) {
		if (strcmp(argv[i], want[i]) != 0)
			return false;
	}
	return true;
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void
test_plain_words(void)
{
	CHECK(parses_as("echo hello world", ARGS("echo", "hello", "world")));
	CHECK(parses_as("  \tls   -l\t\t/  ", ARGS("ls", "-l", "/")));
	CHECK(parses_as("x", ARGS("x")));
	CHECK(parses_as("a\\b", ARGS("a\\b"))); /* backslash literal outside quotes */
}

static void
test_empty_lines(void)
{
	char empty[] = "";
	char blanks[] = "  \t  ";
	char *argv[MAX_ARGS + 1] = { (char *)"junk" };

	CHECK(sh_parse_line(empty, argv, MAX_ARGS) == 0 && argv[0] == NULL);
	argv[0] = (char *)"junk";
	CHECK(sh_parse_line(blanks, argv, MAX_ARGS) == 0 && argv[0] == NULL);
	argv[0] = (char *)"junk";
	CHECK(sh_parse_line(empty, argv, 0) == 0 && argv[0] == NULL);
}

static void
test_quotes(void)
{
	CHECK(parses_as("say \"a b\"  c", ARGS("say", "a b", "c")));
	CHECK(parses_as("\"\" x", ARGS("", "x")));
	CHECK(parses_as("x \"\"", ARGS("x", "")));
	CHECK(parses_as("a\"b c\"d", ARGS("ab cd")));
	CHECK(parses_as("\"  lead and trail  \"", ARGS("  lead and trail  ")));
	CHECK(parses_as("\"tab\there\"", ARGS("tab\there")));
	CHECK(parses_as("\"a\"\"b\"", ARGS("ab")));
}

static void
test_escapes(void)
{
	CHECK(parses_as("\"say \\\"hi\\\"\"", ARGS("say \"hi\"")));
	CHECK(parses_as("\"back\\\\slash\"", ARGS("back\\slash")));
	CHECK(parses_as("\"a\\\\\"", ARGS("a\\")));
	CHECK(parses_as("\"\\n stays\"", ARGS("\\n stays")));
	CHECK(parses_as("\"\\\\\\\"\" z", ARGS("\\\"", "z")));
}

static void
test_too_many(void)
{
	char line[] = "a b c";
	char exact[] = "a b";
	char *argv[3] = { NULL, NULL, NULL };

	CHECK(sh_parse_line(line, argv, 2) == SH_PARSE_ETOOMANY);
	CHECK(memcmp(line, "a b c", 6) == 0); /* untouched */
	CHECK(argv[0] == NULL);

	CHECK(sh_parse_line(exact, argv, 2) == 2);
	CHECK(strcmp(argv[0], "a") == 0 && strcmp(argv[1], "b") == 0);
	CHECK(argv[2] == NULL);

	char one[] = "a";
	CHECK(sh_parse_line(one, argv, 0) == SH_PARSE_ETOOMANY);
}

static void
test_unterminated_quote(void)
{
	char a[] = "echo \"abc";
	char b[] = "\"abc\\\"";  /* the only quote after abc is escaped */
	char c[] = "\"x\\";
	char d[] = "a b c \"d";   /* both errors: the quote one wins */
	char *argv[MAX_ARGS + 1] = { NULL };

	CHECK(sh_parse_line(a, argv, MAX_ARGS) == SH_PARSE_EQUOTE);
	CHECK(strcmp(a, "echo \"abc") == 0);
	CHECK(argv[0] == NULL);
	CHECK(sh_parse_line(b, argv, MAX_ARGS) == SH_PARSE_EQUOTE);
	CHECK(sh_parse_line(c, argv, MAX_ARGS) == SH_PARSE_EQUOTE);
	CHECK(sh_parse_line(d, argv, 2) == SH_PARSE_EQUOTE);
}

static void
test_edit_typing_and_erase(void)
{
	sh_line_t ed;

	sh_line_reset(&ed);
	CHECK(sh_line_edit(&ed, 'l') == SH_EDIT_NONE);
	CHECK(sh_line_edit(&ed, 's') == SH_EDIT_NONE);
	CHECK(ed.len == 2 && strcmp(ed.buf, "ls") == 0);
	CHECK(sh_line_edit(&ed, 0x08) == SH_EDIT_ERASE);
	CHECK(ed.len == 1 && strcmp(ed.buf, "l") == 0);
	CHECK(sh_line_edit(&ed, 0x7f) == SH_EDIT_ERASE);
	CHECK(ed.len == 0 && ed.buf[0] == '\0');
	CHECK(sh_line_edit(&ed, 0x7f) == SH_EDIT_IGNORED);
	CHECK(sh_line_edit(&ed, 0x08) == SH_EDIT_IGNORED);
	CHECK(ed.len == 0);

	CHECK(sh_line_edit(&ed, 'p') == SH_EDIT_NONE);
	CHECK(sh_line_edit(&ed, 's') == SH_EDIT_NONE);
	CHECK(sh_line_edit(&ed, '\r') == SH_EDIT_DONE);
	CHECK(strcmp(ed.buf, "ps") == 0);

	sh_line_reset(&ed);
	CHECK(ed.len == 0 && ed.buf[0] == '\0');
	CHECK(sh_line_edit(&ed, '\n') == SH_EDIT_DONE && ed.buf[0] == '\0');
}

static void
test_edit_ignores_nonprintable(void)
{
	static const int junk[] = { 0x00, 0x01, 0x07, 0x1b, 0x80, 0xff, -1, 256,
				    0x7fffffff };
	sh_line_t ed;

	sh_line_reset(&ed);
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		CHECK(sh_line_edit(&ed, junk[i]) == SH_EDIT_IGNORED);
	CHECK(ed.len == 0);
	CHECK(sh_line_edit(&ed, ' ') == SH_EDIT_NONE);
	CHECK(sh_line_edit(&ed, '~') == SH_EDIT_NONE);
	CHECK(ed.len == 2);
}

static void
test_edit_overlong(void)
{
	sh_line_t ed;
	int kept = 0, dropped = 0;

	sh_line_reset(&ed);
	for (int i = 0; i < 300; i++) {
		int r = sh_line_edit(&ed, 'a' + i % 26);

		kept += r == SH_EDIT_NONE;
		dropped += r == SH_EDIT_IGNORED;
	}
	CHECK(kept == SH_LINE_MAX - 1 && dropped == 300 - (SH_LINE_MAX - 1));
	CHECK(ed.len == SH_LINE_MAX - 1);
	/* Erasing makes room again. */
	CHECK(sh_line_edit(&ed, 0x7f) == SH_EDIT_ERASE);
	CHECK(sh_line_edit(&ed, 'Z') == SH_EDIT_NONE);
	CHECK(sh_line_edit(&ed, 'Y') == SH_EDIT_IGNORED);
	CHECK(sh_line_edit(&ed, '\r') == SH_EDIT_DONE);
	CHECK(strlen(ed.buf) == SH_LINE_MAX - 1);
	CHECK(ed.buf[0] == 'a' && ed.buf[SH_LINE_MAX - 2] == 'Z');
}

static void
test_edit_kill_and_cancel(void)
{
	sh_line_t ed;

	sh_line_reset(&ed);
	CHECK(sh_line_edit(&ed, 0x15) == SH_EDIT_IGNORED);
	sh_line_edit(&ed, 'a');
	sh_line_edit(&ed, 'b');
	sh_line_edit(&ed, 'c');
	CHECK(sh_line_edit(&ed, 0x15) == SH_EDIT_KILL);
	CHECK(ed.killed == 3 && ed.len == 0 && ed.buf[0] == '\0');
	CHECK(sh_line_edit(&ed, 'x') == SH_EDIT_NONE);
	CHECK(strcmp(ed.buf, "x") == 0);

	CHECK(sh_line_edit(&ed, 0x03) == SH_EDIT_CANCEL);
	CHECK(ed.len == 0 && ed.buf[0] == '\0');
	CHECK(sh_line_edit(&ed, '\r') == SH_EDIT_DONE && ed.buf[0] == '\0');
}

int
main(void)
{
	RUN(test_plain_words);
	RUN(test_empty_lines);
	RUN(test_quotes);
	RUN(test_escapes);
	RUN(test_too_many);
	RUN(test_unterminated_quote);
	RUN(test_edit_typing_and_erase);
	RUN(test_edit_ignores_nonprintable);
	RUN(test_edit_overlong);
	RUN(test_edit_kill_and_cancel);
	return check_summary();
}
