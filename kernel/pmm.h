/* Physical page frames: one bit each, handed out one or several at a time. */
#ifndef KERNEL_PMM_H
#define KERNEL_PMM_H

#include <stdint.h>

void pmm_init(void);
void pmm_add_free_range(uint64_t base, uint64_t len);
void pmm_reserve_range(uint32_t base, uint32_t len);
uint32_t pmm_alloc(void);                /* 0 when out of memory */
uint32_t pmm_alloc_contig(uint32_t n);   /* n adjacent frames, or 0 */
void pmm_free(uint32_t phys);
void pmm_free_contig(uint32_t phys, uint32_t n);
uint32_t pmm_free_pages(void);
uint32_t pmm_total_pages(void);

#endif
