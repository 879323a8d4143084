/*
 * Unit tests for the user heap (libqs/src/malloc.c), run over a fake
 * qs_sbrk backed by a static 4 MiB arena.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "../../libqs/src/heap_backend.h"

#define SIZE_MAX_ __SIZE_MAX__

/* The heap backend: a fixed arena and no-op locks. */

#define ARENA_SIZE (4u << 20)
static _Alignas(16) unsigned char arena[ARENA_SIZE];
/* Starts off 16-byte alignment so the heap has to align its first block. */
static size_t arena_brk = 8;

void *
qs_sbrk(intptr_t increment)
{
	void *old = arena + arena_brk;

	if (increment < 0 || (size_t)increment > ARENA_SIZE - arena_brk)
		return (void *)-1;
	arena_brk += (size_t)increment;
	return old;
}

void
qs_heap_lock(void)
{
}

void
qs_heap_unlock(void)
{
}

/* abort() is renamed to this; a test arms it to survive one abort. */
static void *abort_jmp[5];
static bool abort_armed;

void
qs_test_abort(void)
{
	if (!abort_armed)
		__builtin_trap();
	abort_armed = false;
	__builtin_longjmp(abort_jmp, 1);
}

/* Returns true if free(p) aborted. Separate function: __builtin_setjmp's
 * frame must stay live while free() runs. */
static __attribute__((noinline)) bool
free_aborts(void *p)
{
	if (__builtin_setjmp(abort_jmp) != 0)
		return true;
	abort_armed = true;
	free(p);
	abort_armed = false;
	return false;
}

static __attribute__((noinline)) bool
realloc_aborts(void *p)
{
	if (__builtin_setjmp(abort_jmp) != 0)
		return true;
	abort_armed = true;
	(void)realloc(p, 100);
	abort_armed = false;
	return false;
}

/* All blocks freed: nothing used and one free block per segment. */
static bool
heap_idle(void)
{
	qs_heap_stats_t st;

	qs_heap_stats(&st);
	return qs_heap_check() == 0 && st.used == 0 &&
	       st.free_blocks == st.segments && st.free < st.arena;
}

static void
test_malloc_basic(void)
{
	void *p0 = malloc(0);
	char *p;

	CHECK(p0 != NULL);
	free(NULL);
	for (size_t n = 1; n < 300; n += 7) {
		p = malloc(n);
		if (!CHECK(p != NULL))
			return;
		CHECK(((uintptr_t)p & 15) == 0);
		memset(p, 0x5a, n);
		free(p);
	}
	free(p0);
	CHECK(heap_idle());
}

static void
test_malloc_coalesce(void)
{
	char *a = malloc(1000), *b = malloc(1000), *c = malloc(1000);
	char *guard = malloc(16);
	char *big;
	qs_heap_stats_t before, after;

	if (!CHECK(a && b && c && guard))
		return;
	CHECK(a < b && b < c && c < guard);
	qs_heap_stats(&before);
	free(a);
	free(c);
	qs_heap_stats(&after);
	CHECK(after.free_blocks == before.free_blocks + 2);
	free(b); /* joins both neighbours */
	qs_heap_stats(&after);
	CHECK(after.free_blocks == before.free_blocks + 1);
	CHECK(qs_heap_check() == 0);

	/* The merged hole is first fit for something three times as big. */
	big = malloc(3000);
	CHECK(big == a);
	free(big);
	free(guard);
	CHECK(heap_idle());
}

static void
test_realloc(void)
{
	char *p, *q, *r, *blocker;

	p = realloc(NULL, 10);
	if (!CHECK(p != NULL))
		return;
	memcpy(p, "0123456789", 10);

	/* Grow in place when the block above is free. */
	q = malloc(500);
	free(q);
	r = realloc(p, 400);
	CHECK(r == p && memcmp(r, "0123456789", 10) == 0);

	/* Shrink in place. */
	p = realloc(r, 20);
	CHECK(p == r && memcmp(p, "0123456789", 10) == 0);

	/* Grow by moving when the block above is in use. */
	blocker = malloc(32);
	q = realloc(p, 5000);
	CHECK(q != NULL && q != p && memcmp(q, "0123456789", 10) == 0);
	CHECK(qs_heap_check() == 0);

	/* A failed realloc leaves the block alone. */
	CHECK(realloc(q, SIZE_MAX_) == NULL);
	CHECK(realloc(q, 16u << 20) == NULL);
	CHECK(memcmp(q, "0123456789", 10) == 0);

	/* realloc(p, 0) keeps a live minimal block. */
	p = realloc(q, 0);
	CHECK(p != NULL);
	free(p);
	free(blocker);
	CHECK(heap_idle());
}

