/*
 * Distributed-transaction benchmarks, run by `make bench` on three nodes
 * booted together with bench-dtx.conf under QEMU's -icount shift=0 on a
 * vde LAN (tools/bin/qsnet up --icount). On node 0 it waits until the other
 * nodes' file servers, window managers and TMs answer, then commits
 * transactions of three tree shapes (the root is its transaction, here):
 *
 *   volatile3  a window on wm@1 and one on wm@2: one phase
 *   readonly   a file written on fs@1, one only read on fs@2: node 2
 *              votes read-only in phase one and hears nothing more
 *   recov3     a file written on fs (node 0), fs@1 and fs@2: two phases
 *
 * and prints "bench: METRIC VALUE" lines per shape:
 *   dtx.SHAPE.msgs_x100       TM-to-TM messages per commit x100: the
 *                             requests every node's TM sent (msgs_out of
 *                             all three) and as many replies
 *   dtx.SHAPE.forces_x100     forced log writes per commit x100, all
 *                             nodes: on each node, the syncs of its log
 *                             manager's device (qs_log_stats_at("log@N"))
 *                             plus those of its file server's own RVM log
 *                             (see node_forces)
 *   dtx.SHAPE.tm_forces_x100  the TMs' force requests (their log_forces)
 *   dtx.SHAPE.commit_instr    qs_tx_commit on node 0 (median)
 * and dtx.cleanup_3node.instr: from the kill of a `chain -hold` client
 * (an uncommitted write on fs@1, a log window on wm@2) until fs@1's
 * counters and wm@2's are back where they were, seen by polling them
 * from here (the polls' round trips are in the figure). Then it powers
 * node 0 off. Any failure, or a tree that did not take the shape it
 * should, prints "bench: error: ..." and powers off without "bench:
 * done", so make bench fails. On other nodes it exits at once.
 *
 * Like netbench's, these figures include real time: under icount a halted
 * CPU lets rdtsc run on while node 0 waits for the other QEMUs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <qs/cpu.h>
#include <qs/fs.h>
#include <qs/log.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include "halt.h"
#include <qs/tm.h>
#include <qs/tx.h>
#include <qs/wm.h>
#include "median.h"

#define NODES 3
#define WARMUP 2
#define ROUNDS 20
#define KILLS 5
#define LOOKUP_TRIES 600 /* half a second apart: the other nodes boot */
#define HOLD_TRIES 2000  /* polls until chain holds its transaction */
#define CLEAN_POLLS 100000

static const char *const fs_q[NODES] = { "fs", "fs@1", "fs@2" };
static const char *const tm_q[NODES] = { "tm", "tm@1", "tm@2" };
static const char *const wm_q[NODES] = { NULL, "wm@1", "wm@2" };
static const char *const log_q[NODES] = { LOG_QUEUE, "log@1", "log@2" };

#define WFILE "/dtxbench.w" /* written by every round */
#define RFILE "/dtxbench.r" /* on fs@2, made once, read by readonly */
#define CHAIN_DIR "/dtxbench.c"

static uint32_t samples[ROUNDS > KILLS ? ROUNDS : KILLS];
static qs_msg_t req, reply;

static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;
	char buf[160];
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("bench: error: %s\n", buf);
	bench_halt();
}

static void
check(int r, const char *what, const char *queue)
{
	if (r < 0)
		fail("%s on %s: %s", what, queue, qs_strerror(r));
}

/* A request on queue `name` with no data; its answer's data to out. */
static void
ask(const char *name, uint32_t op, void *out, size_t len)
{
	int qid = qs_sq_lookup(name);
	check(qid, "lookup", name);
	qs_msg_init(&req, op);
	check(qs_call(qid, &req, &reply, sizeof(reply)), "request", name);
	if (reply.hdr.len != len)
		fail("%s answered %u bytes, not %u", name, reply.hdr.len,
		     (unsigned)len);
	memcpy(out, reply.data, len);
}

static void
df(int node, fs_df_t *out)
{
	fs_use_queue(fs_q[node]);
	check(fs_df(out), "df", fs_q[node]);
}

static void
wm_stats(int node, wm_stats_t *out)
{
	ask(wm_q[node], WM_OP_STATS, out, sizeof(*out));
}

/* What every node's TM, log manager and file server counted so far. */
typedef struct {
	tm_stats_t tm[NODES];
	log_stats_t log[NODES];
	fs_df_t fs[NODES];
} snap_t;

static void
snapshot(snap_t *s)
{
	for (int n = 0; n < NODES; n++) {
		ask(tm_q[n], TM_OP_STATS, &s->tm[n], sizeof(s->tm[n]));
		check(qs_log_stats_at(log_q[n], &s->log[n]), "stats", log_q[n]);
		df(n, &s->fs[n]);
	}
}

/*
 * The forced writes on node n between snapshots a and b: the syncs of its
 * node log's device (the log manager's `forces`: every force of the TM,
 * and of any server whose records are in the node log, group commit
 * included) plus the syncs of its file server's own RVM log device (df's
 * log_forces). Today the file server keeps its RVM log on a device of its
 * own, so both terms count. Once its RVM records go into the node log,
 * its forces are node log syncs, counted in the first term, and its RVM
 * reports no syncs of a device of its own (log_forces 0): the sum counts
 * every sync of a log device on the node once, in both worlds.
 */
