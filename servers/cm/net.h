/* The CM's lwIP side (net.c); every call with net_lock held (cm.c). */
#ifndef CM_NET_H
#define CM_NET_H

#include <stdint.h>
#include <qs/cm.h>
#include <qs/thread.h>
#include "e1000.h"

int net_init(e1000_t *nic, uint32_t node);
/* Received frames into lwIP (or the raw ring), link changes, timers. */
void net_poll(e1000_t *nic);
/* How long until lwIP's next timer (ms). */
uint32_t net_sleeptime(void);
/* The next received frame that is neither IP nor ARP, or QS_EAGAIN. */
int net_raw_recv(void *frame, uint32_t cap);
/* One ICMP echo to node; waits on `lock` (held) for the reply: the round
 * trip in ms, QS_ETIMEDOUT, QS_EUNREACH, or QS_EINVAL for a bad node. */
int net_ping(qs_mutex_t *lock, uint32_t node, uint16_t seq, uint32_t timeout_ms);
void net_stats(cm_stats_t *s);

#endif
