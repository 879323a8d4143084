/*
 * The transaction manager's parts: records (record.c), termination
 * (commit.c), the tree between TMs (tree.c), the log (log.c), what each
 * participant process holds (client.c).
 */
#ifndef TM_TM_H
#define TM_TM_H

#include <stdbool.h>
#include <stdint.h>
#include <qs/sq.h>
#include <qs/thread.h>
#include <qs/tm.h>

typedef struct {
	int32_t pid;
	int32_t rqid; /* its recovery queue; 0 for class none */
	int32_t cls;
	int32_t vote; /* QS_VOTE_*, or -1 */
	bool aborts;  /* its death before it votes aborts (qs_tx_death_aborts) */
	bool acked;   /* it answered the outcome's notice */
	uint8_t name; /* its program (client_name), 0: not known */
} tm_part_t;

/* A subordinate node: a request of the transaction went there. */
typedef struct {
	uint32_t node;
	uint32_t flags; /* TM_SUB_RECOVERABLE: its answer said so */
	int32_t vote;   /* QS_VOTE_*, or -1 */
	bool acked;     /* it has the outcome */
} tm_sub_t;

/* One transaction, as this node's TM knows it. */
typedef struct tm_rec {
	uint64_t tx;
	int32_t owner; /* 0: another node's transaction */
	uint32_t coordinator, superior;
	uint32_t sup_inc; /* the superior's incarnation when it sent the tx */
	uint32_t nsubs;
	tm_sub_t subs[TM_SUBS_MAX];
	int32_t state;    /* TM_*: only the thread that has it busy changes
			     one that is not ACTIVE */
	bool busy;        /* a thread is terminating it, lock dropped */
	bool abort_asked; /* abort when the terminator looks again */
	bool marked;      /* the CM knows it is recoverable here */
	bool logged;      /* it has a log entry */
	uint32_t since;   /* uptime ms when it entered its state */
	uint32_t nparts;
	tm_part_t parts[TM_PARTS_MAX];
	struct tm_rec *next;
} tm_rec_t;

extern qs_mutex_t tm_lock; /* guards the records and the counters */
extern tm_stats_t tm_stats;
extern uint32_t tm_node;

/* record.c; the lock held */
tm_rec_t *rec_find(uint64_t tx);
tm_rec_t *rec_new(uint64_t tx, int32_t owner);
void rec_free(tm_rec_t *r);
tm_rec_t *rec_owned_by(int32_t pid); /* an ACTIVE one, or NULL */
tm_rec_t *rec_first(void);
int rec_join(tm_rec_t *r, int32_t pid, int32_t cls, int32_t rqid);
bool rec_is_part(const tm_rec_t *r, int32_t pid);
void rec_forget_pid(int32_t pid); /* pid died */
void rec_drop_parts(tm_rec_t *r); /* all told: r keeps no participants */
uint32_t rec_list(uint32_t first, tm_tx_info_t *out, uint32_t max);
/* An edge of the tree: node is a subordinate (TM_EDGE_OUT) or superior. */
int rec_edge(tm_rec_t *r, const tm_edge_t *e);
tm_sub_t *rec_sub(tm_rec_t *r, uint32_t node);
void rec_set_state(tm_rec_t *r, int32_t state);
/* Outcomes of recently ended transactions, for an owner who asks late. */
void rec_ended(uint64_t tx, int32_t owner, int outcome);
int rec_outcome(uint64_t tx, int32_t *owner); /* QS_TX_*, or 0 */

/* log.c: the commit points on disk */
enum { TM_LOG_PREPARED = 1, TM_LOG_COMMITTED = 2 };
/* A recoverable participant here owed a commit it has not acknowledged:
 * it lets go when a later incarnation of the same program says it has
 * nothing in doubt (TM_OP_RECOVERED). */
#define TM_LOG_OWED 4
typedef struct {
	int32_t pid;   /* 0: the slot is free */
	uint32_t boot; /* the TM's start (log.c) when pid was named */
	char name[QS_NAME_MAX];
} tm_owed_t;

typedef struct {
	uint64_t tx;
	uint32_t state;    /* TM_LOG_* */
	uint32_t superior; /* PREPARED: whom to ask; else TM_NO_NODE */
	uint32_t nsubs;    /* subordinates that voted yes */
	uint8_t subs[TM_SUBS_MAX];
	/* who here voted yes and has not acknowledged the commit yet (a
	   PREPARED entry names them too: after a restart only it knows) */
	uint32_t unnamed;  /* owed to participants of no known name (more
			      than TM_LOG_OWED): a commit kept for good */
	tm_owed_t owed[TM_LOG_OWED];
} tm_log_rec_t;
int tmlog_open(void);
int tmlog_force(const tm_log_rec_t *e); /* durable when it returns */
int tmlog_sync(uint64_t tx);            /* all appended so far durable */
/* Transactions other than tx about to force the node log (tm_lock). */
uint32_t rec_forcing_soon(uint64_t tx);
uint32_t rec_preparing(uint64_t tx);
/* Whether r has recoverable work here or below: its commit forces. */
bool rec_recoverable(const tm_rec_t *r);
void tmlog_end(uint64_t tx);            /* forget it (not forced) */
/* r ended as outcome: its entry goes, unless it committed and a
 * participant here did not acknowledge (tm_part_t.acked), whom it names
 * then (unforced); pending: subordinates still to be told (it stays). */
