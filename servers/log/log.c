/*
 * log: the node's log manager (protocol: qs/log.h; design: README.md).
 *
 * The store (store.c) on the disk server's region log.node; a table on
 * queue "log" served by several threads, all under one lock; and the
 * writer thread, which answers the forces: it flushes whatever has been
 * appended when it wakes, so every force that came meanwhile shares that
 * one sync (group commit). Appends move the head on when the log is three
 * quarters full (store.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <qs/log.h>
#include <qs/serve.h>
#include <qs/sq.h>
#include <qs/sys.h>
#include <qs/thread.h>
#include "store.h"

#define REGION "log.node"
#define THREADS 8

static qs_mutex_t lock = QS_MUTEX_INIT;
static qs_cond_t work = QS_COND_INIT;    /* a force is waiting */
static qs_cond_t flushed = QS_COND_INIT; /* the writer's flush ended */
static store_t st;
static int pids[LOG_OWNERS_MAX]; /* the process each owner is open for */

/* How long a force may wait for others to share its flush (qs/log.h). */
enum { WAIT_NONE, WAIT_GROUP, WAIT_LAZY };

typedef struct {
	uint32_t rid;
	uint32_t how;  /* WAIT_* */
	uint32_t due;  /* WAIT_GROUP, WAIT_LAZY: flush by then (uptime ms) */
	uint64_t pseq; /* answered once records below pseq + 1 are durable */
} waiter_t;
static waiter_t waiters[LOG_WAITERS_MAX];
static uint32_t n_waiters;
static log_crash_t crash; /* the crash tests' point (LOG_OP_CRASH) */

/* ---- the writer --------------------------------------------------------- */

static void
answer(uint32_t rid, int32_t status, uint64_t seq)
{
	static qs_msg_t reply; /* the writer's own */
	log_pos_t pos = { seq };
	qs_msg_init(&reply, 0);
	reply.hdr.status = status;
	if (status >= 0)
		qs_msg_put(&reply, &pos, sizeof(pos));
	qs_answer(rid, &reply);
}

/* With the lock: answers the forces the last flush (or failure) ended. */
static void
answer_waiters(int err)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < n_waiters; i++) {
		if (!err && waiters[i].pseq >= st.durable) {
			waiters[k++] = waiters[i];
			continue;
		}
		answer(waiters[i].rid, err, waiters[i].pseq);
		if (!err)
			st.stats.forced++;
		if (!err && waiters[i].how == WAIT_LAZY)
			st.stats.lazy++;
		if (!err && waiters[i].how == WAIT_GROUP)
			st.stats.group++;
	}
	n_waiters = k;
}

/* The crash point: what `how` says reaches the disk, then nothing more.
 * With the lock; the node is about to be killed. */
static void
crash_here(const store_io_t *io)
{
	static const char *const what[] = { "", "before the flush",
					    "half of the flush, unsynced",
					    "after the flush's sync" };
	qs_mutex_unlock(&lock);
	if (crash.how == LOG_CRASH_TORN)
		store_flush_io_torn(&st, io);
	else if (crash.how == LOG_CRASH_AFTER)
		store_flush_io(&st, io);
	qs_mutex_lock(&lock);
	st.broken = QS_EIO; /* no other write either: requests get QS_EIO */
	st.flushing = 0;
	qs_cond_broadcast(&flushed);
	printf("log: crash point reached: %s of records up to %llu\n",
	       what[crash.how], (unsigned long long)io->pseq - 1);
	qs_mutex_unlock(&lock);
	for (;;)
		qs_sleep(60000);
}

/* With the lock: how long the writer may still wait before it flushes
 * for the forces waiting (0: now); *how: why it flushes then, WAIT_NONE
 * when a plain force waits, else the kind whose time runs out first. */
static int32_t
time_left(uint32_t *how)
{
	int32_t left = INT32_MAX;
	uint32_t now = qs_uptime_ms();
	for (uint32_t i = 0; i < n_waiters; i++) {
		if (waiters[i].how == WAIT_NONE) {
			*how = WAIT_NONE;
			return 0;
		}
		int32_t l = (int32_t)(waiters[i].due - now);
		if (l < left) {
			left = l;
			*how = waiters[i].how;
		}
	}
	return left < 0 ? 0 : left;
}

/*
 * Flushes without the lock, so that appends and forces go on meanwhile:
 * the forces that arrive during a flush share the next one (group
 * commit).
 */
