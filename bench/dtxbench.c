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
 * from here (the polls' round trips are in the figure).
 *
 * Last, group commit: CLIENTS threads on each of the three nodes commit
 * GROUP_ROUNDS transactions each, all at once, each writing a file on its
 * own node's fs and one on another node's (round-robin), so every commit
 * is two-phase and recoverable on two nodes. Node 0 tells the others when
 * (GC_OP_RUN on their queue "dtxbench", answered when their clients are
 * done), runs its own clients meanwhile, and prints
 *   dtx.group.forces_per_commit_node_x100  for each node, its forces (as
 *                             above) during the run over the commits it
 *                             took part in, x100: the worst node's
 *   dtx.group.commits_per_s   commits of all nodes over the run's time on
 *                             node 0's clock (qs_uptime_ms)
 * Then an orphan: node 0 begins a transaction and sends GC_OP_SPIN under
 * it to node 1, whose handler loops, asking qs_tx_alive each turn, until
 * the transaction is dead; node 0 aborts it (as a killed client's TM
 * would) and prints
 *   dtx.orphan_stop.ms        from the abort until the loop's answer came
 *                             back (median of ORPHANS): the abort reaching
 *                             node 1's TM and kernel, the loop noticing,
 *                             and its answer's trip
 * Then it powers node 0 off. Any failure, or a tree that did not take the
 * shape it should, prints "bench: error: ..." and powers off without
 * "bench: done", so make bench fails. On the other nodes dtxbench serves
 * "dtxbench" until node 0 says it is done (GC_OP_BYE), or GC_WAIT_MS
 * passed.
 *
 * Like netbench's, these figures include real time: under icount a halted
 * CPU lets rdtsc run on while node 0 waits for the other QEMUs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/cpu.h>
#include <qs/fs.h>
#include <qs/log.h>
#include <qs/serve.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/thread.h>
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
static const char *const gc_q[NODES] = { NULL, "dtxbench@1", "dtxbench@2" };

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
	const char *const *lists[] = { fs_q, tm_q, wm_q, log_q, gc_q };
	for (int l = 0; l < 5; l++) {
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


/* ---- group commit ----------------------------------------------------------- */

/*
 * CLIENTS threads per node, each committing its transactions one after the
 * other: a file on its own node's fs and one on node other(n, c)'s, so the
 * commits of a node's clients reach its TM's force point together with
 * those of the other nodes' clients whose second file is here. Each client
 * has its own files (made once by node 0, gc_files), so no two
 * transactions ever want the same lock. A process owns at most 8 open
 * transactions (the kernel's own_tx), and each client owns one at a time.
 */
#define CLIENTS 8
#define GROUP_WARMUP 1
#define GROUP_ROUNDS 10
#define GC_QUEUE "dtxbench"
#define GC_WAIT_MS (30 * 60 * 1000) /* nodes 1, 2: for node 0's word */

enum { GC_OP_RUN = 1, GC_OP_BYE = 2, GC_OP_SPIN = 3 };

typedef struct {
	uint32_t rounds; /* commits per client */
} gc_run_t;

typedef struct {
	int32_t err;              /* 0, or the first error a client met */
	uint32_t commits;         /* by this node's clients */
	uint32_t involved[NODES]; /* commits each node's fs took part in */
	char what[96];            /* what err was */
} gc_result_t;

static int
other(int n, int c)
{
	return (n + 1 + c % 2) % NODES;
}

/* Node `node`'s queue `base`, seen from node self. */
static void
qname(char *out, size_t cap, const char *base, int node, int self)
{
	if (node == self)
		snprintf(out, cap, "%s", base);
	else
		snprintf(out, cap, "%s@%d", base, node);
}

static void
gc_path(char *out, size_t cap, int n, int c)
{
	snprintf(out, cap, "/gc.%d.%d", n, c);
}

/* A request to the file server on queue q; fs.h's calls share one queue
 * name for the process (fs_use_queue), and the clients are threads. */
static int
fs_req(const char *q, uint32_t op, const void *a, size_t alen, const void *b,
       size_t blen)
{
	int qid = qs_sq_lookup(q);
	if (qid < 0)
		return qid;
	qs_msg_t *m = malloc(sizeof(*m)), *r = malloc(sizeof(*r));
	int res = QS_ENOMEM;
	if (m && r) {
		qs_msg_init(m, op);
		res = qs_msg_put(m, a, alen);
		if (res >= 0 && blen)
			res = qs_msg_put(m, b, blen);
		if (res >= 0)
			res = qs_call(qid, m, r, sizeof(*r));
	}
	free(m);
	free(r);
	return res;
}

/* Rewrites the client's file on fs queue q, under the thread's transaction. */
static int
gc_write(const char *q, const char *path, const char **what)
{
	static const char line[] = "dtxbench: one line of a group commit\n";
	fs_open_t o = { .flags = FS_O_TRUNC };
	snprintf(o.path, sizeof(o.path), "%s", path);
	int h = fs_req(q, FS_OP_OPEN, &o, sizeof(o), NULL, 0);
	if (h < 0)
		return *what = "open", h;
	fs_io_t io = { (uint32_t)h, sizeof(line) - 1 };
	int r = fs_req(q, FS_OP_WRITE, &io, sizeof(io), line, io.len);
	if (r >= 0 && r != (int)io.len)
		r = QS_EIO;
	if (r < 0)
		return *what = "write", r;
	uint32_t hh = (uint32_t)h;
	r = fs_req(q, FS_OP_CLOSE, &hh, sizeof(hh), NULL, 0);
	return *what = "close", r;
}

typedef struct {
	int self, c;
	uint32_t rounds, commits;
	int32_t err;
	char what[96];
} client_t;

static void *
client(void *arg)
{
	client_t *cl = arg;
	int targets[2] = { cl->self, other(cl->self, cl->c) };
	char q[2][QS_NAME_MAX], path[32];
	for (int t = 0; t < 2; t++)
		qname(q[t], sizeof(q[t]), "fs", targets[t], cl->self);
	gc_path(path, sizeof(path), cl->self, cl->c);
	for (uint32_t i = 0; i < cl->rounds; i++) {
		uint64_t tx;
		const char *what = "begin";
		int r = qs_tx_begin(&tx), began = r >= 0;
		for (int t = 0; r >= 0 && t < 2; t++)
			r = gc_write(q[t], path, &what);
		if (r >= 0) {
			what = "commit";
			r = qs_tx_commit(tx);
		} else if (began) {
			qs_tx_abort(tx);
		}
		if (r < 0) {
			cl->err = r;
			snprintf(cl->what, sizeof(cl->what), "node %d client %d: "
				 "%s: %s", cl->self, cl->c, what, qs_strerror(r));
			break;
		}
		cl->commits++;
	}
	return NULL;
}

/*
 * This node's CLIENTS clients, rounds commits each, all at once; what
 * they did into *res. The fs queues are looked up first, here, so that
 * the clients do not all ask the network at once (the CM takes few
 * lookups per process at a time).
 */
static void
gc_run(int self, uint32_t rounds, gc_result_t *res)
{
	static client_t cls[CLIENTS];
	qs_thread_t *th[CLIENTS];
	memset(res, 0, sizeof(*res));
	for (int n = 0; n < NODES; n++) {
		char q[QS_NAME_MAX];
		qname(q, sizeof(q), "fs", n, self);
		int qid = qs_sq_lookup(q);
		if (qid < 0) {
			res->err = qid;
			snprintf(res->what, sizeof(res->what), "node %d: lookup "
				 "%s: %s", self, q, qs_strerror(qid));
			return;
		}
	}
	int started = 0;
	for (; started < CLIENTS; started++) {
		cls[started] = (client_t){ self, started, rounds, 0, 0, "" };
		if (!(th[started] = qs_thread_create(client, &cls[started])))
			break;
	}
	for (int c = 0; c < started; c++)
		qs_thread_join(th[c]);
	if (started < CLIENTS) {
		res->err = QS_ENOMEM;
		snprintf(res->what, sizeof(res->what), "node %d: cannot start "
			 "client %d", self, started);
	}
	for (int c = 0; c < started; c++) {
		res->commits += cls[c].commits;
		res->involved[self] += cls[c].commits;
		res->involved[other(self, c)] += cls[c].commits;
		if (cls[c].err && !res->err) {
			res->err = cls[c].err;
			memcpy(res->what, cls[c].what, sizeof(res->what));
		}
	}
}

/* ---- nodes 1 and 2: run the clients when node 0 says ----------------------- */

static qs_mutex_t gc_lock = QS_MUTEX_INIT;
static qs_cond_t gc_cond = QS_COND_INIT;
static int gc_bye;
static int gc_self;

static int32_t
op_run(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)ctx;
	const gc_run_t *run = args;
	gc_result_t res;
	gc_run(gc_self, run->rounds, &res);
	qs_msg_put(reply, &res, sizeof(res));
	return 0;
}

static int32_t
op_bye(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)args, (void)reply, (void)ctx;
	qs_mutex_lock(&gc_lock);
	gc_bye = 1;
	qs_cond_signal(&gc_cond);
	qs_mutex_unlock(&gc_lock);
	return 0;
}

