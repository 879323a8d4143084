/*
 * The lwIP port on the host: two interfaces of one stack, A (node 0) and
 * B (node 1), wired back to back through the netif glue. Each one's send
 * queues the frame for the other, and pump() delivers queued frames until
 * the wire is quiet. Time is a fake clock (qs_uptime_ms below, read by
 * net/sys_arch.c's sys_now), advanced by hand to run lwIP's timers.
 *
 * Both interfaces are on 10.0.0.0/24, so lwIP would route a packet for B
 * from A's side to B directly (it is a local address): each send below is
 * bound to A's interface so the frames really cross the wire.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lwip/etharp.h"
#include "lwip/inet_chksum.h"
#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/memp.h"
#include "lwip/prot/icmp.h"
#include "lwip/priv/tcp_priv.h"   /* TCP_MSL */
#include "lwip/prot/ip4.h"
#include "lwip/raw.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"
#include "netif.h"

#include "check.h"

/* ---- the wire and the clock ---- */

#define WIRE_SLOTS 64

typedef struct end {
	netif_glue_t g;
	struct end *peer;
	/* Frames sent to this end, not yet delivered. */
	uint8_t frame[WIRE_SLOTS][QS_ETH_FRAME_MAX];
	uint32_t len[WIRE_SLOTS];
	int head, count;
	bool hold;              /* queue frames but do not deliver them */
} end_t;

static end_t a, b;
static const uint8_t mac_a[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0a };
static const uint8_t mac_b[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x0b };
static ip4_addr_t ip_a, ip_b;
static uint32_t now_ms;

/* net/sys_arch.c's sys_now reads the clock through this. */
uint32_t
qs_uptime_ms(void)
{
	return now_ms;
}

static int
wire_send(void *drv, const void *frame, uint32_t len)
{
	end_t *to = ((end_t *)drv)->peer;
	int slot;

	if (len < QS_ETH_FRAME_MIN || len > QS_ETH_FRAME_MAX ||
	    to->count == WIRE_SLOTS)
		return -1;
	slot = (to->head + to->count++) % WIRE_SLOTS;
	memcpy(to->frame[slot], frame, len);
	to->len[slot] = len;
	return 0;
}

static const netif_glue_ops_t wire_ops = { .send = wire_send };

/* Takes the oldest frame queued for e into buf; its length, or 0. */
static uint32_t
wire_take(end_t *e, uint8_t *buf)
{
	uint32_t len;

	if (e->count == 0)
		return 0;
	len = e->len[e->head];
	memcpy(buf, e->frame[e->head], len);
	e->head = (e->head + 1) % WIRE_SLOTS;
	e->count--;
	return len;
}

/* Delivers frames both ways until none is left (or only held ones). */
static void
pump(void)
{
	static uint8_t buf[QS_ETH_FRAME_MAX];
	bool moved;

	do {
		end_t *ends[2] = { &a, &b };

		moved = false;
		for (int i = 0; i < 2; i++) {
			uint32_t len;

			if (ends[i]->hold || (len = wire_take(ends[i], buf)) == 0)
				continue;
			netif_glue_input(&ends[i]->g.netif, buf, len);
			moved = true;
		}
	} while (moved);
}

/*
 * Lets ms of fake time pass, running lwIP's timers. In 10 ms steps: the
 * TCP timer re-arms itself from the time it ran, so coarser steps would
 * stretch its 250 ms period.
 */
static void
advance(uint32_t ms)
{
	for (uint32_t t = 0; t < ms; t += 10) {
		now_ms += 10;
		sys_check_timeouts();
		pump();
	}
}

static unsigned
pool_pbufs_in_use(void)
{
	return lwip_stats.memp[MEMP_PBUF_POOL]->used;
}

/* ---- the abort a failed lwIP assertion ends in ---- */

static void *abort_jmp[5];
static bool abort_armed;

