/*
 * The transaction manager's protocol, on queue "tm" (one TM per node). Most
 * programs use it through qs/tx.h. Begin and join are sent under the
 * transaction (hdr.txid), which the kernel stamps, so the TM knows the
 * sender holds it; hdr.src_pid tells it who the sender is.
 *
 * Notices go the other way, from the TM to a participant's recovery queue,
 * sent under the transaction they concern: TM_NOTE_PREPARE (the reply's
 * status is a QS_VOTE_*), TM_NOTE_COMMIT and TM_NOTE_ABORT.
 */
#ifndef QS_TM_H
#define QS_TM_H

#include <stdint.h>

#define TM_QUEUE "tm"
#define TM_PARTS_MAX 16 /* participants of one transaction on one node */
#define TM_SUBS_MAX 8   /* subordinate nodes of one transaction */
#define TM_NO_NODE 0xFFFFFFFFu

enum {
	TM_OP_BEGIN = 1,  /* under the new transaction: the sender owns it */
	TM_OP_COMMIT = 2, /* data: uint64_t tx; owner -> 0 or QS_EABORTED */
	TM_OP_ABORT = 3,  /* data: uint64_t tx (any sender; checked) */
	TM_OP_JOIN = 4,   /* under it; data: tm_join_t */
	TM_OP_LIST = 5,   /* data: uint32_t first -> tm_list_t, tm_tx_info_t[] */
	TM_OP_STATS = 6,  /* -> tm_stats_t */
	TM_OP_OUTCOME = 7, /* data: uint64_t tx -> QS_TX_COMMITTED or
	                      QS_TX_ABORTED (presumed, if unknown); QS_EAGAIN
	                      while it is being decided. For participants
	                      recovering from a crash. */
	TM_OP_EDGE = 8,    /* tm_edge_t, from the CM: a request of tx went to or
	                      came from another node */
	TM_NOTE_PREPARE = 16,
	TM_NOTE_COMMIT = 17,
	TM_NOTE_ABORT = 18,
};

typedef struct {
	int32_t cls;  /* QS_TX_NONE, QS_TX_VOLATILE, QS_TX_RECOVERABLE */
	int32_t rqid; /* the participant's recovery queue */
} tm_join_t;

enum { TM_EDGE_OUT = 1, TM_EDGE_IN = 2 };

typedef struct {
	uint64_t tx;
	uint32_t node; /* the other node */
	uint32_t dir;  /* TM_EDGE_OUT: node is a subordinate; IN: superior */
} tm_edge_t;

/* A transaction's state at its coordinator's TM. */
enum {
	TM_ACTIVE = 1,
	TM_PREPARING = 2, /* votes asked for */
	TM_COMMITTED = 3, /* the commit point passed; telling participants */
	TM_ABORTED = 4,   /* telling participants */
};

typedef struct {
	int32_t pid;
	int32_t cls;
	int32_t vote; /* QS_VOTE_*, or -1 before the vote */
} tm_part_info_t;

typedef struct {
	uint64_t tx;
	int32_t owner;         /* pid on the owner's node */
	uint32_t coordinator;  /* node */
	int32_t state;         /* TM_* */
	uint32_t superior;     /* node it came from, or TM_NO_NODE */
	uint32_t nsubs;
	uint32_t subs[TM_SUBS_MAX]; /* nodes it went to */
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
	uint32_t unanswered;   /* notices still outstanding */
	uint32_t vote_ms;      /* the voting deadline */
	uint32_t logging;      /* 1 if the TM has its log on disk */
	uint32_t log_forces;   /* forced log writes */
	uint32_t log_entries;  /* committed or prepared entries in the log */
	uint32_t log_committed, log_in_doubt; /* found in the log at start */
} tm_stats_t;

#endif
