/*
 * Hostile packets for the CMs' protocol (qs/cmwire.h) and membership
 * (heartbeats, servers/cm/member.c), sent as raw frames through the CM's
 * test hook (CM_OP_RAW_SEND, QS_RIGHT_RAW_NET), so that they reach another
 * node's lwIP and CM as if a broken or hostile node had sent them. The IP
 * source is whatever node the packet claims (udpframe.h), so a packet can
 * speak for any node, a phantom one included: one this program makes up
 * and keeps alive with heartbeats.
 *
 * Every command may start with -kKEY, KEY the cluster key's 64 hex digits
 * (the test reads qsnet's STATE/key; one word, for the shell's 16): then
 * every packet is sealed with it
 * (servers/cm/seal.c), as a node of the cluster would, and reaches the
 * parsing behind the seal. Without it, every packet but to a node that has
 * no key is refused as seal.
 *
 *   wirefuzz hb TARGET NODE INC [COUNT]
 *        COUNT heartbeats (1) to TARGET claiming node NODE, incarnation INC
 *   wirefuzz pkt TARGET TYPE [KEY=VALUE...]
 *        one packet (or COUNT) of TYPE req|rep|ack|lookup|found to TARGET;
 *        keys: src (the claimed node; this one), ip (the IP source's node;
 *        src), sinc (src's incarnation as our CM knows it), dinc (TARGET's,
 *        as our CM knows it), seq (1), floor (0), qid, op, tx, pid, status,
 *        flags, type (a raw type number), pad, data (N pattern bytes), id
 *        (a counter increment's id: the data), mlen (wire_msg_t.len: the
 *        data's), mool (ool_len: 0), hlen (wire_hdr_t.len: what follows),
 *        name (lookup, found), count (1), step (seq's, 1)
 *   wirefuzz fuzz TARGET PACKETS SEED QID...
 *        the structure-aware fuzzer: PACKETS packets to TARGET, from seed
 *        SEED, requests naming the QIDs (and others). Each is well formed
 *        but for a few mutated fields (lengths, seqs, floors, incarnations,
 *        qids, types, opcodes, flags, magic, sender), with a random body:
 *        requests, replies and ACKs from three phantom nodes it keeps up
 *        with heartbeats, lookups and finds, and heartbeats and packets
 *        that claim this node or TARGET's other peers but always with an
 *        incarnation that is not theirs (so that no real node's stream of
 *        requests is touched: without a key a packet with the right
 *        incarnations would be taken as that node's, and that is the
 *        cluster key's to stop). Prints what it sent, by kind.
 *
 *   wirefuzz delay MS
 *        sets this node's CM's test hook CM_OP_DEFER_DELAY (QS_RIGHT_ADMIN):
 *        its forwarding threads wait MS between sending a request and
 *        deferring it, so that answers come first
 *
 * Every command prints "wirefuzz: sent N" (fuzz: "wirefuzz: sent N
 * packets ...", delay: "wirefuzz: delay MS, was MS") or "wirefuzz: error:
 * ...".
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

#define PHANTOMS 3
#define PHANTOM_BASE 200 /* node ids no test cluster has */
#define PHANTOM_INC 7
#define HB_EVERY_MS 250  /* the phantoms' heartbeats: well within 1.5 s */
#define BODY_MAX 1400    /* one frame */

static qs_node_info_t self;

static uint32_t
be32(uint32_t x)
{
	return x >> 24 | (x >> 8 & 0xFF00) | (x << 8 & 0xFF0000) | x << 24;
}

static uint16_t
be16(uint16_t x)
{
	return (uint16_t)(x >> 8 | x << 8);
}

/* A node's incarnation as our CM has it; 0 if it does not know it. */
static uint32_t
incarnation_of(uint32_t node)
{
	return node == self.node_id ? self.incarnation : cm_incarnation_of(node);
}

static int
send_udp(uint32_t target, uint32_t ip_node, uint16_t port, const void *p,
	 uint32_t n)
{
	return cm_send_udp(target, ip_node, port, p, n, false);
}

static int
send_hb(uint32_t target, uint32_t node, uint32_t ip_node, uint32_t inc,
	uint32_t seq)
{
	heartbeat_t hb = { be32(HB_MAGIC), be16(HB_VERSION), be16((uint16_t)node),
			   be32(inc), be32(seq) };
	return send_udp(target, ip_node, CM_PORT, &hb, sizeof(hb));
}

/* ---- one packet, from KEY=VALUE arguments --------------------------------- */

