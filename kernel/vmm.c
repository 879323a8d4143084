/*
 * Every address space shares the kernel's identity map of the low 1 GiB
 * (supervisor-only, so user code cannot touch it) and owns its own user half.
 * Page 0 stays unmapped so that a kernel NULL dereference faults.
 */
#include "kernel.h"
#include "pmm.h"
#include "vmm.h"
#include "x86.h"

#define PD_INDEX(va) ((va) >> 22)
#define PT_INDEX(va) (((va) >> 12) & 0x3FF)
#define KERNEL_PDES PD_INDEX(KERNEL_SPACE_END)
#define FRAME_OF(e) ((e) & ~0xFFFu)

static uint32_t kernel_pd;
uint32_t vmm_unmaps;
static uint32_t current_pd;

void
vmm_init(void)
{
	uint32_t *pd = (uint32_t *)pmm_alloc();
	uint32_t *pt0 = (uint32_t *)pmm_alloc();
	kassert(pd && pt0);
	memset(pd, 0, PAGE_SIZE);
	for (uint32_t i = 0; i < 1024; i++)
		pt0[i] = i ? (i * PAGE_SIZE) | PTE_P | PTE_W | PTE_G : 0;
	pd[0] = (uint32_t)pt0 | PTE_P | PTE_W;
	for (uint32_t i = 1; i < KERNEL_PDES; i++)
		pd[i] = (i << 22) | PTE_P | PTE_W | PTE_PS | PTE_G;
	kernel_pd = (uint32_t)pd;

	uint32_t cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= 0x10 | 0x80; /* PSE for the 4 MiB kernel pages, PGE to keep them */
	__asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
	vmm_switch(kernel_pd);
	uint32_t cr0;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	cr0 |= 0x80010000; /* PG, and WP so the kernel honours read-only pages */
	__asm__ volatile("mov %0, %%cr0" : : "r"(cr0));
}

void
vmm_switch(uint32_t pd)
{
	if (pd != current_pd) {
		current_pd = pd;
		write_cr3(pd);
	}
}

uint32_t
vmm_new_space(void)
{
	uint32_t pd = pmm_alloc();
	if (!pd)
		return 0;
	memcpy((void *)pd, (void *)kernel_pd, KERNEL_PDES * 4);
	memset((uint32_t *)pd + KERNEL_PDES, 0, (1024 - KERNEL_PDES) * 4);
	return pd;
}

void
vmm_destroy_space(uint32_t pd, int *pages)
{
	uint32_t *dir = (uint32_t *)pd;

	if (current_pd == pd)
		vmm_switch(kernel_pd);
	for (uint32_t i = KERNEL_PDES; i < 1024; i++) {
		if (!(dir[i] & PTE_P))
			continue;
		uint32_t *pt = (uint32_t *)FRAME_OF(dir[i]);
		for (int j = 0; j < 1024; j++) {
			if ((pt[j] & PTE_P) && !(pt[j] & PTE_DEVICE)) {
				pmm_free(FRAME_OF(pt[j]));
				(*pages)--;
			}
		}
		pmm_free((uint32_t)pt);
		(*pages)--;
	}
	pmm_free(pd);
}

static uint32_t *
pte_slot(uint32_t pd, uint32_t va, bool create, int *pages)
{
	uint32_t *dir = (uint32_t *)pd;
	uint32_t pde = dir[PD_INDEX(va)];

	if (!(pde & PTE_P)) {
		if (!create)
			return NULL;
		uint32_t pt = pmm_alloc();
		if (!pt)
			return NULL;
		memset((void *)pt, 0, PAGE_SIZE);
		(*pages)++;
		pde = pt | PTE_P | PTE_W | PTE_U;
		dir[PD_INDEX(va)] = pde;
	}
	return (uint32_t *)FRAME_OF(pde) + PT_INDEX(va);
}

int
vmm_map(uint32_t pd, uint32_t va, uint32_t pa, uint32_t flags, int *pages)
{
	kassert(va >= QS_USER_BASE && va < QS_USER_TOP);
	uint32_t *pte = pte_slot(pd, va, true, pages);
	if (!pte)
		return QS_ENOMEM;
	kassert(!(*pte & PTE_P));
	*pte = pa | flags | PTE_P;
	if (!(flags & PTE_DEVICE))
		(*pages)++;
	if (pd == current_pd)
		invlpg(va);
	return 0;
}

int
vmm_alloc_range(uint32_t pd, uint32_t va, uint32_t len, uint32_t flags,
		int *pages)
{
	for (uint32_t off = 0; off < len; off += PAGE_SIZE) {
		uint32_t pa = pmm_alloc();
		if (!pa || vmm_map(pd, va + off, pa, flags, pages) < 0) {
			if (pa)
				pmm_free(pa);
			vmm_free_range(pd, va, off, pages);
			return QS_ENOMEM;
		}
		memset((void *)pa, 0, PAGE_SIZE);
	}
	return 0;
}

/* Unmaps and frees; page tables stay until the space is destroyed. */
void
vmm_free_range(uint32_t pd, uint32_t va, uint32_t len, int *pages)
{
	vmm_unmaps++;
	for (uint32_t off = 0; off < len; off += PAGE_SIZE) {
		uint32_t *pte = pte_slot(pd, va + off, false, pages);
		if (!pte || !(*pte & PTE_P))
			continue;
		if (!(*pte & PTE_DEVICE)) {
			pmm_free(FRAME_OF(*pte));
			(*pages)--;
		}
		*pte = 0;
		if (pd == current_pd)
			invlpg(va + off);
	}
}

uint32_t
vmm_lookup(uint32_t pd, uint32_t va)
{
	uint32_t *pte = pte_slot(pd, va, false, NULL);
	return pte ? *pte : 0;
}

/* On every syscall's path, so it walks the tables itself, page by page. */
bool
vmm_user_ok(uint32_t pd, uint32_t va, uint32_t len, bool write)
{
	if (va < QS_USER_BASE || va >= QS_USER_TOP || len > QS_USER_TOP - va)
		return false;
	for (uint32_t p = PAGE_ROUND_DOWN(va); p < va + len; p += PAGE_SIZE)
		if (!vmm_user_pte(pd, p, write))
			return false;
	return true;
}
