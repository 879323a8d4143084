/*
 * fstest: in-guest tests of the file server (qs/fs.h). Run it on an empty
 * file system or on one with other files: it works under /t and removes
 * what it made. Other roles:
 *   fstest mute      the log tests against a window manager that never
 *                    answers (tests/system/mutewm.conf): its own suite
 *   fstest mutewm    that window manager: makes queue "wm" (init's config
 *                    reserves it the name) and never serves it
 *   fstest logwait   asks for a log window on "wm"; exits 0 if it got
 *                    QS_ETIMEDOUT after FS_LOG_TIMEOUT_MS
 *   fstest hog       a client over its limits (test_limits): relays
 *                    FS_CLIENT_TXS + 1 children's transactions to the fs
 *                    (a process owns only 8 transactions: a server acting
 *                    for others is how one gets to more), then opens
 *                    handles until refused, says how it went and waits to
 *                    be killed
 *   fstest relayed Q I   such a child: asks the hog's queue Q to change
 *                    file I under its transaction, then waits for the
 *                    hog's death
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/fs.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/thread.h>
#include <qs/tx.h>
#define CHECK_PREFIX "fstest: "
#include "check.h"

static void
test_basics(void)
{
	static char buf[FS_IO_MAX + 1];
	fs_stat_t st;
	fs_dirents_t d;
	uint64_t tx;

	qs_tx_begin(&tx);
	fs_unlink("/t/a/f");
	fs_unlink("/t/a");
	fs_unlink("/t/big");
	fs_unlink("/t/hole");
	fs_unlink("/t");
	check(fs_mkdir("/t") == 0 && fs_mkdir("/t/a") == 0, "mkdir");
	check(fs_mkdir("/t") == QS_EEXIST, "mkdir of an existing name: exists");
	check(fs_put("/t/a/f", "hello") == 0 && fs_get("/t/a/f", buf, sizeof(buf)) == 5 &&
		      strcmp(buf, "hello") == 0,
	      "a write is visible to its own transaction");
	check(fs_stat("/t/a/f", &st) == 0 && st.type == FS_T_FILE && st.size == 5,
	      "stat");
	check(fs_readdir("/t", 0, &d) == 0 && d.count == 1 &&
		      strcmp(d.ent[0].name, "a") == 0 && d.ent[0].type == FS_T_DIR,
	      "readdir");
	check(qs_tx_commit(tx) == 0, "commit");

	qs_tx_begin(&tx);
	check(fs_get("/t/a/f", buf, sizeof(buf)) == 5 && strcmp(buf, "hello") == 0,
	      "committed data is there for the next transaction");
	int h = fs_open("/t/a/f", 0);
	check(fs_seek(h, 2, FS_SEEK_SET) == 2 && fs_read(h, buf, 10) == 3 &&
		      memcmp(buf, "llo", 3) == 0,
	      "seek and read");
	check(fs_read(h, buf, 10) == 0, "read at the end: 0 bytes");
	check(fs_seek(h, -1, FS_SEEK_SET) == QS_EINVAL &&
		      fs_seek(h, 0, 7) == QS_EINVAL,
	      "bad seeks refused");
	check(fs_close(h) == 0 && fs_close(h) == QS_EBADF &&
		      fs_read(h, buf, 1) == QS_EBADF && fs_read(12345, buf, 1) == QS_EBADF,
	      "a closed or made-up handle is a bad handle");

	/* a big file: past the direct blocks into the indirect one */
	h = fs_open("/t/big", FS_O_CREATE);
	int total = 0;
	for (int i = 0; i < 10 && h >= 0; i++) {
		memset(buf, 'a' + i, FS_IO_MAX);
		total += fs_write(h, buf, FS_IO_MAX);
	}
	check(total == 10 * FS_IO_MAX && fs_stat("/t/big", &st) == 0 &&
		      st.size == 10 * FS_IO_MAX && st.blocks > 12,
	      "a 40000-byte file (indirect block)");
	check(fs_seek(h, 9 * FS_IO_MAX + 5, FS_SEEK_SET) >= 0 &&
		      fs_read(h, buf, 3) == 3 && memcmp(buf, "jjj", 3) == 0,
	      "its last part reads back");
	fs_close(h);
	h = fs_open("/t/hole", FS_O_CREATE);
	check(fs_seek(h, 3000, FS_SEEK_SET) == 3000 && fs_write(h, "x", 1) == 1 &&
		      fs_seek(h, 0, FS_SEEK_SET) == 0 && fs_read(h, buf, 3001) == 3001 &&
		      buf[0] == 0 && buf[2999] == 0 && buf[3000] == 'x',
	      "a hole reads as zeros");
	fs_close(h);
	check(qs_tx_commit(tx) == 0, "commit the big file");
}

