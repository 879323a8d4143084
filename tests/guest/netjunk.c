/*
 * Bad and stale packets for the CMs' protocol (qs/cmwire.h), sent as raw
 * frames through the CM's test hook (CM_OP_RAW_SEND), so they bypass our
 * own CM's checks and reach the other node's lwIP and CM as if a broken or
 * hostile node had sent them.
 *
 *   netjunk junk NODE N   N packets to NODE's CM port, cycling through:
 *                         garbage, a short header, wrong magic, wrong
 *                         version, a length that lies, a sequence number
 *                         far beyond the window, a forged sender, a bad
 *                         UDP checksum, an unknown type, a reply to a
 *                         request never sent
 *   netjunk replay NODE QID INC SEQ ID
 *                         one well-formed request for queue QID on NODE: a
 *                         counter increment (qs/counter.h) of id ID, with
 *                         sequence number SEQ, claiming to come from our
 *                         incarnation INC (an old one: a stale duplicate)
 *
 * Either may start with -kKEY, the cluster key's 64 hex digits: then the
 * packets are sealed with it (servers/cm/seal.c), as a node of the
 * cluster's would be, and reach the parsing behind the seal; without it
 * they are all refused as seal.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/cm.h>
#include <qs/cmwire.h>
#include <qs/counter.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include "cmraw.h"

#define KINDS 10

static qs_node_info_t self;
static uint32_t peer_inc;

/* One IPv4/UDP frame from us to node's WIRE_PORT; bad_sum spoils its
 * checksum. */
static int
send_udp(uint32_t node, const void *payload, uint32_t n, bool bad_sum)
{
	return cm_send_udp(node, self.node_id, WIRE_PORT, payload, n, bad_sum);
}

static uint32_t
request(uint8_t *p, uint32_t node, uint32_t inc, uint32_t seq, uint32_t qid,
	uint64_t id)
{
	wire_hdr_t h = { WIRE_MAGIC, WIRE_VERSION, PK_REQ, (uint16_t)self.node_id,
			 (uint16_t)node, 0, inc, peer_inc, seq, 0,
			 sizeof(wire_msg_t) + sizeof(counter_inc_t) };
	wire_msg_t m = { 0, qid, COUNTER_OP_INC, 0, 0, sizeof(counter_inc_t), 0, 0 };
	counter_inc_t c = { id };
	memcpy(p, &h, sizeof(h));
	memcpy(p + sizeof(h), &m, sizeof(m));
	memcpy(p + sizeof(h) + sizeof(m), &c, sizeof(c));
	return sizeof(h) + h.len;
}

static int
junk(uint32_t node, uint32_t n)
{
	static uint8_t p[256];
	for (uint32_t i = 0; i < n; i++) {
		uint32_t len = request(p, node, self.incarnation, 1, 1, i);
		wire_hdr_t *h = (wire_hdr_t *)p;
		bool bad_sum = false;
		switch (i % KINDS) {
		case 0:
			len = 1 + (uint32_t)rand() % 200;
			for (uint32_t k = 0; k < len; k++)
				p[k] = (uint8_t)rand();
			break;
		case 1: len = sizeof(*h) - 3; break;
		case 2: h->magic = 0xDEADBEEF; break;
		case 3: h->version = 99; break;
		case 4: h->len += 40; break;
		case 5: h->seq = 0x7FFFFFF0u; break;
		case 6: h->src = (uint16_t)((self.node_id + 7) % CM_NODES_MAX); break;
		case 7: bad_sum = true; break;
		case 8: h->type = 99; break;
		case 9: h->type = PK_REP, h->seq = 1000000 + i; break;
		}
		int r = send_udp(node, p, len, bad_sum);
		if (r < 0) {
			printf("netjunk: error: packet %u: %s\n", i, qs_strerror(r));
			return 1;
		}
	}
	printf("netjunk: sent %u packets\n", n);
	return 0;
}

static bool
num(const char *s, uint64_t *out)
{
	char *end;
	*out = strtoul(s, &end, 0);
	return *s && !*end;
}

int
main(int argc, char **argv)
{
	uint64_t node, n, qid, inc, seq, id;
	int r = cm_open("netjunk", &argc, &argv);
	if (r)
		return r;
	qs_node_info(&self);
	if (argc == 4 && strcmp(argv[1], "junk") == 0 && num(argv[2], &node) &&
	    num(argv[3], &n) && node < CM_NODES_MAX && n <= 100000) {
		peer_inc = cm_incarnation_of((uint32_t)node);
		return junk((uint32_t)node, (uint32_t)n);
	}
	if (argc == 7 && strcmp(argv[1], "replay") == 0 && num(argv[2], &node) &&
	    num(argv[3], &qid) && num(argv[4], &inc) && num(argv[5], &seq) &&
	    num(argv[6], &id) && node < CM_NODES_MAX) {
		static uint8_t p[256];
		peer_inc = cm_incarnation_of((uint32_t)node);
		uint32_t len = request(p, (uint32_t)node, (uint32_t)inc,
				       (uint32_t)seq, (uint32_t)qid, id);
		r = send_udp((uint32_t)node, p, len, false);
		printf(r < 0 ? "netjunk: error: %s\n" : "netjunk: sent%s\n",
		       r < 0 ? qs_strerror(r) : "");
		return r < 0;
	}
	printf("usage: netjunk [-kKEY] junk NODE N | netjunk [-kKEY] replay NODE "
	       "QID INC SEQ ID\n");
	return 2;
}
