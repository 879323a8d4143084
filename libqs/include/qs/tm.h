/*
 * The transaction manager's protocol, on queue "tm" (one TM per node). Most
 * programs use it through qs/tx.h. Begin and join are sent under the
 * transaction (hdr.txid), which the kernel stamps, so the TM knows the
 * sender holds it; hdr.src_pid tells it who the sender is.
 *
 * Notices go the other way, from the TM to a participant's recovery queue,
 * sent under the transaction they concern: TM_NOTE_PREPARE (the reply's
 * status is a QS_VOTE_*), TM_NOTE_COMMIT and TM_NOTE_ABORT, each with no
 * data. The participant (libqs/src/tx.c) answers QS_EPERM to a notice that
 * does not come from its node's TM.
 *
 * Errors. Every request, on every queue, may get QS_ENOSYS (no such
 * opcode on that queue) and QS_EINVAL (data of another size than the
 * comment says, any out-of-line data, or a malformed argument as given per
 * operation); neither changes anything. "owner" is the process that began
 * the transaction. Per operation, the other errors it returns:
 */
#ifndef QS_TM_H
#define QS_TM_H

#include <stdint.h>

#define TM_QUEUE "tm"
#define TM_NET_QUEUE "tm.net" /* the CM's notices: edges, nodes */
#define TM_PARTS_MAX 16 /* participants of one transaction on one node */
#define TM_SUBS_MAX 8   /* subordinate nodes of one transaction */
#define TM_NO_NODE 0xFFFFFFFFu
/* Per participant process (docs/security.md): the transactions it may take
 * part in at once on its node, and the notices it may leave unanswered past
 * their deadline before the TM stops asking it (its votes are no, its
 * commit and abort notices wait in the TM) and refuses its joins. */
#define TM_JOINS_MAX 64
#define TM_UNANSWERED_MAX 8
/* A participant's recovery queue is named TM_RQ_PREFIX "PID": a name only
 * process PID may create (docs/security.md), so the TM can tell it is the
 * joiner's own. */
#define TM_RQ_PREFIX "tx.rq."

/*
 * Who may send what (the TM's table, docs/security.md "Across nodes"):
 * BEGIN, COMMIT, ABORT, JOIN and DELEGATE only a process of the TM's own
 * node; LIST only a system server of its node (the shell); OUTCOME only a
 * system server (a TM, a recovering participant, the shell); RECOVERED only
 * a system server of its node; PREPARE, END
 * and TAKEOVER only another node's TM, as its kernel stamped it
 * (QS_MSG_SRC_TM). Anyone else gets QS_EPERM, counted (tm_stats_t.bad).
 */
