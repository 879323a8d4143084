/* Paging: the shared kernel identity map and one address space per process. */
#ifndef KERNEL_VMM_H
#define KERNEL_VMM_H

#include <stdbool.h>
#include <stdint.h>

#define PTE_P 0x001
#define PTE_W 0x002
#define PTE_U 0x004
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_PS 0x080
#define PTE_G 0x100
#define PTE_DEVICE 0x200 /* software bit: frame is not ours to free */

void vmm_init(void);
uint32_t vmm_new_space(void); /* a page directory's physical address, or 0 */
/* Frees every user frame and page table, then the directory itself. */
void vmm_destroy_space(uint32_t pd, int *pages);
int vmm_map(uint32_t pd, uint32_t va, uint32_t pa, uint32_t flags, int *pages);
/* Maps fresh zeroed frames over [va, va+len); on failure maps nothing. */
int vmm_alloc_range(uint32_t pd, uint32_t va, uint32_t len, uint32_t flags,
		    int *pages);
void vmm_free_range(uint32_t pd, uint32_t va, uint32_t len, int *pages);
uint32_t vmm_lookup(uint32_t pd, uint32_t va); /* the PTE, 0 if unmapped */
/* Is [va, va+len) user memory of this space, writable if `write`? */
bool vmm_user_ok(uint32_t pd, uint32_t va, uint32_t len, bool write);
void vmm_switch(uint32_t pd);

#endif