/* tests/unit/rename.h turns sys_arch.c's abort() into this. */
void
qs_test_abort(void)
{
	if (!abort_armed)
		__builtin_trap();
	abort_armed = false;
	__builtin_longjmp(abort_jmp, 1);
}

/* ---- setup ---- */

static void
setup(void)
{
	lwip_init();
	qs_net_addr(0, &ip_a, &(ip4_addr_t){ 0 });
	qs_net_addr(1, &ip_b, &(ip4_addr_t){ 0 });
	a.peer = &b;
	b.peer = &a;
	if (netif_glue_add(&a.g, &wire_ops, &a, mac_a, 0) < 0 ||
	    netif_glue_add(&b.g, &wire_ops, &b, mac_b, 1) < 0) {
		printf("setup: netif_glue_add failed\n");
		__builtin_trap();
	}
	netif_glue_link(&a.g.netif, 1);
	netif_glue_link(&b.g.netif, 1);
	pump();                 /* the gratuitous ARPs of link up */
}

/* ---- tests ---- */

static void
test_addresses(void)
{
	ip4_addr_t addr, mask;

	CHECK(qs_net_addr(0, &addr, &mask) == 0);
	CHECK(ip4_addr_get_u32(&addr) == PP_HTONL(LWIP_MAKEU32(10, 0, 0, 1)));
	CHECK(ip4_addr_get_u32(&mask) == PP_HTONL(LWIP_MAKEU32(255, 255, 255, 0)));
	CHECK(qs_net_addr(253, &addr, &mask) == 0);
	CHECK(ip4_addr_get_u32(&addr) == PP_HTONL(LWIP_MAKEU32(10, 0, 0, 254)));
	CHECK(qs_net_addr(254, &addr, &mask) == -1);
	CHECK(ip4_addr_cmp(netif_ip4_addr(&b.g.netif), &ip_b));
	CHECK(netif_is_up(&a.g.netif) && netif_is_link_up(&a.g.netif));
	CHECK(memcmp(a.g.netif.hwaddr, mac_a, 6) == 0);
}

static void
test_arp_resolves(void)
{
	struct eth_addr *mac;
	const ip4_addr_t *ip;
	uint16_t replies = lwip_stats.etharp.recv;

	CHECK(etharp_find_addr(&a.g.netif, &ip_b, &mac, &ip) < 0);
	CHECK(etharp_request(&a.g.netif, &ip_b) == ERR_OK);
	pump();
	CHECK(lwip_stats.etharp.recv == replies + 2);   /* request and reply */
	if (CHECK(etharp_find_addr(&a.g.netif, &ip_b, &mac, &ip) >= 0))
		CHECK(memcmp(mac->addr, mac_b, 6) == 0);
	/* B learnt A from the request addressed to it. */
	if (CHECK(etharp_find_addr(&b.g.netif, &ip_a, &mac, &ip) >= 0))
		CHECK(memcmp(mac->addr, mac_a, 6) == 0);
	CHECK(pool_pbufs_in_use() == 0);
}

/* ---- ICMP echo through a raw pcb, as the CM's ping (the shell's `ping`) does ---- */

#define PING_ID 0x5153

static int ping_replies;
static uint16_t ping_seq;

static u8_t
ping_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p,
	  const ip_addr_t *addr)
{
	struct icmp_echo_hdr echo;
	u16_t hlen = IPH_HL_BYTES((struct ip_hdr *)p->payload);

	(void)arg;
	(void)pcb;
	/* Raw pcbs see the IP header; anything not ours goes on to lwIP. */
	if (pbuf_copy_partial(p, &echo, sizeof(echo), hlen) != sizeof(echo) ||
	    echo.type != ICMP_ER || echo.id != PP_HTONS(PING_ID))
		return 0;
	if (ip_addr_cmp(addr, &ip_b) && echo.seqno == lwip_htons(ping_seq))
		ping_replies++;
	pbuf_free(p);
	return 1;
}

