/* Membership by heartbeats (member.c); calls under net_lock. */
#ifndef CM_MEMBER_H
#define CM_MEMBER_H

#include <stdbool.h>
#include <stdint.h>
#include <qs/cm.h>

int member_start(uint32_t node, uint32_t incarnation);
/* The nodes known, this one included; last_ms says how long ago each was
 * heard from. *bad gets the count of bad packets. */
uint32_t member_list(cm_node_t *out, uint32_t max, uint32_t *bad);
/* A node's state (CM_NODE_*, 0 if never heard of, or this node) and its
 * incarnation. */
uint32_t member_state(uint32_t node, uint32_t *incarnation);
/* What incarnation inc of node is (member.c says when each holds). */
enum { INC_SAME, INC_NEW, INC_STALE, INC_BOGUS };
/* ... in a heartbeat, which may start the node's next life. */
int member_judge(uint32_t node, uint32_t inc);
/* ... in any other packet: INC_SAME only for the one membership holds. */
int member_check(uint32_t node, uint32_t inc);
/* Is any other node up or suspect? */
bool member_any_up(void);

#endif