static void *
writer(void *arg)
{
	static store_io_t io;
	(void)arg;
	qs_mutex_lock(&lock);
	for (;;) {
		while (!n_waiters)
			qs_cond_wait(&work, &lock);
		uint32_t how = WAIT_NONE;
		int32_t left;
		while ((left = time_left(&how)) > 0) /* only the writer answers */
			qs_cond_timedwait(&work, &lock, left);
		st.stats.lazy_flushes += how == WAIT_LAZY;
		st.stats.group_flushes += how == WAIT_GROUP;
		int err = store_flush_take(&st, &io);
		if (err == QS_ENOMEM) /* no copy: in place, under the lock */
			err = store_flush(&st);
		else if (!err && st.flushing && crash.flush && !--crash.flush)
			crash_here(&io); /* never returns */
		if (!err && st.flushing) {
			qs_mutex_unlock(&lock);
			err = store_flush_io(&st, &io);
			qs_mutex_lock(&lock);
			err = store_flush_done(&st, &io, err);
			qs_cond_broadcast(&flushed);
		}
		answer_waiters(err);
	}
	return NULL;
}

/* With the lock: until no flush of the writer's is under way, before a
 * store call that may flush itself (store_wants_flush). */
static void
await_flushed(void)
{
	while (st.flushing)
		qs_cond_wait(&flushed, &lock);
}

/* ---- requests ----------------------------------------------------------- */

/* The owner a request names, if the caller is the process it is open for. */
static int
owner_of(const qs_msg_t *req, uint32_t handle)
{
	if (handle >= st.n_owners || !pids[handle] ||
	    pids[handle] != req->hdr.src_pid)
		return QS_EPERM; /* not opened, or by another process */
	return (int)handle;
}

static int32_t
decode_open(const qs_msg_t *req, void *args)
{
	const log_open_t *o = (const void *)req->data;
	if (!memchr(o->name, '\0', sizeof(o->name)) || !o->name[0])
		return QS_EINVAL;
	memcpy(args, o, sizeof(*o));
	return 0;
}

static int32_t
op_open(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)ctx;
	const log_open_t *o = args;
	if (qs_name_holder(o->name) != req->hdr.src_pid)
		return QS_EPERM; /* the name is not reserved for the caller */
	int owner = store_owner(&st, o->name);
	if (owner < 0)
		return QS_ELIMIT;
	pids[owner] = req->hdr.src_pid;
	log_opened_t out = { (uint32_t)owner, 0 };
	for (uint32_t i = st.first; i < st.n; i++)
		out.records += st.idx[i].live && st.idx[i].owner == owner;
	st.stats.owners = 0;
	for (uint32_t i = 0; i < st.n_owners; i++)
		st.stats.owners += pids[i] != 0;
	qs_msg_put(reply, &out, sizeof(out));
	return 0;
}

/* With the lock: defers the request until records up to pseq are durable. */
static int32_t
await_durable(const qs_msg_t *req, qs_msg_t *reply, uint64_t pseq,
	      uint32_t how)
{
	static const uint32_t wait_ms[] = { 0, LOG_GROUP_MS, LOG_LAZY_MS };
	log_pos_t pos = { pseq };
	if (pseq < st.durable) {
		st.stats.forced++;
		qs_msg_put(reply, &pos, sizeof(pos));
		return 0;
	}
	if (n_waiters == LOG_WAITERS_MAX)
		return QS_ELIMIT;
	waiters[n_waiters++] = (waiter_t){ req->hdr.rid, how,
					   qs_uptime_ms() + wait_ms[how], pseq };
	qs_cond_signal(&work);
	qs_defer(reply);
	return 0;
}

/* Flags: none, LOG_F_FORCE, or LOG_F_FORCE with LOG_F_GROUP. */
static int32_t
decode_append(const qs_msg_t *req, void *args)
{
	const log_append_t *a = (const void *)req->data;
	if ((a->flags & ~(LOG_F_FORCE | LOG_F_GROUP)) ||
	    a->flags == LOG_F_GROUP)
		return QS_EINVAL;
	memcpy(args, a, sizeof(*a));
	return 0;
}

static int32_t
op_append(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)ctx;
	const log_append_t *a = args;
	int owner = owner_of(req, a->owner);
	uint64_t seq;
	if (owner < 0)
		return owner;
	if (store_wants_flush(&st, req->hdr.ool_len, NULL))
		await_flushed(); /* it compacts first */
	if ((a->flags & LOG_F_FORCE) && n_waiters == LOG_WAITERS_MAX)
		return QS_ELIMIT; /* before the append: refused means not logged */
	int r = store_append(&st, owner, a->kind, a->key,
			     (const void *)req->hdr.ool, req->hdr.ool_len, &seq);
	if (r)
		return r;
	if (a->flags & LOG_F_FORCE)
		return await_durable(req, reply, seq, a->flags & LOG_F_GROUP ?
				     WAIT_GROUP : WAIT_NONE);
	log_pos_t pos = { seq };
	qs_msg_put(reply, &pos, sizeof(pos));
	return 0;
}

