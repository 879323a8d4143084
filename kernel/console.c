/*
 * Console output goes to the VGA mirror at once and to COM1 through a ring
 * buffer that the UART's transmit interrupt drains, so no writer ever waits
 * for the serial line with interrupts off: a process whose output does not
 * fit blocks until it does, the kernel's own is dropped (and counted).
 * Input from COM1 is kept in a ring buffer until a reader takes it. Line
 * editing is the shell's job.
 */
#include "kernel.h"
#include "console.h"
#include "proc.h"
#include "sched.h"

#define INPUT_SIZE 1024
#define OUTPUT_SIZE 16384
#define POLL_SPINS 100000 /* per byte, after a panic */

static char input[INPUT_SIZE];
static uint32_t in_head, in_tail; /* head: next write; tail: next read */
static wq_t readers = WQ_INIT(readers);

static char output[OUTPUT_SIZE];
static uint32_t out_head, out_tail; /* head: next write; tail: next sent */
static wq_t writers = WQ_INIT(writers);
static uint32_t dropped;

_Static_assert(2 * CONSOLE_WRITE_MAX <= OUTPUT_SIZE,
	       "a process's write must fit the output buffer whole");

static uint32_t
out_room(void)
{
	return OUTPUT_SIZE - (out_head - out_tail);
}

void
console_tx(void)
{
	uint32_t before = out_room();
	while (out_tail != out_head && serial_tx_ready())
		serial_out(output[out_tail++ % OUTPUT_SIZE]);
	serial_tx_irq(out_tail != out_head);
	if (out_room() > before)
		sched_wake_all(&writers);
}

/* Buffers c (a newline as CR LF); false if there is no room. */
static bool
out_put(char c)
{
	if (out_room() < 2)
		return false;
	if (c == '\n')
		output[out_head++ % OUTPUT_SIZE] = '\r';
	output[out_head++ % OUTPUT_SIZE] = c;
	vga_putc(c);
	return true;
}

void
console_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!out_put(s[i]))
			dropped++;
	console_tx();
}

int
console_write_user(uint32_t ubuf, uint32_t len)
{
	const char *s = (const char *)ubuf;
	uint32_t n = 0;
	if (len > CONSOLE_WRITE_MAX)
		len = CONSOLE_WRITE_MAX;
	/* whole or not at all (room for every byte as CR LF): another
	   writer's output never lands inside a line */
	while (out_room() < 2 * len)
		sched_block(&writers, -1);
	/* checked after the wait: another thread may have unmapped it */
	if (!user_ok(ubuf, len, false))
		return QS_EFAULT;
	while (n < len && out_put(s[n]))
		n++;
	console_tx();
	return (int)n;
}

static void
poll_out(char c)
{
	for (int spins = 0; !serial_tx_ready() && spins < POLL_SPINS; spins++)
		;
	serial_out(c);
}

void
console_write_polled(const char *s, size_t len)
{
	serial_tx_irq(false);
	while (out_tail != out_head)
		poll_out(output[out_tail++ % OUTPUT_SIZE]);
	if (dropped) {
		const char *m = "\r\n[kernel] (console output was dropped)\r\n";
		while (*m)
			poll_out(*m++);
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			poll_out('\r');
		poll_out(s[i]);
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
