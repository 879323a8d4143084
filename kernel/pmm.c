/*
 * Physical page allocator. Pure bookkeeping on frame numbers (no hardware
 * access), so the host unit tests exercise this very file. Only frames below
 * KERNEL_SPACE_END are used: the kernel reaches physical memory through its
 * identity map, which ends there.
 */
#include "kernel.h"
#include "pmm.h"

#define PMM_FRAMES (KERNEL_SPACE_END / PAGE_SIZE)
#define FRAME(pa) ((pa) / PAGE_SIZE)

static uint32_t used_bits[PMM_FRAMES / 32]; /* 1 = not available */
static uint32_t total_pages, free_pages;
static uint32_t search_hint;

static bool
frame_used(uint32_t f)
{
	return used_bits[f / 32] & (1u << (f % 32));
}

static void
frame_set(uint32_t f, bool used)
{
	if (used)
		used_bits[f / 32] |= 1u << (f % 32);
	else
		used_bits[f / 32] &= ~(1u << (f % 32));
}

void
pmm_init(void)
{
	memset(used_bits, 0xFF, sizeof(used_bits));
	total_pages = free_pages = 0;
	search_hint = 0;
}

/* Adds the whole frames inside [base, base+len) that the identity map covers. */
void
pmm_add_free_range(uint64_t base, uint64_t len)
{
	uint64_t start = (base + PAGE_SIZE - 1) / PAGE_SIZE;
	uint64_t end = (base + len) / PAGE_SIZE;

	if (end > PMM_FRAMES)
		end = PMM_FRAMES;
	for (uint64_t f = start; f < end; f++) {
		if (frame_used((uint32_t)f)) {
			frame_set((uint32_t)f, false);
			total_pages++;
			free_pages++;
		}
	}
}

/* Takes frames out of circulation for good: kernel image, modules, BIOS. */
void
pmm_reserve_range(uint32_t base, uint32_t len)
{
	uint64_t end = ((uint64_t)base + len + PAGE_SIZE - 1) / PAGE_SIZE;

	if (end > PMM_FRAMES)
		end = PMM_FRAMES;
	for (uint32_t f = base / PAGE_SIZE; f < end; f++) {
		if (!frame_used(f)) {
			frame_set(f, true);
			total_pages--;
			free_pages--;
		}
	}
}

uint32_t
pmm_alloc_contig(uint32_t n)
{
	if (n == 0 || n > free_pages)
		return 0;
	for (uint32_t pass = 0; pass < 2; pass++) {
		uint32_t f = pass ? 1 : (search_hint ? search_hint : 1);
		uint32_t end = pass ? search_hint + n : PMM_FRAMES;
		uint32_t run = 0;
		if (end > PMM_FRAMES)
			end = PMM_FRAMES;
		for (; f < end; f++) {
			run = frame_used(f) ? 0 : run + 1;
			if (run == n) {
				uint32_t first = f + 1 - n;
				for (uint32_t i = first; i <= f; i++)
					frame_set(i, true);
				free_pages -= n;
				search_hint = f + 1 < PMM_FRAMES ? f + 1 : 1;
				return first * PAGE_SIZE;
			}
		}
	}
	return 0;
}

uint32_t
pmm_alloc(void)
{
	return pmm_alloc_contig(1);
}

void
pmm_free_contig(uint32_t phys, uint32_t n)
{
	kassert(phys % PAGE_SIZE == 0);
	for (uint32_t f = FRAME(phys); f < FRAME(phys) + n; f++) {
		kassert(f > 0 && f < PMM_FRAMES && frame_used(f));
		frame_set(f, false);
		free_pages++;
	}
	kassert(free_pages <= total_pages);
}

void
pmm_free(uint32_t phys)
{
	pmm_free_contig(phys, 1);
}

uint32_t
pmm_free_pages(void)
{
	return free_pages;
}

uint32_t
pmm_total_pages(void)
{
	return total_pages;
}