/* Flags: none, LOG_FORCE_LAZY or LOG_FORCE_GROUP, not both. */
static int32_t
decode_force(const qs_msg_t *req, void *args)
{
	const log_force_t *f = (const void *)req->data;
	if (f->flags != 0 && f->flags != LOG_FORCE_LAZY &&
	    f->flags != LOG_FORCE_GROUP)
		return QS_EINVAL;
	memcpy(args, f, sizeof(*f));
	return 0;
}

static int32_t
op_force(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)ctx;
	const log_force_t *f = args;
	int owner = owner_of(req, f->owner);
	if (owner < 0)
		return owner;
	uint64_t last = st.next_pseq - 1;
	return await_durable(req, reply, f->seq && f->seq < last ? f->seq : last,
			     f->flags == LOG_FORCE_LAZY ? WAIT_LAZY :
			     f->flags == LOG_FORCE_GROUP ? WAIT_GROUP :
			     WAIT_NONE);
}

/* The last record read, for the reads of its next pieces; with the lock. */
static struct {
	uint8_t data[LOG_DATA_MAX];
	lrec_t rec;
	int len; /* 0: none */
} last;

static int32_t
op_read(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)ctx;
	const log_read_t *rd = args;
	int owner = owner_of(req, rd->owner);
	if (owner < 0)
		return owner;
	const lrec_t *r;
	while ((r = store_next(&st, owner, rd->after)) && st.flushing &&
	       store_wants_flush(&st, 0, r))
		await_flushed(); /* then look again: the index may have moved */
	if (!r)
		return QS_ENOENT;
	if (!last.len || last.rec.pseq != r->pseq) {
		last.rec = *r;
		last.len = 0;
		int n = store_read(&st, &last.rec, last.data, sizeof(last.data));
		if (n < 0)
			return n;
		if (n > (int)sizeof(last.data))
			return QS_EIO;
		last.len = n;
	}
	if (rd->offset > (uint32_t)last.len)
		return QS_EINVAL;
	uint32_t n = last.len - rd->offset;
	log_rec_t out = { r->seq, r->key, r->kind, 0, (uint32_t)last.len };
	qs_msg_put(reply, &out, sizeof(out));
	qs_msg_put(reply, last.data + rd->offset,
		   n < LOG_READ_MAX ? n : LOG_READ_MAX);
	return 0;
}

static int32_t
op_release(const qs_msg_t *req, const void *args, qs_msg_t *reply,
	   void *ctx)
{
	(void)ctx, (void)reply;
	const log_release_t *rl = args;
	int owner = owner_of(req, rl->owner);
	if (owner < 0)
		return owner;
	if (rl->last < rl->key)
		return QS_EINVAL;
	if (store_wants_flush(&st, sizeof(uint64_t), NULL))
		await_flushed();
	return store_release(&st, owner, rl->key, rl->last);
}

static int32_t
op_stats(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)args;
	log_stats_t out = st.stats;
	out.size = st.area;
	out.used = store_used(&st);
	out.refused = qs_serve_refused(ctx); /* the table it came through */
	qs_msg_put(reply, &out, sizeof(out));
	return 0;
}

static int32_t
decode_crash(const qs_msg_t *req, void *args)
{
	const log_crash_t *c = (const void *)req->data;
	if (!c->flush || c->how < LOG_CRASH_BEFORE || c->how > LOG_CRASH_AFTER)
		return QS_EINVAL;
	memcpy(args, c, sizeof(*c));
	return 0;
}

static int32_t
op_crash(const qs_msg_t *req, const void *args, qs_msg_t *reply, void *ctx)
{
	(void)req, (void)reply, (void)ctx;
	crash = *(const log_crash_t *)args;
	printf("log: crash point armed: flush %u from now, %s\n", crash.flush,
	       crash.how == LOG_CRASH_BEFORE ? "before it"
	       : crash.how == LOG_CRASH_TORN ? "torn" : "after it");
	return 0;
}

static int32_t
op_refused(const qs_msg_t *req, const void *args, qs_msg_t *reply,
	   void *ctx)
{
	(void)req, (void)args, (void)reply, (void)ctx;
	return QS_EIO;
}

