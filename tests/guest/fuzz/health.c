/*
 * The servers around a run: who serves what, what each counts, and whether
 * each still does its work for a well-behaved client afterwards. A run must
 * not take a server down, wedge it, or leave anything of its clients
 * behind in it (handles, locks, windows, transaction records), and the
 * servers must have counted the bad requests they refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/cm.h>
#include <qs/counter.h>
#include <qs/disk.h>
#include <qs/echo.h>
#include <qs/fs.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/tm.h>
#include <qs/tx.h>
#include <qs/wm.h>
#include "fuzz.h"
#include "health.h"

const char *const SRV_NAMES[NSRV] = { TM_QUEUE, FS_QUEUE, WM_QUEUE, DISK_QUEUE,
				      CM_QUEUE, ECHO_QUEUE, COUNTER_QUEUE };

static union {
	qs_msg_t m;
	uint8_t bytes[QS_MSG_BUF_SIZE];
} req, rep;

/* A request with data to a queue by name; the status, the answer in rep. */
static int
ask(const char *queue, uint32_t op, const void *data, uint32_t len)
{
	int qid = qs_sq_lookup(queue);
	if (qid < 0)
		return qid;
	qs_msg_init(&req.m, op);
	qs_msg_put(&req.m, data, len);
	return qs_call(qid, &req.m, &rep.m, sizeof(rep));
}

/* The answer's data as a T, copied to out if it is all there. */
static int
answer(int r, void *out, uint32_t size)
{
	if (r < 0 || rep.m.hdr.len < size)
		return r < 0 ? r : QS_EINVAL;
	memcpy(out, rep.m.data, size);
	return 0;
}

void
srv_snap(srv_snap_t *s)
{
	qs_sq_info_t q;
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < NSRV; i++) {
		s->pid[i] = qs_sq_find(SRV_NAMES[i], &q) > 0 ? q.owner : 0;
		s->threads[i] = s->pid[i] ? (int)(q.idle + q.busy) : 0;
	}
	s->ok_tm = answer(ask(TM_QUEUE, TM_OP_STATS, NULL, 0), &s->tm, sizeof(s->tm)) == 0;
	s->ok_fs = fs_df(&s->fs) == 0;
	s->ok_wm = answer(ask(WM_QUEUE, WM_OP_STATS, NULL, 0), &s->wm, sizeof(s->wm)) == 0;
	s->ok_disk = answer(ask(DISK_QUEUE, DISK_OP_STATS, NULL, 0), &s->disk,
			    sizeof(s->disk)) == 0;
	s->ok_counter = s->pid[SRV_COUNTER] &&
			answer(ask(COUNTER_QUEUE, COUNTER_OP_GET, NULL, 0), &s->counter,
			       sizeof(s->counter)) == 0;
}

/* What clients leave in the servers is back to its level before the run
 * (death notices and the TM's clean-up take a while: polled). */
static int
crumbs_back(const srv_snap_t *a, const srv_snap_t *b)
{
	return b->ok_tm && b->ok_fs && b->ok_wm &&
	       b->tm.records <= a->tm.records && b->tm.participants <= a->tm.participants &&
	       b->tm.held <= a->tm.held && b->fs.handles <= a->fs.handles &&
	       b->fs.transactions <= a->fs.transactions && b->fs.locks <= a->fs.locks &&
	       b->fs.log_windows <= a->fs.log_windows && b->wm.windows <= a->wm.windows &&
	       b->wm.crumbs <= a->wm.crumbs;
}

int
srv_crumbs_back(const srv_snap_t *s0, srv_snap_t *s, uint32_t ms)
{
	uint32_t t0 = qs_uptime_ms();
	for (;;) {
		srv_snap(s);
		if (crumbs_back(s0, s))
			return 1;
		if (qs_uptime_ms() - t0 > ms)
			break;
		qs_sleep(100);
	}
	printf("fuzz: left behind: tm records %u (was %u) participants %u (%u) "
	       "held %u (%u); fs handles %u (%u) transactions %u (%u) locks %u "
	       "(%u) log-windows %u (%u); wm windows %u (%u) crumbs %u (%u)\n",
	       s->tm.records, s0->tm.records, s->tm.participants,
	       s0->tm.participants, s->tm.held, s0->tm.held, s->fs.handles,
	       s0->fs.handles, s->fs.transactions, s0->fs.transactions,
	       s->fs.locks, s0->fs.locks, s->fs.log_windows, s0->fs.log_windows,
	       s->wm.windows, s0->wm.windows, s->wm.crumbs, s0->wm.crumbs);
	return 0;
}

