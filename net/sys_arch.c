/*
 * What lwIP needs from the system with NO_SYS=1: the time for its timers
 * and the end of the process on a failed assertion.
 */
#include <stdio.h>
#include <stdlib.h>
#include <qs/sys.h>
#include "lwip/arch.h"
#include "lwip/sys.h"

/* Wraps after 49 days; lwIP compares times modulo 2^32, so that is fine. */
u32_t
sys_now(void)
{
	return qs_uptime_ms();
}

void
qs_lwip_assert(const char *msg, const char *file, int line)
{
	printf("lwip: assertion \"%s\" failed at %s:%d\n", msg, file, line);
	abort();
}
