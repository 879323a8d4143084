/*
 * Integer parsing and small arithmetic helpers from <stdlib.h>.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>

#define LONG_MAX_ __LONG_MAX__
#define ULONG_MAX_ (2UL * __LONG_MAX__ + 1UL)

static int
digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99; /* larger than any base */
}

/*
 * The common part of strtol and strtoul: returns the magnitude, saturated
 * to ULONG_MAX with *overflow set, and the sign in *neg.
 */
static unsigned long
parse_ulong(const char *s, char **endptr, int base, bool *neg, bool *overflow)
{
	const char *p = s;
	unsigned long acc = 0;
	bool any = false;

	*neg = false;
	*overflow = false;
	while (isspace(*p))
		p++;
	if (*p == '-' || *p == '+')
		*neg = *p++ == '-';

	/* "0x" is only a prefix if a hex digit follows; "0xg" parses as 0. */
	if ((base == 0 || base == 16) && p[0] == '0' &&
	    (p[1] == 'x' || p[1] == 'X') && isxdigit(p[2])) {
		p += 2;
		base = 16;
	} else if (base == 0) {
		base = p[0] == '0' ? 8 : 10;
	}

	if (base >= 2 && base <= 36) {
		for (;; p++) {
			int d = digit_value(*p);

			if (d >= base)
				break;
			any = true;
			if (acc > (ULONG_MAX_ - (unsigned long)d) / (unsigned long)base)
				*overflow = true;
			else
				acc = acc * (unsigned long)base + (unsigned long)d;
		}
	}

	/* Without digits nothing was consumed, not even spaces or the sign. */
	if (endptr != NULL)
		*endptr = (char *)(any ? p : s);
	if (!any)
		return 0;
	return *overflow ? ULONG_MAX_ : acc;
}

long
strtol(const char *restrict s, char **restrict endptr, int base)
{
	bool neg, overflow;
	unsigned long mag = parse_ulong(s, endptr, base, &neg, &overflow);

	if (neg) {
		if (overflow || mag > (unsigned long)LONG_MAX_ + 1)
			return -LONG_MAX_ - 1;
		/* Written so that LONG_MIN itself does not overflow. */
		return mag == 0 ? 0 : -(long)(mag - 1) - 1;
	}
	if (overflow || mag > (unsigned long)LONG_MAX_)
		return LONG_MAX_;
	return (long)mag;
}

unsigned long
strtoul(const char *restrict s, char **restrict endptr, int base)
{
	bool neg, overflow;
	unsigned long mag = parse_ulong(s, endptr, base, &neg, &overflow);

	if (overflow)
		return ULONG_MAX_;
	/* C negates in unsigned arithmetic: "-1" is ULONG_MAX. */
	return neg ? -mag : mag;
}

int
atoi(const char *s)
{
	return (int)strtol(s, NULL, 10);
}

/* abs(INT_MIN) has no representation; it wraps to INT_MIN instead of UB. */
int
abs(int n)
{
	return n < 0 ? (int)-(unsigned)n : n;
}

long
labs(long n)
{
	return n < 0 ? (long)-(unsigned long)n : n;
}

/* C's default is the sequence srand(1) gives. */
static unsigned long long rand_state = 1;

int
rand(void)
{
	rand_state = rand_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (int)(rand_state >> 33);
}

void
srand(unsigned seed)
{
	rand_state = seed;
}

int
qs_hex_decode(const char *hex, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = digit_value(hex[2 * i]);
		int lo = hi < 16 ? digit_value(hex[2 * i + 1]) : 99;
		if (lo >= 16)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
qs_parse_int(const char *s, long *out)
{
	const char *p = s;
	bool neg = false;
	unsigned base = 10;
	unsigned long acc = 0;
	unsigned long limit;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (*p == '\0')
		return -1;

	limit = neg ? (unsigned long)LONG_MAX_ + 1 : (unsigned long)LONG_MAX_;
	for (; *p != '\0'; p++) {
		unsigned d = (unsigned)digit_value(*p);

		if (d >= base)
			return -1;
		if (acc > (limit - d) / base)
			return -1;
		acc = acc * base + d;
	}

	if (!neg)
		*out = (long)acc;
	else
		*out = acc == 0 ? 0 : -(long)(acc - 1) - 1;
	return 0;
}

static void
swap_bytes(unsigned char *a, unsigned char *b, size_t size)
{
	while (size--) {
		unsigned char t = *a;
		*a++ = *b;
		*b++ = t;
	}
}

static void
sift_down(unsigned char *base, size_t root, size_t n, size_t size,
	  int (*cmp)(const void *, const void *))
{
	for (size_t child; (child = 2 * root + 1) < n; root = child) {
		if (child + 1 < n &&
		    cmp(base + child * size, base + (child + 1) * size) < 0)
			child++;
		if (cmp(base + root * size, base + child * size) >= 0)
			return;
		swap_bytes(base + root * size, base + child * size, size);
	}
}

void
qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	unsigned char *b = base;
	if (n < 2 || size == 0)
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift_down(b, i, n, size, cmp);
	for (size_t end = n - 1; end > 0; end--) {
		swap_bytes(b, b + end * size, size);
		sift_down(b, 0, end, size, cmp);
	}
}
