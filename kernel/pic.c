/* The two 8259 PICs, remapped so IRQs 0-15 arrive at vectors 32-47. */
#include "kernel.h"
#include "cpu.h"
#include "x86.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1

static uint16_t pic_masks = 0xFFFF & ~(1u << 2); /* cascade stays open */

static void
pic_write_masks(void)
{
	qs_outb(PIC1_DATA, pic_masks & 0xFF);
	qs_outb(PIC2_DATA, pic_masks >> 8);
}

void
pic_init(void)
{
	qs_outb(PIC1_CMD, 0x11);
	qs_outb(PIC2_CMD, 0x11);
	qs_outb(PIC1_DATA, IRQ_BASE);
	qs_outb(PIC2_DATA, IRQ_BASE + 8);
	qs_outb(PIC1_DATA, 4);
	qs_outb(PIC2_DATA, 2);
	qs_outb(PIC1_DATA, 1);
	qs_outb(PIC2_DATA, 1);
	pic_write_masks();
}

void
pic_mask(int irq, int masked)
{
	if (masked)
		pic_masks |= 1u << irq;
	else
		pic_masks &= ~(1u << irq);
	pic_write_masks();
}

void
pic_eoi(int irq)
{
	if (irq >= 8)
		qs_outb(PIC2_CMD, 0x20);
	qs_outb(PIC1_CMD, 0x20);
}
