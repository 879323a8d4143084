/*
 * cm, the communication manager. It owns the e1000, runs lwIP on it
 * (net.c), keeps membership (member.c), and makes queues on other nodes
 * look local: it is the kernel's network agent (QS_NET_QUEUE), resolving
 * names the kernel does not know (names.c) and carrying requests on proxy
 * queues to their nodes and back, exactly once (rpc.c). It also serves
 * queue "cm" (qs/cm.h): counters, ping, nodes, UDP echo timings
 * (udpecho.c), and raw frames in and out as a test hook for the driver.
 *
 * Threads: one waits for the device's IRQ (or the next timer) and feeds
 * what came in to lwIP; NET_THREADS serve QS_NET_QUEUE, each forwarding a
 * request and deferring it; one collects the answers to the requests the
 * CM injected for other nodes; one serves "cm". lwIP, the NIC and all the
 * protocol state are used only under net_lock.
 */
#include <stdio.h>
#include <string.h>
#include <qs/cm.h>
#include <qs/serve.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/thread.h>
#include "e1000.h"
#include "member.h"
#include "net.h"
#include "rpc.h"
#include "seal.h"
#include "udpecho.h"

/* How long the IRQ thread waits before it looks at the link anyway. */
#define LINK_POLL_MS 1000
/* ... and while requests wait for answers or retransmissions. */
#define BUSY_POLL_MS 50
#define NET_THREADS 2

#define PING_MS 1000

static e1000_t nic;
static qs_mutex_t net_lock = QS_MUTEX_INIT;
static qs_cond_t injected = QS_COND_INIT; /* rpc_async_out() went up */
static int net_qid;                       /* QS_NET_QUEUE */
static uint32_t net_node;                 /* this node */

static void *
irq_loop(void *arg)
{
	(void)arg;
	for (;;) {
		qs_mutex_lock(&net_lock);
		uint32_t wait = net_sleeptime();
		uint32_t cap = rpc_busy() ? BUSY_POLL_MS : LINK_POLL_MS;
		qs_mutex_unlock(&net_lock);
		int r = e1000_intr(&nic, (int32_t)(wait < cap ? wait : cap));
		if (r < 0 && r != QS_ETIMEDOUT) {
			printf("cm: waiting for IRQ %d: %s\n", nic.irq,
			       qs_strerror(r));
			qs_exit(1);
		}
		qs_mutex_lock(&net_lock);
		net_poll(&nic);
		if (rpc_async_out())
			qs_cond_signal(&injected);
		qs_mutex_unlock(&net_lock);
	}
	return NULL;
}

/* Collects the answers to the requests the CM injected for other nodes. */
static void *
completion_loop(void *arg)
{
	static uint8_t buf[QS_MSG_BUF_SIZE];
	qs_msg_t *reply = (qs_msg_t *)buf;
	(void)arg;
	for (;;) {
		qs_mutex_lock(&net_lock);
		while (!rpc_async_out())
			qs_cond_wait(&injected, &net_lock);
		qs_mutex_unlock(&net_lock);
		int rid = qs_wait(0, reply, sizeof(buf), -1);
		qs_mutex_lock(&net_lock);
		rpc_async_done();
		if (rid > 0)
			rpc_completed(rid, reply);
		qs_mutex_unlock(&net_lock);
	}
	return NULL;
}

/*
 * Both tables' invokes run holding net_lock (QS_SERVER_LOCKED); the UDP
 * echo drops it while it waits; a ping defers its request (net.c).
 */

/* kernel.net's own requests: the kernel's lookup notices. */
static int32_t
op_lookup(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)ctx;
	int32_t r = names_lookup(req->hdr.rid, req->hdr.src_pid, args);
	if (r == RPC_DEFERRED)
		qs_defer(reply);
	return r;
}

static const qs_op_t agent_ops[] = {
	[QS_NOTICE_LOOKUP] = { "lookup", 2, QS_NAME_MAX, 0, qs_decode_str,
			       op_lookup },
};
static qs_server_t agent =
	QS_SERVER_LOCKED(QS_NET_QUEUE, agent_ops, NULL, &net_lock);

/* A request on a proxy: any opcode, the remote server's, carried as is. */
static int32_t
forward(const qs_msg_t *req, qs_msg_t *reply)
{
	uint32_t node, inc, rqid;
	int32_t r;
	qs_mutex_lock(&net_lock);
	if (names_proxy((int)req->hdr.qid, &node, &inc, &rqid) < 0) {
		r = QS_EQGONE;
	} else {
		r = rpc_forward(req, node, inc, rqid);
		if (r == QS_EQGONE)
			names_drop((int)req->hdr.qid);
	}
	qs_mutex_unlock(&net_lock);
	if (r == RPC_DEFERRED)
		qs_defer(reply);
	return r;
}

