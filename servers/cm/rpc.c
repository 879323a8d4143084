/*
 * Remote requests, exactly once. A request on a proxy queue reaches the CM
 * (deferred: its thread moves on) and goes to the serving node's CM as REQ
 * with the next sequence number for that node; that CM injects it into its
 * kernel with the client's node, pid and transaction, and sends the
 * answer back as REP; we answer the client with it.
 *
 * Loss: a REQ without its REP is sent again after RPC_RTO_MS, then twice
 * as long each time up to RPC_RTO_MAX_MS. Duplication and reordering: the
 * receiver keeps, per sending node, every request above that node's floor
 * (see wire.h): one being executed is not started again, one answered gets
 * the same REP again, one at or below the floor is dropped. The window
 * (RPC_WINDOW requests in flight per node) bounds what each side keeps;
 * a seq beyond it is forged and dropped.
 *
 * Incarnations: packets carry both nodes' incarnations. A packet from an
 * earlier incarnation of its sender, or for an earlier one of us, is stale
 * and dropped; a later one means the sender restarted: what it had asked
 * of us is forgotten (its seqs start again from 1) and what we asked of it
 * fails with QS_EUNREACH.
 *
 * Failure: when membership declares a node down (CM_DOWN_MS of silence),
 * every request waiting for it is answered QS_EUNREACH, and its seq is no
 * longer waited for, so a late REP is dropped: one answer, never two. The
 * request may still have run there: QS_EUNREACH means "outcome unknown".
 * The answers we remember for a node's requests go when it goes down (see
 * in_forget), so a dead node's last answers do not stay for ever.
 *
 * Hostile input: every packet is parsed as if anyone could have sent it.
 * Lengths are checked one by one before they are added (no sum can wrap);
 * a REQ's seq must be above the floor and within the window; a floor must
 * be below the REQ that carries it and at most a window beyond the highest
 * seq and floor heard from that node (a sender cannot have more in flight);
 * a REP's seq must be one we sent; incarnations are membership's
 * (member.c); a REQ's queue must be served here and not local-only
 * (queue_check). What fails is counted by kind (rpc_reject) and dropped,
 * and nothing it carried (its floor included) is taken; a REQ refused for
 * its queue is answered, once, like any other. Before any of that, the
 * packet's tag must verify with the cluster key (seal.c): a packet from a
 * host without the key is dropped unread (REJ_SEAL).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sys.h>
#include <qs/tm.h>
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"
#include "member.h"
#include "net.h"
#include "netif.h"
#include "rpc.h"
#include "seal.h"

#define RPC_WINDOW 256
#define RPC_RTO_MS 100
#define RPC_RTO_MAX_MS 800
#define RPC_TICK_MS 50
#define RPC_ACK_ROUNDS 3 /* idle re-sends of the floor, one per 500 ms */
#define EDGES 32         /* transaction edges told to the TM, remembered */
#define MARKS_MAX 4096   /* transactions marked recoverable, at most */
#define HELD_MS 10000    /* an answer waits this long for its deferral */
#define QCACHE 64        /* queue ids checked, remembered */
#define QLIST_MAX 1024   /* queues listed (SYS_SQ_LIST's most) */

typedef struct out {
	uint32_t rid;  /* the deferred request */
	uint32_t seq;  /* 0 while in the backlog */
	uint32_t sent_ms, rto;
	uint32_t len;  /* of pkt */
	struct out *next;
	uint8_t pkt[]; /* wire_hdr_t, wire_msg_t, data, ool */
} out_t;

typedef struct {
	uint32_t seq;
	int rid;      /* injected and not yet answered: its rid, else 0 */
	uint32_t len; /* of rep, once answered */
	uint8_t *rep;
} in_t;

typedef struct {
	uint32_t inc;      /* the incarnation we deal with; 0: none yet */
	uint32_t last_seq; /* our requests to it */
	out_t *out[RPC_WINDOW];
	uint32_t nout;
	out_t *backlog, *backlog_tail;
	uint32_t ack_rounds;
	bool ack_soon;     /* the first ACK goes at the next tick */
	uint32_t floor;    /* its requests to us */
	uint32_t forgot;   /* its requests up to here whose answers we dropped */
	uint32_t max_seen; /* the highest seq of its requests taken */
	in_t *in[RPC_WINDOW];
	uint32_t nin;
	/* the life before its last restart, should it come back (member.c:
	 * an incarnation forged while it was silent) */
	struct {
		uint32_t inc, last_seq, floor, max_seen;
	} prev;
} peer_t;

/* An answer that came before its request was deferred (rpc_answer). */
typedef struct held {
	uint32_t rid, since;
	struct held *next;
	qs_msg_t *msg; /* header and data; out-of-line bytes after it */
} held_t;

static struct udp_pcb *pcb;
static uint32_t self, self_inc, ticks;
static peer_t *peers[CM_NODES_MAX];
/* One past the highest node that has a peer entry: the loops over peers,
 * some on every packet's way (rpc_busy, rpc_completed), stop there. */
static uint32_t peers_top;
/* Where each injected request's entry is, by its rid (rpc_completed looks
 * here first; an entry overwritten since sends it to the search). */
