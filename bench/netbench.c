/*
 * Network benchmarks, run by `make bench` on two nodes booted together
 * with bench-net.conf under QEMU's -icount shift=0 on a vde LAN (tools/bin/qsnet
 * up --icount). On node 0 it waits for node 1's echo server, then prints
 * "bench: METRIC VALUE" lines: a remote null round trip (qs_call on
 * echo@1), the raw lwIP UDP echo the CM times itself (CM_OP_UDP_ECHO), and
 * pipelined remote requests; then powers node 0 off. On other nodes it
 * does nothing: they only serve.
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
#define WARMUP 200
#define ROUNDS 2000
#define ASYNC_REQUESTS 2000
#define ASYNC_WINDOW 64
#define LOOKUP_TRIES 240 /* half a second apart: node 1 boots meanwhile */

static uint32_t samples[ROUNDS];
static qs_msg_t req, reply;
static int errors;

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
 * goes out as soon as an answer comes in. */
static uint32_t
remote_async(int qid)
{
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
	return (uint32_t)((qs_rdtsc() - t0) / ASYNC_REQUESTS);
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
	int qid = -1, cm;

	qs_node_info(&ni);
	if (ni.node_id != 0)
		return 0;
	snprintf(peer, sizeof(peer), "%s@%d", ECHO_QUEUE, PEER);
	for (int i = 0; i < LOOKUP_TRIES && (qid = qs_sq_lookup(peer)) < 0; i++)
		qs_sleep(500);
	if (qid < 0 || (cm = qs_sq_lookup(CM_QUEUE)) < 0) {
		printf("bench: no %s: %s\n", qid < 0 ? peer : CM_QUEUE,
		       qs_strerror(qid < 0 ? qid : cm));
		bench_halt();
	}
	uint32_t rtx = retransmits(cm);
	printf("bench: net.remote_rtt.instr %u\n", remote_rtt(qid));
	cm_udp_echo_result_t u;
	int r = udp_echo(cm, &u);
	if (r < 0) {
		printf("bench: UDP echo to node %d: %s\n", PEER, qs_strerror(r));
		bench_halt();
	}
	printf("bench: net.udp_echo_rtt.instr %u\n", u.median);
	printf("bench: net.udp_echo.lost %u\n", u.lost);
	printf("bench: net.remote_async.instr_per_req %u\n", remote_async(qid));
	printf("bench: net.remote.errors %d\n", errors);
	printf("bench: net.remote.retransmits %u\n", retransmits(cm) - rtx);
	printf("bench: done\n");
	bench_halt();
}
