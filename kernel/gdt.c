/*
 * Flat segments for ring 0 and ring 3 and one TSS. The TSS carries the
 * kernel stack for traps from user mode and the I/O permission bitmap that
 * device grants fill in.
 */
#include "kernel.h"
#include "cpu.h"

#define IO_BITMAP_BYTES 8192

typedef struct __attribute__((packed)) {
	uint32_t prev, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	uint32_t eax, ecx, edx, ebx, esp, ebp, esi, edi;
	uint32_t es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, iomap_base;
	uint8_t iomap[IO_BITMAP_BYTES + 1]; /* last byte must be 0xff */
} tss_t;

static uint64_t gdt[6];
static tss_t tss __attribute__((aligned(16)));
static const uint8_t *tss_io_owner; /* whose bitmap the TSS holds, if any */

static uint64_t
gdt_entry(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	uint64_t e = limit & 0xFFFF;
	e |= (uint64_t)(base & 0xFFFFFF) << 16;
	e |= (uint64_t)access << 40;
	e |= (uint64_t)((limit >> 16) & 0xF) << 48;
	e |= (uint64_t)(flags & 0xF) << 52;
	e |= (uint64_t)(base >> 24) << 56;
	return e;
}

void
gdt_init(void)
{
	gdt[0] = 0;
	gdt[1] = gdt_entry(0, 0xFFFFF, 0x9A, 0xC); /* kernel code */
	gdt[2] = gdt_entry(0, 0xFFFFF, 0x92, 0xC); /* kernel data */
	gdt[3] = gdt_entry(0, 0xFFFFF, 0xFA, 0xC); /* user code */
	gdt[4] = gdt_entry(0, 0xFFFFF, 0xF2, 0xC); /* user data */
	gdt[5] = gdt_entry((uint32_t)&tss, sizeof(tss) - 1, 0x89, 0x0);

	memset(&tss, 0, sizeof(tss));
	tss.ss0 = SEL_KDATA;
	tss.iomap_base = offsetof(tss_t, iomap);
	memset(tss.iomap, 0xFF, sizeof(tss.iomap));

	struct __attribute__((packed)) {
		uint16_t limit;
		uint32_t base;
	} gdtr = { sizeof(gdt) - 1, (uint32_t)gdt };

	__asm__ volatile("lgdt %0\n"
			 "mov %1, %%ds\n mov %1, %%es\n mov %1, %%fs\n"
			 "mov %1, %%gs\n mov %1, %%ss\n"
			 "ljmp %2, $1f\n1:\n"
			 "ltr %w3\n"
			 :
			 : "m"(gdtr), "r"(SEL_KDATA), "i"(SEL_KCODE),
			   "r"(SEL_TSS)
			 : "memory");
}

void
tss_set_kernel_stack(uint32_t esp0)
{
	tss.esp0 = esp0;
}

/* NULL denies every port; it also makes the next owner's bitmap reload. */
void
tss_set_io_bitmap(const uint8_t *bitmap)
{
	if (bitmap == tss_io_owner)
		return;
	if (bitmap)
		memcpy(tss.iomap, bitmap, IO_BITMAP_BYTES);
	else
		memset(tss.iomap, 0xFF, IO_BITMAP_BYTES);
	tss_io_owner = bitmap;
}
