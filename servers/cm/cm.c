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
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/thread.h>
#include "e1000.h"
#include "member.h"
#include "net.h"
#include "rpc.h"
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

/* What the kernel hands the agent: lookups, and requests on proxies. */
static int32_t
net_handle(const qs_msg_t *req, qs_msg_t *reply, void *ctx)
{
	uint32_t node, inc, rqid;
	int32_t r;
	(void)ctx;
	qs_mutex_lock(&net_lock);
	if ((int)req->hdr.qid == net_qid) {
		r = req->hdr.opcode == QS_NOTICE_LOOKUP ? names_lookup(req)
							: QS_EINVAL;
	} else if (names_proxy((int)req->hdr.qid, &node, &inc, &rqid) < 0) {
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

static void *
net_serve(void *arg)
{
	(void)arg;
	return (void *)qs_serve(net_qid, net_handle, NULL, NET_THREADS);
}

static int32_t
op_stats(const qs_msg_t *req, qs_msg_t *reply)
{
	cm_stats_t s;
	if (req->hdr.len || req->hdr.ool_len)
		return QS_EINVAL;
	memset(&s, 0, sizeof(s));
	s.c = nic.c;
	memcpy(s.mac, nic.mac, sizeof(s.mac));
	s.link = e1000_link_up(&nic);
	s.irq = (uint8_t)nic.irq;
	qs_mutex_lock(&net_lock);
	net_stats(&s);
	qs_mutex_unlock(&net_lock);
	qs_msg_put(reply, &s, sizeof(s));
	return 0;
}

static int32_t
op_ping(const qs_msg_t *req)
{
	const cm_ping_t *p = QS_MSG_AS(req, cm_ping_t);
	if (!p || req->hdr.len != sizeof(*p) || p->seq == 0 || p->seq > 0xFFFF)
		return QS_EINVAL;
	qs_mutex_lock(&net_lock);
	int r = net_ping(&net_lock, p->node, (uint16_t)p->seq, PING_MS);
	qs_mutex_unlock(&net_lock);
	return r;
}

static int32_t
op_nodes(qs_msg_t *reply)
{
	cm_nodes_t *l = (cm_nodes_t *)reply->data;
	uint32_t max = (QS_MSG_INLINE - sizeof(*l)) / sizeof(cm_node_t);
	qs_mutex_lock(&net_lock);
	l->count = member_list(l->node, max, &l->bad_packets);
	qs_mutex_unlock(&net_lock);
	reply->hdr.len = sizeof(*l) + l->count * sizeof(cm_node_t);
	return 0;
}

static int32_t
op_rpc_stats(qs_msg_t *reply)
{
	cm_rpc_stats_t s;
	qs_mutex_lock(&net_lock);
	rpc_stats(&s);
	qs_mutex_unlock(&net_lock);
	qs_msg_put(reply, &s, sizeof(s));
	return 0;
}

static int32_t
op_udp_echo(const qs_msg_t *req, qs_msg_t *reply)
{
	const cm_udp_echo_t *a = QS_MSG_AS(req, cm_udp_echo_t);
	cm_udp_echo_result_t res;
	if (!a || req->hdr.len != sizeof(*a) || req->hdr.ool_len)
		return QS_EINVAL;
	qs_mutex_lock(&net_lock);
	int r = udpecho_run(&net_lock, a, &res);
	qs_mutex_unlock(&net_lock);
	if (r == 0)
		qs_msg_put(reply, &res, sizeof(res));
	return r;
}

/* The TM: tx has a recoverable participant here (see rpc_mark), or has
 * ended here (its mark goes). */
static int32_t
op_tx_mark(const qs_msg_t *req, bool mark)
{
	const uint64_t *tx = QS_MSG_AS(req, uint64_t);
	if (!tx || req->hdr.len != sizeof(*tx) || !*tx)
		return QS_EINVAL;
	qs_mutex_lock(&net_lock);
	int r = req->hdr.src_node == net_node && rpc_from_tm(req->hdr.src_pid)
			? 0 : QS_EPERM;
	if (r == 0 && mark)
		rpc_mark(*tx);
	else if (r == 0)
		rpc_unmark(*tx);
	qs_mutex_unlock(&net_lock);
	return r;
}

static int32_t
handle(const qs_msg_t *req, qs_msg_t *reply, void *ctx)
{
	(void)ctx;
	int r;
	switch (req->hdr.opcode) {
	case CM_OP_STATS:
		return op_stats(req, reply);
	case CM_OP_PING:
		return op_ping(req);
	case CM_OP_NODES:
		return req->hdr.len ? QS_EINVAL : op_nodes(reply);
	case CM_OP_RPC_STATS:
		return req->hdr.len ? QS_EINVAL : op_rpc_stats(reply);
	case CM_OP_UDP_ECHO:
		return op_udp_echo(req, reply);
	case CM_OP_TX_MARK:
		return op_tx_mark(req, true);
	case CM_OP_TX_UNMARK:
		return op_tx_mark(req, false);
	case CM_OP_RAW_SEND:
		if (req->hdr.ool_len)
			return QS_EINVAL;
		qs_mutex_lock(&net_lock);
		r = e1000_send(&nic, req->data, req->hdr.len);
		qs_mutex_unlock(&net_lock);
		return r;
	case CM_OP_RAW_RECV:
		if (req->hdr.len || req->hdr.ool_len)
			return QS_EINVAL;
		qs_mutex_lock(&net_lock);
		r = net_raw_recv(reply->data, QS_MSG_INLINE);
		qs_mutex_unlock(&net_lock);
		if (r < 0)
			return r;
		reply->hdr.len = (uint32_t)r;
		return 0;
	}
	return QS_EINVAL;
}

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
	return qs_serve(qid, handle, NULL, 1) < 0;
}
