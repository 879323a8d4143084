/* The kernel heap: small objects from per-size pages, large ones whole pages. */
#ifndef KERNEL_HEAP_H
#define KERNEL_HEAP_H

#include <stddef.h>
#include <stdint.h>

void *kmalloc(size_t size); /* NULL when out of memory */
void *kzalloc(size_t size);
void kfree(void *p);
uint32_t heap_bytes_used(void);

#endif
