/* assert: a failed one prints the expression and where, then aborts. */
#ifndef QS_ASSERT_H
#define QS_ASSERT_H

#ifdef NDEBUG
#define assert(x) ((void)0)
#else
void qs_assert_fail(const char *expr, const char *file, int line)
	__attribute__((noreturn));
#define assert(x) ((x) ? (void)0 : qs_assert_fail(#x, __FILE__, __LINE__))
#endif

#endif