static void
test_errors(void)
{
	static char longname[FS_NAME_MAX + 8], longpath[FS_PATH_MAX + 8];
	uint64_t tx;
	qs_tx_begin(&tx);
	memset(longname, 'n', sizeof(longname) - 1);
	memset(longpath, 'p', sizeof(longpath) - 1);
	char p[FS_NAME_MAX + 16];
	snprintf(p, sizeof(p), "/t/%s", longname);
	check(fs_open(p, FS_O_CREATE) == QS_ENAMETOOLONG, "a name too long");
	check(fs_open(longpath, FS_O_CREATE) == QS_ENAMETOOLONG &&
		      fs_mkdir(longpath) == QS_ENAMETOOLONG,
	      "a path too long");
	check(fs_open("/t/nothere", 0) == QS_ENOENT &&
		      fs_open("/t/nodir/f", FS_O_CREATE) == QS_ENOENT,
	      "missing file or directory");
	check(fs_open("/t/a/f/x", FS_O_CREATE) == QS_ENOTDIR, "a file used as a directory");
	check(fs_open("/t/a", 0) == QS_EISDIR && fs_open("/", 0) == QS_EISDIR,
	      "a directory opened as a file");
	check(fs_open("/t/a/f", FS_O_CREATE | FS_O_EXCL) == QS_EEXIST,
	      "exclusive create of an existing file");
	check(fs_unlink("/t/a") == QS_ENOTEMPTY, "rm of a non-empty directory");
	check(fs_unlink("/") < 0 && fs_unlink("/t/zzz") == QS_ENOENT,
	      "rm of the root or of nothing refused");
	check(fs_open("/t/..", FS_O_CREATE) == QS_EINVAL && fs_mkdir("/t/.") == QS_EINVAL,
	      ". and .. are not names");
	check(fs_open("/t/x", 0x100) == QS_EINVAL, "unknown open flags");

	/* raw requests with garbage: refused before any work, and counted */
	int qid = qs_sq_lookup(FS_QUEUE);
	static qs_msg_t m, reply;
	fs_df_t before, after;
	check(fs_df(&before) == 0, "df before the garbage");
	qs_msg_init(&m, 999);
	check(qs_call(qid, &m, &reply, sizeof(reply)) == QS_ENOSYS, "unknown op");
	qs_msg_init(&m, FS_OP_CLOSE);
	check(qs_call(qid, &m, &reply, sizeof(reply)) == QS_EINVAL,
	      "a close without its handle");
	qs_msg_init(&m, FS_OP_WRITE);
	fs_io_t io = { 1, 100 };
	qs_msg_put(&m, &io, sizeof(io));
	check(qs_call(qid, &m, &reply, sizeof(reply)) == QS_EINVAL,
	      "a write shorter than it says");
	qs_msg_init(&m, FS_OP_STAT);
	memset(m.data, 'z', 64);
	m.hdr.len = 64;
	check(qs_call(qid, &m, &reply, sizeof(reply)) == QS_EINVAL,
	      "a path without its end");
	qs_msg_init(&m, FS_OP_STAT);
	memset(m.data, 'z', 300);
	m.data[299] = 0;
	m.hdr.len = 300;
	check(qs_call(qid, &m, &reply, sizeof(reply)) == QS_ENAMETOOLONG,
	      "a raw path too long");
	check(fs_df(&after) == 0 && after.bad == before.bad + 5 &&
		      after.served > before.served,
	      "df counts the refused requests");
	qs_tx_abort(tx);
}

