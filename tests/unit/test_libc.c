/*
 * Unit tests for libqs: formatting, strings and number parsing.
 * Built against libqs's own headers (see README); printf is the host's.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

#define LONG_MAX_ __LONG_MAX__
#define LONG_MIN_ (-__LONG_MAX__ - 1L)
#define ULONG_MAX_ (2UL * __LONG_MAX__ + 1UL)

/* ---- formatting ---- */

static bool
vfmt_is(const char *want, const char *fmt, va_list ap)
{
	char buf[256];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	bool ok = n == (int)strlen(want) && strcmp(buf, want) == 0;

	if (!ok)
		printf("  # \"%s\": got \"%s\" (%d), want \"%s\"\n", fmt, buf, n,
		       want);
	return ok;
}

static __attribute__((format(printf, 2, 3))) bool
fmt_is(const char *want, const char *fmt, ...)
{
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	ok = vfmt_is(want, fmt, ap);
	va_end(ap);
	return ok;
}

/* For formats the compiler would (rightly) warn about. */
static bool
raw_fmt_is(const char *want, const char *fmt, ...)
{
	va_list ap;
	bool ok;

	va_start(ap, fmt);
	ok = vfmt_is(want, fmt, ap);
	va_end(ap);
	return ok;
}

static void
test_printf_integers(void)
{
	CHECK(fmt_is("0", "%d", 0));
	CHECK(fmt_is("-1 7", "%d %i", -1, 7));
	CHECK(fmt_is("2147483647", "%d", 2147483647));
	CHECK(fmt_is("-2147483648", "%d", -2147483647 - 1));
	CHECK(fmt_is("4294967295", "%u", 4294967295u));
	CHECK(fmt_is("deadbeef DEADBEEF", "%x %X", 0xdeadbeefu, 0xdeadbeefu));
	CHECK(fmt_is("10 777", "%o %o", 8u, 0777u));
	CHECK(fmt_is("0 0 0xff 0XFF 017", "%#o %#x %#x %#X %#o", 0u, 0u, 255u,
		     255u, 15u));
	CHECK(fmt_is("+5 -5  5", "%+d %+d % d", 5, -5, 5));
	CHECK(fmt_is("-9223372036854775808", "%lld",
		     -9223372036854775807LL - 1));
	CHECK(fmt_is("18446744073709551615", "%llu", 18446744073709551615ULL));
	CHECK(fmt_is("12345678901234567890", "%llu", 12345678901234567890ULL));
	CHECK(fmt_is("ffffffffffffffff", "%llx", 18446744073709551615ULL));
	CHECK(fmt_is("1777777777777777777777", "%llo", 18446744073709551615ULL));
	CHECK(fmt_is("-123456", "%ld", -123456L));
	CHECK(fmt_is("123", "%zu", (size_t)123));
	CHECK(fmt_is("-4", "%zd", (ptrdiff_t)-4));
	CHECK(fmt_is("1 -1 1 255", "%hd %hhd %hhu %hhu", 65537, 255, 257, -1));
}

static void
test_printf_width_precision(void)
{
	CHECK(fmt_is("   42|42   |", "%5d|%-5d|", 42, 42));
	CHECK(fmt_is("-0042 00042", "%05d %05u", -42, 42u));
	CHECK(fmt_is("007|     007|", "%.3d|%8.3d|", 7, 7));
	CHECK(fmt_is("-007", "%.3d", -7));
	CHECK(fmt_is("|", "%.0d|", 0));
	CHECK(fmt_is("   |", "%3.0d|", 0));
	CHECK(fmt_is("0x00ff", "%#06x", 255u));
	CHECK(fmt_is("   7|7   |", "%*d|%*d|", 4, 7, -4, 7));
	CHECK(fmt_is("7   |", "%-*d|", 4, 7));
	CHECK(fmt_is("5 007", "%.*d %.*d", -1, 5, 3, 7));
	CHECK(raw_fmt_is("     007", "%08.3d", 7));
	CHECK(raw_fmt_is("42   |", "%-05d|", 42));
	CHECK(raw_fmt_is("+5", "% +d", 5));
}

