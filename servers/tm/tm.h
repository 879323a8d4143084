/* The transaction manager's parts: records (record.c), termination (commit.c). */
#ifndef TM_TM_H
#define TM_TM_H

#include <stdbool.h>
#include <stdint.h>
#include <qs/thread.h>
#include <qs/tm.h>

typedef struct {
	int32_t pid;
	int32_t rqid; /* its recovery queue; 0 for class none */
	int32_t cls;
	int32_t vote; /* QS_VOTE_*, or -1 */
} tm_part_t;

/* One transaction, as this node's TM knows it. */
typedef struct tm_rec {
	uint64_t tx;
	int32_t owner;
	uint32_t coordinator, superior;
	uint32_t nsubs, subs[TM_SUBS_MAX];
	int32_t state; /* TM_*: only its terminator touches one not ACTIVE */
	bool abort_asked;
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
int rec_join(tm_rec_t *r, int32_t pid, int32_t cls, int32_t rqid);
bool rec_is_part(const tm_rec_t *r, int32_t pid);
void rec_forget_pid(int32_t pid);
uint32_t rec_list(uint32_t first, tm_tx_info_t *out, uint32_t max);
/* An edge of the tree: node is a subordinate (TM_EDGE_OUT) or superior. */
int rec_edge(tm_rec_t *r, uint32_t node, uint32_t dir);
void rec_trim_remote(void);
/* Outcomes of recently ended transactions, for an owner who asks late. */
void rec_ended(uint64_t tx, int32_t owner, int outcome);
int rec_outcome(uint64_t tx, int32_t *owner); /* QS_TX_*, or 0 */

/* log.c: the commit points on disk */
enum { TM_LOG_PREPARED = 1, TM_LOG_COMMITTED = 2 };
int tmlog_open(void);
int tmlog_force(uint64_t tx, uint32_t state); /* durable when it returns */
void tmlog_end(uint64_t tx);                 /* forget it (not forced) */
uint32_t tmlog_state(uint64_t tx);           /* TM_LOG_*, or 0 */
uint32_t tmlog_entries(void);

/* commit.c: ends r (lock held, r ACTIVE); returns QS_OK or QS_EABORTED */
int tm_finish(tm_rec_t *r, bool commit);
void tm_reaper_start(void);

#endif
