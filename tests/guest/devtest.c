/*
 * Device grants, exercised on devices every PC has: the CMOS clock's ports
 * and its periodic interrupt (IRQ 8), the HPET's registers as MMIO, and DMA
 * pages. init starts it with those grants when booted with test.conf.
 */
#include <stdio.h>
#include <qs/cpu.h>
#include <qs/sys.h>
#define CHECK_PREFIX "devtest: "
#include "check.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define RTC_IRQ 8
#define HPET_BASE 0xFED00000u
enum { HPET_ID = 0x00 / 4, HPET_CONFIG = 0x10 / 4, HPET_COUNTER = 0xF0 / 4 };


static uint8_t
cmos_read(uint8_t reg)
{
	qs_outb(CMOS_INDEX, reg);
	return qs_inb(CMOS_DATA);
}

static void
cmos_write(uint8_t reg, uint8_t v)
{
	qs_outb(CMOS_INDEX, reg);
	qs_outb(CMOS_DATA, v);
}

static void
test_irq(void)
{
	uint8_t b = cmos_read(0x0B);
	cmos_write(0x0A, (cmos_read(0x0A) & 0xF0) | 0x0F); /* 2 Hz */
	cmos_write(0x0B, b | 0x40);                         /* periodic on */
	cmos_read(0x0C);                                    /* ack anything old */
	int got = 0;
	for (int i = 0; i < 3; i++) {
		int r = qs_irq_wait(RTC_IRQ, 5000);
		if (r > 0)
			got++;
		cmos_read(0x0C); /* the RTC raises no new IRQ until C is read */
	}
	cmos_write(0x0B, b & ~0x40);
	check(got == 3, "irq 8 delivered three times");
}

/*
 * The HPET's registers: the window manager owns the VGA (its text memory
 * vanishes when it switches to graphics), and the kernel never touches the
 * HPET. Its main counter may be written while the HPET is halted.
 */
static void
test_mmio(void)
{
	volatile uint32_t *hpet = qs_mmio_map(HPET_BASE, 4096);
	check(hpet != NULL, "map granted MMIO");
	if (hpet) {
		check((hpet[HPET_ID] >> 16) == 0x8086, "MMIO reads the HPET's id");
		uint32_t enabled = hpet[HPET_CONFIG] & 1;
		hpet[HPET_CONFIG] &= ~1u; /* halt it */
		uint32_t old = hpet[HPET_COUNTER];
		hpet[HPET_COUNTER] = 0x1F51C0DE;
		check(hpet[HPET_COUNTER] == 0x1F51C0DE, "MMIO is read and written");
		hpet[HPET_COUNTER] = old;
		hpet[HPET_CONFIG] |= enabled;
	}
	check(qs_mmio_map(HPET_BASE + 4096, 4096) == NULL,
	      "MMIO outside the grant is refused");
}

int
main(void)
{
	uint8_t status_a = cmos_read(0x0A);
	check(status_a != 0xFF, "granted I/O ports read the CMOS");
	test_irq();

	test_mmio();

	uint32_t phys = 0;
	volatile uint32_t *dma = qs_dma_alloc(3, &phys);
	check(dma && phys && (phys & 0xFFF) == 0, "DMA pages with their physical address");
	if (dma) {
		dma[0] = 0xC0FFEE;
		dma[3 * 1024 - 1] = 0xBEEF;
		check(dma[0] == 0xC0FFEE && dma[3 * 1024 - 1] == 0xBEEF,
		      "DMA pages are writable");
	}
	check(qs_dma_alloc(2, &phys) == NULL, "DMA beyond the quota is refused");
	check(qs_grant(qs_getpid(), QS_GRANT_IO, 0x80, 1) == QS_EPERM,
	      "only init grants");
	return check_summary("devtest");
}
