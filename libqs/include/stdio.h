/*
 * Formatted output. vsnprintf/snprintf are pure and live in libqs; printf,
 * vprintf, puts and putchar write to the console and are provided by the
 * user runtime (and by the kernel for its own console).
 *
 * Supported conversions: %d %i %u %x %X %o %c %s %p %%, flags - 0 + space #,
 * width and precision (also *), length modifiers hh h l ll z j t.
 * No floating point. %p prints "0x" and lowercase hex digits.
 */
#ifndef QS_STDIO_H
#define QS_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#define EOF (-1)

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
int puts(const char *s);
int putchar(int c);

#endif