typedef struct {
	wire_hdr_t h;
	wire_msg_t m;
	uint32_t ip, data, count, step;
	bool hlen_set, mlen_set, is_msg;
	const char *name;
	uint64_t id;
	bool id_set;
} forge_t;

/* A number, decimal or 0x hex, up to 64 bits. */
static bool
num(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	int base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2, base = 16;
	if (!*s)
		return false;
	for (; *s; s++) {
		int d = *s >= '0' && *s <= '9'	 ? *s - '0'
			: *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
			: *s >= 'A' && *s <= 'F' ? *s - 'A' + 10
						 : 99;
		if (d >= base)
			return false;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*out = v;
	return true;
}

static int
forge_arg(forge_t *f, const char *arg)
{
	const char *eq = strchr(arg, '=');
	uint64_t v = 0;
	if (!eq)
		return -1;
	size_t k = (size_t)(eq - arg);
	const char *val = eq + 1;
#define KEY(s) (k == strlen(s) && strncmp(arg, s, k) == 0)
	if (KEY("name")) {
		f->name = val;
		return 0;
	}
	if (!num(val, &v))
		return -1;
	if (KEY("src")) f->h.src = (uint16_t)v;
	else if (KEY("ip")) f->ip = (uint32_t)v;
	else if (KEY("sinc")) f->h.src_inc = (uint32_t)v;
	else if (KEY("dinc")) f->h.dst_inc = (uint32_t)v;
	else if (KEY("seq")) f->h.seq = (uint32_t)v;
	else if (KEY("floor")) f->h.floor = (uint32_t)v;
	else if (KEY("type")) f->h.type = (uint8_t)v;
	else if (KEY("pad")) f->h.pad = (uint16_t)v;
	else if (KEY("hlen")) f->h.len = (uint32_t)v, f->hlen_set = true;
	else if (KEY("qid")) f->m.qid = (uint32_t)v;
	else if (KEY("op")) f->m.opcode = (uint32_t)v;
	else if (KEY("tx")) f->m.txid = v;
	else if (KEY("pid")) f->m.src_pid = (int32_t)v;
	else if (KEY("status")) f->m.status = (int32_t)v;
	else if (KEY("flags")) f->m.flags = (uint32_t)v;
	else if (KEY("mlen")) f->m.len = (uint32_t)v, f->mlen_set = true;
	else if (KEY("mool")) f->m.ool_len = (uint32_t)v;
	else if (KEY("data")) f->data = (uint32_t)v;
	else if (KEY("id")) f->id = v, f->id_set = true;
	else if (KEY("count")) f->count = (uint32_t)v;
	else if (KEY("step")) f->step = (uint32_t)v;
	else return -1;
#undef KEY
	return 0;
}

static int
forge(uint32_t target, const char *type, int argc, char **argv)
{
	static uint8_t p[BODY_MAX + 64];
	forge_t f;
	memset(&f, 0, sizeof(f));
	f.h = (wire_hdr_t){ WIRE_MAGIC, WIRE_VERSION, 0, (uint16_t)self.node_id,
			    (uint16_t)target, 0, 0, 0, 1, 0, 0 };
	f.ip = ~0u;
	f.count = 1;
	f.step = 1;
	f.h.src_inc = ~0u; /* unset */
	f.h.dst_inc = incarnation_of(target);
	static const char *const types[] = { NULL, "req", "rep", "ack", "lookup",
					     "found" };
	for (int t = 1; t <= PK_FOUND; t++)
		if (strcmp(type, types[t]) == 0)
			f.h.type = (uint8_t)t;
	if (!f.h.type)
		return -1;
	f.is_msg = f.h.type == PK_REQ || f.h.type == PK_REP;
	for (int i = 0; i < argc; i++)
		if (forge_arg(&f, argv[i]) < 0)
			return -1;
	if (f.ip == ~0u)
		f.ip = f.h.src;
	if (f.h.src_inc == ~0u)
		f.h.src_inc = incarnation_of(f.h.src);
	uint32_t n = 0;
	if (f.is_msg) {
		uint32_t data = f.id_set ? sizeof(counter_inc_t) : f.data;
		if (data > BODY_MAX)
			return -1;
		if (!f.mlen_set)
			f.m.len = data;
		memcpy(p + sizeof(wire_hdr_t), &f.m, sizeof(f.m));
		uint8_t *d = p + sizeof(wire_hdr_t) + sizeof(f.m);
		if (f.id_set) {
			counter_inc_t c = { f.id };
			memcpy(d, &c, sizeof(c));
		} else {
			for (uint32_t i = 0; i < data; i++)
				d[i] = (uint8_t)i;
		}
		n = sizeof(f.m) + data;
	} else if (f.h.type == PK_LOOKUP || f.h.type == PK_FOUND) {
		const char *name = f.name ? f.name : "echo";
		uint8_t *d = p + sizeof(wire_hdr_t);
		if (f.h.type == PK_FOUND) {
			int32_t qid = (int32_t)f.m.qid;
			memcpy(d, &qid, 4);
			d += 4, n += 4;
		}
		memcpy(d, name, strlen(name) + 1);
		n += (uint32_t)strlen(name) + 1;
	}
	if (!f.hlen_set)
		f.h.len = n;
	for (uint32_t i = 0; i < f.count; i++) {
		memcpy(p, &f.h, sizeof(f.h));
		int r = send_udp(target, f.ip, WIRE_PORT, p, sizeof(f.h) + n);
		if (r < 0) {
			printf("wirefuzz: error: packet %u: %s\n", i, qs_strerror(r));
			return 1;
		}
		f.h.seq += f.step;
	}
	printf("wirefuzz: sent %u\n", f.count);
	return 0;
}

/* ---- the fuzzer ------------------------------------------------------------- */

static uint32_t rng;

static uint32_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

static uint32_t
below(uint32_t n)
{
	return n ? rnd() % n : 0;
}

/* A value for a 32-bit length, seq or floor field: the edges first. */
static uint32_t
edge32(uint32_t near)
{
	static const uint32_t edges[] = { 0, 1, 0x7FFFFFFF, 0x80000000,
					  0xFFFFFFFF, 0xFFFFFFF0, 0xFFFFFF00,
					  QS_MSG_INLINE, QS_MSG_INLINE + 1,
					  WIRE_PAYLOAD_MAX, WIRE_PAYLOAD_MAX + 1,
					  256, 257 };
	switch (below(4)) {
	case 0: return edges[below(sizeof(edges) / sizeof(edges[0]))];
	case 1: return near + below(600) - 300;
	case 2: return near - edges[below(sizeof(edges) / sizeof(edges[0]))];
	default: return rnd();
	}
}

enum { K_REQ, K_REP, K_ACK, K_NAME, K_HB, K_REAL, K_KINDS };
static const char *const kind_names[] = { "req", "rep", "ack", "name", "hb",
					  "real" };

typedef struct {
	uint32_t node, inc, next_seq, floor;
} phantom_t;

static int
fuzz(uint32_t target, uint32_t packets, uint32_t seed, const uint32_t *qids,
     uint32_t nqids)
{
	static uint8_t p[BODY_MAX + 64];
	phantom_t ph[PHANTOMS];
	uint32_t sent[K_KINDS] = { 0 }, hb_seq = 0, last_hb = 0;
	uint32_t tinc = incarnation_of(target);
	/* the real nodes whose names this may use, never with their
	 * incarnations: this one, and another the target knows */
	uint32_t real[2] = { self.node_id, self.node_id ? 0 : 1 };
	if (real[1] == target)
		real[1] = self.node_id;
	uint32_t real_inc[2] = { incarnation_of(real[0]), incarnation_of(real[1]) };
	if (!tinc) {
		printf("wirefuzz: error: node %u unknown here\n", target);
		return 1;
	}
	rng = seed * 2654435761u + 1;
	for (uint32_t i = 0; i < PHANTOMS; i++)
		ph[i] = (phantom_t){ PHANTOM_BASE + i, PHANTOM_INC, 1, 0 };
	for (uint32_t i = 0; i < packets; i++) {
		uint32_t now = qs_uptime_ms();
		if (i == 0 || now - last_hb >= HB_EVERY_MS) {
			last_hb = now;
			hb_seq++;
			for (uint32_t k = 0; k < PHANTOMS; k++)
				if (send_hb(target, ph[k].node, ph[k].node,
					    ph[k].inc, hb_seq) < 0)
					return 1;
		}
		phantom_t *f = &ph[below(PHANTOMS)];
		uint32_t r = below(100), kind = r < 45 ? K_REQ : r < 60 ? K_REP
					       : r < 70 ? K_ACK : r < 80 ? K_NAME
					       : r < 90 ? K_HB : K_REAL;
		wire_hdr_t h = { WIRE_MAGIC, WIRE_VERSION, PK_REQ,
				 (uint16_t)f->node, (uint16_t)target, 0, f->inc,
				 tinc, 0, f->floor, 0 };
		wire_msg_t m = { 0, 0, below(8), (int32_t)below(64), 0, 0, 0, 0 };
		uint32_t body = below(4) ? below(64) : below(BODY_MAX - 64);
		uint32_t ip = f->node;
		if (kind == K_HB) {
			/* a real node's heartbeat, never with an incarnation
			 * its next life could have: inc + 1 .. INC_STEP_MAX
			 * (member.c) is a restart once the node has been
			 * silent CM_SUSPECT_MS, which a busy host's node can
			 * be; these are refused while it is heard at all */
			uint32_t which = below(2), node = real[which];
			uint32_t inc = real_inc[which];
			uint32_t bad[] = { inc - 1, 0xFFFFFFFF, inc + 17,
					   inc + 1000, 0x80000000, 0 };
			int e = send_hb(target, node, node,
					bad[below(sizeof(bad) / sizeof(bad[0]))],
					rnd());
			if (e < 0)
				return 1;
			sent[kind]++;
			continue;
		}
		if (kind == K_NAME) {
			h.type = below(2) ? PK_LOOKUP : PK_FOUND;
			h.seq = rnd();
			h.dst = below(4) ? (uint16_t)target : WIRE_ALL;
			uint8_t *d = p + sizeof(h);
			uint32_t n = 4 + below(40);
			for (uint32_t k = 0; k < n; k++)
				d[k] = (uint8_t)('a' + below(26));
			if (h.type == PK_FOUND) /* a qid, then the name */
				memcpy(d, below(2) ? "\x05\0\0\0" : "\xfb\xff\xff\xff", 4);
			d[n] = below(8) ? 0 : 'x';
			h.len = below(8) ? n + 1 : edge32(n);
			memcpy(p, &h, sizeof(h));
			if (send_udp(target, ip, WIRE_PORT, p, sizeof(h) + n + 1) < 0)
				return 1;
			sent[kind]++;
			continue;
		}
		if (kind == K_REQ) {
			h.seq = below(4) ? f->next_seq++ : f->next_seq - below(8);
			h.floor = below(2) ? f->floor : h.seq - 1 - below(4);
			m.qid = below(8) ? qids[below(nqids)] : below(200);
			m.txid = below(4) ? 0 : QS_TX(f->node, f->inc, below(3));
			if (m.qid == qids[0] && below(2)) {
				m.opcode = COUNTER_OP_INC;
				body = sizeof(counter_inc_t);
			}
			if (below(2)) /* its answers "arrived": the floor goes on */
				f->floor = h.seq > 8 ? h.seq - 8 : 0;
		} else if (kind == K_REP) {
			h.type = PK_REP;
			h.seq = below(2) ? below(400) : rnd();
			m.status = (int32_t)rnd();
			m.flags = below(4) ? 0 : WIRE_F_RECOVERABLE;
		} else if (kind == K_ACK) {
			h.type = PK_ACK;
			h.seq = 0;
			h.floor = below(2) ? f->floor : edge32(f->floor);
			body = 0;
		} else { /* K_REAL: a real node's name, never its incarnation */
			uint32_t which = below(2), node = real[which];
			uint32_t inc = real_inc[which];
			h.type = (uint8_t)(PK_REQ + below(3));
			h.src = (uint16_t)node;
			ip = node;
			h.seq = 1 + below(300);
			h.floor = edge32(h.seq);
			m.qid = qids[below(nqids)];
			if (below(2))
				h.src_inc = below(2) ? inc + 1 + below(20) : inc - 1 - below(3);
			else
				h.dst_inc = tinc + 1 + below(3);
		}
		if (kind != K_ACK) {
			m.len = body;
			h.len = sizeof(m) + body;
		}
		/* what follows the header: body bytes, or as h.len says */
		bool exact = false;
		/* the mutations: a few fields of the well-formed packet */
		for (uint32_t n = below(4); n; n--) {
			switch (below(14)) {
			case 0: m.len = edge32(m.len); break;
			case 1: m.ool_len = edge32(m.ool_len); break;
			case 2: /* lengths whose sum wraps to what h.len says */
				m.ool_len = 0u - m.len + below(16);
				h.len = sizeof(m) + m.len + m.ool_len;
				exact = true;
				break;
			case 3: h.len = edge32(h.len), exact = below(2); break;
			case 4: h.seq = edge32(h.seq); break;
			case 5: h.floor = edge32(h.floor); break;
			case 6:
				if (kind != K_REAL) /* a phantom's own: harmless */
					h.src_inc = edge32(h.src_inc);
				break;
			case 7: h.dst_inc = edge32(h.dst_inc) | 1; break;
			case 8: h.type = (uint8_t)below(8); break;
			case 9: m.qid = edge32(m.qid); break;
			case 10: m.opcode = rnd(); break;
			case 11: m.flags = rnd(), m.status = (int32_t)rnd(); break;
			case 12:
				switch (below(4)) {
				case 0: h.magic ^= 1u << below(32); break;
				case 1: h.version = (uint8_t)rnd(); break;
				case 2: h.pad = (uint16_t)(1 + below(0xFFFF)); break;
				default: ip = real[below(2)]; break; /* not h.src's */
				}
				break;
			default: /* a real node's name on a phantom's packet */
				h.src = (uint16_t)real[below(2)];
				if (kind != K_REAL)
					h.src_inc = f->inc; /* not the real one's */
				break;
			}
		}
		/* never the right incarnations with a real node's name (see
		 * the top): a mutation may have made them so */
		for (int k = 0; k < 2; k++)
			if (h.src == real[k] && h.src_inc == real_inc[k] &&
			    h.dst_inc == tinc)
				h.dst_inc = tinc + 1;
		memcpy(p, &h, sizeof(h));
		uint32_t n = 0;
		if (kind != K_ACK) {
			memcpy(p + sizeof(h), &m, sizeof(m));
			n = sizeof(m);
			if (m.opcode == COUNTER_OP_INC && body == sizeof(counter_inc_t)) {
				counter_inc_t c = { ((uint64_t)seed << 32) | i };
				memcpy(p + sizeof(h) + n, &c, sizeof(c));
			} else {
				for (uint32_t k = 0; k < body; k++)
					p[sizeof(h) + n + k] = (uint8_t)rnd();
			}
			n += body;
		}
		if (exact && h.len <= BODY_MAX) {
			for (uint32_t k = n; k < h.len; k++)
				p[sizeof(h) + k] = (uint8_t)rnd();
			n = h.len;
		}
		int e = send_udp(target, ip, WIRE_PORT, p, sizeof(h) + n);
		if (e < 0) {
			printf("wirefuzz: error: packet %u: %s\n", i, qs_strerror(e));
			return 1;
		}
		sent[kind]++;
	}
	printf("wirefuzz: sent %u packets:", packets);
	for (int k = 0; k < K_KINDS; k++)
		printf(" %s %u", kind_names[k], sent[k]);
	printf("\n");
	return 0;
}

int
main(int argc, char **argv)
{
	static qs_msg_t reply;
	uint64_t target, a, b, c;
	int r = cm_open("wirefuzz", &argc, &argv);
	if (r)
		return r;
	qs_node_info(&self);
	if (argc == 3 && strcmp(argv[1], "delay") == 0 && num(argv[2], &a)) {
		uint32_t ms = (uint32_t)a;
		r = cm_call(CM_OP_DEFER_DELAY, &ms, sizeof(ms), &reply);
		if (r < 0) {
			printf("wirefuzz: error: delay: %s\n", qs_strerror(r));
			return 1;
		}
		printf("wirefuzz: delay %u, was %d\n", ms, r);
		return 0;
	}
	if (argc >= 3 && num(argv[2], &target) && target < CM_NODES_MAX &&
	    target != self.node_id) {
		if (argc >= 5 && argc <= 6 && strcmp(argv[1], "hb") == 0 &&
		    num(argv[3], &a) && num(argv[4], &b) && a < CM_NODES_MAX) {
			c = 1;
			if (argc == 6 && !num(argv[5], &c))
				goto usage;
			for (uint64_t i = 0; i < c; i++)
				if ((r = send_hb((uint32_t)target, (uint32_t)a,
						 (uint32_t)a, (uint32_t)b,
						 (uint32_t)i + 1)) < 0) {
					printf("wirefuzz: error: %s\n", qs_strerror(r));
					return 1;
				}
			printf("wirefuzz: sent %u\n", (uint32_t)c);
			return 0;
		}
		if (argc >= 4 && strcmp(argv[1], "pkt") == 0) {
			r = forge((uint32_t)target, argv[3], argc - 4, argv + 4);
			if (r >= 0)
				return r;
		}
		if (argc >= 6 && strcmp(argv[1], "fuzz") == 0 &&
		    num(argv[3], &a) && num(argv[4], &b) && argc - 5 <= 16) {
			uint32_t qids[16], n = 0;
			for (int i = 5; i < argc; i++) {
				if (!num(argv[i], &c))
					goto usage;
				qids[n++] = (uint32_t)c;
			}
			return fuzz((uint32_t)target, (uint32_t)a, (uint32_t)b,
				    qids, n);
		}
	}
usage:
	printf("usage: wirefuzz hb TARGET NODE INC [COUNT] | wirefuzz pkt TARGET "
	       "TYPE [KEY=VALUE...] | wirefuzz fuzz TARGET PACKETS SEED QID... | "
	       "wirefuzz delay MS\n");
	return 2;
}