#define BY_RID 256
static struct by_rid {
	int rid;
	uint32_t node, slot;
} by_rid[BY_RID];
static uint32_t async_out;
static cm_rpc_stats_t st;
static struct {
	uint64_t tx;
	uint32_t node, dir, flags;
} edges[EDGES];
static uint32_t edge_next;
/*
 * Transactions with recoverable work here or below: our answers say so.
 * A mark stays until the TM takes it back: never overwritten, since a lost
 * mark would let a tree with recoverable work below commit in one phase.
 * The table grows to MARKS_MAX; a mark that finds no room sets `saturated`,
 * and from then on every answer says recoverable (two phases where one
 * would do: slower, never wrong).
 */
static uint64_t *marks;
static uint32_t nmarks, marks_cap;
static bool saturated;
static held_t *held;
uint32_t rpc_defer_delay_ms;
/* Queue ids checked for REQs (queue_check): qids are never reused, so
 * what one was found to be stays true; and the name of one that may be
 * served, for when its server has made it again (successor). */
static struct {
	int32_t qid, verdict;
	char name[QS_NAME_MAX];
} qcache[QCACHE];
static int32_t qmax; /* the highest qid listed so far */
static qs_sq_info_t qlist[QLIST_MAX];
static struct {
	int qid, net_qid; /* "tm" and TM_NET_QUEUE */
	int pid;
} tm;
static uint8_t msgbuf[sizeof(qs_msg_t) + WIRE_PAYLOAD_MAX];

static void in_forget(peer_t *p);

/* ---- packets ----------------------------------------------------------- */

/* Our requests to p up to here have their answers. */
static uint32_t
out_floor(const peer_t *p)
{
	/* below the oldest request still out: they are among the last
	   RPC_WINDOW sent, each in its seq's slot, so look back from the
	   newest until all nout are found (on every packet's way) */
	uint32_t floor = p->last_seq, found = 0;
	for (uint32_t s = p->last_seq; found < p->nout &&
	     p->last_seq - s < RPC_WINDOW; s--) {
		const out_t *o = p->out[s % RPC_WINDOW];
		if (o && o->seq == s) {
			found++;
			floor = s - 1;
		}
	}
	return floor;
}

int
wire_send(uint32_t node, uint8_t type, uint32_t dst_inc, uint32_t seq,
	  const void *body, uint32_t len)
{
	ip4_addr_t to, mask;
	peer_t *p = node < CM_NODES_MAX ? peers[node] : NULL;
	uint32_t floor = 0;

	if (node == WIRE_ALL)
		ip4_addr_set_u32(&to, IPADDR_BROADCAST);
	else if (qs_net_addr(node, &to, &mask) < 0)
		return QS_EINVAL;
	if (p)
		floor = out_floor(p);
	if (len > sizeof(wire_msg_t) + WIRE_PAYLOAD_MAX)
		return QS_E2BIG;
	/* made whole in one buffer (PBUF_RAM is contiguous; several threads
	 * send), so that its tag covers all of it */
	uint32_t whole = sizeof(wire_hdr_t) + len;
	struct pbuf *b = pbuf_alloc(PBUF_TRANSPORT,
				    (u16_t)(whole + (seal_on() ? SEAL_TAG_LEN : 0)),
				    PBUF_RAM);
	if (!b)
		return QS_ENOMEM;
	wire_hdr_t h = { WIRE_MAGIC, WIRE_VERSION, type, (uint16_t)self,
			 (uint16_t)node, 0, self_inc, dst_inc, seq, floor, len };
	memcpy(b->payload, &h, sizeof(h));
	if (len)
		memcpy((uint8_t *)b->payload + sizeof(h), body, len);
	seal(b->payload, whole);
	err_t e = udp_sendto(pcb, b, &to, WIRE_PORT);
	pbuf_free(b);
	return e == ERR_OK ? 0 : QS_EUNREACH;
}

static peer_t *
peer_get(uint32_t node)
{
	if (!peers[node] && (peers[node] = calloc(1, sizeof(peer_t))) &&
	    node >= peers_top)
		peers_top = node + 1;
	return peers[node];
}

/* ---- the TM's piggyback notices ------------------------------------------ */

/* The local TM's queues and pid; false if there is no TM. tm.net last:
 * the TM makes it after "tm", and its being known means both are. */
static bool
tm_find(void)
{
	qs_sq_info_t q, net;
	if (tm.net_qid > 0)
		return true;
	if (qs_sq_find(TM_QUEUE, &q) < 0 || qs_sq_find(TM_NET_QUEUE, &net) < 0)
		return false;
	tm.qid = q.qid;
	tm.pid = q.owner;
	tm.net_qid = net.qid;
	return true;
}

/*
 * A notice to the TM on TM_NET_QUEUE, waited for: the TM must know an edge
 * before the request or answer that made it goes on (a client may commit
 * at once). The TM answers these at once, never waiting for us.
 */