/* What the kernel hands the agent: its notices, and requests on proxies. */
static int32_t
net_handle(const qs_msg_t *req, qs_msg_t *reply, void *ctx)
{
	(void)ctx;
	int32_t r = (int)req->hdr.qid == net_qid
			    ? qs_dispatch(req, reply, &agent)
			    : forward(req, reply);
	/* the test hook: the answer may come before the deferral, always */
	uint32_t delay = __atomic_load_n(&rpc_defer_delay_ms, __ATOMIC_RELAXED);
	if ((reply->hdr.flags & QS_MSG_DEFER) && delay)
		qs_sleep(delay);
	return r;
}

static void *
net_serve(void *arg)
{
	(void)arg;
	return (void *)qs_serve(net_qid, net_handle, NULL, NET_THREADS);
}

static int32_t
op_stats(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)args, (void)ctx;
	cm_stats_t s;
	memset(&s, 0, sizeof(s));
	s.c = nic.c;
	memcpy(s.mac, nic.mac, sizeof(s.mac));
	s.link = e1000_link_up(&nic);
	s.irq = (uint8_t)nic.irq;
	net_stats(&s);
	qs_msg_put(reply, &s, sizeof(s));
	return 0;
}

static int32_t
decode_ping(const qs_msg_t *req, void *args)
{
	const cm_ping_t *p = (const cm_ping_t *)req->data;
	if (p->seq == 0 || p->seq > 0xFFFF)
		return QS_EINVAL;
	memcpy(args, p, sizeof(*p));
	return 0;
}

static int32_t
op_ping(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)ctx;
	const cm_ping_t *p = args;
	int32_t r = net_ping(req->hdr.rid, req->hdr.src_pid, p->node, PING_MS);
	if (r == RPC_DEFERRED)
		qs_defer(reply); /* the thread goes on serving */
	return r;
}

static int32_t
op_nodes(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)args, (void)ctx;
	cm_nodes_t *l = (cm_nodes_t *)reply->data;
	uint32_t max = (QS_MSG_INLINE - sizeof(*l)) / sizeof(cm_node_t);
	l->count = member_list(l->node, max, &l->bad_packets);
	reply->hdr.len = sizeof(*l) + l->count * sizeof(cm_node_t);
	return 0;
}

static int32_t
op_rpc_stats(const qs_msg_t *req, const void *args, qs_msg_t *reply,
	     void *ctx)
{
	(void)req, (void)args, (void)ctx;
	cm_rpc_stats_t s;
	rpc_stats(&s);
	qs_msg_put(reply, &s, sizeof(s));
	return 0;
}

static int32_t
decode_udp_echo(const qs_msg_t *req, void *args)
{
	const cm_udp_echo_t *a = (const cm_udp_echo_t *)req->data;
	if (a->count == 0 || a->count > CM_UDP_ECHO_MAX)
		return QS_EINVAL;
	memcpy(args, a, sizeof(*a));
	return 0;
}

static int32_t
op_udp_echo(const qs_msg_t *req, const void *args, qs_msg_t *reply,
	    void *ctx)
{
	(void)req, (void)ctx;
	cm_udp_echo_result_t res;
	int r = udpecho_run(&net_lock, args, &res);
	if (r == 0)
		qs_msg_put(reply, &res, sizeof(res));
	return r;
}

static int32_t
decode_tx(const qs_msg_t *req, void *args)
{
	const uint64_t *tx = (const uint64_t *)req->data;
	if (!*tx)
		return QS_EINVAL;
	memcpy(args, tx, sizeof(*tx));
	return 0;
}

/* The TM: tx has a recoverable participant here (see rpc_mark), or has
 * ended here (its mark goes). From this node's TM only. */
static int32_t
op_tx_mark(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)reply, (void)ctx;
	const uint64_t *tx = args;
	if (req->hdr.src_node != net_node || !rpc_from_tm(req->hdr.src_pid))
		return QS_EPERM;
	if (req->hdr.opcode == CM_OP_TX_MARK)
		rpc_mark(*tx);
	else
		rpc_unmark(*tx);
	return 0;
}

static int32_t
decode_delay(const qs_msg_t *req, void *args)
{
	const uint32_t *ms = (const uint32_t *)req->data;
	if (*ms > CM_DEFER_DELAY_MAX)
		return QS_EINVAL;
	memcpy(args, ms, sizeof(*ms));
	return 0;
}

/* The test hook for the race between an answer and its deferral. */
static int32_t
op_defer_delay(const qs_msg_t *req, const void *args, qs_msg_t *reply,
	       void *ctx)
{
	(void)req, (void)reply, (void)ctx;
	int32_t was = (int32_t)rpc_defer_delay_ms;
	__atomic_store_n(&rpc_defer_delay_ms, *(const uint32_t *)args,
			 __ATOMIC_RELAXED);
	return was;
}

/* A raw frame: the driver checks its length, and counts what it refuses
 * among its errors (cm_counters_t.errors), so the table does not. */
static int32_t
op_raw_send(const qs_msg_t *req, const void *args, qs_msg_t *reply,
	    void *ctx)
{
	(void)args, (void)reply, (void)ctx;
	return e1000_send(&nic, req->data, req->hdr.len);
}

