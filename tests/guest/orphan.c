/*
 * orphan: both sides of the orphan-computation test (Argus's orphans;
 * tests/system/test_orphan_work.py).
 *
 *   orphan serve        serves queue "orphan": each request's handler loops
 *                       under the request's transaction, calling the echo
 *                       server of its node each turn, until qs_tx_alive or
 *                       a call says that the transaction aborted (or
 *                       LOOP_MS passed); then it prints what stopped it:
 *                       "orphan: stopped after N calls: alive: E; call: E"
 *                       Or (op 2, "block") calls queue "orphan.sink",
 *                       which nobody serves, and prints what ended the
 *                       call: "orphan: blocked call ended: E"
 *   orphan call QUEUE [block]
 *                       begins a transaction, sends one request (op 1, or
 *                       2) to QUEUE under it ("orphan: sent under tx T"),
 *                       and waits to be killed: its transaction aborts
 *                       then, on every node it reached
 */
#include <stdio.h>
#include <string.h>
#include <qs/echo.h>
#include <qs/serve.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/tx.h>

#define QUEUE "orphan"
#define LOOP_MS (10 * 60 * 1000)

static int32_t
do_loop(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)args, (void)reply, (void)ctx;
	static qs_msg_t m, r;
	char txt[QS_TX_TEXT];
	uint32_t calls = 0, t0 = qs_uptime_ms();
	int call = 0, alive = 0, qid = qs_sq_lookup(ECHO_QUEUE);
	printf("orphan: looping under tx %s\n",
	       qs_tx_format(req->hdr.txid, txt));
	while (qid >= 0 && qs_uptime_ms() - t0 < LOOP_MS) {
		if ((alive = qs_tx_alive()) < 0)
			break;
		qs_msg_init(&m, ECHO_OP_ECHO);
		qs_msg_put(&m, "turn", 4);
		if ((call = qs_call(qid, &m, &r, sizeof(r))) < 0)
			break;
		calls++;
	}
	/* whichever noticed first, both say so now */
	alive = qs_tx_alive();
	qs_msg_init(&m, ECHO_OP_ECHO);
	call = qid < 0 ? qid : qs_call(qid, &m, &r, sizeof(r));
	printf("orphan: stopped after %u calls: alive: %s; call: %s\n", calls,
	       qs_strerror(alive), qs_strerror(call));
	return 0;
}

static int sink = -1; /* a queue nobody serves */

static int32_t
do_block(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)args, (void)reply, (void)ctx;
	static qs_msg_t m, r;
	char txt[QS_TX_TEXT];
	printf("orphan: blocking under tx %s\n",
	       qs_tx_format(req->hdr.txid, txt));
	qs_msg_init(&m, 1);
	int call = qs_call(sink, &m, &r, sizeof(r));
	printf("orphan: blocked call ended: %s\n", qs_strerror(call));
	return 0;
}

static const qs_op_t ops[] = {
	[1] = { "loop", 0, 0, 0, NULL, do_loop },
	[2] = { "block", 0, 0, 0, NULL, do_block },
};
static qs_server_t server = QS_SERVER(QUEUE, ops, NULL);

static int
caller(const char *queue, uint32_t op)
{
	static qs_msg_t m;
	char txt[QS_TX_TEXT];
	uint64_t tx;
	int qid = qs_sq_lookup(queue);
	if (qid < 0 || qs_tx_begin(&tx) < 0) {
		printf("orphan: no queue %s, or no transaction\n", queue);
		return 1;
	}
	qs_msg_init(&m, op);
	int rid = qs_send(qid, &m);
	if (rid < 0) {
		printf("orphan: send: %s\n", qs_strerror(rid));
		return 1;
	}
	printf("orphan: sent under tx %s\n", qs_tx_format(tx, txt));
	for (;;)
		qs_sleep(60000);
}

int
main(int argc, char **argv)
{
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "call") == 0 &&
	    (argc == 3 || strcmp(argv[3], "block") == 0))
		return caller(argv[2], argc == 4 ? 2 : 1);
	if (argc != 2 || strcmp(argv[1], "serve") != 0) {
		printf("usage: orphan serve | call QUEUE [block]\n");
		return 2;
	}
	int qid = qs_sq_create(QUEUE, 0);
	if (qid >= 0 && (sink = qs_sq_create(QUEUE ".sink", 0)) < 0)
		qid = sink;
	if (qid < 0) {
		printf("orphan: cannot create %s: %s\n", QUEUE,
		       qs_strerror(qid));
		return 1;
	}
	printf("orphan: serving %s\n", QUEUE);
	return qs_serve_table(qid, &server, 2) < 0;
}
