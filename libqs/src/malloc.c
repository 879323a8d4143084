/*
 * The user heap: malloc, free, calloc and realloc on top of qs_sbrk.
 *
 * The heap is one or more segments of contiguous memory from qs_sbrk. A
 * segment is a run of blocks ended by a zero-sized end marker. Every block
 * starts with a 16-byte-aligned header holding its size and the size of
 * the block below it (boundary tags), so both neighbours can be found in
 * O(1) and freed blocks always merge with free neighbours: no two free
 * blocks are ever adjacent. Free blocks sit on one doubly linked list
 * (links kept in the payload) searched first-fit.
 *
 * The header magic tells used from free blocks; free() and realloc() on
 * anything that is not a live block (double free, stray pointer) abort.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "heap_backend.h"

#define ALIGN 16u
#define GROW_MIN ((size_t)64 * 1024)

#define MAGIC_USED 0x51a110c8u
#define MAGIC_FREE 0x51f4ee00u
#define MAGIC_END 0x51e4d000u

struct blk {
	_Alignas(16) size_t size; /* whole block with header; 0 in end markers */
	size_t prev_size;         /* block just below; 0 if first in segment */
	uint32_t magic;
	struct blk *next_seg;     /* end markers only: next segment's first block */
};

/* Free-list links, stored at the start of a free block's payload. */
struct links {
	struct blk *next;
	struct blk *prev;
};

#define HDR sizeof(struct blk)
#define ALIGN_UP(x) (((x) + (ALIGN - 1)) & ~(size_t)(ALIGN - 1))
#define MIN_BLOCK (HDR + ALIGN_UP(sizeof(struct links)))
/* Largest request whose block size computation cannot overflow. */
#define MAX_REQUEST ((size_t)__INTPTR_MAX__ / 2)

static struct blk *free_head;
static struct blk *first_seg; /* first block of the first segment */
static struct blk *last_end;  /* end marker of the newest segment */
static uintptr_t expected_brk; /* break after our last qs_sbrk */
static uintptr_t heap_lo, heap_hi; /* bounds for validating pointers */

static struct links *
links_of(struct blk *b)
{
	return (struct links *)(b + 1);
}

static struct blk *
next_blk(struct blk *b)
{
	return (struct blk *)((char *)b + b->size);
}

static struct blk *
prev_blk(struct blk *b)
{
	return b->prev_size != 0 ? (struct blk *)((char *)b - b->prev_size) : NULL;
}

/* Sets b's size and keeps the boundary tag of the block above in step. */
static void
set_size(struct blk *b, size_t size)
{
	b->size = size;
	next_blk(b)->prev_size = size;
}

static void
list_insert(struct blk *b)
{
	struct links *l = links_of(b);

	l->prev = NULL;
	l->next = free_head;
	if (free_head != NULL)
		links_of(free_head)->prev = b;
	free_head = b;
}

static void
list_remove(struct blk *b)
{
	struct links *l = links_of(b);

	if (l->prev != NULL)
		links_of(l->prev)->next = l->next;
	else
		free_head = l->next;
	if (l->next != NULL)
		links_of(l->next)->prev = l->prev;
}

/* Marks b free, merges it with free neighbours and lists the result. */
static void
release(struct blk *b)
{
	struct blk *n = next_blk(b);
	struct blk *p = prev_blk(b);

	b->magic = MAGIC_FREE;
	if (n->magic == MAGIC_FREE) {
		list_remove(n);
		set_size(b, b->size + n->size);
	}
	if (p != NULL && p->magic == MAGIC_FREE) {
		list_remove(p);
		set_size(p, p->size + b->size);
		b = p;
	}
	list_insert(b);
}

/* Cuts b (in use) down to need bytes when the rest can form a block. */
static void
split(struct blk *b, size_t need)
{
	size_t rest = b->size - need;
	struct blk *r;

	if (rest < MIN_BLOCK)
		return;
	r = (struct blk *)((char *)b + need);
	r->magic = MAGIC_USED;
	r->prev_size = need;
	b->size = need;
	set_size(r, rest);
	release(r);
}

/* Block size for a request of size bytes; size must be <= MAX_REQUEST. */
static size_t
block_size(size_t size)
{
	size_t need = ALIGN_UP(size + HDR);

	return need < MIN_BLOCK ? MIN_BLOCK : need;
}

/* Adds at least need bytes of free block to the heap. */
static bool
grow(size_t need)
{
	/* Room for alignment slack at both ends and a new end marker. */
	size_t want = need + 2 * HDR + 2 * ALIGN;
	uintptr_t p, end, e;
	struct blk *b, *marker;

	want = (want + GROW_MIN - 1) / GROW_MIN * GROW_MIN;
	if (want > (size_t)__INTPTR_MAX__)
		return false;
	p = (uintptr_t)qs_sbrk((intptr_t)want);
	if (p == (uintptr_t)-1)
		return false;
	end = p + want;

	if (last_end != NULL && p == expected_brk) {
		/* Contiguous: the old end marker becomes the new block's header. */
		b = last_end;
	} else {
		b = (struct blk *)((p + ALIGN - 1) & ~(uintptr_t)(ALIGN - 1));
		b->prev_size = 0;
		if (last_end != NULL)
			last_end->next_seg = b;
		else
			first_seg = b;
		if (heap_lo == 0 || (uintptr_t)b < heap_lo)
			heap_lo = (uintptr_t)b;
	}

	e = (end & ~(uintptr_t)(ALIGN - 1)) - HDR;
	marker = (struct blk *)e;
	marker->size = 0;
	marker->magic = MAGIC_END;
	marker->next_seg = NULL;
	b->magic = MAGIC_USED;
	set_size(b, e - (uintptr_t)b);
	last_end = marker;
	expected_brk = end;
	if (end > heap_hi)
		heap_hi = end;
	release(b);
	return true;
}

