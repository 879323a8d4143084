/*
 * lwIP in the guest, before any NIC: two interfaces of one stack, nodes 0
 * and 1, wired back to back in this process through the netif glue (each
 * one's send queues the frame for the other). It shows that liblwip.a,
 * built freestanding against libqs, resolves ARP, answers pings and
 * carries UDP here as it does in the host unit test (tests/unit/
 * test_lwip.c, which covers more). Sends are bound to A's interface: both
 * are on 10.0.0.0/24, so routing alone would not use the wire.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "lwip/etharp.h"
#include "lwip/inet_chksum.h"
#include "lwip/init.h"
#include "lwip/memp.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/ip4.h"
#include "lwip/raw.h"
#include "lwip/stats.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"
#include "netif.h"

#include "check.h"

#define SLOTS 16
#define PING_ID 0x5153
#define UDP_PORT 7000

typedef struct end {
	netif_glue_t g;
	struct end *peer;
	uint8_t frame[SLOTS][QS_ETH_FRAME_MAX];
	uint32_t len[SLOTS];
	int head, count;
} end_t;

static end_t a, b;
static ip4_addr_t ip_a, ip_b;
static int ping_replies, udp_got;

static int
wire_send(void *drv, const void *frame, uint32_t len)
{
	end_t *to = ((end_t *)drv)->peer;
	int slot;

	if (to->count == SLOTS)
		return -1;
	slot = (to->head + to->count++) % SLOTS;
	memcpy(to->frame[slot], frame, len);
	to->len[slot] = len;
	return 0;
}

static const netif_glue_ops_t wire_ops = { .send = wire_send };

/* Delivers queued frames both ways until the wire is quiet. */
static void
pump(void)
{
	static uint8_t buf[QS_ETH_FRAME_MAX];
	bool moved;

	do {
		end_t *ends[2] = { &a, &b };

		moved = false;
		for (int i = 0; i < 2; i++) {
			end_t *e = ends[i];
			uint32_t len;

			if (e->count == 0)
				continue;
			len = e->len[e->head];
			memcpy(buf, e->frame[e->head], len);
			e->head = (e->head + 1) % SLOTS;
			e->count--;
			netif_glue_input(&e->g.netif, buf, len);
			moved = true;
		}
		sys_check_timeouts();
	} while (moved);
}

static u8_t
ping_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p,
	  const ip_addr_t *addr)
{
	struct icmp_echo_hdr echo;
	u16_t hlen = IPH_HL_BYTES((struct ip_hdr *)p->payload);

	(void)arg;
	(void)pcb;
	if (pbuf_copy_partial(p, &echo, sizeof(echo), hlen) != sizeof(echo) ||
	    echo.type != ICMP_ER || echo.id != PP_HTONS(PING_ID) ||
	    !ip_addr_cmp(addr, &ip_b))
		return 0;       /* not ours: lwIP carries on with it */
	ping_replies++;
	pbuf_free(p);
	return 1;
}

static bool
ping(struct raw_pcb *pcb, uint16_t seq)
{
	struct pbuf *p = pbuf_alloc(PBUF_IP, sizeof(struct icmp_echo_hdr),
				    PBUF_RAM);
	struct icmp_echo_hdr *echo;
	int before = ping_replies;
	err_t err;

	if (p == NULL)
		return false;
	echo = p->payload;
	memset(echo, 0, sizeof(*echo));
	echo->type = ICMP_ECHO;
	echo->id = PP_HTONS(PING_ID);
	echo->seqno = lwip_htons(seq);
	echo->chksum = inet_chksum(echo, sizeof(*echo));
	err = raw_sendto_if_src(pcb, p, &ip_b, &a.g.netif, &ip_a);
	pbuf_free(p);
	pump();
	return err == ERR_OK && ping_replies == before + 1;
}

static void
udp_recv_b(void *arg, struct udp_pcb *pcb, struct pbuf *p,
	   const ip_addr_t *addr, u16_t port)
{
	char buf[16];

	(void)arg;
	(void)pcb;
	(void)port;
	if (p->tot_len == 5 && pbuf_copy_partial(p, buf, 5, 0) == 5 &&
	    memcmp(buf, "hello", 5) == 0 && ip_addr_cmp(addr, &ip_a))
		udp_got++;
	pbuf_free(p);
}

static bool
udp_across(void)
{
	struct udp_pcb *rx = udp_new(), *tx = udp_new();
	struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, 5, PBUF_RAM);
	bool ok = false;

	if (rx != NULL && tx != NULL && p != NULL &&
	    udp_bind(rx, &ip_b, UDP_PORT) == ERR_OK) {
		udp_recv(rx, udp_recv_b, NULL);
		memcpy(p->payload, "hello", 5);
		ok = udp_sendto_if(tx, p, &ip_b, UDP_PORT, &a.g.netif) == ERR_OK;
		pump();
		ok = ok && udp_got == 1;
	}
	if (p != NULL)
		pbuf_free(p);
	if (rx != NULL)
		udp_remove(rx);
	if (tx != NULL)
		udp_remove(tx);
	return ok;
}

int
main(void)
{
	static const uint8_t mac_a[6] = { 0x52, 0x54, 0, 0, 0, 0x0a };
	static const uint8_t mac_b[6] = { 0x52, 0x54, 0, 0, 0, 0x0b };
	static const uint8_t runt[10];
	ip4_addr_t mask;
	struct eth_addr *mac;
	const ip4_addr_t *ip;
	struct raw_pcb *pcb;
	uint16_t lenerr;

	lwip_init();
	qs_net_addr(0, &ip_a, &mask);
	qs_net_addr(1, &ip_b, &mask);
	a.peer = &b;
	b.peer = &a;
	check(netif_glue_add(&a.g, &wire_ops, &a, mac_a, 0) == 0 &&
	      netif_glue_add(&b.g, &wire_ops, &b, mac_b, 1) == 0, "netif_add");
	netif_glue_link(&a.g.netif, 1);
	netif_glue_link(&b.g.netif, 1);
	pump();

	etharp_request(&a.g.netif, &ip_b);
	pump();
	check(etharp_find_addr(&a.g.netif, &ip_b, &mac, &ip) >= 0 &&
	      memcmp(mac->addr, mac_b, 6) == 0, "arp");

	pcb = raw_new(IP_PROTO_ICMP);
	if (pcb != NULL)
		raw_recv(pcb, ping_recv, NULL);
	check(pcb != NULL && ping(pcb, 1) && ping(pcb, 2) && ping(pcb, 3),
	      "ping");
	if (pcb != NULL)
		raw_remove(pcb);

	check(udp_across(), "udp");

	lenerr = lwip_stats.link.lenerr;
	netif_glue_input(&b.g.netif, runt, sizeof(runt));
	check(lwip_stats.link.lenerr == lenerr + 1, "runt_dropped");
	check(lwip_stats.memp[MEMP_PBUF_POOL]->used == 0, "no_pbuf_leak");
	return check_summary("lwiptest");
}