#define SPIN_MAX_MS 60000

typedef struct {
	uint32_t turns; /* of the loop */
	int32_t why;    /* what stopped it: qs_tx_alive's answer */
} spun_t;

/* Loops under the request's transaction until it is dead (an orphan);
 * answers how many turns it made. */
static int32_t
op_spin(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)args, (void)ctx;
	spun_t out = { 0, 0 };
	uint32_t t0 = qs_uptime_ms();
	while ((out.why = qs_tx_alive()) == 0 && qs_uptime_ms() - t0 < SPIN_MAX_MS)
		out.turns++;
	qs_msg_put(reply, &out, sizeof(out));
	return 0;
}

static const qs_op_t gc_ops[] = {
	[GC_OP_RUN] = { "run", QS_LEN(gc_run_t), 0, NULL, op_run, 0 },
	[GC_OP_BYE] = { "bye", 0, 0, 0, NULL, op_bye, 0 },
	[GC_OP_SPIN] = { "spin", 0, 0, 0, NULL, op_spin, 0 },
};
static qs_server_t gc_server = QS_SERVER(GC_QUEUE, gc_ops, NULL);

static void *
gc_serve(void *arg)
{
	/* two threads: an orphan's spin and node 0's bye */
	return (void *)qs_serve_table((int)(uintptr_t)arg, &gc_server, 2);
}

