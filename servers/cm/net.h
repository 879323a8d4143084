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
/* One ICMP echo to node for request rid of process pid: RPC_DEFERRED, the
 * request answered later (rpc_answer) with the round trip in ms, or
 * QS_ETIMEDOUT after timeout_ms; or at once QS_EUNREACH (no route),
 * QS_EINVAL (no such node), QS_ELIMIT (pid has PINGS_PER_CLIENT under way),
 * QS_EAGAIN (PINGS_MAX under way), QS_ENOMEM. */
int net_ping(uint32_t rid, int32_t pid, uint32_t node, uint32_t timeout_ms);
/* Pings past their deadline get QS_ETIMEDOUT (rpc.c's tick). */
void net_ping_tick(void);
void net_stats(cm_stats_t *s);

#endif
