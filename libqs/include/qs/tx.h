/*
 * Transactions from user space: scope work with begin/commit/abort, join a
 * client's transaction as a participant, and leave breadcrumbs that the
 * library cleans up when the transaction ends. See "Recovery" in
 * docs/writing-a-server.md.
 *
 * Every process starts under a default transaction it owns; every request it
 * sends carries it, and a server's handler runs under the request's
 * transaction. The default ends with the process: committed at a normal
 * exit, aborted when the process is killed or faults.
 */
#ifndef QS_TX_H
#define QS_TX_H

#include <stdint.h>
#include <qs/abi.h>

/* Participation classes. */
enum {
	QS_TX_NONE = 0,        /* no notice */
	QS_TX_VOLATILE = 1,    /* one notice: end (committed) or abort */
	QS_TX_RECOVERABLE = 2, /* two-phase: prepare vote, then commit or abort */
};

/*
 * What a participant's death means (Quicksilver's), OR-ed into qs_tx_join's
 * class: QS_TX_DEATH_ABORTS, the transaction aborts (always so for a
 * recoverable participant that has not voted: its uncommitted work is
 * lost); QS_TX_DEATH_LEAVES, only its participation ends and the
 * transaction goes on without it (the default for a volatile one; a
 * recoverable one may not). A death after the participant voted changes
 * nothing: the outcome is the TM's, and a recoverable server that comes
 * back asks it (qs_tx_outcome).
 */
#define QS_TX_DEATH_ABORTS 0x100
#define QS_TX_DEATH_LEAVES 0x200
#define QS_TX_CLASS(cls) ((cls) & 0xFF)

/* Whether qs_tx_join (and the TM) take cls: a class, and at most one
 * declaration, which a recoverable participant may not make to leave and
 * class none not at all. */
static inline int
qs_tx_cls_ok(int cls)
{
	int c = QS_TX_CLASS(cls), death = cls & ~0xFF;
	return c >= QS_TX_NONE && c <= QS_TX_RECOVERABLE &&
	       (death == 0 || death == QS_TX_DEATH_ABORTS ||
		death == QS_TX_DEATH_LEAVES) &&
	       !(c == QS_TX_RECOVERABLE && death == QS_TX_DEATH_LEAVES) &&
	       !(c == QS_TX_NONE && death);
}

/* Whether a participant that joined with cls aborts the transaction when
 * it dies before voting. */
static inline int
qs_tx_death_aborts(int cls)
{
	return QS_TX_CLASS(cls) == QS_TX_RECOVERABLE ||
	       (cls & QS_TX_DEATH_ABORTS);
}

/* A recoverable participant's vote. */
enum {
	QS_VOTE_YES = 0,
	QS_VOTE_NO = 1,
	QS_VOTE_READONLY = 2, /* nothing to commit: leaves phase two */
};

/* Outcomes handed to end notices and breadcrumb cleanups. */
enum { QS_TX_COMMITTED = 1, QS_TX_ABORTED = 2 };

/*
 * A participant's notices. Any of them may be NULL. They run on the
 * process's recovery thread, one at a time, and must not wait for the
 * transaction they are told about.
 */
typedef struct {
	int (*prepare)(uint64_t tx, void *arg);           /* -> QS_VOTE_* */
	void (*end)(uint64_t tx, int outcome, void *arg); /* commit or abort */
	void *arg;
} qs_tx_ops_t;

/* Starts a transaction owned by this process; it becomes the current one. */
int qs_tx_begin(uint64_t *tx);
/*
 * Commits (owner only): QS_OK when it committed, QS_EABORTED when a
 * participant voted no, did not vote in time, or someone aborted it. A
 * thread whose current transaction ended is back under its default.
 */
int qs_tx_commit(uint64_t tx);
/*
 * Coordinator migration (owner only): when tx commits, the decision is made
 * on `node`, which must be a node tx's requests reached (or this one, to
 * take it back). The owner's node prepares its own part first and then
 * waits for the outcome; if it dies meanwhile the commit still completes
 * there. Move coordination off a fragile node (a client's workstation) to
 * the node of a recoverable participant (a file server): see "Coordinator
 * migration" in servers/tm/README.md. qs_tx_commit may then answer
 * QS_EUNREACH: the new coordinator could not be reached to learn the
 * outcome, which is decided there (qs_tx_outcome asks later).
 */
int qs_tx_delegate(uint64_t tx, uint32_t node);
/* Aborts: the owner, a participant, or an ancestor of the owner (the
 * shell that ran it, init) may. */
int qs_tx_abort(uint64_t tx);
/*
 * How tx ended, for a participant recovering from a crash: QS_TX_COMMITTED
 * or QS_TX_ABORTED (presumed, if the TM knows nothing of it); QS_EAGAIN
 * while it is still being decided.
 */
int qs_tx_outcome(uint64_t tx);
/*
 * A recovering participant says it has nothing left in doubt: everything
 * its earlier incarnations prepared is resolved (durably) here. The TM
 * keeps a commit decision for a participant that died before it heard it
 * (its answer, asked with qs_tx_outcome, must not become "presumed
 * aborted"); this lets those entries go. A system server of the node only.
 */
int qs_tx_recovered(void);
/* The calling thread's current transaction. */
uint64_t qs_tx_current(void);
/*
 * Whether the calling thread's transaction is still alive: 0, or
 * QS_EABORTED once the TM said it aborted (on this node or another: an
 * orphan). One system call, no message: for a handler's long loop to ask
 * as it goes. An orphan's requests fail with QS_EABORTED anyway.
 */
int qs_tx_alive(void);

/*
 * Joins `tx` (normally the request's, req->hdr.txid) with a participation
 * class, and what its death means (QS_TX_DEATH_*, above); the notices arrive
 * as upcalls on this process's recovery queue and run `ops`. Joining again
 * changes nothing, but for a higher class or QS_TX_DEATH_ABORTS, which then
 * take effect. QS_EINVAL: no such class, both declarations, a recoverable
 * participant that would leave, or a declaration for class none.
 * QS_ENOENT: the transaction has already ended (its owner died, say), so
 * whatever was meant to depend on it should be undone at once.
 */
int qs_tx_join(uint64_t tx, int cls, const qs_tx_ops_t *ops);

/*
 * Breadcrumbs: state a server keeps for a transaction, cleaned up when it
 * ends. crumb_add joins `tx` as a volatile participant if this process has
 * not joined it yet; `fn(obj, tx, outcome)` runs once, on the recovery
 * thread, at the end or abort. crumb_remove drops a crumb whose object the
 * server freed itself (its fn does not run).
 */
typedef void (*crumb_fn_t)(void *obj, uint64_t tx, int outcome);
int crumb_add(uint64_t tx, crumb_fn_t fn, void *obj);
int crumb_remove(uint64_t tx, crumb_fn_t fn, void *obj);
int crumb_count(void); /* live breadcrumbs of this process */

/* Text form "NODE.INCARNATION.COUNTER", at most QS_TX_TEXT bytes with NUL. */
#define QS_TX_TEXT 24
char *qs_tx_format(uint64_t tx, char buf[QS_TX_TEXT]);
int qs_tx_parse(const char *s, uint64_t *tx);

#endif
