/*
 * In-guest tests of the window manager's protocol (qs/wm.h): windows are
 * created, listed, written, cleared, raised and closed; bad requests get
 * an error and the WM keeps serving; only the owning transaction may touch
 * a window; one client's windows are limited. Helper roles, as a child
 * process (another transaction, another client):
 *   wmtest foreign ID    tries to change window ID; exits 0 if refused
 *   wmtest hog           opens windows until refused, says how it went and
 *                        waits to be killed
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/wm.h>
#define CHECK_PREFIX "wmtest: "
#include "check.h"

static qs_msg_t req, reply;
static int qid;

static int
call(void)
{
	return qs_call(qid, &req, &reply, sizeof(reply));
}

/* Sends the CREATE in `req`; the new window's id or an error. */
static int
create_req(void)
{
	int r = call();
	const wm_created_t *c = QS_MSG_AS(&reply, wm_created_t);
	return r < 0 ? r : c ? c->id : QS_EINVAL;
}

static int
create(const char *title)
{
	qs_msg_init(&req, WM_OP_CREATE);
	qs_msg_put_str(&req, title);
	return create_req();
}

static int
op_id(uint32_t op, int32_t id)
{
	qs_msg_init(&req, op);
	qs_msg_put(&req, &id, sizeof(id));
	return call();
}

static int
write_text(int32_t id, const char *text)
{
	wm_write_t w = { id };
	qs_msg_init(&req, WM_OP_WRITE);
	qs_msg_put(&req, &w, sizeof(w));
	qs_msg_put_str(&req, text);
	return call();
}

static wm_stats_t
stats(void)
{
	wm_stats_t s = { 0 };
	const wm_stats_t *p;
	qs_msg_init(&req, WM_OP_STATS);
	if (call() == 0 && (p = QS_MSG_AS(&reply, wm_stats_t)))
		s = *p;
	return s;
}

/* The listed window `id`, or one with id 0 if it is not listed. */
static wm_info_t
listed(int32_t id)
{
	wm_info_t none = { 0 };
	qs_msg_init(&req, WM_OP_LIST);
	if (call() < 0)
		return none;
	const wm_info_t *w = (const wm_info_t *)reply.data;
	for (uint32_t i = 0; i < reply.hdr.len / sizeof(*w); i++)
		if (w[i].id == id)
			return w[i];
	return none;
}

static void
test_bad_requests(void)
{
	qs_msg_init(&req, 99);
	check(call() == QS_ENOSYS, "an unknown opcode is refused");
	qs_msg_init(&req, 0);
	check(call() == QS_ENOSYS, "opcode 0 is refused");
	qs_msg_init(&req, WM_OP_CREATE);
	check(call() == QS_EINVAL, "a create without a title is refused");
	qs_msg_init(&req, WM_OP_WRITE);
	qs_msg_put(&req, "ab", 2);
	check(call() == QS_EINVAL, "a write shorter than its header is refused");
	qs_msg_init(&req, WM_OP_CLOSE);
	qs_msg_put(&req, "x", 1);
	check(call() == QS_EINVAL, "a close without a whole id is refused");
	check(op_id(WM_OP_CLEAR, 0) == QS_ENOENT && op_id(WM_OP_RAISE, -7) == QS_ENOENT &&
		      write_text(123456, "x") == QS_ENOENT,
	      "unknown window ids are QS_ENOENT");
	check(stats().width == 800, "the WM still serves after bad requests");
}

static void
test_writes(int32_t id)
{
	check(write_text(id, "hello\nworld") == 0, "write two lines");
	wm_write_t hdr = { id };
	qs_msg_init(&req, WM_OP_WRITE);
	qs_msg_put(&req, &hdr, sizeof(hdr));
	check(call() == 0, "an empty write");
	memset(req.data + sizeof(hdr), 'x', QS_MSG_INLINE - sizeof(hdr));
	req.hdr.len = QS_MSG_INLINE;
	check(call() == 0, "a 4 KiB write without a NUL is cut, not refused");
	check(op_id(WM_OP_CLEAR, id) == 0, "clear it");
	check(op_id(WM_OP_RAISE, id) == 0, "raise it");
}

static void
test_window(void)
{
	wm_stats_t s0 = stats();
	int32_t id = create("wmtest");
	check(id > 0, "create a window");
	wm_info_t w = listed(id);
	check(w.id == id && strcmp(w.title, "wmtest") == 0 &&
		      w.pid == qs_getpid() && w.tx == qs_tx_get(),
	      "listed with its title, pid and transaction");
	check(w.x >= 0 && w.y >= 0 && w.w > 100 && w.h > 100 &&
		      w.x + w.w <= 800 && w.y + w.h <= 600,
	      "its rectangle is on the screen");
	test_writes(id);
	wm_stats_t s1 = stats();
	check(s1.windows == s0.windows + 1 && s1.created == s0.created + 1 &&
		      s1.crumbs == s0.crumbs + 1,
	      "stats count the window and its breadcrumb");
	char arg[16];
	snprintf(arg, sizeof(arg), "%d", id);
	const char *args[] = { "foreign", arg, NULL };
	int pid = qs_spawn("wmtest", args, 0), status = -1;
	check(pid > 0 && qs_waitpid(pid, &status, 0) == pid && status == 0,
	      "another transaction may not write, clear, raise or close it");
	check(op_id(WM_OP_CLOSE, id) == 0, "close it");
	check(op_id(WM_OP_CLOSE, id) == QS_ENOENT && write_text(id, "x") == QS_ENOENT,
	      "a closed window is gone");
	wm_stats_t s2 = stats();
	check(s2.windows == s0.windows && s2.crumbs == s0.crumbs &&
		      s2.closed_by_client == s0.closed_by_client + 1,
	      "stats count the close, and its breadcrumb is removed");
	check(listed(id).id == 0, "a closed window is not listed");
}

