/*
 * A seeded syscall fuzzer: random and boundary arguments to every syscall
 * number, from child processes, so that only the kernel's survival counts;
 * and random and malformed requests to every server on the node, whose
 * survival and service count too.
 *
 *   fuzz SEED CALLS [CHILDREN [t]]
 *                                the run: CALLS calls in slices of at most
 *                                SLICE, CHILDREN children at a time (t: the
 *                                children print every call first)
 *   fuzz child SEED CALLS PPID CTL [t]
 *                                one slice (t: print every call first)
 *   fuzz quiet [c|s|w QID]       what a child spawns: exits at once, or
 *                                first calls (c) or serves (s) the queue
 *                                QID, or waits a little (w)
 *
 * A child reports how many calls it made to the parent's queue CTL (every
 * REPORT_EVERY calls and before it ends itself), so a child that exits, kills
 * itself or ends its main thread early is credited and the rest of its slice
 * goes to a new child. The parent waits for its children (a deadline only
 * detects a hung child), then checks that the free pages and the kernel heap
 * come back to where they were, and that every server lives, keeps its
 * threads, holds nothing of the run's clients, serves a well-behaved client
 * and counted the bad requests (fuzz/health.c). One seed gives the same
 * calls: with
 * CHILDREN 1 a failing seed reproduces; `fuzz child S N 0 0 t` replays one
 * slice with a trace (with a line "fz srv" for each server request).
 *
 * A child keeps a few server threads offering on queues it made (the upcall
 * handler replies, defers, answers, sends bad replies or ends its thread), a
 * few helper threads (futex waits, sleeps; now and then one ends the whole
 * child), and a watchdog thread that destroys a queue of its own left with
 * requests and no server (a call there would wait for ever, by design). The
 * calls avoid the child's own image and stack: every pointer it passes is
 * into its scratch arena, the read-only ELF header, or somewhere unmapped
 * or kernel-only (fuzz/args.c has the generators; fuzz/fuzz.h lists the
 * parts).
 *
 * What the fuzz leaves out: allowed() (what only a quota will refuse, the
 * UNGUARDED table) and harmless() (what would only make the child wait for
 * ever by its own doing); requests to servers are all made (fuzz/srv.c),
 * but disktest.pmem's three test operations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/thread.h>
#include "fuzz/fuzz.h"

static int32_t
echo_handler(const qs_msg_t *req, qs_msg_t *reply, void *ctx)
{
	(void)ctx;
	qs_msg_put(reply, req->data, req->hdr.len < 64 ? req->hdr.len : 64);
	return (int32_t)req->hdr.opcode & 0xFF;
}

/* What a child spawns: exit, or first call (c), serve (s) a queue of the
 * child's, or wait a little (w): to be killed or orphaned meanwhile. */
static int
quiet(int argc, char **argv)
{
	static qs_msg_t m, r;
	static volatile uint32_t never;
	int qid = argc >= 4 ? atoi(argv[3]) : 0;

	if (argc < 4)
		return 0;
	switch (argv[2][0]) {
	case 'c':
		qs_msg_init(&m, 5);
		m.hdr.len = 100;
		return qs_call(qid, &m, &r, sizeof(r)) & 0xFF;
	case 's':
		return qs_serve(qid, echo_handler, NULL, 1) & 0xFF;
	case 'w':
		return qs_futex_wait(&never, 0, 200) & 0xFF;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	long calls, par = 2, pp, ctl;
	char *end = NULL;
	uint32_t seed = argc >= 3 ? (uint32_t)strtoul(argv[argc >= 6 ? 2 : 1], &end, 0) : 0;
	int seed_ok = end && *end == 0;

	if (argc >= 2 && strcmp(argv[1], "quiet") == 0)
		return quiet(argc, argv);
	if (argc >= 6 && strcmp(argv[1], "child") == 0 && seed_ok &&
	    qs_parse_int(argv[3], &calls) == 0 &&
	    qs_parse_int(argv[4], &pp) == 0 && qs_parse_int(argv[5], &ctl) == 0) {
		trace = argc >= 7 && argv[6][0] == 't';
		return child(seed, (uint32_t)calls, (int)pp, (int)ctl);
	}
	trace = argc == 5 && argv[4][0] == 't';
	if (argc >= 3 && argc <= 5 && seed_ok &&
	    qs_parse_int(argv[2], &calls) == 0 && calls > 0 &&
	    (argc < 4 || qs_parse_int(argv[3], &par) == 0))
		return parent(seed, (uint32_t)calls, (int)par);
	printf("usage: fuzz SEED CALLS [CHILDREN [t]]\n");
	return 2;
}
