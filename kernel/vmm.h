/* Paging: the shared kernel identity map and one address space per process. */
#ifndef KERNEL_VMM_H
#define KERNEL_VMM_H

#include "kernel.h"

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
/* Counts vmm_free_range's calls, in any space: what a check that user
 * memory was mapped knew (recv_buf_ok) holds while this stays. */
extern uint32_t vmm_unmaps;
uint32_t vmm_lookup(uint32_t pd, uint32_t va); /* the PTE, 0 if unmapped */
/* Is [va, va+len) user memory of this space, writable if `write`? */
bool vmm_user_ok(uint32_t pd, uint32_t va, uint32_t len, bool write);

/* Does [va, va+len) lie in one page of the user half? */
static inline bool
vmm_one_user_page(uint32_t va, uint32_t len)
{
	return va >= QS_USER_BASE && va < QS_USER_TOP &&
	       len <= PAGE_SIZE - (va & (PAGE_SIZE - 1));
}

/* The PTE of page va (in the user half) of space pd, if it is present,
 * the user's, and writable if `write`; else 0. */
static inline uint32_t
vmm_user_pte(uint32_t pd, uint32_t va, bool write)
{
	uint32_t pde = ((const uint32_t *)pd)[va >> 22];
	if (!(pde & PTE_P))
		return 0;
	uint32_t pte = ((const uint32_t *)(pde & ~0xFFFu))[(va >> 12) & 0x3FF];
	uint32_t need = PTE_P | PTE_U | (write ? PTE_W : 0);
	return (pte & need) == need ? pte : 0;
}

/* The frame of user page va of space pd, writable if `write`, if it is
 * memory (not a device's: only through the process's own uncached
 * mapping) the kernel's identity map reaches; else 0. */
static inline uint32_t
vmm_user_frame(uint32_t pd, uint32_t va, bool write)
{
	if (va < QS_USER_BASE || va >= QS_USER_TOP)
		return 0;
	uint32_t pte = vmm_user_pte(pd, va, write);
	uint32_t frame = pte & ~0xFFFu;
	return frame && frame < KERNEL_SPACE_END && !(pte & PTE_DEVICE) ? frame
									 : 0;
}

/* Where the kernel reaches [va, va+len) of space pd, if it lies in one
 * user page that grants the access, is memory (not a device's) and the
 * identity map reaches: the IPC path's headers, in one step. NULL: go
 * page by page (copy_to_space). */
static inline void *
vmm_user_ptr(uint32_t pd, uint32_t va, uint32_t len, bool write)
{
	if (len > PAGE_SIZE - (va & (PAGE_SIZE - 1)))
		return NULL; /* more than one page */
	uint32_t frame = vmm_user_frame(pd, va, write);
	return frame ? (void *)(frame | (va & 0xFFF)) : NULL;
}
void vmm_switch(uint32_t pd);

#endif