static void
test_isolation(void)
{
	static char buf[64];
	uint64_t def = qs_tx_current(), a, b;
	qs_tx_begin(&a);
	check(fs_put("/t/a/f", "changed") == 0, "transaction A changes a file");
	qs_tx_begin(&b); /* now current */
	check(fs_get("/t/a/f", buf, sizeof(buf)) == QS_EBUSY &&
		      fs_unlink("/t/a/f") == QS_EBUSY,
	      "transaction B finds it busy");
	qs_tx_abort(b);
	qs_tx_set(a);
	int h = fs_open("/t/a/f", 0);
	fs_df_t df;
	check(h >= 0 && fs_df(&df) == 0 && df.handles == 1, "A holds a handle");
	check(qs_tx_abort(a) == 0, "A aborts");
	qs_tx_set(def);
	qs_tx_begin(&b);
	check(fs_get("/t/a/f", buf, sizeof(buf)) == 5 && strcmp(buf, "hello") == 0,
	      "the abort put the old contents back");
	check(fs_df(&df) == 0 && df.handles == 0, "A's handle closed with it");
	check(fs_unlink("/t/a/f") == 0 && fs_unlink("/t/a") == 0 &&
		      fs_open("/t/a/f", 0) == QS_ENOENT,
	      "rm file and directory");
	qs_tx_commit(b);
}

/* FS_OP_LOG: bad names refused, an unknown queue reported, and with a
 * window manager on queue "wm" a window whose entry goes with the tx. */
static void
test_log(void)
{
	static qs_msg_t m, reply;
	static char longname[QS_NAME_MAX + 8];
	int qid = qs_sq_lookup(FS_QUEUE);
	uint64_t tx;
	fs_df_t df;
	qs_tx_begin(&tx);
	qs_msg_init(&m, FS_OP_LOG);
	memset(m.data, 'w', QS_NAME_MAX);
	m.hdr.len = QS_NAME_MAX;
	check(qs_call(qid, &m, &reply, sizeof(reply)) == QS_EINVAL,
	      "log: a queue name without its end");
	memset(longname, 'w', sizeof(longname) - 1);
	check(fs_log(longname) == QS_EINVAL && fs_log("") == QS_EINVAL,
	      "log: a queue name too long, or empty");
	qs_msg_init(&m, FS_OP_LOG);
	memset(m.data, 'w', QS_NAME_MAX + 4);
	m.data[QS_NAME_MAX + 3] = 0;
	m.hdr.len = QS_NAME_MAX + 4;
	check(qs_call(qid, &m, &reply, sizeof(reply)) == QS_EINVAL,
	      "log: a raw name past QS_NAME_MAX");
	/* the fs calls only a window manager: not a queue the client made
	 * (which nobody might serve), nor the fs itself */
	static const char *const not_wm[] = { "nosuchwm", "fs", "wmx", "xwm",
		"wm@", "wm@x", "wm@1x", "wm@01", "wm@254", "wm@-1", "wm@ 1" };
	fs_df_t before;
	int refused = 0, n = sizeof(not_wm) / sizeof(not_wm[0]);
	fs_df(&before);
	for (int i = 0; i < n; i++)
		refused += fs_log(not_wm[i]) == QS_EINVAL;
	check(refused == n && fs_df(&df) == 0 && df.bad == before.bad + (uint32_t)n,
	      "log: a queue that is not wm or wm@N is refused before any work");
	check(fs_log("wm@253") == QS_EUNREACH,
	      "log: a window manager on a node that is not up");
	check(fs_df(&df) == 0 && df.log_windows == 0,
	      "log: no entry left by the failures, and the fs serves");
	if (qs_sq_lookup("wm") >= 0) {
		check(fs_log("wm") >= 0 && fs_df(&df) == 0 && df.log_windows == 1,
		      "log: a window on wm");
		check(fs_log("wm") == QS_EEXIST, "log: a second window refused");
		int h = fs_open("/t/logged", FS_O_CREATE);
		check(h >= 0 && fs_write(h, "x", 1) == 1 && fs_close(h) == 0,
		      "log: operations logged");
	}
	qs_tx_abort(tx);
	check(fs_df(&df) == 0 && df.log_windows == 0 && df.transactions == 0,
	      "log: the entry goes with the transaction");
	check(fs_open("/t/logged", 0) == QS_ENOENT, "log: the file rolled back");
	if (qs_sq_lookup("wm") >= 0) { /* a transaction that only logs and reads */
		fs_stat_t st;
		qs_tx_begin(&tx);
		check(fs_log("wm") >= 0 && fs_stat("/", &st) == 0 &&
			      qs_tx_commit(tx) == 0 && fs_df(&df) == 0 &&
			      df.log_windows == 0,
		      "log: a read-only transaction's entry goes at its end");
	}
}

