/*
 * fsclient: the file server's scenarios, for users and the tests
 * (its in-guest test suite is tests/guest/fstest.c).
 *
 *   fsclient commit FILE TEXT [QUEUE...]
 *                               write FILE in a transaction and commit it;
 *                               on each file server named (fs, fs@1, ...),
 *                               else on fs
 *   fsclient abort FILE TEXT    write FILE in a transaction, then abort it
 *   fsclient hold FILE TEXT     write FILE under the default transaction,
 *                               keep it open and wait for ever (kill it: the
 *                               write vanishes, the handle closes)
 *   fsclient fill PREFIX        write PREFIX.0, PREFIX.1, ... one committed
 *                               transaction per 4000 bytes, until the file
 *                               system is full
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/fs.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/tx.h>

/* ---- scenarios --------------------------------------------------------- */

static int
fill(const char *prefix)
{
	static char chunk[FS_IO_MAX], path[FS_PATH_MAX];
	memset(chunk, 'f', sizeof(chunk));
	uint32_t bytes = 0;
	int r = 0;
	for (int file = 0; r >= 0; file++) {
		snprintf(path, sizeof(path), "%s.%d", prefix, file);
		while (r >= 0) {
			uint64_t tx;
			if ((r = qs_tx_begin(&tx)) < 0)
				break;
			int h = fs_open(path, FS_O_CREATE);
			r = h < 0 ? h : fs_seek(h, 0, FS_SEEK_END);
			if (r >= 0)
				r = fs_write(h, chunk, sizeof(chunk));
			if (h >= 0)
				fs_close(h);
			if (r < 0) {
				qs_tx_abort(tx);
				break;
			}
			if ((r = qs_tx_commit(tx)) == 0)
				bytes += sizeof(chunk);
		}
		if (r == QS_E2BIG) /* the file is as big as a file gets */
			r = 0;
	}
	printf("fsclient: fill: %u bytes written, then: %s\n", bytes, qs_strerror(r));
	return r == QS_ENOSPC ? 0 : 1;
}

/* FILE written on each of the n file servers, in one transaction. */
static int
commit_on(const char *file, const char *text, char **queues, int n)
{
	uint64_t tx;
	char b[QS_TX_TEXT];
	int r = qs_tx_begin(&tx);
	for (int i = 0; i < n && r == 0; i++) {
		fs_use_queue(queues[i]);
		if ((r = fs_put(file, text)) < 0)
			printf("fsclient: write %s on %s: %s\n", file, queues[i],
			       qs_strerror(r));
	}
	if (r < 0) {
		qs_tx_abort(tx);
		return 1;
	}
	printf("fsclient: wrote %s on %d file servers under %s, committing\n",
	       file, n, qs_tx_format(tx, b));
	r = qs_tx_commit(tx);
	printf("fsclient: commit %s: %s\n", qs_tx_format(tx, b), qs_strerror(r));
	return r < 0;
}

int
main(int argc, char **argv)
{
	const char *usage = "usage: fsclient commit|abort|hold FILE TEXT | "
			    "commit FILE TEXT QUEUE... | fill PREFIX\n";
	if (argc == 3 && strcmp(argv[1], "fill") == 0)
		return fill(argv[2]);
	if (argc > 4 && strcmp(argv[1], "commit") == 0)
		return commit_on(argv[2], argv[3], argv + 4, argc - 4);
	if (argc != 4) {
		printf("%s", usage);
		return 2;
	}
	const char *mode = argv[1], *file = argv[2], *text = argv[3];
	uint64_t tx;
	if (strcmp(mode, "hold") == 0) { /* the handle stays open too */
		int h = fs_open(file, FS_O_CREATE | FS_O_TRUNC);
		int r = h < 0 ? h : fs_write(h, text, (uint32_t)strlen(text));
		printf("fsclient: wrote %s under %s, holding: %s\n", file,
		       qs_tx_format(qs_tx_current(), (char[QS_TX_TEXT]){ 0 }),
		       qs_strerror(r < 0 ? r : 0));
		for (;;)
			qs_sleep(60000);
	}
	if (strcmp(mode, "commit") != 0 && strcmp(mode, "abort") != 0) {
		printf("%s", usage);
		return 2;
	}
	int r = qs_tx_begin(&tx);
	if (r == 0)
		r = fs_put(file, text);
	if (r < 0) {
		printf("fsclient: write %s: %s\n", file, qs_strerror(r));
		qs_tx_abort(tx);
		return 1;
	}
	char b[QS_TX_TEXT];
	printf("fsclient: wrote %s under %s, %s\n", file, qs_tx_format(tx, b),
	       strcmp(mode, "commit") == 0 ? "committing" : "aborting");
	r = strcmp(mode, "commit") == 0 ? qs_tx_commit(tx) : qs_tx_abort(tx);
	printf("fsclient: %s %s: %s\n", mode, qs_tx_format(tx, b), qs_strerror(r));
	return r < 0;
}
