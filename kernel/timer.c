/* The PIT on channel 0 drives the scheduler's tick. */
#include "kernel.h"
#include "cpu.h"
#include "x86.h"

#define PIT_HZ 1193182u

static volatile uint64_t ticks;

void
timer_init(uint32_t hz)
{
	uint32_t div = PIT_HZ / hz;
	qs_outb(0x43, 0x36);
	qs_outb(0x40, div & 0xFF);
	qs_outb(0x40, div >> 8);
	pic_mask(0, 0);
}

/* Called from the IRQ 0 handler. */
void
timer_tick(void)
{
	ticks++;
}

uint64_t
timer_ticks(void)
{
	return ticks;
}

uint32_t
timer_ms(void)
{
	return (uint32_t)(ticks * (1000 / TIMER_HZ));
}
