/* printf and friends write straight to the console: there is no buffering. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sys.h>

int
vprintf(const char *fmt, va_list ap)
{
	char small[256];
	va_list again;
	va_copy(again, ap);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	if (n < (int)sizeof(small)) {
		qs_cons_write(small, (size_t)n);
	} else {
		char *big = malloc((size_t)n + 1);
		if (big) {
			vsnprintf(big, (size_t)n + 1, fmt, again);
			qs_cons_write(big, (size_t)n);
			free(big);
		} else {
			qs_cons_write(small, sizeof(small) - 1);
		}
	}
	va_end(again);
	return n;
}

int
printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int
puts(const char *s)
{
	qs_cons_write(s, strlen(s));
	qs_cons_write("\n", 1);
	return 0;
}

int
putchar(int c)
{
	char ch = (char)c;
	qs_cons_write(&ch, 1);
	return c;
}
