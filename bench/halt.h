/* A benchmark ends by powering its node off: its config gives it the right. */
#ifndef BENCH_HALT_H
#define BENCH_HALT_H

#include <stdio.h>
#include <stdlib.h>
#include <qs/sys.h>

static void __attribute__((noreturn, unused))
bench_halt(void)
{
	printf("bench: cannot halt: %s\n", qs_strerror(qs_halt()));
	exit(1);
}

#endif
