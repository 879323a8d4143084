/* What every kernel file needs: types, logging, panic and list helpers. */
#ifndef KERNEL_KERNEL_H
#define KERNEL_KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <qs/abi.h>

#define PAGE_SIZE 4096u
#define PAGE_ROUND_UP(x) (((x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define PAGE_ROUND_DOWN(x) ((x) & ~(PAGE_SIZE - 1))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Physical memory the kernel identity-maps and may hand out. */
#define KERNEL_SPACE_END QS_USER_BASE

void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void klog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void panic(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#define kassert(cond)                                                        \
	do {                                                                 \
		if (!(cond))                                                 \
			panic("assertion failed: %s at %s:%d", #cond,        \
			      __FILE__, __LINE__);                           \
	} while (0)

/* Copies n 32-bit words, one instruction a word (rep movsl): the IPC
 * path's fixed-size message headers. */
static inline void
copy_words(void *dst, const void *src, uint32_t n)
{
	__asm__ volatile("rep movsl"
			 : "+D"(dst), "+S"(src), "+c"(n)
			 :
			 : "memory");
}

/* Intrusive doubly linked list; an empty list points at itself. */
typedef struct list {
	struct list *next, *prev;
} list_t;

#define LIST_INIT(name) { &(name), &(name) }
#define list_entry(node, type, member)                                       \
	((type *)((char *)(node) - offsetof(type, member)))

static inline void
list_init(list_t *l)
{
	l->next = l->prev = l;
}

static inline bool
list_empty(const list_t *l)
{
	return l->next == l;
}

static inline void
list_add_tail(list_t *l, list_t *n)
{
	n->prev = l->prev;
	n->next = l;
	l->prev->next = n;
	l->prev = n;
}

static inline void
list_del(list_t *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

#endif