static void
tm_notice(uint32_t op, const void *data, uint32_t len)
{
	static qs_msg_t m;
	struct {
		qs_msg_hdr_t hdr;
		uint8_t data[16];
	} reply;
	if (!tm_find())
		return; /* no TM on this node: nobody to tell */
	qs_msg_init(&m, op);
	qs_msg_put(&m, data, len);
	if (qs_call(tm.net_qid, &m, (qs_msg_t *)&reply, sizeof(reply)) < 0)
		tm.net_qid = 0; /* gone: look it up again next time */
}

/*
 * Tells the local TM that transaction tx went to (TM_EDGE_OUT) or came from
 * (TM_EDGE_IN) node, once per edge and flag: a local message, nothing on
 * the wire. TM-to-TM requests are the protocol, not edges.
 */
static void
tm_edge(uint64_t tx, uint32_t node, uint32_t dir, uint32_t flags, uint32_t inc)
{
	if (!tx)
		return;
	for (int i = 0; i < EDGES; i++)
		if (edges[i].tx == tx && edges[i].node == node &&
		    edges[i].dir == dir && edges[i].flags == flags)
			return;
	tm_edge_t e = { tx, node, dir, flags, inc };
	tm_notice(TM_OP_EDGE, &e, sizeof(e));
	edges[edge_next % EDGES].tx = tx;
	edges[edge_next % EDGES].node = node;
	edges[edge_next % EDGES].dir = dir;
	edges[edge_next++ % EDGES].flags = flags;
	st.edges++;
}

static int
mark_find(uint64_t tx)
{
	for (uint32_t i = 0; i < nmarks; i++)
		if (marks[i] == tx)
			return (int)i;
	return -1;
}

void
rpc_mark(uint64_t tx)
{
	if (!tx || mark_find(tx) >= 0)
		return;
	if (nmarks == marks_cap) {
		uint32_t cap = marks_cap ? marks_cap * 2 : 64;
		uint64_t *m = cap <= MARKS_MAX ? realloc(marks, cap * sizeof(*m))
					       : NULL;
		if (!m) {
			saturated = true; /* safe: every answer says recoverable */
			st.marks_full++;
			return;
		}
		marks = m;
		marks_cap = cap;
	}
	marks[nmarks++] = tx;
}

void
rpc_unmark(uint64_t tx)
{
	int i = tx ? mark_find(tx) : -1;
	if (i >= 0)
		marks[i] = marks[--nmarks];
}

static bool
marked(uint64_t tx)
{
	return tx && (saturated || mark_find(tx) >= 0);
}

bool
rpc_from_tm(int pid)
{
	return tm_find() && pid == tm.pid;
}

void
rpc_node_event(uint32_t node, uint32_t event, uint32_t inc)
{
	if (event == TM_NODE_DOWN && peers[node])
		in_forget(peers[node]);
	tm_node_event_t ev = { node, event, inc };
	tm_notice(TM_OP_NODE, &ev, sizeof(ev));
}

/* ---- our requests to other nodes --------------------------------------- */

static void
out_send(uint32_t node, out_t *o)
{
	wire_hdr_t *h = (wire_hdr_t *)o->pkt;
	o->sent_ms = qs_uptime_ms();
	wire_send(node, PK_REQ, h->dst_inc, o->seq, h + 1,
		  o->len - sizeof(*h));
}

/* Moves requests from the backlog into the window while there is room. */
static void
out_pump(uint32_t node, peer_t *p)
{
	while (p->backlog && p->last_seq + 1 - out_floor(p) <= RPC_WINDOW) {
		out_t *o = p->backlog;
		p->backlog = o->next;
		if (!p->backlog)
			p->backlog_tail = NULL;
		o->seq = ++p->last_seq;
		o->rto = RPC_RTO_MS;
		p->out[o->seq % RPC_WINDOW] = o;
		p->nout++;
		st.req_tx++;
		out_send(node, o);
	}
}

int
rpc_answer(uint32_t rid, const qs_msg_t *m)
{
	int r = qs_answer(rid, m);
	if (r != QS_ENOENT)
		return r;
	/* not deferred yet: kept for the tick to give (held_tick) */
	uint32_t n = sizeof(qs_msg_hdr_t) + m->hdr.len;
	held_t *h = malloc(sizeof(*h));
	qs_msg_t *c = h ? malloc(n + m->hdr.ool_len) : NULL;
	if (!c) {
		free(h);
		/* no room to keep it: wait here for the deferral, which needs
		 * nothing we hold, rather than lose the answer */
		for (uint32_t t0 = qs_uptime_ms();
		     r == QS_ENOENT && qs_uptime_ms() - t0 < HELD_MS;
		     r = qs_answer(rid, m))
			qs_sleep(1);
		return r;
	}
	memcpy(c, m, n);
	memcpy((uint8_t *)c + n, (const void *)m->hdr.ool, m->hdr.ool_len);
	*h = (held_t){ rid, qs_uptime_ms(), held, c };
	held = h;
	st.answers_held++;
	return 0;
}

