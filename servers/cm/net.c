/*
 * The CM's network stack: lwIP (NO_SYS, raw API) on the e1000, through the
 * glue in net/netif.h. lwIP is not thread-safe, so every call into it, and
 * every use of the NIC, happens under net_lock (cm.c): the IRQ thread feeds
 * received frames and timers in, the serving thread starts pings.
 *
 * A ping does not hold the serving thread: its request is deferred, and
 * answered by the echo reply (ping_recv) or, past its deadline, by the tick
 * (net_ping_tick). PINGS_MAX are under way at once, PINGS_PER_CLIENT of one
 * process's; past either the ping gets QS_EAGAIN / QS_ELIMIT at once.
 *
 * Frames that are neither IPv4 nor ARP go to a small ring that the raw-frame
 * test hook (CM_OP_RAW_RECV) reads, so ethtest keeps working beside lwIP.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sys.h>
#include "lwip/inet_chksum.h"
#include "lwip/init.h"
#include "lwip/pbuf.h"
#include "lwip/prot/icmp.h"
#include "lwip/raw.h"
#include "lwip/stats.h"
#include "lwip/timeouts.h"
#include "netif.h"
#include "net.h"
#include "rpc.h"

#define ETHERTYPE_IP 0x0800
#define ETHERTYPE_ARP 0x0806
#define RAW_RING E1000_RX_DESCS /* as many as the device holds */
#define PING_ID 0x5153 /* "QS" */
#define PINGS_MAX 8
#define PINGS_PER_CLIENT 2

static netif_glue_t glue;
static struct raw_pcb *ping_pcb;
static struct {
	uint32_t rid;   /* the deferred request; 0: a free slot */
	int32_t pid;    /* its client */
	uint16_t seq;   /* the echo's, ours: never two alike under way */
	uint32_t start_ms, timeout_ms;
} pings[PINGS_MAX];
static uint16_t ping_next;

static struct {
	uint32_t len[RAW_RING];
	uint8_t frame[RAW_RING][CM_FRAME_MAX];
	uint32_t head, count;
} raw;

static int
glue_send(void *drv, const void *frame, uint32_t len)
{
	return e1000_send(drv, frame, len);
}

static const netif_glue_ops_t glue_ops = { glue_send };

static void
ping_done(int i, int32_t status)
{
	static qs_msg_t m;
	qs_msg_init(&m, CM_OP_PING);
	m.hdr.status = status;
	rpc_answer(pings[i].rid, &m); /* kept if not deferred yet */
	pings[i].rid = 0;
}

/* An ICMP message for us: ours if it is an echo reply we wait for. */
static u8_t
ping_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr)
{
	(void)arg, (void)pcb, (void)addr;
	struct icmp_echo_hdr echo;
	uint16_t hlen = IP_HLEN; /* p starts at the IP header */
	if (p->tot_len < hlen + sizeof(echo) ||
	    pbuf_copy_partial(p, &echo, sizeof(echo), hlen) != sizeof(echo) ||
	    echo.type != ICMP_ER || echo.id != PP_HTONS(PING_ID))
		return 0; /* lwIP's ICMP handles it (answers echo requests) */
	for (int i = 0; i < PINGS_MAX; i++)
		if (pings[i].rid && echo.seqno == lwip_htons(pings[i].seq)) {
			ping_done(i, (int32_t)(qs_uptime_ms() - pings[i].start_ms));
			break;
		}
	pbuf_free(p);
	return 1;
}

int
net_init(e1000_t *nic, uint32_t node)
{
	lwip_init();
	srand(qs_uptime_ms() ^ node << 16); /* TCP sequence numbers, ports */
	if (netif_glue_add(&glue, &glue_ops, nic, nic->mac, node) < 0) {
		printf("cm: node %u has no address on the LAN\n", node);
		return QS_EINVAL;
	}
	netif_set_default(&glue.netif);
	netif_glue_link(&glue.netif, e1000_link_up(nic));
	if (!(ping_pcb = raw_new(IP_PROTO_ICMP)))
		return QS_ENOMEM;
	raw_recv(ping_pcb, ping_recv, NULL);
	return 0;
}