/*
 * Serves GC_QUEUE until node 0 says bye (after its last run: it has the
 * answer by then) or GC_WAIT_MS passed, when node 0 has given up or never
 * got this far; its runs' answers are only for node 0 to judge.
 */
static int
serve_node0(int self)
{
	gc_self = self;
	int qid = qs_sq_create(GC_QUEUE, 0);
	if (qid < 0) {
		printf("dtxbench: cannot create %s: %s\n", GC_QUEUE,
		       qs_strerror(qid));
		return 1;
	}
	if (!qs_thread_create(gc_serve, (void *)(uintptr_t)qid)) {
		printf("dtxbench: cannot start serving %s\n", GC_QUEUE);
		return 1;
	}
	uint32_t t0 = qs_uptime_ms();
	qs_mutex_lock(&gc_lock);
	while (!gc_bye) {
		uint32_t waited = qs_uptime_ms() - t0;
		if (waited >= GC_WAIT_MS)
			break;
		qs_cond_timedwait(&gc_cond, &gc_lock,
				  (int32_t)(GC_WAIT_MS - waited));
	}
	int bye = gc_bye;
	qs_mutex_unlock(&gc_lock);
	if (bye)
		printf("dtxbench: node %d: done\n", self);
	else
		printf("dtxbench: node %d: no word from node 0 in %u s\n", self,
		       GC_WAIT_MS / 1000);
	return !bye;
}

/* ---- node 0: the group-commit row ------------------------------------------- */

/* Each client's files, on its own node's fs and its other's, in one
 * transaction from here: made once, then only rewritten. */
static void
gc_files(void)
{
	char path[32];
	uint64_t tx;
	check(qs_tx_begin(&tx), "begin", "tm");
	for (int n = 0; n < NODES; n++)
		for (int c = 0; c < CLIENTS; c++) {
			gc_path(path, sizeof(path), n, c);
			write_file(n, path);
			write_file(other(n, c), path);
		}
	check(qs_tx_commit(tx), "commit", "the group-commit files");
}