/* ---- per-client limits -------------------------------------------------- */

#define HOG_TXS (FS_CLIENT_TXS + 1)
#define HOG_DIR "/t/hog"
#define HOG_FILE "/t/hog/f" /* the one the hog opens over and over */
#define RELAY_CHANGE 1      /* the file index: change it under my tx */
#define RELAY_HOLD 2        /* answered when the hog dies */

static bool
wait_df(fs_df_t *df, bool (*done)(const fs_df_t *df, const fs_df_t *d0),
	const fs_df_t *d0)
{
	for (uint32_t t0 = qs_uptime_ms(); qs_uptime_ms() - t0 < 60000;
	     qs_sleep(50))
		if (fs_df(df) == 0 && done(df, d0))
			return true;
	return false;
}

static bool
hog_refused_twice(const fs_df_t *df, const fs_df_t *d0)
{
	return df->limited >= d0->limited + 2;
}

static bool
hog_gone(const fs_df_t *df, const fs_df_t *d0)
{
	return df->handles == d0->handles && df->transactions == d0->transactions &&
	       df->locks == d0->locks;
}

static int
hog_files(bool make)
{
	static char path[32];
	uint64_t tx;
	int ok = 0;
	qs_tx_begin(&tx);
	if (make)
		ok += fs_mkdir(HOG_DIR) == 0 && fs_put(HOG_FILE, "x") == 0;
	for (int i = 0; i < HOG_TXS; i++) {
		snprintf(path, sizeof(path), HOG_DIR "/%d", i);
		ok += (make ? fs_put(path, "x") : fs_unlink(path)) == 0;
	}
	if (!make)
		ok += fs_unlink(HOG_FILE) == 0 && fs_unlink(HOG_DIR) == 0;
	return qs_tx_commit(tx) == 0 && ok == HOG_TXS + 1;
}

/* A client past FS_CLIENT_HANDLES handles and FS_CLIENT_TXS transactions
 * (the hog) is refused, another is served, and what it held goes with
 * it. */
static void
test_limits(void)
{
	fs_df_t d0, df;
	uint64_t tx;
	check(hog_files(true), "limits: files for the hog");
	fs_df(&d0);
	const char *args[] = { "hog", NULL };
	int pid = qs_spawn("fstest", args, 0), status, h = -1;
	check(pid > 0 && wait_df(&df, hog_refused_twice, &d0) &&
		      df.limited == d0.limited + 2 &&
		      df.handles == d0.handles + FS_CLIENT_HANDLES &&
		      df.transactions == d0.transactions + FS_CLIENT_TXS,
	      "limits: a client holds FS_CLIENT_HANDLES handles and "
	      "FS_CLIENT_TXS transactions, refused past them");
	qs_tx_begin(&tx);
	check(fs_put("/t/mine", "y") == 0 && (h = fs_open("/t/mine", 0)) >= 0 &&
		      fs_close(h) == 0 && fs_unlink("/t/mine") == 0 &&
		      qs_tx_commit(tx) == 0,
	      "limits: another client is served meanwhile");
	check(pid > 0 && qs_kill(pid) == 0 && qs_waitpid(pid, &status, 0) == pid &&
		      wait_df(&df, hog_gone, &d0),
	      "limits: the hog killed, its handles and transactions are gone");
	check(hog_files(false), "limits: the hog's files removed");
}

