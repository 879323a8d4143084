/*
 * Network benchmarks, run by `make bench` on two nodes booted together
 * with bench-net.conf under QEMU's -icount shift=0 on a vde LAN (tools/bin/qsnet
 * up --icount). On node 0 it waits for node 1's echo server, then prints
 * "bench: METRIC VALUE" lines: a remote null round trip (qs_call on
 * echo@1), the raw lwIP UDP echo the CM times itself (CM_OP_UDP_ECHO), and
 * pipelined remote requests, with the instructions each takes on either
 * node; then powers node 0 off. On node 1 it serves "netbench", which
 * answers with its node's counters (busy_t), so that node 0 can tell what
 * the pipelined requests cost there too.
 *
 * Under icount a halted CPU lets the virtual clock, and so rdtsc, run on
 * in real time (QEMU's default sleep=on): whatever a round trip waits for
 * the other QEMU and vde_switch is in these figures, which are therefore
 * not exactly repeatable like the one-node ones: hence medians.
 */
#include <stdio.h>
#include <string.h>
#include <qs/cm.h>
#include <qs/cpu.h>
#include <qs/echo.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include "halt.h"
#include "median.h"

#define PEER 1
#define BUSY_QUEUE "netbench"
#define WARMUP 200
#define ROUNDS 2000
#define ASYNC_REQUESTS 2000
#define ASYNC_WINDOW 64
#define LOOKUP_TRIES 240 /* half a second apart: node 1 boots meanwhile */

static qs_msg_t req, reply;
static int errors;

/* A node's instructions so far: under -icount rdtsc counts instructions
 * while the CPU runs, and the kernel counts the ticks it spent halted. */
typedef struct {
	uint64_t tsc, idle;
} busy_t;

static busy_t
busy_here(void)
{
	qs_node_info_t ni = { 0 };
	uint64_t tsc = qs_rdtsc();
	qs_node_info(&ni);
	return (busy_t){ tsc, ni.idle_tsc };
}

static uint64_t
busy_since(busy_t a, busy_t b)
{
	return (b.tsc - a.tsc) - (b.idle - a.idle);
}

static int32_t
serve_busy(const qs_msg_t *rq, qs_msg_t *rp, void *ctx)
{
	(void)rq, (void)ctx;
	busy_t b = busy_here();
	qs_msg_put(rp, &b, sizeof(b));
	return 0;
}

/* node 1's counters, asked over the network */
static busy_t
busy_there(int qid)
{
	busy_t b = { 0, 0 };
	qs_msg_init(&req, 0);
	const busy_t *p;
	if (qs_call(qid, &req, &reply, sizeof(reply)) < 0 ||
	    !(p = QS_MSG_AS(&reply, busy_t)))
		errors++;
	else
		b = *p;
	return b;
}

static uint32_t samples[ROUNDS];

static void
call(int qid)
{
	if (qs_call(qid, &req, &reply, sizeof(reply)) < 0)
		errors++;
}

/* Median instructions of one null remote round trip. */
static uint32_t
remote_rtt(int qid)
{
	qs_msg_init(&req, ECHO_OP_ECHO);
	for (int i = 0; i < WARMUP; i++)
		call(qid);
	for (int i = 0; i < ROUNDS; i++) {
		uint64_t t0 = qs_rdtsc();
		call(qid);
		samples[i] = (uint32_t)(qs_rdtsc() - t0);
	}
	return median(samples, ROUNDS);
}

/* Instructions per request with up to ASYNC_WINDOW in flight: a new one
 * goes out as soon as an answer comes in; *here and *there get what each
 * request took on this node and on the serving one (peer: its netbench). */
static uint32_t
remote_async(int qid, int peer, uint32_t *here, uint32_t *there)
{
	busy_t h0 = busy_here(), p0 = busy_there(peer);
	int sent = 0, done = 0;
	qs_msg_init(&req, ECHO_OP_ECHO);
	uint64_t t0 = qs_rdtsc();
	while (done < ASYNC_REQUESTS) {
		while (sent < ASYNC_REQUESTS && sent - done < ASYNC_WINDOW) {
			if (qs_send(qid, &req) < 0)
				errors++, done++; /* never in flight */
			sent++;
		}
		if (done == sent)
			continue;
		if (qs_wait(0, &reply, sizeof(reply), -1) < 0 ||
		    reply.hdr.status < 0)
			errors++;
		done++;
	}
	uint64_t elapsed = qs_rdtsc() - t0;
	busy_t h1 = busy_here(), p1 = busy_there(peer);
	*here = (uint32_t)(busy_since(h0, h1) / ASYNC_REQUESTS);
	*there = (uint32_t)(busy_since(p0, p1) / ASYNC_REQUESTS);
	return (uint32_t)(elapsed / ASYNC_REQUESTS);
}

