/*
 * IPC benchmarks, run by `make bench` on a node booted with bench.conf under
 * QEMU's -icount shift=0, where rdtsc counts executed guest instructions.
 * A second process ("bench serve") answers on queue "bench", so every round
 * trip crosses the kernel and two address spaces both ways. Prints
 * "bench: METRIC VALUE" lines, runs tmbench (the TM's benchmarks), then
 * powers the node off.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/cpu.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include "halt.h"
#include "median.h"

#define ROUNDS 10000
#define ASYNC_BATCH 64
#define ASYNC_REQUESTS 6400

static uint32_t samples[ROUNDS];
static qs_msg_t req, reply;

static int32_t
null_handler(const qs_msg_t *rq, qs_msg_t *rp, void *ctx)
{
	(void)rq, (void)rp, (void)ctx;
	return 0;
}


/* Median instructions of one synchronous round trip with `len` bytes. */
static uint32_t
median_rtt(int qid, uint32_t len)
{
	qs_msg_init(&req, 1);
	req.hdr.len = len;
	for (int i = 0; i < 100; i++) /* warm up */
		qs_call(qid, &req, &reply, sizeof(reply));
	for (int i = 0; i < ROUNDS; i++) {
		uint64_t t0 = qs_rdtsc();
		qs_call(qid, &req, &reply, sizeof(reply));
		samples[i] = (uint32_t)(qs_rdtsc() - t0);
	}
	return median(samples, ROUNDS);
}

/* Instructions per request with ASYNC_BATCH requests in flight. */
static uint32_t
async_per_request(int qid)
{
	qs_msg_init(&req, 1);
	uint64_t t0 = qs_rdtsc();
	for (int done = 0; done < ASYNC_REQUESTS; done += ASYNC_BATCH) {
		for (int i = 0; i < ASYNC_BATCH; i++)
			qs_send(qid, &req);
		for (int i = 0; i < ASYNC_BATCH; i++)
			qs_wait(0, &reply, sizeof(reply), -1);
	}
	return (uint32_t)((qs_rdtsc() - t0) / ASYNC_REQUESTS);
}

static int
serve(void)
{
	int qid = qs_sq_create("bench", QS_SQ_DEPTH_MAX);
	if (qid < 0) {
		printf("bench: cannot create the queue: %s\n", qs_strerror(qid));
		return 1;
	}
	return qs_serve(qid, null_handler, NULL, 1) < 0;
}

int
main(int argc, char **argv)
{
	const char *serve_args[] = { "serve", NULL };
	int qid;

	if (argc > 1 && strcmp(argv[1], "serve") == 0)
		return serve();
	int server = qs_spawn("bench", serve_args, 0);
	while ((qid = qs_sq_lookup("bench")) < 0 && server > 0)
		qs_yield(); /* until the server has made its queue */
	if (server < 0) {
		printf("bench: cannot start the server: %s\n", qs_strerror(server));
		return 1;
	}
	printf("bench: ipc.null_rtt.instr %u\n", median_rtt(qid, 0));
	printf("bench: ipc.async.instr_per_req %u\n", async_per_request(qid));
	printf("bench: ipc.rtt_4k.instr %u\n", median_rtt(qid, 4096));
	qs_kill(server);
	const char *none[] = { NULL };
	int tm = qs_spawn("tmbench", none, 0);
	if (tm > 0)
		qs_waitpid(tm, NULL, 0);
	printf("bench: done\n");
	bench_halt();
}