static volatile uint32_t relayed, relay_ok, relay_limited;

/* Under the child's transaction: the fs sees the hog as the client. */
static int32_t
relay(const qs_msg_t *req, qs_msg_t *reply, void *ctx)
{
	static char path[32];
	const uint32_t *i = QS_MSG_AS(req, uint32_t);
	(void)ctx;
	if (req->hdr.opcode == RELAY_HOLD) {
		qs_defer(reply); /* never answered: the child waits for our death */
		return 0;
	}
	if (req->hdr.opcode != RELAY_CHANGE || !i)
		return QS_EINVAL;
	snprintf(path, sizeof(path), HOG_DIR "/%u", (unsigned)*i);
	int h = fs_open(path, 0);
	int r = h < 0 ? h : fs_write(h, "y", 1);
	if (h >= 0)
		fs_close(h);
	relay_ok += r == 1;
	relay_limited += r == QS_ELIMIT;
	relayed++;
	return r;
}

static void *
relay_serve(void *arg)
{
	qs_serve((int)(intptr_t)arg, relay, NULL, 1);
	return NULL;
}

static int
hog(void)
{
	static char name[QS_NAME_MAX], num[12];
	snprintf(name, sizeof(name), "fstest.relay.%d", qs_getpid());
	int qid = qs_sq_create(name, 0);
	if (qid < 0 || !qs_thread_create(relay_serve, (void *)(intptr_t)qid))
		printf("fstest: hog: no relay queue: %s\n", qs_strerror(qid));
	for (uint32_t i = 0; qid >= 0 && i < HOG_TXS; i++) {
		snprintf(num, sizeof(num), "%u", (unsigned)i);
		const char *args[] = { "relayed", name, num, NULL };
		if (qs_spawn("fstest", args, 0) < 0)
			break;
		for (uint32_t t0 = qs_uptime_ms();
		     relayed <= i && qs_uptime_ms() - t0 < 60000; qs_sleep(10))
			;
	}
	bool txs_ok = relay_ok == FS_CLIENT_TXS && relay_limited == 1;
	printf("fstest: hog: %u transactions, then %u refused\n",
	       (unsigned)relay_ok, (unsigned)relay_limited);
	/* then handles (the relayed changes closed theirs) */
	int n, r = 0;
	for (n = 0; n <= FS_CLIENT_HANDLES && (r = fs_open(HOG_FILE, 0)) >= 0; n++)
		;
	bool handles_ok = n == FS_CLIENT_HANDLES && r == QS_ELIMIT;
	printf("fstest: hog: %d handles, then %s: %s\n", n, qs_strerror(r),
	       handles_ok && txs_ok ? "as expected" : "NOT as expected");
	for (;;)
		qs_sleep(60000); /* until the test kills us */
	return 0;
}

static int
relayed_child(const char *queue, const char *num)
{
	static qs_msg_t m, reply;
	uint32_t i = (uint32_t)atoi(num);
	int qid = qs_sq_lookup(queue);
	qs_msg_init(&m, RELAY_CHANGE);
	qs_msg_put(&m, &i, sizeof(i));
	qs_call(qid, &m, &reply, sizeof(reply));
	qs_msg_init(&m, RELAY_HOLD);
	qs_call(qid, &m, &reply, sizeof(reply)); /* until the hog dies */
	return 0;
}

static void
test_space(void)
{
	fs_df_t before, after;
	uint64_t tx;
	fs_df(&before);
	qs_tx_begin(&tx);
	check(fs_unlink("/t/big") == 0, "rm the big file");
	fs_df(&after);
	check(after.blocks_free == before.blocks_free,
	      "its blocks stay reserved until the transaction ends");
	qs_tx_commit(tx);
	fs_df(&after);
	check(after.blocks_free > before.blocks_free + 39 && after.locks == 0 &&
		      after.transactions == 0,
	      "freed at commit; no locks or transactions left");
	qs_tx_begin(&tx);
	fs_unlink("/t/hole");
	fs_unlink("/t");
	qs_tx_commit(tx);
}