/* Gives the answers kept by rpc_answer whose requests are deferred now. */
static void
held_tick(void)
{
	uint32_t now = qs_uptime_ms();
	for (held_t **hp = &held, *h; (h = *hp);) {
		qs_msg_t *m = h->msg;
		if (m->hdr.ool_len)
			m->hdr.ool = (uint32_t)(uintptr_t)((uint8_t *)m +
				sizeof(qs_msg_hdr_t) + m->hdr.len);
		int r = qs_answer(h->rid, m);
		if (r == QS_ENOENT && now - h->since < HELD_MS) {
			hp = &h->next;
			continue;
		}
		if (r == QS_ENOENT)
			st.late++; /* its forwarding thread never deferred it */
		*hp = h->next;
		free(m);
		free(h);
	}
}

/* Answers a deferred request with an error and no data. */
static void
answer_error(uint32_t rid, int32_t err)
{
	static qs_msg_t m;
	qs_msg_init(&m, 0);
	m.hdr.status = err;
	rpc_answer(rid, &m);
}

/* Every request to node fails with err (down, or restarted). */
static void
out_fail_all(peer_t *p, int32_t err)
{
	for (int i = 0; i < RPC_WINDOW; i++) {
		out_t *o = p->out[i];
		if (!o)
			continue;
		answer_error(o->rid, err);
		free(o);
		p->out[i] = NULL;
		st.unreachable++;
	}
	p->nout = 0;
	while (p->backlog) {
		out_t *o = p->backlog;
		p->backlog = o->next;
		answer_error(o->rid, err);
		free(o);
		st.unreachable++;
	}
	p->backlog_tail = NULL;
}

int32_t
rpc_forward(const qs_msg_t *req, uint32_t node, uint32_t inc, uint32_t rqid)
{
	uint32_t state, now_inc;
	if (req->hdr.len + req->hdr.ool_len > WIRE_PAYLOAD_MAX)
		return QS_E2BIG;
	state = member_state(node, &now_inc);
	if (state != CM_NODE_UP && state != CM_NODE_SUSPECT)
		return QS_EUNREACH;
	if (now_inc != inc)
		return QS_EQGONE; /* the proxy is from an earlier life of node */
	peer_t *p = peer_get(node);
	if (!p)
		return QS_ENOMEM;
	if (p->inc && p->inc != inc)
		return QS_EQGONE;
	p->inc = inc;
	uint32_t len = sizeof(wire_hdr_t) + sizeof(wire_msg_t) + req->hdr.len +
		       req->hdr.ool_len;
	out_t *o = malloc(sizeof(*o) + len);
	if (!o)
		return QS_ENOMEM;
	o->rid = req->hdr.rid;
	o->seq = 0;
	o->len = len;
	o->next = NULL;
	wire_hdr_t *h = (wire_hdr_t *)o->pkt;
	h->dst_inc = inc;
	wire_msg_t *m = (wire_msg_t *)(h + 1);
	*m = (wire_msg_t){ req->hdr.txid, rqid, req->hdr.opcode,
			   req->hdr.src_pid, 0, req->hdr.len, req->hdr.ool_len,
			   req->hdr.flags & QS_MSG_SRC_MASK };
	memcpy(m + 1, req->data, req->hdr.len);
	memcpy((uint8_t *)(m + 1) + req->hdr.len, (const void *)req->hdr.ool,
	       req->hdr.ool_len);
	if (p->backlog_tail)
		p->backlog_tail->next = o;
	else
		p->backlog = o;
	p->backlog_tail = o;
	if (!rpc_from_tm(req->hdr.src_pid))
		tm_edge(req->hdr.txid, node, TM_EDGE_OUT, 0, inc);
	out_pump(node, p);
	return RPC_DEFERRED;
}

/* A REP: the answer for one of ours, unless it is late or a duplicate. */
static void
rep_input(uint32_t node, peer_t *p, const wire_hdr_t *h, const wire_msg_t *m)
{
	static qs_msg_t *r = (qs_msg_t *)msgbuf;
	out_t *o = p->out[h->seq % RPC_WINDOW];
	if (!h->seq || h->seq > p->last_seq) {
		rpc_reject(REJ_SEQ); /* we never sent it */
		return;
	}
	st.rep_rx++;
	if (!o || o->seq != h->seq) {
		st.late++;
		return;
	}
	/* the piggyback: recoverable work below, so no one phase (and our
	 * own answers up the tree say so too); not on the TMs' own requests,
	 * which are the protocol ending the tree, not work in it */
	const wire_msg_t *sent = (const wire_msg_t *)(o->pkt + sizeof(wire_hdr_t));
	if ((m->flags & WIRE_F_RECOVERABLE) && !rpc_from_tm(sent->src_pid)) {
		rpc_mark(m->txid);
		tm_edge(m->txid, node, TM_EDGE_OUT, TM_EDGE_RECOVERABLE, p->inc);
	}
	qs_msg_init(r, m->opcode);
	r->hdr.status = m->status;
	r->hdr.len = m->len;
	memcpy(r->data, m + 1, m->len);
	if (m->ool_len) {
		r->hdr.ool_len = m->ool_len;
		r->hdr.ool = (uint32_t)(uintptr_t)((const uint8_t *)(m + 1) + m->len);
	}
	/* checked in packet(): the kernel takes it; should it not, the client
	 * still gets one answer */
	if (rpc_answer(o->rid, r) < 0)
		answer_error(o->rid, QS_EUNREACH);
	if (m->status == QS_EQGONE)
		names_gone(node, sent->qid); /* a restarted server's is new */
	p->out[h->seq % RPC_WINDOW] = NULL;
	p->nout--;
	free(o);
	out_pump(node, p);
	if (!p->nout && !p->backlog) {
		/* nothing carries the floor now: an ACK at the next tick,
		 * unless a new request (a client calling in a loop) carries
		 * it first */
		p->ack_soon = true;
		p->ack_rounds = RPC_ACK_ROUNDS;
	}
}