static void *
malloc_locked(size_t size)
{
	size_t need;
	struct blk *b;

	if (size > MAX_REQUEST)
		return NULL;
	need = block_size(size);
	for (;;) {
		for (b = free_head; b != NULL; b = links_of(b)->next) {
			if (b->size >= need)
				break;
		}
		if (b != NULL)
			break;
		if (!grow(need))
			return NULL;
	}
	list_remove(b);
	b->magic = MAGIC_USED;
	split(b, need);
	return b + 1;
}

/* Returns the header of a live block, or aborts. */
static struct blk *
live_block(void *ptr)
{
	uintptr_t a = (uintptr_t)ptr;
	struct blk *b;

	if ((a & (ALIGN - 1)) != 0 || a < heap_lo + HDR || a >= heap_hi)
		abort();
	b = (struct blk *)ptr - 1;
	if (b->magic != MAGIC_USED)
		abort();
	return b;
}

void *
malloc(size_t size)
{
	void *p;

	qs_heap_lock();
	p = malloc_locked(size);
	qs_heap_unlock();
	return p;
}

void
free(void *ptr)
{
	if (ptr == NULL)
		return;
	qs_heap_lock();
	release(live_block(ptr));
	qs_heap_unlock();
}

void *
calloc(size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > MAX_REQUEST / size)
		return NULL;
	p = malloc(n * size);
	if (p != NULL)
		memset(p, 0, n * size);
	return p;
}

/*
 * realloc(p, 0) keeps a minimal block and returns it rather than freeing,
 * so a NULL result always means failure with the old block intact.
 */
void *
realloc(void *ptr, size_t size)
{
	struct blk *b, *n;
	size_t need;
	void *q;

	if (ptr == NULL)
		return malloc(size);
	qs_heap_lock();
	b = live_block(ptr);
	if (size > MAX_REQUEST) {
		qs_heap_unlock();
		return NULL;
	}
	need = block_size(size);

	if (b->size < need) {
		n = next_blk(b);
		if (n->magic == MAGIC_FREE && b->size + n->size >= need) {
			/* Grow in place into the free block above. */
			list_remove(n);
			set_size(b, b->size + n->size);
		}
	}
	if (b->size >= need) {
		split(b, need);
		qs_heap_unlock();
		return ptr;
	}

	q = malloc_locked(size);
	if (q != NULL) {
		memcpy(q, ptr, b->size - HDR);
		release(b);
	}
	qs_heap_unlock();
	return q;
}

void
qs_heap_stats(qs_heap_stats_t *st)
{
	struct blk *seg, *b;

	memset(st, 0, sizeof(*st));
	qs_heap_lock();
	for (seg = first_seg; seg != NULL; seg = b->next_seg) {
		st->segments++;
		for (b = seg; b->size != 0; b = next_blk(b)) {
			if (b->magic == MAGIC_FREE) {
				st->free += b->size;
				st->free_blocks++;
				if (b->size > st->largest_free)
					st->largest_free = b->size;
			} else {
				st->used += b->size;
			}
		}
		st->arena += (size_t)((char *)b - (char *)seg) + HDR;
	}
	qs_heap_unlock();
}

size_t
qs_heap_in_use(void)
{
	qs_heap_stats_t st;
	qs_heap_stats(&st);
	return st.used;
}

static int
check_locked(void)
{
	struct blk *seg, *b, *prev;
	size_t free_seen = 0, listed = 0;

	for (seg = first_seg; seg != NULL; seg = b->next_seg) {
		prev = NULL;
		for (b = seg;; b = next_blk(b)) {
			if (((uintptr_t)b & (ALIGN - 1)) != 0 ||
			    (uintptr_t)b < heap_lo || (uintptr_t)b >= heap_hi)
				return -1;
			if (b->prev_size != (prev != NULL ? prev->size : 0))
				return -1;
			if (b->size == 0)
				break;
			if (b->size < MIN_BLOCK || (b->size & (ALIGN - 1)) != 0)
				return -1;
			if (b->magic == MAGIC_FREE) {
				/* Coalescing must have merged free neighbours. */
				if (prev != NULL && prev->magic == MAGIC_FREE)
					return -1;
				free_seen++;
			} else if (b->magic != MAGIC_USED) {
				return -1;
			}
			prev = b;
		}
		if (b->magic != MAGIC_END)
			return -1;
	}

	prev = NULL;
	for (b = free_head; b != NULL; b = links_of(b)->next) {
		if (b->magic != MAGIC_FREE || links_of(b)->prev != prev)
			return -1;
		if (++listed > free_seen)
			return -1;
		prev = b;
	}
	return listed == free_seen ? 0 : -1;
}

int
qs_heap_check(void)
{
	int r;

	qs_heap_lock();
	r = check_locked();
	qs_heap_unlock();
	return r;
}