static uint32_t
node_forces(const snap_t *a, const snap_t *b, int n)
{
	return (uint32_t)(b->log[n].forces - a->log[n].forces) +
	       (uint32_t)(b->fs[n].log_forces - a->fs[n].log_forces);
}

/* Every queue the benchmarks use answers: the other nodes are up, their
 * file servers formatted. */
static void
await_nodes(void)
{
	const char *const *lists[] = { fs_q, tm_q, wm_q, log_q };
	for (int l = 0; l < 4; l++) {
		for (int n = 0; n < NODES; n++) {
			const char *name = lists[l][n];
			int qid = -1;
			for (int i = 0; name && i < LOOKUP_TRIES &&
					(qid = qs_sq_lookup(name)) < 0; i++)
				qs_sleep(500);
			if (name && qid < 0)
				fail("no queue %s: %s", name, qs_strerror(qid));
		}
	}
	snap_t s;
	snapshot(&s); /* and they answer */
	for (int n = 1; n < NODES; n++) {
		wm_stats_t w;
		wm_stats(n, &w);
	}
}

/* ---- the work of one round, under its transaction -------------------------- */

static void
window(int node)
{
	int qid = qs_sq_lookup(wm_q[node]);
	check(qid, "lookup", wm_q[node]);
	qs_msg_init(&req, WM_OP_CREATE);
	qs_msg_put_str(&req, "dtxbench");
	check(qs_call(qid, &req, &reply, sizeof(reply)), "window", wm_q[node]);
	if (reply.hdr.len != sizeof(wm_created_t))
		fail("%s: no window id", wm_q[node]);
}

static void
write_file(int node, const char *path)
{
	static const char line[] = "dtxbench: one line of a round\n";
	fs_use_queue(fs_q[node]);
	int h = fs_open(path, FS_O_CREATE | FS_O_TRUNC);
	if (h < 0)
		fail("create %s on %s: %s", path, fs_q[node], qs_strerror(h));
	int r = fs_write(h, line, sizeof(line) - 1);
	check(r, "write", fs_q[node]);
	if (r != (int)sizeof(line) - 1)
		fail("%s: short write (%d)", fs_q[node], r);
	check(fs_close(h), "close", fs_q[node]);
}

static void
read_file(int node, const char *path)
{
	char buf[64];
	fs_use_queue(fs_q[node]);
	int h = fs_open(path, 0);
	if (h < 0)
		fail("open %s on %s: %s", path, fs_q[node], qs_strerror(h));
	int r = fs_read(h, buf, sizeof(buf));
	check(r, "read", fs_q[node]);
	if (r == 0)
		fail("%s: %s is empty", fs_q[node], path);
	check(fs_close(h), "close", fs_q[node]);
}

enum { VOLATILE3, READONLY, RECOV3, SHAPES };
static const char *const shape_name[SHAPES] = { "volatile3", "readonly",
						"recov3" };

static void
work(int shape)
{
	switch (shape) {
	case VOLATILE3:
		window(1);
		window(2);
		break;
	case READONLY:
		write_file(1, WFILE);
		read_file(2, RFILE);
		break;
	case RECOV3:
		for (int n = 0; n < NODES; n++)
			write_file(n, WFILE);
		break;
	}
}

/* ---- commits ---------------------------------------------------------------- */

/* One round: begin, the work, the commit; returns the commit's cost. */
static uint32_t
round_run(int shape)
{
	uint64_t tx;
	check(qs_tx_begin(&tx), "begin", "tm");
	work(shape);
	uint64_t t0 = qs_rdtsc();
	int r = qs_tx_commit(tx);
	uint64_t t1 = qs_rdtsc();
	check(r, "commit", shape_name[shape]);
	return (uint32_t)(t1 - t0);
}

#define D(field) ((uint32_t)(b->field - a->field))

/* The tree took the shape it should, every round. */
static void
verify(int shape, const snap_t *a, const snap_t *b)
{
	uint32_t one = D(tm[0].one_phase), two = D(tm[0].two_phase);
	uint32_t ro = D(tm[0].read_only);
	uint32_t want[3] = { shape == VOLATILE3 ? ROUNDS : 0,
			     shape == VOLATILE3 ? 0 : ROUNDS, 0 };
	if (one != want[0] || two != want[1] || ro != want[2])
		fail("%s: %u rounds committed one-phase %u, two-phase %u, "
		     "read-only %u times", shape_name[shape], ROUNDS, one, two, ro);
	uint32_t out = 0, in = 0;
	for (int n = 0; n < NODES; n++)
		out += D(tm[n].msgs_out), in += D(tm[n].msgs_in);
	if (out != in) /* a request not served: a timeout, a retry */
		fail("%s: TMs sent %u requests, served %u", shape_name[shape],
		     out, in);
	if (shape == VOLATILE3 && (D(tm[0].log_forces) || D(tm[1].log_forces) ||
				   D(tm[2].log_forces)))
		fail("volatile3: a TM forced its log");
	/* node 2 only read: asked to prepare, and nothing more */
	if (shape == READONLY &&
	    (D(tm[2].msgs_in) != ROUNDS || D(tm[2].log_forces) ||
	     node_forces(a, b, 2) || D(fs[2].prepares)))
		fail("readonly: node 2 took %u requests, forced %u times (its "
		     "TM asked %u), prepared %u times in %u rounds",
		     D(tm[2].msgs_in), node_forces(a, b, 2), D(tm[2].log_forces),
		     D(fs[2].prepares), ROUNDS);
	/* every node prepared its file server's changes */
	if (shape == RECOV3)
		for (int n = 0; n < NODES; n++)
			if (D(fs[n].prepares) != ROUNDS || D(fs[n].commits) != ROUNDS)
				fail("recov3: %s prepared %u and committed %u times "
				     "in %u rounds", fs_q[n], D(fs[n].prepares),
				     D(fs[n].commits), ROUNDS);
}

