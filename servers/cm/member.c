/*
 * Membership: every CM broadcasts a heartbeat on the LAN (UDP port
 * CM_PORT) every CM_HEARTBEAT_MS, carrying its node id and incarnation.
 * A node not heard from for CM_SUSPECT_MS is suspect, for CM_DOWN_MS down;
 * any heartbeat makes it up again, and a higher incarnation says it has
 * restarted. Runs on lwIP's timer and receive callbacks, so under net_lock.
 *
 * A packet that is not exactly a heartbeat (short, long, wrong magic or
 * version, a node id that is not the sender's address, our own id from
 * elsewhere, incarnation 0) is counted as bad and dropped.
 *
 * Incarnations (member_judge), here for heartbeats and every packet of
 * rpc.c and names.c alike, so that one node's incarnation is only ever
 * what membership holds for that node:
 *  - the first one heard of a node is its incarnation;
 *  - the same one is the node;
 *  - a higher one, by at most INC_STEP_MAX, once the present one has been
 *    silent CM_SUSPECT_MS, is a restart (a restarting node is silent while
 *    it boots, for longer than that): the node's new life;
 *  - a lower one is stale: a packet of an earlier life;
 *  - anything else while the present one is heard (a higher one too soon,
 *    or too far: 0xFFFFFFFF) is not plausible: counted and dropped, and
 *    the node goes on as it was;
 *  - once the present one has been silent CM_DOWN_MS (the node is down),
 *    the next heartbeat, of whatever incarnation, starts its next life.
 *    So an incarnation that was forged while the node was silent stops
 *    mattering CM_DOWN_MS after it was last heard: the node's real one
 *    (lower) is taken again, and nothing isolates a node for good.
 * Only heartbeats start a new life; a packet of rpc.c or names.c must carry
 * the incarnation membership holds (member_check).
 */
#include <stdbool.h>
#include <string.h>
#include <qs/sys.h>
#include <qs/tm.h>
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"
#include "member.h"
#include "rpc.h"
#include "seal.h"
#include "netif.h"

/* A node restarts at most this many times between two of its heartbeats
 * that we hear: qsnet counts starts one by one, and a node that boots is
 * heard within a second of its start. */
#define INC_STEP_MAX 16

static struct udp_pcb *pcb;
static uint32_t self, self_inc, hb_seq;
static cm_node_t peers[CM_NODES_MAX];
static uint32_t hb_last[CM_NODES_MAX]; /* the last heartbeat's sequence */
static uint32_t bad_packets;

/* Node i's state as of now, from how long it has been quiet; its going
 * down is told (once). */
static void
peer_state(int i, uint32_t now)
{
	cm_node_t *p = &peers[i];
	if (!p->state || i == (int)self)
		return;
	uint32_t quiet = now - p->last_ms, was = p->state;
	p->state = quiet >= CM_DOWN_MS      ? CM_NODE_DOWN
		   : quiet >= CM_SUSPECT_MS ? CM_NODE_SUSPECT
					    : CM_NODE_UP;
	if (p->state == CM_NODE_DOWN && was != CM_NODE_DOWN)
		rpc_node_event((uint32_t)i, TM_NODE_DOWN, p->incarnation);
}

static void
peer_states(void)
{
	uint32_t now = qs_uptime_ms();
	for (int i = 0; i < CM_NODES_MAX; i++)
		peer_state(i, now);
}

static void
heartbeat(void *arg)
{
	(void)arg;
	uint8_t pkt[sizeof(heartbeat_t) + SEAL_TAG_LEN];
	heartbeat_t hb = { lwip_htonl(HB_MAGIC), lwip_htons(HB_VERSION),
			   lwip_htons((uint16_t)self), lwip_htonl(self_inc),
			   lwip_htonl(++hb_seq) };
	memcpy(pkt, &hb, sizeof(hb));
	uint32_t n = seal(pkt, sizeof(hb));
	struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)n, PBUF_RAM);
	if (p) {
		memcpy(p->payload, pkt, n);
		udp_sendto(pcb, p, IP4_ADDR_BROADCAST, CM_PORT);
		pbuf_free(p);
	}
	peer_states();
	sys_timeout(CM_HEARTBEAT_MS, heartbeat, NULL);
}

