/*
 * IPC benchmarks, run by `make bench` on a node booted with bench.conf under
 * QEMU's -icount shift=0, where rdtsc counts executed guest instructions.
 * A second process ("bench serve") answers on queue "bench", so every round
 * trip crosses the kernel and two address spaces both ways. Prints
 * "bench: METRIC VALUE" lines, runs tmbench (the TM's benchmarks), then
 * powers the node off.
 *
 * "bench profile" (bench-profile.conf, booted by tools/bin/qsprof) makes
 * one null round trip and one of 4 KiB, each between prof_begin and
 * prof_end, which the profiler steps through instruction by instruction.
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

/* For tools/bin/qsprof: it breaks at prof_begin where prof_magic holds
 * PROF_MAGIC (in this program, not another at the same address), steps to
 * prof_end, and tells the windows apart by prof_len. */
#define PROF_MAGIC 0x51505246u
volatile uint32_t prof_magic;
volatile uint32_t prof_len;

__attribute__((noinline)) void
prof_begin(void)
{
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void
prof_end(void)
{
	__asm__ volatile("" ::: "memory");
}

static void
profile(int qid)
{
	static const uint32_t lens[] = { 0, 4096 };
	qs_msg_init(&req, 1);
	for (int i = 0; i < 100; i++) /* warm up, as median_rtt does */
		qs_call(qid, &req, &reply, sizeof(reply));
	prof_magic = PROF_MAGIC;
	for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		req.hdr.len = lens[i];
		qs_call(qid, &req, &reply, sizeof(reply)); /* warm for this size */
		prof_len = lens[i];
		prof_begin();
		qs_call(qid, &req, &reply, sizeof(reply));
		prof_end();
	}
	prof_magic = 0;
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
	if (argc > 1 && strcmp(argv[1], "profile") == 0) {
		profile(qid);
		qs_kill(server);
		printf("bench: done\n");
		bench_halt();
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