int
srv_alive(const srv_snap_t *s0, const srv_snap_t *s)
{
	int ok = 1;
	for (int i = 0; i < NSRV; i++) {
		if (s0->pid[i] && (s->pid[i] != s0->pid[i] ||
				   s->threads[i] != s0->threads[i])) {
			printf("fuzz: server %s: pid %d with %d threads, was %d with %d\n",
			       SRV_NAMES[i], s->pid[i], s->threads[i], s0->pid[i],
			       s0->threads[i]);
			ok = 0;
		}
	}
	return ok;
}

/* Every server that counts refusals refused some of the run's requests. */
int
srv_counted(const srv_snap_t *s0, const srv_snap_t *s)
{
	int ok = s->ok_tm && s->ok_fs && s->ok_wm && s->ok_disk &&
		 s->tm.bad > s0->tm.bad && s->fs.bad > s0->fs.bad &&
		 s->wm.bad > s0->wm.bad && s->disk.bad > s0->disk.bad;
	printf("fuzz: refused: tm %u fs %u wm %u disk %u\n", s->tm.bad - s0->tm.bad,
	       s->fs.bad - s0->fs.bad, s->wm.bad - s0->wm.bad,
	       (uint32_t)(s->disk.bad - s0->disk.bad));
	return ok;
}

/* ---- a well-behaved client ---------------------------------------------- */

int
tm_serves(void)
{
	uint64_t tx;
	int r = qs_tx_begin(&tx);
	if (r == 0)
		r = qs_tx_commit(tx);
	if (r < 0)
		printf("fuzz: tm: %s\n", qs_strerror(r));
	return r == 0;
}

/* A file written in one transaction, read back in another, removed in a
 * third. */
int
fs_serves(void)
{
	char path[32], text[48], back[48];
	uint64_t tx;
	snprintf(path, sizeof(path), "/fzcheck.%d", qs_getpid());
	snprintf(text, sizeof(text), "written after the fuzz, by %d", qs_getpid());
	int r = qs_tx_begin(&tx);
	if (r == 0 && (r = fs_put(path, text)) == 0)
		r = qs_tx_commit(tx);
	if (r == 0 && (r = qs_tx_begin(&tx)) == 0) {
		r = fs_get(path, back, sizeof(back));
		int c = qs_tx_commit(tx);
		r = r < 0 ? r : c < 0 ? c : strcmp(back, text) == 0 ? 0 : QS_EIO;
	}
	if (r == 0 && (r = qs_tx_begin(&tx)) == 0 && (r = fs_unlink(path)) == 0)
		r = qs_tx_commit(tx);
	if (r < 0)
		printf("fuzz: fs: %s\n", qs_strerror(r));
	return r == 0;
}

/* A window made, written and closed with its transaction. */
int
wm_serves(void)
{
	uint64_t tx;
	wm_created_t c = { 0 };
	int r = qs_tx_begin(&tx);
	if (r == 0)
		r = answer(ask(WM_QUEUE, WM_OP_CREATE, "fuzz", 5), &c, sizeof(c));
	if (r == 0) {
		struct {
			wm_write_t w;
			char text[8];
		} wr = { { c.id }, "served" };
		r = ask(WM_QUEUE, WM_OP_WRITE, &wr, sizeof(wr));
	}
	if (r == 0)
		r = qs_tx_commit(tx);
	int n = ask(WM_QUEUE, WM_OP_LIST, NULL, 0);
	for (int i = 0; r == 0 && n > 0 && i < n; i++)
		if (((const wm_info_t *)rep.m.data)[i].id == c.id)
			r = QS_EEXIST; /* it outlived its transaction */
	if (r < 0 || n < 0)
		printf("fuzz: wm: %s\n", qs_strerror(r < 0 ? r : n));
	return r == 0 && n >= 0;
}