static void
receive(void *arg, struct udp_pcb *upcb, struct pbuf *p, const ip_addr_t *from,
	u16_t port)
{
	(void)arg, (void)upcb, (void)port;
	heartbeat_t hb;
	uint8_t pkt[sizeof(hb) + SEAL_TAG_LEN];
	ip4_addr_t addr, mask;
	bool ok = p->tot_len <= sizeof(pkt) &&
		  pbuf_copy_partial(p, pkt, p->tot_len, 0) == p->tot_len;
	int32_t len = ok ? seal_open(pkt, p->tot_len) : -1;
	pbuf_free(p);
	if (ok && len < 0) {
		bad_packets++; /* no key, or not ours: nothing is read */
		rpc_reject(REJ_HEARTBEAT);
		rpc_reject(REJ_HB_SEAL);
		return;
	}
	ok = ok && len == (int32_t)sizeof(hb);
	if (ok)
		memcpy(&hb, pkt, sizeof(hb));
	uint32_t node = ok ? lwip_ntohs(hb.node) : 0;
	if (!ok || lwip_ntohl(hb.magic) != HB_MAGIC ||
	    lwip_ntohs(hb.version) != HB_VERSION || node >= CM_NODES_MAX ||
	    node == self || qs_net_addr(node, &addr, &mask) < 0 ||
	    !ip4_addr_cmp(&addr, ip_2_ip4(from))) {
		bad_packets++;
		rpc_reject(REJ_HEARTBEAT);
		return;
	}
	cm_node_t *n = &peers[node];
	uint32_t inc = lwip_ntohl(hb.incarnation);
	int v = inc ? member_judge(node, inc) : INC_BOGUS;
	if (v == INC_STALE || v == INC_BOGUS) {
		bad_packets++; /* an earlier life, or not a plausible one */
		rpc_reject(REJ_HEARTBEAT);
		if (v == INC_BOGUS && inc)
			rpc_reject(REJ_HB_INC);
		return;
	}
	uint32_t seq = lwip_ntohl(hb.seq);
	if (v != INC_NEW && n->state && seq <= hb_last[node]) {
		bad_packets++; /* heard already: a replay */
		rpc_reject(REJ_HEARTBEAT);
		rpc_reject(REJ_HB_REPLAY);
		return;
	}
	if (v == INC_NEW && n->state) {
		n->restarts++;
		n->incarnation = inc;
		rpc_restarted(node, inc);
		rpc_node_event(node, TM_NODE_RESTARTED, inc);
	}
	n->node = node;
	n->incarnation = inc;
	n->last_ms = qs_uptime_ms();
	n->heartbeats++;
	hb_last[node] = seq;
	n->state = CM_NODE_UP;
}

int
member_judge(uint32_t node, uint32_t inc)
{
	const cm_node_t *n = &peers[node];
	if (!n->state)
		return INC_NEW; /* the first we hear of it */
	if (inc == n->incarnation)
		return INC_SAME;
	uint32_t quiet = qs_uptime_ms() - n->last_ms;
	if (quiet >= CM_DOWN_MS)
		return INC_NEW; /* its life ended: whatever it is now */
	if (inc < n->incarnation)
		return INC_STALE;
	if (inc - n->incarnation <= INC_STEP_MAX && quiet >= CM_SUSPECT_MS)
		return INC_NEW;
	return INC_BOGUS;
}

int
member_check(uint32_t node, uint32_t inc)
{
	if (node >= CM_NODES_MAX || node == self || !peers[node].state)
		return INC_BOGUS; /* never heard of: no life of it to speak for */
	if (inc == peers[node].incarnation)
		return INC_SAME;
	return inc < peers[node].incarnation ? INC_STALE : INC_BOGUS;
}

int
member_start(uint32_t node, uint32_t incarnation)
{
	self = node;
	self_inc = incarnation;
	peers[node] = (cm_node_t){ .node = node, .state = CM_NODE_UP,
				   .incarnation = incarnation };
	if (!(pcb = udp_new()) || udp_bind(pcb, IP4_ADDR_ANY, CM_PORT) != ERR_OK)
		return QS_ENOMEM;
	udp_recv(pcb, receive, NULL);
	sys_timeout(CM_HEARTBEAT_MS, heartbeat, NULL);
	return 0;
}

uint32_t
member_list(cm_node_t *out, uint32_t max, uint32_t *bad)
{
	uint32_t n = 0, now = qs_uptime_ms();
	peer_states();
	peers[self].last_ms = now;
	for (int i = 0; i < CM_NODES_MAX && n < max; i++) {
		if (!peers[i].state)
			continue;
		out[n] = peers[i];
		out[n].last_ms = now - peers[i].last_ms; /* ago */
		n++;
	}
	*bad = bad_packets;
	return n;
}

uint32_t
member_state(uint32_t node, uint32_t *incarnation)
{
	if (node >= CM_NODES_MAX || node == self || !peers[node].state)
		return 0;
	peer_state((int)node, qs_uptime_ms()); /* on every packet's way */
	*incarnation = peers[node].incarnation;
	return peers[node].state;
}

bool
member_any_up(void)
{
	peer_states();
	for (int i = 0; i < CM_NODES_MAX; i++)
		if (i != (int)self && (peers[i].state == CM_NODE_UP ||
				       peers[i].state == CM_NODE_SUSPECT))
			return true;
	return false;
}