static void
test_printf_chars_strings(void)
{
	const char *volatile null_str = NULL;

	CHECK(fmt_is("A", "%c", 'A'));
	CHECK(fmt_is("  A|A  |", "%3c|%-3c|", 'A', 'A'));
	CHECK(fmt_is("hi", "%s", "hi"));
	CHECK(fmt_is("   hi|hi   |", "%5s|%-5s|", "hi", "hi"));
	CHECK(fmt_is("ab", "%.2s", "abc"));
	CHECK(fmt_is("ab", "%.*s", 2, "abc"));
	CHECK(fmt_is("abc", "%.10s", "abc"));
	CHECK(fmt_is("  a", "%3.1s", "abc"));
	CHECK(fmt_is("", "%s", ""));
	CHECK(fmt_is("(null)", "%s", null_str));
	CHECK(fmt_is("(nu", "%.3s", null_str));
	CHECK(fmt_is("0x1234", "%p", (void *)0x1234));
	CHECK(fmt_is("0x0", "%p", (void *)0));
	CHECK(fmt_is("  0x1f", "%6p", (void *)0x1f));
	CHECK(fmt_is("%", "%%"));
	CHECK(fmt_is("100% sure", "%d%% sure", 100));
	CHECK(fmt_is("no conversions", "no conversions"));
	CHECK(raw_fmt_is("%q", "%q"));
	CHECK(raw_fmt_is("x%", "x%"));
	CHECK(raw_fmt_is("x%", "x%-"));
}

static void
test_printf_truncation(void)
{
	char buf[16];
	int n;

	memset(buf, 'Z', sizeof(buf));
	n = snprintf(buf, 5, "hello %s", "world");
	CHECK(n == 11);
	CHECK(strcmp(buf, "hell") == 0);
	CHECK(buf[5] == 'Z');

	memset(buf, 'Z', sizeof(buf));
	n = snprintf(buf, 1, "abc");
	CHECK(n == 3);
	CHECK(buf[0] == '\0' && buf[1] == 'Z');

	memset(buf, 'Z', sizeof(buf));
	n = snprintf(buf, 0, "abc");
	CHECK(n == 3);
	CHECK(buf[0] == 'Z');
	CHECK(snprintf(NULL, 0, "%d", 123456) == 6);

	/* Exactly fitting: the terminator takes the last byte. */
	n = snprintf(buf, 4, "%d", 123);
	CHECK(n == 3 && strcmp(buf, "123") == 0);
	n = snprintf(buf, 4, "%d", 1234);
	CHECK(n == 4 && strcmp(buf, "123") == 0);

	memset(buf, 'Z', sizeof(buf));
	n = snprintf(buf, 4, "%20d", 5);
	CHECK(n == 20 && strcmp(buf, "   ") == 0 && buf[4] == 'Z');
}

/* ---- strings ---- */

static void
test_mem_functions(void)
{
	unsigned char src[64], dst[80], want[80];

	for (int i = 0; i < 64; i++)
		src[i] = (unsigned char)(i * 7 + 1);
	/* Every small length at every relative alignment. */
	for (int so = 0; so < 4; so++) {
		for (int d = 0; d < 4; d++) {
			for (int n = 0; n <= 40; n++) {
				memset(dst, 0xee, sizeof(dst));
				for (int i = 0; i < 80; i++)
					want[i] = 0xee;
				for (int i = 0; i < n; i++)
					want[d + i] = src[so + i];
				CHECK(memcpy(dst + d, src + so, (size_t)n) == dst + d);
				CHECK(memcmp(dst, want, sizeof(dst)) == 0);
			}
		}
	}

	for (int d = 0; d < 4; d++) {
		for (int n = 0; n <= 40; n++) {
			for (int i = 0; i < 80; i++)
				want[i] = dst[i] = 1;
			for (int i = 0; i < n; i++)
				want[d + i] = 0xab;
			CHECK(memset(dst + d, 0x1ab, (size_t)n) == dst + d);
			CHECK(memcmp(dst, want, sizeof(dst)) == 0);
		}
	}

	unsigned char a[] = { 1, 2, 0x80 }, b[] = { 1, 2, 0x01 };
	CHECK(memcmp(a, b, 3) > 0);
	CHECK(memcmp(b, a, 3) < 0);
	CHECK(memcmp(a, b, 2) == 0);
	CHECK(memcmp(a, b, 0) == 0);
}

static void
test_memmove_overlap(void)
{
	char buf[32];

	strcpy(buf, "0123456789");
	CHECK(memmove(buf + 2, buf, 8) == buf + 2);
	CHECK(memcmp(buf, "0101234567", 10) == 0);

	strcpy(buf, "0123456789");
	memmove(buf, buf + 3, 7);
	CHECK(memcmp(buf, "3456789789", 10) == 0);

	strcpy(buf, "abc");
	memmove(buf, buf, 3);
	CHECK(strcmp(buf, "abc") == 0);
	memmove(buf + 1, buf, 0);
	CHECK(strcmp(buf, "abc") == 0);
}

