/* The node's console: COM1 in and out, mirrored onto the VGA text screen. */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

void serial_init(void);
bool serial_tx_ready(void);
void serial_out(char c);
void serial_tx_irq(bool on);
void serial_irq(void);

void vga_init(void);
void vga_putc(char c);

/* The kernel's own output: never blocks; dropped (and counted) if the
   output buffer is full. */
void console_write(const char *s, size_t len);
/* A process's output: blocks until there is room for all of it (at most
   CONSOLE_WRITE_MAX bytes, a newline taking two), so that writes never
   interleave; returns how many it took or QS_EFAULT. */
#define CONSOLE_WRITE_MAX 4096
int console_write_user(uint32_t ubuf, uint32_t len);
/* Moves buffered output to the UART while it takes it (its interrupt). */
void console_tx(void);
/* After a panic: the buffered output, then s, by polling, with a bound. */
void console_write_polled(const char *s, size_t len);
void console_input(char c);  /* from the serial IRQ */
/* Blocks until at least one byte has come, or QS_ETIMEDOUT (-1: no limit). */
int console_read(char *buf, size_t len, int32_t timeout_ms);

#endif
