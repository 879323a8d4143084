/*
 * The in-guest test programs' harness: one line per check ("ok NAME" or
 * "FAIL NAME"), then "PROG: N passed, N failed", which the system tests
 * wait for. Their wrappers insist on the exact number of checks, so a suite
 * that stops early or skips some is caught: print the closing line on every
 * path, and update the wrapper's count with the checks. Define CHECK_PREFIX
 * before including to prefix every line.
 */
#ifndef TESTS_GUEST_CHECK_H
#define TESTS_GUEST_CHECK_H

#include <stdio.h>

#ifndef CHECK_PREFIX
#define CHECK_PREFIX ""
#endif

static int check_passed, check_failed;

static void
check(int ok, const char *name)
{
	printf(CHECK_PREFIX "%s %s\n", ok ? "ok" : "FAIL", name);
	ok ? check_passed++ : check_failed++;
}

/* Prints the closing line; returns the program's exit status. */
static int
check_summary(const char *prog)
{
	printf("%s: %d passed, %d failed\n", prog, check_passed, check_failed);
	return check_failed != 0;
}

#endif