/* ---- other nodes' requests to us ----------------------------------------- */

static void
in_free(peer_t *p, uint32_t slot)
{
	in_t *e = p->in[slot];
	free(e->rep);
	free(e);
	p->in[slot] = NULL;
	p->nin--;
}

/* The sender says its requests up to floor are answered: forget them. One
 * still running here stays until its answer is sent (in_reply): no sender
 * has that answer yet, so the floor was forged, or the sender gave up. */
static void
in_floor(peer_t *p, uint32_t floor)
{
	if (floor <= p->floor)
		return;
	/* only those the floor passes now: one it passed before is running
	   still, and in_reply frees it when answered */
	uint32_t from = floor - p->floor > RPC_WINDOW ? floor - RPC_WINDOW
						      : p->floor;
	p->floor = floor;
	for (uint32_t s = from + 1; s <= floor && s != 0; s++) {
		uint32_t i = s % RPC_WINDOW;
		if (p->in[i] && p->in[i]->seq == s && !p->in[i]->rid)
			in_free(p, i);
	}
}

/*
 * The sender is down: forget the answers we keep for its requests. One is
 * kept only for a retransmission, and a sender that declared us down too
 * (it has not heard from us for as long) answered those requests itself
 * and will never send them again; a dead one never will either, and one
 * that restarts starts again from seq 1. Should a retransmission come all
 * the same (a one-way cut), it gets "outcome unknown", which is what its
 * client would have heard had it given up: one answer, never a second
 * execution. A request still running keeps its entry: its answer is sent
 * when it comes (in_reply), then forgotten at once if the sender is still
 * down.
 */
static void
in_forget_one(peer_t *p, uint32_t slot)
{
	if (p->in[slot]->seq > p->forgot)
		p->forgot = p->in[slot]->seq;
	in_free(p, slot);
}

static void
in_forget(peer_t *p)
{
	for (uint32_t i = 0; i < RPC_WINDOW; i++)
		if (p->in[i] && !p->in[i]->rid)
			in_forget_one(p, i);
}

static bool
peer_up(uint32_t node)
{
	uint32_t inc, state = member_state(node, &inc);
	return state == CM_NODE_UP || state == CM_NODE_SUSPECT;
}

/* Sends the REP for e, and keeps it for the duplicates to come. */
static void
in_reply(uint32_t node, peer_t *p, in_t *e, const qs_msg_t *reply)
{
	static uint8_t rep[sizeof(wire_msg_t) + WIRE_PAYLOAD_MAX];
	int32_t status = reply->hdr.status;
	uint32_t len = reply->hdr.len, ool_len = reply->hdr.ool_len;
	if (len + ool_len > WIRE_PAYLOAD_MAX) {
		status = QS_E2BIG;
		len = ool_len = 0;
	}
	wire_msg_t *m = (wire_msg_t *)rep;
	*m = (wire_msg_t){ reply->hdr.txid, 0, reply->hdr.opcode, 0, status,
			   len, ool_len, marked(reply->hdr.txid) ? WIRE_F_RECOVERABLE : 0 };
	memcpy(m + 1, reply->data, len);
	memcpy((uint8_t *)(m + 1) + len, (const void *)reply->hdr.ool, ool_len);
	e->rid = 0;
	e->len = sizeof(*m) + len + ool_len;
	/* out of memory: duplicates find no copy and get "outcome unknown" */
	if ((e->rep = malloc(e->len)))
		memcpy(e->rep, rep, e->len);
	st.rep_tx++;
	wire_send(node, PK_REP, p->inc, e->seq, rep, e->len);
	if (!peer_up(node)) /* see in_forget */
		in_forget_one(p, e->seq % RPC_WINDOW);
	else if (e->seq <= p->floor) /* the floor passed it while it ran */
		in_free(p, e->seq % RPC_WINDOW);
}

/*
 * May a REQ from another node name queue qid? 0 if it is served here and
 * its name is not local-only (wire_local_only); QS_EPERM for a local-only
 * one or a proxy (no lookup from the wire gives either); QS_EQGONE for no
 * queue; QS_EAGAIN if the queues cannot be listed now. One SYS_SQ_LIST for a qid not seen yet, none after: the
 * kernel never reuses a qid, so a queue's name, and the absence of a qid
 * at or below the highest listed, stay true.
 */
