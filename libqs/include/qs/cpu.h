/*
 * The instructions a user-level driver or benchmark needs: port I/O (only
 * on ports init granted; others fault), string port I/O for PIO transfers,
 * and the time-stamp counter (under `make bench`'s -icount shift=0 it
 * counts executed instructions).
 */
#ifndef QS_CPU_H
#define QS_CPU_H

#include <stdint.h>

static inline void
qs_outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t
qs_inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void
qs_outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint16_t
qs_inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void
qs_outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint32_t
qs_inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* `count` 16-bit words from one port into buf (an ATA PIO data block). */
static inline void
qs_insw(uint16_t port, void *buf, uint32_t count)
{
	__asm__ volatile("rep insw"
			 : "+D"(buf), "+c"(count)
			 : "d"(port)
			 : "memory");
}

static inline void
qs_outsw(uint16_t port, const void *buf, uint32_t count)
{
	__asm__ volatile("rep outsw"
			 : "+S"(buf), "+c"(count)
			 : "d"(port)
			 : "memory");
}

/* `count` 32-bit words: half the port accesses of insw, for controllers
 * that take 32-bit accesses to their data port (the PIIX IDE's does). */
static inline void
qs_insl(uint16_t port, void *buf, uint32_t count)
{
	__asm__ volatile("rep insl"
			 : "+D"(buf), "+c"(count)
			 : "d"(port)
			 : "memory");
}

static inline void
qs_outsl(uint16_t port, const void *buf, uint32_t count)
{
	__asm__ volatile("rep outsl"
			 : "+S"(buf), "+c"(count)
			 : "d"(port)
			 : "memory");
}

static inline uint64_t
qs_rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

#endif
