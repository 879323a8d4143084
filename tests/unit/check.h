/*
 * A tiny test harness. Tests are `static void test_x(void)` functions that
 * use CHECK(cond); main runs each with RUN(test_x) and ends with
 * `return check_summary();`. Output is one line per test, "ok test_x" or
 * "FAIL test_x: file:line: expr" for its first failed check, then
 * "N passed, N failed" as the last line.
 *
 * CHECK keeps going after a failure so one run shows every broken test;
 * it evaluates to the condition, so `if (!CHECK(p != NULL)) return;`
 * guards code that cannot continue.
 */
#ifndef QS_TEST_CHECK_H
#define QS_TEST_CHECK_H

#include <stdio.h> /* libqs's: printf comes from the host libc here */

static struct {
	int passed;
	int failed;
	int cur_failures;
	const char *file;
	int line;
	const char *expr;
} check_state;

static inline int
check_record(int ok, const char *file, int line, const char *expr)
{
	if (!ok && check_state.cur_failures++ == 0) {
		check_state.file = file;
		check_state.line = line;
		check_state.expr = expr;
	}
	return ok;
}

#define CHECK(cond) check_record(!!(cond), __FILE__, __LINE__, #cond)

static inline void
check_run(const char *name, void (*fn)(void))
{
	check_state.cur_failures = 0;
	fn();
	if (check_state.cur_failures == 0) {
		check_state.passed++;
		printf("ok %s\n", name);
	} else {
		check_state.failed++;
		printf("FAIL %s: %s:%d: %s", name, check_state.file,
		       check_state.line, check_state.expr);
		if (check_state.cur_failures > 1)
			printf(" (+%d more)", check_state.cur_failures - 1);
		printf("\n");
	}
}

#define RUN(fn) check_run(#fn, fn)

static inline int
check_summary(void)
{
	printf("%d passed, %d failed\n", check_state.passed, check_state.failed);
	return check_state.failed != 0;
}

#endif
