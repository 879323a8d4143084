/* What runs before main and after it. */
#include <stdio.h>
#include <stdlib.h>
#include <qs/sys.h>
#include <qs/thread.h>
#include "heap_backend.h"

int main(int argc, char **argv);
void qs_libc_start(int argc, char **argv) __attribute__((noreturn));

static qs_mutex_t heap_lock = QS_MUTEX_INIT;

void
qs_heap_lock(void)
{
	qs_mutex_lock(&heap_lock);
}

void
qs_heap_unlock(void)
{
	qs_mutex_unlock(&heap_lock);
}

void
exit(int status)
{
	qs_exit(status);
}

void
abort(void)
{
	qs_cons_write("abort\n", 6);
	qs_exit(134);
}

void
qs_assert_fail(const char *expr, const char *file, int line)
{
	printf("assertion failed: %s (%s:%d)\n", expr, file, line);
	abort();
}

void
qs_libc_start(int argc, char **argv)
{
	exit(main(argc, argv));
}
