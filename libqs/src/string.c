/*
 * Memory and string functions. Plain C so the same file serves the kernel,
 * user programs and the host unit tests. The bulk memory functions move a
 * 32-bit word at a time when the alignment allows it, since the kernel uses
 * them for whole pages.
 */
#include <stdint.h>
#include <string.h>

/* may_alias keeps word-sized accesses to arbitrary objects well defined. */
typedef uint32_t __attribute__((may_alias)) word_t;
#define WORD_SIZE sizeof(word_t)
#define WORD_MASK (WORD_SIZE - 1)

#if defined(__i386__)
/*
 * On the target, whole words move with rep movsl / rep stosl: one
 * instruction per word instead of a loop of several. The kernel clears the
 * direction flag on every trap, and the i386 ABI keeps it clear in user code.
 */
static inline void
copy_words(unsigned char **d, const unsigned char **s, size_t words)
{
	__asm__ volatile("rep movsl" : "+D"(*d), "+S"(*s), "+c"(words) : : "memory");
}

static inline void
fill_words(unsigned char **d, word_t w, size_t words)
{
	__asm__ volatile("rep stosl" : "+D"(*d), "+c"(words) : "a"(w) : "memory");
}
#else
static inline void
copy_words(unsigned char **d, const unsigned char **s, size_t words)
{
	for (; words; words--) {
		*(word_t *)*d = *(const word_t *)*s;
		*d += WORD_SIZE;
		*s += WORD_SIZE;
	}
}

static inline void
fill_words(unsigned char **d, word_t w, size_t words)
{
	for (; words; words--) {
		*(word_t *)*d = w;
		*d += WORD_SIZE;
	}
}
#endif

void *
memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if ((((uintptr_t)d ^ (uintptr_t)s) & WORD_MASK) == 0) {
		while (n > 0 && ((uintptr_t)d & WORD_MASK) != 0) {
			*d++ = *s++;
			n--;
		}
		copy_words(&d, &s, n / WORD_SIZE);
		n &= WORD_MASK;
	}
	while (n > 0) {
		*d++ = *s++;
		n--;
	}
	return dst;
}

void *
memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	/* Compare as integers: relational operators on unrelated pointers are UB. */
	if ((uintptr_t)d <= (uintptr_t)s || (uintptr_t)d >= (uintptr_t)s + n) {
		while (n > 0) {
			*d++ = *s++;
			n--;
		}
	} else {
		/* dst overlaps the tail of src: copy backwards. */
		d += n;
		s += n;
		while (n > 0) {
			*--d = *--s;
			n--;
		}
	}
	return dst;
}

void *
memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	unsigned char b = (unsigned char)c;
	word_t w = 0x01010101u * b;

	while (n > 0 && ((uintptr_t)d & WORD_MASK) != 0) {
		*d++ = b;
		n--;
	}
	fill_words(&d, w, n / WORD_SIZE);
	n &= WORD_MASK;
	while (n > 0) {
		*d++ = b;
		n--;
	}
	return dst;
}

int
memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (; n > 0; n--, p++, q++) {
		if (*p != *q)
			return *p < *q ? -1 : 1;
	}
	return 0;
}

void *
memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	for (; n > 0; n--, p++) {
		if (*p == (unsigned char)c)
			return (void *)p;
	}
	return NULL;
}

size_t
strlen(const char *s)
{
	const char *p = s;

	while (*p != '\0')
		p++;
	return (size_t)(p - s);
}

size_t
strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n] != '\0')
		n++;
	return n;
}

int
strcmp(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;

	while (*p != '\0' && *p == *q) {
		p++;
		q++;
	}
	return (*p > *q) - (*p < *q);
}

int
strncmp(const char *a, const char *b, size_t n)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;

	for (; n > 0; n--, p++, q++) {
		if (*p != *q)
			return *p < *q ? -1 : 1;
		if (*p == '\0')
			break;
	}
	return 0;
}

char *
strcpy(char *restrict dst, const char *restrict src)
{
	char *d = dst;

	while ((*d++ = *src++) != '\0')
		;
	return dst;
}

char *
strncpy(char *restrict dst, const char *restrict src, size_t n)
{
	size_t i = 0;

	for (; i < n && src[i] != '\0'; i++)
		dst[i] = src[i];
	/* C requires the rest of dst to be zero-filled. */
	for (; i < n; i++)
		dst[i] = '\0';
	return dst;
}

size_t
strlcpy(char *restrict dst, const char *restrict src, size_t size)
{
	size_t len = strlen(src);

	if (size > 0) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}

char *
strchr(const char *s, int c)
{
	char ch = (char)c;

	for (;; s++) {
		if (*s == ch)
			return (char *)s;
		if (*s == '\0')
			return NULL;
	}
}

char *
strrchr(const char *s, int c)
{
	char ch = (char)c;
	const char *last = NULL;

	for (;; s++) {
		if (*s == ch)
			last = s;
		if (*s == '\0')
			return (char *)last;
	}
}

char *
strstr(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);

	if (n == 0)
		return (char *)haystack;
	for (; *haystack != '\0'; haystack++) {
		if (*haystack == *needle && strncmp(haystack, needle, n) == 0)
			return (char *)haystack;
	}
	return NULL;
}

static int
is_delim(char c, const char *delim)
{
	for (; *delim != '\0'; delim++) {
		if (c == *delim)
			return 1;
	}
	return 0;
}

char *
strtok_r(char *restrict str, const char *restrict delim,
	 char **restrict saveptr)
{
	char *tok;

	if (str == NULL)
		str = *saveptr;
	if (str == NULL)
		return NULL;
	while (*str != '\0' && is_delim(*str, delim))
		str++;
	if (*str == '\0') {
		*saveptr = str;
		return NULL;
	}
	tok = str;
	while (*str != '\0' && !is_delim(*str, delim))
		str++;
	if (*str != '\0')
		*str++ = '\0';
	*saveptr = str;
	return tok;
}

int
qs_list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	while (list && *list) {
		const char *end = strchr(list, ',');
		size_t k = end ? (size_t)(end - list) : strlen(list);
		if (k == n && !strncmp(list, name, n))
			return 1;
		list = end ? end + 1 : NULL;
	}
	return 0;
}