/* ---- a window manager that never answers (mutewm.conf) ---------------- */

/* Polls df (a client's own request each time, so the fs is serving) until
 * log_windows is `want` or 60 s have passed. */
static bool
log_windows_become(uint32_t want)
{
	fs_df_t df;
	for (uint32_t t0 = qs_uptime_ms(); qs_uptime_ms() - t0 < 60000;
	     qs_sleep(50))
		if (fs_df(&df) == 0 && df.log_windows == want)
			return true;
	return false;
}

static int
mute(void)
{
	static char buf[64];
	uint64_t tx;
	fs_df_t df;
	int qid = qs_sq_lookup("wm");
	check(qid >= 0 && qs_sq_lookup(FS_QUEUE) >= 0,
	      "mute: a window manager that does not answer, and the fs");
	if (qid < 0)
		return check_summary("fstest");
	const char *args[] = { "logwait", NULL };
	int pid = qs_spawn("fstest", args, 0), status = -1;
	check(pid > 0 && log_windows_become(1),
	      "mute: another client's log window is asked for");
	qs_tx_begin(&tx);
	check(fs_stat("/", &(fs_stat_t){ 0 }) == 0 && fs_put("/mute", "served") == 0 &&
		      fs_get("/mute", buf, sizeof(buf)) == 6 &&
		      fs_unlink("/mute") == 0 && qs_tx_commit(tx) == 0,
	      "mute: the fs serves others meanwhile");
	check(fs_df(&df) == 0 && df.log_windows == 1,
	      "mute: ... while the log window is still asked for");
	check(pid > 0 && qs_waitpid(pid, &status, 0) == pid && status == 0,
	      "mute: the client gets QS_ETIMEDOUT after FS_LOG_TIMEOUT_MS");
	check(fs_df(&df) == 0 && df.log_windows == 0,
	      "mute: and its entry is gone");
	qs_tx_begin(&tx);
	int r = fs_log("wm");
	check(r == QS_ETIMEDOUT && fs_df(&df) == 0 && df.log_windows == 0 &&
		      fs_stat("/", &(fs_stat_t){ 0 }) == 0,
	      "mute: again, and the fs still serves");
	qs_tx_abort(tx);
	return check_summary("fstest");
}

/* The window manager that never answers: holds the queue, offers nothing. */
static int
mutewm(void)
{
	int qid = qs_sq_create("wm", 0);
	printf("fstest: mute wm: %s\n", qid >= 0 ? "up" : qs_strerror(qid));
	if (qid < 0)
		return 1;
	for (;;)
		qs_sleep(60000);
}

static int
logwait(void)
{
	uint32_t t0 = qs_uptime_ms();
	int r = fs_log("wm");
	uint32_t took = qs_uptime_ms() - t0;
	printf("fstest: logwait: %s after %u ms\n", qs_strerror(r), (unsigned)took);
	return !(r == QS_ETIMEDOUT && took + 100 >= FS_LOG_TIMEOUT_MS);
}

int
main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "mute") == 0)
		return mute();
	if (argc == 2 && strcmp(argv[1], "mutewm") == 0)
		return mutewm();
	if (argc == 2 && strcmp(argv[1], "logwait") == 0)
		return logwait();
	if (argc == 2 && strcmp(argv[1], "hog") == 0)
		return hog();
	if (argc == 4 && strcmp(argv[1], "relayed") == 0)
		return relayed_child(argv[2], argv[3]);
	check(qs_sq_lookup(FS_QUEUE) >= 0, "the file server's queue exists");
	if (check_failed)
		return check_summary("fstest");
	test_basics();
	test_errors();
	test_isolation();
	test_log();
	test_limits();
	test_space();
	return check_summary("fstest");
}