/* echo, disk and cm answer; the counter counts (if it runs). */
int
others_serve(const srv_snap_t *s0)
{
	static const char hello[] = "hello, after the fuzz";
	disk_stats_t d;
	cm_stats_t c;
	int ok = 1, r = ask(ECHO_QUEUE, ECHO_OP_ECHO, hello, sizeof(hello));
	if (r < 0 || rep.m.hdr.len != sizeof(hello) || memcmp(rep.m.data, hello, sizeof(hello))) {
		printf("fuzz: echo: %s\n", qs_strerror(r));
		ok = 0;
	}
	if ((r = answer(ask(DISK_QUEUE, DISK_OP_STATS, NULL, 0), &d, sizeof(d))) < 0) {
		printf("fuzz: disk: %s\n", qs_strerror(r));
		ok = 0;
	}
	if ((r = answer(ask(CM_QUEUE, CM_OP_STATS, NULL, 0), &c, sizeof(c))) < 0) {
		printf("fuzz: cm: %s\n", qs_strerror(r));
		ok = 0;
	}
	if (s0->pid[SRV_COUNTER]) {
		counter_inc_t inc = { (uint64_t)qs_getpid() << 40 | 0xC0FFEEull << 8 };
		counter_state_t st;
		uint64_t v = 0;
		r = answer(ask(COUNTER_QUEUE, COUNTER_OP_GET, NULL, 0), &st, sizeof(st));
		if (r == 0)
			r = answer(ask(COUNTER_QUEUE, COUNTER_OP_INC, &inc, sizeof(inc)), &v,
				   sizeof(v));
		if (r < 0 || v != st.value + 1) {
			printf("fuzz: counter: %s, value %u after %u\n", qs_strerror(r),
			       (uint32_t)v, (uint32_t)st.value);
			ok = 0;
		}
	}
	return ok;
}

/* ---- the files a run leaves ------------------------------------------- */

int
fs_names(const char *dir, char names[][FS_NAME_MAX], int max)
{
	static fs_dirents_t d;
	int n = 0;
	for (uint32_t first = 0; n < max;) {
		if (fs_readdir(dir, first, &d) < 0)
			break;
		for (uint32_t i = 0; i < d.count && n < max; i++)
			memcpy(names[n++], d.ent[i].name, FS_NAME_MAX);
		first += d.count;
		if (!d.more || !d.count)
			break;
	}
	return n;
}

/* Removes path and, if it is a directory, what it holds. */
static int
rmtree(const char *path, int depth)
{
	char (*names)[FS_NAME_MAX] = malloc(64 * FS_NAME_MAX);
	char sub[FS_PATH_MAX];
	fs_stat_t st;
	if (!names)
		return QS_ENOMEM;
	if (depth < 8 && fs_stat(path, &st) == 0 && st.type == FS_T_DIR) {
		int n = fs_names(path, names, 64);
		for (int i = 0; i < n; i++) {
			if (snprintf(sub, sizeof(sub), "%s/%s", path, names[i]) <
			    (int)sizeof(sub))
				rmtree(sub, depth + 1);
		}
	}
	free(names);
	return fs_unlink(path);
}

/* What the run made in "/" goes (what children committed as they ended);
 * names are the root's entries before it. */
int
fs_tidy(char names[][FS_NAME_MAX], int n)
{
	static char now[128][FS_NAME_MAX];
	char path[FS_PATH_MAX];
	uint64_t tx;
	int r = qs_tx_begin(&tx), m = r == 0 ? fs_names("/", now, 128) : 0;
	for (int i = 0; r == 0 && i < m; i++) {
		int old = 0;
		for (int j = 0; j < n && !old; j++)
			old = strcmp(now[i], names[j]) == 0;
		snprintf(path, sizeof(path), "/%s", now[i]);
		if (!old && (r = rmtree(path, 0)) < 0)
			printf("fuzz: cannot remove %s: %s\n", path, qs_strerror(r));
	}
	int c = r == 0 ? qs_tx_commit(tx) : qs_tx_abort(tx);
	return r < 0 ? r : c;
}
