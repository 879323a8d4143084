/*
 * chain: the distributed-transaction demo. A client writes a file on one
 * node's file server, which logs every operation in a window on another
 * node's window manager, all under the client's transaction.
 *
 *   chain [-f FSQUEUE] [-also FSQUEUE] [-w WMQUEUE] [-n OPS] [-r ROUNDS]
 *         [-slots K] [-hold] [-abort] [-wait MS] [-delegate NODE] DIR
 *
 * Defaults: -f fs@1 -w wm@2 -n 3 -r 1. It makes DIR first if missing (in a
 * transaction of its own). Each round begins a transaction, asks the file
 * server for a log window on WMQUEUE (FS_OP_LOG), creates DIR/N.I.C (the
 * transaction's id) and writes OPS lines "tx N.I.C op K" into it (and the
 * same file on a second file server with -also: two recoverable nodes that
 * must agree on the outcome; with -slots K the file is DIR/sN, N the
 * transaction's counter mod K, rewritten by later rounds: a long run fits a
 * small file system, and the lines say which transaction wrote it), then
 * commits (aborts with -abort) and prints one line: "chain: tx N.I.C
 * committed", "... aborted" or "... failed: ERROR" (then aborts it). With
 * -hold it prints "chain: holding tx N.I.C" after the writes and waits to
 * be killed. -wait MS: after the writes it prints "chain: waiting tx
 * N.I.C" and commits MS ms later (a test cuts a link meanwhile).
 * -delegate NODE: coordination moves to NODE before the commit
 * (qs_tx_delegate). It ends with "chain: N committed, N aborted, N failed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/fs.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/tx.h>

#define OPS_MAX 1000
#define ROUNDS_MAX 100000

static const char *fs_queue = "fs@1", *also_queue, *wm_queue = "wm@2", *dir;
static long ops = 3, rounds = 1, wait_ms = -1, delegate = -1, slots;
static int hold, abort_tx;
static unsigned committed, aborted, failed;

static int
usage(void)
{
	printf("usage: chain [-f FSQUEUE] [-also FSQUEUE] [-w WMQUEUE] [-n OPS] "
	       "[-r ROUNDS] [-slots K] [-hold] [-abort] [-wait MS] "
	       "[-delegate NODE] DIR\n");
	return 1;
}

/* A number in [lo, hi], or -1. */
static long
number(const char *s, long lo, long hi)
{
	long v;
	return qs_parse_int(s, &v) == 0 && v >= lo && v <= hi ? v : -1;
}

static int
parse_args(int argc, char **argv)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-f") == 0 && next)
			fs_queue = argv[++i];
		else if (strcmp(a, "-also") == 0 && next)
			also_queue = argv[++i];
		else if (strcmp(a, "-w") == 0 && next)
			wm_queue = argv[++i];
		else if (strcmp(a, "-n") == 0 && next &&
			 (ops = number(next, 1, OPS_MAX)) > 0)
			i++;
		else if (strcmp(a, "-r") == 0 && next &&
			 (rounds = number(next, 1, ROUNDS_MAX)) > 0)
			i++;
		else if (strcmp(a, "-slots") == 0 && next &&
			 (slots = number(next, 1, 1000)) > 0)
			i++;
		else if (strcmp(a, "-wait") == 0 && next &&
			 (wait_ms = number(next, 0, 3600000)) >= 0)
			i++;
		else if (strcmp(a, "-delegate") == 0 && next &&
			 (delegate = number(next, 0, 253)) >= 0)
			i++;
		else if (strcmp(a, "-hold") == 0)
			hold = 1;
		else if (strcmp(a, "-abort") == 0)
			abort_tx = 1;
		else
			return -1;
	}
	if (i != argc - 1 || strlen(fs_queue) >= QS_NAME_MAX ||
	    strlen(wm_queue) >= QS_NAME_MAX ||
	    (also_queue && strlen(also_queue) >= QS_NAME_MAX))
		return -1;
	dir = argv[i];
	return 0;
}

/* DIR on the file server at `queue`, made in a committed transaction of
 * its own if missing. */
static int
make_dir(const char *queue)
{
	uint64_t tx;
	int r = qs_tx_begin(&tx);
	if (r < 0)
		return r;
	fs_use_queue(queue);
	r = fs_mkdir(dir);
	fs_use_queue(fs_queue);
	if (r == QS_EEXIST)
		r = 0;
	if (r < 0) {
		qs_tx_abort(tx);
		return r;
	}
	return qs_tx_commit(tx);
}