enum {
	TM_OP_BEGIN = 1,  /* no data, under the new transaction: the sender owns
			     it -> 0; QS_EPERM (the kernel says someone else
			     owns it), QS_EEXIST (begun already), QS_ENOMEM */
	TM_OP_COMMIT = 2, /* data: uint64_t tx; owner -> 0 or QS_EABORTED (it
			     aborted: a no vote, a deadline, an abort asked
			     for, also before the commit); QS_EPERM (not the
			     owner), QS_ENOENT (no such transaction, or not
			     active: being ended), QS_EUNREACH (delegated, and
			     the new coordinator did not answer: in doubt) */
	TM_OP_ABORT = 3,  /* data: uint64_t tx -> 0; QS_EPERM (not the owner,
			     a participant, or a process that started the
			     owner), QS_ENOENT (no such transaction, or past
			     its commit point) */
	TM_OP_JOIN = 4,   /* under it; data: tm_join_t -> 0; QS_EINVAL (a
			     class out of range, rqid <= 0 for a class other
			     than none), QS_EPERM
			     (rqid is not the sender's own recovery queue,
			     TM_RQ_PREFIX "PID" on this node), QS_ELIMIT (the
			     sender takes part in TM_JOINS_MAX live
			     transactions already, or has TM_UNANSWERED_MAX
			     notices unanswered), QS_ENOENT (ended or
			     ending), QS_ENOMEM (TM_PARTS_MAX participants
			     already, or no memory) */
	TM_OP_LIST = 5,   /* data: nothing or uint32_t first -> tm_list_t,
			     tm_tx_info_t[] */
	TM_OP_STATS = 6,  /* no data -> tm_stats_t */
	TM_OP_OUTCOME = 7, /* data: uint64_t tx -> QS_TX_COMMITTED or
	                      QS_TX_ABORTED (presumed, if unknown); QS_EAGAIN
	                      while it is being decided. For participants
	                      recovering from a crash, and for subordinate TMs
	                      in doubt (asking their superior). */
	TM_OP_EDGE = 8,    /* on tm.net, from the CM: tm_edge_t, a request of
	                      tx went to or came from another node -> 0;
	                      QS_EPERM (not this node's CM), QS_EINVAL (tx 0,
	                      node this one, dir neither), QS_ENOENT (tx ended
	                      here), QS_ENOMEM (TM_SUBS_MAX subordinates) */
	/* Between TMs, through the CMs (queue tm@NODE), sent under the tx;
	   each is QS_EINVAL if it comes from this node: */
	TM_OP_PREPARE = 9, /* superior -> subordinate: uint64_t tx -> its
	                      subtree's vote, QS_VOTE_* (QS_VOTE_NO if the
	                      subordinate knows nothing of tx) */
	TM_OP_END = 10,    /* superior -> subordinate: tm_end_t -> 0 once its
	                      subtree has it (phase two, or the one phase);
	                      QS_EINVAL (outcome not a QS_TX_*), QS_EPERM (not
	                      the record's superior), QS_EAGAIN (a commit while
	                      the subordinate is still preparing: send again) */
	TM_OP_NODE = 11,   /* on tm.net, from the CM: tm_node_event_t -> 0;
	                      QS_EPERM (not this node's CM), QS_EINVAL (node
	                      this one, event not a TM_NODE_*) */
	TM_OP_DELEGATE = 12, /* owner -> its TM: tm_delegate_t: coordination
	                        moves to that node (qs_tx_delegate) -> 0;
	                        QS_EPERM (not the owner, or from another node),
	                        QS_ENOENT (ended, or not active), QS_EINVAL
	                        (nobody joined it yet, or the node is not a
	                        subordinate) */
	TM_OP_TAKEOVER = 13, /* old coordinator -> new: int32_t vote (QS_VOTE_YES
	                        or _READONLY: this subtree's) -> outcome
	                        (QS_TX_*): decided there; QS_EPERM (not the
	                        record's superior) */
	TM_OP_RECOVERED = 14, /* no data, from a recoverable participant of
	                         this node that has nothing left in doubt: the
	                         commits its earlier incarnations (of the same
	                         program, dead) did not acknowledge are
	                         resolved there, so the TM lets their log
	                         entries go -> 0 */
	TM_NOTE_PREPARE = 16,
	TM_NOTE_COMMIT = 17,
	TM_NOTE_ABORT = 18,
};

/* On QS_DEATH_QUEUE the TM takes QS_NOTICE_DEATH from the kernel only:
 * anyone else gets QS_EPERM. */

typedef struct {
	int32_t cls;  /* QS_TX_NONE, QS_TX_VOLATILE, QS_TX_RECOVERABLE, with
			 QS_TX_DEATH_ABORTS or QS_TX_DEATH_LEAVES (qs/tx.h) */
	int32_t rqid; /* the participant's recovery queue */
} tm_join_t;

enum { TM_EDGE_OUT = 1, TM_EDGE_IN = 2 };
/* The CM's piggyback: the subordinate's answer said it (or a node below it)
 * has a recoverable participant, so one phase will not do. */
#define TM_EDGE_RECOVERABLE 0x1

typedef struct {
	uint64_t tx;
	uint32_t node;  /* the other node */
	uint32_t dir;   /* TM_EDGE_OUT: node is a subordinate; IN: superior */
	uint32_t flags; /* TM_EDGE_RECOVERABLE */
	uint32_t inc;   /* the other node's incarnation, as the CM knows it */
} tm_edge_t;