static int32_t
queue_check(uint32_t qid)
{
	if (!qid || qid > 0x7FFFFFFF)
		return QS_EQGONE;
	uint32_t slot = qid % QCACHE;
	if (qcache[slot].qid == (int32_t)qid)
		return qcache[slot].verdict;
	int n = qs_sq_list(qlist, QLIST_MAX);
	if (n < 0)
		return QS_EAGAIN;
	int32_t verdict = QS_EQGONE;
	for (int i = 0; i < n; i++) {
		if (qlist[i].qid > qmax)
			qmax = qlist[i].qid;
		if (qlist[i].qid != (int32_t)qid)
			continue;
		verdict = qlist[i].node != self || wire_local_only(qlist[i].name)
				  ? QS_EPERM
				  : 0;
		if (!verdict)
			strlcpy(qcache[slot].name, qlist[i].name,
				sizeof(qcache[slot].name));
	}
	/* absent: gone for good if a later qid exists (and the list was all) */
	if (verdict != QS_EQGONE || ((int32_t)qid < qmax && n < QLIST_MAX)) {
		qcache[slot].qid = (int32_t)qid, qcache[slot].verdict = verdict;
		if (verdict) /* the slot's name is the old entry's */
			qcache[slot].name[0] = 0;
	}
	return verdict;
}

/*
 * A REQ names queue qid, which is gone: the queue its server made again
 * under the same name (a service init restarted, servers/init), if one
 * is served here now and may be named from the wire; else 0. The client
 * looked the queue up by its name, and the request reached no server
 * (QS_EQGONE means it ran nowhere), so it goes to the name's new queue
 * once, as a fresh lookup would have sent it.
 */
static int32_t
successor(uint32_t qid)
{
	uint32_t slot = qid % QCACHE;
	qs_sq_info_t q;
	if (qcache[slot].qid != (int32_t)qid || !qcache[slot].name[0] ||
	    qs_sq_find(qcache[slot].name, &q) < 0 || q.qid == (int32_t)qid ||
	    queue_check((uint32_t)q.qid) != 0)
		return 0;
	return q.qid;
}

static void
req_input(uint32_t node, peer_t *p, const wire_hdr_t *h, const wire_msg_t *m)
{
	uint32_t slot = h->seq % RPC_WINDOW;
	in_t *e = p->in[slot];

	if (h->seq > p->floor + RPC_WINDOW || (e && e->seq != h->seq)) {
		rpc_reject(REJ_SEQ); /* outside the window the sender keeps */
		return;
	}
	st.req_rx++;
	if (h->seq <= p->floor) {
		st.duplicates++; /* answered, and the answer was received */
		return;
	}
	if (h->seq > p->max_seen)
		p->max_seen = h->seq;
	if (e || h->seq <= p->forgot) {
		st.duplicates++;
		if (e && e->rep) { /* its REP was lost: the same answer again */
			wire_send(node, PK_REP, p->inc, e->seq, e->rep, e->len);
		} else if (!e || !e->rid) { /* answered, but not kept: unknown */
			wire_msg_t unknown = { m->txid, 0, m->opcode, 0,
					       QS_EUNREACH, 0, 0, 0 };
			wire_send(node, PK_REP, p->inc, h->seq, &unknown,
				  sizeof(unknown));
		}
		return;
	}
	int32_t allowed = queue_check(m->qid);
	if (allowed == QS_EAGAIN || !(e = calloc(1, sizeof(*e)))) {
		st.busy++; /* before it runs, not after: it comes again */
		return;
	}
	qs_msg_t *q = (qs_msg_t *)msgbuf;
	if (allowed < 0) { /* answered as final, never injected */
		if (allowed == QS_EPERM)
			rpc_reject(REJ_QUEUE);
		e->seq = h->seq;
		p->in[slot] = e;
		p->nin++;
		qs_msg_init(q, m->opcode);
		q->hdr.status = allowed;
		in_reply(node, p, e, q);
		return;
	}
	qs_msg_init(q, m->opcode);
	q->hdr.txid = m->txid;
	q->hdr.src_node = node;
	q->hdr.src_pid = m->src_pid;
	q->hdr.flags = m->flags & QS_MSG_SRC_MASK; /* its kernel's stamp */
	q->hdr.len = m->len;
	memcpy(q->data, m + 1, m->len);
	if (m->ool_len) {
		q->hdr.ool_len = m->ool_len;
		q->hdr.ool = (uint32_t)(uintptr_t)((const uint8_t *)(m + 1) + m->len);
	}
	/* the TM knows its superior before any participant joins */
	bool edge = !tm_find() || (int)m->qid != tm.qid;
	if (edge)
		tm_edge(m->txid, node, TM_EDGE_IN, 0, p->inc);
	int rid = qs_syscall(SYS_SQ_INJECT, m->qid, (uint32_t)(uintptr_t)q, 0,
			     0, 0);
	int32_t next = rid == QS_ENOENT ? successor(m->qid) : 0;
	if (next > 0) {
		st.redirected++;
		rid = qs_syscall(SYS_SQ_INJECT, (uint32_t)next,
				 (uint32_t)(uintptr_t)q, 0, 0, 0);
	}
	if (rid == QS_EAGAIN || rid == QS_ENOMEM || rid == QS_ELIMIT) {
		free(e);
		st.busy++; /* not taken: the sender will try again */
		return;
	}
	e->seq = h->seq;
	p->in[slot] = e;
	p->nin++;
	if (rid > 0) {
		e->rid = rid;
		async_out++;
		by_rid[(uint32_t)rid % BY_RID] = (struct by_rid){ rid, node, slot };
		return;
	}
	/* not delivered at all: that answer is as final as any other */
	qs_msg_init(q, m->opcode);
	q->hdr.status = rid == QS_ENOENT ? QS_EQGONE : rid;
	in_reply(node, p, e, q);
}