static int
udp_echo(int cm, cm_udp_echo_result_t *res)
{
	cm_udp_echo_t a = { PEER, ROUNDS };
	qs_msg_init(&req, CM_OP_UDP_ECHO);
	qs_msg_put(&req, &a, sizeof(a));
	int r = qs_call(cm, &req, &reply, sizeof(reply));
	const cm_udp_echo_result_t *p = QS_MSG_AS(&reply, cm_udp_echo_result_t);
	if (r < 0 || !p)
		return r < 0 ? r : QS_EINVAL;
	*res = *p;
	return 0;
}

static uint32_t
retransmits(int cm)
{
	const cm_rpc_stats_t *s;
	qs_msg_init(&req, CM_OP_RPC_STATS);
	if (qs_call(cm, &req, &reply, sizeof(reply)) < 0 ||
	    !(s = QS_MSG_AS(&reply, cm_rpc_stats_t)))
		return 0;
	return s->retransmits + s->busy;
}

int
main(void)
{
	qs_node_info_t ni;
	char peer[QS_NAME_MAX];
	int qid = -1, cm = -1;

	qs_node_info(&ni);
	if (ni.node_id != 0) {
		int own = qs_sq_create(BUSY_QUEUE, 0);
		return own < 0 || qs_serve(own, serve_busy, NULL, 1) < 0;
	}
	int busy = -1;
	snprintf(peer, sizeof(peer), "%s@%d", ECHO_QUEUE, PEER);
	for (int i = 0; i < LOOKUP_TRIES && (qid = qs_sq_lookup(peer)) < 0; i++)
		qs_sleep(500);
	snprintf(peer, sizeof(peer), "%s@%d", BUSY_QUEUE, PEER);
	for (int i = 0; i < LOOKUP_TRIES && (busy = qs_sq_lookup(peer)) < 0; i++)
		qs_sleep(500);
	if (qid < 0 || busy < 0 || (cm = qs_sq_lookup(CM_QUEUE)) < 0) {
		int err = qid < 0 ? qid : busy < 0 ? busy : cm;
		printf("bench: no %s: %s\n", qid < 0 ? ECHO_QUEUE : busy < 0
		       ? BUSY_QUEUE : CM_QUEUE, qs_strerror(err));
		bench_halt();
	}
	uint32_t rtx = retransmits(cm);
	busy_t h0 = busy_here(), p0 = busy_there(busy);
	printf("bench: net.remote_rtt.instr %u\n", remote_rtt(qid));
	busy_t h1 = busy_here(), p1 = busy_there(busy);
	cm_udp_echo_result_t u;
	int r = udp_echo(cm, &u);
	if (r < 0) {
		printf("bench: UDP echo to node %d: %s\n", PEER, qs_strerror(r));
		bench_halt();
	}
	busy_t h2 = busy_here(), p2 = busy_there(busy);
	/* what each round trip ran on either node (the warm-up's included) */
	printf("bench: net.remote_rtt.client_node_instr %u\n",
	       (uint32_t)(busy_since(h0, h1) / (WARMUP + ROUNDS)));
	printf("bench: net.remote_rtt.server_node_instr %u\n",
	       (uint32_t)(busy_since(p0, p1) / (WARMUP + ROUNDS)));
	printf("bench: net.udp_echo_rtt.instr %u\n", u.median);
	printf("bench: net.udp_echo.client_node_instr %u\n",
	       (uint32_t)(busy_since(h1, h2) / ROUNDS));
	printf("bench: net.udp_echo.server_node_instr %u\n",
	       (uint32_t)(busy_since(p1, p2) / ROUNDS));
	printf("bench: net.udp_echo.lost %u\n", u.lost);
	uint32_t here, there;
	printf("bench: net.remote_async.instr_per_req %u\n",
	       remote_async(qid, busy, &here, &there));
	printf("bench: net.remote_async.client_node_instr_per_req %u\n", here);
	printf("bench: net.remote_async.server_node_instr_per_req %u\n", there);
	printf("bench: net.remote.errors %d\n", errors);
	printf("bench: net.remote.retransmits %u\n", retransmits(cm) - rtx);
	printf("bench: done\n");
	bench_halt();
}