typedef struct {
	uint64_t tx;
	int32_t outcome; /* QS_TX_COMMITTED or QS_TX_ABORTED */
} tm_end_t;

enum { TM_NODE_DOWN = 1, TM_NODE_RESTARTED = 2 };

typedef struct {
	uint32_t node;
	uint32_t event; /* TM_NODE_* */
	uint32_t inc;   /* its incarnation: the new one, or the last known */
} tm_node_event_t;

typedef struct {
	uint64_t tx;
	uint32_t node;
} tm_delegate_t;

/* A transaction's state at its coordinator's TM. */
enum {
	TM_ACTIVE = 1,
	TM_PREPARING = 2, /* votes asked for */
	TM_COMMITTED = 3, /* the commit point passed; telling participants */
	TM_ABORTED = 4,   /* telling participants */
	TM_PREPARED = 5,  /* a subordinate that voted yes: waiting for the
			     outcome from its superior (in doubt) */
};
#define TM_SUB_RECOVERABLE 0x1 /* tm_tx_info_t.sub_flags */

typedef struct {
	int32_t pid;
	int32_t cls;
	int32_t vote; /* QS_VOTE_*, or -1 before the vote */
} tm_part_info_t;

typedef struct {
	uint64_t tx;
	int32_t owner;         /* pid on the owner's node; 0 elsewhere */
	uint32_t coordinator;  /* node */
	int32_t state;         /* TM_* */
	uint32_t superior;     /* node it came from, or TM_NO_NODE */
	uint32_t nsubs;
	uint32_t subs[TM_SUBS_MAX]; /* nodes it went to */
	uint8_t sub_flags[TM_SUBS_MAX]; /* TM_SUB_* */
	int8_t sub_votes[TM_SUBS_MAX];  /* QS_VOTE_*, or -1 */
	uint32_t nparts;
	tm_part_info_t parts[TM_PARTS_MAX];
} tm_tx_info_t;

typedef struct {
	uint32_t total; /* records the TM holds */
	uint32_t count; /* tm_tx_info_t that follow, from `first` on */
} tm_list_t;

typedef struct {
	uint32_t records;      /* live transaction records */
	uint32_t participants; /* over all live records */
	uint32_t begun, committed, aborted;
	uint32_t deaths;       /* death notices handled */
	uint32_t vote_timeouts;
	uint32_t notices;      /* notices sent to participants */
	uint32_t unanswered;   /* notices (and requests to other TMs) past
				  their deadline, not yet answered */
	uint32_t vote_ms;      /* the voting deadline */
	uint32_t logging;      /* 1 if the TM has its log on disk */
	uint32_t log_forces;   /* forced log writes */
	uint32_t log_entries;  /* committed or prepared entries in the log */
	uint32_t log_owed;     /* committed entries kept only for participants
				  that died before they acknowledged */
	uint32_t log_committed, log_in_doubt; /* found in the log at start */
	/* the tree */
	uint32_t msgs_out, msgs_in;  /* TM-to-TM requests sent and served */
	uint32_t one_phase, two_phase, read_only; /* commits here as root */
	uint32_t in_doubt;           /* records prepared, waiting to hear */
	uint32_t orphans;            /* aborted because the superior's node
					died or restarted */
	uint32_t resolved;           /* in-doubt ones settled by asking */
	uint32_t delegated;          /* coordination handed to another node */
	uint32_t heap;               /* the TM's heap in use, bytes */
	uint32_t bad;                /* requests refused before any work:
					no such opcode, a wrong size, a
					malformed argument (qs/serve.h) */
	/* per participant process (TM_JOINS_MAX, TM_UNANSWERED_MAX) */
	uint32_t refused;            /* joins refused at a limit: QS_ELIMIT */
	uint32_t foreign;            /* joins naming a recovery queue not the
					joiner's own: QS_EPERM */
	uint32_t unasked;            /* prepares not sent to a participant at
					its limit (its vote was no) */
	uint32_t held;               /* commit and abort notices waiting for
					such a participant to catch up */
	uint32_t clients;            /* processes the TM keeps count of */
} tm_stats_t;

#endif