void tmlog_settle(const tm_rec_t *r, int outcome, bool pending);
/* Fills e's owed part: those r's entry names and r's yes-voters, less
 * those that acknowledged. */
void tmlog_owed(const tm_rec_t *r, tm_log_rec_t *e);
/* Whether a commit of r would be owed to anyone here. */
bool tmlog_owes(const tm_rec_t *r);
/* Program `name`, now pid, has nothing in doubt: what its earlier
 * incarnations were owed goes (TM_OP_RECOVERED). */
void tmlog_recovered(const char *name, int32_t pid);
uint32_t tmlog_state(uint64_t tx);      /* TM_LOG_*, or 0 */
uint32_t tmlog_entries(void);
/* Committed entries kept only for participants that did not acknowledge. */
uint32_t tmlog_owing(void);
/* The entries of earlier boots that still need work, one by one from i. */
int tmlog_pending(uint32_t *i, tm_log_rec_t *out);

/* commit.c; lock held on entry and exit, r ACTIVE and not busy */
/* The root ends r: QS_OK or QS_EABORTED. */
int tm_finish(tm_rec_t *r, bool commit);
/* A subordinate asked to prepare: its subtree's vote. */
int tm_prepare_sub(tm_rec_t *r, uint32_t superior);
/* A subordinate (ACTIVE or PREPARED) told the outcome: tells its subtree. */
int tm_end_sub(tm_rec_t *r, int outcome); /* QS_EAGAIN: ask again */
/* A root that delegated coordination: prepares here, asks the new one. */
int tm_finish_delegated(tm_rec_t *r);
/* Crash tests: stops at `point` if boot argument tm_stall names it (lock
 * held; dropped while stopped). */
void tm_stall(const char *point, tm_rec_t *r);
/* Awaits rid until deadline (uptime ms): its status, or QS_ETIMEDOUT; an
 * answer that comes later is reaped, counted against participant pid (0 for
 * a request to another TM). Not under the lock. */
int tree_await(int rid, uint32_t deadline, int32_t pid);

/* client.c: per participant process (the lock held unless said) */
/* Is rqid pid's own recovery queue? 0, QS_EPERM (counted), QS_ENOMEM; may
 * drop the lock and take it again. */
int client_check_queue(int32_t pid, int32_t rqid);
/* May pid join (a transaction it is not in yet if new_part)? 0, QS_ELIMIT
 * (counted), QS_ESRCH (it died), QS_ENOMEM. */
int client_may_join(int32_t pid, bool new_part);
void client_joins_add(int32_t pid, int delta); /* participations */
void client_died(int32_t pid);
/* pid's program name, as an index (0: not known), learnt at its first
 * join with a recovery queue; and the name of an index. */
uint8_t client_name(int32_t pid);
const char *client_name_text(uint8_t name);

/* tm.c: the program name of live process pid (QS_ESRCH: none) */
int tm_proc_name(int32_t pid, char name[QS_NAME_MAX]);
/* Sends notice op (TM_NOTE_*) under tx to participant p: a rid to await; or
 * QS_ELIMIT if p is at its limit (a commit or abort waits in the TM, to go
 * when it catches up), or the send's error. Not under the lock. */
int client_notice(uint64_t tx, const tm_part_t *p, uint32_t op);
/* Nobody awaits rid any more: the reaper collects it. Not under the lock. */
void client_abandon(int rid, int32_t pid);
void client_start(void); /* the abandoned table and its reaper */

/* tree.c: talking to other TMs (never with the lock held) */
/* Sends op with data to node's TM under tx; a rid to await, or an error. */
int tree_send(uint32_t node, uint64_t tx, uint32_t op, const void *data,
	      uint32_t len);
/* Tells the CM that tx has recoverable work here (for the piggyback). */
void tree_mark(uint64_t tx);
/* tx ended here: the tree thread has the CM forget its mark (lock held). */
void tree_unmark(uint64_t tx);
/* Requests from other TMs and the CM: decode and invoke steps of tm.c's
 * tables (qs/serve.h); invoked with the lock held. */
int32_t tree_prepare(const qs_msg_t *req, const void *args, qs_msg_t *reply,
		     void *ctx);
int32_t tree_decode_end(const qs_msg_t *req, void *args);
int32_t tree_end(const qs_msg_t *req, const void *args, qs_msg_t *reply,
		 void *ctx);
int32_t tree_decode_takeover(const qs_msg_t *req, void *args);
int32_t tree_takeover(const qs_msg_t *req, const void *args, qs_msg_t *reply,
		      void *ctx);
int32_t tree_decode_node(const qs_msg_t *req, void *args);
int32_t tree_node_event(const qs_msg_t *req, const void *args,
			qs_msg_t *reply, void *ctx);
/* The thread that asks superiors about in-doubt records, pushes commits to
 * subordinates that did not acknowledge, and aborts orphans. */
void tree_start(void);

#endif
