/* The node's console: COM1 in and out, mirrored onto the VGA text screen. */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

void serial_init(void);
void serial_putc(char c);
void serial_irq(void);

void vga_init(void);
void vga_putc(char c);

void console_write(const char *s, size_t len);
void console_input(char c);  /* from the serial IRQ */
/* Blocks until at least one byte has come, or QS_ETIMEDOUT (-1: no limit). */
int console_read(char *buf, size_t len, int32_t timeout_ms);

#endif