/* DIR/TXT (or its slot) with OPS lines, on the file server at `queue`. */
static int
write_file(const char *queue, uint64_t tx, const char *txt, const char **what)
{
	char path[FS_PATH_MAX], line[64];
	*what = "create";
	int len = slots ? snprintf(path, sizeof(path), "%s/s%u", dir,
				   (uint32_t)tx % (uint32_t)slots)
			: snprintf(path, sizeof(path), "%s/%s", dir, txt);
	if (len >= (int)sizeof(path))
		return QS_ENAMETOOLONG;
	fs_use_queue(queue);
	int r = 0, h = fs_open(path, FS_O_CREATE | FS_O_TRUNC);
	if (h < 0) {
		fs_use_queue(fs_queue);
		return h;
	}
	*what = "write";
	for (long k = 1; k <= ops && r >= 0; k++) {
		int n = snprintf(line, sizeof(line), "tx %s op %ld\n", txt, k);
		r = fs_write(h, line, (uint32_t)n);
		if (r >= 0 && r != n)
			r = QS_EIO;
	}
	int c = fs_close(h);
	if (r >= 0 && c < 0) {
		*what = "close";
		r = c;
	}
	fs_use_queue(fs_queue);
	return r < 0 ? r : 0;
}

/* The round's work under tx; on an error, *what says which step. */
static int
work(uint64_t tx, const char *txt, const char **what)
{
	*what = "log window";
	int r = fs_log(wm_queue);
	if (r >= 0)
		r = write_file(fs_queue, tx, txt, what);
	if (r >= 0 && also_queue)
		r = write_file(also_queue, tx, txt, what);
	return r < 0 ? r : 0;
}

static void
round_run(void)
{
	uint64_t def = qs_tx_current(), tx;
	char txt[QS_TX_TEXT];
	const char *what = "begin";
	int r = qs_tx_begin(&tx);
	if (r < 0) {
		printf("chain: tx ? failed: begin: %s\n", qs_strerror(r));
		failed++;
		return;
	}
	qs_tx_format(tx, txt);
	r = work(tx, txt, &what);
	if (r == 0 && hold) {
		printf("chain: holding tx %s\n", txt);
		for (;;)
			qs_sleep(60000);
	}
	if (r == 0 && wait_ms >= 0) {
		printf("chain: waiting tx %s\n", txt);
		qs_sleep((uint32_t)wait_ms); /* the scenario: a test acts meanwhile */
	}
	if (r == 0 && delegate >= 0) {
		what = "delegate";
		r = qs_tx_delegate(tx, (uint32_t)delegate);
	}
	if (r == 0 && abort_tx) {
		r = qs_tx_abort(tx);
		what = "abort";
		if (r == 0) {
			printf("chain: tx %s aborted\n", txt);
			aborted++;
		}
	} else if (r == 0) {
		r = qs_tx_commit(tx);
		what = "commit";
		if (r == 0) {
			printf("chain: tx %s committed\n", txt);
			committed++;
		} else if (r == QS_EABORTED) {
			printf("chain: tx %s aborted\n", txt);
			aborted++;
			r = 0;
		}
	} else if (r < 0) {
		qs_tx_abort(tx);
	}
	if (r < 0) {
		if (strcmp(what, "log window") == 0)
			printf("chain: tx %s failed: log window on queue %s: %s\n", txt,
			       wm_queue, qs_strerror(r));
		else
			printf("chain: tx %s failed: %s: %s\n", txt, what,
			       qs_strerror(r));
		failed++;
	}
	qs_tx_set(def);
}

int
main(int argc, char **argv)
{
	if (parse_args(argc, argv) < 0)
		return usage();
	fs_use_queue(fs_queue);
	int qid = qs_sq_lookup(fs_queue);
	if (qid < 0) {
		printf("chain: no file server at queue %s: %s\n", fs_queue,
		       qs_strerror(qid));
		return 1;
	}
	for (int i = 0; i < (also_queue ? 2 : 1); i++) {
		const char *q = i ? also_queue : fs_queue;
		int r = make_dir(q);
		if (r < 0) {
			printf("chain: cannot make %s on %s: %s\n", dir, q,
			       qs_strerror(r));
			return 1;
		}
	}
	for (long i = 0; i < rounds; i++)
		round_run();
	printf("chain: %u committed, %u aborted, %u failed\n", committed, aborted,
	       failed);
	return failed ? 1 : 0;
}
