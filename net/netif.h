/*
 * The glue between an Ethernet driver (the CM's e1000) and lwIP.
 *
 * lwIP runs with NO_SYS=1: every call below, and every lwIP call, comes
 * from the one thread that runs the stack's event loop. That loop:
 *
 *	lwip_init();                    once, before anything else
 *	netif_glue_add(&g, &ops, drv, mac, node);
 *	netif_set_default(&g.netif);    if it is the only interface
 *	for (;;) {
 *		wait for an IRQ, at most sys_timeouts_sleeptime() ms;
 *		netif_glue_input(&g.netif, frame, len);  each received frame
 *		netif_glue_link(&g.netif, up);           when the link changes
 *		sys_check_timeouts();           ARP, TCP and reassembly timers
 *	}
 *
 * Frames are whole Ethernet frames without the FCS (the e1000 strips it
 * on receive with RCTL.SECRC and appends it on send with TXD.CMD.IFCS).
 */
#ifndef QS_NET_NETIF_H
#define QS_NET_NETIF_H

#include <stdint.h>
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"

/* Longest frame without the FCS: no VLAN tags on our LAN. */
#define QS_ETH_FRAME_MAX 1514
/* Shortest frame on the wire without the FCS; shorter ones are padded. */
#define QS_ETH_FRAME_MIN 60

typedef struct netif_glue_ops {
	/*
	 * Queues one frame of len bytes (QS_ETH_FRAME_MIN to
	 * QS_ETH_FRAME_MAX) for sending and returns 0, or returns a negative
	 * error if it cannot (ring full, link down): lwIP counts the drop
	 * and its protocols recover (ARP asks again, TCP retransmits). The
	 * frame is only valid during the call.
	 */
	int (*send)(void *drv, const void *frame, uint32_t len);
} netif_glue_ops_t;

typedef struct netif_glue {
	struct netif netif;             /* what lwIP's calls take: &g->netif */
	const netif_glue_ops_t *ops;
	void *drv;                      /* the driver's, passed to ops->send */
	/* Chained or short frames are gathered here before ops->send. */
	uint8_t txbuf[QS_ETH_FRAME_MAX];
} netif_glue_t;

/*
 * The address of node `node` on the internal LAN: 10.0.0.(node+1)/24.
 * Returns 0, or -1 for a node id that has no address (above 253).
 */
int qs_net_addr(uint32_t node, ip4_addr_t *addr, ip4_addr_t *netmask);

/*
 * Adds an Ethernet interface with MAC address mac and node's static
 * address, administratively up with its link down (netif_glue_link
 * brings it up). g must stay put for as long as the interface exists.
 * Returns 0, or -1 for a bad node id or if lwIP refuses the interface.
 */
int netif_glue_add(netif_glue_t *g, const netif_glue_ops_t *ops, void *drv,
		   const uint8_t mac[6], uint32_t node);

/*
 * Hands one received frame to lwIP, which copies it: the driver may reuse
 * its buffer at once. Frames no longer than an Ethernet header or
 * longer than QS_ETH_FRAME_MAX are counted (lwip_stats.link.lenerr) and
 * dropped, as are frames when the stack is out of buffers (link.memerr).
 */
void netif_glue_input(struct netif *netif, const void *frame, uint32_t len);

/* The driver saw the link go up (up != 0) or down. */
void netif_glue_link(struct netif *netif, int up);

#endif