void
rpc_completed(int rid, const qs_msg_t *reply)
{
	/* where the injection left it, most likely */
	uint32_t n = by_rid[(uint32_t)rid % BY_RID].node;
	uint32_t i = by_rid[(uint32_t)rid % BY_RID].slot;
	peer_t *q = n < CM_NODES_MAX ? peers[n] : NULL;
	if (by_rid[(uint32_t)rid % BY_RID].rid == rid && q && q->in[i] &&
	    q->in[i]->rid == rid) {
		in_reply(n, q, q->in[i], reply);
		return;
	}
	for (n = 0; n < peers_top; n++) {
		peer_t *p = peers[n];
		for (uint32_t j = 0; p && p->nin && j < RPC_WINDOW; j++) {
			if (p->in[j] && p->in[j]->rid == rid) {
				in_reply(n, p, p->in[j], reply);
				return;
			}
		}
	}
	/* the request of a node that has restarted since */
}

/* ---- incarnations, input, timers ------------------------------------------ */

/* node is in a new incarnation: nothing of its earlier life holds. */
void
rpc_restarted(uint32_t node, uint32_t inc)
{
	peer_t *p = peers[node];
	names_forget_node(node, inc); /* whether or not we talked since */
	if (!p || inc == p->inc)
		return;
	out_fail_all(p, QS_EUNREACH);
	for (uint32_t i = 0; i < RPC_WINDOW; i++)
		if (p->in[i])
			in_free(p, i);
	uint32_t last = p->last_seq, floor = p->floor, seen = p->max_seen;
	if (p->inc && inc == p->prev.inc) {
		/*
		 * Back to the life before: the one between was forged while the
		 * node was silent (member.c). That life's seqs go on where they
		 * were, ours past every request we failed; its requests we had
		 * taken are answered "outcome unknown", never run again.
		 */
		p->last_seq = p->prev.last_seq;
		p->floor = p->prev.floor;
		p->max_seen = p->forgot = p->prev.max_seen;
	} else {
		p->last_seq = p->floor = p->forgot = p->max_seen = 0;
	}
	if (p->inc)
		p->prev.inc = p->inc, p->prev.last_seq = last,
		p->prev.floor = floor, p->prev.max_seen = seen;
	p->inc = inc;
	p->ack_rounds = 0;
	p->ack_soon = false;
}

/* A packet passed the common checks: by type, with incarnations checked. */
static void
packet(const wire_hdr_t *h, const uint8_t *body)
{
	uint32_t node = h->src;
	if (h->type == PK_LOOKUP || h->type == PK_FOUND) {
		names_input(h, body);
		return;
	}
	/* the sender's incarnation is the one membership holds for it: a
	 * new life starts with a heartbeat (member.c), never here */
	int v = member_check(node, h->src_inc);
	if (h->dst_inc != self_inc || v == INC_STALE) {
		st.stale++; /* for an earlier us, or from an earlier them */
		return;
	}
	if (v != INC_SAME) {
		rpc_reject(REJ_INC); /* unknown node, or a life it has not had */
		return;
	}
	const wire_msg_t *m = (const wire_msg_t *)body;
	if (h->type == PK_ACK ? h->len != 0
			      : h->len < sizeof(*m) ||
				m->len > QS_MSG_INLINE ||
				m->ool_len > WIRE_PAYLOAD_MAX ||
				m->len + m->ool_len > WIRE_PAYLOAD_MAX ||
				h->len != sizeof(*m) + m->len + m->ool_len) {
		rpc_reject(REJ_LENGTH); /* each bounded before any sum */
		return;
	}
	if (h->type == PK_REQ	? !h->seq || m->status ||
				  (m->flags & ~QS_MSG_SRC_MASK)
	    : h->type == PK_REP ? m->flags & ~WIRE_F_RECOVERABLE
				: h->seq != 0) {
		rpc_reject(h->type == PK_REP ? REJ_HEADER
			   : h->type == PK_REQ && h->seq ? REJ_HEADER : REJ_SEQ);
		return;
	}
	peer_t *p = peer_get(node);
	if (!p)
		return;
	if (p->inc && p->inc != h->src_inc)
		rpc_restarted(node, h->src_inc); /* membership moved on first */
	p->inc = h->src_inc;
	/* a floor covers only requests the sender has sent: below the REQ
	 * that carries it, and no further than a window (all it may have in
	 * flight) beyond the highest seq or floor we have heard from it */
	uint32_t heard = p->max_seen > p->floor ? p->max_seen : p->floor;
	if ((h->type == PK_REQ && h->floor >= h->seq) ||
	    (h->floor > heard && h->floor - heard > RPC_WINDOW)) {
		rpc_reject(REJ_FLOOR);
		return;
	}
	in_floor(p, h->floor);
	if (h->type == PK_ACK)
		return;
	if (h->type == PK_REQ)
		req_input(node, p, h, m);
	else
		rep_input(node, p, h, m);
}