static void
test_str_basics(void)
{
	char buf[16];

	CHECK(strlen("") == 0);
	CHECK(strlen("hello") == 5);
	CHECK(strnlen("hello", 3) == 3);
	CHECK(strnlen("hi", 10) == 2);
	CHECK(strnlen("hi", 0) == 0);

	CHECK(strcmp("abc", "abc") == 0);
	CHECK(strcmp("abc", "abd") < 0);
	CHECK(strcmp("abc", "ab") > 0);
	CHECK(strcmp("", "a") < 0);
	CHECK(strcmp("\x80", "\x01") > 0); /* compared as unsigned char */
	CHECK(strncmp("abcx", "abcy", 3) == 0);
	CHECK(strncmp("abcx", "abcy", 4) < 0);
	CHECK(strncmp("a", "b", 0) == 0);
	CHECK(strncmp("ab", "ab\0zz", 5) == 0);

	CHECK(strcpy(buf, "copy") == buf && strcmp(buf, "copy") == 0);

	memset(buf, 'Z', sizeof(buf));
	CHECK(strncpy(buf, "ab", 5) == buf);
	CHECK(memcmp(buf, "ab\0\0\0Z", 6) == 0); /* padded with NULs */
	memset(buf, 'Z', sizeof(buf));
	strncpy(buf, "abcdef", 3);
	CHECK(memcmp(buf, "abcZ", 4) == 0); /* and not terminated */

	memset(buf, 'Z', sizeof(buf));
	CHECK(strlcpy(buf, "abcdef", 4) == 6);
	CHECK(strcmp(buf, "abc") == 0);
	CHECK(strlcpy(buf, "ab", sizeof(buf)) == 2 && strcmp(buf, "ab") == 0);
	buf[0] = 'Q';
	CHECK(strlcpy(buf, "xyz", 0) == 3 && buf[0] == 'Q');
}

static void
test_str_search(void)
{
	const char *s = "hello world";

	CHECK(strchr(s, 'o') == s + 4);
	CHECK(strchr(s, 'z') == NULL);
	CHECK(strchr(s, '\0') == s + 11);
	CHECK(strrchr(s, 'o') == s + 7);
	CHECK(strrchr(s, 'h') == s);
	CHECK(strrchr(s, 'z') == NULL);
	CHECK(strrchr(s, '\0') == s + 11);

	CHECK(strstr(s, "") == s);
	CHECK(strstr(s, "world") == s + 6);
	CHECK(strstr(s, "worlds") == NULL);
	CHECK(strstr(s, "d") == s + 10);
	CHECK(strstr("aaab", "aab") != NULL && strcmp(strstr("aaab", "aab"), "aab") == 0);
	CHECK(strstr("", "a") == NULL);
	CHECK(strstr("", "") != NULL);
}

static void
test_strtok_r(void)
{
	char buf[] = ",,a, b,,c ,";
	char none[] = " ,, ";
	char *save, *t;

	t = strtok_r(buf, ", ", &save);
	CHECK(t != NULL && strcmp(t, "a") == 0);
	t = strtok_r(NULL, ", ", &save);
	CHECK(t != NULL && strcmp(t, "b") == 0);
	t = strtok_r(NULL, ", ", &save);
	CHECK(t != NULL && strcmp(t, "c") == 0);
	CHECK(strtok_r(NULL, ", ", &save) == NULL);
	CHECK(strtok_r(NULL, ", ", &save) == NULL);

	CHECK(strtok_r(none, ", ", &save) == NULL);

	char one[] = "single";
	t = strtok_r(one, " ", &save);
	CHECK(t == one && strcmp(t, "single") == 0);
	CHECK(strtok_r(NULL, " ", &save) == NULL);
}

/* ---- number parsing ---- */

