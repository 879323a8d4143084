/*
 * txdemo: `txdemo commit|abort|hold [PARTICIPANT...]` begins a transaction,
 * opens a window under it, asks each named participant queue (see voteno)
 * to join it, and then commits it, aborts it, or holds it open until
 * killed (for `tx abort`). It prints the outcome.
 *
 * `txdemo exit|crash [PARTICIPANT...]` does the same under its default
 * transaction and then exits normally or faults: the TM commits or aborts
 * that transaction when the kernel reports the death.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/tx.h>
#include <qs/wm.h>
#include <qs/voteno.h>

static qs_msg_t req, reply;

static int
request(const char *queue, uint32_t op, const void *data, size_t len)
{
	int qid = qs_sq_lookup(queue);
	if (qid < 0)
		return qid;
	qs_msg_init(&req, op);
	qs_msg_put(&req, data, len);
	return qs_call(qid, &req, &reply, sizeof(reply));
}

static void
open_window(const char *id)
{
	char title[WM_TITLE_MAX];
	snprintf(title, sizeof(title), "txdemo %s", id);
	int r = request(WM_QUEUE, WM_OP_CREATE, title, strlen(title) + 1);
	const wm_created_t *w = QS_MSG_AS(&reply, wm_created_t);
	if (r < 0 || !w) {
		printf("txdemo: no window: %s\n", qs_strerror(r < 0 ? r : QS_EINVAL));
		return;
	}
	struct {
		wm_write_t h;
		char text[64];
	} wr = { { w->id }, "" };
	int n = snprintf(wr.text, sizeof(wr.text), "working under transaction %s", id);
	request(WM_QUEUE, WM_OP_WRITE, &wr, sizeof(wr.h) + (size_t)n + 1);
	printf("txdemo: window %d open\n", w->id);
}

int
main(int argc, char **argv)
{
	uint64_t tx;
	char id[QS_TX_TEXT];
	const char *how = argc > 1 ? argv[1] : "";
	bool dies = strcmp(how, "exit") == 0 || strcmp(how, "crash") == 0;
	if (strcmp(how, "commit") && strcmp(how, "abort") && strcmp(how, "hold") &&
	    !dies) {
		printf("usage: txdemo commit|abort|hold|exit|crash [PARTICIPANT...]\n");
		return 2;
	}
	int r = dies ? 0 : qs_tx_begin(&tx);
	if (r < 0) {
		printf("txdemo: cannot begin: %s\n", qs_strerror(r));
		return 1;
	}
	if (dies)
		tx = qs_tx_current();
	printf("txdemo: tx %s %s\n", qs_tx_format(tx, id), dies ? "(default)" : "begun");
	open_window(id);
	for (int i = 2; i < argc; i++) {
		r = request(argv[i], VOTENO_OP_JOIN, NULL, 0);
		printf("txdemo: %s joined: %s\n", argv[i], qs_strerror(r));
	}
	if (dies) {
		printf("txdemo: %s\n", how);
		if (how[0] == 'c')
			*(volatile int *)0 = 1;
		return 0;
	}
	if (strcmp(how, "hold") == 0) {
		printf("txdemo: holding tx %s\n", id);
		for (;;)
			qs_sleep(60000);
	}
	r = strcmp(how, "commit") == 0 ? qs_tx_commit(tx) : qs_tx_abort(tx);
	if (r == 0)
		printf("txdemo: tx %s %s\n", id, how[0] == 'c' ? "committed" : "aborted");
	else
		printf("txdemo: tx %s: %s\n", id, qs_strerror(r));
	return r == 0 || r == QS_EABORTED ? 0 : 1;
}