typedef struct {
	int node;
	uint32_t rounds;
	gc_result_t res;
} remote_run_t;

/* GC_OP_RUN on node rr->node, from a thread of its own. */
static void *
remote_run(void *arg)
{
	remote_run_t *rr = arg;
	gc_run_t run = { rr->rounds };
	qs_msg_t *m = malloc(sizeof(*m)), *r = malloc(sizeof(*r));
	int res = QS_ENOMEM, qid = qs_sq_lookup(gc_q[rr->node]);
	if (qid < 0)
		res = qid;
	else if (m && r) {
		qs_msg_init(m, GC_OP_RUN);
		qs_msg_put(m, &run, sizeof(run));
		res = qs_call(qid, m, r, sizeof(*r));
		if (res >= 0 && r->hdr.len != sizeof(rr->res))
			res = QS_EIO;
	}
	if (res >= 0)
		memcpy(&rr->res, r->data, sizeof(rr->res));
	else {
		rr->res.err = res;
		snprintf(rr->res.what, sizeof(rr->res.what), "run on %s",
			 gc_q[rr->node]);
	}
	free(m);
	free(r);
	return NULL;
}

/* One run on every node at once; the sum of their results into *out. */
static void
gc_all(uint32_t rounds, gc_result_t *out)
{
	static remote_run_t rr[NODES];
	qs_thread_t *th[NODES] = { NULL };
	for (int n = 1; n < NODES; n++) {
		rr[n] = (remote_run_t){ n, rounds, { 0 } };
		if (!(th[n] = qs_thread_create(remote_run, &rr[n])))
			fail("group: cannot start a thread");
	}
	gc_run(0, rounds, &rr[0].res);
	for (int n = 1; n < NODES; n++)
		qs_thread_join(th[n]);
	memset(out, 0, sizeof(*out));
	for (int n = 0; n < NODES; n++) {
		const gc_result_t *g = &rr[n].res;
		if (g->err)
			fail("group: %s (%s)", g->what, qs_strerror(g->err));
		if (g->commits != CLIENTS * rounds)
			fail("group: node %d committed %u times, not %u", n,
			     g->commits, CLIENTS * rounds);
		out->commits += g->commits;
		for (int k = 0; k < NODES; k++)
			out->involved[k] += g->involved[k];
	}
}

#define D(field) ((uint32_t)(b->field - a->field))

static void
group_bench(void)
{
	static snap_t sa, sb;
	const snap_t *a = &sa, *b = &sb;
	gc_result_t g;
	gc_files();
	gc_all(GROUP_WARMUP, &g);
	snapshot(&sa);
	uint32_t t0 = qs_uptime_ms();
	uint64_t c0 = qs_rdtsc();
	gc_all(GROUP_ROUNDS, &g);
	uint64_t c1 = qs_rdtsc();
	uint32_t ms = qs_uptime_ms() - t0;
	snapshot(&sb);
	/* they are done: let them go (they may be gone before they answer) */
	for (int n = 1; n < NODES; n++) {
		int qid = qs_sq_lookup(gc_q[n]), r = qid;
		qs_msg_init(&req, GC_OP_BYE);
		if (qid >= 0)
			r = qs_call(qid, &req, &reply, sizeof(reply));
		if (r < 0 && r != QS_ESRVDIED && r != QS_EQGONE)
			printf("dtxbench: group: bye to %s: %s\n", gc_q[n],
			       qs_strerror(r));
	}
	/* every commit two-phase, on two nodes' file servers */
	uint32_t two = 0, prepares = 0;
	for (int n = 0; n < NODES; n++) {
		two += D(tm[n].two_phase);
		prepares += D(fs[n].prepares);
		if (D(fs[n].commits) != g.involved[n])
			fail("group: %s committed %u times, in %u commits",
			     fs_q[n], D(fs[n].commits), g.involved[n]);
	}
	if (two != g.commits || prepares != 2 * g.commits)
		fail("group: %u commits, %u two-phase, %u prepares", g.commits,
		     two, prepares);
	uint32_t worst = 0;
	for (int n = 0; n < NODES; n++) {
		uint32_t f = node_forces(a, b, n);
		uint32_t x100 = f * 100 / g.involved[n];
		printf("dtxbench: group: node %d: %u forces (log %u, fs RVM %u; "
		       "TM asked %u; log answered %u forces, %u lazy, %u "
		       "group; %u flushes for lazy ones alone, %u after a "
		       "group's wait) in %u commits: %u.%02u a commit\n", n, f,
		       D(log[n].forces), D(fs[n].log_forces),
		       D(tm[n].log_forces), D(log[n].forced), D(log[n].lazy),
		       D(log[n].group), D(log[n].lazy_flushes),
		       D(log[n].group_flushes), g.involved[n], x100 / 100,
		       x100 % 100);
		if (x100 > worst)
			worst = x100;
	}
	printf("dtxbench: group: %u commits in %u ms (%llu rdtsc)\n", g.commits,
	       ms, (unsigned long long)(c1 - c0));
	printf("bench: dtx.group.forces_per_commit_node_x100 %u\n", worst);
	printf("bench: dtx.group.commits_per_s %u\n",
	       ms ? (uint32_t)((uint64_t)g.commits * 1000 / ms) : 0);
}

