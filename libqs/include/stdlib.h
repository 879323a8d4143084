/*
 * Number parsing, the heap and process termination.
 *
 * There is no errno: strtol/strtoul report overflow only by returning the
 * clamped value (LONG_MAX, LONG_MIN, ULONG_MAX). Callers that need to know
 * whether a whole argument is a valid number use qs_parse_int.
 */
#ifndef QS_STDLIB_H
#define QS_STDLIB_H

#include <stddef.h>
#include <stdint.h>

int atoi(const char *s);
long strtol(const char *restrict s, char **restrict endptr, int base);
unsigned long strtoul(const char *restrict s, char **restrict endptr, int base);
int abs(int n);
long labs(long n);

/*
 * Pseudo-random numbers, 0 to RAND_MAX, from one 64-bit linear
 * congruential state per program (Knuth's MMIX constants, top 31 bits):
 * good enough for ports and sequence numbers, not for secrets. Like C's,
 * the sequence is the same in every run until srand seeds it, and the
 * state is not locked: one thread of a program should own it.
 */
#define RAND_MAX 0x7fffffff
int rand(void);
void srand(unsigned seed);

/*
 * Parses the whole of s as an optionally signed decimal ("-12", "010" is
 * ten) or 0x/0X hexadecimal ("0x1f", "-0x10") integer that fits in a long.
 * No surrounding whitespace. Returns 0 and stores the value in *out, or
 * returns -1 and leaves *out alone.
 */
int qs_parse_int(const char *s, long *out);

/*
 * Decodes exactly n bytes from the 2n hex digits at hex (either case) into
 * out; 0, or -1 if one of them is not a hex digit (out is then partly
 * written). The caller checks what follows them.
 */
int qs_hex_decode(const char *hex, uint8_t *out, size_t n);

/* Heapsort: in place, no recursion, O(n log n) in the worst case. */
void qsort(void *base, size_t n, size_t size,
	   int (*cmp)(const void *, const void *));

void *malloc(size_t size);
void free(void *ptr);
/* Bytes in allocated blocks now (headers included): what a server's
 * stats report as its heap, so that a test can see memory a transaction
 * left behind. */
size_t qs_heap_in_use(void);
void *calloc(size_t n, size_t size);
void *realloc(void *ptr, size_t size);

void exit(int status) __attribute__((noreturn));
void abort(void) __attribute__((noreturn));

#endif