void
net_poll(e1000_t *nic)
{
	static uint8_t buf[CM_FRAME_MAX];
	int n;
	while ((n = e1000_recv(nic, buf, sizeof(buf))) > 0) {
		uint16_t type = (uint16_t)(buf[12] << 8 | buf[13]);
		if (type == ETHERTYPE_IP || type == ETHERTYPE_ARP) {
			netif_glue_input(&glue.netif, buf, (uint32_t)n);
		} else if (raw.count < RAW_RING) { /* else dropped: nobody reads */
			uint32_t slot = (raw.head + raw.count++) % RAW_RING;
			memcpy(raw.frame[slot], buf, (size_t)n);
			raw.len[slot] = (uint32_t)n;
		}
	}
	bool up = e1000_link_up(nic);
	if (up != netif_is_link_up(&glue.netif))
		netif_glue_link(&glue.netif, up);
	sys_check_timeouts();
}

uint32_t
net_sleeptime(void)
{
	return sys_timeouts_sleeptime();
}

int
net_raw_recv(void *frame, uint32_t cap)
{
	if (!raw.count)
		return QS_EAGAIN;
	uint32_t n = raw.len[raw.head];
	if (n > cap)
		n = cap;
	memcpy(frame, raw.frame[raw.head], n);
	raw.head = (raw.head + 1) % RAW_RING;
	raw.count--;
	return (int)n;
}

int
net_ping(uint32_t rid, int32_t pid, uint32_t node, uint32_t timeout_ms)
{
	ip4_addr_t to, mask;
	int slot = -1, mine = 0;
	if (qs_net_addr(node, &to, &mask) < 0)
		return QS_EINVAL;
	for (int i = 0; i < PINGS_MAX; i++) {
		if (!pings[i].rid && slot < 0)
			slot = i;
		mine += pings[i].rid && pings[i].pid == pid;
	}
	if (mine >= PINGS_PER_CLIENT)
		return QS_ELIMIT;
	if (slot < 0)
		return QS_EAGAIN;
	struct pbuf *p = pbuf_alloc(PBUF_IP, sizeof(struct icmp_echo_hdr) + 32,
				    PBUF_RAM);
	if (!p)
		return QS_ENOMEM;
	if (++ping_next == 0)
		ping_next = 1;
	struct icmp_echo_hdr *echo = p->payload;
	memset(echo, 0, p->len);
	echo->type = ICMP_ECHO;
	echo->id = PP_HTONS(PING_ID);
	echo->seqno = lwip_htons(ping_next);
	memset(echo + 1, 'q', 32);
	echo->chksum = inet_chksum(echo, p->len);
	err_t err = raw_sendto(ping_pcb, p, &to);
	pbuf_free(p);
	if (err != ERR_OK)
		return QS_EUNREACH; /* no route, link down */
	pings[slot].rid = rid;
	pings[slot].pid = pid;
	pings[slot].seq = ping_next;
	pings[slot].start_ms = qs_uptime_ms();
	pings[slot].timeout_ms = timeout_ms;
	return RPC_DEFERRED;
}

void
net_ping_tick(void)
{
	uint32_t now = qs_uptime_ms();
	for (int i = 0; i < PINGS_MAX; i++)
		if (pings[i].rid &&
		    now - pings[i].start_ms >= pings[i].timeout_ms)
			ping_done(i, QS_ETIMEDOUT);
}

void
net_stats(cm_stats_t *s)
{
	s->ip_rx = lwip_stats.ip.recv;
	s->ip_tx = lwip_stats.ip.xmit;
	s->ip_drop = lwip_stats.ip.drop + lwip_stats.link.drop;
	s->addr = ip4_addr_get_u32(netif_ip4_addr(&glue.netif));
}