static err_t
ping_send(struct raw_pcb *pcb, const ip4_addr_t *to, uint16_t seq)
{
	static const char data[] = "quicksilver ping";
	struct pbuf *p = pbuf_alloc(PBUF_IP, sizeof(struct icmp_echo_hdr) +
				    sizeof(data), PBUF_RAM);
	struct icmp_echo_hdr *echo;
	err_t err;

	if (p == NULL)
		return ERR_MEM;
	echo = p->payload;
	echo->type = ICMP_ECHO;
	echo->code = 0;
	echo->chksum = 0;
	echo->id = PP_HTONS(PING_ID);
	echo->seqno = lwip_htons(seq);
	memcpy(echo + 1, data, sizeof(data));
	echo->chksum = inet_chksum(echo, p->len);
	err = raw_sendto_if_src(pcb, p, to, &a.g.netif, &ip_a);
	pbuf_free(p);
	return err;
}

static void
test_icmp_echo(void)
{
	struct raw_pcb *pcb = raw_new(IP_PROTO_ICMP);
	uint16_t echoes = lwip_stats.icmp.xmit;

	if (!CHECK(pcb != NULL))
		return;
	raw_recv(pcb, ping_recv, NULL);
	ping_replies = 0;
	for (ping_seq = 1; ping_seq <= 3; ping_seq++) {
		CHECK(ping_send(pcb, &ip_b, ping_seq) == ERR_OK);
		pump();
		CHECK(ping_replies == ping_seq);
	}
	CHECK(lwip_stats.icmp.xmit == echoes + 3);      /* B's replies */
	raw_remove(pcb);
	CHECK(pool_pbufs_in_use() == 0);
}

/* ---- UDP ---- */

#define UDP_PORT 7000

static struct {
	int count;
	uint8_t data[4096];
	uint16_t len;
	ip_addr_t from;
	uint16_t port;
} got;

static void
udp_got(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
	u16_t port)
{
	(void)arg;
	(void)pcb;
	got.count++;
	got.len = pbuf_copy_partial(p, got.data, sizeof(got.data), 0);
	ip_addr_copy(got.from, *addr);
	got.port = port;
	pbuf_free(p);
}

static struct udp_pcb *
udp_listen_b(void)
{
	struct udp_pcb *pcb = udp_new();

	if (pcb == NULL)
		return NULL;
	if (udp_bind(pcb, &ip_b, UDP_PORT) != ERR_OK) {
		udp_remove(pcb);
		return NULL;
	}
	udp_recv(pcb, udp_got, NULL);
	memset(&got, 0, sizeof(got));
	return pcb;
}

/* Sends len bytes of a pattern from A's port 5000 to B's UDP_PORT. */
static err_t
udp_send_a(struct udp_pcb *pcb, uint16_t len)
{
	struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, len, PBUF_RAM);
	err_t err;

	if (p == NULL)
		return ERR_MEM;
	for (uint16_t i = 0; i < len; i++)
		((uint8_t *)p->payload)[i] = (uint8_t)(i * 7 + 1);
	err = udp_sendto_if(pcb, p, &ip_b, UDP_PORT, &a.g.netif);
	pbuf_free(p);
	return err;
}

static bool
got_pattern(uint16_t len)
{
	if (got.len != len)
		return false;
	for (uint16_t i = 0; i < len; i++)
		if (got.data[i] != (uint8_t)(i * 7 + 1))
			return false;
	return true;
}

static void
test_udp_datagram(void)
{
	struct udp_pcb *rx = udp_listen_b(), *tx = udp_new();

	if (!CHECK(rx != NULL && tx != NULL))
		return;
	CHECK(udp_bind(tx, &ip_a, 5000) == ERR_OK);
	CHECK(udp_send_a(tx, 100) == ERR_OK);
	pump();
	CHECK(got.count == 1);
	CHECK(got_pattern(100));
	CHECK(ip_addr_cmp(&got.from, &ip_a) && got.port == 5000);

	/* Larger than the MTU: fragmented by A, reassembled by B. */
	CHECK(udp_send_a(tx, 4000) == ERR_OK);
	pump();
	CHECK(got.count == 2);
	CHECK(got_pattern(4000));
	udp_remove(tx);
	udp_remove(rx);
	CHECK(pool_pbufs_in_use() == 0);
}

