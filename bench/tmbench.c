/*
 * Transaction benchmarks, started by `bench` (make bench, -icount shift=0:
 * rdtsc counts guest instructions). A participant process ("tmbench part")
 * joins the transactions it is asked to; victims ("tmbench victim") leave a
 * breadcrumb there and are killed. Prints "bench: METRIC VALUE" lines:
 *   tm.commit_1pc.instr/msgs  commit with one volatile participant
 *   tm.commit_2pc.instr/msgs  commit with one recoverable participant
 *   tm.cleanup_local.instr    from a kill to its last breadcrumb freed
 * Messages are counted as requests completed on all queues during commit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/cpu.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include "median.h"
#include <qs/tx.h>

#define QUEUE "tmbench"
#define ROUNDS 200
#define KILLS 30

enum { OP_JOIN = 1, OP_CRUMB = 2, OP_CRUMBS = 3, OP_CLEANED_AT = 4 };

static uint32_t samples[ROUNDS];
static qs_msg_t req, reply;
static volatile uint64_t cleaned_at;

/* ---- the participant ---------------------------------------------------- */

static void
cleaned(void *obj, uint64_t tx, int outcome)
{
	(void)obj, (void)tx, (void)outcome;
	cleaned_at = qs_rdtsc();
}

static int32_t
part_handler(const qs_msg_t *rq, qs_msg_t *rp, void *ctx)
{
	const int32_t *cls = QS_MSG_AS(rq, int32_t);
	uint64_t at;
	int32_t n;
	(void)ctx;
	switch (rq->hdr.opcode) {
	case OP_JOIN:
		return cls ? qs_tx_join(rq->hdr.txid, *cls, NULL) : QS_EINVAL;
	case OP_CRUMB:
		return crumb_add(rq->hdr.txid, cleaned, NULL);
	case OP_CRUMBS:
		n = crumb_count();
		return qs_msg_put(rp, &n, sizeof(n));
	case OP_CLEANED_AT:
		at = cleaned_at;
		cleaned_at = 0;
		return qs_msg_put(rp, &at, sizeof(at));
	default:
		return QS_EINVAL;
	}
}

static int
participant(void)
{
	int qid = qs_sq_create(QUEUE, 0);
	return qid < 0 || qs_serve(qid, part_handler, NULL, 1) < 0;
}

/* ---- the client --------------------------------------------------------- */

static int
call(int qid, uint32_t op, const void *data, size_t len)
{
	qs_msg_init(&req, op);
	qs_msg_put(&req, data, len);
	return qs_call(qid, &req, &reply, sizeof(reply));
}

static uint32_t
messages(void)
{
	static qs_sq_info_t qs[64];
	uint32_t sum = 0;
	int n = qs_sq_list(qs, 64);
	for (int i = 0; i < n; i++)
		sum += qs[i].completed;
	return sum;
}



/* Median instructions of a commit with one participant of class cls. */
static void
commit_bench(int qid, int32_t cls, const char *name)
{
	uint32_t msgs = 0;
	for (int i = 0; i < ROUNDS; i++) {
		uint64_t tx;
		qs_tx_begin(&tx);
		call(qid, OP_JOIN, &cls, sizeof(cls));
		uint32_t m0 = messages();
		uint64_t t0 = qs_rdtsc();
		int r = qs_tx_commit(tx);
		samples[i] = (uint32_t)(qs_rdtsc() - t0);
		msgs += messages() - m0;
		if (r < 0)
			printf("bench: %s commit failed: %s\n", name, qs_strerror(r));
	}
	printf("bench: tm.%s.instr %u\n", name, median(samples, ROUNDS));
	printf("bench: tm.%s.msgs %u\n", name, msgs / ROUNDS);
}

static int32_t
ask(int qid, uint32_t op, void *out, size_t len)
{
	call(qid, op, NULL, 0);
	if (reply.hdr.len != len)
		return QS_EINVAL;
	memcpy(out, reply.data, len);
	return 0;
}

/* A victim leaves a breadcrumb, is killed; when did the cleanup run? */
static void
cleanup_bench(int qid)
{
	const char *victim[] = { "victim", NULL };
	for (int i = 0; i < KILLS; i++) {
		int pid = qs_spawn("tmbench", victim, 0), n = 0;
		uint64_t at = 0;
		while (ask(qid, OP_CRUMBS, &n, sizeof(n)) == 0 && n == 0) {
			if (qs_waitpid(pid, NULL, QS_WAIT_NOHANG) != 0) {
				printf("bench: the victim died early\n");
				return;
			}
			qs_yield(); /* until the victim's breadcrumb is there */
		}
		uint64_t t0 = qs_rdtsc();
		qs_kill(pid);
		while (ask(qid, OP_CLEANED_AT, &at, sizeof(at)) == 0 && !at)
			qs_yield();
		samples[i] = (uint32_t)(at - t0);
		qs_waitpid(pid, NULL, 0);
	}
	printf("bench: tm.cleanup_local.instr %u\n", median(samples, KILLS));
}

int
main(int argc, char **argv)
{
	const char *part_args[] = { "part", NULL };
	int qid;

	if (argc > 1 && strcmp(argv[1], "part") == 0)
		return participant();
	if (argc > 1 && strcmp(argv[1], "victim") == 0) {
		call(qs_sq_lookup(QUEUE), OP_CRUMB, NULL, 0);
		for (;;)
			qs_sleep(60000);
	}
	int part = qs_spawn("tmbench", part_args, 0);
	while ((qid = qs_sq_lookup(QUEUE)) < 0 && part > 0)
		qs_yield();
	if (part < 0 || qs_sq_lookup("tm") < 0) {
		printf("bench: tmbench needs the TM and its participant\n");
		return 1;
	}
	commit_bench(qid, QS_TX_VOLATILE, "commit_1pc");
	commit_bench(qid, QS_TX_RECOVERABLE, "commit_2pc");
	cleanup_bench(qid);
	qs_kill(part);
	qs_waitpid(part, NULL, 0);
	return 0;
}