static void
test_titles(void)
{
	int32_t id = create("0123456789012345678901234567890123456789");
	check(id > 0 && strcmp(listed(id).title, "0123456789012345678901234567890") == 0,
	      "a long title is cut to WM_TITLE_MAX - 1");
	op_id(WM_OP_CLOSE, id);
	qs_msg_init(&req, WM_OP_CREATE);
	memset(req.data, 'T', QS_MSG_INLINE);
	req.hdr.len = QS_MSG_INLINE;
	id = create_req();
	check(id > 0 && strlen(listed(id).title) == WM_TITLE_MAX - 1,
	      "a title without a NUL is cut");
	op_id(WM_OP_CLOSE, id);
}

static void
test_full(void)
{
	int32_t ids[WM_CLIENT_WINDOWS + 1];
	int n = 0, r = 0;
	uint32_t limited = stats().limited;
	while (n <= WM_CLIENT_WINDOWS && (r = create("many")) > 0)
		ids[n++] = r;
	check(n == WM_CLIENT_WINDOWS && r == QS_ELIMIT &&
		      stats().limited == limited + 1,
	      "a client's windows past WM_CLIENT_WINDOWS are refused, and counted");
	int ok = 1;
	for (int i = 0; i < n; i++)
		ok &= op_id(WM_OP_CLOSE, ids[i]) == 0;
	check(ok, "and all of them close");
	int32_t id = create("again");
	check(id > 0 && op_id(WM_OP_CLOSE, id) == 0, "then a window opens again");
}

/* Polls the stats (the WM serving us each time) until done or 60 s. */
static bool
wait_stats(bool (*done)(const wm_stats_t *s, const wm_stats_t *s0),
	   const wm_stats_t *s0, wm_stats_t *s)
{
	for (uint32_t t0 = qs_uptime_ms(); qs_uptime_ms() - t0 < 60000;
	     qs_sleep(50))
		if ((*s = stats()).width && done(s, s0))
			return true;
	return false;
}

#define HOG_SAID "wmtest.hog"

static bool
hog_refused(const wm_stats_t *s, const wm_stats_t *s0)
{
	return s->limited > s0->limited;
}

static bool
hog_gone(const wm_stats_t *s, const wm_stats_t *s0)
{
	return s->windows == s0->windows && s->crumbs == s0->crumbs;
}

/* Another client at its limit: refused, we are served, and its windows
 * go when it dies. */
static void
test_hog(void)
{
	wm_stats_t s0 = stats(), s;
	const char *args[] = { "hog", NULL };
	int pid = qs_spawn("wmtest", args, 0), status;
	check(pid > 0 && wait_stats(hog_refused, &s0, &s) &&
		      s.limited == s0.limited + 1 &&
		      s.windows == s0.windows + WM_CLIENT_WINDOWS,
	      "a client holds WM_CLIENT_WINDOWS windows, refused past them");
	int32_t id = create("served");
	check(id > 0 && op_id(WM_OP_CLOSE, id) == 0,
	      "another client is served meanwhile");
	/* the WM counts the refusal before the hog hears it: wait for its
	 * line (its queue says it was printed) before killing it */
	for (int i = 0; i < 100000 && qs_sq_lookup(HOG_SAID) < 0; i++)
		qs_yield();
	check(pid > 0 && qs_kill(pid) == 0 && qs_waitpid(pid, &status, 0) == pid &&
		      wait_stats(hog_gone, &s0, &s),
	      "the client killed, its windows are gone");
}

static int
hog(void)
{
	int n = 0, r = 0;
	qid = qs_sq_lookup(WM_QUEUE);
	while (n <= WM_CLIENT_WINDOWS && (r = create("hog")) > 0)
		n++;
	printf("wmtest: hog: %d windows, then %s\n", n, qs_strerror(r));
	qs_sq_create(HOG_SAID, 0); /* said it: the test may kill us */
	for (;;)
		qs_sleep(60000); /* until the test kills us */
	return 0;
}

static int
foreign(int32_t id)
{
	qid = qs_sq_lookup(WM_QUEUE);
	return !(write_text(id, "intruder") == QS_EPERM &&
		 op_id(WM_OP_CLEAR, id) == QS_EPERM &&
		 op_id(WM_OP_RAISE, id) == QS_EPERM &&
		 op_id(WM_OP_CLOSE, id) == QS_EPERM);
}

int
main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "foreign") == 0)
		return foreign(atoi(argv[2]));
	if (argc == 2 && strcmp(argv[1], "hog") == 0)
		return hog();
	qid = qs_sq_lookup(WM_QUEUE);
	check(qid > 0, "the WM's queue exists");
	if (qid < 0)
		return check_summary("wmtest");
	test_bad_requests();
	test_window();
	test_titles();
	test_full();
	test_hog();
	return check_summary("wmtest");
}
