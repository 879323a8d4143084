/*
 * The shell's network commands: `ping NODE [COUNT]` asks the CM to send
 * ICMP echoes through lwIP to node NODE (10.0.0.(NODE+1)), one a second at
 * most, and prints each round trip; `nodes` lists the nodes the CM's
 * heartbeats know of; `net` prints the CM's counters for remote requests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <qs/cm.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include "netcmd.h"

#define COUNT_MAX 100

static int
cm_qid(const char *cmd)
{
	int qid = qs_sq_lookup(CM_QUEUE);
	if (qid < 0)
		printf("%s: no communication manager (queue %s)\n", cmd, CM_QUEUE);
	return qid;
}

void
cmd_nodes(int argc, char **argv)
{
	(void)argc, (void)argv;
	static const char *const states[] = { "?", "up", "suspect", "down" };
	static qs_msg_t req, reply;
	int qid = cm_qid("nodes");
	if (qid < 0)
		return;
	qs_msg_init(&req, CM_OP_NODES);
	int r = qs_call(qid, &req, &reply, sizeof(reply));
	const cm_nodes_t *l = (const cm_nodes_t *)reply.data;
	if (r < 0 || reply.hdr.len < sizeof(*l) ||
	    reply.hdr.len < sizeof(*l) + l->count * sizeof(cm_node_t)) {
		printf("nodes: %s\n", qs_strerror(r < 0 ? r : QS_EINVAL));
		return;
	}
	printf("NODE ADDRESS     STATE   INCARNATION LAST-HEARD HEARTBEATS RESTARTS\n");
	for (uint32_t i = 0; i < l->count; i++) {
		const cm_node_t *n = &l->node[i];
		printf("%4u 10.0.0.%-4u %-7s %11u %7u ms %10u %8u\n", n->node,
		       n->node + 1, states[n->state <= 3 ? n->state : 0],
		       n->incarnation, n->last_ms, n->heartbeats, n->restarts);
	}
	printf("bad packets %u\n", l->bad_packets);
}

void
cmd_ping(int argc, char **argv)
{
	long node, count = 3;
	if (qs_parse_int(argv[1], &node) < 0 || node < 0 || node > 253 ||
	    (argc > 2 && (qs_parse_int(argv[2], &count) < 0 || count < 1 ||
			  count > COUNT_MAX))) {
		printf("usage: ping NODE [COUNT] (NODE 0..253, COUNT 1..%d)\n",
		       COUNT_MAX);
		return;
	}
	int qid = cm_qid("ping");
	if (qid < 0)
		return;
	static qs_msg_t req, reply;
	int received = 0;
	for (long seq = 1; seq <= count; seq++) {
		cm_ping_t p = { (uint32_t)node, (uint32_t)seq };
		qs_msg_init(&req, CM_OP_PING);
		qs_msg_put(&req, &p, sizeof(p));
		int r = qs_call(qid, &req, &reply, sizeof(reply));
		if (r >= 0) {
			printf("ping: reply from node %ld (10.0.0.%ld): seq %ld "
			       "time %d ms\n", node, node + 1, seq, r);
			received++;
		} else {
			printf("ping: node %ld: seq %ld: %s\n", node, seq,
			       qs_strerror(r));
		}
	}
	printf("ping: %ld sent, %d received\n", count, received);
}

void
cmd_net(int argc, char **argv)
{
	(void)argc, (void)argv;
	static qs_msg_t req, reply;
	int qid = cm_qid("net");
	if (qid < 0)
		return;
	qs_msg_init(&req, CM_OP_RPC_STATS);
	int r = qs_call(qid, &req, &reply, sizeof(reply));
	const cm_rpc_stats_t *s = QS_MSG_AS(&reply, cm_rpc_stats_t);
	if (r < 0 || !s) {
		printf("net: %s\n", qs_strerror(r < 0 ? r : QS_EINVAL));
		return;
	}
	printf("net: requests sent %u received %u, replies sent %u received "
	       "%u\n", s->req_tx, s->req_rx, s->rep_tx, s->rep_rx);
	printf("net: retransmits %u duplicates %u late %u stale %u bad %u "
	       "busy %u unreachable %u udp-bad %u\n", s->retransmits,
	       s->duplicates, s->late, s->stale, s->bad, s->busy,
	       s->unreachable, s->udp_bad);
	printf("net: inflight %u cached %u proxies %u edges %u marks %u "
	       "redirected %u\n", s->inflight, s->cached, s->proxies,
	       s->edges, s->marks, s->redirected);
	printf("net: refused header %u length %u seq %u floor %u incarnation "
	       "%u queue %u heartbeat %u seal %u replay %u\n", s->rej_header,
	       s->rej_length, s->rej_seq, s->rej_floor, s->rej_inc,
	       s->rej_queue, s->rej_heartbeat, s->rej_seal, s->rej_replay);
	printf("net: marks-full %u answers-held %u lookups-limited %u\n",
	       s->marks_full, s->answers_held, s->lookups_limited);
}
