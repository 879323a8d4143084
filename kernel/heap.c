/*
 * A page that holds small objects of one size class starts with a slab
 * header; a large allocation is a run of pages starting with a big header.
 * A slab page goes back to the page allocator as soon as its last object is
 * freed, so that a dead process's kernel objects return every page. A new
 * slab hands out its objects from the page's end down (carve) before any
 * freed one comes back, so that making one costs the same whatever its
 * class: an object alone in its class (a request's few bytes of data)
 * makes and frees a slab each time.
 */
#include "kernel.h"
#include "heap.h"
#include "pmm.h"

#define SLAB_MAGIC 0x51AB51ABu
#define BIG_MAGIC 0xB16B16B1u
#define MIN_CLASS 16
#define MAX_CLASS 2048
#define HDR_SIZE 32

typedef struct slab {
	uint32_t magic;
	uint32_t size;
	uint32_t used;
	void *free; /* singly linked through the first word of each object */
	list_t link; /* in its class's list while it has room */
	uint32_t carve; /* the next object never handed out, from the end */
} slab_t;

typedef struct {
	uint32_t magic;
	uint32_t pages;
} big_t;

_Static_assert(sizeof(slab_t) <= HDR_SIZE, "slab header too big");

static list_t partial[8] = {
	LIST_INIT(partial[0]), LIST_INIT(partial[1]), LIST_INIT(partial[2]),
	LIST_INIT(partial[3]), LIST_INIT(partial[4]), LIST_INIT(partial[5]),
	LIST_INIT(partial[6]), LIST_INIT(partial[7]),
};
static uint32_t bytes_used;

static int
size_class(size_t size)
{
	int c = 0;
	size_t s = MIN_CLASS;
	while (s < size) {
		s <<= 1;
		c++;
	}
	return c;
}

static slab_t *
slab_new(uint32_t size)
{
	slab_t *s = (slab_t *)pmm_alloc();
	if (!s)
		return NULL;
	s->magic = SLAB_MAGIC;
	s->size = size;
	s->used = 0;
	s->free = NULL;
	s->carve = PAGE_SIZE - size;
	list_init(&s->link);
	return s;
}

/* The lowest offset an object of s's class may have: past the header. */
static uint32_t
slab_first(const slab_t *s)
{
	return s->size < HDR_SIZE ? HDR_SIZE : s->size;
}

/* Has s no object left to hand out (and so is on no list)? */
static bool
slab_full(const slab_t *s)
{
	return !s->free && s->carve < slab_first(s);
}

static void *
big_alloc(size_t size)
{
	/* the object starts HDR_SIZE into the run, not sizeof(big_t) */
	uint32_t pages = (size + HDR_SIZE + PAGE_SIZE - 1) / PAGE_SIZE;
	big_t *b = (big_t *)pmm_alloc_contig(pages);
	if (!b)
		return NULL;
	b->magic = BIG_MAGIC;
	b->pages = pages;
	bytes_used += pages * PAGE_SIZE;
	return (char *)b + HDR_SIZE;
}

void *
kmalloc(size_t size)
{
	if (size == 0 || size > 64 * 1024 * 1024)
		return NULL;
	if (size > MAX_CLASS)
		return big_alloc(size);
	int c = size_class(size);
	uint32_t csize = MIN_CLASS << c;
	slab_t *s;
	if (list_empty(&partial[c])) {
		s = slab_new(csize);
		if (!s)
			return NULL;
		list_add_tail(&partial[c], &s->link);
	} else {
		s = list_entry(partial[c].next, slab_t, link);
	}
	void **obj = s->free;
	if (obj) {
		s->free = *obj;
	} else {
		obj = (void **)((char *)s + s->carve);
		s->carve -= csize; /* carve >= slab_first >= csize: no wrap */
	}
	s->used++;
	if (slab_full(s))
		list_del(&s->link);
	bytes_used += csize;
	return obj;
}

void *
kzalloc(size_t size)
{
	void *p = kmalloc(size);
	if (p)
		memset(p, 0, size);
	return p;
}

void
kfree(void *p)
{
	if (!p)
		return;
	uint32_t page = PAGE_ROUND_DOWN((uint32_t)p);
	if (((big_t *)page)->magic == BIG_MAGIC && (uint32_t)p == page + HDR_SIZE) {
		big_t *b = (big_t *)page;
		b->magic = 0;
		bytes_used -= b->pages * PAGE_SIZE;
		pmm_free_contig(page, b->pages);
		return;
	}
	slab_t *s = (slab_t *)page;
	if (s->magic != SLAB_MAGIC)
		panic("kfree: bad pointer %p", p);
	if (slab_full(s))
		list_add_tail(&partial[size_class(s->size)], &s->link);
	*(void **)p = s->free;
	s->free = p;
	bytes_used -= s->size;
	if (--s->used == 0) {
		list_del(&s->link);
		s->magic = 0;
		pmm_free(page);
	}
}

uint32_t
heap_bytes_used(void)
{
	return bytes_used;
}
