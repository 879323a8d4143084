/*
 * The netif glue: lwIP's Ethernet interface over a driver's send call and
 * the frames its receive loop hands in. See netif.h.
 */
#include <string.h>
#include "lwip/etharp.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "netif/ethernet.h"
#include "netif.h"

/* Our LAN: node n is 10.0.0.(n+1); .0 is the network and .255 broadcast. */
#define NET_NODE_MAX 253

int
qs_net_addr(uint32_t node, ip4_addr_t *addr, ip4_addr_t *netmask)
{
	if (node > NET_NODE_MAX)
		return -1;
	IP4_ADDR(addr, 10, 0, 0, node + 1);
	IP4_ADDR(netmask, 255, 255, 255, 0);
	return 0;
}

/*
 * lwIP's linkoutput. A frame in one pbuf of at least QS_ETH_FRAME_MIN
 * bytes goes to the driver as it is; others are gathered (and padded with
 * zeros, so the driver need not ask the NIC to pad) in g->txbuf.
 */
static err_t
glue_linkoutput(struct netif *netif, struct pbuf *p)
{
	netif_glue_t *g = netif->state;
	const void *frame = p->payload;
	uint32_t len = p->tot_len;

	/*
	 * Routing already avoids a netif whose link is down; this catches
	 * sends bound to it, which the NIC would otherwise hold in its ring
	 * and send, stale, when the link returns.
	 */
	if (!netif_is_link_up(netif)) {
		LINK_STATS_INC(link.drop);
		return ERR_IF;
	}
	if (len > QS_ETH_FRAME_MAX) {
		LINK_STATS_INC(link.lenerr);
		LINK_STATS_INC(link.drop);
		return ERR_BUF;
	}
	if (p->len != p->tot_len || len < QS_ETH_FRAME_MIN) {
		pbuf_copy_partial(p, g->txbuf, p->tot_len, 0);
		if (len < QS_ETH_FRAME_MIN) {
			memset(g->txbuf + len, 0, QS_ETH_FRAME_MIN - len);
			len = QS_ETH_FRAME_MIN;
		}
		frame = g->txbuf;
	}
	if (g->ops->send(g->drv, frame, len) < 0) {
		LINK_STATS_INC(link.drop);
		return ERR_IF;
	}
	LINK_STATS_INC(link.xmit);
	return ERR_OK;
}

/* netif_add's init callback: an Ethernet interface that speaks ARP. */
static err_t
glue_init(struct netif *netif)
{
	netif->name[0] = 'e';
	netif->name[1] = 'n';
	netif->output = etharp_output;
	netif->linkoutput = glue_linkoutput;
	netif->mtu = QS_ETH_FRAME_MAX - SIZEOF_ETH_HDR;
	netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP |
		       NETIF_FLAG_ETHERNET;
	return ERR_OK;
}

int
netif_glue_add(netif_glue_t *g, const netif_glue_ops_t *ops, void *drv,
	       const uint8_t mac[6], uint32_t node)
{
	ip4_addr_t addr, netmask, gw;

	if (qs_net_addr(node, &addr, &netmask) < 0)
		return -1;
	ip4_addr_set_zero(&gw);         /* one LAN, nothing to route to */
	g->ops = ops;
	g->drv = drv;
	memcpy(g->netif.hwaddr, mac, ETH_HWADDR_LEN);
	g->netif.hwaddr_len = ETH_HWADDR_LEN;
	if (netif_add(&g->netif, &addr, &netmask, &gw, g, glue_init,
		      ethernet_input) == NULL)
		return -1;
	netif_set_up(&g->netif);
	return 0;
}

void
netif_glue_input(struct netif *netif, const void *frame, uint32_t len)
{
	struct pbuf *p;

	LINK_STATS_INC(link.recv);
	if (len <= SIZEOF_ETH_HDR || len > QS_ETH_FRAME_MAX) {
		LINK_STATS_INC(link.lenerr);
		LINK_STATS_INC(link.drop);
		return;
	}
	/* From the pool: one pbuf holds a whole frame (PBUF_POOL_BUFSIZE). */
	p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
	if (p == NULL) {
		LINK_STATS_INC(link.memerr);
		LINK_STATS_INC(link.drop);
		return;
	}
	pbuf_take(p, frame, (u16_t)len);
	if (netif->input(p, netif) != ERR_OK)
		pbuf_free(p);
}

void
netif_glue_link(struct netif *netif, int up)
{
	if (up)
		netif_set_link_up(netif);
	else
		netif_set_link_down(netif);
}