/* ---- bad input ---- */

/* Sends one 32-byte datagram from A but keeps its frame off the wire. */
static uint32_t
capture_udp_frame(struct udp_pcb *tx, uint8_t *frame)
{
	uint32_t len;

	/* Resolved first, so the datagram itself is the next frame. */
	etharp_request(&a.g.netif, &ip_b);
	pump();
	b.hold = true;
	udp_send_a(tx, 32);
	len = wire_take(&b, frame);
	b.hold = false;
	return len;
}

static void
test_bad_frames(void)
{
	static uint8_t frame[QS_ETH_FRAME_MAX + 1], bad[QS_ETH_FRAME_MAX + 1];
	struct udp_pcb *rx = udp_listen_b(), *tx = udp_new();
	struct stats_ ref = lwip_stats;
	uint32_t len;

	if (!CHECK(rx != NULL && tx != NULL))
		return;
	len = capture_udp_frame(tx, frame);
	if (!CHECK(len >= SIZEOF_ETH_HDR + IP_HLEN + 8 + 32))
		goto out;

	/* Too short to be Ethernet, and longer than any Ethernet frame. */
	netif_glue_input(&b.g.netif, frame, 10);
	netif_glue_input(&b.g.netif, frame, SIZEOF_ETH_HDR);
	netif_glue_input(&b.g.netif, frame, QS_ETH_FRAME_MAX + 1);
	CHECK(lwip_stats.link.lenerr == ref.link.lenerr + 3);
	CHECK(lwip_stats.link.drop == ref.link.drop + 3);

	/* An IP packet cut short: its header says more than there is. */
	netif_glue_input(&b.g.netif, frame, SIZEOF_ETH_HDR + IP_HLEN + 4);
	CHECK(lwip_stats.ip.lenerr == ref.ip.lenerr + 1);

	/* A bad IP header checksum. */
	memcpy(bad, frame, len);
	bad[SIZEOF_ETH_HDR + 10] ^= 0x5a;
	netif_glue_input(&b.g.netif, bad, len);
	CHECK(lwip_stats.ip.chkerr == ref.ip.chkerr + 1);

	/* A good IP header over a bad UDP checksum. */
	memcpy(bad, frame, len);
	bad[SIZEOF_ETH_HDR + IP_HLEN + 8] ^= 0xff;      /* first data byte */
	netif_glue_input(&b.g.netif, bad, len);
	CHECK(lwip_stats.udp.chkerr == ref.udp.chkerr + 1);

	CHECK(lwip_stats.ip.drop == ref.ip.drop + 2);
	CHECK(got.count == 0);

	/* The untouched frame still gets through: the damage was the reason. */
	netif_glue_input(&b.g.netif, frame, len);
	CHECK(got.count == 1 && got_pattern(32));
	CHECK(pool_pbufs_in_use() == 0);
out:
	udp_remove(tx);
	udp_remove(rx);
}

static void
test_link_down(void)
{
	struct udp_pcb *rx = udp_listen_b(), *tx = udp_new();
	uint16_t drops = lwip_stats.link.drop;

	if (!CHECK(rx != NULL && tx != NULL))
		return;
	netif_glue_link(&a.g.netif, 0);
	CHECK(!netif_is_link_up(&a.g.netif));
	/* Sent through A all the same: the glue drops it. */
	CHECK(udp_send_a(tx, 10) == ERR_IF);
	CHECK(lwip_stats.link.drop == drops + 1);
	pump();
	CHECK(got.count == 0);
	netif_glue_link(&a.g.netif, 1);
	pump();
	CHECK(udp_send_a(tx, 10) == ERR_OK);
	pump();
	CHECK(got.count == 1);
	udp_remove(tx);
	udp_remove(rx);
}