static void
test_calloc(void)
{
	unsigned char *p = malloc(256), *q;
	bool zero = true;

	if (!CHECK(p != NULL))
		return;
	memset(p, 0xaa, 256);
	free(p);
	q = calloc(32, 8);
	if (!CHECK(q != NULL))
		return;
	for (int i = 0; i < 256; i++)
		zero = zero && q[i] == 0;
	CHECK(zero);
	free(q);

	CHECK(calloc(SIZE_MAX_ / 2, 3) == NULL);
	CHECK(calloc(3, SIZE_MAX_ / 2) == NULL);
	CHECK(calloc((size_t)1 << (sizeof(size_t) * 4),
		     (size_t)1 << (sizeof(size_t) * 4)) == NULL);
	q = calloc(0, 10);
	CHECK(q != NULL);
	free(q);
	CHECK(heap_idle());
}

static void
test_malloc_exhaustion(void)
{
	CHECK(malloc(SIZE_MAX_) == NULL);
	CHECK(malloc(SIZE_MAX_ - 8) == NULL);
	CHECK(malloc(8u << 20) == NULL); /* more than the whole arena */
	CHECK(heap_idle());
}

static void
test_bad_free_aborts(void)
{
	char *p = malloc(64), *q = malloc(64);
	char local;

	if (!CHECK(p != NULL && q != NULL))
		return;
	CHECK(free_aborts(p + 16)); /* aligned, but not a block start */
	CHECK(free_aborts(p + 1));
	CHECK(free_aborts(&local));
	CHECK(realloc_aborts(p + 32));
	free(p);
	CHECK(free_aborts(p)); /* double free */
	free(q);             /* merges q into p's free block */
	CHECK(free_aborts(q)); /* double free inside a merged block */
	CHECK(realloc_aborts(q));
	CHECK(heap_idle());
}

static uint32_t rng_state = 12345;

static uint32_t
rng(void)
{
	rng_state = rng_state * 1664525u + 1013904223u;
	return rng_state >> 8;
}

static void
test_malloc_stress(void)
{
	enum { SLOTS = 256, OPS = 20000 };
	static unsigned char *ptr[SLOTS];
	static size_t len[SLOTS];
	int bad = 0, failed_alloc = 0;

	for (int op = 0; op < OPS; op++) {
		int i = (int)(rng() % SLOTS);
		unsigned char fill = (unsigned char)(i + 1);
		size_t n = rng() % 64 == 0 ? rng() % 65536 : rng() % 2000;

		for (size_t k = 0; k < len[i]; k++)
			bad += ptr[i][k] != fill;
		if (ptr[i] != NULL && rng() % 3 == 0) {
			unsigned char *r = realloc(ptr[i], n);

			if (r == NULL) {
				failed_alloc++;
				continue;
			}
			for (size_t k = 0; k < len[i] && k < n; k++)
				bad += r[k] != fill;
			ptr[i] = r;
		} else {
			free(ptr[i]);
			ptr[i] = malloc(n);
			if (ptr[i] == NULL) {
				failed_alloc++;
				len[i] = 0;
				continue;
			}
		}
		bad += ((uintptr_t)ptr[i] & 15) != 0;
		memset(ptr[i], fill, n);
		len[i] = n;
		if (op % 1000 == 0)
			bad += qs_heap_check() != 0;
	}
	CHECK(bad == 0);
	CHECK(failed_alloc == 0);
	CHECK(qs_heap_check() == 0);
	for (int i = 0; i < SLOTS; i++) {
		free(ptr[i]);
		ptr[i] = NULL;
		len[i] = 0;
	}
	CHECK(heap_idle());
}

static void
test_malloc_new_segment(void)
{
	qs_heap_stats_t before, after;
	char *p;

	qs_heap_stats(&before);
	/* Someone else moves the break, so the next growth is not contiguous. */
	CHECK(qs_sbrk(40) != (void *)-1);
	p = malloc(before.largest_free + 1000);
	if (!CHECK(p != NULL))
		return;
	CHECK(((uintptr_t)p & 15) == 0);
	memset(p, 1, before.largest_free + 1000);
	qs_heap_stats(&after);
	CHECK(after.segments == before.segments + 1);
	CHECK(qs_heap_check() == 0);
	free(p);
	CHECK(heap_idle());
}

int
main(void)
{
	RUN(test_malloc_basic);
	RUN(test_malloc_coalesce);
	RUN(test_realloc);
	RUN(test_calloc);
	RUN(test_malloc_exhaustion);
	RUN(test_bad_free_aborts);
	RUN(test_malloc_stress);
	RUN(test_malloc_new_segment);
	return check_summary();
}