static int32_t
op_raw_recv(const qs_msg_t *req, const void *args, qs_msg_t *reply,
	    void *ctx)
{
	(void)req, (void)args, (void)ctx;
	int r = net_raw_recv(reply->data, QS_MSG_INLINE);
	if (r < 0)
		return r;
	reply->hdr.len = (uint32_t)r;
	return 0;
}

/* Queue "cm". */
static const qs_op_t cm_ops[] = {
	[CM_OP_STATS] = { "stats", 0, 0, 0, NULL, op_stats },
	/* raw frames could forge the CMs' own packets: a right's */
	[CM_OP_RAW_SEND] = { "raw_send", 0, QS_MSG_INLINE, 0, NULL, op_raw_send,
			     QS_WHO_RIGHT(QS_RIGHT_RAW_NET) },
	[CM_OP_RAW_RECV] = { "raw_recv", 0, 0, 0, NULL, op_raw_recv,
			     QS_WHO_RIGHT(QS_RIGHT_RAW_NET) },
	[CM_OP_PING] = { "ping", QS_LEN(cm_ping_t), 0, decode_ping, op_ping },
	[CM_OP_NODES] = { "nodes", 0, 0, 0, NULL, op_nodes },
	[CM_OP_RPC_STATS] = { "rpc_stats", 0, 0, 0, NULL, op_rpc_stats },
	/* holds the CM for up to count round trips: a benchmark's */
	[CM_OP_UDP_ECHO] = { "udp_echo", QS_LEN(cm_udp_echo_t), 0,
			     decode_udp_echo, op_udp_echo,
			     QS_WHO_RIGHT(QS_RIGHT_ADMIN) },
	[CM_OP_TX_MARK] = { "tx_mark", QS_LEN(uint64_t), 0, decode_tx,
			    op_tx_mark },
	[CM_OP_TX_UNMARK] = { "tx_unmark", QS_LEN(uint64_t), 0, decode_tx,
			      op_tx_mark },
	[CM_OP_DEFER_DELAY] = { "defer_delay", QS_LEN(uint32_t), 0, decode_delay,
				op_defer_delay, QS_WHO_RIGHT(QS_RIGHT_ADMIN) },
};
static qs_server_t cm_server = QS_SERVER_LOCKED(CM_QUEUE, cm_ops, NULL,
						&net_lock);

int
main(void)
{
	if (e1000_init(&nic) < 0)
		return 1; /* it said why */
	/* A first look without waiting: is the IRQ line ours? */
	int r = e1000_intr(&nic, 0);
	if (r == QS_EPERM) {
		printf("cm: the e1000 interrupts on IRQ %d, which init did not "
		       "grant (grant irq %d)\n", nic.irq, nic.irq);
		return 1;
	}
	qs_node_info_t ni;
	qs_node_info(&ni);
	net_node = ni.node_id;
	uint8_t key[QS_NET_KEY_LEN];
	if ((r = qs_net_key(key)) != QS_NET_KEY_LEN || seal_init(key, r) < 0)
		printf("cm: no cluster key (%s): packets are not authenticated, "
		       "and nodes that have a key will not hear this one\n",
		       qs_strerror(r < 0 ? r : QS_EINVAL));
	memset(key, 0, sizeof(key));
	if ((r = net_init(&nic, ni.node_id)) < 0 ||
	    (r = member_start(ni.node_id, ni.incarnation)) < 0 ||
	    (r = rpc_start(ni.node_id, ni.incarnation)) < 0 ||
	    (r = udpecho_start()) < 0)
		return 1;
	const uint8_t *m = nic.mac;
	printf("cm: e1000 %02x:%02x:%02x:%02x:%02x:%02x irq %d link %s, "
	       "address 10.0.0.%u\n", m[0], m[1], m[2], m[3], m[4], m[5],
	       nic.irq, e1000_link_up(&nic) ? "up" : "down", ni.node_id + 1);
	int qid = qs_sq_create(CM_QUEUE, 0);
	if (qid < 0) {
		printf("cm: cannot create queue %s: %s\n", CM_QUEUE,
		       qs_strerror(qid));
		return 1;
	}
	net_qid = qs_sq_create(QS_NET_QUEUE, QS_SQ_DEPTH_MAX);
	if (net_qid < 0) {
		printf("cm: cannot become the network agent (%s): %s\n",
		       QS_NET_QUEUE, qs_strerror(net_qid));
		return 1;
	}
	if (!qs_thread_create(irq_loop, NULL) ||
	    !qs_thread_create(completion_loop, NULL) ||
	    !qs_thread_create(net_serve, NULL)) {
		printf("cm: cannot start its threads\n");
		return 1;
	}
	printf("cm: serving queue %s (qid %d), network agent\n", CM_QUEUE, qid);
	return qs_serve_table(qid, &cm_server, 1) < 0;
}
