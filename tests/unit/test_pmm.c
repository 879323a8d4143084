/* Unit tests for the page allocator's bookkeeping (kernel/pmm.c). */
#include <stdint.h>

#include "check.h"
#include "../../kernel/pmm.h"

#define MiB (1024u * 1024u)
#define PAGE 4096u

/* pmm.c's kassert calls panic; a test that reaches it has failed. */
void panic(const char *fmt, ...);
void
panic(const char *fmt, ...)
{
	printf("panic: %s\n", fmt);
	__builtin_trap();
}

static void
setup(void)
{
	pmm_init();
	pmm_add_free_range(0, 640 * 1024);    /* low memory */
	pmm_add_free_range(MiB, 15 * MiB);    /* 1..16 MiB */
	pmm_reserve_range(0, MiB);            /* BIOS and the kernel's first MiB */
	pmm_reserve_range(MiB, 2 * MiB);      /* "kernel image" */
}

static void
test_counts_after_setup(void)
{
	setup();
	CHECK(pmm_total_pages() == 13 * MiB / PAGE);
	CHECK(pmm_free_pages() == pmm_total_pages());
}

static void
test_alloc_is_free_usable_memory(void)
{
	setup();
	uint32_t seen_lo = 0xFFFFFFFF, seen_hi = 0;
	for (int i = 0; i < 100; i++) {
		uint32_t p = pmm_alloc();
		CHECK(p % PAGE == 0);
		CHECK(p >= 3 * MiB && p < 16 * MiB);
		seen_lo = p < seen_lo ? p : seen_lo;
		seen_hi = p > seen_hi ? p : seen_hi;
	}
	CHECK(seen_hi - seen_lo >= 99 * PAGE); /* 100 distinct frames */
	CHECK(pmm_free_pages() == pmm_total_pages() - 100);
}

static void
test_free_restores_count(void)
{
	setup();
	uint32_t before = pmm_free_pages();
	uint32_t pages[50];
	for (int i = 0; i < 50; i++)
		pages[i] = pmm_alloc();
	for (int i = 0; i < 50; i++)
		pmm_free(pages[i]);
	CHECK(pmm_free_pages() == before);
}

static void
test_contiguous(void)
{
	setup();
	uint32_t a = pmm_alloc_contig(8);
	uint32_t b = pmm_alloc_contig(8);
	CHECK(a && b && a % PAGE == 0);
	CHECK(b >= a + 8 * PAGE || a >= b + 8 * PAGE); /* no overlap */
	uint32_t before = pmm_free_pages();
	pmm_free_contig(a, 8);
	CHECK(pmm_free_pages() == before + 8);
	CHECK(pmm_alloc_contig(0) == 0);
}

static void
test_contiguous_skips_holes(void)
{
	pmm_init();
	pmm_add_free_range(4 * MiB, 3 * PAGE);          /* too short a run */
	pmm_add_free_range(8 * MiB, 4 * PAGE);          /* long enough */
	uint32_t p = pmm_alloc_contig(4);
	CHECK(p == 8 * MiB);
	CHECK(pmm_alloc_contig(4) == 0);
	CHECK(pmm_free_pages() == 3);
}

static void
test_exhaustion(void)
{
	pmm_init();
	pmm_add_free_range(4 * MiB, 4 * PAGE);
	for (int i = 0; i < 4; i++)
		CHECK(pmm_alloc() != 0);
	CHECK(pmm_alloc() == 0);
	CHECK(pmm_free_pages() == 0);
}

static void
test_unaligned_and_high_ranges(void)
{
	pmm_init();
	pmm_add_free_range(4 * MiB + 1, 2 * PAGE); /* only one whole frame */
	CHECK(pmm_total_pages() == 1);
	pmm_add_free_range(0xFFFFF000ull, 0x100000000ull); /* beyond the map */
	CHECK(pmm_total_pages() == 1);
	pmm_add_free_range(4 * MiB, 2 * PAGE); /* overlaps: counted once */
	CHECK(pmm_total_pages() == 2);
}

static void
test_reserve_takes_frames_away(void)
{
	setup();
	uint32_t total = pmm_total_pages();
	pmm_reserve_range(10 * MiB, 3 * PAGE + 1); /* rounds up to 4 frames */
	CHECK(pmm_total_pages() == total - 4);
	for (uint32_t i = 0; i < pmm_total_pages(); i++) {
		uint32_t p = pmm_alloc();
		if (p >= 10 * MiB && p < 10 * MiB + 4 * PAGE) {
			CHECK(!"reserved frame handed out");
			break;
		}
	}
}

int
main(void)
{
	RUN(test_counts_after_setup);
	RUN(test_alloc_is_free_usable_memory);
	RUN(test_free_restores_count);
	RUN(test_contiguous);
	RUN(test_contiguous_skips_holes);
	RUN(test_exhaustion);
	RUN(test_unaligned_and_high_ranges);
	RUN(test_reserve_takes_frames_away);
	return check_summary();
}
