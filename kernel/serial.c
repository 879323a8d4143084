/* COM1 (16550) at 115200 baud: interrupt-driven input and output. */
#include "kernel.h"
#include "console.h"
#include "cpu.h"
#include "x86.h"

#define COM1 0x3F8

void
serial_init(void)
{
	qs_outb(COM1 + 1, 0x00); /* no interrupts while programming */
	qs_outb(COM1 + 3, 0x80); /* DLAB */
	qs_outb(COM1 + 0, 0x01); /* divisor 1: 115200 baud */
	qs_outb(COM1 + 1, 0x00);
	qs_outb(COM1 + 3, 0x03); /* 8N1 */
	qs_outb(COM1 + 2, 0xC7); /* FIFO on, cleared */
	qs_outb(COM1 + 4, 0x0B); /* DTR, RTS, OUT2 (routes the IRQ) */
	qs_outb(COM1 + 1, 0x01); /* interrupt on received data */
	pic_mask(4, 0);
}

bool
serial_tx_ready(void)
{
	return qs_inb(COM1 + 5) & 0x20;
}

void
serial_out(char c)
{
	qs_outb(COM1, (uint8_t)c);
}

/* The transmitter's interrupt, on while bytes wait for it. */
void
serial_tx_irq(bool on)
{
	qs_outb(COM1 + 1, on ? 0x03 : 0x01);
}

void
serial_irq(void)
{
	while (qs_inb(COM1 + 5) & 0x01)
		console_input((char)qs_inb(COM1));
	console_tx();
}
