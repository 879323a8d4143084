/* Membership by heartbeats (member.c); calls under net_lock. */
#ifndef CM_MEMBER_H
#define CM_MEMBER_H

#include <stdint.h>
#include <qs/cm.h>

int member_start(uint32_t node, uint32_t incarnation);
/* The nodes known, this one included; last_ms says how long ago each was
 * heard from. *bad gets the count of bad packets. */
uint32_t member_list(cm_node_t *out, uint32_t max, uint32_t *bad);

#endif
