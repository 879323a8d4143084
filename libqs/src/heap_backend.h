/*
 * What the user heap (malloc.c) needs from its environment, plus two
 * introspection calls for tests and diagnostics. Internal to libqs.
 */
#ifndef QS_HEAP_BACKEND_H
#define QS_HEAP_BACKEND_H

#include <stddef.h>
#include <stdint.h>

/*
 * Moves the program break by increment bytes (never negative here) and
 * returns the old break, or (void *)-1 when no memory is left. Other code
 * may also call it, so successive calls need not be contiguous.
 */
void *qs_sbrk(intptr_t increment);

/* Serialise heap operations between threads; need not be recursive. */
void qs_heap_lock(void);
void qs_heap_unlock(void);

typedef struct {
	size_t arena;        /* bytes obtained from qs_sbrk and in use as heap */
	size_t used;         /* bytes in allocated blocks, headers included */
	size_t free;         /* bytes in free blocks, headers included */
	size_t free_blocks;
	size_t largest_free; /* size of the largest free block, header included */
	size_t segments;     /* contiguous runs of heap */
} qs_heap_stats_t;

void qs_heap_stats(qs_heap_stats_t *st);

/* Walks the whole heap checking its invariants; 0 if sound, -1 if not. */
int qs_heap_check(void);

#endif
