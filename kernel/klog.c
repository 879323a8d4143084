/* kprintf, the kernel log prefix, and panic with a register dump. */
#include <stdio.h>
#include "kernel.h"
#include "console.h"
#include "x86.h"

static bool panicking;

static void
vkprintf(const char *fmt, va_list ap)
{
	char buf[512];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (panicking)
		console_write_polled(buf, (size_t)n);
	else
		console_write(buf, (size_t)n);
}

void
kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vkprintf(fmt, ap);
	va_end(ap);
}

void
klog(const char *fmt, ...)
{
	va_list ap;
	kprintf("[kernel] ");
	va_start(ap, fmt);
	vkprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
}

void
panic(const char *fmt, ...)
{
	va_list ap;
	cli();
	panicking = true;
	kprintf("\n[kernel] PANIC: ");
	va_start(ap, fmt);
	vkprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	for (;;)
		hlt();
}