static void
receive(void *arg, struct udp_pcb *upcb, struct pbuf *b, const ip_addr_t *from,
	u16_t port)
{
	static uint8_t rx[sizeof(wire_hdr_t) + sizeof(wire_msg_t) +
			  WIRE_PAYLOAD_MAX + SEAL_TAG_LEN];
	wire_hdr_t *h = (wire_hdr_t *)rx;
	ip4_addr_t addr, mask;
	(void)arg, (void)upcb, (void)port;
	bool ok = b->tot_len <= sizeof(rx) &&
		  pbuf_copy_partial(b, rx, b->tot_len, 0) == b->tot_len;
	int32_t len = ok ? seal_open(rx, b->tot_len) : -1;
	pbuf_free(b);
	if (ok && len < 0) {
		rpc_reject(REJ_SEAL); /* no key, or not ours: nothing is read */
		return;
	}
	if (!ok || (uint32_t)len < sizeof(*h) || h->magic != WIRE_MAGIC || h->version != WIRE_VERSION ||
	    h->len != (uint32_t)len - sizeof(*h) || h->type < PK_REQ ||
	    h->type > PK_FOUND || h->src >= CM_NODES_MAX || h->src == self ||
	    (h->dst != self && !(h->dst == WIRE_ALL && h->type == PK_LOOKUP)) ||
	    qs_net_addr(h->src, &addr, &mask) < 0 ||
	    !ip4_addr_cmp(&addr, ip_2_ip4(from)) || !h->src_inc || h->pad) {
		rpc_reject(REJ_HEADER);
		return;
	}
	packet(h, rx + sizeof(*h));
}

static void
tick(void *arg)
{
	(void)arg;
	uint32_t now = qs_uptime_ms();
	ticks++;
	for (uint32_t n = 0; n < peers_top; n++) {
		peer_t *p = peers[n];
		if (!p || (!p->nout && !p->backlog && !p->ack_rounds))
			continue;
		if (!peer_up(n)) {
			out_fail_all(p, QS_EUNREACH);
			continue;
		}
		for (int i = 0; i < RPC_WINDOW; i++) {
			out_t *o = p->out[i];
			if (!o || now - o->sent_ms < o->rto)
				continue;
			st.retransmits++;
			o->rto = o->rto * 2 > RPC_RTO_MAX_MS ? RPC_RTO_MAX_MS
							     : o->rto * 2;
			out_send(n, o);
		}
		if (p->nout) {
			p->ack_soon = false; /* a request carries it */
		} else if (p->ack_soon || (p->ack_rounds &&
					   ticks % (500 / RPC_TICK_MS) == 0)) {
			if (p->ack_soon)
				p->ack_soon = false;
			else
				p->ack_rounds--;
			wire_send(n, PK_ACK, p->inc, 0, NULL, 0);
		}
	}
	held_tick();
	names_tick();
	net_ping_tick();
	sys_timeout(RPC_TICK_MS, tick, NULL);
}

int
rpc_start(uint32_t node, uint32_t incarnation)
{
	self = node;
	self_inc = incarnation ? incarnation : 1; /* 0 would mean "any" */
	if (!(pcb = udp_new()) || udp_bind(pcb, IP4_ADDR_ANY, WIRE_PORT) != ERR_OK)
		return QS_ENOMEM;
	udp_recv(pcb, receive, NULL);
	names_start(node);
	sys_timeout(RPC_TICK_MS, tick, NULL);
	return 0;
}

void
rpc_reject(int kind)
{
	uint32_t *const count[] = { &st.rej_header, &st.rej_length, &st.rej_seq,
				    &st.rej_floor, &st.rej_inc, &st.rej_queue,
				    &st.rej_seal, &st.rej_heartbeat, &st.rej_inc,
				    &st.rej_seal, &st.rej_replay };
	(*count[kind])++;
	if (kind < REJ_HEARTBEAT)
		st.bad++; /* the CM port's refusals */
}

bool
rpc_busy(void)
{
	if (held)
		return true;
	for (uint32_t n = 0; n < peers_top; n++)
		if (peers[n] && (peers[n]->nout || peers[n]->backlog))
			return true;
	return false;
}

uint32_t
rpc_async_out(void)
{
	return async_out;
}

void
rpc_async_done(void)
{
	if (async_out)
		async_out--;
}

void
rpc_stats(cm_rpc_stats_t *s)
{
	*s = st;
	s->inflight = s->cached = 0;
	for (uint32_t n = 0; n < peers_top; n++) {
		const peer_t *p = peers[n];
		for (out_t *o = p ? p->backlog : NULL; o; o = o->next)
			s->inflight++;
		if (p) {
			s->inflight += p->nout;
			s->cached += p->nin;
		}
	}
	s->marks = nmarks;
	s->heap = (uint32_t)qs_heap_in_use();
	s->proxies = names_proxies();
	s->lookups_limited = names_limited;
	s->udp_bad = lwip_stats.udp.chkerr + lwip_stats.udp.lenerr +
		     lwip_stats.udp.proterr;
}