/* ---- TCP: a connection, some data, its close ---- */

static struct {
	struct tcp_pcb *server;
	int accepted;
	uint8_t data[64];
	uint16_t len;
	bool closed;
	bool connected;
} tcp;

static err_t
tcp_on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	(void)arg;
	(void)err;
	if (p == NULL) {        /* the peer closed */
		tcp.closed = true;
		tcp_close(pcb);
		return ERR_OK;
	}
	tcp.len += pbuf_copy_partial(p, tcp.data + tcp.len,
				     sizeof(tcp.data) - tcp.len, 0);
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static err_t
tcp_on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || pcb == NULL)
		return ERR_VAL;
	tcp.accepted++;
	tcp.server = pcb;
	tcp_recv(pcb, tcp_on_recv);
	return ERR_OK;
}

static err_t
tcp_on_connect(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	(void)pcb;
	tcp.connected = err == ERR_OK;
	return ERR_OK;
}

static void
test_tcp_stream(void)
{
	static const char msg[] = "exactly once";
	struct tcp_pcb *listen = tcp_new(), *client = tcp_new();

	if (!CHECK(listen != NULL && client != NULL))
		return;
	memset(&tcp, 0, sizeof(tcp));
	CHECK(tcp_bind(listen, &ip_b, 8000) == ERR_OK);
	listen = tcp_listen(listen);
	if (!CHECK(listen != NULL))
		return;
	tcp_accept(listen, tcp_on_accept);

	tcp_bind_netif(client, &a.g.netif);
	CHECK(tcp_connect(client, &ip_b, 8000, tcp_on_connect) == ERR_OK);
	pump();
	CHECK(tcp.connected && tcp.accepted == 1);
	CHECK(tcp_write(client, msg, sizeof(msg), TCP_WRITE_FLAG_COPY) == ERR_OK);
	CHECK(tcp_output(client) == ERR_OK);
	pump();
	CHECK(tcp.len == sizeof(msg) && memcmp(tcp.data, msg, sizeof(msg)) == 0);

	CHECK(tcp_close(client) == ERR_OK);
	pump();
	CHECK(tcp.closed);
	/* TIME_WAIT and delayed ACKs end on lwIP's timers. */
	advance(2 * TCP_MSL + 1000);
	CHECK(lwip_stats.memp[MEMP_TCP_PCB]->used == 0);
	tcp_close(listen);
	CHECK(pool_pbufs_in_use() == 0);
}

/* ---- timers ---- */

static void
test_arp_entry_expires(void)
{
	struct eth_addr *mac;
	const ip4_addr_t *ip;

	etharp_request(&a.g.netif, &ip_b);
	pump();
	CHECK(etharp_find_addr(&a.g.netif, &ip_b, &mac, &ip) >= 0);
	/* Unused entries live ARP_MAXAGE ticks of ARP_TMR_INTERVAL ms. */
	advance((ARP_MAXAGE + 1) * ARP_TMR_INTERVAL);
	CHECK(etharp_find_addr(&a.g.netif, &ip_b, &mac, &ip) < 0);
}

/* ---- assertions ---- */

static void
test_assert_aborts(void)
{
	abort_armed = true;
	if (__builtin_setjmp(abort_jmp) == 0) {
		LWIP_ASSERT("deliberate failure", 0);
		CHECK(!"LWIP_ASSERT returned");
	}
	CHECK(!abort_armed);    /* qs_lwip_assert printed, then abort()ed */
}

int
main(void)
{
	setup();
	RUN(test_addresses);
	RUN(test_arp_resolves);
	RUN(test_icmp_echo);
	RUN(test_udp_datagram);
	RUN(test_bad_frames);
	RUN(test_link_down);
	RUN(test_tcp_stream);
	RUN(test_arp_entry_expires);
	RUN(test_assert_aborts);
	return check_summary();
}
