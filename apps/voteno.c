/*
 * voteno, a recoverable participant for tests: `voteno [MODE [QUEUE]]`
 * serves QUEUE (default "voteno"); a request there joins the sender's
 * transaction as a recoverable participant, which then votes as MODE says:
 * no (the default), yes, readonly, or silent (never answers the prepare);
 * or, with abort, it aborts the transaction as soon as it has joined it.
 * It prints each notice it gets.
 */
#include <stdio.h>
#include <string.h>
#include <qs/serve.h>
#include <qs/sys.h>
#include <qs/tx.h>
#include <qs/voteno.h>

static const char *name = VOTENO_QUEUE;
static int vote = QS_VOTE_NO;
static int silent, aborts;

static int
prepare(uint64_t tx, void *arg)
{
	static const char *const says[] = { "yes", "no", "read-only" };
	char b[QS_TX_TEXT];
	(void)arg;
	if (silent) {
		printf("%s: tx %s prepare: not answering\n", name, qs_tx_format(tx, b));
		for (;;)
			qs_sleep(60000);
	}
	printf("%s: tx %s prepare: vote %s\n", name, qs_tx_format(tx, b), says[vote]);
	return vote;
}

static void
end(uint64_t tx, int outcome, void *arg)
{
	char b[QS_TX_TEXT];
	(void)arg;
	printf("%s: tx %s %s\n", name, qs_tx_format(tx, b),
	       outcome == QS_TX_COMMITTED ? "committed" : "aborted");
}

static const qs_tx_ops_t ops = { prepare, end, NULL };

static int32_t
do_join(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	char b[QS_TX_TEXT];
	(void)args, (void)reply, (void)ctx;
	int r = qs_tx_join(req->hdr.txid, QS_TX_RECOVERABLE, &ops);
	printf("%s: joined tx %s: %s\n", name, qs_tx_format(req->hdr.txid, b),
	       qs_strerror(r));
	if (r == 0 && aborts) {
		r = qs_tx_abort(req->hdr.txid);
		printf("%s: abort tx %s: %s\n", name, b, qs_strerror(r));
	}
	return r;
}

/* The one request carries nothing but its header (its transaction). */
static const qs_op_t join_ops[] = {
	[VOTENO_OP_JOIN] = { "join", 0, 0, 0, NULL, do_join },
};
static qs_server_t server = QS_SERVER("voteno", join_ops, NULL);

int
main(int argc, char **argv)
{
	static const char *const modes[] = { "yes", "no", "readonly" };
	if (argc > 1) {
		vote = -1;
		for (int i = 0; i < 3; i++)
			if (strcmp(argv[1], modes[i]) == 0)
				vote = i;
		silent = strcmp(argv[1], "silent") == 0;
		aborts = strcmp(argv[1], "abort") == 0;
		if (aborts)
			vote = QS_VOTE_NO; /* should it ever be asked */
		if (vote < 0 && !silent && !aborts) {
			printf("usage: voteno [no|yes|readonly|silent|abort] [QUEUE]\n");
			return 2;
		}
	}
	if (argc > 2)
		name = argv[2];
	int qid = qs_sq_create(name, 0);
	if (qid < 0) {
		printf("%s: cannot create queue: %s\n", name, qs_strerror(qid));
		return 1;
	}
	printf("%s: serving, votes %s\n", name,
	       silent || aborts ? "never" : modes[vote]);
	return qs_serve_table(qid, &server, 2) < 0;
}