static void
test_strtol(void)
{
	char *end;
	const char *s;
	char buf[64];

	s = "123";
	CHECK(strtol(s, &end, 10) == 123 && end == s + 3);
	s = "  -42xyz";
	CHECK(strtol(s, &end, 10) == -42 && *end == 'x');
	s = "+7";
	CHECK(strtol(s, &end, 0) == 7 && *end == '\0');
	s = "0x1A";
	CHECK(strtol(s, &end, 0) == 26 && *end == '\0');
	CHECK(strtol(s, &end, 16) == 26 && *end == '\0');
	CHECK(strtol("1a", NULL, 16) == 26);
	CHECK(strtol(s, &end, 10) == 0 && end == s + 1);
	s = "017";
	CHECK(strtol(s, &end, 0) == 15 && *end == '\0');
	s = "09";
	CHECK(strtol(s, &end, 0) == 0 && end == s + 1);
	s = "0x";
	CHECK(strtol(s, &end, 0) == 0 && end == s + 1);
	s = "0xg";
	CHECK(strtol(s, &end, 16) == 0 && end == s + 1);
	s = "";
	CHECK(strtol(s, &end, 10) == 0 && end == s);
	s = "   ";
	CHECK(strtol(s, &end, 10) == 0 && end == s);
	s = " -";
	CHECK(strtol(s, &end, 10) == 0 && end == s);
	s = "zZ";
	CHECK(strtol(s, &end, 36) == 35 * 36 + 35 && *end == '\0');
	CHECK(strtol("101", NULL, 2) == 5);
	s = "12";
	CHECK(strtol(s, &end, 1) == 0 && end == s);
	CHECK(strtol(s, &end, 37) == 0 && end == s);

	s = "99999999999999999999999";
	CHECK(strtol(s, &end, 10) == LONG_MAX_ && *end == '\0');
	CHECK(strtol("-99999999999999999999999", NULL, 10) == LONG_MIN_);
	snprintf(buf, sizeof(buf), "%ld", LONG_MAX_);
	CHECK(strtol(buf, NULL, 10) == LONG_MAX_);
	snprintf(buf, sizeof(buf), "%ld", LONG_MIN_);
	CHECK(strtol(buf, NULL, 10) == LONG_MIN_);
	snprintf(buf, sizeof(buf), "%lu", (unsigned long)LONG_MAX_ + 1);
	CHECK(strtol(buf, NULL, 10) == LONG_MAX_);
	snprintf(buf, sizeof(buf), "-%lu", (unsigned long)LONG_MAX_ + 2);
	CHECK(strtol(buf, NULL, 10) == LONG_MIN_);
}

static void
test_strtoul_atoi_abs(void)
{
	char *end;
	char buf[64];

	CHECK(strtoul("-1", NULL, 10) == ULONG_MAX_);
	CHECK(strtoul("4294967295", NULL, 10) == 4294967295UL);
	CHECK(strtoul("0xffffffff", &end, 0) == 0xffffffffUL && *end == '\0');
	CHECK(strtoul("99999999999999999999999", NULL, 10) == ULONG_MAX_);
	snprintf(buf, sizeof(buf), "%lu", ULONG_MAX_);
	CHECK(strtoul(buf, NULL, 10) == ULONG_MAX_);

	CHECK(atoi("  12abc") == 12);
	CHECK(atoi("-7") == -7);
	CHECK(atoi("x") == 0);

	CHECK(abs(-3) == 3 && abs(3) == 3 && abs(0) == 0);
	CHECK(labs(-300000L) == 300000L);
	CHECK(abs(-2147483647 - 1) == -2147483647 - 1); /* wraps, no UB */
}

static void
test_rand(void)
{
	int first[8];
	int i, distinct = 0, high = 0;

	srand(42);
	for (i = 0; i < 8; i++) {
		first[i] = rand();
		CHECK(first[i] >= 0 && first[i] <= RAND_MAX);
	}
	/* The same seed gives the same sequence... */
	srand(42);
	for (i = 0; i < 8; i++)
		CHECK(rand() == first[i]);
	/* ...another seed another one. */
	srand(43);
	CHECK(rand() != first[0]);
	/* Not stuck, and it reaches the top bit of the range. */
	for (i = 1; i < 8; i++)
		distinct += first[i] != first[i - 1];
	CHECK(distinct == 7);
	srand(7);
	for (i = 0; i < 1000; i++)
		high += rand() > RAND_MAX / 2;
	CHECK(high > 400 && high < 600);
}

static void
test_limits(void)
{
	CHECK(CHAR_BIT == 8);
	CHECK(SCHAR_MIN == -128 && SCHAR_MAX == 127 && UCHAR_MAX == 255);
	CHECK(SHRT_MIN == -32768 && SHRT_MAX == 32767 && USHRT_MAX == 65535);
	CHECK(INT_MAX == 2147483647 && INT_MIN == -INT_MAX - 1);
	CHECK(UINT_MAX == 4294967295U);
	CHECK(LONG_MAX == LONG_MAX_ && LONG_MIN == LONG_MIN_);
	CHECK(ULONG_MAX == ULONG_MAX_);
	CHECK(LLONG_MAX == 9223372036854775807LL);
	CHECK(ULLONG_MAX == 18446744073709551615ULL);
	CHECK((char)CHAR_MIN < 0 || CHAR_MIN == 0);
}