#define L QS_WHO_LOCAL
static const qs_op_t ops[] = {
	[LOG_OP_OPEN] = { "open", QS_LEN(log_open_t), 0, decode_open,
			  op_open, L },
	[LOG_OP_APPEND] = { "append", QS_LEN(log_append_t), LOG_DATA_MAX,
			    decode_append, op_append, L },
	[LOG_OP_FORCE] = { "force", QS_LEN(log_force_t), 0, decode_force,
			   op_force, L },
	[LOG_OP_READ] = { "read", QS_LEN(log_read_t), 0, NULL, op_read, L },
	[LOG_OP_RELEASE] = { "release", QS_LEN(log_release_t), 0, NULL,
			     op_release, L },
	[LOG_OP_STATS] = { "stats", 0, 0, 0, NULL, op_stats, 0 },
	[LOG_OP_CRASH] = { "crash", QS_LEN(log_crash_t), 0, decode_crash,
			   op_crash, L | QS_WHO_RIGHT(QS_RIGHT_ADMIN) },
};
static qs_server_t server = QS_SERVER_LOCKED("log", ops, &server, &lock);

/* When the log cannot be used: every owner's request gets QS_EIO. */
#define REFUSED(name) { name, 0, QS_MSG_INLINE, LOG_DATA_MAX, NULL, op_refused, L }
static const qs_op_t broken_ops[] = {
	[LOG_OP_OPEN] = REFUSED("open"),
	[LOG_OP_APPEND] = REFUSED("append"),
	[LOG_OP_FORCE] = REFUSED("force"),
	[LOG_OP_READ] = REFUSED("read"),
	[LOG_OP_RELEASE] = REFUSED("release"),
	[LOG_OP_STATS] = { "stats", 0, 0, 0, NULL, op_stats, 0 },
};
static qs_server_t broken =
	QS_SERVER_LOCKED("log", broken_ops, &broken, &lock);

/* ---- start ---------------------------------------------------------- */

/* Whether the boot argument format= (a comma list) names the region. */
static int
format_asked(void)
{
	char arg[128];
	return qs_boot_arg("format", arg, sizeof(arg)) > 0 &&
	       qs_list_has(arg, REGION);
}

static void
say_damage(const store_damage_t *d)
{
	printf("log: %s: damaged record at position %llu (seq %llu), which "
	       "had been forced; ", REGION, (unsigned long long)d->pos,
	       (unsigned long long)d->pseq);
	if (d->next_pseq)
		printf("the log goes on at position %llu (seq %llu): records "
		       "%llu to %llu are lost. ",
		       (unsigned long long)d->next_pos,
		       (unsigned long long)d->next_pseq,
		       (unsigned long long)d->pseq,
		       (unsigned long long)d->next_pseq - 1);
	else
		printf("the status says so; no later record reads back. ");
	printf("Refusing to recover around it; boot with format=%s to start "
	       "an empty log\n", REGION);
}

/*
 * Opens the log; a new region gets an empty one. One that cannot be
 * opened is formatted only when format= names it (as RVM's logs are,
 * rvm_open_log): an intact log is kept even then, so the argument does no
 * harm if it stays set.
 */
static int
open_log(rvm_dev_t *dev)
{
	store_damage_t d = { 0 };
	int r = store_open(&st, dev, &d);
	if ((r == STORE_BAD_STATUS || r == STORE_DAMAGED) && format_asked()) {
		printf("log: %s cannot be opened; formatting it, as format= "
		       "asks\n", REGION);
		st.dev = NULL;
		store_close(&st);
		r = STORE_NEW;
	}
	if (r == STORE_NEW) {
		printf("log: formatting %s (%u KiB)\n", REGION,
		       (unsigned)(dev->size / 1024));
		if ((r = store_format(dev)) == 0)
			r = store_open(&st, dev, &d);
	}
	if (r == STORE_BAD_STATUS)
		printf("log: %s: neither status copy is readable (or of this "
		       "version); refusing to guess. To start an empty log "
		       "(losing what it held), boot once with the argument "
		       "format=%s\n", REGION, REGION);
	else if (r == STORE_DAMAGED)
		say_damage(&d);
	else if (r)
		printf("log: %s: %s\n", REGION, qs_strerror(r));
	return r;
}

int
main(void)
{
	rvm_dev_t *dev = rvm_dev_open(REGION, 0);
	if (!dev) {
		printf("log: no disk region %s: no node log\n", REGION);
		return 1;
	}
	int qid = qs_sq_create(LOG_QUEUE, 0);
	if (qid < 0) {
		printf("log: cannot create queue %s: %s\n", LOG_QUEUE,
		       qs_strerror(qid));
		return 1;
	}
	if (open_log(dev) != 0)
		return qs_serve_table(qid, &broken, 1) < 0;
	printf("log: %s: %llu KiB, %u live records from before\n", REGION,
	       (unsigned long long)(st.area / 1024), st.stats.recovered);
	if (!qs_thread_create(writer, NULL)) {
		printf("log: cannot start the writer\n");
		return 1;
	}
	return qs_serve_table(qid, &server, THREADS) < 0;
}
