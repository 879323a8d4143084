/* The median of benchmark samples (sorts them). */
#ifndef BENCH_MEDIAN_H
#define BENCH_MEDIAN_H

#include <stdint.h>
#include <stdlib.h>

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static uint32_t
median(uint32_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_u32);
	return v[n / 2];
}

#endif