static void
commit_bench(int shape)
{
	static snap_t sa, sb;
	const snap_t *a = &sa, *b = &sb;
	for (int i = 0; i < WARMUP; i++)
		round_run(shape);
	snapshot(&sa);
	for (int i = 0; i < ROUNDS; i++)
		samples[i] = round_run(shape);
	snapshot(&sb);
	verify(shape, a, b);
	uint32_t reqs = 0, tm_forces = 0, forces = 0;
	for (int n = 0; n < NODES; n++) {
		reqs += D(tm[n].msgs_out);
		tm_forces += D(tm[n].log_forces);
		forces += node_forces(a, b, n);
	}
	const char *s = shape_name[shape];
	/* each request has exactly one reply */
	printf("bench: dtx.%s.msgs_x100 %u\n", s, 2 * reqs * 100 / ROUNDS);
	printf("bench: dtx.%s.forces_x100 %u\n", s, forces * 100 / ROUNDS);
	printf("bench: dtx.%s.tm_forces_x100 %u\n", s, tm_forces * 100 / ROUNDS);
	printf("bench: dtx.%s.commit_instr %u\n", s, median(samples, ROUNDS));
}

#undef D

/* RFILE on fs@2, for the readonly shape to read. */
static void
make_rfile(void)
{
	uint64_t tx;
	check(qs_tx_begin(&tx), "begin", "tm");
	write_file(2, RFILE);
	check(qs_tx_commit(tx), "commit", "the file to read");
}

/* ---- clean-up after a kill ---------------------------------------------------- */

/* What a client's transaction holds on fs@1 and wm@2. */
typedef struct {
	uint32_t handles, transactions, locks, log_windows;
	uint32_t windows, crumbs;
} crumbs_t;

static void
crumbs(crumbs_t *c)
{
	fs_df_t f;
	wm_stats_t w;
	df(1, &f);
	wm_stats(2, &w);
	*c = (crumbs_t){ f.handles, f.transactions, f.locks, f.log_windows,
			 w.windows, w.crumbs };
}

/* chain -hold, killed once it holds; until its breadcrumbs are gone. */
static uint32_t
one_kill(void)
{
	const char *args[] = { "-hold", "-f", "fs@1", "-w", "wm@2", CHAIN_DIR,
			       NULL };
	crumbs_t base, now;
	crumbs(&base);
	int pid = qs_spawn("chain", args, 0);
	check(pid, "spawn", "chain");
	/* it holds once its file is closed (handles back, a lock kept) with
	 * its log window open */
	int i = 0;
	for (; i < HOLD_TRIES; i++) {
		crumbs(&now);
		if (now.locks > base.locks && now.log_windows > base.log_windows &&
		    now.handles == base.handles && now.windows > base.windows)
			break;
		if (qs_waitpid(pid, NULL, QS_WAIT_NOHANG) != 0)
			fail("chain -hold ended by itself (see its output)");
		qs_sleep(20);
	}
	if (i == HOLD_TRIES)
		fail("chain -hold did not get to hold its transaction");
	uint64_t t0 = qs_rdtsc();
	check(qs_kill(pid), "kill", "chain");
	for (i = 0; i < CLEAN_POLLS; i++) {
		crumbs(&now);
		if (memcmp(&now, &base, sizeof(now)) == 0)
			break;
	}
	uint64_t t1 = qs_rdtsc();
	if (i == CLEAN_POLLS)
		fail("breadcrumbs left on fs@1 or wm@2 after a kill");
	check(qs_waitpid(pid, NULL, 0), "waitpid", "chain");
	return (uint32_t)(t1 - t0);
}

int
main(void)
{
	qs_node_info_t ni;
	qs_node_info(&ni);
	if (ni.node_id != 0)
		return 0;
	await_nodes();
	make_rfile();
	for (int s = 0; s < SHAPES; s++)
		commit_bench(s);
	for (int i = 0; i < KILLS; i++)
		samples[i] = one_kill();
	printf("bench: dtx.cleanup_3node.instr %u\n", median(samples, KILLS));
	printf("bench: done\n");
	bench_halt();
}
