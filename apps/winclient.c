/*
 * A window manager client:
 *   winclient TITLE          opens a window and writes "TITLE: line N" into
 *                            it every second until killed
 *   winclient TITLE crash    opens it, writes one line, then faults
 *   winclient TITLE exit N   opens it, writes N lines at once, exits 0
 * The window belongs to this process's default transaction, so it goes
 * when the process ends. A write that fails (the window was closed because
 * the transaction aborted, say) ends the program with status 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/wm.h>

static qs_msg_t req, reply;
static const char *title;
static int qid;

static void
fail(const char *what, int err)
{
	printf("winclient: %s: %s%s%s\n", title, what, *what ? ": " : "",
	       qs_strerror(err));
	exit(1);
}

static int32_t
open_window(void)
{
	qs_msg_init(&req, WM_OP_CREATE);
	qs_msg_put_str(&req, title);
	int r = qs_call(qid, &req, &reply, sizeof(reply));
	const wm_created_t *c = QS_MSG_AS(&reply, wm_created_t);
	if (r < 0)
		fail("cannot open a window", r);
	if (!c)
		fail("cannot open a window", QS_EINVAL);
	printf("winclient: window %d open\n", c->id);
	return c->id;
}

static void
write_line(int32_t id, int n)
{
	char line[WM_LINE_MAX];
	wm_write_t w = { id };
	snprintf(line, sizeof(line), "%s: line %d\n", title, n);
	qs_msg_init(&req, WM_OP_WRITE);
	qs_msg_put(&req, &w, sizeof(w));
	qs_msg_put_str(&req, line);
	int r = qs_call(qid, &req, &reply, sizeof(reply));
	if (r < 0)
		fail("", r);
}

int
main(int argc, char **argv)
{
	long count = 0;
	int crash = argc == 3 && strcmp(argv[2], "crash") == 0;
	int exits = argc == 4 && strcmp(argv[2], "exit") == 0 &&
		    qs_parse_int(argv[3], &count) == 0 && count >= 0;
	if (argc != 2 && !crash && !exits) {
		printf("usage: winclient TITLE [crash | exit N]\n");
		return 2;
	}
	title = argv[1];
	if ((qid = qs_sq_lookup(WM_QUEUE)) < 0)
		fail("no window manager (queue " WM_QUEUE ")", qid);
	int32_t id = open_window();
	if (crash) {
		write_line(id, 1);
		*(volatile int *)0 = 1; /* on purpose: the WM must clean up */
	}
	for (int n = 1; exits ? n <= count : 1; n++) {
		write_line(id, n);
		if (!exits)
			qs_sleep(1000);
	}
	return 0;
}
