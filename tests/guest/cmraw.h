/*
 * What the packet-forging test tools (netjunk, wirefuzz) share: calls to
 * this node's CM, a node's incarnation as the CM has it, and one UDP
 * datagram sent as a raw frame through the CM's test hook (CM_OP_RAW_SEND,
 * QS_RIGHT_RAW_NET), sealed with the cluster key when the tool was given it
 * (-kKEY: seal_init_hex, servers/cm/seal.c). The tool sets cm (the queue)
 * and stats (for the MAC) before it sends.
 */
#ifndef TESTS_GUEST_CMRAW_H
#define TESTS_GUEST_CMRAW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <qs/cm.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include "../../servers/cm/seal.h"
#include "udpframe.h"

static int cm;
static cm_stats_t stats;

static int
cm_call(uint32_t op, const void *data, uint32_t len, qs_msg_t *reply)
{
	static qs_msg_t req;
	qs_msg_init(&req, op);
	qs_msg_put(&req, data, len);
	return qs_call(cm, &req, reply, sizeof(*reply));
}

/*
 * What a tool does first: takes a leading -kKEY off its arguments (then it
 * seals), finds this node's CM and reads its stats. 0, or the status to
 * exit with, having said why ("PROG: error: ...").
 */
static int
cm_open(const char *prog, int *argc, char ***argv)
{
	static qs_msg_t reply;
	if (*argc >= 2 && strncmp((*argv)[1], "-k", 2) == 0) {
		if (seal_init_hex((*argv)[1] + 2) < 0) {
			printf("%s: error: -kKEY wants 64 hex digits\n", prog);
			return 2;
		}
		(*argc)--;
		(*argv)++;
	}
	int r = cm = qs_sq_lookup(CM_QUEUE);
	if (r > 0)
		r = cm_call(CM_OP_STATS, NULL, 0, &reply);
	if (r < 0) {
		printf("%s: error: the CM: %s\n", prog, qs_strerror(r));
		return 1;
	}
	memcpy(&stats, reply.data, sizeof(stats));
	return 0;
}

/* NODE's incarnation as our CM heard it; 0 if it does not know NODE. */
static uint32_t
cm_incarnation_of(uint32_t node)
{
	static qs_msg_t reply;
	if (cm_call(CM_OP_NODES, NULL, 0, &reply) < 0)
		return 0;
	const cm_nodes_t *l = (const cm_nodes_t *)reply.data;
	for (uint32_t i = 0; i < l->count; i++)
		if (l->node[i].node == node)
			return l->node[i].incarnation;
	return 0;
}

/* One UDP datagram to target's port, from ip_node's address, sealed if a
 * key was given; bad_sum spoils its UDP checksum. A full transmit ring is
 * waited out. */
static int
cm_send_udp(uint32_t target, uint32_t ip_node, uint16_t port, const void *p,
	    uint32_t n, bool bad_sum)
{
	static uint8_t f[CM_FRAME_MAX];
	static uint8_t sealed[CM_FRAME_MAX + SEAL_TAG_LEN];
	static qs_msg_t reply;
	if (n > CM_FRAME_MAX - UDPFRAME_HDR - (seal_on() ? SEAL_TAG_LEN : 0))
		return QS_E2BIG;
	memcpy(sealed, p, n);
	n = seal(sealed, n);
	uint32_t len = udp_frame(f, stats.mac, ip_node, (uint8_t)(target + 1),
				 port, sealed, n, bad_sum);
	for (int tries = 0;; tries++) {
		int r = cm_call(CM_OP_RAW_SEND, f, len, &reply);
		if (r != QS_EAGAIN || tries == 1000)
			return r;
		qs_yield();
	}
}

#endif
