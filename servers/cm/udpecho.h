/* The CM's UDP echo (udpecho.c); every call with net_lock held (cm.c). */
#ifndef CM_UDPECHO_H
#define CM_UDPECHO_H

#include <qs/cm.h>
#include <qs/thread.h>

/* Answer echoes on CM_UDP_ECHO_PORT from now on. */
int udpecho_start(void);
/* CM_OP_UDP_ECHO: waits on `lock` (held) for each echo. */
int udpecho_run(qs_mutex_t *lock, const cm_udp_echo_t *a,
		cm_udp_echo_result_t *r);

#endif
