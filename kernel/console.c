/*
 * Console output goes to COM1 and the VGA mirror; input from COM1 is kept in
 * a ring buffer until a reader takes it. Line editing is the shell's job.
 */
#include "kernel.h"
#include "console.h"
#include "sched.h"

#define INPUT_SIZE 1024

static char input[INPUT_SIZE];
static uint32_t in_head, in_tail; /* head: next write; tail: next read */
static wq_t readers = WQ_INIT(readers);

void
console_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			serial_putc('\r');
		serial_putc(s[i]);
		vga_putc(s[i]);
	}
}

/* Input that arrives while the buffer is full is dropped: nobody is reading. */
void
console_input(char c)
{
	if (in_head - in_tail < INPUT_SIZE)
		input[in_head++ % INPUT_SIZE] = c;
	sched_wake_all(&readers);
}

int
console_read(char *buf, size_t len, int32_t timeout_ms)
{
	while (in_head == in_tail) {
		int r = sched_block(&readers, timeout_ms);
		if (r < 0)
			return r;
	}
	size_t n = 0;
	while (n < len && in_tail != in_head)
		buf[n++] = input[in_tail++ % INPUT_SIZE];
	return (int)n;
}