static bool
parses_to(const char *s, long want)
{
	long v = 12345;

	return qs_parse_int(s, &v) == 0 && v == want;
}

static bool
rejected(const char *s)
{
	long v = 12345;

	return qs_parse_int(s, &v) == -1 && v == 12345;
}

static void
test_qs_hex_decode(void)
{
	uint8_t b[3];

	CHECK(qs_hex_decode("00aBfF", b, 3) == 0 && b[0] == 0 && b[1] == 0xab &&
	      b[2] == 0xff);
	CHECK(qs_hex_decode("0g", b, 1) == -1);
	CHECK(qs_hex_decode("g0", b, 1) == -1);
	CHECK(qs_hex_decode("1", b, 1) == -1); /* the NUL is not a digit */
	CHECK(qs_hex_decode("", b, 0) == 0);
}

static void
test_qs_parse_int(void)
{
	char buf[64];

	CHECK(parses_to("0", 0));
	CHECK(parses_to("123", 123));
	CHECK(parses_to("-5", -5));
	CHECK(parses_to("+5", 5));
	CHECK(parses_to("010", 10));
	CHECK(parses_to("0x1f", 31));
	CHECK(parses_to("0X1F", 31));
	CHECK(parses_to("-0x10", -16));
	CHECK(parses_to("-0", 0));

	CHECK(rejected(""));
	CHECK(rejected("-"));
	CHECK(rejected("+"));
	CHECK(rejected("0x"));
	CHECK(rejected("-0x"));
	CHECK(rejected("12a"));
	CHECK(rejected("0x1g"));
	CHECK(rejected(" 12"));
	CHECK(rejected("12 "));
	CHECK(rejected("1.5"));
	CHECK(rejected("--1"));
	CHECK(rejected("0x-1"));
	CHECK(rejected("x10"));

	snprintf(buf, sizeof(buf), "%ld", LONG_MAX_);
	CHECK(parses_to(buf, LONG_MAX_));
	snprintf(buf, sizeof(buf), "%ld", LONG_MIN_);
	CHECK(parses_to(buf, LONG_MIN_));
	snprintf(buf, sizeof(buf), "%lu", (unsigned long)LONG_MAX_ + 1);
	CHECK(rejected(buf));
	snprintf(buf, sizeof(buf), "-%lu", (unsigned long)LONG_MAX_ + 2);
	CHECK(rejected(buf));
	snprintf(buf, sizeof(buf), "%#lx", (unsigned long)LONG_MAX_);
	CHECK(parses_to(buf, LONG_MAX_));
	snprintf(buf, sizeof(buf), "%#lx", (unsigned long)LONG_MAX_ + 1);
	CHECK(rejected(buf));
	snprintf(buf, sizeof(buf), "-%#lx", (unsigned long)LONG_MAX_ + 1);
	CHECK(parses_to(buf, LONG_MIN_));
	CHECK(rejected("99999999999999999999999"));
}

static int
cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return x < y ? -1 : x > y;
}

static void
test_qsort(void)
{
	int v[257], sorted = 1;
	unsigned seed = 12345;
	for (int i = 0; i < 257; i++) {
		seed = seed * 1103515245u + 12345u;
		v[i] = (int)(seed >> 16) % 50 - 25; /* many duplicates */
	}
	qsort(v, 257, sizeof(v[0]), cmp_int);
	for (int i = 1; i < 257; i++)
		sorted &= v[i - 1] <= v[i];
	CHECK(sorted);
	int one[1] = { 7 }, two[2] = { 2, 1 };
	qsort(one, 1, sizeof(int), cmp_int);
	qsort(two, 2, sizeof(int), cmp_int);
	CHECK(one[0] == 7 && two[0] == 1 && two[1] == 2);
	qsort(NULL, 0, sizeof(int), cmp_int);
}

int
main(void)
{
	RUN(test_printf_integers);
	RUN(test_printf_width_precision);
	RUN(test_printf_chars_strings);
	RUN(test_printf_truncation);
	RUN(test_mem_functions);
	RUN(test_memmove_overlap);
	RUN(test_str_basics);
	RUN(test_str_search);
	RUN(test_strtok_r);
	RUN(test_strtol);
	RUN(test_strtoul_atoi_abs);
	RUN(test_qs_parse_int);
	RUN(test_qs_hex_decode);
	RUN(test_qsort);
	RUN(test_rand);
	RUN(test_limits);
	return check_summary();
}