#undef D

/* ---- node 0: an orphan's end ------------------------------------------------ */

#define ORPHANS 5
#define SPIN_START_MS 200 /* the scenario: node 1 spins before the abort */

/* One orphan: ms from the abort to the spin's answer; 0 if the request
 * was refused before it ran (the abort came first: try again). */
static uint32_t
one_orphan(void)
{
	uint64_t tx, was = qs_tx_get();
	check(qs_tx_begin(&tx), "begin", "tm");
	int qid = qs_sq_lookup(gc_q[1]);
	check(qid, "lookup", gc_q[1]);
	qs_msg_init(&req, GC_OP_SPIN);
	int rid = qs_send(qid, &req);
	check(rid, "send", gc_q[1]);
	qs_tx_set(was); /* the abort and the wait are not the orphan's */
	qs_sleep(SPIN_START_MS);
	uint32_t t0 = qs_uptime_ms();
	check(qs_tx_abort(tx), "abort", "tm");
	int r = qs_wait(rid, &reply, sizeof(reply), SPIN_MAX_MS * 2);
	uint32_t t1 = qs_uptime_ms();
	check(r, "wait for the spin", gc_q[1]);
	const spun_t *out = QS_MSG_AS(&reply, spun_t);
	if (reply.hdr.status == QS_EABORTED)
		return 0; /* refused before it ran */
	if (reply.hdr.status != 0 || !out || out->why != QS_EABORTED)
		fail("the orphan on node 1 ended with %s, not \"transaction "
		     "aborted\"", qs_strerror(out && !reply.hdr.status ? out->why
					       : reply.hdr.status));
	return out->turns ? t1 - t0 : 0;
}

static void
orphan_bench(void)
{
	int tries = 0;
	for (int i = 0; i < ORPHANS;) {
		if (++tries > 10 * ORPHANS)
			fail("the abort came before node 1 began to spin, %d "
			     "times", tries - 1 - i);
		uint32_t ms = one_orphan();
		if (ms)
			samples[i++] = ms;
	}
	printf("bench: dtx.orphan_stop.ms %u\n", median(samples, ORPHANS));
}

int
main(void)
{
	qs_node_info_t ni;
	qs_node_info(&ni);
	if (ni.node_id >= NODES)
		return 0;
	if (ni.node_id != 0)
		return serve_node0((int)ni.node_id);
	await_nodes();
	char only[16] = "";
	qs_boot_arg("dtxbench", only, sizeof(only));
	if (strcmp(only, "group") == 0) { /* bench.py's run on slow disks */
		group_bench();
		printf("bench: done\n");
		bench_halt();
	}
	make_rfile();
	for (int s = 0; s < SHAPES; s++)
		commit_bench(s);
	for (int i = 0; i < KILLS; i++)
		samples[i] = one_kill();
	printf("bench: dtx.cleanup_3node.instr %u\n", median(samples, KILLS));
	orphan_bench();
	group_bench();
	printf("bench: done\n");
	bench_halt();
}
